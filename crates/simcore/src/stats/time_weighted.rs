//! Time-weighted average of a piecewise-constant signal (queue length, busy GPUs, memory use).

use serde::{Deserialize, Serialize};

use crate::time::SimTime;

/// Integrates a value that changes at discrete instants and stays constant in between.
///
/// `mean(t) = (1 / (t - start)) * integral from start to t of value(s) ds`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimeWeighted {
    start: SimTime,
    last_change: SimTime,
    value: f64,
    /// Integral of the value up to `last_change`, in value x seconds.
    area: f64,
    max: f64,
}

impl TimeWeighted {
    /// Starts observing at `start` with the given initial value.
    pub fn new(start: SimTime, initial: f64) -> Self {
        TimeWeighted { start, last_change: start, value: initial, area: 0.0, max: initial }
    }

    /// The signal takes `value` from time `t` on.
    ///
    /// # Panics
    /// If `t` is earlier than the previous change (time never goes backwards).
    pub fn set(&mut self, t: SimTime, value: f64) {
        assert!(t >= self.last_change, "TimeWeighted::set at {t} before {}", self.last_change);
        self.area += self.value * (t - self.last_change).as_secs_f64();
        self.last_change = t;
        self.value = value;
        self.max = self.max.max(value);
    }

    /// Adds `delta` to the current value from time `t` on.
    pub fn add(&mut self, t: SimTime, delta: f64) {
        let v = self.value + delta;
        self.set(t, v);
    }

    /// The current value.
    pub fn current(&self) -> f64 {
        self.value
    }

    /// The largest value taken so far.
    pub fn max(&self) -> f64 {
        self.max
    }

    /// Integral of the value from the start to `t`, in value x seconds.
    pub fn integral(&self, t: SimTime) -> f64 {
        self.area + self.value * t.saturating_sub(self.last_change).as_secs_f64()
    }

    /// Time-weighted mean from the start to `t`; the current value if no time has passed.
    pub fn mean(&self, t: SimTime) -> f64 {
        let span = t.saturating_sub(self.start).as_secs_f64();
        if span <= 0.0 { self.value } else { self.integral(t) / span }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integrates_a_step_signal_exactly() {
        let s = SimTime::from_secs;
        let mut tw = TimeWeighted::new(s(0), 0.0);
        tw.set(s(2), 4.0); // 0 for 2 s
        tw.add(s(5), -2.0); // 4 for 3 s, then 2
        assert_eq!(tw.integral(s(10)), 12.0 + 10.0);
        assert!((tw.mean(s(10)) - 2.2).abs() < 1e-12);
        assert_eq!(tw.max(), 4.0);
        assert_eq!(tw.mean(s(0)), tw.current(), "no time has passed");
    }
}
