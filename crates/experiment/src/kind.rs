//! Experiment kinds: the simulators the runner can drive. A kind reads its workload and
//! systems from a sweep point and prepares runnable closures; each run returns a
//! [`simcore::RunResult`].

use std::sync::Arc;

use cluster::Cluster;
use serde::de::DeserializeOwned;
use serde_json::Value;
use simcore::RunResult;

use crate::config::{LoadedConfig, SystemEntry};
use crate::error::ConfigError;
use crate::value_path::{Path, Seg};

/// A named thing with a unit and a one-line description (systems, metrics, series).
#[derive(Clone, Copy, Debug)]
pub struct Described {
    /// Name as used in configs.
    pub name: &'static str,
    /// Unit ("s", "GB/s", "" for none).
    pub unit: &'static str,
    /// What it is.
    pub description: &'static str,
}

/// Everything a kind sees when preparing one (point, system).
pub struct PrepareCtx<'a> {
    /// The point's cluster, built and validated.
    pub cluster: Arc<Cluster>,
    /// The point's `workload` section.
    pub workload: &'a Value,
    /// The system to prepare.
    pub system: &'a SystemEntry,
    /// Its index in `systems`.
    pub system_index: usize,
    /// The config, for located errors.
    pub loaded: &'a LoadedConfig,
    /// The point's sweep assignments as (config path, place in the file).
    pub assigned: &'a [(Path, Path)],
}

impl PrepareCtx<'_> {
    /// The workload as `T`, with located errors.
    pub fn workload<T: DeserializeOwned>(&self) -> Result<T, ConfigError> {
        self.loaded.typed(self.workload, &Path(vec![Seg::Key("workload".into())]), self.assigned)
    }

    /// The system's params as `T` (null params read as an empty mapping).
    pub fn params<T: DeserializeOwned>(&self) -> Result<T, ConfigError> {
        let v = if self.system.params.is_null() {
            Value::Object(Default::default())
        } else {
            self.system.params.clone()
        };
        self.loaded.typed(&v, &self.system_path("params"), self.assigned)
    }

    /// `systems[i].<field>`.
    pub fn system_path(&self, field: &str) -> Path {
        Path(vec![
            Seg::Key("systems".into()),
            Seg::Index(self.system_index),
            Seg::Key(field.into()),
        ])
    }

    /// An error at `path`.
    pub fn error(&self, path: &Path, message: String) -> ConfigError {
        self.loaded.error_at(path, self.assigned, message)
    }

    /// An error about the system's implementation name, listing the valid ones.
    pub fn unknown_system(&self, valid: &[Described]) -> ConfigError {
        let name = self.system.implementation();
        let names: Vec<&str> = valid.iter().map(|d| d.name).collect();
        let field = if self.system.system.is_some() { "system" } else { "name" };
        self.error(
            &self.system_path(field),
            format!(
                "unknown system `{name}`{}; valid: {} (set `system:` to use another label as `name:`)",
                simcore::names::did_you_mean(name, names.iter().copied()),
                names.join(", ")
            ),
        )
    }
}

/// A (point, system) ready to run for any seed.
pub trait PreparedRun: Send + Sync {
    /// Runs with `seed`; keeps a trace if `trace`.
    fn run(&self, seed: u64, trace: bool) -> Result<RunResult, String>;
}

/// A simulator the runner can drive.
pub trait Kind: Send + Sync {
    /// `kind:` value in configs.
    fn name(&self) -> &'static str;
    /// One line on what it simulates.
    fn description(&self) -> &'static str;
    /// Systems it compares.
    fn systems(&self) -> &'static [Described];
    /// Scalar metrics every run reports.
    fn metrics(&self) -> &'static [Described];
    /// Series (per-iteration values or samples) runs report.
    fn series(&self) -> &'static [Described];
    /// Matrices runs report.
    fn matrices(&self) -> &'static [Described];
    /// Metrics shown in the end-of-run table.
    fn headline_metrics(&self) -> &'static [&'static str];
    /// Reads the workload and the system of one point and prepares its runs.
    fn prepare(&self, ctx: &PrepareCtx<'_>) -> Result<Arc<dyn PreparedRun>, ConfigError>;
}

/// Every kind, in listing order.
pub fn kinds() -> &'static [&'static dyn Kind] {
    &[&crate::kinds::collective::CollectiveBench, &crate::kinds::moe::MoeKind]
}

/// A kind by name, or a located error listing the valid ones.
pub fn find(name: &str, loaded: &LoadedConfig) -> Result<&'static dyn Kind, ConfigError> {
    kinds().iter().copied().find(|k| k.name() == name).ok_or_else(|| {
        let names: Vec<&str> = kinds().iter().map(|k| k.name()).collect();
        loaded.error_at(
            &Path(vec![Seg::Key("kind".into())]),
            &[],
            format!(
                "unknown kind `{name}`{}; valid: {}",
                simcore::names::did_you_mean(name, names.iter().copied()),
                names.join(", ")
            ),
        )
    })
}
