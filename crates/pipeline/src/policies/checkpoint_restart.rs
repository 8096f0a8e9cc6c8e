//! Checkpoint-restart (baseline): any failure stops the job and loses the progress since the
//! last checkpoint; training resumes when every GPU is back, after restarting the processes
//! and loading the checkpoint.

use super::RestartCost;
use crate::iteration::Program;
use crate::policy::{Config, JobModel, Policy, Reaction, any_failed, healthy_program};
use simcore::InputError;

/// The policy.
pub struct CheckpointRestart {
    costs: RestartCost,
}

impl CheckpointRestart {
    /// With the given restart cost.
    pub fn new(costs: RestartCost) -> Self {
        CheckpointRestart { costs }
    }
}

impl Policy for CheckpointRestart {
    fn react(&mut self, _job: &JobModel, failed: &[bool], fail: bool) -> Reaction {
        if fail {
            Reaction { pause: simcore::SimTime::ZERO, rollback: true }
        } else if !any_failed(failed) {
            Reaction { pause: self.costs.restart_and_load, rollback: false }
        } else {
            Reaction::default()
        }
    }

    fn config(&self, job: &JobModel, failed: &[bool]) -> Config {
        if any_failed(failed) {
            Config::Down
        } else {
            Config::Run { key: vec![0], samples_per_iter: job.samples_per_iteration() }
        }
    }

    fn program(&self, job: &JobModel, _failed: &[bool]) -> Result<(Program, bool), InputError> {
        Ok(healthy_program(job))
    }
}
