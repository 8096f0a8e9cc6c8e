//! `kind: pipeline` — what this simulator offers the experiment runner: pipeline-parallel training under GPU failures: checkpoint-restart, spare servers, Bamboo, Oobleck and SlipStream, each over the workload's schedule (GPipe, 1F1B, zero-bubble).
//! The metrics, series and matrices declared here are the names `run` emits; the runner checks
//! every run's result against them.

use cluster::Cluster;
use simcore::{Described, Description, InputError, RunResult, Simulator};

use crate::run::Prepared;
use crate::{PipelineWorkload, SystemSpec};

/// The pipeline simulator, as the experiment runner drives it.
pub struct PipelineSimulator;

const SYSTEMS: &[Described] = &[
    Described {
        name: "checkpoint-restart",
        unit: "",
        description: "stop on a failure, wait for the repair, restart from the last checkpoint",
    },
    Described {
        name: "spare-servers",
        unit: "",
        description: "swap a failed node for a spare one and restart from the last checkpoint; params: spares (nodes, default 1)",
    },
    Described {
        name: "bamboo",
        unit: "",
        description: "redundant forward of the previous stage, held on another node; the backup takes over a failed stage; params: failover (default 10s)",
    },
    Described {
        name: "oobleck",
        unit: "",
        description: "re-instantiate shorter pipelines from templates and re-split the batch; layer-wise gradient sync; a checkpoint restart only when every copy of a layer is lost; params: reconfigure (default 30s)",
    },
    Described {
        name: "slipstream",
        unit: "",
        description: "re-route a failed GPU's micro-batches to its data-parallel peers (with the workload's schedule and step mode, as every system); params: replan (default 5s)",
    },
];

const METRICS: &[Described] = &[
    Described {
        name: "throughput_samples_s",
        unit: "samples/s",
        description: "sequences trained per second, mean over the whole run (failures, restarts and lost work included)",
    },
    Described {
        name: "throughput_vs_healthy",
        unit: "",
        description: "throughput over the plain schedule's without failures",
    },
    Described {
        name: "iter_time_s",
        unit: "s",
        description: "the policy's iteration time without failures (steady state)",
    },
    Described {
        name: "bubble_frac",
        unit: "",
        description: "idle fraction of the GPUs' compute streams during an iteration without failures",
    },
    Described {
        name: "peak_act_bytes",
        unit: "B",
        description: "peak activation memory of the fullest stage (ZB paper Table 2 accounting)",
    },
    Described {
        name: "peak_mem_bytes",
        unit: "B",
        description: "bytes on the fullest GPU: model and optimizer state (state_bytes_per_param per parameter on the GPU) plus the schedule's peak activations (Korthikanti et al.'s per-layer formulas)",
    },
    Described {
        name: "tflops_per_gpu",
        unit: "TFLOP/s",
        description: "FLOPs per iteration as Narayanan et al. (SC'21) count them (recomputation included: 96Bslh^2(1 + s/(6h) + V/(16lh)) with full recomputation) over the policy's iteration time without failures and all the job's GPUs",
    },
    Described {
        name: "mfu",
        unit: "",
        description: "model FLOPs utilisation: model FLOPs per iteration (no recomputation) over the iteration time without failures, the job's GPUs and the GPU's peak dense FLOP/s in the workload's dtype",
    },
    Described {
        name: "compute_s",
        unit: "s",
        description: "step time breakdown of the first pipeline's critical stage (the GPU of pipeline 0 whose kernels and TP collectives take longest), in the policy's iteration without failures: time its pass kernels run; with tp_comm_exposed_s, optimizer_s, dp_comm_exposed_s and bubble_s it adds up to iter_time_s (each instant goes to the first category that covers it, in that order)",
    },
    Described {
        name: "tp_comm_exposed_s",
        unit: "s",
        description: "breakdown: time the critical stage's TP collectives run while none of its kernels does",
    },
    Described {
        name: "optimizer_s",
        unit: "s",
        description: "breakdown: time the critical stage's optimizer steps run",
    },
    Described {
        name: "dp_comm_exposed_s",
        unit: "s",
        description: "breakdown: time a data-parallel collective of the critical stage (gradient all-reduce or reduce-scatter, weight all-gather) runs while it computes nothing",
    },
    Described {
        name: "bubble_s",
        unit: "s",
        description: "breakdown: the rest of the critical stage's iteration: waiting for other stages (fill, drain, imbalance, sends) and for the iteration barrier; unlike bubble_frac, exposed TP and DP communication and the optimizer step are not counted in it",
    },
    Described { name: "restarts", unit: "", description: "job restarts from a checkpoint" },
    Described {
        name: "lost_work_s",
        unit: "s",
        description: "training time thrown away: recomputed iterations since the last checkpoint and interrupted partial iterations",
    },
    Described {
        name: "spare_gpu_hours",
        unit: "GPU-h",
        description: "GPU-hours of spare servers standing idle",
    },
    Described {
        name: "checkpoint_interval_s",
        unit: "s",
        description: "time between checkpoints (Young's optimum unless set)",
    },
];

const SERIES: &[Described] = &[
    Described {
        name: "time_h",
        unit: "h",
        description: "end of each of the 200 equal windows of the run (x axis for the other series)",
    },
    Described {
        name: "throughput_samples_s",
        unit: "samples/s",
        description: "throughput in each of 200 equal windows of the run",
    },
    Described {
        name: "failed_gpus",
        unit: "GPUs",
        description: "failed GPUs at the end of each of the 200 windows",
    },
    Described {
        name: "peak_act_bytes_by_stage",
        unit: "B",
        description: "peak activation memory of each stage (entry s = stage s)",
    },
    Described {
        name: "peak_mem_bytes_by_stage",
        unit: "B",
        description: "bytes on each GPU of each stage: state plus peak activations (entry s = stage s)",
    },
    Described {
        name: "bubble_frac_by_stage",
        unit: "",
        description: "idle fraction of each stage's GPUs in the policy's iteration without failures (entry s = stage s)",
    },
    Described {
        name: "iter_time_by_failures_s",
        unit: "s",
        description: "mean iteration time by failed GPUs: entry k with k failed GPUs (0 where never seen)",
    },
];

const DESCRIPTION: Description = Description {
    name: "pipeline",
    description: "pipeline-parallel training under GPU failures: schedules, restarts, spares, Bamboo, Oobleck, SlipStream",
    systems: SYSTEMS,
    metrics: METRICS,
    series: SERIES,
    matrices: &[],
    headline_metrics: &["throughput_samples_s", "throughput_vs_healthy", "restarts"],
};

impl Simulator for PipelineSimulator {
    type Env = Cluster;
    type Workload = PipelineWorkload;
    type System = SystemSpec;
    type Prepared = Prepared;

    const DESCRIPTION: Description = DESCRIPTION;

    fn prepare(
        cluster: &Cluster,
        workload: &PipelineWorkload,
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
