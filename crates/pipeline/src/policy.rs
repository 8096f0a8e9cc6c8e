//! What a failure policy decides: for the current set of failed GPUs, whether and how the job
//! runs (a [`Program`] of passes per GPU, identified by a normalized key so equivalent failure
//! patterns share one evaluation), and what each change costs (a pause, a rollback to the
//! last checkpoint).

use crate::failures::JobShape;
use crate::iteration::{Program, StageWork};
use crate::schedule::Schedule;
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
}

impl JobModel {
    /// Samples (sequences) per healthy iteration: `D * m * b`.
    pub fn samples_per_iteration(&self) -> f64 {
        f64::from(self.shape.pipelines)
            * f64::from(self.schedule.micro_batches)
            * f64::from(self.micro_batch_size)
    }

    /// Bytes on the fullest GPU of a pipeline of `stages` stages running `micro_batches`:
    /// 16 bytes per parameter (16-bit weights and gradients, fp32 master weights and Adam
    /// moments; Rajbhandari et al., ZeRO, 2020) plus the schedule's peak activations.
    pub fn peak_gpu_bytes(&self, stages: u32, micro_batches: u32) -> f64 {
        let Ok(sched) = Schedule::build(self.schedule.kind, stages, micro_batches.max(1)) else {
            return f64::INFINITY;
        };
        let c = self.model.layer_passes(self.micro_batch_size);
        let parts = crate::stages::partition(&self.model, stages);
        parts
            .iter()
            .enumerate()
            .map(|(s, &l)| {
                let w = crate::stages::stage_work(
                    &self.model,
                    self.micro_batch_size,
                    l,
                    s == 0,
                    s + 1 == parts.len(),
                );
                let act =
                    sched.peak_activation(s as u32, c.m_b * f64::from(l), c.m_w * f64::from(l));
                16.0 * w.params + act
            })
            .fold(0.0, f64::max)
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
