//! Experiment kinds: the simulators the runner can drive. Every kind is a
//! [`simcore::Simulator`] (its crate declares what it offers and how it prepares and runs),
//! wrapped once by [`SimulatorKind`]: the workload and system entry are read with located
//! errors, the simulator's [`InputError`]s are pointed at their config field, and every run's
//! result is checked against what the simulator declares.
//!
//! ## Adding a simulator
//!
//! 1. A crate `crates/<name>` (dependencies flow one way: it may use simcore, cluster,
//!    taskgraph and models, never another domain crate) with `//!` docs that list its
//!    concepts and a doctest, in the shape of `moe`, `pipeline`, `embedding` and `gnn`.
//!    Its `Simulator::Env` is `cluster::Cluster`, or `()` when it needs no hardware (see
//!    [`KindEnv`]; `rca` is one).
//! 2. `config.rs`: the workload type and `SystemSpec`, the system entry (a serde enum tagged
//!    `system`, kebab-case names, `deny_unknown_fields`); one file per system under
//!    `systems/` (or the domain's word for them, e.g. `policies/`).
//! 3. `run.rs`: `prepare(cluster, workload, system)` checks every input and does the work
//!    shared by seeds; `Prepared::run(cluster, seed, trace)` returns a `simcore::RunResult`.
//!    Errors are `simcore::InputError`, naming the config field (`workload.x`, `params.x`,
//!    `system`) or the data file and line; data files are found with `simcore::data`.
//! 4. `simulator.rs`: implement `simcore::Simulator` with its `Description` — every system,
//!    metric, series and matrix with unit and description (the first clause of a description
//!    is the axis label in plots).
//! 5. One line in [`kinds`] below, a tiny config in `tests/registry.rs` (the registry test
//!    runs it and checks that emitted names equal declared ones), the headline config under
//!    `configs/<name>/` with its small version as a test, and `docs/models/<name>.md`.

use std::marker::PhantomData;
use std::sync::Arc;

use cluster::Cluster;
use serde::de::DeserializeOwned;
use serde_json::Value;
use simcore::{Description, InputError, RunResult, Simulator};

pub use simcore::Described;

use crate::config::{LoadedConfig, SystemEntry};
use crate::error::ConfigError;
use crate::value_path::{Path, Seg};

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

    /// An error a simulator reported for a config `field`: `params.x` points into this
    /// system's params, `system` at its name, anything else (e.g. `workload.stages`) is a path
    /// from the top of the config; unknown paths fall back to `workload`.
    pub fn field_error(&self, field: &str, message: String) -> ConfigError {
        if field == "system" {
            let key = if self.system.system.is_some() { "system" } else { "name" };
            return self.error(&self.system_path(key), message);
        }
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

/// A simulator the runner can drive.
pub trait Kind: Send + Sync {
    /// What it offers: name, systems, metrics, series, matrices, headline metrics.
    fn info(&self) -> &'static Description;
    /// Whether its runs simulate hardware, so a config must have a `cluster:` section.
    fn needs_cluster(&self) -> bool {
        true
    }
    /// Reads the workload and the system of one point and prepares its runs.
    fn prepare(&self, ctx: &PrepareCtx<'_>) -> Result<Arc<dyn PreparedRun>, ConfigError>;
}

/// The kind of simulator `S`.
pub struct SimulatorKind<S>(PhantomData<fn() -> S>);

impl<S> SimulatorKind<S> {
    /// The kind (a constant, for the registry).
    pub const NEW: SimulatorKind<S> = SimulatorKind(PhantomData);
}

/// What a simulator runs on, taken from the point's cluster: the cluster itself, or nothing
/// (`()`) for a simulator that needs no hardware (`rca`), which ignores the `cluster:`
/// section every config has.
pub trait KindEnv: 'static {
    /// Whether the environment is built from the config's `cluster:` section.
    const NEEDS_CLUSTER: bool;
    /// The environment of a run on `cluster`.
    fn from_cluster(cluster: &Cluster) -> &Self;
}

impl KindEnv for Cluster {
    const NEEDS_CLUSTER: bool = true;
    fn from_cluster(cluster: &Cluster) -> &Cluster {
        cluster
    }
}

impl KindEnv for () {
    const NEEDS_CLUSTER: bool = false;
    fn from_cluster(_: &Cluster) -> &() {
        &()
    }
}

/// A prepared (point, system) of simulator `S` on its cluster.
struct SimulatorRun<S: Simulator> {
    cluster: Arc<Cluster>,
    prepared: S::Prepared,
}

impl<S: Simulator<Env: KindEnv>> PreparedRun for SimulatorRun<S> {
    fn run(&self, seed: u64, trace: bool) -> Result<RunResult, String> {
        let env = S::Env::from_cluster(&self.cluster);
        let result = S::run(&self.prepared, env, seed, trace).map_err(|e| e.to_string())?;
        let undeclared = result.undeclared(&S::DESCRIPTION);
        if !undeclared.is_empty() {
            return Err(format!(
                "simulator `{}` emitted {} that it does not declare (a bug: add them to its Description)",
                S::DESCRIPTION.name,
                undeclared.join(", ")
            ));
        }
        Ok(result)
    }
}

impl<S: Simulator<Env: KindEnv>> Kind for SimulatorKind<S> {
    fn info(&self) -> &'static Description {
        const { &S::DESCRIPTION }
    }

    fn needs_cluster(&self) -> bool {
        S::Env::NEEDS_CLUSTER
    }

    fn prepare(&self, ctx: &PrepareCtx<'_>) -> Result<Arc<dyn PreparedRun>, ConfigError> {
        let workload: S::Workload = ctx.workload()?;
        let system: S::System = ctx.tagged_system(S::DESCRIPTION.systems)?;
        let env = S::Env::from_cluster(&ctx.cluster);
        let prepared = S::prepare(env, &workload, &system).map_err(|e| match &e {
            InputError::Invalid { field, message } => ctx.field_error(field, message.clone()),
            _ => ctx.field_error("workload", e.to_string()),
        })?;
        Ok(Arc::new(SimulatorRun::<S> { cluster: ctx.cluster.clone(), prepared }))
    }
}

/// Every kind, in listing order.
pub fn kinds() -> &'static [&'static dyn Kind] {
    &[
        &SimulatorKind::<crate::kinds::collective::CollectiveBench>::NEW,
        &SimulatorKind::<moe::MoeSimulator>::NEW,
        &SimulatorKind::<pipeline::PipelineSimulator>::NEW,
        &SimulatorKind::<embedding::EmbeddingSimulator>::NEW,
        &SimulatorKind::<gnn::GnnSimulator>::NEW,
        &SimulatorKind::<serving::ServingSimulator>::NEW,
        &SimulatorKind::<agents::AgentsSimulator>::NEW,
        &SimulatorKind::<rca::RcaSimulator>::NEW,
        &SimulatorKind::<datapipe::DatapipeSimulator>::NEW,
    ]
}

/// A kind by name, or a located error listing the valid ones.
pub fn find(name: &str, loaded: &LoadedConfig) -> Result<&'static dyn Kind, ConfigError> {
    kinds().iter().copied().find(|k| k.info().name == name).ok_or_else(|| {
        let names: Vec<&str> = kinds().iter().map(|k| k.info().name).collect();
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A simulator that emits one metric it declares and, when asked, one it does not.
    struct Sloppy;

    #[derive(serde::Deserialize)]
    struct Workload {
        sloppy: bool,
    }

    #[derive(serde::Deserialize)]
    #[serde(tag = "system", rename_all = "kebab-case")]
    enum System {
        Only {},
    }

    impl Simulator for Sloppy {
        type Env = Cluster;
        type Workload = Workload;
        type System = System;
        type Prepared = bool;
        const DESCRIPTION: Description = Description {
            name: "sloppy",
            description: "a test simulator",
            systems: &[Described { name: "only", unit: "", description: "the only one" }],
            metrics: &[Described { name: "declared", unit: "", description: "declared" }],
            series: &[],
            matrices: &[],
            headline_metrics: &["declared"],
        };
        fn prepare(_: &Cluster, w: &Workload, _: &System) -> Result<bool, InputError> {
            Ok(w.sloppy)
        }
        fn run(sloppy: &bool, _: &Cluster, _: u64, _: bool) -> Result<RunResult, InputError> {
            let mut r = RunResult::new();
            r.metric("declared", 1.0);
            if *sloppy {
                r.metric("forgotten", 2.0);
            }
            Ok(r)
        }
    }

    #[test]
    fn a_run_that_emits_an_undeclared_name_fails() {
        let cluster = Arc::new(Cluster::preset("dgx-h100", 1).unwrap());
        for sloppy in [false, true] {
            let run = SimulatorRun::<Sloppy> { cluster: cluster.clone(), prepared: sloppy };
            match run.run(1, false) {
                Ok(r) => assert!(!sloppy && r.metrics["declared"] == 1.0),
                Err(e) => assert!(sloppy && e.contains("metric `forgotten`"), "{e}"),
            }
        }
    }
}
