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

    /// The system entry as a tagged enum `T` (`#[serde(tag = "system")]`): its params with
    /// `system: <implementation>` added, read with located errors. Unknown implementations
    /// get an error listing `valid`.
    pub fn tagged_system<T: DeserializeOwned>(
        &self,
        valid: &[Described],
    ) -> Result<T, ConfigError> {
        let name = self.system.implementation();
        if !valid.iter().any(|s| s.name == name) {
            return Err(self.unknown_system(valid));
        }
        let mut params = match &self.system.params {
            Value::Null => serde_json::Map::new(),
            Value::Object(m) => m.clone(),
            _ => {
                return Err(
                    self.error(&self.system_path("params"), "params must be a mapping".into())
                );
            }
        };
        params.insert("system".into(), Value::String(name.to_string()));
        self.loaded.typed(&Value::Object(params), &self.system_path("params"), self.assigned)
    }

    /// An error a domain crate reported for a config `field`: `params.x` points into this
    /// system's params, anything else (e.g. `workload.stages`) is a path from the top of the
    /// config; unknown paths fall back to `workload`.
    pub fn field_error(&self, field: &str, message: String) -> ConfigError {
        let path = match field.strip_prefix("params.") {
            Some(rest) => Path::parse(&format!("systems[{}].params.{rest}", self.system_index)),
            None => Path::parse(field),
        }
        .unwrap_or_else(|_| Path(vec![Seg::Key("workload".into())]));
        self.error(&path, message)
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

/// What a kind offers, as static data: its name, systems, metrics, series and matrices.
#[derive(Clone, Copy, Debug)]
pub struct KindInfo {
    /// `kind:` value in configs.
    pub name: &'static str,
    /// One line on what it simulates.
    pub description: &'static str,
    /// Systems it compares.
    pub systems: &'static [Described],
    /// Scalar metrics every run reports.
    pub metrics: &'static [Described],
    /// Series (per-iteration values or samples) runs report.
    pub series: &'static [Described],
    /// Matrices runs report.
    pub matrices: &'static [Described],
    /// Metrics shown in the end-of-run table.
    pub headline_metrics: &'static [&'static str],
}

/// A simulator the runner can drive.
pub trait Kind: Send + Sync {
    /// What it offers.
    fn info(&self) -> &'static KindInfo;
    /// Reads the workload and the system of one point and prepares its runs.
    fn prepare(&self, ctx: &PrepareCtx<'_>) -> Result<Arc<dyn PreparedRun>, ConfigError>;
    /// `kind:` value in configs.
    fn name(&self) -> &'static str {
        self.info().name
    }
    /// One line on what it simulates.
    fn description(&self) -> &'static str {
        self.info().description
    }
    /// Systems it compares.
    fn systems(&self) -> &'static [Described] {
        self.info().systems
    }
    /// Scalar metrics every run reports.
    fn metrics(&self) -> &'static [Described] {
        self.info().metrics
    }
    /// Series runs report.
    fn series(&self) -> &'static [Described] {
        self.info().series
    }
    /// Matrices runs report.
    fn matrices(&self) -> &'static [Described] {
        self.info().matrices
    }
    /// Metrics shown in the end-of-run table.
    fn headline_metrics(&self) -> &'static [&'static str] {
        self.info().headline_metrics
    }
}

/// A prepared run of a domain crate: its cluster and the crate's prepared value, run through
/// `f` (which maps the crate's error to text).
pub struct DomainRun<P> {
    /// The point's cluster.
    pub cluster: Arc<Cluster>,
    /// The domain crate's prepared run.
    pub prepared: P,
    /// Runs it.
    pub run: fn(&P, &Cluster, u64, bool) -> Result<RunResult, String>,
}

impl<P: Send + Sync> PreparedRun for DomainRun<P> {
    fn run(&self, seed: u64, trace: bool) -> Result<RunResult, String> {
        (self.run)(&self.prepared, &self.cluster, seed, trace)
    }
}

/// Prepares a run of a domain crate: reads the workload as `W` and the system as the tagged
/// enum `S` (one of `systems`), calls the crate's `prepare`, and maps its errors to located
/// ones: `field_of` gives (config field, message) for errors that name a field.
pub fn prepare_domain<W, S, P, E>(
    ctx: &PrepareCtx<'_>,
    systems: &[Described],
    prepare: impl FnOnce(&Cluster, &W, &S) -> Result<P, E>,
    field_of: impl Fn(&E) -> Option<(&str, &str)>,
    run: fn(&P, &Cluster, u64, bool) -> Result<RunResult, String>,
) -> Result<Arc<dyn PreparedRun>, ConfigError>
where
    W: DeserializeOwned,
    S: DeserializeOwned,
    P: Send + Sync + 'static,
    E: std::fmt::Display,
{
    let workload: W = ctx.workload()?;
    let spec: S = ctx.tagged_system(systems)?;
    let prepared = prepare(&ctx.cluster, &workload, &spec).map_err(|e| match field_of(&e) {
        Some((field, message)) => ctx.field_error(field, message.to_string()),
        None => ctx.field_error("workload", e.to_string()),
    })?;
    Ok(Arc::new(DomainRun { cluster: ctx.cluster.clone(), prepared, run }))
}

/// Every kind, in listing order.
pub fn kinds() -> &'static [&'static dyn Kind] {
    &[
        &crate::kinds::collective::CollectiveBench,
        &crate::kinds::moe::MoeKind,
        &crate::kinds::pipeline::PipelineKind,
        &crate::kinds::embedding::EmbeddingKind,
        &crate::kinds::gnn::GnnKind,
    ]
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
