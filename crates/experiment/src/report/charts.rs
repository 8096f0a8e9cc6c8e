//! Drawing charts with plotters on any backend (SVG and PNG share this code).

use plotters::coord::{CoordTranslate, Shift};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::data::{AxisFormat, Chart, PlotData, Samples};
use super::font::FAMILY;
use super::marks::{LegendMark, Marker, PALETTE, color, dash, marked};

/// Fixed colours for the trace categories simcore and taskgraph write, so `moved` work (a
/// failure policy's re-routed passes) stands out in red in every Gantt chart.
fn category_color(cat: &str, i: usize) -> RGBColor {
    match cat {
        "compute" => PALETTE[0],
        "send" => PALETTE[1],
        "moved" => PALETTE[2],
        "exchange" => PALETTE[3],
        "copy" => PALETTE[4],
        "redundant" => PALETTE[5],
        "collective" => PALETTE[6],
        "delay" => PALETTE[9],
        _ => color(i + 7),
    }
}

fn e<T: std::fmt::Debug>(err: T) -> String {
    format!("{err:?}")
}

/// Human text for an axis number.
fn fmt_value(v: f64, format: AxisFormat) -> String {
    match format {
        AxisFormat::Bytes => {
            let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
            let mut x = v;
            let mut u = 0;
            while x >= 1024.0 && u + 1 < units.len() {
                x /= 1024.0;
                u += 1;
            }
            format!("{}{}", trim(x), units[u])
        }
        AxisFormat::Seconds => {
            // Long durations in the unit people use for them (6h, 30min, 2d).
            let a = v.abs();
            if a >= 86_400.0 {
                format!("{}d", trim(v / 86_400.0))
            } else if a >= 3_600.0 {
                format!("{}h", trim(v / 3_600.0))
            } else if a >= 60.0 {
                format!("{}min", trim(v / 60.0))
            } else {
                simcore::SimTime::from_secs_f64(v).to_string()
            }
        }
        AxisFormat::Plain => {
            let a = v.abs();
            if a != 0.0 && !(1e-3..1e5).contains(&a) {
                format!("{v:.2e}")
            } else if a == 0.0 {
                "0".into()
            } else {
                // Three significant digits.
                let decimals = (2 - a.log10().floor() as i32).clamp(0, 9) as usize;
                let s = format!("{v:.decimals$}");
                if s.contains('.') {
                    s.trim_end_matches('0').trim_end_matches('.').to_string()
                } else {
                    s
                }
            }
        }
    }
}

/// An axis tick: like [`fmt_value`], with at least the decimals that tell ticks a tenth of
/// `span` apart (a narrow range such as 0.999..1.03 keeps its third decimal).
fn fmt_tick(v: f64, format: AxisFormat, span: f64) -> String {
    let a = v.abs();
    if format != AxisFormat::Plain || a == 0.0 || !(1e-3..1e5).contains(&a) || span <= 0.0 {
        return fmt_value(v, format);
    }
    let significant = (2 - a.log10().floor() as i32).clamp(0, 9);
    let resolving = (-(span / 10.0).log10().floor() as i32).clamp(0, 9);
    let decimals = significant.max(resolving) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s }
}

/// A legend entry that fits the plot: long labels (a generated graph's spec as a sweep value)
/// are cut at 100 characters with an ellipsis; the tables keep them whole.
fn legend_text(label: &str) -> String {
    const MAX: usize = 100;
    if label.chars().count() <= MAX {
        label.to_string()
    } else {
        let cut: String = label.chars().take(MAX - 1).collect();
        format!("{cut}…")
    }
}

fn trim(x: f64) -> String {
    let s = format!("{x:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Range covering `values` with a margin (and nonzero width).
fn padded(min: f64, max: f64, from_zero: bool) -> (f64, f64) {
    let (lo, hi) = if from_zero && min >= 0.0 { (0.0, max) } else { (min, max) };
    let span = if hi > lo { hi - lo } else { hi.abs().max(1.0) };
    (if from_zero && min >= 0.0 { 0.0 } else { lo - 0.05 * span }, hi + 0.08 * span)
}

fn tx(v: f64, log: bool) -> f64 {
    if log { v.max(1e-300).log10() } else { v }
}

/// Draws `chart` on `area`.
pub fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    chart: &Chart,
) -> Result<(), String> {
    area.fill(&WHITE).map_err(e)?;
    let (w, h) = area.dim_in_pixel();
    // Caption line at the bottom.
    let (main, foot) = area.split_vertically(h - 26);
    foot.draw_text(
        &chart.caption,
        &TextStyle::from((FAMILY, 13).into_font())
            .color(&RGBColor(90, 90, 90))
            .pos(Pos::new(HPos::Center, VPos::Center)),
        ((w / 2) as i32, 13),
    )
    .map_err(e)?;
    match &chart.data {
        PlotData::Lines {
            x_label,
            y_label,
            y_format,
            x_format,
            x_categories,
            log_x,
            log_y,
            lines,
            marks,
            round_x_ticks,
        } => {
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
                !log_y,
            );
            let mut c = ChartBuilder::on(&main)
                .caption(&chart.title, (FAMILY, 22))
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
                let style = TextStyle::from((FAMILY, 13).into_font())
                    .pos(Pos::new(HPos::Center, VPos::Top));
                for &x in &xs_seen {
                    let (px, py) = c.backend_coord(&(tx(x, *log_x), y0));
                    main.draw(&PathElement::new(
                        vec![(px, py), (px, py + 5)],
                        BLACK.stroke_width(1),
                    ))
                    .map_err(e)?;
                    main.draw_text(&x_text(x), &style, (px, py + 8)).map_err(e)?;
                }
            }
            if let Some((label, at)) = marks {
                let mark = RGBColor(0xd6, 0x27, 0x28).mix(0.35);
                let (lo, hi) = (y0, y1);
                let xs: Vec<f64> = at.iter().map(|&x| tx(x, *log_x)).collect();
                c.draw_series(
                    xs.iter()
                        .map(|&x| PathElement::new(vec![(x, lo), (x, hi)], mark.stroke_width(1))),
                )
                .map_err(e)?
                .label(label.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x + 10, y - 6), (x + 10, y + 6)], mark)
                });
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
            legend(&mut c, SeriesLabelPosition::UpperLeft)?;
        }
        PlotData::Bars { y_label, y_format, log_y, groups, systems, slots, values } => {
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
            let mut c = ChartBuilder::on(&main)
                .caption(&chart.title, (FAMILY, 22))
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
        }
        PlotData::Cdf { x_label, log_x, lines } => {
            let xs = lines.iter().flat_map(|l| l.values.iter().map(|&x| tx(x, *log_x)));
            let (x0, x1) = padded(
                xs.clone().fold(f64::INFINITY, f64::min),
                xs.fold(f64::NEG_INFINITY, f64::max),
                false,
            );
            let mut c = ChartBuilder::on(&main)
                .caption(&chart.title, (FAMILY, 22))
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
        }
        PlotData::Heatmap { label, rows } => {
            let (plot, bar) = main.split_horizontally(w - 110);
            let nr = rows.len().max(1);
            let nc = rows.iter().map(Vec::len).max().unwrap_or(1).max(1);
            let vmin = rows.iter().flatten().copied().fold(f64::INFINITY, f64::min);
            let vmax = rows.iter().flatten().copied().fold(f64::NEG_INFINITY, f64::max);
            let (vmin, vmax) =
                if vmin.is_finite() && vmax > vmin { (vmin, vmax) } else { (0.0, vmax.max(1.0)) };
            let mut c = ChartBuilder::on(&plot)
                .caption(&chart.title, (FAMILY, 22))
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
        }
        PlotData::Gantt { lanes, spans } => {
            let n = lanes.len().max(1) as f64;
            let t_us = spans.iter().map(|s| s.2).fold(0.0, f64::max).max(1e-3);
            // Trace times are microseconds; show long traces in ms or s.
            let (scale, unit) = if t_us >= 1e7 {
                (1e-6, "s")
            } else if t_us >= 1e4 {
                (1e-3, "ms")
            } else {
                (1.0, "us")
            };
            let t1 = t_us * scale;
            let mut c = ChartBuilder::on(&main)
                .caption(&chart.title, (FAMILY, 22))
                .margin(14)
                .x_label_area_size(48)
                .y_label_area_size(140)
                .build_cartesian_2d(0f64..t1 * 1.02, 0f64..n)
                .map_err(e)?;
            let none = |_: &f64| String::new();
            let x_fmt = |x: &f64| trim_num(*x);
            let x_desc = format!("time ({unit})");
            c.configure_mesh()
                .disable_y_mesh()
                .y_labels(0)
                .y_label_formatter(&none)
                .x_label_formatter(&x_fmt)
                .x_desc(x_desc.as_str())
                .axis_desc_style((FAMILY, 15))
                .label_style((FAMILY, 13))
                .draw()
                .map_err(e)?;
            let mut cats: Vec<&str> = Vec::new();
            for s in spans {
                if !cats.contains(&s.3.as_str()) {
                    cats.push(&s.3);
                }
            }
            for (ci, cat) in cats.iter().enumerate() {
                let col = category_color(cat, ci);
                c.draw_series(spans.iter().filter(|s| s.3 == *cat).map(|s| {
                    let y = n - 1.0 - s.0 as f64;
                    let (a, b) = (s.1 * scale, s.2 * scale);
                    Rectangle::new([(a, y + 0.15), (b.max(a + t1 * 1e-4), y + 0.85)], col.filled())
                }))
                .map_err(e)?
                .label(*cat)
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], col.filled()));
            }
            legend(&mut c, SeriesLabelPosition::UpperRight)?;
            let style =
                TextStyle::from((FAMILY, 11).into_font()).pos(Pos::new(HPos::Right, VPos::Center));
            let step = (lanes.len() / 40).max(1);
            for (i, name) in lanes.iter().enumerate().step_by(step) {
                let (px, py) = c.backend_coord(&(0.0, n - 0.5 - i as f64));
                main.draw_text(name, &style, (px - 6, py)).map_err(e)?;
            }
        }
    }
    Ok(())
}

/// The legend box, in one style for every chart.
fn legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    c: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> Result<(), String> {
    c.configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .label_font((FAMILY, 13))
        .position(position)
        .draw()
        .map_err(e)
}

fn trim_num(v: f64) -> String {
    fmt_value(v, AxisFormat::Plain)
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
    fn axis_numbers_read_well() {
        assert_eq!(fmt_value(1048576.0, AxisFormat::Bytes), "1MiB");
        assert_eq!(fmt_value(1.5 * 1073741824.0, AxisFormat::Bytes), "1.5GiB");
        assert_eq!(fmt_value(0.0015, AxisFormat::Seconds), "1.5ms");
        assert_eq!(fmt_value(21_600.0, AxisFormat::Seconds), "6h");
        assert_eq!(fmt_value(1_800.0, AxisFormat::Seconds), "30min");
        assert_eq!(fmt_value(2.5, AxisFormat::Plain), "2.5");
        assert_eq!(fmt_value(0.0015, AxisFormat::Plain), "0.0015");
        assert_eq!(fmt_value(359.96, AxisFormat::Plain), "360");
        assert_eq!(fmt_value(1.5e9, AxisFormat::Plain), "1.50e9");
        // Ticks over a narrow range keep the digits that tell them apart.
        assert_eq!(fmt_tick(1.005, AxisFormat::Plain, 0.04), "1.005");
        assert_eq!(fmt_tick(1.01, AxisFormat::Plain, 0.04), "1.01");
        assert_eq!(fmt_tick(1.0, AxisFormat::Plain, 0.04), "1");
        assert_eq!(fmt_tick(359.96, AxisFormat::Plain, 400.0), "360");
        assert_eq!(fmt_tick(0.0015, AxisFormat::Seconds, 0.001), "1.5ms");
        assert_eq!(legend_text("ring"), "ring");
        assert_eq!(legend_text(&"x".repeat(150)).chars().count(), 100);
        assert_eq!(viridis(0.0), RGBColor(68, 1, 84));
        assert_eq!(viridis(1.0), RGBColor(253, 231, 37));
    }
}
