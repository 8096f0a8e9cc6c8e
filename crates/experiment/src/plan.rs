//! The run plan: every (point, system, seed) of an experiment, validated and prepared, with a
//! stable key per run.
//!
//! Order: points in sweep order, then systems in file order, then seeds in order. A run's key
//! is a hash of what determines its result — the kind, the resolved cluster spec, the
//! workload, the system entry, the seed and the mlsim version — so re-running the same command
//! (or one that only changes plots, names or other points) finds finished runs and skips them.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use cluster::{Cluster, ClusterSpec};
use serde_json::{Map, Value};

use crate::config::LoadedConfig;
use crate::error::ConfigError;
use crate::kind::{self, Kind, PrepareCtx, PreparedRun};
use crate::sweep::{self, Assignment};
use crate::value_path::{self, Path, Seg};

/// The version written into every record and hashed into every key.
pub const MLSIM_VERSION: &str = env!("CARGO_PKG_VERSION");
/// The git revision the binary was built from.
pub const GIT_REVISION: &str = env!("MLSIM_GIT_REVISION");

/// One sweep point.
pub struct Point {
    /// Its index.
    pub index: usize,
    /// The swept parameters of this point, in axis order (path string, value).
    pub params: Map<String, Value>,
    /// The whole config tree at this point.
    pub tree: Value,
    /// Its cluster.
    pub cluster: Arc<Cluster>,
    /// The resolved cluster spec as JSON (part of run keys).
    cluster_json: String,
}

/// One run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunSpec {
    /// Position in the plan.
    pub index: usize,
    /// Point index.
    pub point: usize,
    /// System index.
    pub system: usize,
    /// Seed.
    pub seed: u64,
    /// Stable identity (32 hex digits).
    pub key: String,
}

/// A validated experiment, ready to run.
pub struct Plan {
    /// The config.
    pub loaded: LoadedConfig,
    /// Its kind.
    pub kind: &'static dyn Kind,
    /// Sweep axes (path strings), in order.
    pub axes: Vec<String>,
    /// Sweep points.
    pub points: Vec<Point>,
    /// Prepared (point, system) pairs: index `point * systems + system`.
    prepared: Vec<Arc<dyn PreparedRun>>,
    /// Every run.
    pub runs: Vec<RunSpec>,
}

/// Resolves a `cluster:` section: a preset plus overrides, or a full spec.
fn cluster_spec(
    loaded: &LoadedConfig,
    section: &Value,
    assigned: &[(Path, Path)],
) -> Result<ClusterSpec, ConfigError> {
    let at = Path(vec![Seg::Key("cluster".into())]);
    let Value::Object(map) = section else {
        let message = if section.is_null() {
            "missing: this kind simulates hardware; add `cluster: {preset: dgx-h100, nodes: 2}` or a full cluster spec (`mlsim list presets`)"
        } else {
            "expected a mapping: {preset: dgx-h100, nodes: 2} or a full cluster spec"
        };
        return Err(loaded.error_at(&at, assigned, message.into()));
    };
    let value = match map.get("preset") {
        Some(Value::String(name)) => {
            let (_, yaml) = cluster::PRESETS.iter().find(|(n, _)| n == name).ok_or_else(|| {
                let names: Vec<&str> = cluster::PRESETS.iter().map(|(n, _)| *n).collect();
                loaded.error_at(
                    &at.child(Seg::Key("preset".into())),
                    assigned,
                    format!(
                        "unknown preset `{name}`{}; valid: {}",
                        simcore::names::did_you_mean(name, names.iter().copied()),
                        names.join(", ")
                    ),
                )
            })?;
            let mut base: Value = serde_saphyr::from_str(yaml).map_err(|e| {
                loaded.error_at(&at, assigned, format!("built-in preset {name} is malformed: {e}"))
            })?;
            let mut over = map.clone();
            over.remove("preset");
            value_path::deep_merge(&mut base, &Value::Object(over));
            base
        }
        Some(_) => {
            return Err(loaded.error_at(
                &at.child(Seg::Key("preset".into())),
                assigned,
                "the preset is a name, e.g. dgx-h100".into(),
            ));
        }
        None => section.clone(),
    };
    loaded.typed(&value, &at, assigned)
}

/// The run key: a hash of what determines a run's result, including the mlsim version and the
/// git revision it was built from, so a re-run after a code change does not reuse old runs.
fn key_of(kind: &str, cluster: &str, workload: &Value, system: &Value, seed: u64) -> String {
    let canonical = serde_json::json!({
        "kind": kind, "cluster": cluster, "workload": workload, "system": system, "seed": seed,
        "version": MLSIM_VERSION, "revision": GIT_REVISION,
    })
    .to_string();
    let a = simcore::fnv1a64(canonical.as_bytes());
    let b = simcore::fnv1a64(format!("mlsim{canonical}").as_bytes());
    format!("{a:016x}{b:016x}")
}

impl Plan {
    /// Expands, validates and prepares every run of `loaded`.
    pub fn build(loaded: LoadedConfig) -> Result<Plan, ConfigError> {
        let kind = kind::find(&loaded.config.kind, &loaded)?;
        let sweep_points = sweep::expand(&loaded)?;
        let mut axes: Vec<String> = Vec::new();
        for a in sweep_points.iter().flatten() {
            let name = a.path.to_string();
            if !axes.contains(&name) {
                axes.push(name);
            }
        }
        let mut clusters: HashMap<String, Arc<Cluster>> = HashMap::new();
        let mut points = Vec::with_capacity(sweep_points.len());
        let mut prepared = Vec::new();
        let n_systems = loaded.config.systems.len();
        for (index, assignments) in sweep_points.iter().enumerate() {
            let mut tree = loaded.tree.clone();
            let assigned: Vec<(Path, Path)> =
                assignments.iter().map(|a| (a.path.clone(), a.source.clone())).collect();
            for Assignment { path, value, source } in assignments {
                value_path::set(&mut tree, path, value.clone())
                    .map_err(|m| loaded.error_at(source, &[], m))?;
            }
            // A kind that simulates no hardware may leave `cluster:` out; its runs still carry
            // one (the runner's interface), a fixed one that enters no result.
            let spec = if tree["cluster"].is_null() && !kind.needs_cluster() {
                cluster_spec(&loaded, &serde_json::json!({"preset": "dgx-h100", "nodes": 1}), &[])?
            } else {
                cluster_spec(&loaded, &tree["cluster"], &assigned)?
            };
            let spec_key = serde_json::to_string(&spec).unwrap_or_default();
            let cluster = match clusters.get(&spec_key) {
                Some(c) => c.clone(),
                None => {
                    let c = Arc::new(Cluster::new(spec).map_err(|e| {
                        loaded.error_at(
                            &Path(vec![Seg::Key("cluster".into())]),
                            &assigned,
                            e.to_string(),
                        )
                    })?);
                    clusters.insert(spec_key.clone(), c.clone());
                    c
                }
            };
            let systems: Vec<crate::config::SystemEntry> = loaded.typed(
                &tree["systems"],
                &Path(vec![Seg::Key("systems".into())]),
                &assigned,
            )?;
            for (si, system) in systems.iter().enumerate() {
                let ctx = PrepareCtx {
                    cluster: cluster.clone(),
                    workload: &tree["workload"],
                    system,
                    system_index: si,
                    loaded: &loaded,
                    assigned: &assigned,
                };
                prepared.push(kind.prepare(&ctx)?);
            }
            let params: Map<String, Value> =
                assignments.iter().map(|a| (a.path.to_string(), a.value.clone())).collect();
            points.push(Point { index, params, tree, cluster, cluster_json: spec_key });
        }
        let mut runs = Vec::new();
        for p in &points {
            for s in 0..n_systems {
                let system_value = &p.tree["systems"][s];
                for &seed in &loaded.config.seeds.0 {
                    runs.push(RunSpec {
                        index: runs.len(),
                        point: p.index,
                        system: s,
                        seed,
                        key: key_of(
                            kind.info().name,
                            &p.cluster_json,
                            &p.tree["workload"],
                            system_value,
                            seed,
                        ),
                    });
                }
            }
        }
        let plan = Plan { loaded, kind, axes, points, prepared, runs };
        crate::report::check_plots(&plan)?;
        Ok(plan)
    }

    /// The prepared run of (point, system).
    pub fn prepared(&self, point: usize, system: usize) -> &Arc<dyn PreparedRun> {
        &self.prepared[point * self.loaded.config.systems.len() + system]
    }

    /// The name of system `i`.
    pub fn system_name(&self, i: usize) -> &str {
        &self.loaded.config.systems[i].name
    }

    /// "workload.bytes=1MiB, cluster.nodes=2 / ring / seed 3".
    pub fn label(&self, run: &RunSpec) -> String {
        let params: Vec<String> = self.points[run.point]
            .params
            .iter()
            .map(|(k, v)| format!("{k}={}", plain(v)))
            .collect();
        let point = if params.is_empty() { "base".to_string() } else { params.join(", ") };
        format!("{point} / {} / seed {}", self.system_name(run.system), run.seed)
    }

    /// The config as resolved: overrides applied, seeds listed (YAML text).
    pub fn resolved_yaml(&self) -> String {
        let mut tree = self.loaded.tree.clone();
        if let Value::Object(m) = &mut tree {
            m.insert(
                "seeds".into(),
                serde_json::to_value(&self.loaded.config.seeds.0).unwrap_or(Value::Null),
            );
        }
        serde_saphyr::to_string(&tree).unwrap_or_default()
    }

    /// Indices of the runs selected by each `where`/`system`/`seed` filter (for traces).
    pub fn matching_runs(&self, filter: &crate::report::RunFilter) -> Vec<usize> {
        self.runs
            .iter()
            .filter(|r| {
                filter.matches(&self.points[r.point].params, self.system_name(r.system), r.seed)
            })
            .map(|r| r.index)
            .collect()
    }

    /// Axis values by point, as ordered maps (for summaries).
    pub fn point_params(&self) -> Vec<BTreeMap<String, Value>> {
        self.points
            .iter()
            .map(|p| p.params.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .collect()
    }
}

/// A JSON value as plain text: strings unquoted.
pub fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
