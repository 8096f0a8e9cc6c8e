//! The results directory.
//!
//! ```text
//! results/<name>/
//!   config.resolved.yaml   the config with --set/--seeds applied (re-runnable as is)
//!   runs/<key>.json        one file per finished run (record + wall time): what resume reads
//!   runs.jsonl             every finished run of the plan, one JSON object per line, in plan order
//!   summary.csv            mean, std and 95% CI over seeds per point, system and metric
//!   timings.csv            wall time per run (kept apart so runs.jsonl is byte-identical)
//!   traces/<key>.json      Chrome traces of the runs a Gantt plot needs
//!   report/                plots (SVG, PNG), index.html, report.md
//! ```
//!
//! Every file is written under a temporary name and renamed.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path as FsPath, PathBuf};

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
    /// mlsim version that produced it.
    pub mlsim_version: String,
    /// git revision of that build.
    pub git_revision: String,
}

/// `runs/<key>.json`: a record and how long it took.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunFile {
    /// The record.
    pub record: RunRecord,
    /// Wall-clock seconds the run took.
    pub wall_time_s: f64,
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
            mlsim_version: MLSIM_VERSION.to_string(),
            git_revision: GIT_REVISION.to_string(),
        }
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

    /// `runs/<key>.json`.
    pub fn run_file(&self, key: &str) -> PathBuf {
        self.root.join("runs").join(format!("{key}.json"))
    }

    /// `traces/<key>.json`.
    pub fn trace_file(&self, key: &str) -> PathBuf {
        self.root.join("traces").join(format!("{key}.json"))
    }

    /// `config.resolved.yaml`.
    pub fn config_file(&self) -> PathBuf {
        self.root.join("config.resolved.yaml")
    }

    /// The finished run with `key`, if its file exists and parses.
    pub fn load_run(&self, key: &str) -> Option<RunFile> {
        let text = std::fs::read_to_string(self.run_file(key)).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Saves a finished run.
    pub fn save_run(&self, file: &RunFile) -> Result<(), ExperimentError> {
        let path = self.run_file(&file.record.key);
        write_atomic(&path, |w| {
            serde_json::to_writer(&mut *w, file).map_err(std::io::Error::other)?;
            w.write_all(b"\n")
        })
        .map_err(io_err(&path))
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
        let mut records = Vec::new();
        let mut timings = String::from("run,key,system,seed,wall_time_s\n");
        for r in runs {
            if let Some(f) = self.load_run(&r.key) {
                timings.push_str(&format!(
                    "{},{},{},{},{}\n",
                    r.index,
                    r.key,
                    summary::csv_field(&f.record.system),
                    r.seed,
                    f.wall_time_s
                ));
                records.push(f.record);
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
