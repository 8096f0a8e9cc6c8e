//! `type: heatmap` — a matrix of the first matching run as a colour map (viridis).

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::error::ConfigError;
use crate::report::axes::{e, trim_num};
use crate::report::font::FAMILY;
use crate::report::plot::{BuildCtx, CheckCtx, Draw, Figure, PlotKind, describe, point_label};
use crate::report::spec::PlotSpec;

/// The heatmap plot.
pub struct HeatmapPlot;

/// A matrix.
#[derive(Clone, Debug, PartialEq)]
pub struct HeatmapFigure {
    /// Colour-bar description.
    label: String,
    /// Rows.
    rows: Vec<Vec<f64>>,
}

impl PlotKind for HeatmapPlot {
    fn check(&self, p: &PlotSpec, ctx: &CheckCtx<'_>) -> Result<(), ConfigError> {
        let matrices: Vec<&str> = ctx.plan.kind.info().matrices.iter().map(|d| d.name).collect();
        ctx.need(p, "matrix", &p.matrix, &matrices)
    }

    fn default_title(&self, p: &PlotSpec) -> String {
        p.matrix.clone().unwrap_or_default()
    }

    fn build(&self, p: &PlotSpec, ctx: &mut BuildCtx<'_>) -> Result<Box<dyn Figure>, String> {
        let plan = ctx.plan;
        let selected = &ctx.selected;
        let figure = {
            let name = p.matrix.clone().unwrap_or_default();
            let r = selected[0];
            let rows = r
                .matrices
                .get(&name)
                .cloned()
                .ok_or_else(|| format!("run {} has no matrix `{name}`", r.run))?;
            ctx.caption =
                format!("{} / {} / seed {}", point_label(&r.params, &[]), r.system, r.seed);
            HeatmapFigure { label: describe(plan, &name), rows }
        };
        Ok(Box::new(figure))
    }
}

impl Draw for HeatmapFigure {
    fn draw<DB: DrawingBackend>(
        &self,
        main: &DrawingArea<DB, Shift>,
        title: &str,
    ) -> Result<(), String> {
        let HeatmapFigure { label, rows } = self;
        let (w, _) = main.dim_in_pixel();
        let (plot, bar) = main.split_horizontally(w - 110);
        let nr = rows.len().max(1);
        let nc = rows.iter().map(Vec::len).max().unwrap_or(1).max(1);
        let vmin = rows.iter().flatten().copied().fold(f64::INFINITY, f64::min);
        let vmax = rows.iter().flatten().copied().fold(f64::NEG_INFINITY, f64::max);
        let (vmin, vmax) =
            if vmin.is_finite() && vmax > vmin { (vmin, vmax) } else { (0.0, vmax.max(1.0)) };
        let mut c = ChartBuilder::on(&plot)
            .caption(title, (FAMILY, 22))
            .margin(14)
            .x_label_area_size(48)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..nc as f64, 0f64..nr as f64)
            .map_err(e)?;
        let x_fmt =
            |x: &f64| if x.fract() == 0.0 { format!("{}", *x as i64) } else { String::new() };
        let y_fmt = |y: &f64| {
            if y.fract() == 0.0 { format!("{}", nr as i64 - *y as i64) } else { String::new() }
        };
        c.configure_mesh()
            .disable_mesh()
            .x_desc("column")
            .y_desc("row")
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&y_fmt)
            .axis_desc_style((FAMILY, 15))
            .label_style((FAMILY, 13))
            .draw()
            .map_err(e)?;
        c.draw_series(rows.iter().enumerate().flat_map(|(i, row)| {
            row.iter().enumerate().map(move |(j, &v)| {
                let y = (nr - 1 - i) as f64;
                Rectangle::new(
                    [(j as f64, y), (j as f64 + 1.0, y + 1.0)],
                    viridis((v - vmin) / (vmax - vmin)).filled(),
                )
            })
        }))
        .map_err(e)?;
        // Colour bar.
        let (bw, bh) = bar.dim_in_pixel();
        let top = 60;
        let bottom = bh as i32 - 60;
        for k in 0..100 {
            let f = k as f64 / 99.0;
            let y = bottom - ((bottom - top) as f64 * f) as i32;
            bar.draw(&Rectangle::new([(20, y - 3), (44, y + 3)], viridis(f).filled()))
                .map_err(e)?;
        }
        let style =
            TextStyle::from((FAMILY, 12).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
        bar.draw_text(&trim_num(vmax), &style, (50, top)).map_err(e)?;
        bar.draw_text(&trim_num(vmin), &style, (50, bottom)).map_err(e)?;
        let lstyle =
            TextStyle::from((FAMILY, 12).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
        bar.draw_text(label, &lstyle, ((bw / 2) as i32, bottom + 14)).map_err(e)?;
        Ok(())
    }
}

/// The viridis colour map (matplotlib's), by linear interpolation between nine samples.
fn viridis(f: f64) -> RGBColor {
    const STOPS: [(u8, u8, u8); 9] = [
        (68, 1, 84),
        (71, 44, 122),
        (59, 81, 139),
        (44, 113, 142),
        (33, 144, 141),
        (39, 173, 129),
        (92, 200, 99),
        (170, 220, 50),
        (253, 231, 37),
    ];
    let f = if f.is_finite() { f.clamp(0.0, 1.0) } else { 0.0 };
    let x = f * (STOPS.len() - 1) as f64;
    let i = (x.floor() as usize).min(STOPS.len() - 2);
    let t = x - i as f64;
    let lerp = |a: u8, b: u8| (a as f64 + t * (b as f64 - a as f64)).round() as u8;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    RGBColor(lerp(a.0, b.0), lerp(a.1, b.1), lerp(a.2, b.2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viridis_ends() {
        assert_eq!(viridis(0.0), RGBColor(68, 1, 84));
        assert_eq!(viridis(1.0), RGBColor(253, 231, 37));
    }
}
