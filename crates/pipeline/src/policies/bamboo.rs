//! Bamboo: every GPU also holds a copy of the previous stage of its pipeline (stage 0 holds the
//! last) and runs that stage's forward pass redundantly, right after its own forward of the
//! same micro-batch, so the copy stays ready. When a GPU fails, its backup (the next stage's
//! GPU) takes over: it runs both stages, each in its own schedule order, interleaved on its one
//! compute stream in the order their passes become ready, and stops its redundant work.
//! If the backup has failed too, no copy is left: the pipeline is dropped (a forced restart
//! from the last checkpoint) until the GPUs are back; the other pipelines go on.
//!
//! Placement: Bamboo's redundancy is across nodes (one node computes over its own layers and
//! some of its neighbour's, BAM), so a stage and the GPU holding its copy must not share a
//! node, or one node failure takes out both. [`placement`] puts each pipeline's consecutive
//! stages on different nodes wherever the nodes allow, keeping every stage's data-parallel
//! group on the same GPUs as the other policies; a single node failure then leaves every stage
//! a live copy. The price: activation sends cross nodes.
//!
//! Assumptions (docs/models/pipeline.md): the redundant forward's input activations are not
//! sent separately (Bamboo piggybacks them on the regular send); the backup's takeover pause
//! is the `failover` parameter.

use std::collections::BTreeSet;

use super::{RestartCost, failed_masks, key_of};
use crate::failures::JobShape;
use crate::iteration::{PipelineDesc, Program, SyncGroup, Task};
use crate::policy::{Config, JobModel, Policy, Reaction};
use crate::schedule::Pass;
use cluster::GpuId;
use simcore::InputError;

/// The policy.
pub struct Bamboo {
    failover: simcore::SimTime,
    costs: RestartCost,
    /// Pipelines without a live copy of some stage (by job index).
    dropped: BTreeSet<u32>,
}

/// Bamboo's placement: the physical GPU (job-wide index) of each (pipeline `d`, stage `s`)
/// coordinate `d * p + s`. Stage `s + 1` holds the copy of stage `s` (stage 0 that of the
/// last), so the two must sit on different nodes. Each stage's replicas are permuted among
/// themselves: stage `s` of pipeline `d` runs on the GPU that holds stage `s` of pipeline
/// `(d + k * s) mod D` in the plain layout (GPU `d * p + s`), so every stage's data-parallel
/// group, and with it the gradient all-reduce, is the same GPUs as for every other policy; only
/// the activation sends change. `k` is the smallest stride with the fewest stage/backup pairs
/// sharing a node (none on the headline's 4 nodes of 8 GPUs with 8 stages x 4 pipelines,
/// `k = 1`); `k = 0`, the plain layout, where no stride does better.
pub fn placement(shape: &JobShape) -> Vec<u32> {
    let (p, dp) = (shape.stages, shape.pipelines.max(1));
    let layout = |k: u32| -> Vec<u32> {
        (0..dp).flat_map(|d| (0..p).map(move |s| ((d + k * s) % dp) * p + s)).collect()
    };
    (0..dp).map(layout).min_by_key(|place| shared_pairs(shape, place)).unwrap_or_else(|| layout(0))
}

/// Stage/backup pairs (stage `s` and stage `s + 1 mod p` of one pipeline) on one node under
/// `place`.
pub fn shared_pairs(shape: &JobShape, place: &[u32]) -> usize {
    let (p, dp, g) = (shape.stages, shape.pipelines, shape.gpus_per_node.max(1));
    if p < 2 {
        return 0;
    }
    let node = |d: u32, s: u32| place.get((d * p + s) as usize).map(|&x| x / g);
    (0..dp)
        .flat_map(|d| (0..p).map(move |s| (d, s)))
        .filter(|&(d, s)| node(d, s) == node(d, (s + 1) % p))
        .count()
}

impl Bamboo {
    /// With the takeover pause.
    pub fn new(failover: simcore::SimTime, costs: RestartCost) -> Self {
        Bamboo { failover, costs, dropped: BTreeSet::new() }
    }

    /// Failed coordinates: coordinate `k` has failed when its GPU has.
    fn failed_coords(job: &JobModel, failed: &[bool]) -> Vec<bool> {
        placement(&job.shape)
            .iter()
            .map(|&g| failed.get(g as usize).copied().unwrap_or(false))
            .collect()
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
        failed_masks(&Self::failed_coords(job, failed), p, job.shape.pipelines)
            .into_iter()
            .enumerate()
            .filter(|(_, m)| !Self::covered(*m, p))
            .map(|(d, _)| d as u32)
            .collect()
    }

    fn live_masks(job: &JobModel, failed: &[bool]) -> Vec<u64> {
        let p = job.shape.stages;
        let mut masks: Vec<u64> =
            failed_masks(&Self::failed_coords(job, failed), p, job.shape.pipelines)
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
        let place = placement(&job.shape);
        let mut gpus = Vec::new();
        // GPU running each (pipeline, stage).
        let mut runs = vec![vec![None; p as usize]; dp as usize];
        for (i, mask) in masks.iter().enumerate() {
            let i = i as u32;
            let down = |s: u32| mask & (1 << s) != 0;
            for s in (0..p).filter(|&s| !down(s)) {
                let prev = (s + p - 1) % p;
                let gpu = GpuId(place[(i * p + s) as usize]);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn is_permutation(place: &[u32]) -> bool {
        let mut v = place.to_vec();
        v.sort_unstable();
        v.iter().enumerate().all(|(i, &g)| g == i as u32)
    }

    #[test]
    fn backups_live_on_another_node_and_stages_keep_their_gpus() {
        // The headline's job: 8 stages x 4 pipelines on 4 nodes of 8 GPUs.
        let shape = JobShape { stages: 8, pipelines: 4, gpus_per_node: 8 };
        let place = placement(&shape);
        assert!(is_permutation(&place));
        // The plain layout puts a whole pipeline on one node: every pair shares it.
        let plain: Vec<u32> = (0..32).collect();
        assert_eq!(shared_pairs(&shape, &plain), 32);
        assert_eq!(shared_pairs(&shape, &place), 0);
        for d in 0..4 {
            for s in 0..8 {
                let g = place[(d * 8 + s) as usize];
                // Stage s stays on a GPU of stage s (same data-parallel group as the plain
                // layout), of pipeline (d + s) mod 4 there (stride k = 1).
                assert_eq!(g, ((d + s) % 4) * 8 + s, "pipeline {d} stage {s}");
            }
        }
    }

    #[test]
    fn without_a_better_stride_the_plain_layout_stays() {
        // One node: nothing can be separated.
        let one = JobShape { stages: 4, pipelines: 2, gpus_per_node: 8 };
        assert_eq!(placement(&one), (0..8).collect::<Vec<u32>>());
        // Odd sizes still give a permutation that keeps each stage's GPUs.
        for (p, d, g) in [(4, 3, 8), (3, 5, 4), (1, 4, 8), (6, 2, 8), (5, 4, 2)] {
            let shape = JobShape { stages: p, pipelines: d, gpus_per_node: g };
            let place = placement(&shape);
            assert!(is_permutation(&place), "{shape:?}");
            assert!(place.iter().enumerate().all(|(k, &x)| x % p == k as u32 % p), "{shape:?}");
            let plain: Vec<u32> = (0..p * d).collect();
            assert!(shared_pairs(&shape, &place) <= shared_pairs(&shape, &plain));
        }
    }
}
