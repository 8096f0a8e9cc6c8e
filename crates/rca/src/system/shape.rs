//! The daily shape of arrival rates, compiled: a multiplier m(t) of the mean rate with mean 1
//! over a day, and its maximum (for thinning).
//!
//! Web and microservice traffic follows the day: Alibaba's microservice traces (Luo et al.,
//! SoCC 2021) and Azure Functions' invocations (Shahrad et al., USENIX ATC 2020) both show a
//! diurnal cycle. The sinusoid and its default amplitude and peak are our assumptions, not
//! fitted to either trace; the hourly form lets a user give a measured profile.

use crate::system::error::SpecError;
use crate::system::spec::DailyShape;

const DAY_S: f64 = 86_400.0;

/// A compiled daily shape.
#[derive(Debug, Clone, PartialEq)]
pub struct Shape {
    kind: Kind,
    max: f64,
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Flat,
    Sinusoid {
        amplitude: f64,
        peak_s: f64,
    },
    /// Normalised factors at hour midpoints.
    Hourly([f64; 24]),
}

impl Shape {
    /// Validates and compiles a shape; errors name `daily_shape`.
    pub fn new(spec: &DailyShape) -> Result<Shape, SpecError> {
        match spec {
            DailyShape::Flat => Ok(Shape { kind: Kind::Flat, max: 1.0 }),
            DailyShape::Sinusoid { amplitude, peak } => {
                if !(amplitude.is_finite() && (0.0..1.0).contains(amplitude)) {
                    return Err(SpecError::invalid(
                        "daily_shape.sinusoid.amplitude",
                        format!("{amplitude} must be in [0, 1) so the rate stays positive"),
                    ));
                }
                let peak_s = peak.as_secs_f64();
                if peak_s >= DAY_S {
                    return Err(SpecError::invalid(
                        "daily_shape.sinusoid.peak",
                        format!("{peak} is not a time of day: expected 0h..24h"),
                    ));
                }
                Ok(Shape {
                    kind: Kind::Sinusoid { amplitude: *amplitude, peak_s },
                    max: 1.0 + amplitude,
                })
            }
            DailyShape::Hourly { factors } => {
                let f = "daily_shape.hourly.factors";
                if factors.len() != 24 {
                    return Err(SpecError::invalid(
                        f,
                        format!("{} factors given; expected 24, one per hour", factors.len()),
                    ));
                }
                if let Some(v) = factors.iter().find(|v| !(v.is_finite() && **v >= 0.0)) {
                    return Err(SpecError::invalid(
                        f,
                        format!("{v} is not a finite non-negative factor"),
                    ));
                }
                // Mean of the piecewise-linear curve through the hour midpoints (wrapping)
                // equals the mean of the factors.
                let mean = factors.iter().sum::<f64>() / 24.0;
                if mean <= 0.0 {
                    return Err(SpecError::invalid(f, "all factors are 0: nothing would arrive"));
                }
                let mut h = [0.0; 24];
                for (o, v) in h.iter_mut().zip(factors) {
                    *o = v / mean;
                }
                let max = h.iter().copied().fold(0.0, f64::max);
                Ok(Shape { kind: Kind::Hourly(h), max })
            }
        }
    }

    /// The multiplier at `t_s` seconds after midnight (any non-negative time; wraps daily).
    pub fn factor(&self, t_s: f64) -> f64 {
        match &self.kind {
            Kind::Flat => 1.0,
            Kind::Sinusoid { amplitude, peak_s } => {
                1.0 + amplitude * (std::f64::consts::TAU * (t_s - peak_s) / DAY_S).cos()
            }
            Kind::Hourly(h) => {
                // Hour midpoints at 0.5 h, 1.5 h, ...: interpolate between the two around t.
                let x = (t_s.rem_euclid(DAY_S) / 3600.0 - 0.5).rem_euclid(24.0);
                let i = (x.floor() as usize).min(23);
                let w = x - i as f64;
                h[i] * (1.0 - w) + h[(i + 1) % 24] * w
            }
        }
    }

    /// The largest multiplier over the day.
    pub fn max(&self) -> f64 {
        self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use simcore::SimTime;

    fn mean(s: &Shape) -> f64 {
        let n = 86_400;
        (0..n).map(|i| s.factor(i as f64 + 0.5)).sum::<f64>() / n as f64
    }

    #[test]
    fn shapes_have_mean_one() {
        let s = Shape::new(&DailyShape::default()).unwrap();
        assert!((mean(&s) - 1.0).abs() < 1e-9);
        assert!((s.factor(14.0 * 3600.0) - 1.5).abs() < 1e-12);
        assert!((s.factor(2.0 * 3600.0) - 0.5).abs() < 1e-12);
        let mut factors = vec![1.0; 24];
        factors[12] = 5.0;
        let h = Shape::new(&DailyShape::Hourly { factors }).unwrap();
        assert!((mean(&h) - 1.0).abs() < 1e-6);
        assert!((h.factor(12.5 * 3600.0) - h.max()).abs() < 1e-12);
    }

    #[test]
    fn bad_shapes_are_errors() {
        let e = Shape::new(&DailyShape::Sinusoid { amplitude: 1.0, peak: SimTime::ZERO });
        assert!(e.unwrap_err().to_string().contains("amplitude"));
        let e = Shape::new(&DailyShape::Hourly { factors: vec![1.0; 23] });
        assert!(e.unwrap_err().to_string().contains("24"));
        let e = Shape::new(&DailyShape::Hourly { factors: vec![0.0; 24] });
        assert!(e.is_err());
    }
}
