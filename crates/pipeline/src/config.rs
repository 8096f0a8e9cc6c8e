//! What a run simulates: the `workload` (model, pipelines, schedule, failures) and the
//! `system` (the failure policy).

use serde::{Deserialize, Serialize};

use cluster::Dtype;
use simcore::SimTime;
use simcore::units::{Bandwidth, Bytes};
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

/// Activation recomputation (Korthikanti et al., "Reducing Activation Recomputation in Large
/// Transformer Models", MLSys 2023): which activations a layer keeps from F until B.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Recompute {
    /// Keep every activation (their Table 2, first three rows).
    #[default]
    None,
    /// Recompute the attention core (`QK^T`, softmax, its dropout, attention over `V`) in the
    /// backward pass; its `5as/(ht)` activations are not kept.
    Selective,
    /// Keep only each layer's input (`2sbh` bytes) and rerun the layer's forward in the
    /// backward pass.
    Full,
}

impl Recompute {
    fn is_none(&self) -> bool {
        *self == Recompute::None
    }
}

/// How layers are assigned to pipeline stages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Split {
    /// As even as possible, the first stages one more (Megatron-LM's default).
    #[default]
    Even,
    /// Contiguous layers per stage minimising the largest stage's F + B + W FLOPs, the output
    /// layer's logits on the last stage included (an exact dynamic programme).
    Balanced,
}

impl Split {
    fn is_even(&self) -> bool {
        *self == Split::Even
    }
}

/// How the data-parallel replicas of a stage combine their gradients and step.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DpReduce {
    /// All-reduce the 16-bit gradients, then every replica steps all its parameters.
    #[default]
    AllReduce,
    /// Megatron-LM's distributed optimizer (`--use-distributed-optimizer`, ZeRO stage 1 of
    /// Rajbhandari et al. 2020): reduce-scatter the gradients, each replica steps its `1/D`
    /// shard (holding only that shard's fp32 master weights and Adam moments), then
    /// all-gather the updated 16-bit weights.
    DistributedOptimizer,
}

impl DpReduce {
    fn is_all_reduce(&self) -> bool {
        *self == DpReduce::AllReduce
    }
}

/// Which data-parallel replicas (pipelines) of the plain job are simulated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Replicas {
    /// Every pipeline, each GPU's every op (exact).
    #[default]
    All,
    /// Pipeline 0 only; its data-parallel collectives still run over every replica's GPUs.
    /// `D` times fewer ops; an approximation, because the replicas left out neither differ
    /// from pipeline 0 (sends that cross a leaf switch at other stages) nor contend with it
    /// on the fabric (docs/models/pipeline.md §4b). Plain job without failures only.
    One,
}

impl Replicas {
    fn is_all(&self) -> bool {
        *self == Replicas::All
    }
}

/// PyTorch DDP's default gradient bucket, `bucket_cap_mb = 25` (25 MiB).
pub const DEFAULT_GRAD_BUCKET_BYTES: u64 = 25 << 20;

fn default_bucket() -> Bytes {
    Bytes(DEFAULT_GRAD_BUCKET_BYTES)
}
fn is_default_bucket(b: &Bytes) -> bool {
    b.0 == DEFAULT_GRAD_BUCKET_BYTES
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
    /// Tensor-parallel degree t (Megatron's column- then row-parallel attention and MLP): each
    /// stage runs on t consecutive GPUs of a node; the job uses `t x stages x pipelines` GPUs.
    /// Default 1 (no tensor parallelism).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub tp: u32,
    /// Allow a tensor-parallel group to span nodes (default false: an error).
    #[serde(default, skip_serializing_if = "is_false")]
    pub tp_across_nodes: bool,
    /// Sequence parallelism (Korthikanti et al. 2022): all-gather + reduce-scatter in place of
    /// each tensor-parallel all-reduce, norms and dropout split along the sequence. Needs tp > 1
    /// to change anything.
    #[serde(default, skip_serializing_if = "is_false")]
    pub sp: bool,
    /// Activation recomputation: `none` (default), `selective` or `full`.
    #[serde(default, skip_serializing_if = "Recompute::is_none")]
    pub recompute: Recompute,
    /// Layers per stage: `even` (default) or `balanced`.
    #[serde(default, skip_serializing_if = "Split::is_even")]
    pub split: Split,
    /// Model each layer's memory-bound kernels (LayerNorm, bias+GeLU, bias+dropout+add, the
    /// attention scores' softmax and dropout, their backward passes) from the tensor shapes,
    /// timed by the cluster's memory-bound kernel model (docs/models/pipeline.md §2a). Default
    /// true; false counts matrix multiplications only, as before they were modelled.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub memory_bound_ops: bool,
    /// Bytes of model and optimizer state per parameter on its GPU: 16 with mixed-precision
    /// Adam (16-bit weights 2 + 16-bit gradients 2 + fp32 master weights 4 + Adam moments 4 + 4;
    /// Rajbhandari et al., ZeRO, SC'20), 18 with fp32 gradient accumulation (Megatron-LM: fp32
    /// gradients 4 instead of 2; Narayanan et al., SC'21). Default 16.
    #[serde(default = "sixteen", skip_serializing_if = "is_sixteen")]
    pub state_bytes_per_param: f64,
    /// Model chunks (virtual stages) per GPU v of Megatron-LM's interleaved 1F1B (Narayanan et
    /// al., SC'21, §2.2.2): chunk `c` of GPU `s` holds layer block `c p + s`. Needs
    /// `schedule: 1f1b` and `micro_batches` a multiple of `stages`. Default 1 (none).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub interleave: u32,
    /// Data-parallel gradient reduction: `all-reduce` (default) or `distributed-optimizer`
    /// (reduce-scatter + sharded step + all-gather; optimizer state divided by the pipelines).
    #[serde(default, skip_serializing_if = "DpReduce::is_all_reduce")]
    pub dp_reduce: DpReduce,
    /// Launch each gradient bucket's reduction as soon as the last backward of the layers it
    /// covers is done (in the last micro-batch), overlapping it with the rest of the backward
    /// pass. Default false: one reduction after the stage's last backward.
    #[serde(default, skip_serializing_if = "is_false")]
    pub overlap_grad_reduce: bool,
    /// Gradient bucket size for `overlap_grad_reduce` (default 25MiB, PyTorch DDP's
    /// `bucket_cap_mb`).
    #[serde(default = "default_bucket", skip_serializing_if = "is_default_bucket")]
    pub grad_bucket_bytes: Bytes,
    /// Data-parallel replicas simulated: `all` (default, exact) or `one` (pipeline 0 only, its
    /// gradient collectives over every replica: about `D` times faster, approximate; the plain
    /// job without failures only).
    #[serde(default, skip_serializing_if = "Replicas::is_all")]
    pub replicas: Replicas,
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
fn is_one(x: &u32) -> bool {
    *x == 1
}
fn is_false(x: &bool) -> bool {
    !*x
}
fn yes() -> bool {
    true
}
fn is_true(x: &bool) -> bool {
    *x
}
fn sixteen() -> f64 {
    16.0
}
fn is_sixteen(x: &f64) -> bool {
    *x == 16.0
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
