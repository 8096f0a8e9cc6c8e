//! Simulated time: an integer count of nanoseconds.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// A point in (or span of) simulated time, in integer nanoseconds.
///
/// Integers keep event ordering exact: two events scheduled for the same instant compare equal
/// and fall back to insertion order, whatever floating-point path produced their times.
/// `u64` nanoseconds cover about 584 years.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(u64);

impl SimTime {
    /// Time zero, the start of every simulation.
    pub const ZERO: SimTime = SimTime(0);
    /// The largest representable time; used as "never".
    pub const MAX: SimTime = SimTime(u64::MAX);

    /// From integer nanoseconds.
    pub const fn from_nanos(ns: u64) -> Self {
        SimTime(ns)
    }

    /// From integer microseconds (saturating).
    pub const fn from_micros(us: u64) -> Self {
        SimTime(us.saturating_mul(1_000))
    }

    /// From integer milliseconds (saturating).
    pub const fn from_millis(ms: u64) -> Self {
        SimTime(ms.saturating_mul(1_000_000))
    }

    /// From integer seconds (saturating).
    pub const fn from_secs(s: u64) -> Self {
        SimTime(s.saturating_mul(1_000_000_000))
    }

    /// From floating-point seconds, rounded to the nearest nanosecond.
    ///
    /// Negative and NaN inputs give zero; values beyond the range saturate at [`SimTime::MAX`].
    pub fn from_secs_f64(s: f64) -> Self {
        SimTime::from_nanos_f64(s * 1e9)
    }

    /// From floating-point nanoseconds, rounded to the nearest nanosecond (same clamping as
    /// [`SimTime::from_secs_f64`]).
    pub fn from_nanos_f64(ns: f64) -> Self {
        SimTime::clamped(ns, f64::round)
    }

    /// `round(ns)` as a time, with NaN and negatives at zero and overflow at `MAX`.
    fn clamped(ns: f64, round: fn(f64) -> f64) -> Self {
        if ns.is_nan() || ns <= 0.0 {
            SimTime(0)
        } else if ns >= u64::MAX as f64 {
            SimTime::MAX
        } else {
            SimTime(round(ns) as u64)
        }
    }

    /// From floating-point seconds, rounded *up* to the next nanosecond.
    ///
    /// Use this for the duration of work that must not finish before its bytes or FLOPs are
    /// done (a transfer of any positive size takes at least 1 ns).
    pub fn from_secs_f64_ceil(s: f64) -> Self {
        SimTime::clamped(s * 1e9, f64::ceil)
    }

    /// Integer nanoseconds.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// Floating-point seconds.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 * 1e-9
    }

    /// Floating-point microseconds (the unit of Chrome trace timestamps).
    pub fn as_micros_f64(self) -> f64 {
        self.0 as f64 * 1e-3
    }

    /// `self + other`, saturating at [`SimTime::MAX`].
    pub const fn saturating_add(self, other: SimTime) -> SimTime {
        SimTime(self.0.saturating_add(other.0))
    }

    /// `self - other`, or zero if `other` is later.
    pub const fn saturating_sub(self, other: SimTime) -> SimTime {
        SimTime(self.0.saturating_sub(other.0))
    }
}

impl Add for SimTime {
    type Output = SimTime;
    /// Saturating addition: time never wraps around.
    fn add(self, rhs: SimTime) -> SimTime {
        self.saturating_add(rhs)
    }
}

impl AddAssign for SimTime {
    fn add_assign(&mut self, rhs: SimTime) {
        *self = self.saturating_add(rhs);
    }
}

impl Sub for SimTime {
    type Output = SimTime;
    /// Saturating subtraction: a span is never negative.
    fn sub(self, rhs: SimTime) -> SimTime {
        self.saturating_sub(rhs)
    }
}

impl fmt::Display for SimTime {
    /// Human form with the largest unit that keeps the value at least 1: `1.5ms`, `250ns`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = self.0;
        if ns == 0 {
            return write!(f, "0s");
        }
        let (value, unit) = if ns >= 1_000_000_000 {
            (ns as f64 * 1e-9, "s")
        } else if ns >= 1_000_000 {
            (ns as f64 * 1e-6, "ms")
        } else if ns >= 1_000 {
            (ns as f64 * 1e-3, "us")
        } else {
            return write!(f, "{ns}ns");
        };
        // Up to 9 significant digits, trailing zeros trimmed, so the text parses back exactly
        // (for values below 1e9 of the unit).
        let text = format!("{value:.9}");
        let text = text.trim_end_matches('0').trim_end_matches('.');
        write!(f, "{text}{unit}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_round_trip() {
        assert_eq!(SimTime::from_secs_f64(1.5e-3).as_nanos(), 1_500_000);
        assert_eq!(SimTime::from_micros(3).as_nanos(), 3_000);
        assert_eq!(SimTime::from_secs_f64(-1.0), SimTime::ZERO);
        assert_eq!(SimTime::from_secs_f64(f64::NAN), SimTime::ZERO);
        assert_eq!(SimTime::from_secs_f64(1e30), SimTime::MAX);
        assert_eq!(SimTime::from_secs_f64_ceil(1.0000000001e-9).as_nanos(), 2);
        assert!((SimTime::from_millis(250).as_secs_f64() - 0.25).abs() < 1e-15);
    }

    #[test]
    fn arithmetic_saturates() {
        assert_eq!(SimTime::MAX + SimTime::from_nanos(1), SimTime::MAX);
        assert_eq!(SimTime::from_nanos(1) - SimTime::from_nanos(2), SimTime::ZERO);
    }

    #[test]
    fn display_uses_largest_unit() {
        assert_eq!(SimTime::from_nanos(250).to_string(), "250ns");
        assert_eq!(SimTime::from_micros(1_500).to_string(), "1.5ms");
        assert_eq!(SimTime::from_secs(2).to_string(), "2s");
        assert_eq!(SimTime::from_nanos(1_234).to_string(), "1.234us");
        assert_eq!(SimTime::ZERO.to_string(), "0s");
    }
}
