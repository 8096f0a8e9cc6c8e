//! One kind of plot as the report sees it, and what every kind shares. Each plot type is one
//! file under `plots/` implementing [`PlotKind`]: the config fields it needs (checked when the
//! experiment is validated), the data it takes from the finished runs, and the figure that
//! draws it. Adding a plot type is that file, its `PlotType` variant and one line in
//! [`kind_of`].

use plotters::coord::Shift;
use plotters::prelude::*;
use serde_json::Value;
use simcore::units;

use super::plots;
use super::spec::{PlotSpec, PlotType, loosely_equal};
use crate::error::{ConfigError, ExperimentError};
use crate::plan::{Plan, plain};
use crate::store::{ResultsDir, RunRecord};
use crate::value_path::{Path, Seg};

/// How axis numbers print.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AxisFormat {
    /// As numbers.
    Plain,
    /// As binary byte sizes (`64MiB`).
    Bytes,
    /// As durations (`1.5ms`).
    Seconds,
}

/// Something that draws itself on any plotters backend.
pub trait Draw {
    /// Draws on `area` (the plot without its caption line) with `title` on top.
    fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        title: &str,
    ) -> Result<(), String>;
}

/// A figure ready to draw as SVG and PNG.
pub trait Figure {
    /// Draws on an SVG area.
    fn draw_svg(
        &self,
        area: &DrawingArea<SVGBackend<'_>, Shift>,
        title: &str,
    ) -> Result<(), String>;
    /// Draws on a bitmap area.
    fn draw_png(
        &self,
        area: &DrawingArea<BitMapBackend<'_>, Shift>,
        title: &str,
    ) -> Result<(), String>;
}

impl<T: Draw> Figure for T {
    fn draw_svg(
        &self,
        area: &DrawingArea<SVGBackend<'_>, Shift>,
        title: &str,
    ) -> Result<(), String> {
        self.draw(area, title)
    }
    fn draw_png(
        &self,
        area: &DrawingArea<BitMapBackend<'_>, Shift>,
        title: &str,
    ) -> Result<(), String> {
        self.draw(area, title)
    }
}

/// A plot ready to draw.
pub struct Chart {
    /// Title.
    pub title: String,
    /// Caption under the plot: which runs it shows.
    pub caption: String,
    /// What it draws.
    pub figure: Box<dyn Figure>,
}

/// What a plot type checks in the config.
pub struct CheckCtx<'a> {
    /// The experiment.
    pub plan: &'a Plan,
    /// The plot's position in `report.plots`.
    pub index: usize,
}

impl CheckCtx<'_> {
    /// A located error at `report.plots[i].<field>`.
    pub fn err(&self, field: &str, message: String) -> ConfigError {
        let path = Path(vec![
            Seg::Key("report".into()),
            Seg::Key("plots".into()),
            Seg::Index(self.index),
            Seg::Key(field.into()),
        ]);
        self.plan.loaded.error_at(&path, &[], message)
    }

    /// Checks that `field` is given (`value`) and one of `valid`.
    pub fn need(
        &self,
        p: &PlotSpec,
        field: &str,
        value: &Option<String>,
        valid: &[&str],
    ) -> Result<(), ConfigError> {
        match value {
            None => Err(self.err(
                "type",
                format!("a {:?} plot needs `{field}:` (one of: {})", p.kind, valid.join(", "))
                    .to_lowercase(),
            )),
            Some(name) if !valid.contains(&name.as_str()) => Err(self.err(
                field,
                format!(
                    "unknown {field} `{name}`{}; valid: {}",
                    simcore::names::did_you_mean(name, valid.iter().copied()),
                    valid.join(", ")
                ),
            )),
            _ => Ok(()),
        }
    }

    /// The kind's metric names.
    pub fn metrics(&self) -> Vec<&'static str> {
        self.plan.kind.info().metrics.iter().map(|d| d.name).collect()
    }

    /// The kind's series names.
    pub fn series(&self) -> Vec<&'static str> {
        self.plan.kind.info().series.iter().map(|d| d.name).collect()
    }
}

/// What a plot type builds its figure from.
pub struct BuildCtx<'a> {
    /// The experiment.
    pub plan: &'a Plan,
    /// Its results directory (traces).
    pub dir: &'a ResultsDir,
    /// The finished runs the plot's filter selects (at least one).
    pub selected: Vec<&'a RunRecord>,
    /// The sweep axes the plot's `where:` fixes.
    pub where_keys: Vec<&'a str>,
    /// The caption: which runs the plot shows (a type may replace it).
    pub caption: String,
}

/// A kind of plot.
pub trait PlotKind: Sync {
    /// Checks the fields this type needs against the kind's metrics, series and matrices and
    /// the sweep.
    fn check(&self, p: &PlotSpec, ctx: &CheckCtx<'_>) -> Result<(), ConfigError>;
    /// The title when the config gives none.
    fn default_title(&self, p: &PlotSpec) -> String;
    /// The figure from the selected runs; an error says what is missing.
    fn build(&self, p: &PlotSpec, ctx: &mut BuildCtx<'_>) -> Result<Box<dyn Figure>, String>;
}

/// The implementation of a plot type.
pub fn kind_of(t: PlotType) -> &'static dyn PlotKind {
    match t {
        PlotType::Line => &plots::line::LinePlot,
        PlotType::Bars => &plots::bars::BarsPlot,
        PlotType::Cdf => &plots::cdf::CdfPlot,
        PlotType::Series => &plots::series::SeriesPlot,
        PlotType::Heatmap => &plots::heatmap::HeatmapPlot,
        PlotType::Gantt => &plots::gantt::GanttPlot,
    }
}

/// Numeric value of a sweep value, and how to print it.
pub fn numeric(v: &Value) -> Option<(f64, AxisFormat)> {
    match v {
        Value::Number(n) => n.as_f64().map(|x| (x, AxisFormat::Plain)),
        Value::String(s) => units::parse_number(s)
            .map(|x| (x, AxisFormat::Plain))
            .or_else(|_| units::parse_bytes(s).map(|b| (b as f64, AxisFormat::Bytes)))
            .or_else(|_| units::parse_duration(s).map(|t| (t.as_secs_f64(), AxisFormat::Seconds)))
            .or_else(|_| units::parse_bandwidth(s).map(|b| (b, AxisFormat::Plain)))
            .ok(),
        _ => None,
    }
}

/// An axis label for a metric, series or matrix: the first clause of its description
/// (up to a colon, semicolon, comma or parenthesis), capitalised, with its unit:
/// `Bus bandwidth (GB/s)`. Names the kind does not describe are used as they are.
pub fn describe(plan: &Plan, metric: &str) -> String {
    let Some(d) = plan.kind.info().find(metric) else {
        return metric.to_string();
    };
    let clause = d.description.split([':', ';', ',', '(']).next().unwrap_or("").trim();
    let clause = if clause.is_empty() { metric } else { clause };
    let mut chars = clause.chars();
    let text = match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect::<String>(),
        None => String::new(),
    };
    if d.unit.is_empty() { text } else { format!("{text} ({})", d.unit) }
}

/// Seconds print as durations, everything else as numbers.
pub fn format_of(plan: &Plan, metric: &str) -> AxisFormat {
    match plan.kind.info().find(metric) {
        Some(d) if d.unit == "s" => AxisFormat::Seconds,
        _ => AxisFormat::Plain,
    }
}

/// `axis=value, ...` of a point's parameters, leaving out `skip` (`all` if nothing is left).
pub fn point_label(params: &serde_json::Map<String, Value>, skip: &[&str]) -> String {
    let parts: Vec<String> = params
        .iter()
        .filter(|(k, _)| !skip.contains(&k.as_str()))
        .map(|(k, v)| format!("{k}={}", plain(v)))
        .collect();
    if parts.is_empty() { "all".into() } else { parts.join(", ") }
}

/// The caption of a plot: which points, systems and seeds it shows.
fn filter_caption(p: &PlotSpec) -> String {
    if p.filter.is_empty() && p.system.is_none() && p.systems.is_empty() && p.seed.is_none() {
        return "all points, systems and seeds".into();
    }
    let mut parts: Vec<String> =
        p.filter.iter().map(|(k, v)| format!("{k} = {}", plain(v))).collect();
    if let Some(s) = &p.system {
        parts.push(format!("system {s}"));
    }
    if !p.systems.is_empty() {
        parts.push(format!("systems {}", p.systems.join(", ")));
    }
    if let Some(s) = p.seed {
        parts.push(format!("seed {s}"));
    }
    parts.join(", ")
}

/// The title of plot `p`.
pub fn title_of(p: &PlotSpec) -> String {
    match &p.title {
        Some(t) => t.clone(),
        None => kind_of(p.kind).default_title(p),
    }
}

/// Checks every plot of the config against the kind and the sweep.
pub fn check_plots(plan: &Plan) -> Result<(), ConfigError> {
    for (i, p) in plan.loaded.config.report.plots.iter().enumerate() {
        let ctx = CheckCtx { plan, index: i };
        kind_of(p.kind).check(p, &ctx)?;
        let axes: Vec<&str> = plan.axes.iter().map(String::as_str).collect();
        for (k, v) in &p.filter {
            if !axes.contains(&k.as_str()) {
                return Err(ctx.err(
                    "where",
                    format!(
                        "`{k}` is not a sweep axis{}; axes: {}",
                        simcore::names::did_you_mean(k, axes.iter().copied()),
                        axes.join(", ")
                    ),
                ));
            }
            if !plan.points.iter().any(|pt| pt.params.get(k).is_some_and(|x| loosely_equal(x, v))) {
                return Err(ctx.err("where", format!("no point has {k} = {}", plain(v))));
            }
        }
        let names: Vec<&str> = plan.loaded.config.systems.iter().map(|s| s.name.as_str()).collect();
        for s in p.system.iter().chain(&p.systems) {
            if !names.contains(&s.as_str()) {
                return Err(ctx.err(
                    "system",
                    format!(
                        "unknown system `{s}`{}; valid: {}",
                        simcore::names::did_you_mean(s, names.iter().copied()),
                        names.join(", ")
                    ),
                ));
            }
        }
        if plan.matching_runs(&p.run_filter()).is_empty() {
            return Err(ctx.err("where", "no run matches this plot's where/system/seed".into()));
        }
    }
    Ok(())
}

/// Builds the chart of plot `p` from the finished runs.
pub fn build(
    plan: &Plan,
    dir: &ResultsDir,
    records: &[RunRecord],
    p: &PlotSpec,
) -> Result<Chart, ExperimentError> {
    let title = title_of(p);
    let filter = p.run_filter();
    let selected: Vec<&RunRecord> =
        records.iter().filter(|r| filter.matches(&r.params, &r.system, r.seed)).collect();
    let plot_err = |m: String| ExperimentError::Plot { plot: title.clone(), message: m };
    if selected.is_empty() {
        return Err(plot_err(
            "no finished run matches it (run the experiment to completion first)".into(),
        ));
    }
    let where_keys: Vec<&str> = p.filter.keys().map(String::as_str).collect();
    let mut caveats: Vec<String> = Vec::new();
    for r in &selected {
        for c in &r.caveats {
            if !caveats.contains(c) {
                caveats.push(c.clone());
            }
        }
    }
    let mut ctx = BuildCtx { plan, dir, selected, where_keys, caption: filter_caption(p) };
    let figure = kind_of(p.kind).build(p, &mut ctx).map_err(plot_err)?;
    let mut caption = ctx.caption;
    if !caveats.is_empty() {
        caption = format!("{caption} · {}", crate::summary::short_caveats(&caveats));
    }
    Ok(Chart { title, caption, figure })
}
