//! SlipStream / ReCycle: no spares and no restart. When GPU (d, s) fails, its micro-batches are
//! re-routed to stage `s` of the other pipelines, which hold the same weights: the upstream
//! stage sends the activations to the chosen peer, the peer runs the extra F, B and W and sends
//! on to the failed GPU's neighbours (our interpretation of the paper, arXiv 2405.14009; see
//! `docs/models/pipeline.md`). The extra passes are a second lane of the peer's program: they
//! share its compute stream and run where they are ready, between its own passes (the paper
//! plans their slots with a MILP; this is the greedy version).
//!
//! The schedule and the optimizer-step mode are the workload's, as for every other policy:
//! decoupled B/W and staggered steps are the zero-bubble schedules' (Qi et al., ICLR'24), not
//! SlipStream's, so SlipStream gets them only where the workload runs them. What re-routing
//! adds on top: with a decoupled schedule (`zb-h1`, `zb-h2`) the peer's extra W's wait until
//! its extra B's are done (into the cool-down bubbles, SS's adaptive schedule); with a fused
//! backward (`1f1b`, `gpipe`) the input gradient leaves only after W, so the extra W follows
//! its B at once.
//!
//! Micro-batches of a failed GPU go to the peer with the least extra work so far (ties: lowest
//! pipeline). Plans are cached per failure pattern up to a permutation of the pipelines (the
//! paper's failure normalization). A stage with no live GPU left cannot be covered: the job
//! falls back to a restart from the last checkpoint once a GPU of that stage is back.

use super::{RestartCost, failed_masks, key_of};
use crate::iteration::{PipelineDesc, Program, SyncGroup, Task, gpu_of};
use crate::policy::{Config, JobModel, Policy, Reaction};
use crate::schedule::Pass;
use simcore::InputError;

/// The policy.
pub struct Slipstream {
    replan: simcore::SimTime,
    costs: RestartCost,
    down: bool,
}

impl Slipstream {
    /// With the pause to switch plans.
    pub fn new(replan: simcore::SimTime, costs: RestartCost) -> Self {
        Slipstream { replan, costs, down: false }
    }

    fn uncoverable(job: &JobModel, failed: &[bool]) -> bool {
        let (p, dp) = (job.shape.stages, job.shape.pipelines);
        (0..p).any(|s| (0..dp).all(|d| failed.get((d * p + s) as usize).copied().unwrap_or(false)))
    }
}

impl Policy for Slipstream {
    fn react(&mut self, job: &JobModel, failed: &[bool], fail: bool) -> Reaction {
        let was_down = self.down;
        self.down = Self::uncoverable(job, failed);
        if self.down {
            Reaction { pause: simcore::SimTime::ZERO, rollback: fail && !was_down }
        } else if was_down {
            Reaction { pause: self.costs.restart_and_load, rollback: false }
        } else {
            Reaction { pause: self.replan, rollback: false }
        }
    }

    fn config(&self, job: &JobModel, failed: &[bool]) -> Config {
        if Self::uncoverable(job, failed) {
            return Config::Down;
        }
        let masks = failed_masks(failed, job.shape.stages, job.shape.pipelines);
        Config::Run { key: key_of(4, masks), samples_per_iter: job.samples_per_iteration() }
    }

    fn program(&self, job: &JobModel, failed: &[bool]) -> Result<(Program, bool), InputError> {
        let (p, dp) = (job.shape.stages, job.shape.pipelines);
        let mut masks = failed_masks(failed, p, dp);
        masks.sort_unstable();
        let down = |i: u32, s: u32| masks[i as usize] & (1 << s) != 0;
        let m = job.schedule.micro_batches;
        let fused = job.schedule.kind.fused_backward();
        let mut gpus = Vec::new();
        let mut sync = Vec::new();
        for s in 0..p {
            let alive: Vec<u32> = (0..dp).filter(|&i| !down(i, s)).collect();
            if alive.is_empty() {
                return Err(InputError::Simulation(format!("stage {s} has no live GPU")));
            }
            // Extra (pipeline, micro-batch) per peer, least-loaded first.
            let mut extra: Vec<Vec<(u32, u32)>> = vec![Vec::new(); alive.len()];
            for i in (0..dp).filter(|&i| down(i, s)) {
                for j in 0..m {
                    let k = (0..alive.len()).min_by_key(|&k| (extra[k].len(), k)).unwrap_or(0);
                    extra[k].push((i, j));
                }
            }
            for (k, &q) in alive.iter().enumerate() {
                let own = &job.schedule.order[s as usize];
                gpus.push((gpu_of(q, s, p), own.iter().map(|st| Task::new(q, s, *st)).collect()));
                if extra[k].is_empty() {
                    continue;
                }
                // The re-routed passes on a second lane, in the failed GPU's schedule order;
                // with B and W decoupled, every W after the last B (into the cool-down).
                let ex = &extra[k];
                let mine = |micro: u32| ex.iter().filter(move |x| x.1 == micro);
                let task = |i: u32, j: u32, pass: Pass| Task {
                    pipeline: i,
                    stage: s,
                    pass,
                    micro: j,
                    redundant: false,
                };
                let mut lane: Vec<Task> = Vec::with_capacity(3 * extra[k].len());
                if fused {
                    for st in own {
                        lane.extend(mine(st.micro).map(|&(i, j)| task(i, j, st.pass)));
                    }
                } else {
                    for st in own.iter().filter(|st| st.pass != Pass::W) {
                        lane.extend(mine(st.micro).map(|&(i, j)| task(i, j, st.pass)));
                    }
                    for st in own.iter().filter(|st| st.pass == Pass::W) {
                        lane.extend(mine(st.micro).map(|&(i, j)| task(i, j, Pass::W)));
                    }
                }
                gpus.push((gpu_of(q, s, p), lane));
            }
            sync.push(SyncGroup {
                members: alive.iter().map(|&q| gpu_of(q, s, p)).collect(),
                params: job.work[s as usize].params,
                stages: (0..dp).map(|i| (i, s)).collect(),
            });
        }
        gpus.sort_by_key(|(g, _)| g.0);
        let desc = PipelineDesc { work: job.work.clone(), micro_batches: m };
        Ok((
            Program { pipelines: vec![desc; dp as usize], gpus, sync, fused_backward: fused },
            job.staggered,
        ))
    }
}
