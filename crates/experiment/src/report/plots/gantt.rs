//! `type: gantt` — the Chrome trace of the first matching run as a Gantt chart, one row per GPU
//! stream; the runner keeps that run's trace for it.

use std::collections::BTreeMap;
use std::path::Path as FsPath;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde_json::Value;

use crate::error::ConfigError;
use crate::report::axes::{e, legend, trim_num};
use crate::report::font::FAMILY;
use crate::report::marks::{PALETTE, color};
use crate::report::plot::{BuildCtx, CheckCtx, Draw, Figure, PlotKind, point_label};
use crate::report::spec::PlotSpec;

/// The Gantt plot.
pub struct GanttPlot;

/// Spans of one trace.
#[derive(Clone, Debug, PartialEq)]
pub struct GanttFigure {
    /// Lane names, top to bottom.
    lanes: Vec<String>,
    /// (lane, start us, end us, category).
    spans: Vec<(usize, f64, f64, String)>,
}

impl PlotKind for GanttPlot {
    fn check(&self, _: &PlotSpec, _: &CheckCtx<'_>) -> Result<(), ConfigError> {
        Ok(())
    }

    fn default_title(&self, _: &PlotSpec) -> String {
        "Execution trace".into()
    }

    fn build(&self, _: &PlotSpec, ctx: &mut BuildCtx<'_>) -> Result<Box<dyn Figure>, String> {
        let selected = &ctx.selected;
        let figure = {
            let r = selected[0];
            ctx.caption =
                format!("{} / {} / seed {}", point_label(&r.params, &[]), r.system, r.seed);
            gantt_data(&ctx.dir.trace_file(&r.key))?
        };
        Ok(Box::new(figure))
    }
}

/// Lanes and spans of a Chrome trace file written by simcore.
fn gantt_data(path: &FsPath) -> Result<GanttFigure, String> {
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
    Ok(GanttFigure { lanes, spans })
}

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

impl Draw for GanttFigure {
    fn draw<DB: DrawingBackend>(
        &self,
        main: &DrawingArea<DB, Shift>,
        title: &str,
    ) -> Result<(), String> {
        let GanttFigure { lanes, spans } = self;
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
        let mut c = ChartBuilder::on(main)
            .caption(title, (FAMILY, 22))
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
        Ok(())
    }
}
