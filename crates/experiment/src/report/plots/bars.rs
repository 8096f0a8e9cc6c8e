//! `type: bars` — a metric per point, one bar per system, with 95% CIs.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::error::ConfigError;
use crate::plan::plain;
use crate::report::axes::{e, fmt_value, legend, legend_text, padded, tx};
use crate::report::font::FAMILY;
use crate::report::marks::color;
use crate::report::plot::{
    AxisFormat, BuildCtx, CheckCtx, Draw, Figure, PlotKind, describe, format_of,
};
use crate::report::spec::PlotSpec;
use crate::store::RunRecord;
use crate::summary::{SummaryRow, summarize};

/// The bar plot.
pub struct BarsPlot;

/// Bars per point and system.
#[derive(Clone, Debug, PartialEq)]
pub struct BarsFigure {
    /// y axis description.
    y_label: String,
    /// Number format of y.
    y_format: AxisFormat,
    /// log10 y.
    log_y: bool,
    /// Group (point) labels, one line per varying sweep axis.
    groups: Vec<Vec<String>>,
    /// The x axis description: the sweep axis when only one varies between groups.
    x_label: Option<String>,
    /// System labels.
    systems: Vec<String>,
    /// Each system's position in the config's `systems` (its colour).
    slots: Vec<usize>,
    /// `[group][system]` = (mean, ci95).
    values: Vec<Vec<Option<(f64, f64)>>>,
}

impl PlotKind for BarsPlot {
    fn check(&self, p: &PlotSpec, ctx: &CheckCtx<'_>) -> Result<(), ConfigError> {
        ctx.need(p, "metric", &p.metric, &ctx.metrics())?;
        if p.normalize_to.is_some() {
            let names: Vec<&str> =
                ctx.plan.loaded.config.systems.iter().map(|s| s.name.as_str()).collect();
            ctx.need(p, "normalize_to", &p.normalize_to, &names)?;
        }
        Ok(())
    }

    fn default_title(&self, p: &PlotSpec) -> String {
        format!("{} by system", p.metric.as_deref().unwrap_or(""))
    }

    fn build(&self, p: &PlotSpec, ctx: &mut BuildCtx<'_>) -> Result<Box<dyn Figure>, String> {
        let plan = ctx.plan;
        let selected = &ctx.selected;
        let where_keys = &ctx.where_keys;
        let figure = {
            let metric = p.metric.clone().unwrap_or_default();
            let owned: Vec<RunRecord> = selected.iter().map(|r| (*r).clone()).collect();
            let rows: Vec<SummaryRow> =
                summarize(plan, &owned).into_iter().filter(|r| r.metric == metric).collect();
            let (slots, systems): (Vec<usize>, Vec<String>) = plan
                .loaded
                .config
                .systems
                .iter()
                .map(|s| s.name.clone())
                .enumerate()
                .filter(|(_, s)| p.system.as_ref().is_none_or(|x| x == s))
                .filter(|(_, s)| p.systems.is_empty() || p.systems.contains(s))
                .unzip();
            let mut groups: Vec<(usize, &serde_json::Map<String, serde_json::Value>)> = Vec::new();
            for r in &rows {
                if !groups.iter().any(|(i, _)| *i == r.point) {
                    groups.push((r.point, &r.params));
                }
            }
            let (labels, x_label) =
                group_labels(&groups.iter().map(|(_, p)| *p).collect::<Vec<_>>(), where_keys);
            let values = groups
                .iter()
                .map(|(pt, _)| {
                    // The reference system's mean at this point, when normalising.
                    let base = p.normalize_to.as_ref().map(|b| {
                        rows.iter()
                            .find(|r| r.point == *pt && &r.system == b)
                            .map(|r| r.mean)
                            .filter(|m| *m != 0.0 && m.is_finite())
                    });
                    systems
                        .iter()
                        .map(|s| {
                            let v = rows
                                .iter()
                                .find(|r| r.point == *pt && &r.system == s)
                                .map(|r| (r.mean, r.ci95));
                            match base {
                                None => v,
                                Some(Some(b)) => v.map(|(m, ci)| (m / b, ci / b.abs())),
                                Some(None) => None,
                            }
                        })
                        .collect()
                })
                .collect();
            let (y_label, y_format) = match &p.normalize_to {
                None => (describe(plan, &metric), format_of(plan, &metric)),
                Some(b) => (format!("{} / {b}", describe(plan, &metric)), AxisFormat::Plain),
            };
            BarsFigure {
                y_label,
                y_format,
                log_y: p.log_y,
                groups: labels,
                x_label,
                systems,
                slots,
                values,
            }
        };
        Ok(Box::new(figure))
    }
}

impl Draw for BarsFigure {
    fn draw<DB: DrawingBackend>(
        &self,
        main: &DrawingArea<DB, Shift>,
        title: &str,
    ) -> Result<(), String> {
        let BarsFigure { y_label, x_label, y_format, log_y, groups, systems, slots, values } = self;
        let tops = values.iter().flatten().flatten().map(|(m, ci)| tx(m + ci, *log_y));
        let bottoms = values
            .iter()
            .flatten()
            .flatten()
            .map(|(m, ci)| tx((m - ci).max(f64::MIN_POSITIVE), *log_y));
        let (y0, y1) = padded(
            bottoms.fold(f64::INFINITY, f64::min),
            tops.fold(f64::NEG_INFINITY, f64::max),
            !log_y,
        );
        // Headroom for the legend above the tallest bar.
        let y1 = y1 + 0.2 * (y1 - y0);
        let n = groups.len().max(1) as f64;
        let mut c = ChartBuilder::on(main)
            .caption(title, (FAMILY, 22))
            .margin(14)
            .x_label_area_size(if x_label.is_some() { 64 } else { 56 })
            .y_label_area_size(78)
            .build_cartesian_2d(0f64..n, y0..y1)
            .map_err(e)?;
        let y_fmt = |y: &f64| fmt_value(if *log_y { 10f64.powf(*y) } else { *y }, *y_format);
        let none = |_: &f64| String::new();
        c.configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .x_label_formatter(&none)
            .x_desc(x_label.as_deref().unwrap_or(""))
            .y_desc(y_label.as_str())
            .y_label_formatter(&y_fmt)
            .axis_desc_style((FAMILY, 15))
            .label_style((FAMILY, 13))
            .draw()
            .map_err(e)?;
        let k = systems.len().max(1) as f64;
        let width = 0.8 / k;
        for (si, s) in systems.iter().enumerate() {
            let col = color(slots.get(si).copied().unwrap_or(si));
            let bars: Vec<(f64, f64, f64)> = values
                .iter()
                .enumerate()
                .filter_map(|(g, row)| {
                    row.get(si)
                        .copied()
                        .flatten()
                        .map(|(m, ci)| (g as f64 + 0.1 + width * si as f64, m, ci))
                })
                .collect();
            c.draw_series(bars.iter().map(|&(x, m, _)| {
                Rectangle::new(
                    [(x, if *log_y { y0 } else { 0.0 }), (x + width * 0.92, tx(m, *log_y))],
                    col.filled(),
                )
            }))
            .map_err(e)?
            .label(legend_text(s))
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], col.filled()));
            c.draw_series(bars.iter().filter(|b| b.2 > 0.0).map(|&(x, m, ci)| {
                let xc = x + width * 0.46;
                ErrorBar::new_vertical(
                    xc,
                    tx((m - ci).max(f64::MIN_POSITIVE), *log_y),
                    tx(m, *log_y),
                    tx(m + ci, *log_y),
                    BLACK.stroke_width(1),
                    6,
                )
            }))
            .map_err(e)?;
        }
        legend(&mut c, SeriesLabelPosition::UpperRight)?;
        let style =
            TextStyle::from((FAMILY, 12).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
        let slot_px = {
            let (a, _) = c.backend_coord(&(0.0, y0));
            let (b, _) = c.backend_coord(&(1.0, y0));
            (b - a).max(1)
        };
        for (g, lines) in groups.iter().enumerate() {
            let (px, py) = c.backend_coord(&(g as f64 + 0.5, y0));
            for (i, line) in lines.iter().enumerate() {
                let text = fit(line, slot_px);
                main.draw_text(&text, &style, (px, py + 8 + 14 * i as i32)).map_err(e)?;
            }
        }
        Ok(())
    }
}

/// One label per group from its sweep parameters (less the plot's `where` keys and any key
/// equal in every group): just the value when a single axis varies (that axis names the x
/// axis), else `key=value` lines, one per varying axis.
fn group_labels(
    params: &[&serde_json::Map<String, serde_json::Value>],
    skip: &[&str],
) -> (Vec<Vec<String>>, Option<String>) {
    let mut varying: Vec<&str> = Vec::new();
    for p in params {
        for k in p.keys() {
            if skip.contains(&k.as_str()) || varying.contains(&k.as_str()) {
                continue;
            }
            if params.iter().any(|q| q.get(k) != p.get(k)) {
                varying.push(k);
            }
        }
    }
    let value = |p: &serde_json::Map<String, serde_json::Value>, k: &str| {
        p.get(k).map(plain).unwrap_or_else(|| "-".into())
    };
    match varying.as_slice() {
        [] => (params.iter().map(|_| vec!["all".to_string()]).collect(), None),
        [k] => (params.iter().map(|p| vec![value(p, k)]).collect(), Some(k.to_string())),
        keys => (
            params
                .iter()
                .map(|p| keys.iter().map(|k| format!("{k}={}", value(p, k))).collect())
                .collect(),
            None,
        ),
    }
}

/// `text` cut with an ellipsis to about `px` pixels of 12-point type (7 px a character).
fn fit(text: &str, px: i32) -> String {
    let max = ((px - 4) / 7).max(3) as usize;
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let cut: String = text.chars().take(max - 1).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Map, Value, json};

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn one_varying_axis_labels_by_value_and_names_the_axis() {
        let a = map(json!({"workload.requests": "shared", "seeds": 1}));
        let b = map(json!({"workload.requests": "chat", "seeds": 1}));
        let (labels, x) = group_labels(&[&a, &b], &[]);
        assert_eq!(labels, vec![vec!["shared".to_string()], vec!["chat".to_string()]]);
        assert_eq!(x.as_deref(), Some("workload.requests"));
    }

    #[test]
    fn several_varying_axes_give_one_line_each() {
        let a = map(json!({"x": 1, "y": "a"}));
        let b = map(json!({"x": 2, "y": "b"}));
        let (labels, x) = group_labels(&[&a, &b], &["z"]);
        assert_eq!(labels[1], vec!["x=2".to_string(), "y=b".to_string()]);
        assert_eq!(x, None);
        assert_eq!(fit("abcdefghijklmnop", 60), "abcdefg…");
    }
}
