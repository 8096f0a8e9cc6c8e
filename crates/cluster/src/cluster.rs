//! [`Cluster`]: a built spec with its catalog, topology, route cache and cost models;
//! [`Network`]: routes and communication costs on it.
//!
//! [`Cluster::new`] builds the topology with [`crate::build_topology`] (which wires the fabric)
//! and keeps a [`RouteCache`] beside it: every [`Network`] made from one cluster routes through
//! that cache, so routes and distances are computed once per cluster, whichever thread or sweep
//! point asks (share the cluster, e.g. in an `Arc`). A clone of a cluster starts an empty cache.

use simcore::SimTime;

use crate::builder::build_topology;
use crate::catalog::{Catalog, GpuSpec};
use crate::collective::{self, Algorithm, CollectiveKind, CollectivePlan};
use crate::comm::{CommCost, CommModel, LinkLoads};
use crate::compute::ComputeModel;
use crate::error::ClusterError;
use crate::flow::FlowNetwork;
use crate::routing::{Route, RouteCache, RouteMemo, Router};
use crate::spec::ClusterSpec;
use crate::topology::{GpuId, Topology, VertexId};

/// Where bytes live: a GPU's HBM, a node's DRAM, or a node's NVMe volume.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MemoryTier {
    /// Device memory of a GPU.
    Hbm(GpuId),
    /// Host DRAM of a node.
    Host(u32),
    /// Local NVMe of a node.
    Ssd(u32),
}

/// A cluster ready to be simulated.
#[derive(Clone, Debug)]
pub struct Cluster {
    spec: ClusterSpec,
    catalog: Catalog,
    topology: Topology,
    /// Distances and routes on `topology`, shared by every [`Network`] of this cluster.
    routes: RouteCache,
    compute: ComputeModel,
    comm: CommModel,
}

impl Cluster {
    /// Builds a cluster from a spec (validating it).
    pub fn new(spec: ClusterSpec) -> Result<Cluster, ClusterError> {
        let t = spec.flow_tolerance;
        if !(t.is_finite() && (0.0..1.0).contains(&t)) {
            return Err(ClusterError::Invalid(format!(
                "flow_tolerance must be in [0, 1) (a share of a flow's time so far; default \
                 0.001, 0 is exact), got {t}"
            )));
        }
        let catalog = spec.catalog();
        catalog.validate()?;
        let topology = build_topology(&spec, &catalog)?;
        let gpu = catalog.gpu(&spec.node.gpu)?.clone();
        let compute = ComputeModel::new(
            gpu,
            spec.compute.launch_overhead,
            spec.compute.matmul_efficiency.clone(),
        )?;
        let comm = CommModel::from_spec(&spec.comm, &catalog);
        Ok(Cluster { spec, catalog, topology, routes: RouteCache::default(), compute, comm })
    }

    /// A built-in preset scaled to `nodes` nodes.
    pub fn preset(name: &str, nodes: u32) -> Result<Cluster, ClusterError> {
        Cluster::new(ClusterSpec::preset(name)?.with_nodes(nodes))
    }

    /// An empty flow-level network over this cluster's links, with the spec's completion
    /// tolerance.
    pub fn flow_network(&self) -> FlowNetwork {
        let mut net = FlowNetwork::new(&self.topology);
        net.set_tolerance(self.spec.flow_tolerance);
        net
    }

    /// The spec it was built from.
    pub fn spec(&self) -> &ClusterSpec {
        &self.spec
    }

    /// The catalog (built-in plus the spec's extra parts).
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The topology graph.
    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    /// The GPU model of every node.
    pub fn gpu(&self) -> &GpuSpec {
        self.compute.gpu()
    }

    /// Kernel times.
    pub fn compute(&self) -> &ComputeModel {
        &self.compute
    }

    /// Communication latency model.
    pub fn comm(&self) -> &CommModel {
        &self.comm
    }

    /// Total GPUs.
    pub fn gpu_count(&self) -> u32 {
        self.topology.gpu_count()
    }

    /// All GPU ids.
    pub fn gpus(&self) -> Vec<GpuId> {
        (0..self.gpu_count()).map(GpuId).collect()
    }

    /// A router and cost evaluator for this cluster (its router shares the cluster's route
    /// cache).
    pub fn network(&self) -> Network<'_> {
        Network {
            cluster: self,
            router: Router::new(&self.topology, &self.routes),
            loads: LinkLoads::default(),
        }
    }

    /// A network whose router starts from the tables of an earlier one on this cluster
    /// ([`Network::into_memo`]).
    pub fn network_with_memo(&self, memo: RouteMemo) -> Network<'_> {
        Network {
            cluster: self,
            router: Router::with_memo(&self.topology, &self.routes, memo),
            loads: LinkLoads::default(),
        }
    }
}

/// Routes and communication costs on one cluster, with caches.
pub struct Network<'c> {
    cluster: &'c Cluster,
    router: Router<'c>,
    loads: LinkLoads,
}

impl<'c> Network<'c> {
    /// The cluster.
    pub fn cluster(&self) -> &'c Cluster {
        self.cluster
    }

    /// The router.
    pub fn router(&mut self) -> &mut Router<'c> {
        &mut self.router
    }

    /// The router's tables, to start a later network on the same cluster from.
    pub fn into_memo(self) -> RouteMemo {
        self.router.into_memo()
    }

    /// Plans and costs a collective; `Auto` picks the fastest applicable algorithm.
    pub fn collective(
        &mut self,
        kind: CollectiveKind,
        algorithm: Algorithm,
        group: &[GpuId],
        bytes: f64,
    ) -> Result<(CollectivePlan, CommCost), ClusterError> {
        let algos: Vec<Algorithm> = if algorithm == Algorithm::Auto {
            Algorithm::auto_candidates(kind).to_vec()
        } else {
            vec![algorithm]
        };
        let mut best: Option<(CollectivePlan, CommCost)> = None;
        let mut first_err = None;
        for a in algos {
            let attempt =
                collective::plan(kind, a, group, bytes, &mut self.router).and_then(|plan| {
                    let cost =
                        self.cluster.comm.evaluate(&plan, &mut self.router, &mut self.loads)?;
                    Ok((plan, cost))
                });
            match attempt {
                Ok(pc) => {
                    if best.as_ref().is_none_or(|b| pc.1.time < b.1.time) {
                        best = Some(pc);
                    }
                }
                // Auto skips algorithms that do not apply.
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
        match (best, first_err) {
            (Some(b), _) => Ok(b),
            (None, Some(e)) => Err(e),
            (None, None) => Err(ClusterError::Unsupported(format!("no algorithm for {kind}"))),
        }
    }

    /// Plans and costs a non-uniform all-to-all of `(src, dst, bytes)` transfers.
    pub fn all_to_all_v(
        &mut self,
        transfers: &[(GpuId, GpuId, f64)],
    ) -> Result<(CollectivePlan, CommCost), ClusterError> {
        let plan = collective::all_to_all_v(transfers, &mut self.router)?;
        let cost = self.cluster.comm.evaluate(&plan, &mut self.router, &mut self.loads)?;
        Ok((plan, cost))
    }

    /// Plans and costs a point-to-point send.
    pub fn send(
        &mut self,
        src: GpuId,
        dst: GpuId,
        bytes: f64,
    ) -> Result<(CollectivePlan, CommCost), ClusterError> {
        let plan = collective::point_to_point(src, dst, bytes, &mut self.router)?;
        let cost = self.cluster.comm.evaluate(&plan, &mut self.router, &mut self.loads)?;
        Ok((plan, cost))
    }

    fn tier_vertex(&self, tier: MemoryTier) -> Result<VertexId, ClusterError> {
        let t = &self.cluster.topology;
        match tier {
            MemoryTier::Hbm(g) => t.gpu_vertex(g),
            MemoryTier::Host(n) => t.host_memory_vertex(n),
            MemoryTier::Ssd(n) => t.ssd_vertex(n),
        }
    }

    /// The route a copy between two tiers takes (empty for a copy inside one GPU's HBM).
    pub fn copy_route(&mut self, from: MemoryTier, to: MemoryTier) -> Result<&Route, ClusterError> {
        let (a, b) = (self.tier_vertex(from)?, self.tier_vertex(to)?);
        self.router.route(a, b)
    }

    /// Time to copy `bytes` between tiers with nothing else running: launch overhead + route
    /// latency + bytes / bottleneck bandwidth. A copy inside one GPU's HBM reads and writes
    /// every byte, so it costs a streaming kernel over `2 * bytes`.
    pub fn copy_time(
        &mut self,
        from: MemoryTier,
        to: MemoryTier,
        bytes: f64,
    ) -> Result<SimTime, ClusterError> {
        if !(bytes >= 0.0 && bytes.is_finite()) {
            return Err(ClusterError::Unsupported(format!(
                "copy size must be finite and >= 0, got {bytes}"
            )));
        }
        if let (MemoryTier::Hbm(a), MemoryTier::Hbm(b)) = (from, to)
            && a == b
        {
            return self.cluster.compute.kernel_time(0.0, 2.0 * bytes, crate::catalog::Dtype::Fp32);
        }
        let launch = self.cluster.compute.launch_overhead();
        let route = self.copy_route(from, to)?;
        if route.links.is_empty() {
            return Ok(launch);
        }
        Ok(launch + route.latency + SimTime::from_secs_f64_ceil(bytes / route.bandwidth))
    }
}
