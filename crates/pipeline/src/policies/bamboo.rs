//! Bamboo: every GPU also holds a copy of the previous stage of its pipeline (stage 0 holds the
//! last) and runs that stage's forward pass redundantly, right after its own forward of the
//! same micro-batch, so the copy stays ready. When a GPU fails, its backup (the next stage's
//! GPU) takes over: it runs both stages, each in its own schedule order, interleaved on its one
//! compute stream in the order their passes become ready, and stops its redundant work.
//! If the backup has failed too, no copy is left: the pipeline is dropped (a forced restart
//! from the last checkpoint) until the GPUs are back; the other pipelines go on.
//!
//! Assumptions (docs/models/pipeline.md): the redundant forward's input activations are not
//! sent separately (Bamboo piggybacks them on the regular send); the backup's takeover pause
//! is the `failover` parameter.

use std::collections::BTreeSet;

use super::{RestartCost, failed_masks, key_of};
use crate::iteration::{PipelineDesc, Program, SyncGroup, Task, gpu_of};
use crate::policy::{Config, JobModel, Policy, Reaction};
use crate::schedule::Pass;
use simcore::InputError;

/// The policy.
pub struct Bamboo {
    failover: simcore::SimTime,
    costs: RestartCost,
    /// Pipelines without a live copy of some stage (by job index).
    dropped: BTreeSet<u32>,
}

impl Bamboo {
    /// With the takeover pause.
    pub fn new(failover: simcore::SimTime, costs: RestartCost) -> Self {
        Bamboo { failover, costs, dropped: BTreeSet::new() }
    }

    /// Whether a pipeline with failed stages `mask` keeps a live copy of every stage.
    fn covered(mask: u64, p: u32) -> bool {
        if p == 1 {
            return mask == 0;
        }
        (0..p).all(|s| mask & (1 << s) == 0 || mask & (1 << ((s + 1) % p)) == 0)
    }

    fn dropped_of(job: &JobModel, failed: &[bool]) -> BTreeSet<u32> {
        let p = job.shape.stages;
        failed_masks(failed, p, job.shape.pipelines)
            .into_iter()
            .enumerate()
            .filter(|(_, m)| !Self::covered(*m, p))
            .map(|(d, _)| d as u32)
            .collect()
    }

    fn live_masks(job: &JobModel, failed: &[bool]) -> Vec<u64> {
        let p = job.shape.stages;
        let mut masks: Vec<u64> = failed_masks(failed, p, job.shape.pipelines)
            .into_iter()
            .filter(|m| Self::covered(*m, p))
            .collect();
        masks.sort_unstable();
        masks
    }
}

impl Policy for Bamboo {
    fn react(&mut self, job: &JobModel, failed: &[bool], fail: bool) -> Reaction {
        let now = Self::dropped_of(job, failed);
        let newly_dropped = now.iter().any(|d| !self.dropped.contains(d));
        self.dropped = now;
        if newly_dropped {
            Reaction { pause: self.costs.restart_and_load, rollback: true }
        } else {
            // A takeover, or a repaired GPU taking its stage back.
            let _ = fail;
            Reaction { pause: self.failover, rollback: false }
        }
    }

    fn config(&self, job: &JobModel, failed: &[bool]) -> Config {
        let masks = Self::live_masks(job, failed);
        if masks.is_empty() {
            return Config::Down;
        }
        let samples = masks.len() as f64
            * f64::from(job.schedule.micro_batches)
            * f64::from(job.micro_batch_size);
        Config::Run { key: key_of(3, masks), samples_per_iter: samples }
    }

    fn program(&self, job: &JobModel, failed: &[bool]) -> Result<(Program, bool), InputError> {
        let p = job.shape.stages;
        let masks = Self::live_masks(job, failed);
        let dp = masks.len() as u32;
        let m = job.schedule.micro_batches;
        let mut gpus = Vec::new();
        // GPU running each (pipeline, stage).
        let mut runs = vec![vec![None; p as usize]; dp as usize];
        for (i, mask) in masks.iter().enumerate() {
            let i = i as u32;
            let down = |s: u32| mask & (1 << s) != 0;
            for s in (0..p).filter(|&s| !down(s)) {
                let prev = (s + p - 1) % p;
                let gpu = gpu_of(i, s, p);
                runs[i as usize][s as usize] = Some(gpu);
                let takes_over = p > 1 && down(prev);
                if takes_over {
                    runs[i as usize][prev as usize] = Some(gpu);
                }
                let mut tasks = Vec::new();
                for st in &job.schedule.order[s as usize] {
                    tasks.push(Task::new(i, s, *st));
                    if p > 1 && !takes_over && st.pass == Pass::F {
                        tasks.push(Task {
                            pipeline: i,
                            stage: prev,
                            pass: Pass::F,
                            micro: st.micro,
                            redundant: true,
                        });
                    }
                }
                if takes_over {
                    // The failed stage's passes in its own order, on a second lane of this GPU.
                    let theirs =
                        job.schedule.order[prev as usize].iter().map(|st| Task::new(i, prev, *st));
                    gpus.push((gpu, theirs.collect()));
                }
                gpus.push((gpu, tasks));
            }
        }
        let sync = (0..p)
            .map(|s| SyncGroup {
                members: runs.iter().filter_map(|r| r[s as usize]).collect(),
                params: job.work[s as usize].params,
                stages: (0..dp).map(|i| (i, s)).collect(),
            })
            .collect();
        gpus.sort_by_key(|(g, _)| g.0);
        let desc = PipelineDesc { work: job.work.clone(), micro_batches: m };
        let program = Program {
            pipelines: vec![desc; dp as usize],
            gpus,
            sync,
            fused_backward: job.schedule.kind.fused_backward(),
        };
        Ok((program, job.staggered))
    }
}
