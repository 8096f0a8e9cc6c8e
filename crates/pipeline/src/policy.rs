//! What a failure policy decides: for the current set of failed GPUs, whether and how the job
//! runs (a [`Program`] of passes per GPU, identified by a normalized key so equivalent failure
//! patterns share one evaluation), and what each change costs (a pause, a rollback to the
//! last checkpoint).

use crate::failures::JobShape;
use crate::iteration::{Program, StageWork};
use crate::schedule::Schedule;
use crate::stages::Parallelism;
use models::TransformerSpec;
use simcore::InputError;

/// The healthy job, as policies see it.
#[derive(Clone, Debug)]
pub struct JobModel {
    /// Stages, pipelines, GPUs per node.
    pub shape: JobShape,
    /// The healthy schedule.
    pub schedule: Schedule,
    /// Work per stage of the healthy partition.
    pub work: Vec<StageWork>,
    /// The model (for re-partitioning).
    pub model: TransformerSpec,
    /// Sequences per micro-batch.
    pub micro_batch_size: u32,
    /// Whether the workload's steps are staggered.
    pub staggered: bool,
    /// Device memory per GPU, bytes.
    pub hbm_bytes: f64,
    /// Tensor and sequence parallelism, recomputation, layer split.
    pub par: Parallelism,
    /// Model and optimizer state bytes per parameter (16 or 18).
    pub state_bytes_per_param: f64,
    /// Data-parallel gradient reduction: all-reduce or the distributed optimizer.
    pub dp_reduce: crate::config::DpReduce,
}

/// Bytes per parameter the distributed optimizer shards over the data-parallel replicas: fp32
/// master weights 4 and Adam's two moments 4 + 4 (ZeRO's `K = 12`, Rajbhandari et al. 2020).
pub const SHARDED_BYTES_PER_PARAM: f64 = 12.0;

impl JobModel {
    /// Samples (sequences) per healthy iteration: `D * m * b`.
    pub fn samples_per_iteration(&self) -> f64 {
        f64::from(self.shape.pipelines)
            * f64::from(self.schedule.micro_batches)
            * f64::from(self.micro_batch_size)
    }

    /// Layers of each virtual stage of a pipeline of `stages` stages (the workload's split):
    /// `stages x interleave` entries, virtual stage `c p + s` being chunk `c` of GPU `s`.
    pub fn layers_per_stage(&self, stages: u32) -> Vec<u32> {
        crate::stages::split_layers(&self.model, self.micro_batch_size, stages, &self.par)
    }

    /// Work per GPU of each virtual stage of a pipeline of `stages` stages (one per stage
    /// without interleaving).
    pub fn stage_works(&self, stages: u32) -> Vec<StageWork> {
        let parts = self.layers_per_stage(stages);
        parts
            .iter()
            .enumerate()
            .map(|(s, &l)| {
                crate::stages::stage_work_with(
                    &self.model,
                    self.micro_batch_size,
                    l,
                    s == 0,
                    s + 1 == parts.len(),
                    &self.par,
                )
            })
            .collect()
    }

    /// Per stage of a pipeline of `stages` stages running `micro_batches`, the bytes on each of
    /// its GPUs: `(state, activations)`, state = `state_bytes_per_param` per parameter on the GPU
    /// (16: 16-bit weights and gradients, fp32 master weights and Adam moments; Rajbhandari et
    /// al., ZeRO, 2020), activations = the schedule's peak with the per-layer `M_B` and `M_W`
    /// of [`crate::stages::layer_activations`]. `None` when the schedule cannot be built.
    ///
    /// With interleaving (`v` chunks per GPU) a GPU's state is that of its `v` chunks and its
    /// activations are the interleaved order walked with each chunk's layers: on GPU 0 at
    /// most `2(p - 1) + (v - 1)p + 1` chunk-micro-batches of `L / (p v)` layers are in flight,
    /// `(1 + (p - 1) / (p v))` times 1F1B's `p` micro-batches of `L / p` layers (Korthikanti
    /// et al. 2022, §4.2.3). With the distributed optimizer
    /// ([`JobModel::state_bytes`]) the fp32 optimizer state is divided by the data-parallel
    /// degree.
    pub fn stage_memory(&self, stages: u32, micro_batches: u32) -> Option<Vec<(f64, f64)>> {
        let v = self.par.interleave.max(1);
        let sched =
            Schedule::build_interleaved(self.schedule.kind, stages, micro_batches.max(1), v)
                .ok()?;
        let (m_b, m_w) =
            crate::stages::layer_activations(&self.model, self.micro_batch_size, &self.par);
        // A fused backward (GPipe, 1F1B) computes each layer's weight gradient right after its
        // input gradient, so `M_W` is never held for a whole stage: its B frees the
        // micro-batch's `M_B` as it goes. Without full recomputation `M_W < M_B` and this
        // changes nothing; with it (`M_B = 2sbh < M_W = 32sbh / t`) the walk would otherwise
        // add `(M_W - M_B)` for every layer of the stage at each B.
        let m_w = if self.schedule.kind.fused_backward() { m_w.min(m_b) } else { m_w };
        let parts = self.layers_per_stage(stages);
        let works = self.stage_works(stages);
        if parts.len() != (stages * v) as usize {
            return None;
        }
        Some(
            (0..stages)
                .map(|s| {
                    let layers = |c: u32| f64::from(parts[(c * stages + s) as usize]);
                    let act = sched.peak_activation_by(s, |c| (m_b * layers(c), m_w * layers(c)));
                    let params: f64 = (0..v).map(|c| works[(c * stages + s) as usize].params).sum();
                    (self.state_bytes(params), act)
                })
                .collect(),
        )
    }

    /// Bytes of model and optimizer state on a GPU holding `params` parameters:
    /// `state_bytes_per_param` each with plain all-reduce; with the distributed optimizer
    /// (ZeRO stage 1, Rajbhandari et al. 2020) the 12 bytes of fp32 master weights and Adam
    /// moments are sharded over the `D` data-parallel replicas and the rest (16-bit weights 2
    /// and gradients 2, or fp32 gradients 4 with 18) kept: `(S - 12) + 12 / D` per parameter,
    /// Megatron-LM's `4 + 12/d` and `6 + 12/d`.
    pub fn state_bytes(&self, params: f64) -> f64 {
        let s = self.state_bytes_per_param;
        match self.dp_reduce {
            crate::config::DpReduce::AllReduce => s * params,
            crate::config::DpReduce::DistributedOptimizer => {
                let sharded = SHARDED_BYTES_PER_PARAM.min(s);
                let d = f64::from(self.shape.pipelines.max(1));
                ((s - sharded) + sharded / d) * params
            }
        }
    }

    /// Bytes on the fullest GPU of a pipeline of `stages` stages running `micro_batches`:
    /// [`JobModel::stage_memory`]'s largest state + activations.
    pub fn peak_gpu_bytes(&self, stages: u32, micro_batches: u32) -> f64 {
        match self.stage_memory(stages, micro_batches) {
            Some(m) => m.iter().map(|(w, a)| w + a).fold(0.0, f64::max),
            None => f64::INFINITY,
        }
    }

    /// FLOPs per healthy iteration over the whole job: `(model FLOPs, FLOPs as Narayanan et
    /// al. count them)`. Model FLOPs: per sequence, every layer's F + B + W and the logits
    /// in each of the three (for GPT-3's block `72sh^2 l (1 + s/(6h)) + 6shV`, as the
    /// catalogue's per-layer counts give). Counted FLOPs add the recomputation: one more
    /// forward per layer with `full` (then exactly SC'21's `96Bslh^2 (1 + s/(6h) + V/(16lh))`,
    /// Narayanan et al. 2021, §5.1), the attention core's forward `4s^2h` per layer with
    /// `selective`.
    pub fn iteration_flops(&self) -> (f64, f64) {
        let seqs = self.samples_per_iteration();
        let c = self.model.layer_passes(1);
        let l = f64::from(self.model.layers);
        let logits = self.model.logits_flops(1);
        let model = seqs * (l * (c.f_flops + c.b_flops + c.w_flops) + 3.0 * logits);
        let extra = seqs * l * crate::stages::recompute_flops(&self.model, 1, self.par.recompute);
        (model, model + extra)
    }

    /// Pipeline and stage of a job-wide GPU index.
    pub fn coords(&self, gpu: u32) -> (u32, u32) {
        (gpu / self.shape.stages, gpu % self.shape.stages)
    }
}

/// What a change of the failed set costs.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Reaction {
    /// Training pauses this long (restart, reconfiguration).
    pub pause: simcore::SimTime,
    /// Progress since the last checkpoint is lost.
    pub rollback: bool,
}

/// How the job runs now.
#[derive(Clone, Debug, PartialEq)]
pub enum Config {
    /// Not training (waiting for repairs).
    Down,
    /// Training.
    Run {
        /// Identifies the program up to symmetry: equal keys, equal iteration times.
        key: Vec<u32>,
        /// Samples per iteration.
        samples_per_iter: f64,
    },
}

/// A failure policy.
pub trait Policy {
    /// Reacts to the failed set becoming `failed` (after a failure if `fail`, else a repair).
    fn react(&mut self, job: &JobModel, failed: &[bool], fail: bool) -> Reaction;
    /// How the job runs with `failed` (after [`Policy::react`]).
    fn config(&self, job: &JobModel, failed: &[bool]) -> Config;
    /// The program of the current config (called once per distinct key), and whether its
    /// optimizer steps are staggered.
    fn program(&self, job: &JobModel, failed: &[bool]) -> Result<(Program, bool), InputError>;
    /// Idle spare GPUs right now (spare-servers only).
    fn idle_spare_gpus(&self) -> u32 {
        0
    }
}

/// Whether any GPU has failed.
pub fn any_failed(failed: &[bool]) -> bool {
    failed.iter().any(|&f| f)
}

/// The healthy program and the workload's step mode, for policies that run only healthy.
pub fn healthy_program(job: &JobModel) -> (Program, bool) {
    (Program::healthy(&job.schedule, job.shape.pipelines, &job.work), job.staggered)
}
