//! Spare servers (baseline): a node with a failed GPU is swapped for a spare node from a pool
//! (the job restarts from the last checkpoint on the new set of nodes); a repaired node joins
//! the pool. Without a free spare the job waits for repairs. Idle spares are paid for: their
//! GPU-hours are reported.

use std::collections::BTreeSet;

use super::RestartCost;
use crate::iteration::Program;
use crate::policy::{Config, JobModel, Policy, Reaction, healthy_program};
use simcore::InputError;

/// The policy.
pub struct SpareServers {
    pool: u32,
    gpus_per_node: u32,
    costs: RestartCost,
    /// Job nodes currently replaced by a spare.
    replaced: BTreeSet<u32>,
    /// Waiting for repairs (a failed node had no spare).
    down: bool,
}

impl SpareServers {
    /// A pool of `pool` spare nodes.
    pub fn new(pool: u32, gpus_per_node: u32, costs: RestartCost) -> Self {
        SpareServers {
            pool,
            gpus_per_node: gpus_per_node.max(1),
            costs,
            replaced: BTreeSet::new(),
            down: false,
        }
    }

    fn failed_nodes(&self, failed: &[bool]) -> BTreeSet<u32> {
        failed
            .iter()
            .enumerate()
            .filter(|(_, f)| **f)
            .map(|(g, _)| g as u32 / self.gpus_per_node)
            .collect()
    }

    fn effective_failed(&self, failed: &[bool]) -> bool {
        self.failed_nodes(failed).iter().any(|n| !self.replaced.contains(n))
    }
}

impl Policy for SpareServers {
    fn react(&mut self, _job: &JobModel, failed: &[bool], fail: bool) -> Reaction {
        let was_down = self.down;
        let nodes = self.failed_nodes(failed);
        // Repaired nodes return their spare to the pool (the spare stays in the job, the
        // repaired node becomes the spare).
        self.replaced.retain(|n| nodes.contains(n));
        let mut swapped = false;
        for n in &nodes {
            if !self.replaced.contains(n) && (self.replaced.len() as u32) < self.pool {
                self.replaced.insert(*n);
                swapped = true;
            }
        }
        let runnable = !self.effective_failed(failed);
        self.down = !runnable;
        let pause = if runnable && (swapped || was_down) {
            self.costs.restart_and_load
        } else {
            simcore::SimTime::ZERO
        };
        Reaction { pause, rollback: fail }
    }

    fn config(&self, job: &JobModel, failed: &[bool]) -> Config {
        if self.effective_failed(failed) {
            Config::Down
        } else {
            Config::Run { key: vec![0], samples_per_iter: job.samples_per_iteration() }
        }
    }

    fn program(&self, job: &JobModel, _failed: &[bool]) -> Result<(Program, bool), InputError> {
        Ok(healthy_program(job))
    }

    fn idle_spare_gpus(&self) -> u32 {
        (self.pool - self.replaced.len() as u32) * self.gpus_per_node
    }
}
