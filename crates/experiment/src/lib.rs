//! # experiment — YAML experiments, sweeps, parallel resumable runs, tables and reports
//!
//! An experiment file names a simulator (`kind`), a cluster, a workload, the systems to
//! compare, seeds, a sweep and the plots to draw (see `docs/experiments.md`). This crate:
//!
//! - reads it ([`LoadedConfig`]): every error names the file, line, column and field, what is
//!   valid, and the nearest valid name for a typo; `--set path=value` overrides any value;
//! - expands the sweep ([`sweep`]: `grid` is a cartesian product, `zip` goes in lock-step) and
//!   prepares every (point, system) through its [`Kind`] ([`Plan`]);
//! - runs every (point, system, seed) in parallel ([`runner::run`]), saving each run as it
//!   finishes under a key derived from the resolved point, seed and version, so an interrupted
//!   run resumes where it stopped and `--shard I/N` slices merge back ([`runner::merge`]);
//! - writes `runs.jsonl`, `summary.csv` (mean, std, 95% CI over seeds) and a report with plots
//!   ([`report`]), byte-identical for any number of threads.
//!
//! Kinds are the simulators; `collective` (the collective benchmark on the cluster cost model)
//! is built in.
//!
//! ## Example
//!
//! ```
//! use experiment::{LoadedConfig, Plan};
//!
//! let yaml = r#"
//! name: doc
//! kind: collective
//! cluster: { preset: dgx-a100 }
//! workload: { op: all-reduce, bytes: 64MiB }
//! systems: [{ name: ring }, { name: tree }]
//! sweep: { grid: { workload.bytes: [1MiB, 1GiB] } }
//! "#;
//! let plan = Plan::build(LoadedConfig::from_text("doc.yaml", yaml, &[], None)?)?;
//! assert_eq!(plan.runs.len(), 4);
//! let result = plan.prepared(1, 0).run(1, false).unwrap();
//! assert!(result.metrics["busbw_gbs"] > 200.0);
//! # Ok::<(), experiment::ConfigError>(())
//! ```

pub mod config;
mod error;
pub mod kind;
pub mod kinds;
pub mod locations;
pub mod plan;
pub mod report;
pub mod runner;
pub mod store;
pub mod summary;
pub mod sweep;
pub mod value_path;

pub use config::{ExperimentConfig, LoadedConfig, Seeds, SystemEntry};
pub use error::{ConfigError, ExperimentError, Origin};
pub use kind::{Described, Kind, kinds};
pub use plan::{Plan, RunSpec};
pub use runner::{Merged, Outcome, Progress, ReportStatus, RunOptions, Shard};
pub use store::{ResultsDir, RunRecord};
