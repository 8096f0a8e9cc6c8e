//! The `report:` section: which plots to draw from which runs.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Kinds of plot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlotType {
    /// A metric over a sweep axis, one line per system (and per value of other axes), with 95%
    /// confidence intervals over seeds as error bars.
    Line,
    /// A metric per point, one bar per system, with 95% confidence intervals.
    Bars,
    /// Empirical CDF of a series' samples, one line per system, pooled over seeds.
    Cdf,
    /// A series over iterations (or over another series, `x_series`), one line per system from
    /// its first matching run.
    Series,
    /// A matrix of one run as a colour map.
    Heatmap,
    /// The trace of one run as a Gantt chart (one row per GPU stream).
    Gantt,
}

/// One plot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlotSpec {
    /// Kind of plot.
    #[serde(rename = "type")]
    pub kind: PlotType,
    /// Title (default: made from the fields).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Metric to plot (line, bars).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<String>,
    /// Sweep axis on the x axis (line).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    /// A metric on the x axis instead of the sweep axis's values (line): each point is
    /// (mean x metric, mean metric) of a point and system, so a line traces a trade-off as
    /// `x` moves along it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x_metric: Option<String>,
    /// Series whose samples to plot (cdf) or whose values to draw (series).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<String>,
    /// Series giving the x values of a series plot (default: the iteration, from 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x_series: Option<String>,
    /// A series of the same run whose increases are marked with vertical lines (series), e.g.
    /// `failed_gpus` to mark failures on a throughput-over-time plot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marks: Option<String>,
    /// Matrix to plot (heatmap).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matrix: Option<String>,
    /// Logarithmic x axis.
    #[serde(default)]
    pub log_x: bool,
    /// Logarithmic y axis.
    #[serde(default)]
    pub log_y: bool,
    /// Start a linear y axis at zero (line and series plots; default true). `false` fits the
    /// axis to the data, so small differences and their confidence intervals stay visible
    /// (accuracies between 0.66 and 0.97, say).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub y_from_zero: bool,
    /// Keep only points whose sweep values match (`{cluster.nodes: 2}`).
    #[serde(default, rename = "where", skip_serializing_if = "Map::is_empty")]
    pub filter: Map<String, Value>,
    /// Keep only this system (heatmap and gantt default to the first matching run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// Keep only these systems (bars, line, cdf, series), in the config's order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub systems: Vec<String>,
    /// Keep only this seed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Divide each point's values by this system's mean at the same point (bars), so bars
    /// read as "times that system" (its own bar is 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normalize_to: Option<String>,
}

fn yes() -> bool {
    true
}
fn is_true(b: &bool) -> bool {
    *b
}

impl PlotSpec {
    /// The run filter of this plot.
    pub fn run_filter(&self) -> RunFilter {
        RunFilter {
            filter: self.filter.clone(),
            system: self.system.clone(),
            systems: self.systems.clone(),
            seed: self.seed,
        }
    }
}

/// The `report:` section.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportSpec {
    /// Plots, drawn in order.
    #[serde(default)]
    pub plots: Vec<PlotSpec>,
}

/// Selects runs by sweep values, system and seed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunFilter {
    /// Sweep values to match.
    pub filter: Map<String, Value>,
    /// System name to match.
    pub system: Option<String>,
    /// System names to match (any of them; empty: all).
    pub systems: Vec<String>,
    /// Seed to match.
    pub seed: Option<u64>,
}

/// Equal as values, or as text (`1MiB` in `where:` matches `1MiB` in the sweep; `2` matches `2`).
pub fn loosely_equal(a: &Value, b: &Value) -> bool {
    a == b || crate::plan::plain(a) == crate::plan::plain(b)
}

impl RunFilter {
    /// Whether a run with these sweep values, system and seed passes.
    pub fn matches(&self, params: &Map<String, Value>, system: &str, seed: u64) -> bool {
        self.filter.iter().all(|(k, v)| params.get(k).is_some_and(|p| loosely_equal(p, v)))
            && self.system.as_deref().is_none_or(|s| s == system)
            && (self.systems.is_empty() || self.systems.iter().any(|s| s == system))
            && self.seed.is_none_or(|s| s == seed)
    }
}
