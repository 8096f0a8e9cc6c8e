//! The failure policies, one file each.

pub mod bamboo;
pub mod checkpoint_restart;
pub mod oobleck;
pub mod slipstream;
pub mod spare_servers;

use crate::config::SystemSpec;
use crate::policy::Policy;

/// Costs every policy may need, worked out from the workload and cluster.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RestartCost {
    /// Restart of the processes plus loading the last checkpoint.
    pub restart_and_load: simcore::SimTime,
}

/// The policy of a system spec.
pub fn build(spec: &SystemSpec, costs: RestartCost, gpus_per_node: u32) -> Box<dyn Policy> {
    match spec {
        SystemSpec::CheckpointRestart => {
            Box::new(checkpoint_restart::CheckpointRestart::new(costs))
        }
        SystemSpec::SpareServers { spares } => {
            Box::new(spare_servers::SpareServers::new(*spares, gpus_per_node, costs))
        }
        SystemSpec::Bamboo { failover } => Box::new(bamboo::Bamboo::new(*failover, costs)),
        SystemSpec::Oobleck { reconfigure } => Box::new(oobleck::Oobleck::new(*reconfigure, costs)),
        SystemSpec::Slipstream { replan } => Box::new(slipstream::Slipstream::new(*replan, costs)),
    }
}

/// Per pipeline, the bit mask of its failed stages (bit `s` for stage `s`).
pub fn failed_masks(failed: &[bool], stages: u32, pipelines: u32) -> Vec<u64> {
    (0..pipelines)
        .map(|d| {
            (0..stages).fold(0u64, |m, s| {
                if failed.get((d * stages + s) as usize).copied().unwrap_or(false) {
                    m | (1 << s)
                } else {
                    m
                }
            })
        })
        .collect()
}

/// A cache key from sorted per-pipeline masks (pipelines are interchangeable).
pub fn key_of(tag: u32, mut masks: Vec<u64>) -> Vec<u32> {
    masks.sort_unstable();
    let mut key = vec![tag];
    for m in masks {
        key.push((m >> 32) as u32);
        key.push(m as u32);
    }
    key
}
