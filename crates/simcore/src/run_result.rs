//! What one simulation run reports back: named scalar metrics, named series (per-iteration
//! values or sample sets), named matrices (heatmaps) and optionally a trace. Every domain's
//! `run` returns this, and the experiment runner stores, summarises and plots it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::simulator::{Described, Description};
use crate::trace::ChromeTrace;

/// The outcome of one run. Maps are ordered by name, so serialisation is deterministic.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RunResult {
    /// Scalar metrics (`time_to_target_s`, `busbw_gbs`, ...), summarised over seeds.
    pub metrics: BTreeMap<String, f64>,
    /// Sequences: per-iteration values, or sample sets for CDFs.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub series: BTreeMap<String, Vec<f64>>,
    /// Row-major matrices (rows of equal length), for heatmaps.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub matrices: BTreeMap<String, Vec<Vec<f64>>>,
    /// What a reader must know to read the numbers right (e.g. that the network was
    /// contention-free, so times are an upper bound on performance); every output of the run
    /// shows them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub caveats: Vec<String>,
    /// An execution trace, kept only when the experiment asks for one.
    #[serde(skip)]
    pub trace: Option<ChromeTrace>,
    /// Wall-clock measurements of the simulator itself (e.g. a planner's running time): not
    /// results, so they stay out of the byte-identical result files (the runner writes them
    /// to `timings.csv`).
    #[serde(skip)]
    pub timings: BTreeMap<String, f64>,
}

impl RunResult {
    /// An empty result.
    pub fn new() -> Self {
        RunResult::default()
    }

    /// Sets a metric.
    pub fn metric(&mut self, name: &str, value: f64) -> &mut Self {
        self.metrics.insert(name.to_string(), value);
        self
    }

    /// Sets a series.
    pub fn series(&mut self, name: &str, values: Vec<f64>) -> &mut Self {
        self.series.insert(name.to_string(), values);
        self
    }

    /// Sets a series, keeping every `k`-th sample with `k` the smallest step that leaves at
    /// most `max` (0: all), for long time series.
    pub fn series_thinned(&mut self, name: &str, values: &[f64], max: usize) -> &mut Self {
        let kept = if max == 0 || values.len() <= max {
            values.to_vec()
        } else {
            values.iter().step_by(values.len().div_ceil(max)).copied().collect()
        };
        self.series(name, kept)
    }

    /// Adds a caveat (once).
    pub fn caveat(&mut self, text: &str) -> &mut Self {
        if !self.caveats.iter().any(|c| c == text) {
            self.caveats.push(text.to_string());
        }
        self
    }

    /// Sets a matrix.
    pub fn matrix(&mut self, name: &str, rows: Vec<Vec<f64>>) -> &mut Self {
        self.matrices.insert(name.to_string(), rows);
        self
    }

    /// Names this result holds that `description` does not declare (as `metric x`,
    /// `series y`, `matrix z`): empty when the simulator emits only what it describes.
    pub fn undeclared(&self, description: &Description) -> Vec<String> {
        let missing = |what: &str, names: Vec<&String>, declared: &[Described]| {
            names
                .into_iter()
                .filter(|n| !declared.iter().any(|d| d.name == n.as_str()))
                .map(|n| format!("{what} `{n}`"))
                .collect::<Vec<_>>()
        };
        let mut out = missing("metric", self.metrics.keys().collect(), description.metrics);
        out.extend(missing("series", self.series.keys().collect(), description.series));
        out.extend(missing("matrix", self.matrices.keys().collect(), description.matrices));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thinned_series_keep_every_kth_sample() {
        let v: Vec<f64> = (0..10).map(f64::from).collect();
        let mut r = RunResult::new();
        r.series_thinned("a", &v, 4).series_thinned("b", &v, 0).series_thinned("c", &v, 20);
        assert_eq!(r.series["a"], vec![0.0, 3.0, 6.0, 9.0]);
        assert_eq!(r.series["b"], v);
        assert_eq!(r.series["c"], v);
    }
}
