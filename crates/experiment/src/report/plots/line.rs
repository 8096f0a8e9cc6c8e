//! `type: line` — a metric over a sweep axis (or over another metric, `x_metric`), mean over
//! seeds per point with 95% CIs, one line per system and per value of the other axes.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::error::ConfigError;
use crate::plan::plain;
use crate::report::lines::{Line, LinesFigure};
use crate::report::plot::{
    AxisFormat, BuildCtx, CheckCtx, Figure, PlotKind, describe, format_of, numeric, point_label,
};
use crate::report::spec::PlotSpec;
use crate::store::RunRecord;
use crate::summary::{SummaryRow, summarize};

/// The line plot.
pub struct LinePlot;

impl PlotKind for LinePlot {
    fn check(&self, p: &PlotSpec, ctx: &CheckCtx<'_>) -> Result<(), ConfigError> {
        let metrics = ctx.metrics();
        ctx.need(p, "metric", &p.metric, &metrics)?;
        let axes: Vec<&str> = ctx.plan.axes.iter().map(String::as_str).collect();
        if axes.is_empty() {
            return Err(ctx.err(
                "type",
                "a line plot needs a sweep axis; this experiment sweeps nothing (use bars)".into(),
            ));
        }
        ctx.need(p, "x", &p.x, &axes)?;
        if p.x_metric.is_some() {
            ctx.need(p, "x_metric", &p.x_metric, &metrics)?;
        }
        Ok(())
    }

    fn default_title(&self, p: &PlotSpec) -> String {
        format!("{} vs {}", p.metric.as_deref().unwrap_or(""), p.x.as_deref().unwrap_or(""))
    }

    fn build(&self, p: &PlotSpec, ctx: &mut BuildCtx<'_>) -> Result<Box<dyn Figure>, String> {
        let plan = ctx.plan;
        let selected = &ctx.selected;
        let where_keys = &ctx.where_keys;
        let figure = {
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
                (None, Some(n)) => (n.first().map(|(_, f)| *f).unwrap_or(AxisFormat::Plain), None),
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
                let label =
                    if rest == "all" { r.system.clone() } else { format!("{}, {rest}", r.system) };
                let order =
                    plan.loaded.config.systems.iter().position(|s| s.name == r.system).unwrap_or(0);
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
            LinesFigure {
                x_label,
                y_label: describe(plan, &metric),
                y_format: format_of(plan, &metric),
                x_format,
                x_categories: categories,
                log_x: p.log_x,
                log_y: p.log_y,
                y_from_zero: p.y_from_zero,
                lines,
                marks: None,
                round_x_ticks: p.x_metric.is_some(),
            }
        };
        Ok(Box::new(figure))
    }
}
