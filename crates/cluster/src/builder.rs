//! The cluster builder: turns a validated [`ClusterSpec`] and its [`Catalog`] into a
//! [`Topology`].
//!
//! It wires each node's parts through the topology's graph API (host and DRAM, local NVMe,
//! GPUs on PCIe and, with NVSwitch, on NVLink, NICs on PCIe), then, for more than one node,
//! the multi-node network with [`crate::fabric`]. This is the only module that knows both the
//! spec and the graph: [`crate::topology`] is the graph alone and [`crate::fabric`] adds
//! switches to a topology it is handed, so neither depends on the other or on this one.
//! [`crate::Cluster::new`] calls it.

use simcore::SimTime;

use crate::catalog::Catalog;
use crate::error::ClusterError;
use crate::fabric::add_fabric;
use crate::spec::{ClusterSpec, IntraConnect};
use crate::topology::{Capabilities, Device, LinkClass, LinkParams, Topology};

/// Builds the topology of a spec (validating it against the catalog): every node's devices and
/// links, then the leaf-spine fabric if there is more than one node.
pub fn build_topology(spec: &ClusterSpec, catalog: &Catalog) -> Result<Topology, ClusterError> {
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

    let mut t = Topology::new(n.gpus, n.nics);
    let nvlink_tech = match (&n.intra, &gpu.nvlink) {
        (IntraConnect::Nvswitch, Some(nv)) => Some(catalog.nvlink(&nv.generation)?),
        _ => None,
    };
    t.set_capabilities(Capabilities {
        nvls: nvlink_tech.and_then(|tech| tech.in_switch_reduction).filter(|_| n.gpus > 1),
        sharp: spec.fabric.sharp && spec.nodes > 1,
        ll_max_bus_bandwidth: gpu.nccl_ll_bus_bandwidth.map(|b| b.0),
        // NCCL finds one ring channel per NVLink and duplicates them, up to its 32 channels:
        // 24 on DGX A100 (12 links), 16 on H800 (8 links), as their logs show
        // (docs/models/cluster.md section 5).
        nccl_channels: match (&n.intra, &gpu.nvlink) {
            (IntraConnect::Nvswitch, Some(nv)) if n.gpus > 1 => Some((2 * nv.links).min(32)),
            _ => None,
        },
    });
    for node in 0..spec.nodes {
        let host_v = t.add_device(Device::Host { node });
        let dram_v = t.add_device(Device::HostMemory { node });
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
        if let (Some(key), count) = (&n.ssd, n.ssds)
            && count > 0
        {
            let ssd = catalog.ssd(key)?;
            let v = t.add_device(Device::Ssd { node });
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
        }
        let nvswitch = match n.intra {
            IntraConnect::Nvswitch => Some(t.add_device(Device::NvSwitch { node })),
            _ => None,
        };
        let mut node_gpus = Vec::with_capacity(n.gpus as usize);
        for local in 0..n.gpus {
            let g = t.add_device(Device::Gpu { node, local });
            node_gpus.push(g);
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
            let v = t.add_device(Device::Nic { node, index });
            for k in 0..gpus_per_nic {
                let g = node_gpus[(index * gpus_per_nic + k) as usize];
                t.add_duplex(g, v, pcie_link);
            }
        }
    }
    if spec.nodes > 1 {
        add_fabric(&mut t, spec, catalog.switch(&spec.fabric.switch)?, nic)?;
    }
    // A link that carries nothing would stall every transfer over it (and its flows forever).
    for link in t.links() {
        let bw = link.bandwidth();
        if !(bw > 0.0 && bw.is_finite()) {
            return Err(ClusterError::Invalid(format!(
                "link {} -> {} ({:?}) has payload bandwidth {bw} B/s (line rate {} x efficiency \
                 {}): every link needs a positive, finite bandwidth; check the catalog entry \
                 of its part (gpus, nvlink, pcie, nics, switches, hosts, ssds)",
                t.device(link.from).label(),
                t.device(link.to).label(),
                link.class,
                link.line_rate,
                link.efficiency
            )));
        }
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::{GpuId, Link, VertexId};

    fn build(preset: &str, nodes: u32) -> Topology {
        let spec = ClusterSpec::preset(preset).unwrap().with_nodes(nodes);
        build_topology(&spec, &spec.catalog()).unwrap()
    }

    #[test]
    fn a_link_without_bandwidth_is_an_error_that_names_it() {
        let spec = ClusterSpec::preset("dgx-h100").unwrap().with_nodes(2);
        let mut catalog = spec.catalog();
        catalog.nics.get_mut("connectx7-ndr400").unwrap().bandwidth =
            simcore::units::Bandwidth(0.0);
        let err = build_topology(&spec, &catalog).unwrap_err().to_string();
        assert!(err.contains("nic0.0 -> leaf") && err.contains("positive"), "{err}");
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
            .filter(|&i| matches!(t.device(VertexId::new(i)), Device::Leaf { .. }))
            .count();
        assert_eq!(leaves, 8, "one leaf per rail");
    }
}
