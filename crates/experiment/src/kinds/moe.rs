//! `kind: moe` — MoE training with dynamic expert load (crates/moe): DeepSpeed, FlexMoE and
//! SwiftMoE expert placement, time to a target loss.

use std::sync::Arc;

use cluster::Cluster;
use moe::{MoeError, MoeWorkload, SystemSpec};
use serde_json::Value;
use simcore::RunResult;

use crate::error::ConfigError;
use crate::kind::{Described, Kind, PrepareCtx, PreparedRun};
use crate::value_path::Path;

/// The MoE kind.
pub struct MoeKind;

const SYSTEMS: &[Described] = &[
    Described {
        name: "deepspeed",
        unit: "",
        description: "static replicas (S*W/E per class), capacity factor, drops; optimizer offloaded, ZeRO-1 over replicas",
    },
    Described {
        name: "flexmoe",
        unit: "",
        description: "rebalances every `interval` iterations (or past `skew_threshold`), migrating weights and optimizer state; params: interval, skew_threshold, max_moves",
    },
    Described {
        name: "swiftmoe",
        unit: "",
        description: "re-places replicas every iteration from the last popularity; optimizer sharded over all ranks, no migration",
    },
    Described {
        name: "nodrop",
        unit: "",
        description: "static replicas with unlimited capacity: no drops (upper bound on quality)",
    },
];

const METRICS: &[Described] = &[
    Described {
        name: "time_to_target_s",
        unit: "s",
        description: "simulated training time until the convergence model reaches the target (or max_iterations)",
    },
    Described { name: "iterations_to_target", unit: "", description: "iterations run" },
    Described {
        name: "reached_target",
        unit: "",
        description: "1 if the target was reached within max_iterations",
    },
    Described { name: "iter_time_s", unit: "s", description: "mean iteration time" },
    Described {
        name: "tokens_dropped_frac",
        unit: "",
        description: "dropped token-to-expert assignments over all routed ones",
    },
    Described {
        name: "rebalance_time_frac",
        unit: "",
        description: "time spent migrating replicas over total time",
    },
    Described { name: "peak_hbm_bytes", unit: "B", description: "device memory per GPU" },
    Described {
        name: "peak_host_bytes",
        unit: "B",
        description: "host memory per node (offloaded optimizer state)",
    },
];

const SERIES: &[Described] = &[
    Described { name: "iter_time_s", unit: "s", description: "time of each iteration" },
    Described { name: "dropped_frac", unit: "", description: "dropped fraction of each iteration" },
    Described {
        name: "progress",
        unit: "",
        description: "progress towards the target after each iteration (0 to 1)",
    },
    Described { name: "elapsed_s", unit: "s", description: "simulated time after each iteration" },
];

const MATRICES: &[Described] = &[Described {
    name: "gpu_load",
    unit: "tokens",
    description: "tokens processed per GPU (columns) per iteration (rows, subsampled to 200)",
}];

struct Prepared {
    cluster: Arc<Cluster>,
    run: moe::run::Prepared,
}

impl Kind for MoeKind {
    fn name(&self) -> &'static str {
        "moe"
    }

    fn description(&self) -> &'static str {
        "MoE training with skewed, shifting expert load: expert placement systems and time to target loss"
    }

    fn systems(&self) -> &'static [Described] {
        SYSTEMS
    }

    fn metrics(&self) -> &'static [Described] {
        METRICS
    }

    fn series(&self) -> &'static [Described] {
        SERIES
    }

    fn matrices(&self) -> &'static [Described] {
        MATRICES
    }

    fn headline_metrics(&self) -> &'static [&'static str] {
        &["time_to_target_s", "iterations_to_target", "tokens_dropped_frac"]
    }

    fn prepare(&self, ctx: &PrepareCtx<'_>) -> Result<Arc<dyn PreparedRun>, ConfigError> {
        let workload: MoeWorkload = ctx.workload()?;
        let name = ctx.system.implementation();
        if !SYSTEMS.iter().any(|s| s.name == name) {
            return Err(ctx.unknown_system(SYSTEMS));
        }
        let mut params = match &ctx.system.params {
            Value::Null => serde_json::Map::new(),
            Value::Object(m) => m.clone(),
            _ => {
                return Err(
                    ctx.error(&ctx.system_path("params"), "params must be a mapping".into())
                );
            }
        };
        params.insert("system".into(), Value::String(name.to_string()));
        let spec: SystemSpec =
            ctx.loaded.typed(&Value::Object(params), &ctx.system_path("params"), ctx.assigned)?;
        let run = moe::run::prepare(&ctx.cluster, &workload, &spec).map_err(|e| match e {
            MoeError::Invalid { field, message } => {
                let path = match field.strip_prefix("params.") {
                    Some(rest) => {
                        Path::parse(&format!("systems[{}].params.{rest}", ctx.system_index))
                    }
                    None => Path::parse(&field),
                }
                .unwrap_or_default();
                ctx.error(&path, message)
            }
            other => ctx.error(&Path::parse("workload").unwrap_or_default(), other.to_string()),
        })?;
        Ok(Arc::new(Prepared { cluster: ctx.cluster.clone(), run }))
    }
}

impl PreparedRun for Prepared {
    fn run(&self, seed: u64, trace: bool) -> Result<RunResult, String> {
        self.run.run(&self.cluster, seed, trace).map_err(|e| e.to_string())
    }
}
