//! What a run simulates: the `workload` (model, pipelines, schedule, failures) and the
//! `system` (the failure policy).

use serde::{Deserialize, Serialize};

use cluster::Dtype;
use simcore::SimTime;
use simcore::units::Bandwidth;
use taskgraph::NetworkMode;

use crate::failures::FailureSpec;
use crate::schedule::ScheduleKind;
use models::TransformerSpec;
use simcore::InputError;

pub use models::ModelRef;

/// The model of `model`; an unknown preset is an error listing them.
pub fn resolve_model(model: &ModelRef) -> Result<TransformerSpec, InputError> {
    models::resolve(model).map_err(|e| InputError::invalid("model", e))
}

/// When stages update their weights relative to each other. A workload setting: every policy
/// runs with it (checkpoint-restart, spare servers, Bamboo, Oobleck and SlipStream alike).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepMode {
    /// Staggered for ZB-H2 (it needs the ZB paper's post-validation for zero bubble),
    /// synchronous otherwise.
    #[default]
    Auto,
    /// Every stage waits for every other before the next iteration.
    Synchronous,
    /// Each stage starts its next iteration after its own step.
    Staggered,
}

/// Checkpointing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointSpec {
    /// Time between checkpoints; default: Young's optimum `sqrt(2 * save * MTBF)` for a failure
    /// process, else 1 hour.
    #[serde(default)]
    pub interval: Option<SimTime>,
    /// Bandwidth per node for saving and loading; default: the node's NVMe drives.
    #[serde(default)]
    pub bandwidth: Option<Bandwidth>,
}

/// The `workload:` of `kind: pipeline`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineWorkload {
    /// The model.
    pub model: ModelRef,
    /// Pipeline stages p.
    pub stages: u32,
    /// Data-parallel pipelines D; default: as many as the cluster's GPUs hold.
    #[serde(default)]
    pub pipelines: Option<u32>,
    /// Micro-batches per pipeline and iteration m.
    pub micro_batches: u32,
    /// Sequences per micro-batch b.
    #[serde(default = "one")]
    pub micro_batch_size: u32,
    /// The schedule every policy runs (default `1f1b`, Megatron-LM's and DeepSpeed's default;
    /// see docs/models/pipeline.md §3).
    #[serde(default = "one_f_one_b")]
    pub schedule: ScheduleKind,
    /// Synchronous or staggered optimizer steps, for every policy (default `auto`).
    #[serde(default)]
    pub optimizer_step: StepMode,
    /// Number format.
    #[serde(default = "bf16")]
    pub dtype: Dtype,
    /// Network model of the iteration graphs.
    #[serde(default)]
    pub network: NetworkMode,
    /// Failures; none by default.
    #[serde(default)]
    pub failures: Option<FailureSpec>,
    /// Simulated training time.
    #[serde(default = "one_day")]
    pub duration: SimTime,
    /// Checkpointing.
    #[serde(default)]
    pub checkpoint: CheckpointSpec,
    /// Time to restart the job's processes and re-form its communicators before loading a
    /// checkpoint (assumption, see docs/models/pipeline.md).
    #[serde(default = "restart")]
    pub restart: SimTime,
}

fn one() -> u32 {
    1
}
fn one_f_one_b() -> ScheduleKind {
    ScheduleKind::OneFOneB
}
fn bf16() -> Dtype {
    Dtype::Bf16
}
fn one_day() -> SimTime {
    SimTime::from_secs(86_400)
}
fn restart() -> SimTime {
    SimTime::from_secs(60)
}

/// Which policy keeps training going.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "system", deny_unknown_fields)]
pub enum SystemSpec {
    /// Stop, wait for the failed GPUs, restart from the last checkpoint.
    CheckpointRestart,
    /// Replace a failed node from a pool of spare nodes, restart from the last checkpoint.
    SpareServers {
        /// Spare nodes in the pool.
        #[serde(default = "one")]
        spares: u32,
    },
    /// Redundant copies of the previous stage; the backup takes over a failed stage.
    Bamboo {
        /// Pause while the backup takes over.
        #[serde(default = "bamboo_failover")]
        failover: SimTime,
    },
    /// Re-instantiate shorter pipelines from templates and re-split the batch.
    Oobleck {
        /// Pause to reconfigure (copy states, re-form communicators).
        #[serde(default = "oobleck_reconfigure")]
        reconfigure: SimTime,
    },
    /// Re-route a failed GPU's micro-batches to its data-parallel peers.
    Slipstream {
        /// Pause to switch to the precomputed plan for the new failure pattern.
        #[serde(default = "slipstream_replan")]
        replan: SimTime,
    },
}

fn bamboo_failover() -> SimTime {
    SimTime::from_secs(10)
}
fn oobleck_reconfigure() -> SimTime {
    SimTime::from_secs(30)
}
fn slipstream_replan() -> SimTime {
    SimTime::from_secs(5)
}

impl SystemSpec {
    /// The system's name as in configs.
    pub fn name(&self) -> &'static str {
        match self {
            SystemSpec::CheckpointRestart => "checkpoint-restart",
            SystemSpec::SpareServers { .. } => "spare-servers",
            SystemSpec::Bamboo { .. } => "bamboo",
            SystemSpec::Oobleck { .. } => "oobleck",
            SystemSpec::Slipstream { .. } => "slipstream",
        }
    }
}
