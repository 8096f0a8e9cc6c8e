//! The calibration of the popularity model on a locality stats file: the Zipf exponent and
//! lookups per used row whose expected reuse histograms best match the file's
//! ([`Calibration`], [`calibrate`]), found by a grid and a Nelder–Mead minimiser.

use super::{LocalityStats, Popularity};

/// A Zipf exponent fitted to a locality stats file.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Calibration {
    /// Fitted Zipf exponent.
    pub alpha: f64,
    /// Fitted lookups per batch over used rows of the representative table.
    pub lookups_per_used_row: f64,
    /// Root-mean-square difference of the 34 histogram shares at the fit.
    pub rms_error: f64,
    /// Lookups per batch of the representative table the fit assumed
    /// ([`LocalityStats::lookups_per_table`]).
    pub lookups: f64,
}

impl Calibration {
    /// The fitted popularity for a table with `lookups` per batch (used rows
    /// `lookups / lookups_per_used_row`).
    pub fn popularity_for(&self, lookups: f64) -> Popularity {
        let used = (lookups / self.lookups_per_used_row).round();
        let used = if used.is_finite() && used >= 1.0 { used.min(1e15) as u64 } else { 1 };
        Popularity::new(used, self.alpha)
    }
}

/// Fits alpha (and the ratio lookups / used rows of a representative table) so that the
/// expected reuse histograms (both rows and accesses) of [`Popularity::reuse_histogram`] best
/// match the file's mean histograms: least squares over the 34 shares, a grid over
/// `alpha in [0.1, 2.1]` and `lookups/used in [0.1, 1e4]`, then Nelder–Mead (Nelder and Mead,
/// Computer Journal 7(4), 1965) from the best grid point. Deterministic.
pub fn calibrate(stats: &LocalityStats) -> Calibration {
    let target = stats.mean().histogram;
    let lookups = stats.lookups_per_table().max(1.0);
    // Parameters: (alpha, ln(lookups per used row)), kept in a box.
    let max_ln_ratio = lookups.ln();
    let clamp = |p: [f64; 2]| [p[0].clamp(0.0, 4.0), p[1].clamp(-7.0, max_ln_ratio)];
    let error = |p: [f64; 2]| {
        let [alpha, ln_ratio] = clamp(p);
        Calibration { alpha, lookups_per_used_row: ln_ratio.exp(), rms_error: 0.0, lookups }
            .popularity_for(lookups)
            .reuse_histogram(lookups)
            .rms_difference(&target)
    };
    let mut best = ([1.0, 0.0], f64::INFINITY);
    for i in 0..11 {
        for j in 0..6 {
            let p = clamp([0.1 + 0.2 * f64::from(i), (0.1f64).ln() + f64::from(j) * 10f64.ln()]);
            let e = error(p);
            if e < best.1 {
                best = (p, e);
            }
        }
    }
    let (p, e) = nelder_mead(&error, best.0, [0.1, 0.5], 120);
    let [alpha, ln_ratio] = clamp(p);
    Calibration { alpha, lookups_per_used_row: ln_ratio.exp(), rms_error: e, lookups }
}

/// Minimizes `f` from `start` with a simplex of the given steps, for at most `iterations`
/// iterations or until the simplex's values agree to 1e-12.
fn nelder_mead(
    f: &impl Fn([f64; 2]) -> f64,
    start: [f64; 2],
    step: [f64; 2],
    iterations: usize,
) -> ([f64; 2], f64) {
    let mut s: Vec<([f64; 2], f64)> =
        [start, [start[0] + step[0], start[1]], [start[0], start[1] + step[1]]]
            .into_iter()
            .map(|p| (p, f(p)))
            .collect();
    let lerp =
        |a: [f64; 2], b: [f64; 2], t: f64| [a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])];
    for _ in 0..iterations {
        s.sort_by(|a, b| a.1.total_cmp(&b.1));
        if (s[2].1 - s[0].1).abs() < 1e-12 {
            break;
        }
        let centroid = lerp(s[0].0, s[1].0, 0.5);
        let reflect = lerp(centroid, s[2].0, -1.0);
        let fr = f(reflect);
        if fr < s[0].1 {
            let expand = lerp(centroid, s[2].0, -2.0);
            let fe = f(expand);
            s[2] = if fe < fr { (expand, fe) } else { (reflect, fr) };
        } else if fr < s[1].1 {
            s[2] = (reflect, fr);
        } else {
            let contract = if fr < s[2].1 {
                lerp(centroid, reflect, 0.5)
            } else {
                lerp(centroid, s[2].0, 0.5)
            };
            let fc = f(contract);
            if fc < s[2].1.min(fr) {
                s[2] = (contract, fc);
            } else {
                for k in 1..3 {
                    let p = lerp(s[0].0, s[k].0, 0.5);
                    s[k] = (p, f(p));
                }
            }
        }
    }
    s.sort_by(|a, b| a.1.total_cmp(&b.1));
    s[0]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::BUCKET_LABELS;
    use crate::access::tests::{close, stats_file};

    #[test]
    fn calibration_fits_the_2022_histograms() {
        let stats = LocalityStats::read(&stats_file(2022)).unwrap();
        let c = calibrate(&stats);
        assert!((0.85..1.05).contains(&c.alpha), "{c:?}");
        assert!((3.0..15.0).contains(&c.lookups_per_used_row), "{c:?}");
        assert!(c.rms_error < 0.032, "{c:?}");
        assert!(close(c.lookups, 1_405_163_864.0 / 788.0, 0.01), "{c:?}");
        // The reported error is the fit's, and it is a minimum: moving alpha or the ratio
        // makes it worse.
        let target = stats.mean().histogram;
        let at = |alpha: f64, ratio: f64| {
            let cal = Calibration { alpha, lookups_per_used_row: ratio, ..c };
            cal.popularity_for(c.lookups).reuse_histogram(c.lookups).rms_difference(&target)
        };
        assert!(close(at(c.alpha, c.lookups_per_used_row), c.rms_error, 1e-9));
        for (da, fr) in [(0.1, 1.0), (-0.1, 1.0), (0.0, 2.0), (0.0, 0.5)] {
            assert!(at(c.alpha + da, c.lookups_per_used_row * fr) > c.rms_error + 1e-4);
        }
    }

    /// Prints the calibration of both files (the table in the module docs):
    /// `cargo test --release -p embedding report_calibrations -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn report_calibrations() {
        for path in [stats_file(2021), stats_file(2022)] {
            let stats = LocalityStats::read(&path).unwrap();
            let c = calibrate(&stats);
            let pop = c.popularity_for(c.lookups);
            let model = pop.reuse_histogram(c.lookups);
            let mean = stats.mean();
            eprintln!("{}: {c:?}", path.display());
            eprintln!(
                "  mean reuse: file {:.2}, model {:.2}",
                mean.mean_reuse,
                c.lookups / pop.expected_unique(c.lookups)
            );
            for (b, label) in BUCKET_LABELS.iter().enumerate() {
                eprintln!(
                    "  {label:16} rows {:.3} model {:.3}   accesses {:.3} model {:.3}",
                    mean.histogram.rows[b],
                    model.rows[b],
                    mean.histogram.accesses[b],
                    model.accesses[b]
                );
            }
        }
    }
}
