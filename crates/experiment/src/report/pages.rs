//! `report/`: every plot as SVG and PNG, an `index.html` (minijinja template) showing the plots,
//! the config and the summary table, and the same as `report.md`.

use std::path::{Path as FsPath, PathBuf};

use minijinja::{Environment, context};
use plotters::prelude::*;
use serde::Serialize;

use super::PLOT_SIZE;
use super::charts;
use super::data::{self, Chart};
use super::font;
use crate::error::{ExperimentError, io_err};
use crate::plan::{GIT_REVISION, MLSIM_VERSION, Plan, plain};
use crate::store::{ResultsDir, RunRecord};
use crate::summary::summarize;

const TEMPLATE: &str = include_str!("../../templates/index.html");

/// Lower-case, dash-separated file name part.
fn slug(text: &str) -> String {
    let mut s = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        } else if !s.ends_with('-') {
            s.push('-');
        }
    }
    let s = s.trim_matches('-');
    s.chars().take(48).collect()
}

fn tmp(path: &FsPath, ext: &str) -> PathBuf {
    let name = path.file_stem().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.tmp.{ext}", std::process::id()))
}

/// Draws a chart to `<stem>.svg` and `<stem>.png`, each written under a temporary name first.
pub fn render(chart: &Chart, stem: &FsPath) -> Result<(), String> {
    font::ensure_registered();
    let svg = stem.with_extension("svg");
    let png = stem.with_extension("png");
    let (tmp_svg, tmp_png) = (tmp(&svg, "svg"), tmp(&png, "png"));
    {
        let area = SVGBackend::new(&tmp_svg, PLOT_SIZE).into_drawing_area();
        charts::draw(&area, chart)?;
        area.present().map_err(|e| format!("{e:?}"))?;
    }
    {
        let area = BitMapBackend::new(&tmp_png, PLOT_SIZE).into_drawing_area();
        charts::draw(&area, chart)?;
        area.present().map_err(|e| format!("{e:?}"))?;
    }
    std::fs::rename(&tmp_svg, &svg).map_err(|e| format!("{}: {e}", svg.display()))?;
    std::fs::rename(&tmp_png, &png).map_err(|e| format!("{}: {e}", png.display()))?;
    Ok(())
}

#[derive(Serialize)]
struct PlotEntry {
    title: String,
    caption: String,
    svg: String,
    png: String,
}

/// Writes `report/` for the finished runs `records` of `plan` in `dir`.
pub fn write_report(
    plan: &Plan,
    dir: &ResultsDir,
    records: &[RunRecord],
) -> Result<PathBuf, ExperimentError> {
    let out = dir.root.join("report");
    std::fs::create_dir_all(&out).map_err(io_err(&out))?;
    let mut plots = Vec::new();
    for (i, spec) in plan.loaded.config.report.plots.iter().enumerate() {
        let chart = data::build(plan, dir, records, spec)?;
        let stem = out.join(format!("{:02}-{}", i + 1, slug(&chart.title)));
        render(&chart, &stem)
            .map_err(|message| ExperimentError::Plot { plot: chart.title.clone(), message })?;
        let name = stem.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        plots.push(PlotEntry {
            title: chart.title,
            caption: chart.caption,
            svg: format!("{name}.svg"),
            png: format!("{name}.png"),
        });
    }
    let rows = summarize(plan, records);
    let header: Vec<String> = ["point".to_string()]
        .into_iter()
        .chain(plan.axes.iter().cloned())
        .chain(["system", "metric", "n", "mean", "std", "ci95 (±)"].map(String::from))
        .collect();
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let mut row = vec![r.point.to_string()];
            row.extend(plan.axes.iter().map(|a| r.params.get(a).map(plain).unwrap_or_default()));
            row.extend([
                r.system.clone(),
                r.metric.clone(),
                r.n.to_string(),
                sig(r.mean),
                sig(r.std),
                sig(r.ci95),
            ]);
            row
        })
        .collect();
    let cfg = &plan.loaded.config;
    let config_yaml = plan.resolved_yaml();
    let mut env = Environment::new();
    env.add_template("index.html", TEMPLATE)
        .map_err(|e| ExperimentError::Results(format!("report template: {e}")))?;
    let html = env
        .get_template("index.html")
        .and_then(|t| {
            t.render(context! {
                name => cfg.name.clone(), description => cfg.description.clone(), kind => cfg.kind.clone(),
                runs => records.len(), planned => plan.runs.len(), points => plan.points.len(),
                systems => cfg.systems.iter().map(|s| s.name.clone()).collect::<Vec<_>>(),
                seeds => cfg.seeds.0.clone(), version => MLSIM_VERSION, git => GIT_REVISION,
                plots => minijinja::Value::from(minijinja::value::Serde(&plots)), header => header.clone(), table => table.clone(), config => config_yaml.clone(),
            })
        })
        .map_err(|e| ExperimentError::Results(format!("report template: {e}")))?;
    dir.write_text(&out.join("index.html"), &html)?;

    let mut md = format!("# {}\n\n", cfg.name);
    if !cfg.description.is_empty() {
        md.push_str(&format!("{}\n\n", cfg.description.trim()));
    }
    md.push_str(&format!(
        "Kind `{}`; {} of {} runs finished ({} points x {} systems x {} seeds); mlsim {MLSIM_VERSION} ({GIT_REVISION}).\n\n",
        cfg.kind,
        records.len(),
        plan.runs.len(),
        plan.points.len(),
        cfg.systems.len(),
        cfg.seeds.0.len()
    ));
    for p in &plots {
        md.push_str(&format!("## {}\n\n![{}]({})\n\n{}\n\n", p.title, p.title, p.svg, p.caption));
    }
    md.push_str(
        "## Summary\n\nMean, standard deviation and 95% confidence half-width over seeds.\n\n",
    );
    md.push_str(&format!("| {} |\n|{}\n", header.join(" | "), "---|".repeat(header.len())));
    for row in &table {
        let cells: Vec<String> = row.iter().map(|c| c.replace('|', "\\|")).collect();
        md.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    md.push_str(&format!("\n## Config\n\n```yaml\n{config_yaml}```\n"));
    dir.write_text(&out.join("report.md"), &md)?;
    Ok(out)
}

/// Four significant digits.
fn sig(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let a = x.abs();
    if !(1e-3..1e6).contains(&a) {
        format!("{x:.3e}")
    } else {
        format!("{}", (x * 1e4).round() / 1e4).chars().take(12).collect()
    }
}
