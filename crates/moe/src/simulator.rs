//! `kind: moe` — what this simulator offers the experiment runner: MoE training with dynamic expert load: DeepSpeed, FlexMoE and SwiftMoE expert placement and time to a target loss.
//! The metrics, series and matrices declared here are the names `run` emits; the runner checks
//! every run's result against them.

use cluster::Cluster;
use simcore::{Described, Description, InputError, RunResult, Simulator};

use crate::run::Prepared;
use crate::{MoeWorkload, SystemSpec};

/// The moe simulator, as the experiment runner drives it.
pub struct MoeSimulator;

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
        description: "target reached: 1 if within max_iterations, else 0",
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
    Described { name: "peak_hbm_bytes", unit: "B", description: "peak device memory per GPU" },
    Described {
        name: "peak_host_bytes",
        unit: "B",
        description: "peak host memory per node (offloaded optimizer state)",
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

const DESCRIPTION: Description = Description {
    name: "moe",
    description: "MoE training with skewed, shifting expert load: expert placement systems and time to target loss",
    systems: SYSTEMS,
    metrics: METRICS,
    series: SERIES,
    matrices: MATRICES,
    headline_metrics: &["time_to_target_s", "iterations_to_target", "tokens_dropped_frac"],
};

impl Simulator for MoeSimulator {
    type Env = Cluster;
    type Workload = MoeWorkload;
    type System = SystemSpec;
    type Prepared = Prepared;

    const DESCRIPTION: Description = DESCRIPTION;

    fn prepare(
        cluster: &Cluster,
        workload: &MoeWorkload,
        system: &SystemSpec,
    ) -> Result<Prepared, InputError> {
        crate::run::prepare(cluster, workload, system)
    }

    fn run(
        prepared: &Prepared,
        cluster: &Cluster,
        seed: u64,
        trace: bool,
    ) -> Result<RunResult, InputError> {
        prepared.run(cluster, seed, trace)
    }
}
