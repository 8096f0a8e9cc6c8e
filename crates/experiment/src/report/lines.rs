//! The lines figure, drawn by the line plot (a metric over a sweep axis) and the series plot (a
//! run's series over iterations or another series): lines with error bars, the sweep values
//! as ticks, optional event marks, each system in its colour and marker.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axes::{e, fmt_tick, fmt_value, least_crowded_corner, legend, legend_text, padded, tx};
use super::font::FAMILY;
use super::marks::{LegendMark, Marker, color, dash, marked};
use super::plot::{AxisFormat, Draw};

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

/// Lines over a numeric or categorical x axis.
#[derive(Clone, Debug, PartialEq)]
pub struct LinesFigure {
    /// x axis description.
    pub x_label: String,
    /// y axis description.
    pub y_label: String,
    /// Number format of y.
    pub y_format: AxisFormat,
    /// Number format of x.
    pub x_format: AxisFormat,
    /// Tick labels for a categorical x axis (x values are their positions), if not numeric.
    pub x_categories: Option<Vec<String>>,
    /// log10 x.
    pub log_x: bool,
    /// log10 y.
    pub log_y: bool,
    /// A linear y axis starts at zero.
    pub y_from_zero: bool,
    /// The lines.
    pub lines: Vec<Line>,
    /// x positions of event marks (vertical lines), with what they mark.
    pub marks: Option<(String, Vec<f64>)>,
    /// Round-number x ticks even when few x values occur (x is a metric, not a sweep).
    pub round_x_ticks: bool,
}

impl Draw for LinesFigure {
    fn draw<DB: DrawingBackend>(
        &self,
        main: &DrawingArea<DB, Shift>,
        title: &str,
    ) -> Result<(), String> {
        let LinesFigure {
            x_label,
            y_label,
            y_format,
            x_format,
            x_categories,
            log_x,
            log_y,
            y_from_zero,
            lines,
            marks,
            round_x_ticks,
        } = self;
        let all: Vec<(f64, f64, f64)> =
            lines.iter().flat_map(|l| l.points.iter().copied()).collect();
        let xs = all.iter().map(|p| tx(p.0, *log_x));
        let ys = all.iter().flat_map(|p| [tx(p.1 - p.2, *log_y), tx(p.1 + p.2, *log_y)]);
        let (x0, x1) = padded(
            xs.clone().fold(f64::INFINITY, f64::min),
            xs.fold(f64::NEG_INFINITY, f64::max),
            false,
        );
        let (y0, y1) = padded(
            ys.clone().fold(f64::INFINITY, f64::min),
            ys.fold(f64::NEG_INFINITY, f64::max),
            !log_y && *y_from_zero,
        );
        let mut c = ChartBuilder::on(main)
            .caption(title, (FAMILY, 22))
            .margin(14)
            .x_label_area_size(48)
            .y_label_area_size(78)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(e)?;
        // Label the x values that occur (at most 16 of them) instead of round numbers:
        // sweeps use few, meaningful values (1MiB, 16MiB, ...).
        let mut xs_seen: Vec<f64> = all.iter().map(|p| p.0).collect();
        xs_seen.sort_by(f64::total_cmp);
        xs_seen.dedup();
        let own_ticks = xs_seen.len() <= 16 && !round_x_ticks;
        let x_text = |x: f64| match x_categories {
            Some(cats) => cats.get(x.round().max(0.0) as usize).cloned().unwrap_or_default(),
            None => fmt_value(x, *x_format),
        };
        let x_fmt = |x: &f64| {
            if own_ticks {
                String::new()
            } else {
                match (x_categories, *log_x) {
                    (None, false) => fmt_tick(*x, *x_format, x1 - x0),
                    _ => x_text(if *log_x { 10f64.powf(*x) } else { *x }),
                }
            }
        };
        let y_fmt = |y: &f64| {
            if *log_y {
                fmt_value(10f64.powf(*y), *y_format)
            } else {
                fmt_tick(*y, *y_format, y1 - y0)
            }
        };
        c.configure_mesh()
            .x_desc(x_label.as_str())
            .y_desc(y_label.as_str())
            .x_labels(if own_ticks { 0 } else { 10 })
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&y_fmt)
            .axis_desc_style((FAMILY, 15))
            .label_style((FAMILY, 13))
            .draw()
            .map_err(e)?;
        if own_ticks {
            let style =
                TextStyle::from((FAMILY, 13).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
            for &x in &xs_seen {
                let (px, py) = c.backend_coord(&(tx(x, *log_x), y0));
                main.draw(&PathElement::new(vec![(px, py), (px, py + 5)], BLACK.stroke_width(1)))
                    .map_err(e)?;
                main.draw_text(&x_text(x), &style, (px, py + 8)).map_err(e)?;
            }
        }
        if let Some((label, at)) = marks {
            let mark = RGBColor(0xd6, 0x27, 0x28).mix(0.35);
            let (lo, hi) = (y0, y1);
            let xs: Vec<f64> = at.iter().map(|&x| tx(x, *log_x)).collect();
            c.draw_series(
                xs.iter().map(|&x| PathElement::new(vec![(x, lo), (x, hi)], mark.stroke_width(1))),
            )
            .map_err(e)?
            .label(label.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x + 10, y - 6), (x + 10, y + 6)], mark));
        }
        for (i, line) in lines.iter().enumerate() {
            let col = color(line.slot);
            let pts: Vec<(f64, f64)> =
                line.points.iter().map(|p| (tx(p.0, *log_x), tx(p.1, *log_y))).collect();
            let (slot, variant) = (line.slot, line.variant);
            let legend = move |at| LegendMark { at, slot, variant, color: col };
            match dash(line.variant) {
                None => c.draw_series(LineSeries::new(pts.clone(), col.stroke_width(2))),
                Some((d, g)) => {
                    c.draw_series(DashedLineSeries::new(pts.clone(), d, g, col.stroke_width(2)))
                }
            }
            .map_err(e)?
            .label(legend_text(&line.label))
            .legend(legend);
            let keep = marked(pts.len(), i, lines.len());
            let size = (8 - i as i32).max(3);
            c.draw_series(
                pts.iter().enumerate().filter(|(k, _)| keep(*k)).map(|(_, &at)| Marker {
                    at,
                    slot: line.slot,
                    size,
                    color: col,
                }),
            )
            .map_err(e)?;
            c.draw_series(line.points.iter().filter(|p| p.2 > 0.0).map(|p| {
                ErrorBar::new_vertical(
                    tx(p.0, *log_x),
                    tx(p.1 - p.2, *log_y),
                    tx(p.1, *log_y),
                    tx(p.1 + p.2, *log_y),
                    col.stroke_width(1),
                    8,
                )
            }))
            .map_err(e)?;
        }
        // Lines are sampled densely enough (every point, and straight segments between them)
        // to tell which corner the legend would hide least.
        let drawn: Vec<(f64, f64)> = lines
            .iter()
            .flat_map(|l| {
                l.points
                    .windows(2)
                    .flat_map(|w| {
                        (0..8).map(move |k| {
                            let t = k as f64 / 8.0;
                            let (a, b) = (w[0], w[1]);
                            (
                                tx(a.0, *log_x) * (1.0 - t) + tx(b.0, *log_x) * t,
                                tx(a.1, *log_y) * (1.0 - t) + tx(b.1, *log_y) * t,
                            )
                        })
                    })
                    .chain(l.points.iter().map(|p| (tx(p.0, *log_x), tx(p.1, *log_y))))
            })
            .collect();
        legend(&mut c, least_crowded_corner(&drawn, (x0, x1), (y0, y1)))?;
        Ok(())
    }
}
