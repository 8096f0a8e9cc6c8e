//! Oobleck: pipelines are re-instantiated from templates of other lengths. A pipeline that lost
//! `f` GPUs is rebuilt on its `p - f` survivors (the model's layers re-split evenly over them);
//! a pipeline that no longer fits in memory is dropped. The global batch is kept: the `D * m`
//! micro-batches are re-split across the pipelines in proportion to their speed (the inverse of
//! their slowest stage's F + B + W FLOPs), so their iterations take about as long. Every change
//! costs a reconfiguration pause; no progress is lost (the states are copied from the other
//! pipelines' replicas) unless a failure takes out every copy of some layer
//! ([`Oobleck::state_lost`]): then the job restarts from the last checkpoint on the GPUs that
//! are up (a rollback and the restart cost), as Oobleck falls back to its checkpoint.
//!
//! Synchronisation is layer-wise, as in Oobleck: every layer's gradient is all-reduced over the
//! GPUs that hold that layer, one per pipeline, and every GPU steps the optimizer for exactly
//! the layers it holds. Consecutive layers with the same holders share one all-reduce (one
//! bucket), so a rebuilt stage all-reduces and steps its own parameters, no more
//! ([`sync_groups`]). The embedding belongs to each pipeline's first stage, the output layer
//! (tied to it) to its last.
//!
//! Order: a GPU takes part in one all-reduce at a time. With a rebuilt pipeline the pieces
//! form a staircase (plain stage 1 shares layer 4 with rebuilt stage 0 and layers 5-7 with
//! rebuilt stage 1, and so on), so issuing them in layer order, as Oobleck's engine does
//! (`do_allreduce`: one blocking all-reduce per layer, in reverse layer order), would chain the
//! pieces of the whole pipeline one after another. The iteration builder issues them in the
//! best order instead, as for every policy ([`crate::iteration::issue_order`]): two rounds for
//! one shorter pipeline. An assumption in Oobleck's favour (docs/models/pipeline.md §6).
//!
//! Assumption (docs/models/pipeline.md): the templates' search is not modelled (a rebuilt
//! pipeline spreads its layers evenly).

use super::RestartCost;
use crate::iteration::{PipelineDesc, Program, StageWork, SyncGroup, Task, gpu_of};
use crate::policy::{Config, JobModel, Policy, Reaction};
use crate::schedule::Schedule;
use models::TransformerSpec;
use simcore::InputError;

/// The policy.
pub struct Oobleck {
    reconfigure: simcore::SimTime,
    costs: RestartCost,
    /// The failed set before the latest change.
    before: Vec<bool>,
}

impl Oobleck {
    /// With the reconfiguration pause, and the restart cost for when a layer's every copy is
    /// lost.
    pub fn new(reconfigure: simcore::SimTime, costs: RestartCost) -> Self {
        Oobleck { reconfigure, costs, before: Vec::new() }
    }

    /// Whether the GPUs that failed between `before` and `after` held every copy of some
    /// layer: under `before`, each running pipeline's surviving GPUs hold its layers, evenly
    /// re-split in stage order; a layer survives where one of its holders is still up.
    pub fn state_lost(job: &JobModel, before: &[bool], after: &[bool]) -> bool {
        let (p, dp) = (job.shape.stages, job.shape.pipelines);
        let down = |f: &[bool], g: u32| f.get(g as usize).copied().unwrap_or(false);
        let mut held = vec![false; job.model.layers as usize];
        for d in 0..dp {
            let up: Vec<u32> = (0..p).filter(|&s| !down(before, d * p + s)).collect();
            let len = up.len() as u32;
            if len == 0 || job.peak_gpu_bytes(len, job.schedule.micro_batches) > job.hbm_bytes {
                continue;
            }
            let mut first = 0usize;
            for (k, &n) in job.layers_per_stage(len).iter().enumerate() {
                let n = n as usize;
                if !down(after, d * p + up[k]) {
                    held[first..first + n].iter_mut().for_each(|h| *h = true);
                }
                first += n;
            }
        }
        held.iter().any(|&h| !h)
    }

    /// Lengths of the pipelines that can run, longest first.
    fn lengths(job: &JobModel, failed: &[bool]) -> Vec<u32> {
        let (p, dp) = (job.shape.stages, job.shape.pipelines);
        let mut out: Vec<u32> = (0..dp)
            .map(|d| {
                (0..p)
                    .filter(|&s| !failed.get((d * p + s) as usize).copied().unwrap_or(false))
                    .count() as u32
            })
            .filter(|&l| {
                l > 0 && job.peak_gpu_bytes(l, job.schedule.micro_batches) <= job.hbm_bytes
            })
            .collect();
        out.sort_unstable_by(|a, b| b.cmp(a));
        out
    }

    /// Micro-batches per pipeline: `total` split in proportion to each pipeline's speed.
    fn split(job: &JobModel, lengths: &[u32], total: u32) -> Vec<u32> {
        let speed: Vec<f64> = lengths
            .iter()
            .map(|&l| {
                let slowest = job
                    .stage_works(l)
                    .iter()
                    .map(|w| w.f_flops + w.b_flops + w.w_flops)
                    .fold(0.0, f64::max);
                1.0 / slowest.max(1.0)
            })
            .collect();
        let sum: f64 = speed.iter().sum();
        let goal: Vec<f64> = speed.iter().map(|s| f64::from(total) * s / sum).collect();
        let mut m: Vec<u32> = goal.iter().map(|g| (g.floor() as u32).max(1)).collect();
        // Largest remainder until the total is met (or trim the most over-served).
        while m.iter().sum::<u32>() < total {
            let i = (0..m.len())
                .max_by(|&a, &b| {
                    (goal[a] - f64::from(m[a])).total_cmp(&(goal[b] - f64::from(m[b])))
                })
                .unwrap_or(0);
            m[i] += 1;
        }
        while m.iter().sum::<u32>() > total {
            let i = (0..m.len())
                .filter(|&i| m[i] > 1)
                .max_by(|&a, &b| {
                    (f64::from(m[a]) - goal[a]).total_cmp(&(f64::from(m[b]) - goal[b]))
                })
                .unwrap_or(0);
            m[i] -= 1;
        }
        m
    }
}

impl Policy for Oobleck {
    fn react(&mut self, job: &JobModel, failed: &[bool], fail: bool) -> Reaction {
        let before = std::mem::replace(&mut self.before, failed.to_vec());
        let was_down = Self::lengths(job, &before).is_empty();
        let now_down = Self::lengths(job, failed).is_empty();
        // Restarting from the checkpoint on the GPUs that are up (Oobleck's fallback when
        // no copy of some layer is left): nothing to pause for while nothing can run.
        let restart = if now_down { simcore::SimTime::ZERO } else { self.costs.restart_and_load };
        if was_down {
            Reaction { pause: restart, rollback: false }
        } else if fail && Self::state_lost(job, &before, failed) {
            Reaction { pause: restart, rollback: true }
        } else {
            Reaction { pause: self.reconfigure, rollback: false }
        }
    }

    fn config(&self, job: &JobModel, failed: &[bool]) -> Config {
        let lengths = Self::lengths(job, failed);
        if lengths.is_empty() {
            return Config::Down;
        }
        let mut key = vec![2];
        key.extend(&lengths);
        Config::Run { key, samples_per_iter: job.samples_per_iteration() }
    }

    fn program(&self, job: &JobModel, failed: &[bool]) -> Result<(Program, bool), InputError> {
        let p = job.shape.stages;
        let lengths = Self::lengths(job, failed);
        let total = job.shape.pipelines * job.schedule.micro_batches;
        let micro = Self::split(job, &lengths, total);
        let mut pipelines = Vec::new();
        let mut gpus = Vec::new();
        let mut parts_of = Vec::with_capacity(lengths.len());
        for (i, (&len, &m)) in lengths.iter().zip(&micro).enumerate() {
            let i = i as u32;
            let parts = job.layers_per_stage(len);
            let work: Vec<StageWork> = job.stage_works(len);
            let sched = Schedule::build(job.schedule.kind, len, m)?;
            for s in 0..len {
                let tasks = sched.order[s as usize].iter().map(|&st| Task::new(i, s, st)).collect();
                gpus.push((gpu_of(i, s, p), tasks));
            }
            parts_of.push(parts);
            pipelines.push(PipelineDesc { work, micro_batches: m });
        }
        // Parameters per GPU: a TP group's GPUs each hold 1/t of every unit.
        let t = f64::from(job.par.tp.max(1));
        let sync = sync_groups(&job.model, &parts_of, p)
            .into_iter()
            .map(|mut g| {
                g.params /= t;
                g
            })
            .collect::<Vec<_>>();
        gpus.sort_by_key(|(g, _)| g.0);
        let program =
            Program { pipelines, gpus, sync, fused_backward: job.schedule.kind.fused_backward() };
        Ok((program, job.staggered))
    }
}

/// Layer-wise gradient synchronisation of pipelines with layers per stage `parts` (one entry
/// per pipeline, pipeline `i` on GPUs `gpu_of(i, s, p)`): the model's units (the embedding, its
/// layers, the output layer) in order, cut wherever the holder of a unit changes in any
/// pipeline; each piece is one all-reduce over its holders, one per pipeline, which then step
/// the piece's parameters. Every GPU's pieces add up to exactly its own stage's parameters.
pub fn sync_groups(model: &TransformerSpec, parts: &[Vec<u32>], p: u32) -> Vec<SyncGroup> {
    let layers = model.layers;
    // Unit u: 0 the embedding, 1..=L layer u - 1, L + 1 the output layer.
    let unit_params = |u: u32| -> f64 {
        if u == 0 {
            model.embedding_params()
        } else if u == layers + 1 {
            model.token_embedding_params()
        } else {
            model.layer_params()
        }
    };
    // The stage of each pipeline that holds unit u.
    let holders = |u: u32| -> Vec<u32> {
        parts
            .iter()
            .map(|part| {
                let last = part.len().saturating_sub(1) as u32;
                if u == 0 {
                    return 0;
                }
                if u == layers + 1 {
                    return last;
                }
                let mut end = 0;
                for (s, &n) in part.iter().enumerate() {
                    end += n;
                    if u - 1 < end {
                        return s as u32;
                    }
                }
                last
            })
            .collect()
    };
    let mut groups: Vec<(Vec<u32>, f64)> = Vec::new();
    for u in 0..=layers + 1 {
        let h = holders(u);
        match groups.last_mut() {
            Some((prev, params)) if *prev == h => *params += unit_params(u),
            _ => groups.push((h, unit_params(u))),
        }
    }
    groups
        .into_iter()
        .map(|(h, params)| SyncGroup {
            members: h.iter().enumerate().map(|(i, &s)| gpu_of(i as u32, s, p)).collect(),
            params,
            stages: h.iter().enumerate().map(|(i, &s)| (i as u32, s)).collect(),
        })
        .collect()
}
