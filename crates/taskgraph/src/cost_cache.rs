//! Closed-form costs of collectives and sends, kept across executions on one cluster.
//!
//! A simulator that executes one task graph per training iteration meets the same collectives
//! every iteration (the same gradient all-reduce over the same GPUs); planning them again each
//! time would dominate large runs. Keys use the member list, not a graph's group id, so they
//! are valid across graphs. The cache also keeps the router's route tables between executions
//! (a 1,024-GPU iteration looks up about a million GPU pairs). It remembers the cluster it was
//! filled on and empties itself when used with another.

use std::collections::HashMap;
use std::rc::Rc;

use cluster::{Algorithm, Cluster, CollectiveKind, CommCost, GpuId, RouteMemo};
use simcore::SimTime;
use simcore::fast_hash::FastMap;

/// The closed-form time of an operation and how long each link it uses is busy carrying its
/// payload (by link id; seconds rounded up to the nanosecond).
#[derive(Clone, Debug)]
pub(crate) struct OpCost {
    pub time: SimTime,
    pub links: Rc<[(u32, SimTime)]>,
}

impl OpCost {
    pub(crate) fn of(cost: &CommCost) -> OpCost {
        OpCost {
            time: cost.time,
            links: cost
                .link_busy_secs
                .iter()
                .map(|&(l, s)| (l.0, SimTime::from_secs_f64_ceil(s)))
                .collect(),
        }
    }
}

/// Analytic costs by operation.
#[derive(Debug, Default)]
pub struct CostCache {
    cluster: usize,
    collectives: HashMap<(u8, u8, u64, Vec<u32>), OpCost>,
    sends: FastMap<(u32, u32, u64), OpCost>,
    pub(crate) routes: RouteMemo,
}

impl CostCache {
    /// An empty cache.
    pub fn new() -> Self {
        CostCache::default()
    }

    /// Number of cached costs.
    pub fn len(&self) -> usize {
        self.collectives.len() + self.sends.len()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn bind(&mut self, cluster: &Cluster) {
        let id = cluster as *const Cluster as usize;
        if self.cluster != id {
            self.collectives.clear();
            self.sends.clear();
            self.routes = RouteMemo::default();
            self.cluster = id;
        }
    }

    pub(crate) fn collective(
        &mut self,
        kind: CollectiveKind,
        algorithm: Algorithm,
        group: &[GpuId],
        bytes: f64,
        compute: impl FnOnce() -> Result<OpCost, cluster::ClusterError>,
    ) -> Result<OpCost, cluster::ClusterError> {
        let key = (
            kind as u8,
            algorithm as u8,
            bytes.to_bits(),
            group.iter().map(|g| g.0).collect::<Vec<u32>>(),
        );
        if let Some(c) = self.collectives.get(&key) {
            return Ok(c.clone());
        }
        let c = compute()?;
        self.collectives.insert(key, c.clone());
        Ok(c)
    }

    pub(crate) fn send(
        &mut self,
        src: GpuId,
        dst: GpuId,
        bytes: f64,
        compute: impl FnOnce() -> Result<OpCost, cluster::ClusterError>,
    ) -> Result<OpCost, cluster::ClusterError> {
        let key = (src.0, dst.0, bytes.to_bits());
        if let Some(c) = self.sends.get(&key) {
            return Ok(c.clone());
        }
        let c = compute()?;
        self.sends.insert(key, c.clone());
        Ok(c)
    }
}
