//! `type: series` — a series of one run per system (per iteration, per window) against the
//! iteration or another series, with optional marks where a third series rises.

use crate::error::ConfigError;
use crate::report::lines::{Line, LinesFigure};
use crate::report::plot::{AxisFormat, BuildCtx, CheckCtx, Figure, PlotKind, describe};
use crate::report::spec::PlotSpec;

/// The series plot.
pub struct SeriesPlot;

impl PlotKind for SeriesPlot {
    fn check(&self, p: &PlotSpec, ctx: &CheckCtx<'_>) -> Result<(), ConfigError> {
        let series = ctx.series();
        ctx.need(p, "series", &p.series, &series)?;
        if p.x_series.is_some() {
            ctx.need(p, "x_series", &p.x_series, &series)?;
        }
        if p.marks.is_some() {
            ctx.need(p, "marks", &p.marks, &series)?;
        }
        Ok(())
    }

    fn default_title(&self, p: &PlotSpec) -> String {
        match &p.x_series {
            Some(x) => format!("{} vs {x}", p.series.as_deref().unwrap_or("")),
            None => format!("{} per iteration", p.series.as_deref().unwrap_or("")),
        }
    }

    fn build(&self, p: &PlotSpec, ctx: &mut BuildCtx<'_>) -> Result<Box<dyn Figure>, String> {
        let plan = ctx.plan;
        let selected = &ctx.selected;
        let figure = {
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
                return Err(format!("the selected runs have no `{name}` series"));
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
            LinesFigure {
                x_label,
                y_label: describe(plan, &name),
                y_format: AxisFormat::Plain,
                x_format,
                x_categories: None,
                log_x: p.log_x,
                log_y: p.log_y,
                y_from_zero: p.y_from_zero,
                lines,
                marks,
                round_x_ticks: false,
            }
        };
        Ok(Box::new(figure))
    }
}
