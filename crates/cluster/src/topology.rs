//! The cluster as a directed graph (petgraph): devices are vertices, each direction of a
//! full-duplex link is one edge with its own capacity, so traffic in opposite directions does
//! not compete.
//!
//! This module is the graph only: devices, links and their parameters, and lookups (a GPU's,
//! host's, DRAM's or SSD's vertex, a vertex's links). It depends on no other part of the crate
//! but its error type. What fills it from a spec is [`crate::build_topology`] (each node's parts,
//! then the multi-node network through [`crate::fabric`]); what routes on it is [`crate::Router`],
//! which keeps its caches in a [`crate::RouteCache`] beside the topology, not in it.

use petgraph::graph::{DiGraph, NodeIndex};
use simcore::SimTime;

use crate::error::ClusterError;

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
    /// Whether traffic between other devices may pass through this one. GPUs, host memory and
    /// SSDs are endpoints only; NVSwitches, NICs, switches and the host (as PCIe root)
    /// forward. (Host memory as a transit let routes out of it bounce over its zero-latency
    /// link to the host and back, counting that link several times.)
    pub fn is_transit(&self) -> bool {
        !matches!(self, Device::Gpu { .. } | Device::HostMemory { .. } | Device::Ssd { .. })
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

/// The graph plus indices to find GPUs, hosts, SSDs and NICs by number.
///
/// Only the graph: the builder ([`crate::build_topology`]) fills it from a spec, and routers
/// keep their tables outside it ([`crate::RouteCache`]), so cloning a topology copies the graph
/// and nothing else.
#[derive(Clone, Debug)]
pub struct Topology {
    graph: DiGraph<Device, LinkId>,
    links: Vec<Link>,
    /// GPU vertices by [`GpuId`].
    gpus: Vec<VertexId>,
    /// Host vertices by node.
    hosts: Vec<VertexId>,
    /// DRAM vertices by node.
    host_memories: Vec<VertexId>,
    /// SSD vertex by node, `None` (or past the end) for a node without one.
    ssds: Vec<Option<VertexId>>,
    /// NIC vertices, node-major.
    nics: Vec<VertexId>,
    gpus_per_node: u32,
    nics_per_node: u32,
    /// Outgoing (link, neighbour) pairs per vertex, sorted by link id.
    out: Vec<Vec<(LinkId, VertexId)>>,
    caps: Capabilities,
}

/// What the hardware does beyond moving bytes, for the collective algorithms and protocol
/// limits that depend on it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Capabilities {
    /// Every node's NVSwitch reduces in the switch (NVLink SHARP: NCCL's NVLS algorithm), at
    /// this fraction of the link's payload rate.
    pub nvls: Option<f64>,
    /// The fabric reduces in the network (InfiniBand SHARP, enabled in the cluster spec).
    pub sharp: bool,
    /// NCCL's cap on the LL protocol's bus bandwidth inside one node, bytes/s.
    pub ll_max_bus_bandwidth: Option<f64>,
    /// NCCL's ring and tree channels inside one NVSwitch node (what it cuts from for small
    /// operations); `None` where not known.
    pub nccl_channels: Option<u32>,
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
    /// An empty graph for nodes of `gpus_per_node` GPUs and `nics_per_node` NICs; the
    /// builder adds devices with [`Topology::add_device`] and links with
    /// [`Topology::add_link`] / [`Topology::add_duplex`].
    pub(crate) fn new(gpus_per_node: u32, nics_per_node: u32) -> Topology {
        Topology {
            graph: DiGraph::default(),
            links: Vec::new(),
            gpus: Vec::new(),
            hosts: Vec::new(),
            host_memories: Vec::new(),
            ssds: Vec::new(),
            nics: Vec::new(),
            gpus_per_node,
            nics_per_node,
            out: Vec::new(),
            caps: Capabilities::default(),
        }
    }

    /// What the hardware does beyond moving bytes.
    pub fn capabilities(&self) -> Capabilities {
        self.caps
    }

    pub(crate) fn set_capabilities(&mut self, caps: Capabilities) {
        self.caps = caps;
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
        self.out[from.index()].push((id, to));
        id
    }

    /// Adds both directions of a full-duplex link.
    pub(crate) fn add_duplex(&mut self, a: VertexId, b: VertexId, p: LinkParams) {
        self.add_link(a, b, p);
        self.add_link(b, a, p);
    }

    /// Adds a vertex, and indexes it if it is a GPU, host, DRAM, SSD or NIC. GPUs, hosts,
    /// DRAMs and NICs must be added in index order (node-major), as their lookups are by
    /// position.
    pub(crate) fn add_device(&mut self, d: Device) -> VertexId {
        let v = self.graph.add_node(d);
        self.out.push(Vec::new());
        match d {
            Device::Gpu { node, local } => {
                debug_assert_eq!(self.gpus.len(), (node * self.gpus_per_node + local) as usize);
                self.gpus.push(v);
            }
            Device::Host { node } => {
                debug_assert_eq!(self.hosts.len(), node as usize);
                self.hosts.push(v);
            }
            Device::HostMemory { node } => {
                debug_assert_eq!(self.host_memories.len(), node as usize);
                self.host_memories.push(v);
            }
            Device::Ssd { node } => {
                let node = node as usize;
                if self.ssds.len() <= node {
                    self.ssds.resize(node + 1, None);
                }
                self.ssds[node] = Some(v);
            }
            Device::Nic { node, index } => {
                debug_assert_eq!(self.nics.len(), (node * self.nics_per_node + index) as usize);
                self.nics.push(v);
            }
            Device::NvSwitch { .. } | Device::Leaf { .. } | Device::Spine { .. } => {}
        }
        v
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

    fn link(class: LinkClass) -> LinkParams {
        LinkParams { line_rate: 100e9, efficiency: 0.8, latency: SimTime::from_nanos(500), class }
    }

    #[test]
    fn devices_are_indexed_and_links_listed_in_order() {
        let mut t = Topology::new(2, 1);
        let host = t.add_device(Device::Host { node: 0 });
        let g0 = t.add_device(Device::Gpu { node: 0, local: 0 });
        let g1 = t.add_device(Device::Gpu { node: 0, local: 1 });
        let nic = t.add_device(Device::Nic { node: 0, index: 0 });
        t.add_duplex(g0, host, link(LinkClass::Pcie));
        t.add_duplex(g1, host, link(LinkClass::Pcie));
        let up = t.add_link(nic, host, link(LinkClass::Pcie));
        assert_eq!((t.gpu_count(), t.node_count(), t.vertex_count()), (2, 1, 4));
        assert_eq!(t.gpu_vertex(GpuId(1)).unwrap(), g1);
        assert!(t.gpu_vertex(GpuId(2)).is_err());
        assert_eq!(t.host_vertex(0).unwrap(), host);
        assert!(t.ssd_vertex(0).is_err(), "no SSD added");
        assert_eq!(t.nic_vertices(), &[nic]);
        assert_eq!(t.node_of(GpuId(1)), 0);
        let out: Vec<_> = t.out_links(host).collect();
        assert_eq!(out, vec![(LinkId(1), g0), (LinkId(3), g1)]);
        assert_eq!(t.out_links(nic).collect::<Vec<_>>(), vec![(up, host)]);
        let mut inc: Vec<_> = t.in_links(host).collect();
        inc.sort();
        assert_eq!(inc, vec![(LinkId(0), g0), (LinkId(2), g1), (up, nic)]);
        assert!((t.link(up).bandwidth() - 80e9).abs() < 1.0);
    }
}
