//! `mlsim run`, `validate`, `report` and `merge`: the experiment runner's front end.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result, bail};
use experiment::plan::plain;
use experiment::runner::{self, Progress, ReportStatus, RunOptions, Shard};
use experiment::summary::{summarize, wide_table};
use experiment::{LoadedConfig, Plan, ResultsDir, RunRecord};
use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::{ConfigArgs, MergeArgs, ReportArgs, RunArgs, ValidateArgs};

use crate::output::out;

fn load(args: &ConfigArgs) -> Result<Plan> {
    let loaded = LoadedConfig::from_file(&args.file, &args.sets, args.seeds.as_deref())?;
    Ok(Plan::build(loaded)?)
}

/// `mlsim validate`.
pub fn validate(args: &ValidateArgs) -> Result<()> {
    let plan = load(&args.config)?;
    let c = &plan.loaded.config;
    out!(
        "{}: ok — kind {}, {} points x {} systems x {} seeds = {} runs",
        args.config.file.display(),
        c.kind,
        plan.points.len(),
        c.systems.len(),
        c.seeds.0.len(),
        plan.runs.len()
    )?;
    out!("{:>5}  {:<32}  label", "run", "key")?;
    for r in &plan.runs {
        out!("{:>5}  {:<32}  {}", r.index, r.key, plan.label(r))?;
    }
    Ok(())
}

/// Prints mean ± 95% CI (the value alone for one seed) of the kind's headline metrics, one
/// row per point and system. Points are labelled by the last segment of each swept path
/// (`nodes=4` for `cluster.nodes`) unless two axes would share a label.
fn print_summary(plan: &Plan, records: &[RunRecord]) -> std::io::Result<()> {
    let rows = summarize(plan, records);
    let table = wide_table(plan, &rows, plan.kind.info().headline_metrics);
    let headline: Vec<usize> = (0..table.metrics.len())
        .filter(|&i| plan.kind.info().headline_metrics.contains(&table.metrics[i].as_str()))
        .collect();
    if table.rows.is_empty() {
        return Ok(());
    }
    let axes = &plan.axes;
    let short = |k: &str| k.rsplit('.').next().unwrap_or(k).to_string();
    let mut shorts: Vec<String> = axes.iter().map(|k| short(k)).collect();
    shorts.sort();
    shorts.dedup();
    let use_short = shorts.len() == axes.len();
    let mut header = vec!["point".to_string(), "system".to_string()];
    header.extend(headline.iter().map(|&i| table.metrics[i].clone()));
    let lines: Vec<Vec<String>> = table
        .rows
        .iter()
        .zip(&table.points)
        .map(|(row, &p)| {
            // The point's own axes (a point of one `cases` entry lacks the others').
            let params = plan.points.get(p).map(|pt| &pt.params);
            let point: Vec<String> = params
                .into_iter()
                .flatten()
                .map(|(k, v)| {
                    let k = if use_short { short(k) } else { k.clone() };
                    format!("{k}={}", plain(v))
                })
                .collect();
            let point = if point.is_empty() { "base".to_string() } else { point.join(", ") };
            let mut line = vec![truncate(&point, 60), truncate(&row[axes.len()], 24)];
            line.extend(headline.iter().map(|&i| row[table.label_columns + i].clone()));
            line
        })
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|c| lines.iter().chain([&header]).map(|l| l[c].chars().count()).max().unwrap_or(0))
        .collect();
    let render = |cells: &[String]| {
        let mut text = String::new();
        for (c, cell) in cells.iter().enumerate() {
            let pad = widths[c].saturating_sub(cell.chars().count());
            if c < 2 {
                text.push_str(cell);
                text.push_str(&" ".repeat(pad + 2));
            } else {
                text.push_str(&" ".repeat(pad));
                text.push_str(cell);
                text.push_str("  ");
            }
        }
        text.trim_end().to_string()
    };
    out!("\n{}", render(&header))?;
    for l in &lines {
        out!("{}", render(l))?;
    }
    let mut caveats: Vec<(&str, usize)> = Vec::new();
    for r in records {
        for c in &r.caveats {
            match caveats.iter_mut().find(|(x, _)| x == c) {
                Some((_, n)) => *n += 1,
                None => caveats.push((c, 1)),
            }
        }
    }
    for (c, n) in caveats {
        out!("caveat ({n} of {} runs): {c}", records.len())?;
    }
    Ok(())
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    }
}

/// Prints where the report is, and which plots it could not draw.
fn print_report(report: &experiment::report::Report) -> std::io::Result<()> {
    out!("report:  {}/index.html", report.dir.display())?;
    for s in &report.skipped {
        out!("  not drawn: {s}")?;
    }
    Ok(())
}

/// `mlsim run`.
pub fn run(args: &RunArgs) -> Result<()> {
    let plan = load(&args.config)?;
    let shard = args.shard.as_deref().map(Shard::parse).transpose().map_err(anyhow::Error::msg)?;
    let name = plan.loaded.config.name.clone();
    let out = args.out.clone().unwrap_or_else(|| match shard {
        Some(s) => {
            PathBuf::from("results").join(&name).join(format!("shard-{}-of-{}", s.index, s.count))
        }
        None => PathBuf::from("results").join(&name),
    });
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
    if jobs == 0 {
        bail!("--jobs must be at least 1");
    }
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        // First Ctrl-C: finish the runs in flight, save everything, write the tables. Second: quit.
        let _ = ctrlc::set_handler(move || {
            if stop.swap(true, Ordering::SeqCst) {
                eprintln!("\ninterrupted again: exiting now (finished runs are saved)");
                std::process::exit(130);
            }
            eprintln!("\ninterrupted: finishing the runs in flight (Ctrl-C again to quit now)");
        });
    }
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{elapsed_precise} [{bar:40.cyan/blue}] {pos}/{len} runs, ETA {eta} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let progress = |p: &Progress| match p {
        Progress::Started { in_scope, skipped } => {
            bar.set_length((in_scope - skipped) as u64);
            if *skipped > 0 {
                bar.println(format!(
                    "{skipped} of {in_scope} runs already finished in {}: skipping them",
                    out.display()
                ));
            }
        }
        Progress::Finished { label, ok } => {
            if !ok {
                bar.println(format!("failed: {label}"));
            }
            bar.inc(1);
        }
    };
    out!(
        "{}: {} runs ({} points x {} systems x {} seeds){} on {jobs} threads -> {}",
        name,
        plan.runs.len(),
        plan.points.len(),
        plan.loaded.config.systems.len(),
        plan.loaded.config.seeds.0.len(),
        shard.map(|s| format!(", shard {}/{}", s.index, s.count)).unwrap_or_default(),
        out.display()
    )?;
    let opts = RunOptions { out: out.clone(), jobs, shard, report: !args.no_report };
    let outcome = runner::run(&plan, &opts, &stop, &progress);
    bar.finish_and_clear();
    let outcome = outcome?;
    print_summary(&plan, &outcome.records)?;
    out!(
        "\n{} runs in scope: {} ran now, {} were already done (or shared another run's key), {} failed",
        outcome.in_scope,
        outcome.ran,
        outcome.skipped,
        outcome.failed.len()
    )?;
    out!("results: {}/runs.jsonl, summary.csv, timings.csv", out.display())?;
    match &outcome.report {
        ReportStatus::NotAsked => {}
        ReportStatus::Written(r) => print_report(r)?,
        ReportStatus::SkippedForShard(s) => {
            let all = out.parent().map(|p| p.join("shard-*")).unwrap_or_else(|| out.clone());
            let merged = out.parent().map(|p| p.join("merged")).unwrap_or_else(|| out.clone());
            out!(
                "report:  not drawn for shard {}/{} (its runs are one slice of every plot); when every shard is done: mlsim merge {} --out {}",
                s.index,
                s.count,
                all.display(),
                merged.display()
            )?;
        }
    }
    if outcome.interrupted {
        bail!(
            "interrupted: {} of {} runs finished; run the same command again to finish the rest",
            outcome.records.len(),
            outcome.in_scope
        );
    }
    if let Some((index, label, message)) = outcome.failed.first() {
        bail!("{} runs failed; first: run {index} ({label}): {message}", outcome.failed.len());
    }
    Ok(())
}

/// `mlsim report`.
pub fn report(args: &ReportArgs) -> Result<()> {
    let dir = ResultsDir::new(&args.dir);
    let config = dir.config_file();
    let loaded = LoadedConfig::from_file(&config, &[], None).with_context(|| {
        format!("{} is not a results directory of mlsim run", args.dir.display())
    })?;
    let plan = Plan::build(loaded)?;
    let records = dir.read_records()?;
    let report = experiment::report::write_report(&plan, &dir, &records)?;
    out!("{} runs", records.len())?;
    print_report(&report)?;
    Ok(())
}

/// `mlsim merge`.
pub fn merge(args: &MergeArgs) -> Result<()> {
    let merged = runner::merge(&args.dirs, &args.out, !args.no_report)?;
    out!(
        "merged {} directories: {} of {} runs -> {}",
        args.dirs.len(),
        merged.records.len(),
        merged.plan.runs.len(),
        args.out.display()
    )?;
    if let Some(r) = &merged.report {
        print_report(r)?;
    }
    if merged.records.len() < merged.plan.runs.len() {
        out!("missing runs: run the missing shards, then merge again")?;
    }
    Ok(())
}
