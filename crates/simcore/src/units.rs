//! Human units in config files: sizes ("80GiB"), bandwidths ("400Gbps", "50GB/s"), durations
//! ("1.5ms"), FLOP rates ("312TFLOPS") and plain numbers ("2e9").
//!
//! Unknown or missing units are rejected with a message that lists what is valid: a bandwidth
//! or duration without a unit is ambiguous (bits or bytes? seconds or hours?) and is an error,
//! except for zero durations. Decimal prefixes (k, M, G, T, P) are powers of 1000; binary
//! prefixes (Ki, Mi, Gi, Ti, Pi) are powers of 1024. A lower-case `b` means bits.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::time::SimTime;

/// Why a value with units did not parse.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum UnitError {
    /// The text was empty.
    #[error("empty value; expected {expected}")]
    Empty {
        /// What would be valid.
        expected: &'static str,
    },
    /// The text does not start with a number.
    #[error("'{text}' does not start with a number; expected {expected}")]
    NotANumber {
        /// The offending text.
        text: String,
        /// What would be valid.
        expected: &'static str,
    },
    /// The unit is not one this kind of value accepts.
    #[error("unknown unit '{unit}' in '{text}'; expected {expected}{hint}")]
    UnknownUnit {
        /// The unit as written.
        unit: String,
        /// The whole value.
        text: String,
        /// What would be valid.
        expected: &'static str,
        /// A suggestion, e.g. " (Gb is gigabits; did you mean GB?)".
        hint: String,
    },
    /// The value needs a unit but has none.
    #[error("'{text}' needs a unit; expected {expected}")]
    MissingUnit {
        /// The offending text.
        text: String,
        /// What would be valid.
        expected: &'static str,
    },
    /// Negative, infinite or too large.
    #[error("'{text}' is out of range: {reason}")]
    OutOfRange {
        /// The offending text.
        text: String,
        /// Why.
        reason: &'static str,
    },
}

const BYTES_EXPECTED: &str =
    "a size such as 4096, 1.5MiB or 80GB (units: B, kB, MB, GB, TB, PB, KiB, MiB, GiB, TiB, PiB)";
const BANDWIDTH_EXPECTED: &str = "a bandwidth such as 400Gbps, 400Gb/s, 50GB/s or 25GiB/s \
     (bits: bps, kbps, Mbps, Gbps, Tbps or b/s forms; bytes: B/s, kB/s, MB/s, GB/s, TB/s, KiB/s, \
     MiB/s, GiB/s, TiB/s or Bps forms)";
const DURATION_EXPECTED: &str = "a duration such as 250ns, 10us, 1.5ms, 2s, 30min, 6h or 2d";
const FLOPS_EXPECTED: &str =
    "a FLOP rate such as 312TFLOPS, 312 TFLOP/s or 3.12e14 (prefixes: k, M, G, T, P, E)";
const NUMBER_EXPECTED: &str = "a number such as 42, 0.5, 2e9 or 1_000_000";

/// Splits "1.5 GiB" into (1.5, "GiB"); underscores between digits are allowed.
fn split_number(text: &str, expected: &'static str) -> Result<(f64, String), UnitError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(UnitError::Empty { expected });
    }
    let bytes = t.as_bytes();
    let mut end = 0;
    let mut seen_digit = false;
    let mut seen_e = false;
    while end < bytes.len() {
        let c = bytes[end] as char;
        let ok = c.is_ascii_digit()
            || c == '_'
            || c == '.'
            || ((c == '+' || c == '-')
                && (end == 0 || matches!(bytes[end - 1] as char, 'e' | 'E')))
            || ((c == 'e' || c == 'E')
                && seen_digit
                && !seen_e
                // only an exponent if a digit (or sign then digit) follows
                && bytes.get(end + 1).is_some_and(|&n| {
                    (n as char).is_ascii_digit()
                        || ((n == b'+' || n == b'-')
                            && bytes.get(end + 2).is_some_and(|d| d.is_ascii_digit()))
                }));
        if !ok {
            break;
        }
        if c.is_ascii_digit() {
            seen_digit = true;
        }
        if c == 'e' || c == 'E' {
            seen_e = true;
        }
        end += 1;
    }
    let num_text: String = t[..end].chars().filter(|&c| c != '_').collect();
    let value: f64 = match num_text.parse() {
        Ok(v) if seen_digit => v,
        _ => return Err(UnitError::NotANumber { text: t.to_string(), expected }),
    };
    if !value.is_finite() {
        return Err(UnitError::OutOfRange { text: t.to_string(), reason: "not finite" });
    }
    if value < 0.0 {
        return Err(UnitError::OutOfRange { text: t.to_string(), reason: "must not be negative" });
    }
    Ok((value, t[end..].trim().to_string()))
}

fn decimal_prefix(p: &str) -> Option<f64> {
    Some(match p {
        "" => 1.0,
        "k" | "K" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        _ => return None,
    })
}

fn binary_prefix(p: &str) -> Option<f64> {
    Some(match p {
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        "Ti" => 1024.0f64.powi(4),
        "Pi" => 1024.0f64.powi(5),
        _ => return None,
    })
}

fn prefix(p: &str) -> Option<f64> {
    decimal_prefix(p).or_else(|| binary_prefix(p))
}

/// Parses a size in bytes: `4096`, `1.5MiB`, `80GB`, `2e9`.
pub fn parse_bytes(text: &str) -> Result<u64, UnitError> {
    let (v, unit) = split_number(text, BYTES_EXPECTED)?;
    let mult = if unit.is_empty() { Some(1.0) } else { unit.strip_suffix('B').and_then(prefix) };
    let Some(mult) = mult else {
        let hint = if unit.ends_with('b') {
            format!(
                " ({unit} is bits; sizes are in bytes: did you mean {}B?)",
                &unit[..unit.len() - 1]
            )
        } else {
            String::new()
        };
        return Err(UnitError::UnknownUnit {
            unit,
            text: text.trim().to_string(),
            expected: BYTES_EXPECTED,
            hint,
        });
    };
    let bytes = (v * mult).round();
    if bytes > u64::MAX as f64 {
        return Err(UnitError::OutOfRange { text: text.trim().to_string(), reason: "too large" });
    }
    Ok(bytes as u64)
}

/// Parses a bandwidth into bytes per second: `400Gbps`, `400Gb/s`, `50GB/s`, `25GiB/s`.
pub fn parse_bandwidth(text: &str) -> Result<f64, UnitError> {
    let (v, unit) = split_number(text, BANDWIDTH_EXPECTED)?;
    if unit.is_empty() {
        return Err(UnitError::MissingUnit {
            text: text.trim().to_string(),
            expected: BANDWIDTH_EXPECTED,
        });
    }
    let per_second = unit.strip_suffix("/s").or_else(|| unit.strip_suffix("ps"));
    let parsed = per_second.and_then(|u| {
        if let Some(p) = u.strip_suffix('b') {
            prefix(p).map(|m| m / 8.0)
        } else if let Some(p) = u.strip_suffix('B') {
            prefix(p)
        } else {
            None
        }
    });
    match parsed {
        Some(m) => Ok(v * m),
        None => Err(UnitError::UnknownUnit {
            unit,
            text: text.trim().to_string(),
            expected: BANDWIDTH_EXPECTED,
            hint: String::new(),
        }),
    }
}

/// Parses a duration: `250ns`, `10us` (or `µs`), `1.5ms`, `2s`, `30min`, `6h`, `2d`; `0` alone.
pub fn parse_duration(text: &str) -> Result<SimTime, UnitError> {
    let (v, unit) = split_number(text, DURATION_EXPECTED)?;
    let ns_per_unit = match unit.as_str() {
        "" if v == 0.0 => return Ok(SimTime::ZERO),
        "" => {
            return Err(UnitError::MissingUnit {
                text: text.trim().to_string(),
                expected: DURATION_EXPECTED,
            });
        }
        "ns" => 1.0,
        "us" | "µs" | "μs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        "min" => 60e9,
        "h" => 3600e9,
        "d" => 86_400e9,
        _ => {
            return Err(UnitError::UnknownUnit {
                unit,
                text: text.trim().to_string(),
                expected: DURATION_EXPECTED,
                hint: String::new(),
            });
        }
    };
    let ns = v * ns_per_unit;
    if ns >= u64::MAX as f64 {
        return Err(UnitError::OutOfRange { text: text.trim().to_string(), reason: "too long" });
    }
    Ok(SimTime::from_nanos_f64(ns))
}

/// Parses a FLOP rate in FLOP/s: `312TFLOPS`, `312 TFLOP/s`, `3.12e14`.
pub fn parse_flops(text: &str) -> Result<f64, UnitError> {
    let (v, unit) = split_number(text, FLOPS_EXPECTED)?;
    let mult = unit
        .strip_suffix("FLOPS")
        .or_else(|| unit.strip_suffix("FLOP/s"))
        .or(if unit.is_empty() { Some("") } else { None })
        .and_then(decimal_prefix);
    match mult {
        Some(m) => Ok(v * m),
        None => Err(UnitError::UnknownUnit {
            unit,
            text: text.trim().to_string(),
            expected: FLOPS_EXPECTED,
            hint: String::new(),
        }),
    }
}

/// Parses a plain non-negative number: `42`, `0.5`, `2e9`, `1_000_000`.
pub fn parse_number(text: &str) -> Result<f64, UnitError> {
    let (v, unit) = split_number(text, NUMBER_EXPECTED)?;
    if !unit.is_empty() {
        return Err(UnitError::UnknownUnit {
            unit,
            text: text.trim().to_string(),
            expected: NUMBER_EXPECTED,
            hint: String::new(),
        });
    }
    Ok(v)
}

/// Formats a number with up to `digits` decimals, trailing zeros trimmed.
fn trim_float(v: f64, digits: usize) -> String {
    let s = format!("{v:.digits$}");
    if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s }
}

/// A YAML/JSON scalar that may be a number or a string.
#[derive(Deserialize)]
#[serde(untagged)]
enum Scalar {
    Int(u64),
    Float(f64),
    Text(String),
}

impl Scalar {
    fn text(self) -> String {
        match self {
            Scalar::Int(i) => i.to_string(),
            Scalar::Float(f) => format!("{f:e}"),
            Scalar::Text(s) => s,
        }
    }
}

/// A size in bytes that reads and writes human units.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bytes(pub u64);

impl fmt::Display for Bytes {
    /// The largest binary unit that divides the value exactly (`80GiB`), else plain bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [(&str, u64); 5] = [
            ("PiB", 1 << 50),
            ("TiB", 1 << 40),
            ("GiB", 1 << 30),
            ("MiB", 1 << 20),
            ("KiB", 1 << 10),
        ];
        for (name, size) in UNITS {
            if self.0 >= size && self.0.is_multiple_of(size) {
                return write!(f, "{}{name}", self.0 / size);
            }
        }
        write!(f, "{}B", self.0)
    }
}

/// A bandwidth in bytes per second that reads and writes human units.
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd)]
pub struct Bandwidth(pub f64);

impl Bandwidth {
    /// Bytes per second.
    pub fn bytes_per_sec(self) -> f64 {
        self.0
    }
}

impl fmt::Display for Bandwidth {
    /// In GB/s (decimal), the unit of datasheets and nccl-tests.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}GB/s", trim_float(self.0 / 1e9, 6))
    }
}

/// A FLOP rate in FLOP/s that reads and writes human units.
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd)]
pub struct FlopRate(pub f64);

impl fmt::Display for FlopRate {
    /// In TFLOP/s, the unit of datasheets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}TFLOPS", trim_float(self.0 / 1e12, 6))
    }
}

/// Serde for a value type: written with its `Display` (human units), read from a number or a
/// string through `parse`.
macro_rules! human_serde {
    ($ty:ty, $parse:expr) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.to_string())
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = Scalar::deserialize(d)?.text();
                $parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

human_serde!(Bytes, |t: &str| parse_bytes(t).map(Bytes));
human_serde!(Bandwidth, |t: &str| parse_bandwidth(t).map(Bandwidth));
human_serde!(FlopRate, |t: &str| parse_flops(t).map(FlopRate));
// SimTime is written as `1.5ms`, which parse_duration reads back exactly.
human_serde!(SimTime, parse_duration);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes() {
        assert_eq!(parse_bytes("4096"), Ok(4096));
        assert_eq!(parse_bytes("1.5MiB"), Ok(1_572_864));
        assert_eq!(parse_bytes("80 GB"), Ok(80_000_000_000));
        assert_eq!(parse_bytes("80GiB"), Ok(80 << 30));
        assert_eq!(parse_bytes("2e9"), Ok(2_000_000_000));
        assert_eq!(parse_bytes("1_000kB"), Ok(1_000_000));
        let e = parse_bytes("10Gb").unwrap_err().to_string();
        assert!(e.contains("did you mean GB"), "{e}");
        assert!(matches!(parse_bytes("ten"), Err(UnitError::NotANumber { .. })));
        assert!(matches!(parse_bytes("-1KiB"), Err(UnitError::OutOfRange { .. })));
        assert!(matches!(parse_bytes(""), Err(UnitError::Empty { .. })));
    }

    #[test]
    fn bandwidths() {
        assert_eq!(parse_bandwidth("400Gbps"), Ok(50e9));
        assert_eq!(parse_bandwidth("400 Gb/s"), Ok(50e9));
        assert_eq!(parse_bandwidth("50GB/s"), Ok(50e9));
        assert_eq!(parse_bandwidth("50GBps"), Ok(50e9));
        assert_eq!(parse_bandwidth("1GiB/s"), Ok(1_073_741_824.0));
        assert!(matches!(parse_bandwidth("50"), Err(UnitError::MissingUnit { .. })));
        assert!(matches!(parse_bandwidth("50GB"), Err(UnitError::UnknownUnit { .. })));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1.5ms"), Ok(SimTime::from_micros(1_500)));
        assert_eq!(parse_duration("10us"), Ok(SimTime::from_micros(10)));
        assert_eq!(parse_duration("10µs"), Ok(SimTime::from_micros(10)));
        assert_eq!(parse_duration("6h"), Ok(SimTime::from_secs(6 * 3600)));
        assert_eq!(parse_duration("30min"), Ok(SimTime::from_secs(1800)));
        assert_eq!(parse_duration("0"), Ok(SimTime::ZERO));
        assert!(matches!(parse_duration("5"), Err(UnitError::MissingUnit { .. })));
        assert!(matches!(parse_duration("5 hours"), Err(UnitError::UnknownUnit { .. })));
    }

    #[test]
    fn flops_and_numbers() {
        assert_eq!(parse_flops("312TFLOPS"), Ok(312e12));
        assert_eq!(parse_flops("312 TFLOP/s"), Ok(312e12));
        assert_eq!(parse_flops("3.12e14"), Ok(3.12e14));
        assert_eq!(parse_number("2e9"), Ok(2e9));
        assert_eq!(parse_number("1_000_000"), Ok(1e6));
        assert!(parse_number("2x").is_err());
        // An 'e' not followed by digits is a unit, not an exponent.
        assert!(matches!(parse_flops("1EFLOPS"), Ok(v) if v == 1e18));
    }

    #[test]
    fn display_round_trips() {
        for b in [0u64, 1, 1023, 1024, 80 << 30, 1_572_864, 123_456_789] {
            assert_eq!(parse_bytes(&Bytes(b).to_string()), Ok(b));
        }
        for ns in [0u64, 1, 999, 1_000, 1_500, 123_456_789, 3_600_000_000_000] {
            let t = SimTime::from_nanos(ns);
            assert_eq!(parse_duration(&t.to_string()), Ok(t), "{t}");
        }
        assert_eq!(Bandwidth(50e9).to_string(), "50GB/s");
        assert_eq!(FlopRate(989.4e12).to_string(), "989.4TFLOPS");
    }

    #[test]
    fn serde_reports_field_and_line() {
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Link {
            bandwidth: Bandwidth,
            latency: SimTime,
            size: Bytes,
        }
        let ok: Link =
            serde_saphyr::from_str("bandwidth: 400Gbps\nlatency: 1.5us\nsize: 4096\n").unwrap();
        assert_eq!(ok.bandwidth, Bandwidth(50e9));
        assert_eq!(ok.size, Bytes(4096));
        let err = serde_saphyr::from_str::<Link>(
            "bandwidth: 400Gbps\nlatency: 1.5 fortnights\nsize: 1\n",
        )
        .unwrap_err();
        let loc = err.location().unwrap();
        assert_eq!(loc.line(), 2);
        assert!(err.to_string().contains("fortnights"));
    }
}
