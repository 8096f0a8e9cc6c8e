//! From results to plot data: which runs a plot uses and the numbers it draws. Also the
//! config-time checks of the `report:` section (names exist, filters match something).

use std::collections::BTreeMap;
use std::path::Path as FsPath;

use serde_json::Value;
use simcore::units;

use super::spec::{PlotSpec, PlotType, loosely_equal};
use crate::error::{ConfigError, ExperimentError};
use crate::plan::{Plan, plain};
use crate::store::{ResultsDir, RunRecord};
use crate::summary::{SummaryRow, summarize};
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

/// A line with error bars: (x, mean, ci95 half-width).
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    /// Legend label.
    pub label: String,
    /// The system's position in the config's `systems`: its colour and marker in every plot.
    pub slot: usize,
    /// Which of the system's lines this is (0, 1, ...: solid, dashed, ...) when other sweep
    /// axes split a system into several lines.
    pub variant: usize,
    /// Points (x, y, 95% CI half-width) in drawing order: by x, or along the sweep axis for
    /// a line over a metric (`x_metric`).
    pub points: Vec<(f64, f64, f64)>,
}

/// What a chart draws.
#[derive(Clone, Debug, PartialEq)]
pub enum PlotData {
    /// Metric over a sweep axis.
    Lines {
        /// x axis description.
        x_label: String,
        /// y axis description.
        y_label: String,
        /// Number format of y.
        y_format: AxisFormat,
        /// Number format of x.
        x_format: AxisFormat,
        /// Tick labels for a categorical x axis (x values are their positions), if not numeric.
        x_categories: Option<Vec<String>>,
        /// log10 x.
        log_x: bool,
        /// log10 y.
        log_y: bool,
        /// The lines.
        lines: Vec<Line>,
        /// x positions of event marks (vertical lines), with what they mark.
        marks: Option<(String, Vec<f64>)>,
        /// Round-number x ticks even when few x values occur (x is a metric, not a sweep).
        round_x_ticks: bool,
    },
    /// Metric per point and system.
    Bars {
        /// y axis description.
        y_label: String,
        /// Number format of y.
        y_format: AxisFormat,
        /// log10 y.
        log_y: bool,
        /// Group (point) labels.
        groups: Vec<String>,
        /// System labels.
        systems: Vec<String>,
        /// Each system's position in the config's `systems` (its colour).
        slots: Vec<usize>,
        /// `[group][system]` = (mean, ci95).
        values: Vec<Vec<Option<(f64, f64)>>>,
    },
    /// Empirical CDFs.
    Cdf {
        /// x axis description.
        x_label: String,
        /// log10 x.
        log_x: bool,
        /// One line per system.
        lines: Vec<Samples>,
    },
    /// A matrix.
    Heatmap {
        /// Colour-bar description.
        label: String,
        /// Rows.
        rows: Vec<Vec<f64>>,
    },
    /// Spans of one trace.
    Gantt {
        /// Lane names, top to bottom.
        lanes: Vec<String>,
        /// (lane, start us, end us, category).
        spans: Vec<(usize, f64, f64, String)>,
    },
}

/// The pooled samples of one system, for a CDF.
#[derive(Clone, Debug, PartialEq)]
pub struct Samples {
    /// Legend label.
    pub label: String,
    /// The system's position in the config's `systems` (its colour and marker).
    pub slot: usize,
    /// The samples, sorted.
    pub values: Vec<f64>,
}

/// A plot ready to draw.
#[derive(Clone, Debug, PartialEq)]
pub struct Chart {
    /// Title.
    pub title: String,
    /// Caption under the plot: which runs it shows.
    pub caption: String,
    /// Data.
    pub data: PlotData,
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
    let all = plan
        .kind
        .info()
        .metrics
        .iter()
        .chain(plan.kind.info().series)
        .chain(plan.kind.info().matrices);
    let Some(d) = all.into_iter().find(|d| d.name == metric) else {
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
fn format_of(plan: &Plan, metric: &str) -> AxisFormat {
    match plan.kind.info().metrics.iter().find(|d| d.name == metric) {
        Some(d) if d.unit == "s" => AxisFormat::Seconds,
        _ => AxisFormat::Plain,
    }
}

fn plot_path(i: usize, field: &str) -> Path {
    Path(vec![
        Seg::Key("report".into()),
        Seg::Key("plots".into()),
        Seg::Index(i),
        Seg::Key(field.into()),
    ])
}

/// Checks every plot of the config against the kind and the sweep.
pub fn check_plots(plan: &Plan) -> Result<(), ConfigError> {
    let loaded = &plan.loaded;
    for (i, p) in plan.loaded.config.report.plots.iter().enumerate() {
        let err = |field: &str, m: String| loaded.error_at(&plot_path(i, field), &[], m);
        let need = |field: &str, v: &Option<String>, valid: &[&str]| -> Result<(), ConfigError> {
            match v {
                None => Err(err(
                    "type",
                    format!("a {:?} plot needs `{field}:` (one of: {})", p.kind, valid.join(", "))
                        .to_lowercase(),
                )),
                Some(name) if !valid.contains(&name.as_str()) => Err(err(
                    field,
                    format!(
                        "unknown {field} `{name}`{}; valid: {}",
                        simcore::names::did_you_mean(name, valid.iter().copied()),
                        valid.join(", ")
                    ),
                )),
                _ => Ok(()),
            }
        };
        let metrics: Vec<&str> = plan.kind.info().metrics.iter().map(|d| d.name).collect();
        let axes: Vec<&str> = plan.axes.iter().map(String::as_str).collect();
        match p.kind {
            PlotType::Line => {
                need("metric", &p.metric, &metrics)?;
                if axes.is_empty() {
                    return Err(err(
                        "type",
                        "a line plot needs a sweep axis; this experiment sweeps nothing (use bars)"
                            .into(),
                    ));
                }
                need("x", &p.x, &axes)?;
                if p.x_metric.is_some() {
                    need("x_metric", &p.x_metric, &metrics)?;
                }
            }
            PlotType::Bars => need("metric", &p.metric, &metrics)?,
            PlotType::Cdf => {
                let series: Vec<&str> = plan.kind.info().series.iter().map(|d| d.name).collect();
                need("series", &p.series, &series)?;
            }
            PlotType::Series => {
                let series: Vec<&str> = plan.kind.info().series.iter().map(|d| d.name).collect();
                need("series", &p.series, &series)?;
                if p.x_series.is_some() {
                    need("x_series", &p.x_series, &series)?;
                }
                if p.marks.is_some() {
                    need("marks", &p.marks, &series)?;
                }
            }
            PlotType::Heatmap => {
                let matrices: Vec<&str> =
                    plan.kind.info().matrices.iter().map(|d| d.name).collect();
                need("matrix", &p.matrix, &matrices)?;
            }
            PlotType::Gantt => {}
        }
        for (k, v) in &p.filter {
            if !axes.contains(&k.as_str()) {
                return Err(err(
                    "where",
                    format!(
                        "`{k}` is not a sweep axis{}; axes: {}",
                        simcore::names::did_you_mean(k, axes.iter().copied()),
                        axes.join(", ")
                    ),
                ));
            }
            if !plan.points.iter().any(|pt| pt.params.get(k).is_some_and(|x| loosely_equal(x, v))) {
                return Err(err("where", format!("no point has {k} = {}", plain(v))));
            }
        }
        if let Some(s) = &p.system {
            let names: Vec<&str> =
                plan.loaded.config.systems.iter().map(|s| s.name.as_str()).collect();
            if !names.contains(&s.as_str()) {
                return Err(err(
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
            return Err(err("where", "no run matches this plot's where/system/seed".into()));
        }
    }
    Ok(())
}

fn point_label(params: &serde_json::Map<String, Value>, skip: &[&str]) -> String {
    let parts: Vec<String> = params
        .iter()
        .filter(|(k, _)| !skip.contains(&k.as_str()))
        .map(|(k, v)| format!("{k}={}", plain(v)))
        .collect();
    if parts.is_empty() { "all".into() } else { parts.join(", ") }
}

fn title_of(p: &PlotSpec) -> String {
    if let Some(t) = &p.title {
        return t.clone();
    }
    match p.kind {
        PlotType::Line => {
            format!("{} vs {}", p.metric.as_deref().unwrap_or(""), p.x.as_deref().unwrap_or(""))
        }
        PlotType::Bars => format!("{} by system", p.metric.as_deref().unwrap_or("")),
        PlotType::Cdf => format!("CDF of {}", p.series.as_deref().unwrap_or("")),
        PlotType::Series => match &p.x_series {
            Some(x) => format!("{} vs {x}", p.series.as_deref().unwrap_or("")),
            None => format!("{} per iteration", p.series.as_deref().unwrap_or("")),
        },
        PlotType::Heatmap => p.matrix.clone().unwrap_or_default(),
        PlotType::Gantt => "Execution trace".into(),
    }
}

fn filter_caption(p: &PlotSpec) -> String {
    if p.filter.is_empty() && p.system.is_none() && p.seed.is_none() {
        return "all points, systems and seeds".into();
    }
    let mut parts: Vec<String> =
        p.filter.iter().map(|(k, v)| format!("{k} = {}", plain(v))).collect();
    if let Some(s) = &p.system {
        parts.push(format!("system {s}"));
    }
    if let Some(s) = p.seed {
        parts.push(format!("seed {s}"));
    }
    parts.join(", ")
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
    let mut caption = filter_caption(p);
    let data = match p.kind {
        PlotType::Line | PlotType::Bars => {
            let metric = p.metric.clone().unwrap_or_default();
            let owned: Vec<RunRecord> = selected.iter().map(|r| (*r).clone()).collect();
            let all_rows = summarize(plan, &owned);
            // Line plots over a metric: the x metric's mean per (point, system).
            let x_means: BTreeMap<(usize, String), f64> = match &p.x_metric {
                Some(xm) => all_rows
                    .iter()
                    .filter(|r| &r.metric == xm)
                    .map(|r| ((r.point, r.system.clone()), r.mean))
                    .collect(),
                None => BTreeMap::new(),
            };
            let rows: Vec<SummaryRow> =
                all_rows.into_iter().filter(|r| r.metric == metric).collect();
            if p.kind == PlotType::Line {
                let x_axis = p.x.clone().unwrap_or_default();
                let mut skip = where_keys.clone();
                skip.push(&x_axis);
                // Axes zipped with x vary with it: they label x, not separate lines.
                let partners: Vec<&str> = plan.loaded.config.sweep.zip_partners(&x_axis);
                skip.extend(partners.iter().copied());
                // Axes with one value among the plotted runs do not tell lines apart.
                for a in &plan.axes {
                    let mut values: Vec<String> =
                        rows.iter().filter_map(|r| r.params.get(a)).map(plain).collect();
                    values.sort();
                    values.dedup();
                    if values.len() < 2 {
                        skip.push(a);
                    }
                }
                let xs: Vec<&Value> =
                    plan.points.iter().filter_map(|pt| pt.params.get(&x_axis)).collect();
                let numeric_xs: Option<Vec<(f64, AxisFormat)>> =
                    xs.iter().map(|v| numeric(v)).collect();
                let (x_format, categories) = match (&p.x_metric, &numeric_xs) {
                    (Some(xm), _) => (format_of(plan, xm), None),
                    (None, Some(n)) => {
                        (n.first().map(|(_, f)| *f).unwrap_or(AxisFormat::Plain), None)
                    }
                    (None, None) => {
                        let mut cats: Vec<String> = Vec::new();
                        for v in &xs {
                            let s = plain(v);
                            if !cats.contains(&s) {
                                cats.push(s);
                            }
                        }
                        (AxisFormat::Plain, Some(cats))
                    }
                };
                // Each point with its position along the sweep axis, which orders a line drawn
                // over a metric (`x_metric`); other lines are ordered by x.
                type Ordered = (String, Vec<(f64, (f64, f64, f64))>);
                let mut lines: BTreeMap<(usize, String), Ordered> = BTreeMap::new();
                for r in &rows {
                    let Some(xv) = r.params.get(&x_axis) else { continue };
                    let along = match &categories {
                        Some(c) => c.iter().position(|s| *s == plain(xv)).unwrap_or(0) as f64,
                        None => numeric(xv).map(|(x, _)| x).unwrap_or(0.0),
                    };
                    let x = match &p.x_metric {
                        Some(_) => match x_means.get(&(r.point, r.system.clone())) {
                            Some(&x) => x,
                            None => continue,
                        },
                        None => along,
                    };
                    let rest = point_label(&r.params, &skip);
                    let label = if rest == "all" {
                        r.system.clone()
                    } else {
                        format!("{}, {rest}", r.system)
                    };
                    let order = plan
                        .loaded
                        .config
                        .systems
                        .iter()
                        .position(|s| s.name == r.system)
                        .unwrap_or(0);
                    let sort_key = if p.x_metric.is_some() { along } else { x };
                    lines
                        .entry((order, label.clone()))
                        .or_insert_with(|| (label, Vec::new()))
                        .1
                        .push((sort_key, (x, r.mean, r.ci95)));
                }
                let mut variants: BTreeMap<usize, usize> = BTreeMap::new();
                let lines: Vec<Line> = lines
                    .into_iter()
                    .map(|((slot, _), (label, mut points))| {
                        points.sort_by(|a, b| a.0.total_cmp(&b.0));
                        let v = variants.entry(slot).or_insert(0);
                        let variant = *v;
                        *v += 1;
                        let points = points.into_iter().map(|p| p.1).collect();
                        Line { label, slot, variant, points }
                    })
                    .collect();
                let x_label = if let Some(xm) = &p.x_metric {
                    format!("{} (along {x_axis})", describe(plan, xm))
                } else if partners.is_empty() {
                    x_axis
                } else {
                    format!("{x_axis} (with {})", partners.join(", "))
                };
                PlotData::Lines {
                    x_label,
                    y_label: describe(plan, &metric),
                    y_format: format_of(plan, &metric),
                    x_format,
                    x_categories: categories,
                    log_x: p.log_x,
                    log_y: p.log_y,
                    lines,
                    marks: None,
                    round_x_ticks: p.x_metric.is_some(),
                }
            } else {
                let (slots, systems): (Vec<usize>, Vec<String>) = plan
                    .loaded
                    .config
                    .systems
                    .iter()
                    .map(|s| s.name.clone())
                    .enumerate()
                    .filter(|(_, s)| p.system.as_ref().is_none_or(|x| x == s))
                    .unzip();
                let mut groups: Vec<(usize, String)> = Vec::new();
                for r in &rows {
                    if !groups.iter().any(|(i, _)| *i == r.point) {
                        groups.push((r.point, point_label(&r.params, &where_keys)));
                    }
                }
                let values = groups
                    .iter()
                    .map(|(pt, _)| {
                        systems
                            .iter()
                            .map(|s| {
                                rows.iter()
                                    .find(|r| r.point == *pt && &r.system == s)
                                    .map(|r| (r.mean, r.ci95))
                            })
                            .collect()
                    })
                    .collect();
                PlotData::Bars {
                    y_label: describe(plan, &metric),
                    y_format: format_of(plan, &metric),
                    log_y: p.log_y,
                    groups: groups.into_iter().map(|(_, l)| l).collect(),
                    systems,
                    slots,
                    values,
                }
            }
        }
        PlotType::Cdf => {
            let name = p.series.clone().unwrap_or_default();
            let mut lines: Vec<Samples> = Vec::new();
            for (slot, s) in plan.loaded.config.systems.iter().enumerate() {
                let mut samples: Vec<f64> = selected
                    .iter()
                    .filter(|r| r.system == s.name)
                    .filter_map(|r| r.series.get(&name))
                    .flatten()
                    .copied()
                    .filter(|x| x.is_finite())
                    .collect();
                if samples.is_empty() {
                    continue;
                }
                samples.sort_by(f64::total_cmp);
                lines.push(Samples { label: s.name.clone(), slot, values: samples });
            }
            if lines.is_empty() {
                return Err(plot_err(format!("the selected runs have no `{name}` samples")));
            }
            PlotData::Cdf { x_label: describe(plan, &name), log_x: p.log_x, lines }
        }
        PlotType::Series => {
            let name = p.series.clone().unwrap_or_default();
            let mut lines = Vec::new();
            for (slot, s) in plan.loaded.config.systems.iter().enumerate() {
                let Some(r) = selected.iter().find(|r| r.system == s.name) else { continue };
                let Some(ys) = r.series.get(&name) else { continue };
                let xs: Vec<f64> = match &p.x_series {
                    Some(x) => r.series.get(x).cloned().unwrap_or_default(),
                    None => (1..=ys.len()).map(|i| i as f64).collect(),
                };
                let points: Vec<(f64, f64, f64)> = xs
                    .iter()
                    .zip(ys)
                    .filter(|(x, y)| x.is_finite() && y.is_finite())
                    .map(|(&x, &y)| (x, y, 0.0))
                    .collect();
                if !points.is_empty() {
                    let label = format!("{} (seed {})", s.name, r.seed);
                    lines.push(Line { label, slot, variant: 0, points });
                }
            }
            if lines.is_empty() {
                return Err(plot_err(format!("the selected runs have no `{name}` series")));
            }
            let x_label = match &p.x_series {
                Some(x) => describe(plan, x),
                None => "iteration".into(),
            };
            // Marks: where the marks series of the first selected run rises.
            let marks = p.marks.as_ref().map(|m| {
                let r = selected[0];
                let ys = r.series.get(m).cloned().unwrap_or_default();
                let xs: Vec<f64> = match &p.x_series {
                    Some(x) => r.series.get(x).cloned().unwrap_or_default(),
                    None => (1..=ys.len()).map(|i| i as f64).collect(),
                };
                let at = ys
                    .iter()
                    .enumerate()
                    .filter(|&(i, y)| *y > if i == 0 { 0.0 } else { ys[i - 1] })
                    .filter_map(|(i, _)| xs.get(i).copied())
                    .filter(|x| x.is_finite())
                    .collect::<Vec<f64>>();
                (format!("{m} rises"), at)
            });
            let x_format = match &p.x_series {
                Some(x) if plan.kind.info().series.iter().any(|d| d.name == x && d.unit == "s") => {
                    AxisFormat::Seconds
                }
                _ => AxisFormat::Plain,
            };
            PlotData::Lines {
                x_label,
                y_label: describe(plan, &name),
                y_format: AxisFormat::Plain,
                x_format,
                x_categories: None,
                log_x: p.log_x,
                log_y: p.log_y,
                lines,
                marks,
                round_x_ticks: false,
            }
        }
        PlotType::Heatmap => {
            let name = p.matrix.clone().unwrap_or_default();
            let r = selected[0];
            let rows = r
                .matrices
                .get(&name)
                .cloned()
                .ok_or_else(|| plot_err(format!("run {} has no matrix `{name}`", r.run)))?;
            caption = format!("{} / {} / seed {}", point_label(&r.params, &[]), r.system, r.seed);
            PlotData::Heatmap { label: describe(plan, &name), rows }
        }
        PlotType::Gantt => {
            let r = selected[0];
            caption = format!("{} / {} / seed {}", point_label(&r.params, &[]), r.system, r.seed);
            gantt_data(&dir.trace_file(&r.key)).map_err(plot_err)?
        }
    };
    Ok(Chart { title, caption, data })
}

/// Lanes and spans of a Chrome trace file written by simcore.
fn gantt_data(path: &FsPath) -> Result<PlotData, String> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        format!("{}: {e} (re-run the experiment to record its trace)", path.display())
    })?;
    let v: Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: not a trace: {e}", path.display()))?;
    let events =
        v["traceEvents"].as_array().ok_or_else(|| format!("{}: no traceEvents", path.display()))?;
    let mut names: BTreeMap<(u64, u64), String> = BTreeMap::new();
    let mut used: BTreeMap<(u64, u64), ()> = BTreeMap::new();
    for e in events {
        let lane = (e["pid"].as_u64().unwrap_or(0), e["tid"].as_u64().unwrap_or(0));
        match e["ph"].as_str() {
            Some("M") if e["name"] == "thread_name" => {
                names.insert(lane, e["args"]["name"].as_str().unwrap_or("").to_string());
            }
            Some("X") => {
                used.insert(lane, ());
            }
            _ => {}
        }
    }
    let lanes: Vec<(u64, u64)> = used.keys().copied().collect();
    let mut spans = Vec::new();
    for e in events.iter().filter(|e| e["ph"] == "X") {
        let lane = (e["pid"].as_u64().unwrap_or(0), e["tid"].as_u64().unwrap_or(0));
        let idx = lanes.iter().position(|l| *l == lane).unwrap_or(0);
        let start = e["ts"].as_f64().unwrap_or(0.0);
        let end = start + e["dur"].as_f64().unwrap_or(0.0);
        spans.push((idx, start, end, e["cat"].as_str().unwrap_or("").to_string()));
    }
    let lanes = lanes
        .iter()
        .map(|l| names.get(l).cloned().unwrap_or_else(|| format!("{}/{}", l.0, l.1)))
        .collect();
    Ok(PlotData::Gantt { lanes, spans })
}
