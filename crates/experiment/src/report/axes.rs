//! What every figure shares: number formats for axes and ticks, ranges with margins, the
//! legend box, and the frame (white background, caption line under the plot).

use plotters::coord::{CoordTranslate, Shift};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::font::FAMILY;
use super::plot::AxisFormat;

/// A plotters error as text.
pub fn e<T: std::fmt::Debug>(err: T) -> String {
    format!("{err:?}")
}

/// Human text for an axis number.
pub fn fmt_value(v: f64, format: AxisFormat) -> String {
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
            // Long durations in the unit people use for them (6h, 30min, 2d), where the value
            // is a round number in it (at most one decimal); otherwise in a smaller unit
            // (100 s is "100s", not "1.667min").
            let a = v.abs();
            let round_in = |unit: f64| {
                let x = v / unit * 10.0;
                (x - x.round()).abs() < 1e-6
            };
            if a >= 86_400.0 && round_in(86_400.0) {
                format!("{}d", trim(v / 86_400.0))
            } else if a >= 3_600.0 && round_in(3_600.0) {
                format!("{}h", trim(v / 3_600.0))
            } else if a >= 60.0 && round_in(60.0) {
                format!("{}min", trim(v / 60.0))
            } else if a >= 60.0 {
                format!("{}s", trim(v))
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
pub fn fmt_tick(v: f64, format: AxisFormat, span: f64) -> String {
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
pub fn legend_text(label: &str) -> String {
    const MAX: usize = 100;
    if label.chars().count() <= MAX {
        label.to_string()
    } else {
        let cut: String = label.chars().take(MAX - 1).collect();
        format!("{cut}…")
    }
}

/// `x` to three decimals, trailing zeros dropped.
pub fn trim(x: f64) -> String {
    let s = format!("{x:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Range covering `values` with a margin (and nonzero width).
pub fn padded(min: f64, max: f64, from_zero: bool) -> (f64, f64) {
    let (lo, hi) = if from_zero && min >= 0.0 { (0.0, max) } else { (min, max) };
    let span = if hi > lo { hi - lo } else { hi.abs().max(1.0) };
    (if from_zero && min >= 0.0 { 0.0 } else { lo - 0.05 * span }, hi + 0.08 * span)
}

/// `v` on a log10 axis, or as it is.
pub fn tx(v: f64, log: bool) -> f64 {
    if log { v.max(1e-300).log10() } else { v }
}

/// The legend box, in one style for every chart.
pub fn legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
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

/// The corner of the plot area where the legend covers the fewest data points: each corner's
/// box spans 40% of the width and 35% of the height; ties keep the upper left, then the upper
/// right, lower left, lower right. `points` are in axis coordinates (after `tx`).
pub fn least_crowded_corner(
    points: &[(f64, f64)],
    (x0, x1): (f64, f64),
    (y0, y1): (f64, f64),
) -> SeriesLabelPosition {
    let (w, h) = ((x1 - x0).max(f64::MIN_POSITIVE), (y1 - y0).max(f64::MIN_POSITIVE));
    let corners = [
        (SeriesLabelPosition::UpperLeft, false, true),
        (SeriesLabelPosition::UpperRight, true, true),
        (SeriesLabelPosition::LowerLeft, false, false),
        (SeriesLabelPosition::LowerRight, true, false),
    ];
    let covered = |right: bool, upper: bool| {
        points
            .iter()
            .filter(|(x, y)| {
                let fx = (x - x0) / w;
                let fy = (y - y0) / h;
                (if right { fx >= 0.6 } else { fx <= 0.4 })
                    && (if upper { fy >= 0.65 } else { fy <= 0.35 })
            })
            .count()
    };
    let mut best = (usize::MAX, SeriesLabelPosition::UpperLeft);
    for (pos, right, upper) in corners {
        let n = covered(right, upper);
        if n < best.0 {
            best = (n, pos);
        }
    }
    best.1
}

/// A number as an axis label.
pub fn trim_num(v: f64) -> String {
    fmt_value(v, AxisFormat::Plain)
}

/// Fills `area` white and writes `caption` on its bottom line; returns the area above it.
pub fn frame<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    caption: &str,
) -> Result<DrawingArea<DB, Shift>, String> {
    area.fill(&WHITE).map_err(e)?;
    let (w, h) = area.dim_in_pixel();
    let (main, foot) = area.split_vertically(h - 26);
    foot.draw_text(
        caption,
        &TextStyle::from((FAMILY, 13).into_font())
            .color(&RGBColor(90, 90, 90))
            .pos(Pos::new(HPos::Center, VPos::Center)),
        ((w / 2) as i32, 13),
    )
    .map_err(e)?;
    Ok(main)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_y_axis_starts_at_zero_unless_asked_to_fit_the_data() {
        // Accuracies of 0.66-0.97: from zero the whole range is 0..1.05; fitted, 0.64..0.99.
        assert_eq!(padded(0.66, 0.97, true).0, 0.0);
        let (lo, hi) = padded(0.66, 0.97, false);
        assert!(
            (lo - (0.66 - 0.05 * 0.31)).abs() < 1e-12 && (hi - (0.97 + 0.08 * 0.31)).abs() < 1e-12
        );
        // Negative data is never cut at zero.
        assert!(padded(-1.0, 2.0, true).0 < -1.0);
        let spec: crate::report::spec::PlotSpec =
            serde_json::from_str(r#"{"type": "line", "metric": "m"}"#).unwrap();
        assert!(spec.y_from_zero, "the default starts at zero");
        let spec: crate::report::spec::PlotSpec =
            serde_json::from_str(r#"{"type": "line", "metric": "m", "y_from_zero": false}"#)
                .unwrap();
        assert!(!spec.y_from_zero);
    }

    #[test]
    fn axis_numbers_read_well() {
        assert_eq!(fmt_value(1048576.0, AxisFormat::Bytes), "1MiB");
        assert_eq!(fmt_value(1.5 * 1073741824.0, AxisFormat::Bytes), "1.5GiB");
        assert_eq!(fmt_value(0.0015, AxisFormat::Seconds), "1.5ms");
        assert_eq!(fmt_value(21_600.0, AxisFormat::Seconds), "6h");
        assert_eq!(fmt_value(1_800.0, AxisFormat::Seconds), "30min");
        assert_eq!(fmt_value(90.0, AxisFormat::Seconds), "1.5min");
        assert_eq!(fmt_value(100.0, AxisFormat::Seconds), "100s");
        assert_eq!(fmt_value(5_000.0, AxisFormat::Seconds), "5000s");
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
    }

    #[test]
    fn the_legend_goes_where_the_lines_are_not() {
        // A flat line near the top: the legend goes to a lower corner.
        let top: Vec<(f64, f64)> = (0..=10).map(|i| (i as f64, 9.5)).collect();
        assert!(matches!(
            least_crowded_corner(&top, (0.0, 10.0), (0.0, 10.0)),
            SeriesLabelPosition::LowerLeft
        ));
        // A line rising from the lower left to the upper right: upper left is free.
        let rise: Vec<(f64, f64)> = (0..=10).map(|i| (i as f64, i as f64)).collect();
        assert!(matches!(
            least_crowded_corner(&rise, (0.0, 10.0), (0.0, 10.0)),
            SeriesLabelPosition::UpperLeft
        ));
    }
}
