//! The cluster as a directed graph (petgraph): devices are vertices, each direction of a
//! full-duplex link is one edge with its own capacity, so traffic in opposite directions does
//! not compete.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use petgraph::graph::{DiGraph, NodeIndex};
use simcore::SimTime;

use crate::catalog::Catalog;
use crate::error::ClusterError;
use crate::fabric::add_fabric;
use crate::spec::{ClusterSpec, IntraConnect};

/// A GPU's global index: `node * gpus_per_node + local`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GpuId(pub u32);

/// A directed link's index into [`Topology::links`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LinkId(pub u32);

/// A vertex of the topology graph.
pub type VertexId = NodeIndex<u32>;

/// What a vertex is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Device {
    /// A GPU (its HBM is the GPU's own memory tier).
    Gpu {
        /// Node index.
        node: u32,
        /// Index inside the node.
        local: u32,
    },
    /// The NVSwitch fabric of one node, as one crossbar.
    NvSwitch {
        /// Node index.
        node: u32,
    },
    /// CPUs and PCIe root complex of one node.
    Host {
        /// Node index.
        node: u32,
    },
    /// The host's DRAM (a memory tier).
    HostMemory {
        /// Node index.
        node: u32,
    },
    /// The node's NVMe drives, striped as one volume.
    Ssd {
        /// Node index.
        node: u32,
    },
    /// A network adapter.
    Nic {
        /// Node index.
        node: u32,
        /// Index inside the node (its rail in a rail-optimized fabric).
        index: u32,
    },
    /// A leaf (top-of-rack or rail) switch.
    Leaf {
        /// Leaf index.
        index: u32,
    },
    /// A spine switch.
    Spine {
        /// Spine index.
        index: u32,
    },
}

impl Device {
    /// Whether traffic between other devices may pass through this one. GPUs and SSDs are
    /// endpoints only; NVSwitches, NICs, switches and the host (as PCIe root) forward.
    pub fn is_transit(&self) -> bool {
        !matches!(self, Device::Gpu { .. } | Device::Ssd { .. })
    }

    /// Short label: `gpu3.2`, `nic0.5`, `leaf4`.
    pub fn label(&self) -> String {
        match *self {
            Device::Gpu { node, local } => format!("gpu{node}.{local}"),
            Device::NvSwitch { node } => format!("nvswitch{node}"),
            Device::Host { node } => format!("host{node}"),
            Device::HostMemory { node } => format!("dram{node}"),
            Device::Ssd { node } => format!("ssd{node}"),
            Device::Nic { node, index } => format!("nic{node}.{index}"),
            Device::Leaf { index } => format!("leaf{index}"),
            Device::Spine { index } => format!("spine{index}"),
        }
    }
}

/// What kind of technology a link is; decides which latency constants apply to a hop.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LinkClass {
    /// NVLink (GPU to NVSwitch).
    Nvlink,
    /// PCIe (GPU to host or NIC).
    Pcie,
    /// Host to local NVMe.
    Storage,
    /// Host CPUs to their DRAM.
    Memory,
    /// NIC to switch and switch to switch.
    Network,
}

/// One direction of a physical link.
#[derive(Clone, Debug, PartialEq)]
pub struct Link {
    /// Sending end.
    pub from: VertexId,
    /// Receiving end.
    pub to: VertexId,
    /// Line rate in bytes/s.
    pub line_rate: f64,
    /// Measured fraction of the line rate that carries payload.
    pub efficiency: f64,
    /// One-way latency of the traversal.
    pub latency: SimTime,
    /// Technology.
    pub class: LinkClass,
}

impl Link {
    /// Achievable payload bandwidth in bytes/s: `line_rate * efficiency`.
    pub fn bandwidth(&self) -> f64 {
        self.line_rate * self.efficiency
    }
}

/// Shortest-path distances to destinations, shared by every [`crate::Router`] on one topology
/// (computing them is most of the cost of routing, and a sweep routes the same cluster many
/// times). Cloning a topology starts an empty cache.
#[derive(Default)]
pub(crate) struct DistanceCache(pub RwLock<HashMap<VertexId, Arc<Vec<u64>>>>);

impl Clone for DistanceCache {
    fn clone(&self) -> Self {
        DistanceCache::default()
    }
}

impl std::fmt::Debug for DistanceCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DistanceCache")
    }
}

/// The graph plus indices to find GPUs, hosts, SSDs and NICs by number.
#[derive(Clone, Debug)]
pub struct Topology {
    pub(crate) graph: DiGraph<Device, LinkId>,
    links: Vec<Link>,
    gpus: Vec<VertexId>,
    hosts: Vec<VertexId>,
    host_memories: Vec<VertexId>,
    ssds: Vec<Option<VertexId>>,
    nics: Vec<VertexId>,
    gpus_per_node: u32,
    nics_per_node: u32,
    /// Outgoing (link, neighbour) pairs per vertex, sorted by link id.
    out: Vec<Vec<(LinkId, VertexId)>>,
    pub(crate) distances: DistanceCache,
    pub(crate) routes: RouteCache,
}

/// Routes shared by every [`crate::Router`] on one topology, keyed by `src << 32 | dst`.
#[derive(Default)]
pub(crate) struct RouteCache(
    pub RwLock<simcore::fast_hash::FastMap<u64, Arc<crate::routing::Route>>>,
);

impl Clone for RouteCache {
    fn clone(&self) -> Self {
        RouteCache::default()
    }
}

impl std::fmt::Debug for RouteCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RouteCache")
    }
}

/// Link parameters for [`Topology::add_duplex`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct LinkParams {
    pub line_rate: f64,
    pub efficiency: f64,
    pub latency: SimTime,
    pub class: LinkClass,
}

impl Topology {
    /// Builds the topology of a validated spec.
    pub fn build(spec: &ClusterSpec, catalog: &Catalog) -> Result<Topology, ClusterError> {
        spec.validate(catalog)?;
        let n = &spec.node;
        let gpu = catalog.gpu(&n.gpu)?;
        let pcie = catalog.pcie(&gpu.pcie)?;
        let pcie_rate = pcie.bandwidth.map(|b| b.0).ok_or_else(|| {
            ClusterError::Invalid(format!("PCIe generation {} has no x16 bandwidth", gpu.pcie))
        })?;
        let pcie_link = LinkParams {
            line_rate: pcie_rate,
            efficiency: pcie.efficiency,
            latency: pcie.latency,
            class: LinkClass::Pcie,
        };
        let host = catalog.host(&n.host)?;
        let nic = catalog.nic(&n.nic)?;

        let mut t = Topology {
            graph: DiGraph::default(),
            links: Vec::new(),
            gpus: Vec::new(),
            hosts: Vec::new(),
            host_memories: Vec::new(),
            ssds: Vec::new(),
            nics: Vec::new(),
            gpus_per_node: n.gpus,
            nics_per_node: n.nics,
            out: Vec::new(),
            distances: DistanceCache::default(),
            routes: RouteCache::default(),
        };
        for node in 0..spec.nodes {
            let host_v = t.graph.add_node(Device::Host { node });
            t.hosts.push(host_v);
            let dram_v = t.graph.add_node(Device::HostMemory { node });
            t.host_memories.push(dram_v);
            // DRAM bandwidth is shared by reads and writes; each direction gets the full peak
            // here (an optimistic simplification, stated in the model document).
            t.add_duplex(
                host_v,
                dram_v,
                LinkParams {
                    line_rate: host.memory_bandwidth.0,
                    efficiency: 1.0,
                    latency: SimTime::ZERO,
                    class: LinkClass::Memory,
                },
            );
            let ssd_v = match (&n.ssd, n.ssds) {
                (Some(key), count) if count > 0 => {
                    let ssd = catalog.ssd(key)?;
                    let v = t.graph.add_node(Device::Ssd { node });
                    let c = f64::from(count);
                    // Reads flow SSD -> host, writes host -> SSD.
                    t.add_link(
                        v,
                        host_v,
                        LinkParams {
                            line_rate: c * ssd.read_bandwidth.0,
                            efficiency: 1.0,
                            latency: ssd.latency,
                            class: LinkClass::Storage,
                        },
                    );
                    t.add_link(
                        host_v,
                        v,
                        LinkParams {
                            line_rate: c * ssd.write_bandwidth.0,
                            efficiency: 1.0,
                            latency: ssd.latency,
                            class: LinkClass::Storage,
                        },
                    );
                    Some(v)
                }
                _ => None,
            };
            t.ssds.push(ssd_v);
            let nvswitch = match n.intra {
                IntraConnect::Nvswitch => Some(t.graph.add_node(Device::NvSwitch { node })),
                _ => None,
            };
            let first_gpu = t.gpus.len();
            for local in 0..n.gpus {
                let g = t.graph.add_node(Device::Gpu { node, local });
                t.gpus.push(g);
                t.add_duplex(g, host_v, pcie_link);
                if let (Some(sw), Some(nv)) = (nvswitch, &gpu.nvlink) {
                    let tech = catalog.nvlink(&nv.generation)?;
                    let per_link = tech.per_link_bandwidth.map(|b| b.0).ok_or_else(|| {
                        ClusterError::Invalid(format!(
                            "NVLink {} has no per-link bandwidth",
                            nv.generation
                        ))
                    })?;
                    t.add_duplex(
                        g,
                        sw,
                        LinkParams {
                            line_rate: per_link * f64::from(nv.links),
                            efficiency: tech.efficiency,
                            latency: tech.latency,
                            class: LinkClass::Nvlink,
                        },
                    );
                }
            }
            let gpus_per_nic = n.gpus / n.nics;
            for index in 0..n.nics {
                let v = t.graph.add_node(Device::Nic { node, index });
                t.nics.push(v);
                for k in 0..gpus_per_nic {
                    let g = t.gpus[first_gpu + (index * gpus_per_nic + k) as usize];
                    t.add_duplex(g, v, pcie_link);
                }
            }
        }
        if spec.nodes > 1 {
            add_fabric(&mut t, spec, catalog.switch(&spec.fabric.switch)?, nic)?;
        }
        let mut out = vec![Vec::new(); t.graph.node_count()];
        for (i, l) in t.links.iter().enumerate() {
            out[l.from.index()].push((LinkId(i as u32), l.to));
        }
        t.out = out;
        Ok(t)
    }

    /// Adds one directed link.
    pub(crate) fn add_link(&mut self, from: VertexId, to: VertexId, p: LinkParams) -> LinkId {
        let id = LinkId(self.links.len() as u32);
        self.links.push(Link {
            from,
            to,
            line_rate: p.line_rate,
            efficiency: p.efficiency,
            latency: p.latency,
            class: p.class,
        });
        self.graph.add_edge(from, to, id);
        id
    }

    /// Adds both directions of a full-duplex link.
    pub(crate) fn add_duplex(&mut self, a: VertexId, b: VertexId, p: LinkParams) {
        self.add_link(a, b, p);
        self.add_link(b, a, p);
    }

    /// Adds a vertex.
    pub(crate) fn add_device(&mut self, d: Device) -> VertexId {
        self.graph.add_node(d)
    }

    /// All directed links.
    pub fn links(&self) -> &[Link] {
        &self.links
    }

    /// One link.
    pub fn link(&self, id: LinkId) -> &Link {
        &self.links[id.0 as usize]
    }

    /// Number of GPUs.
    pub fn gpu_count(&self) -> u32 {
        self.gpus.len() as u32
    }

    /// Number of nodes.
    pub fn node_count(&self) -> u32 {
        self.hosts.len() as u32
    }

    /// GPUs per node.
    pub fn gpus_per_node(&self) -> u32 {
        self.gpus_per_node
    }

    /// NICs per node.
    pub fn nics_per_node(&self) -> u32 {
        self.nics_per_node
    }

    /// The node a GPU is in.
    pub fn node_of(&self, gpu: GpuId) -> u32 {
        gpu.0 / self.gpus_per_node
    }

    /// The vertex of a GPU, or an error if the index is out of range.
    pub fn gpu_vertex(&self, gpu: GpuId) -> Result<VertexId, ClusterError> {
        self.gpus.get(gpu.0 as usize).copied().ok_or_else(|| {
            ClusterError::Unsupported(format!(
                "GPU {} does not exist: the cluster has {} GPUs (0..{})",
                gpu.0,
                self.gpus.len(),
                self.gpus.len()
            ))
        })
    }

    /// The host vertex of a node.
    pub fn host_vertex(&self, node: u32) -> Result<VertexId, ClusterError> {
        self.hosts.get(node as usize).copied().ok_or_else(|| {
            ClusterError::Unsupported(format!(
                "node {node} does not exist ({} nodes)",
                self.hosts.len()
            ))
        })
    }

    /// The DRAM vertex of a node.
    pub fn host_memory_vertex(&self, node: u32) -> Result<VertexId, ClusterError> {
        self.host_memories.get(node as usize).copied().ok_or_else(|| {
            ClusterError::Unsupported(format!(
                "node {node} does not exist ({} nodes)",
                self.hosts.len()
            ))
        })
    }

    /// The SSD vertex of a node, if it has local NVMe.
    pub fn ssd_vertex(&self, node: u32) -> Result<VertexId, ClusterError> {
        self.ssds.get(node as usize).copied().flatten().ok_or_else(|| {
            ClusterError::Unsupported(format!(
                "node {node} has no SSD (set node.ssd and node.ssds)"
            ))
        })
    }

    /// The NIC vertices, node-major.
    pub fn nic_vertices(&self) -> &[VertexId] {
        &self.nics
    }

    /// What a vertex is.
    pub fn device(&self, v: VertexId) -> Device {
        self.graph[v]
    }

    /// Number of vertices.
    pub fn vertex_count(&self) -> usize {
        self.graph.node_count()
    }

    /// Outgoing (link, neighbour) pairs of a vertex, in insertion order.
    pub(crate) fn out_links(&self, v: VertexId) -> impl Iterator<Item = (LinkId, VertexId)> + '_ {
        self.out[v.index()].iter().copied()
    }

    /// Incoming (link, neighbour) pairs of a vertex.
    pub(crate) fn in_links(&self, v: VertexId) -> impl Iterator<Item = (LinkId, VertexId)> + '_ {
        use petgraph::Direction;
        use petgraph::visit::EdgeRef;
        self.graph.edges_directed(v, Direction::Incoming).map(|e| (*e.weight(), e.source()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(preset: &str, nodes: u32) -> Topology {
        let spec = ClusterSpec::preset(preset).unwrap().with_nodes(nodes);
        Topology::build(&spec, &spec.catalog()).unwrap()
    }

    #[test]
    fn dgx_h100_node_has_expected_parts() {
        let t = build("dgx-h100", 1);
        assert_eq!(t.gpu_count(), 8);
        assert_eq!(t.nic_vertices().len(), 8);
        // NVLink4: 18 links x 25 GB/s per direction = 450 GB/s line rate.
        let g0 = t.gpu_vertex(GpuId(0)).unwrap();
        let nv: Vec<&Link> =
            t.links().iter().filter(|l| l.from == g0 && l.class == LinkClass::Nvlink).collect();
        assert_eq!(nv.len(), 1);
        assert_eq!(nv[0].line_rate, 450e9);
        assert!((nv[0].bandwidth() - 360e9).abs() < 1.0);
        assert!(t.gpu_vertex(GpuId(8)).is_err());
    }

    #[test]
    fn multi_node_has_fabric() {
        let t = build("dgx-a100", 4);
        assert_eq!(t.gpu_count(), 32);
        assert_eq!(t.node_count(), 4);
        assert_eq!(t.node_of(GpuId(17)), 2);
        let leaves = (0..t.vertex_count())
            .filter(|&i| matches!(t.device(NodeIndex::new(i)), Device::Leaf { .. }))
            .count();
        assert_eq!(leaves, 8, "one leaf per rail");
    }
}
