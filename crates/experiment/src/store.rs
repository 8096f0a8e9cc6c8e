//! The results directory.
//!
//! ```text
//! results/<name>/
//!   config.resolved.yaml   the config with --set/--seeds applied (re-runnable as is)
//!   runs/*.jsonl           journals: one line per finished run (record + wall time), appended
//!                          and flushed as each run ends; what resume and merge read
//!   runs.jsonl             every finished run of the plan, one JSON object per line, in plan order
//!   summary.csv            mean, std and 95% CI over seeds per point, system and metric
//!   timings.csv            wall time per run (kept apart so runs.jsonl is byte-identical)
//!   traces/<key>.json      Chrome traces of the runs a Gantt plot needs
//!   report/                plots (SVG, PNG), index.html, report.md
//! ```
//!
//! Every table, trace and plot is written under a temporary name and renamed. Journals are
//! append-only: a process killed mid-line leaves a torn last line, which readers skip (that run
//! simply runs again). Each process appends to its own journal, so concurrent shards writing to
//! one directory cannot interleave.

use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path as FsPath, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use simcore::fs::write_atomic;

use crate::error::{ExperimentError, io_err};
use crate::plan::{GIT_REVISION, MLSIM_VERSION, Plan, RunSpec};
use crate::summary;

/// One run's results, as a line of `runs.jsonl`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Index in the plan.
    pub run: usize,
    /// Stable key.
    pub key: String,
    /// Point index.
    pub point: usize,
    /// The point's swept values.
    pub params: Map<String, Value>,
    /// System name.
    pub system: String,
    /// Seed.
    pub seed: u64,
    /// Scalar metrics.
    pub metrics: BTreeMap<String, f64>,
    /// Series.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub series: BTreeMap<String, Vec<f64>>,
    /// Matrices.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub matrices: BTreeMap<String, Vec<Vec<f64>>>,
    /// What a reader must know to read the numbers right (e.g. a contention-free network).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub caveats: Vec<String>,
    /// mlsim version that produced it.
    pub mlsim_version: String,
    /// git revision of that build.
    pub git_revision: String,
}

/// A journal line: a record and how long it took.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunFile {
    /// The record.
    pub record: RunRecord,
    /// Wall-clock seconds the run took.
    pub wall_time_s: f64,
    /// The simulator's own wall-clock measurements (e.g. `plan_time_s`).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub timings: std::collections::BTreeMap<String, f64>,
}

impl RunRecord {
    /// A record for `run` of `plan` from a result.
    pub fn new(plan: &Plan, run: &RunSpec, result: simcore::RunResult) -> RunRecord {
        RunRecord {
            run: run.index,
            key: run.key.clone(),
            point: run.point,
            params: plan.points[run.point].params.clone(),
            system: plan.system_name(run.system).to_string(),
            seed: run.seed,
            metrics: result.metrics,
            series: result.series,
            matrices: result.matrices,
            caveats: result.caveats,
            mlsim_version: MLSIM_VERSION.to_string(),
            git_revision: GIT_REVISION.to_string(),
        }
    }
}

/// An append-only journal of finished runs, shared by the worker threads of one process.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: Mutex<Option<File>>,
}

impl Journal {
    /// Appends one run as one line, written with a single call and flushed, so that the line is
    /// complete in the file (or torn only if the process dies inside the call).
    pub fn append(&self, run: &RunFile) -> Result<(), ExperimentError> {
        let mut line = serde_json::to_string(run)
            .map_err(|e| ExperimentError::Results(format!("cannot encode a run: {e}")))?;
        line.push('\n');
        let mut guard = self
            .file
            .lock()
            .map_err(|_| ExperimentError::Results("journal lock poisoned".into()))?;
        if guard.is_none() {
            if let Some(dir) = self.path.parent() {
                std::fs::create_dir_all(dir).map_err(io_err(dir))?;
            }
            let f = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .map_err(io_err(&self.path))?;
            *guard = Some(f);
        }
        if let Some(f) = guard.as_mut() {
            f.write_all(line.as_bytes()).map_err(io_err(&self.path))?;
            f.flush().map_err(io_err(&self.path))?;
        }
        Ok(())
    }
}

/// A results directory.
#[derive(Clone, Debug)]
pub struct ResultsDir {
    /// Its root.
    pub root: PathBuf,
}

impl ResultsDir {
    /// The directory at `root` (created on first write).
    pub fn new(root: impl Into<PathBuf>) -> ResultsDir {
        ResultsDir { root: root.into() }
    }

    /// `traces/<key>.json`.
    pub fn trace_file(&self, key: &str) -> PathBuf {
        self.root.join("traces").join(format!("{key}.json"))
    }

    /// `config.resolved.yaml`.
    pub fn config_file(&self) -> PathBuf {
        self.root.join("config.resolved.yaml")
    }

    /// Every finished run recorded in `runs/*.jsonl`, by key. Unreadable lines (a torn last line
    /// of a killed process) are skipped.
    pub fn finished(&self) -> Result<HashMap<String, RunFile>, ExperimentError> {
        let dir = self.root.join("runs");
        let mut out = HashMap::new();
        let Ok(entries) = std::fs::read_dir(&dir) else { return Ok(out) };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
            .collect();
        files.sort();
        for f in files {
            let text = std::fs::read_to_string(&f).map_err(io_err(&f))?;
            for line in text.lines() {
                if let Ok(run) = serde_json::from_str::<RunFile>(line) {
                    out.insert(run.record.key.clone(), run);
                }
            }
        }
        Ok(out)
    }

    /// A new journal for this process (created on its first line).
    pub fn journal(&self) -> Journal {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let path =
            self.root.join("runs").join(format!("journal-{nanos}-{}.jsonl", std::process::id()));
        Journal { path, file: Mutex::new(None) }
    }

    /// Writes a text file atomically.
    pub fn write_text(&self, path: &FsPath, text: &str) -> Result<(), ExperimentError> {
        write_atomic(path, |w| w.write_all(text.as_bytes())).map_err(io_err(path))
    }

    /// Writes `runs.jsonl`, `summary.csv` and `timings.csv` from the finished runs among
    /// `runs` (plan order) and returns their records.
    pub fn assemble(
        &self,
        plan: &Plan,
        runs: &[&RunSpec],
    ) -> Result<Vec<RunRecord>, ExperimentError> {
        let finished = self.finished()?;
        let mut records = Vec::new();
        // Extra timing columns: every name any finished run reported, sorted.
        let mut extra: Vec<String> = runs
            .iter()
            .filter_map(|r| finished.get(&r.key))
            .flat_map(|f| f.timings.keys().cloned())
            .collect();
        extra.sort();
        extra.dedup();
        let mut timings = String::from("run,key,system,seed,wall_time_s");
        for name in &extra {
            timings.push(',');
            timings.push_str(&summary::csv_field(name));
        }
        timings.push('\n');
        for r in runs {
            if let Some(f) = finished.get(&r.key).cloned() {
                timings.push_str(&format!(
                    "{},{},{},{},{}",
                    r.index,
                    r.key,
                    summary::csv_field(&f.record.system),
                    r.seed,
                    f.wall_time_s
                ));
                for name in &extra {
                    timings.push(',');
                    if let Some(v) = f.timings.get(name) {
                        timings.push_str(&v.to_string());
                    }
                }
                timings.push('\n');
                // Runs of one key are one result (e.g. a system whose params a sweep over
                // another system's params leaves unchanged): label it as this run.
                let mut record = f.record;
                record.run = r.index;
                record.point = r.point;
                if let Some(pt) = plan.points.get(r.point) {
                    record.params = pt.params.clone();
                }
                if let Some(sys) = plan.loaded.config.systems.get(r.system) {
                    record.system = sys.name.clone();
                }
                records.push(record);
            }
        }
        let path = self.root.join("runs.jsonl");
        write_atomic(&path, |w| {
            for rec in &records {
                serde_json::to_writer(&mut *w, rec).map_err(std::io::Error::other)?;
                w.write_all(b"\n")?;
            }
            Ok(())
        })
        .map_err(io_err(&path))?;
        self.write_text(&self.root.join("timings.csv"), &timings)?;
        let rows = summary::summarize(plan, &records);
        self.write_text(&self.root.join("summary.csv"), &summary::to_csv(plan, &rows))?;
        Ok(records)
    }

    /// Reads `runs.jsonl`.
    pub fn read_records(&self) -> Result<Vec<RunRecord>, ExperimentError> {
        let path = self.root.join("runs.jsonl");
        let text = std::fs::read_to_string(&path).map_err(io_err(&path))?;
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| {
                serde_json::from_str(l).map_err(|e| {
                    ExperimentError::Results(format!(
                        "{}:{}: not a run record: {e}",
                        path.display(),
                        i + 1
                    ))
                })
            })
            .collect()
    }
}
