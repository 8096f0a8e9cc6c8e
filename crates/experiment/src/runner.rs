//! Running a plan: every run of the chosen shard not already finished, in parallel, each
//! saved as soon as it ends; then the tables and the report.
//!
//! Results do not depend on the number of threads: each run is a pure function of (point,
//! system, seed), and the tables are assembled in plan order from the saved runs. A run stopped
//! by Ctrl-C (or a crash) loses only the runs in flight; the next invocation skips every run
//! whose file exists.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use rayon::prelude::*;

use crate::error::{ExperimentError, io_err};
use crate::plan::{Plan, RunSpec};
use crate::report;
use crate::store::{ResultsDir, RunFile, RunRecord};

/// `--shard I/N`: the runs whose index is `I` modulo `N` (0-based `I`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// Which slice, 0-based.
    pub index: usize,
    /// How many slices.
    pub count: usize,
}

impl Shard {
    /// Parses `I/N` with `0 <= I < N`.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let bad = || format!("`{text}` is not a shard I/N with 0 <= I < N, e.g. 0/4");
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let (index, count): (usize, usize) =
            (i.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// Whether run `index` belongs to this shard.
    pub fn contains(&self, index: usize) -> bool {
        index % self.count == self.index
    }
}

/// How to run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Results directory.
    pub out: PathBuf,
    /// Worker threads (at least 1).
    pub jobs: usize,
    /// Only this slice of the runs.
    pub shard: Option<Shard>,
    /// Draw the report at the end (a shard skips it: its runs are a slice of every plot).
    pub report: bool,
}

/// What became of the report at the end of a run.
#[derive(Clone, Debug, PartialEq)]
pub enum ReportStatus {
    /// Not asked for.
    NotAsked,
    /// Asked for, but this is one shard of the runs: `mlsim merge` of all shards draws it.
    SkippedForShard(Shard),
    /// Written.
    Written(report::Report),
}

/// What happened, for progress displays.
#[derive(Clone, Debug)]
pub enum Progress {
    /// Work is about to start.
    Started {
        /// Runs in scope (this shard).
        in_scope: usize,
        /// Not run now: finished earlier, or sharing another run's key.
        skipped: usize,
    },
    /// One run ended.
    Finished {
        /// Its description.
        label: String,
        /// Whether it succeeded.
        ok: bool,
    },
}

/// The outcome of [`run`].
#[derive(Debug)]
pub struct Outcome {
    /// Runs in scope (this shard).
    pub in_scope: usize,
    /// Not run now: finished earlier, or sharing the key of another run (which ran).
    pub skipped: usize,
    /// Run now successfully.
    pub ran: usize,
    /// Failed: (index, label, message).
    pub failed: Vec<(usize, String, String)>,
    /// Stopped early by the stop flag.
    pub interrupted: bool,
    /// Every finished run in scope, in plan order.
    pub records: Vec<RunRecord>,
    /// The report.
    pub report: ReportStatus,
}

/// Runs the plan into `opts.out`; `stop` ends it early (runs in flight finish and are saved).
pub fn run(
    plan: &Plan,
    opts: &RunOptions,
    stop: &AtomicBool,
    progress: &(dyn Fn(&Progress) + Sync),
) -> Result<Outcome, ExperimentError> {
    let dir = ResultsDir::new(&opts.out);
    std::fs::create_dir_all(&opts.out).map_err(io_err(&opts.out))?;
    dir.write_text(&dir.config_file(), &plan.resolved_yaml())?;
    let in_scope: Vec<&RunSpec> =
        plan.runs.iter().filter(|r| opts.shard.is_none_or(|s| s.contains(r.index))).collect();
    let traced: std::collections::BTreeSet<usize> = plan
        .loaded
        .config
        .report
        .plots
        .iter()
        .filter(|p| p.kind == report::PlotType::Gantt)
        .filter_map(|p| plan.matching_runs(&p.run_filter()).first().copied())
        .collect();
    // A trace belongs to a key: any run of a traced run's key records it.
    let traced: std::collections::BTreeSet<&str> =
        plan.runs.iter().filter(|r| traced.contains(&r.index)).map(|r| r.key.as_str()).collect();
    let finished = dir.finished()?;
    // Runs with one key give one result: each key runs once (the first of its runs).
    let mut first_of_key = std::collections::HashSet::new();
    let todo: Vec<&RunSpec> = in_scope
        .iter()
        .copied()
        .filter(|r| {
            !finished.contains_key(&r.key)
                || (traced.contains(r.key.as_str()) && !dir.trace_file(&r.key).exists())
        })
        .filter(|r| first_of_key.insert(r.key.clone()))
        .collect();
    drop(finished);
    let journal = dir.journal();
    let skipped = in_scope.len() - todo.len();
    progress(&Progress::Started { in_scope: in_scope.len(), skipped });

    let failed = Mutex::new(Vec::new());
    let ran = AtomicUsize::new(0);
    let first_io_error: Mutex<Option<ExperimentError>> = Mutex::new(None);
    let pool =
        rayon::ThreadPoolBuilder::new().num_threads(opts.jobs.max(1)).build().map_err(|e| {
            ExperimentError::Results(format!("cannot start {} worker threads: {e}", opts.jobs))
        })?;
    pool.install(|| {
        todo.par_iter().for_each(|r| {
            if stop.load(Ordering::SeqCst) {
                return;
            }
            let label = plan.label(r);
            let want_trace = traced.contains(r.key.as_str());
            let t0 = Instant::now();
            let prepared = plan.prepared(r.point, r.system);
            let result = catch_unwind(AssertUnwindSafe(|| prepared.run(r.seed, want_trace)))
                .unwrap_or_else(|panic| {
                    let msg = panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_else(|| "unknown panic".into());
                    Err(format!("panicked: {msg}"))
                });
            let wall = t0.elapsed().as_secs_f64();
            let saved = result.and_then(|mut res| {
                if let Some(trace) = res.trace.take() {
                    let path = dir.trace_file(&r.key);
                    trace.save(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                }
                let timings = std::mem::take(&mut res.timings);
                let file =
                    RunFile { record: RunRecord::new(plan, r, res), wall_time_s: wall, timings };
                journal.append(&file).map_err(|e| {
                    let msg = e.to_string();
                    if let Ok(mut slot) = first_io_error.lock() {
                        slot.get_or_insert(e);
                    }
                    msg
                })
            });
            let ok = saved.is_ok();
            match saved {
                Ok(()) => {
                    ran.fetch_add(1, Ordering::SeqCst);
                }
                Err(msg) => {
                    if let Ok(mut f) = failed.lock() {
                        f.push((r.index, label.clone(), msg));
                    }
                }
            }
            progress(&Progress::Finished { label, ok });
        })
    });
    if let Some(e) = first_io_error.into_inner().ok().flatten() {
        return Err(e);
    }
    let mut failed = failed.into_inner().unwrap_or_default();
    // Runs that shared a failed run's key failed with it.
    let failed_keys: std::collections::HashMap<String, String> = failed
        .iter()
        .filter_map(|(i, _, m)| plan.runs.get(*i).map(|r| (r.key.clone(), m.clone())))
        .collect();
    let reported: std::collections::HashSet<usize> = failed.iter().map(|f| f.0).collect();
    for r in &in_scope {
        if let Some(m) = failed_keys.get(&r.key)
            && !reported.contains(&r.index)
        {
            failed.push((r.index, plan.label(r), m.clone()));
        }
    }
    failed.sort();
    let records = dir.assemble(plan, &in_scope)?;
    let report = match (opts.report, opts.shard) {
        (false, _) => ReportStatus::NotAsked,
        (true, Some(s)) => ReportStatus::SkippedForShard(s),
        (true, None) => ReportStatus::Written(report::write_report(plan, &dir, &records)?),
    };
    Ok(Outcome {
        in_scope: in_scope.len(),
        skipped,
        ran: ran.load(Ordering::SeqCst),
        failed,
        interrupted: stop.load(Ordering::SeqCst),
        records,
        report,
    })
}

/// What [`merge`] made.
pub struct Merged {
    /// The experiment.
    pub plan: Plan,
    /// Every finished run, in plan order.
    pub records: Vec<RunRecord>,
    /// The report, if asked for.
    pub report: Option<report::Report>,
}

/// Joins the results directories of shards (or partial runs) of one experiment into `out`:
/// the same files a single run would have written.
pub fn merge(
    dirs: &[PathBuf],
    out: &std::path::Path,
    report: bool,
) -> Result<Merged, ExperimentError> {
    let first = dirs.first().ok_or_else(|| {
        ExperimentError::Results("merge needs at least one results directory".into())
    })?;
    let config_path = ResultsDir::new(first).config_file();
    let config_text = std::fs::read_to_string(&config_path).map_err(io_err(&config_path))?;
    for d in &dirs[1..] {
        let p = ResultsDir::new(d).config_file();
        let t = std::fs::read_to_string(&p).map_err(io_err(&p))?;
        if t != config_text {
            return Err(ExperimentError::Results(format!(
                "{} and {} hold different experiments (their config.resolved.yaml differ); merge only shards of one run",
                config_path.display(),
                p.display()
            )));
        }
    }
    let loaded = crate::config::LoadedConfig::from_text(
        &config_path.display().to_string(),
        &config_text,
        &[],
        None,
    )?;
    let plan = Plan::build(loaded)?;
    let target = ResultsDir::new(out);
    std::fs::create_dir_all(out).map_err(io_err(out))?;
    target.write_text(&target.config_file(), &config_text)?;
    let mut have = target.finished()?;
    let journal = target.journal();
    for d in dirs {
        let src = ResultsDir::new(d);
        let theirs = src.finished()?;
        for r in &plan.runs {
            if let Some(f) = theirs.get(&r.key) {
                if !have.contains_key(&r.key) {
                    journal.append(f)?;
                    have.insert(r.key.clone(), f.clone());
                }
                let trace = src.trace_file(&r.key);
                if trace.exists() && !target.trace_file(&r.key).exists() {
                    let text = std::fs::read(&trace).map_err(io_err(&trace))?;
                    let dst = target.trace_file(&r.key);
                    simcore::fs::write_atomic(&dst, |w| std::io::Write::write_all(w, &text))
                        .map_err(io_err(&dst))?;
                }
            }
        }
    }
    let all: Vec<&RunSpec> = plan.runs.iter().collect();
    let records = target.assemble(&plan, &all)?;
    let report = if report { Some(report::write_report(&plan, &target, &records)?) } else { None };
    Ok(Merged { plan, records, report })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards() {
        let s = Shard::parse("1/4").unwrap();
        assert!(s.contains(5) && !s.contains(4));
        assert!(Shard::parse("4/4").is_err());
        assert!(Shard::parse("x").is_err());
        assert!(Shard::parse("0/0").is_err());
    }
}
