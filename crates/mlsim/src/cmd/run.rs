//! `mlsim run`, `validate`, `report` and `merge`: the experiment runner's front end.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result, bail};
use experiment::plan::plain;
use experiment::runner::{self, Progress, RunOptions, Shard};
use experiment::summary::summarize;
use experiment::{LoadedConfig, Plan, ResultsDir, RunRecord};
use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::{ConfigArgs, MergeArgs, ReportArgs, RunArgs, ValidateArgs};

fn load(args: &ConfigArgs) -> Result<Plan> {
    let loaded = LoadedConfig::from_file(&args.file, &args.sets, args.seeds.as_deref())?;
    Ok(Plan::build(loaded)?)
}

/// `mlsim validate`.
pub fn validate(args: &ValidateArgs) -> Result<()> {
    let plan = load(&args.config)?;
    let c = &plan.loaded.config;
    println!(
        "{}: ok — kind {}, {} points x {} systems x {} seeds = {} runs",
        args.config.file.display(),
        c.kind,
        plan.points.len(),
        c.systems.len(),
        c.seeds.0.len(),
        plan.runs.len()
    );
    println!("{:>5}  {:<32}  label", "run", "key");
    for r in &plan.runs {
        println!("{:>5}  {:<32}  {}", r.index, r.key, plan.label(r));
    }
    Ok(())
}

/// Prints mean ± 95% CI (the value alone for one seed) of the kind's headline metrics per
/// point and system. Points are labelled by the last segment of each swept path (`nodes=4`
/// for `cluster.nodes`) unless two axes would share a label.
fn print_summary(plan: &Plan, records: &[RunRecord]) {
    let rows = summarize(plan, records);
    let metrics = plan.kind.headline_metrics();
    let keys: Vec<&String> =
        plan.points.first().map(|p| p.params.keys().collect()).unwrap_or_default();
    let short = |k: &str| k.rsplit('.').next().unwrap_or(k).to_string();
    let mut shorts: Vec<String> = keys.iter().map(|k| short(k)).collect();
    shorts.sort();
    shorts.dedup();
    let use_short = shorts.len() == keys.len();
    let labels: Vec<String> = plan
        .points
        .iter()
        .map(|p| {
            let l: Vec<String> = p
                .params
                .iter()
                .map(|(k, v)| {
                    let k = if use_short { short(k) } else { k.clone() };
                    format!("{k}={}", plain(v))
                })
                .collect();
            if l.is_empty() { "base".to_string() } else { l.join(", ") }
        })
        .collect();
    let width = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0).clamp(5, 60);
    let sys_width = plan
        .loaded
        .config
        .systems
        .iter()
        .map(|s| s.name.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(6, 24);
    let mut header = format!("{:<width$} {:<sys_width$}", "point", "system");
    for m in metrics {
        header.push_str(&format!(" {:>24}", m));
    }
    println!("\n{header}");
    for (p, label) in plan.points.iter().zip(&labels) {
        for s in &plan.loaded.config.systems {
            let mut line = format!(
                "{:<width$} {:<sys_width$}",
                truncate(label, width),
                truncate(&s.name, sys_width)
            );
            let mut any = false;
            for m in metrics {
                match rows
                    .iter()
                    .find(|r| r.point == p.index && r.system == s.name && r.metric == *m)
                {
                    Some(r) => {
                        any = true;
                        let cell = if r.n > 1 {
                            format!("{} ± {}", g(r.mean), g(r.ci95))
                        } else {
                            g(r.mean)
                        };
                        line.push_str(&format!(" {cell:>24}"));
                    }
                    None => line.push_str(&format!(" {:>24}", "-")),
                }
            }
            if any {
                println!("{line}");
            }
        }
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    }
}

fn g(x: f64) -> String {
    let a = x.abs();
    if a != 0.0 && !(1e-3..1e5).contains(&a) { format!("{x:.3e}") } else { format!("{x:.4}") }
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
    println!(
        "{}: {} runs ({} points x {} systems x {} seeds){} on {jobs} threads -> {}",
        name,
        plan.runs.len(),
        plan.points.len(),
        plan.loaded.config.systems.len(),
        plan.loaded.config.seeds.0.len(),
        shard.map(|s| format!(", shard {}/{}", s.index, s.count)).unwrap_or_default(),
        out.display()
    );
    let opts = RunOptions { out: out.clone(), jobs, shard, report: !args.no_report };
    let outcome = runner::run(&plan, &opts, &stop, &progress);
    bar.finish_and_clear();
    let outcome = outcome?;
    print_summary(&plan, &outcome.records);
    println!(
        "\n{} runs in scope: {} ran now, {} were already done (or shared another run's key), {} failed",
        outcome.in_scope,
        outcome.ran,
        outcome.skipped,
        outcome.failed.len()
    );
    println!("results: {}/runs.jsonl, summary.csv, timings.csv", out.display());
    if opts.report {
        println!("report:  {}/report/index.html", out.display());
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
    let out = experiment::report::write_report(&plan, &dir, &records)?;
    println!("report: {}/index.html ({} runs)", out.display(), records.len());
    Ok(())
}

/// `mlsim merge`.
pub fn merge(args: &MergeArgs) -> Result<()> {
    let (plan, records) = runner::merge(&args.dirs, &args.out, !args.no_report)?;
    println!(
        "merged {} directories: {} of {} runs -> {}",
        args.dirs.len(),
        records.len(),
        plan.runs.len(),
        args.out.display()
    );
    if records.len() < plan.runs.len() {
        println!("missing runs: run the missing shards, then merge again");
    }
    Ok(())
}
