//! # cluster — the hardware of mlsim and what it costs to use it
//!
//! Concepts, bottom up:
//!
//! - [`Catalog`]: real parts with their published figures, each citing its datasheet, paper
//!   or measurement (`data/catalog.yaml`): GPUs (dense peak FLOP/s per [`Dtype`], HBM, L2,
//!   NVLink, PCIe), NVLink and PCIe generations, NICs, switches, hosts, SSDs, and NCCL's
//!   latency constants.
//! - [`ClusterSpec`]: a cluster as YAML data: one node's parts, a node count and a fabric.
//!   Presets ship in `presets/` (`dgx-a100`, `dgx-h100`, `cloud-a100-100g`, AWS's A10G
//!   nodes `g5-xlarge`, `g5-12xlarge`, `g5-48xlarge` and AWS's L4 nodes `g6-xlarge`,
//!   `g6-12xlarge`, `g6-48xlarge`).
//! - [`Topology`]: a petgraph graph of devices and directed links, and nothing else.
//!   [`build_topology`] wires a spec into one: each node's parts, then, through [`fabric`], a
//!   fat-tree or rail-optimized leaf-spine network between nodes.
//! - [`Router`]: shortest routes with deterministic ECMP. Routing keeps its own tables: a
//!   [`RouteCache`] of distances and routes shared by every router on one topology (the
//!   [`Cluster`] owns it beside its topology) and a per-router [`RouteMemo`].
//! - [`ComputeModel`]: kernel time as a roofline with measured efficiency curves.
//! - [`collective`]: collectives (ring, double binary tree, hierarchical, direct all-to-all,
//!   point-to-point) planned as phases of concurrent transfers; [`CommModel`] costs a plan in
//!   closed form (NCCL protocol latencies or textbook alpha-beta, plus the most loaded link).
//! - [`FlowNetwork`]: transfers sharing links with max-min fair rates, for flow-level
//!   simulation.
//! - [`Cluster`] ties a spec to its topology, route cache and models; [`Network`] routes and
//!   costs on it.
//!
//! Every formula and figure is written down, with sources, in `docs/models/cluster.md`.
//!
//! ## Example
//!
//! ```
//! use cluster::{Algorithm, Cluster, CollectiveKind};
//!
//! let dgx = Cluster::preset("dgx-h100", 1)?;
//! let mut net = dgx.network();
//! let (_, cost) = net.collective(CollectiveKind::AllReduce, Algorithm::Ring, &dgx.gpus(), 1e9)?;
//! let busbw = CollectiveKind::AllReduce.bus_factor(8) * 1e9 / cost.time.as_secs_f64();
//! assert!(busbw > 300e9 && busbw < 400e9, "NCCL measures about 360-370 GB/s");
//! # Ok::<(), cluster::ClusterError>(())
//! ```

mod builder;
pub mod catalog;
mod cluster;
pub mod collective;
mod comm;
mod compute;
mod error;
pub mod fabric;
mod flow;
mod radix_heap;
mod redundant_links;
mod routing;
mod spec;
mod topology;

pub use builder::build_topology;
pub use catalog::{Catalog, Dtype, GpuSpec};
pub use cluster::{Cluster, MemoryTier, Network};
pub use collective::{Algorithm, CollectiveKind, CollectivePlan, Phase, Transfer};
pub use comm::{CommCost, CommModel, LinkLoads};
pub use compute::{ComputeModel, EfficiencyCurve};
pub use error::ClusterError;
pub use flow::{DEFAULT_TOLERANCE as DEFAULT_FLOW_TOLERANCE, FlowId, FlowNetwork};
pub use routing::{Route, RouteCache, RouteMemo, Router};
pub use spec::{
    ClusterSpec, CommModelSpec, ComputeSettings, ExtraParts, FabricSpec, FabricTopology,
    IntraConnect, NodeSpec, PRESETS,
};
pub use topology::{Capabilities, Device, GpuId, Link, LinkClass, LinkId, Topology, VertexId};
