//! `report/`: every plot as SVG and PNG, an `index.html` (minijinja template) showing the plots,
//! the config and the summary table, and the same as `report.md`.

use std::path::{Path as FsPath, PathBuf};

use minijinja::{Environment, context};
use plotters::prelude::*;
use serde::Serialize;

use super::PLOT_SIZE;
use super::axes;
use super::font;
use super::plot::{self, Chart};
use crate::error::{ExperimentError, io_err};
use crate::plan::{GIT_REVISION, MLSIM_VERSION, Plan};
use crate::store::{ResultsDir, RunRecord};
use crate::summary::{summarize, wide_table};

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
        let main = axes::frame(&area, &chart.caption)?;
        chart.figure.draw_svg(&main, &chart.title)?;
        area.present().map_err(|e| format!("{e:?}"))?;
    }
    {
        let area = BitMapBackend::new(&tmp_png, PLOT_SIZE).into_drawing_area();
        let main = axes::frame(&area, &chart.caption)?;
        chart.figure.draw_png(&main, &chart.title)?;
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

/// What [`write_report`] wrote.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// The `report/` directory.
    pub dir: PathBuf,
    /// Plots that could not be drawn from the finished runs, as `title: why` (an unfinished
    /// run's plot, a missing trace); the pages list them too.
    pub skipped: Vec<String>,
}

/// One-line descriptions of the table's metric columns: `name (unit): description`.
fn column_notes(plan: &Plan, metrics: &[String]) -> Vec<String> {
    metrics
        .iter()
        .map(|m| match plan.kind.info().metrics.iter().find(|d| d.name == m) {
            Some(d) if !d.unit.is_empty() => format!("{m} ({}): {}", d.unit, d.description),
            Some(d) => format!("{m}: {}", d.description),
            None => m.clone(),
        })
        .collect()
}

/// Writes `report/` for the finished runs `records` of `plan` in `dir`. A plot whose runs
/// have not finished is left out and listed in [`Report::skipped`] and on the pages.
pub fn write_report(
    plan: &Plan,
    dir: &ResultsDir,
    records: &[RunRecord],
) -> Result<Report, ExperimentError> {
    let out = dir.root.join("report");
    std::fs::create_dir_all(&out).map_err(io_err(&out))?;
    let mut plots = Vec::new();
    let mut skipped = Vec::new();
    for (i, spec) in plan.loaded.config.report.plots.iter().enumerate() {
        let chart = match plot::build(plan, dir, records, spec) {
            Ok(chart) => chart,
            Err(ExperimentError::Plot { plot, message }) => {
                skipped.push(format!("{plot}: {message}"));
                continue;
            }
            Err(e) => return Err(e),
        };
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
    let metric_order: Vec<&str> = plan.kind.info().metrics.iter().map(|d| d.name).collect();
    let wide = wide_table(plan, &summarize(plan, records), &metric_order);
    let notes = column_notes(plan, &wide.metrics);
    let mut caveats: Vec<String> = Vec::new();
    for r in records {
        for c in &r.caveats {
            if !caveats.contains(c) {
                caveats.push(c.clone());
            }
        }
    }
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
                plots => minijinja::Value::from(minijinja::value::Serde(&plots)),
                skipped => skipped.clone(), caveats => caveats.clone(), header => wide.header.clone(),
                label_columns => wide.label_columns, table => wide.rows.clone(),
                notes => notes.clone(), config => config_yaml.clone(),
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
    for c in &caveats {
        md.push_str(&format!("> **Caveat.** {c}\n\n"));
    }
    for p in &plots {
        md.push_str(&format!("## {}\n\n![{}]({})\n\n{}\n\n", p.title, p.title, p.svg, p.caption));
    }
    if !skipped.is_empty() {
        md.push_str("Not drawn:\n\n");
        for s in &skipped {
            md.push_str(&format!("- {s}\n"));
        }
        md.push('\n');
    }
    md.push_str(
        "## Summary\n\nMean ± 95% confidence half-width over seeds, one row per point and system (the long form, with standard deviations, is in summary.csv).\n\n",
    );
    let header = &wide.header;
    md.push_str(&format!("| {} |\n|{}\n", header.join(" | "), "---|".repeat(header.len())));
    for row in &wide.rows {
        let cells: Vec<String> = row.iter().map(|c| c.replace('|', "\\|")).collect();
        md.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    if !notes.is_empty() {
        md.push('\n');
        for n in &notes {
            md.push_str(&format!("- {n}\n"));
        }
    }
    md.push_str(&format!("\n## Config\n\n```yaml\n{config_yaml}```\n"));
    dir.write_text(&out.join("report.md"), &md)?;
    Ok(Report { dir: out, skipped })
}
