//! Collective operations as plans of concurrent transfers.
//!
//! A [`CollectivePlan`] is a sequence of phases; each phase is a set of point-to-point
//! transfers that run at the same time, plus the number of sequential hops (by link class)
//! whose latency the phase pays. The same plan is costed in closed form
//! ([`crate::comm::CommModel::evaluate`]: latency + most-loaded link) and executed as flows by
//! the task-graph executor's flow-level mode, so the two agree whenever nothing else contends.
//!
//! Sizes follow nccl-tests: `bytes` is the whole buffer of an all-reduce, the whole gathered
//! output of an all-gather, the whole input of a reduce-scatter, each rank's whole send buffer
//! of an all-to-all, and the broadcast buffer.

mod all_to_all;
pub mod alpha_beta;
mod hierarchical;
mod in_network;
mod ring;
mod tree;

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::ClusterError;
use crate::routing::Router;
use crate::topology::{GpuId, LinkClass, Topology};

/// The collective operations mlsim models.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CollectiveKind {
    /// Every rank ends with the element-wise sum of all ranks' buffers.
    AllReduce,
    /// Every rank ends with the concatenation of all ranks' pieces.
    AllGather,
    /// Every rank ends with its piece of the element-wise sum.
    ReduceScatter,
    /// Every rank sends a distinct piece to every other rank.
    AllToAll,
    /// The first rank of the group sends its buffer to all others.
    Broadcast,
}

impl CollectiveKind {
    /// Every kind, for listings.
    pub const ALL: [CollectiveKind; 5] = [
        CollectiveKind::AllReduce,
        CollectiveKind::AllGather,
        CollectiveKind::ReduceScatter,
        CollectiveKind::AllToAll,
        CollectiveKind::Broadcast,
    ];

    /// Name as used on the command line (`all-reduce`).
    pub fn name(self) -> &'static str {
        match self {
            CollectiveKind::AllReduce => "all-reduce",
            CollectiveKind::AllGather => "all-gather",
            CollectiveKind::ReduceScatter => "reduce-scatter",
            CollectiveKind::AllToAll => "all-to-all",
            CollectiveKind::Broadcast => "broadcast",
        }
    }

    /// nccl-tests' bus-bandwidth factor: `busbw = algbw * factor(n)` (doc/PERFORMANCE.md).
    pub fn bus_factor(self, n: usize) -> f64 {
        let n = n as f64;
        match self {
            CollectiveKind::AllReduce => 2.0 * (n - 1.0) / n,
            CollectiveKind::AllGather
            | CollectiveKind::ReduceScatter
            | CollectiveKind::AllToAll => (n - 1.0) / n,
            CollectiveKind::Broadcast => 1.0,
        }
    }
}

impl fmt::Display for CollectiveKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How a collective is carried out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Algorithm {
    /// Ring (chain for broadcast), with one channel per NIC across nodes.
    Ring,
    /// Double binary tree (Sanders, Speck and Träff 2009, as NCCL 2.4+): all-reduce and
    /// broadcast.
    Tree,
    /// Intra-node rings and inter-node rings per local rank (rail): all-reduce (reduce-scatter,
    /// all-reduce, all-gather), all-gather and reduce-scatter.
    Hierarchical,
    /// Every pair exchanges directly: all-to-all only.
    Direct,
    /// NVLink SHARP (NCCL's NVLS): the NVSwitch reduces and multicasts, inside one node whose
    /// NVSwitch can (third generation, H100/H200): all-reduce.
    Nvls,
    /// InfiniBand SHARP (NCCL's CollNet): each node's GPUs reduce-scatter over NVLink, the
    /// switches reduce their shards across nodes, and they all-gather, pipelined; on fabrics
    /// with SHARP enabled: all-reduce.
    Sharp,
    /// The fastest of NCCL's algorithms for the operation (ring or tree; not hierarchical)
    /// under the analytic model, as NCCL's tuner picks.
    Auto,
}

impl Algorithm {
    /// Name as used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Ring => "ring",
            Algorithm::Tree => "tree",
            Algorithm::Hierarchical => "hierarchical",
            Algorithm::Direct => "direct",
            Algorithm::Nvls => "nvls",
            Algorithm::Sharp => "sharp",
            Algorithm::Auto => "auto",
        }
    }

    /// The algorithms `Auto` chooses from: those NCCL implements (those the hardware cannot
    /// run are skipped).
    pub fn auto_candidates(kind: CollectiveKind) -> &'static [Algorithm] {
        match kind {
            CollectiveKind::AllReduce => {
                &[Algorithm::Ring, Algorithm::Tree, Algorithm::Nvls, Algorithm::Sharp]
            }
            CollectiveKind::AllGather | CollectiveKind::ReduceScatter => &[Algorithm::Ring],
            other => Algorithm::candidates(other),
        }
    }

    /// The concrete algorithms that can carry out `kind`.
    pub fn candidates(kind: CollectiveKind) -> &'static [Algorithm] {
        match kind {
            CollectiveKind::AllReduce => &[
                Algorithm::Ring,
                Algorithm::Tree,
                Algorithm::Hierarchical,
                Algorithm::Nvls,
                Algorithm::Sharp,
            ],
            CollectiveKind::AllGather | CollectiveKind::ReduceScatter => {
                &[Algorithm::Ring, Algorithm::Hierarchical]
            }
            CollectiveKind::AllToAll => &[Algorithm::Direct],
            CollectiveKind::Broadcast => &[Algorithm::Ring, Algorithm::Tree],
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which latency table of the communication model a phase uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LatencyFamily {
    /// Ring-like: ring, chain, direct, point-to-point.
    Ring,
    /// Tree.
    Tree,
    /// NVLS (NVLink SHARP).
    Nvls,
    /// CollNet (InfiniBand SHARP).
    CollNet,
}

/// One point-to-point transfer of payload bytes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Transfer {
    /// Sender.
    pub src: GpuId,
    /// Receiver.
    pub dst: GpuId,
    /// Payload bytes.
    pub bytes: f64,
}

/// Sequential hop counts by link class.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HopCounts {
    /// Hops over NVLink.
    pub nvlink: u32,
    /// Hops over PCIe (GPUs without NVLink between them).
    pub pcie: u32,
    /// Hops across the network.
    pub network: u32,
}

impl HopCounts {
    /// `count` hops of class `class` (storage and memory hops count as PCIe).
    pub fn of(class: LinkClass, count: u32) -> HopCounts {
        let mut h = HopCounts::default();
        h.add(class, count);
        h
    }

    /// Adds `count` hops of `class`.
    pub fn add(&mut self, class: LinkClass, count: u32) {
        match class {
            LinkClass::Nvlink => self.nvlink += count,
            LinkClass::Network => self.network += count,
            LinkClass::Pcie | LinkClass::Storage | LinkClass::Memory => self.pcie += count,
        }
    }

    /// Total hops.
    pub fn total(&self) -> u32 {
        self.nvlink + self.pcie + self.network
    }
}

/// Transfers that run concurrently, and the hops whose latency they pay.
#[derive(Clone, Debug, PartialEq)]
pub struct Phase {
    /// The transfers.
    pub transfers: Vec<Transfer>,
    /// Sequential hops.
    pub hops: HopCounts,
}

/// A collective decomposed into phases.
#[derive(Clone, Debug, PartialEq)]
pub struct CollectivePlan {
    /// What it does.
    pub kind: CollectiveKind,
    /// How (never `Auto`).
    pub algorithm: Algorithm,
    /// Which latency table applies.
    pub family: LatencyFamily,
    /// Phases in order.
    pub phases: Vec<Phase>,
    /// Bytes each rank moves by nccl-tests' bus-bandwidth definition (`bytes x` the kind's
    /// bus factor): what a protocol's bus-bandwidth cap applies to.
    pub bus_bytes: f64,
    /// The operation's size as nccl-tests counts it (see the module docs).
    pub bytes: f64,
    /// GPUs in the group.
    pub ranks: usize,
}

/// A group's GPUs arranged by node: `nodes[i]` lists the group's GPUs on the i-th node used,
/// in increasing id; nodes in increasing order.
pub(crate) struct Layout {
    pub nodes: Vec<Vec<GpuId>>,
    /// Class of a hop between two GPUs of one node (NVLink or PCIe).
    pub intra: LinkClass,
}

impl Layout {
    pub fn new(group: &[GpuId], router: &mut Router<'_>) -> Result<Layout, ClusterError> {
        let topo: &Topology = router.topology();
        let mut by_node: BTreeMap<u32, Vec<GpuId>> = BTreeMap::new();
        for &g in group {
            topo.gpu_vertex(g)?;
            by_node.entry(topo.node_of(g)).or_default().push(g);
        }
        let mut nodes: Vec<Vec<GpuId>> = by_node.into_values().collect();
        for n in &mut nodes {
            n.sort_unstable();
            if n.windows(2).any(|w| w[0] == w[1]) {
                return Err(ClusterError::Unsupported(format!(
                    "GPU {} appears twice in a collective group",
                    n.windows(2).find(|w| w[0] == w[1]).map(|w| w[0].0).unwrap_or_default()
                )));
            }
        }
        let intra = match nodes.iter().find(|n| n.len() > 1) {
            Some(n) => {
                let (a, b) = (topo.gpu_vertex(n[0])?, topo.gpu_vertex(n[1])?);
                router.route(a, b)?.class
            }
            None => LinkClass::Nvlink,
        };
        Ok(Layout { nodes, intra })
    }

    pub fn size(&self) -> usize {
        self.nodes.iter().map(Vec::len).sum()
    }

    /// All GPUs in node-major order.
    pub fn flat(&self) -> Vec<GpuId> {
        self.nodes.iter().flatten().copied().collect()
    }
}

/// `nodes` nodes of `per_node` GPUs numbered node-major, NVLink inside: the layout the
/// algorithms' unit tests plan on.
#[cfg(test)]
pub(crate) fn test_layout(nodes: u32, per_node: u32) -> Layout {
    Layout {
        nodes: (0..nodes)
            .map(|n| (0..per_node).map(|l| GpuId(n * per_node + l)).collect())
            .collect(),
        intra: LinkClass::Nvlink,
    }
}

/// Builds the plan of `kind` by `algorithm` over `group` moving `bytes` (see the module docs
/// for what `bytes` means per kind). `Auto` is resolved by [`crate::comm::CommModel`], not here.
pub fn plan(
    kind: CollectiveKind,
    algorithm: Algorithm,
    group: &[GpuId],
    bytes: f64,
    router: &mut Router<'_>,
) -> Result<CollectivePlan, ClusterError> {
    if group.is_empty() {
        return Err(ClusterError::Unsupported(format!(
            "{kind} needs at least one GPU in its group"
        )));
    }
    if !(bytes >= 0.0 && bytes.is_finite()) {
        return Err(ClusterError::Unsupported(format!(
            "{kind} size must be finite and >= 0, got {bytes}"
        )));
    }
    if !Algorithm::candidates(kind).contains(&algorithm) {
        let valid: Vec<&str> = Algorithm::candidates(kind).iter().map(|a| a.name()).collect();
        return Err(ClusterError::Unsupported(format!(
            "{kind} has no `{algorithm}` algorithm; valid: {}, auto",
            valid.join(", ")
        )));
    }
    let layout = Layout::new(group, router)?;
    let family = match algorithm {
        Algorithm::Tree => LatencyFamily::Tree,
        Algorithm::Nvls => LatencyFamily::Nvls,
        Algorithm::Sharp => LatencyFamily::CollNet,
        _ => LatencyFamily::Ring,
    };
    let caps = router.topology().capabilities();
    match algorithm {
        Algorithm::Nvls => in_network::check_nvls(&layout, caps)?,
        Algorithm::Sharp => in_network::check_sharp(&layout, caps)?,
        _ => {}
    }
    let phases = if layout.size() < 2 || bytes == 0.0 {
        Vec::new()
    } else {
        match algorithm {
            Algorithm::Ring => {
                ring::phases(kind, &layout, bytes, router.topology().nics_per_node())
            }
            Algorithm::Tree => tree::phases(kind, &layout, bytes, router)?,
            Algorithm::Hierarchical => hierarchical::phases(kind, &layout, bytes)?,
            Algorithm::Direct => all_to_all::phases(&layout, bytes),
            Algorithm::Nvls => in_network::nvls_phases(&layout, bytes, caps.nvls.unwrap_or(1.0)),
            Algorithm::Sharp => in_network::sharp_phases(&layout, bytes),
            Algorithm::Auto => unreachable!("excluded by candidates()"),
        }
    };
    let bus_bytes = bytes * kind.bus_factor(layout.size());
    Ok(CollectivePlan { kind, algorithm, family, phases, bus_bytes, bytes, ranks: layout.size() })
}

/// The plan of a non-uniform all-to-all ("all-to-all-v"): every `(src, dst, bytes)` transfer
/// at once, as NCCL's grouped send/receive does. Like the uniform direct all-to-all it pays one
/// hop of latency (of the slowest class among its transfers) and the most loaded link decides
/// its bandwidth term. Transfers to self cost nothing and are dropped.
pub fn all_to_all_v(
    transfers: &[(GpuId, GpuId, f64)],
    router: &mut Router<'_>,
) -> Result<CollectivePlan, ClusterError> {
    let topo = router.topology();
    let mut class = None;
    let mut intra: Option<LinkClass> = None;
    let mut out = Vec::with_capacity(transfers.len());
    for &(src, dst, bytes) in transfers {
        if !(bytes >= 0.0 && bytes.is_finite()) {
            return Err(ClusterError::Unsupported(format!(
                "all-to-all-v transfer {} -> {} has size {bytes}; sizes must be finite and >= 0",
                src.0, dst.0
            )));
        }
        let (a, b) = (topo.gpu_vertex(src)?, topo.gpu_vertex(dst)?);
        if src == dst || bytes == 0.0 {
            continue;
        }
        // Between nodes the hop is a network hop; inside a node every pair has the same class.
        let c = if topo.node_of(src) != topo.node_of(dst) {
            LinkClass::Network
        } else {
            match intra {
                Some(c) => c,
                None => {
                    let c = router.route(a, b)?.class;
                    intra = Some(c);
                    c
                }
            }
        };
        class = Some(class.map_or(c, |k: LinkClass| k.max(c)));
        out.push(Transfer { src, dst, bytes });
    }
    // Bus bytes: the most any one rank sends.
    let mut sent: BTreeMap<u32, f64> = BTreeMap::new();
    for t in &out {
        *sent.entry(t.src.0).or_default() += t.bytes;
    }
    let bus_bytes = sent.values().copied().fold(0.0, f64::max);
    let ranks = out
        .iter()
        .flat_map(|t| [t.src.0, t.dst.0])
        .collect::<std::collections::BTreeSet<u32>>()
        .len();
    let phases = match class {
        Some(c) => vec![Phase { transfers: out, hops: HopCounts::of(c, 1) }],
        None => Vec::new(),
    };
    Ok(CollectivePlan {
        kind: CollectiveKind::AllToAll,
        algorithm: Algorithm::Direct,
        family: LatencyFamily::Ring,
        phases,
        bus_bytes,
        bytes: bus_bytes,
        ranks,
    })
}

/// The plan of a single point-to-point send of `bytes` from `src` to `dst`.
pub fn point_to_point(
    src: GpuId,
    dst: GpuId,
    bytes: f64,
    router: &mut Router<'_>,
) -> Result<CollectivePlan, ClusterError> {
    let topo = router.topology();
    let (a, b) = (topo.gpu_vertex(src)?, topo.gpu_vertex(dst)?);
    let class = router.route(a, b)?.class;
    let phases = if src == dst || bytes <= 0.0 {
        Vec::new()
    } else {
        vec![Phase { transfers: vec![Transfer { src, dst, bytes }], hops: HopCounts::of(class, 1) }]
    };
    Ok(CollectivePlan {
        kind: CollectiveKind::Broadcast,
        algorithm: Algorithm::Direct,
        family: LatencyFamily::Ring,
        phases,
        bus_bytes: bytes.max(0.0),
        bytes: bytes.max(0.0),
        ranks: if src == dst { 1 } else { 2 },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builder::build_topology;
    use crate::routing::RouteCache;
    use crate::spec::ClusterSpec;

    #[test]
    fn bus_factors_match_nccl_tests() {
        assert_eq!(CollectiveKind::AllReduce.bus_factor(8), 1.75);
        assert_eq!(CollectiveKind::AllGather.bus_factor(8), 0.875);
        assert_eq!(CollectiveKind::Broadcast.bus_factor(8), 1.0);
    }

    #[test]
    fn invalid_requests_are_clear_errors() {
        let spec = ClusterSpec::preset("dgx-h100").unwrap();
        let topo = build_topology(&spec, &spec.catalog()).unwrap();
        let cache = RouteCache::default();
        let mut r = Router::new(&topo, &cache);
        let g: Vec<GpuId> = (0..8).map(GpuId).collect();
        let e = plan(CollectiveKind::AllGather, Algorithm::Tree, &g, 1e6, &mut r).unwrap_err();
        assert!(e.to_string().contains("valid: ring, hierarchical, auto"), "{e}");
        let e =
            plan(CollectiveKind::AllReduce, Algorithm::Ring, &[GpuId(0), GpuId(0)], 1e6, &mut r)
                .unwrap_err();
        assert!(e.to_string().contains("twice"), "{e}");
        let e =
            plan(CollectiveKind::AllReduce, Algorithm::Ring, &[GpuId(0), GpuId(9)], 1e6, &mut r)
                .unwrap_err();
        assert!(e.to_string().contains("does not exist"), "{e}");
        let single =
            plan(CollectiveKind::AllReduce, Algorithm::Ring, &[GpuId(3)], 1e6, &mut r).unwrap();
        assert!(single.phases.is_empty());
    }
}
