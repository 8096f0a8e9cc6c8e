//! `type: bars` — a metric per point, one bar per system, with 95% CIs.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::error::ConfigError;
use crate::report::axes::{e, fmt_value, legend, legend_text, padded, tx};
use crate::report::font::FAMILY;
use crate::report::marks::color;
use crate::report::plot::{
    AxisFormat, BuildCtx, CheckCtx, Draw, Figure, PlotKind, describe, format_of, point_label,
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
    /// Group (point) labels.
    groups: Vec<String>,
    /// System labels.
    systems: Vec<String>,
    /// Each system's position in the config's `systems` (its colour).
    slots: Vec<usize>,
    /// `[group][system]` = (mean, ci95).
    values: Vec<Vec<Option<(f64, f64)>>>,
}

impl PlotKind for BarsPlot {
    fn check(&self, p: &PlotSpec, ctx: &CheckCtx<'_>) -> Result<(), ConfigError> {
        ctx.need(p, "metric", &p.metric, &ctx.metrics())
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
                .unzip();
            let mut groups: Vec<(usize, String)> = Vec::new();
            for r in &rows {
                if !groups.iter().any(|(i, _)| *i == r.point) {
                    groups.push((r.point, point_label(&r.params, where_keys)));
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
            BarsFigure {
                y_label: describe(plan, &metric),
                y_format: format_of(plan, &metric),
                log_y: p.log_y,
                groups: groups.into_iter().map(|(_, l)| l).collect(),
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
        let BarsFigure { y_label, y_format, log_y, groups, systems, slots, values } = self;
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
            .x_label_area_size(56)
            .y_label_area_size(78)
            .build_cartesian_2d(0f64..n, y0..y1)
            .map_err(e)?;
        let y_fmt = |y: &f64| fmt_value(if *log_y { 10f64.powf(*y) } else { *y }, *y_format);
        let none = |_: &f64| String::new();
        c.configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .x_label_formatter(&none)
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
        for (g, label) in groups.iter().enumerate() {
            let (px, py) = c.backend_coord(&(g as f64 + 0.5, y0));
            main.draw_text(label, &style, (px, py + 8)).map_err(e)?;
        }
        Ok(())
    }
}
