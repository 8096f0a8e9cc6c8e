//! `type: cdf` — the empirical CDF of a series' samples, one line per system, pooled over the
//! matching runs.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::ConfigError;
use crate::report::axes::{e, fmt_value, legend, padded, tx};
use crate::report::font::FAMILY;
use crate::report::marks::{LegendMark, Marker, color};
use crate::report::plot::{AxisFormat, BuildCtx, CheckCtx, Draw, Figure, PlotKind, describe};
use crate::report::spec::PlotSpec;

/// The CDF plot.
pub struct CdfPlot;

/// The pooled samples of one system.
#[derive(Clone, Debug, PartialEq)]
pub struct Samples {
    /// Legend label.
    pub label: String,
    /// The system's position in the config's `systems` (its colour and marker).
    pub slot: usize,
    /// The samples, sorted.
    pub values: Vec<f64>,
}

/// Empirical CDFs.
#[derive(Clone, Debug, PartialEq)]
pub struct CdfFigure {
    /// x axis description.
    x_label: String,
    /// log10 x.
    log_x: bool,
    /// One line per system.
    lines: Vec<Samples>,
}

impl PlotKind for CdfPlot {
    fn check(&self, p: &PlotSpec, ctx: &CheckCtx<'_>) -> Result<(), ConfigError> {
        ctx.need(p, "series", &p.series, &ctx.series())
    }

    fn default_title(&self, p: &PlotSpec) -> String {
        format!("CDF of {}", p.series.as_deref().unwrap_or(""))
    }

    fn build(&self, p: &PlotSpec, ctx: &mut BuildCtx<'_>) -> Result<Box<dyn Figure>, String> {
        let plan = ctx.plan;
        let selected = &ctx.selected;
        let figure = {
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
                return Err(format!("the selected runs have no `{name}` samples"));
            }
            CdfFigure { x_label: describe(plan, &name), log_x: p.log_x, lines }
        };
        Ok(Box::new(figure))
    }
}

impl Draw for CdfFigure {
    fn draw<DB: DrawingBackend>(
        &self,
        main: &DrawingArea<DB, Shift>,
        title: &str,
    ) -> Result<(), String> {
        let CdfFigure { x_label, log_x, lines } = self;
        let xs = lines.iter().flat_map(|l| l.values.iter().map(|&x| tx(x, *log_x)));
        let (x0, x1) = padded(
            xs.clone().fold(f64::INFINITY, f64::min),
            xs.fold(f64::NEG_INFINITY, f64::max),
            false,
        );
        let mut c = ChartBuilder::on(main)
            .caption(title, (FAMILY, 22))
            .margin(14)
            .x_label_area_size(48)
            .y_label_area_size(60)
            .build_cartesian_2d(x0..x1, 0f64..1.02)
            .map_err(e)?;
        let x_fmt =
            |x: &f64| fmt_value(if *log_x { 10f64.powf(*x) } else { *x }, AxisFormat::Plain);
        c.configure_mesh()
            .x_desc(x_label.as_str())
            .y_desc("fraction <= x")
            .x_label_formatter(&x_fmt)
            .axis_desc_style((FAMILY, 15))
            .label_style((FAMILY, 13))
            .draw()
            .map_err(e)?;
        for (i, Samples { label, slot, values: samples }) in lines.iter().enumerate() {
            let (slot, col) = (*slot, color(*slot));
            let n = samples.len() as f64;
            let mut pts = vec![(x0, 0.0)];
            for (k, &x) in samples.iter().enumerate() {
                let x = tx(x, *log_x);
                pts.push((x, k as f64 / n));
                pts.push((x, (k + 1) as f64 / n));
            }
            pts.push((x1, 1.0));
            c.draw_series(LineSeries::new(pts, col.stroke_width(2)))
                .map_err(e)?
                .label(label.as_str())
                .legend(move |at| LegendMark { at, slot, variant: 0, color: col });
            // Markers at ten quantiles, shifted per line so equal distributions stay
            // visible.
            let shift = (i as f64 + 1.0) / (lines.len() as f64 + 1.0);
            let at: Vec<(f64, f64)> = (0..10)
                .map(|j| (j as f64 + shift) / 10.0)
                .map(|q| {
                    let k = ((q * n).ceil() as usize).clamp(1, samples.len()) - 1;
                    (tx(samples[k], *log_x), q)
                })
                .collect();
            let size = (8 - i as i32).max(3);
            c.draw_series(at.into_iter().map(|at| Marker { at, slot, size, color: col }))
                .map_err(e)?;
        }
        legend(&mut c, SeriesLabelPosition::LowerRight)?;
        Ok(())
    }
}
