//! Multi-node fabrics: a two-level leaf-spine Clos, either node-major (fat-tree) or one set of
//! leaves per NIC rail (rail-optimized, as in NVIDIA's DGX SuperPOD reference architectures).
//!
//! Sizing: with switch radix `k` and oversubscription `o` (down/up bandwidth ratio), a leaf
//! that needs uplinks uses `d = floor(k * o / (1 + o))` ports down and `k - d` up, one uplink to
//! each of `k - d` spines. If every NIC fits on one leaf, there is no spine. A spine that would
//! need more than `k` ports stands for a non-blocking spine layer of several switches (bandwidth
//! is what matters to the cost model; the extra switch hop of a three-level Clos is not
//! modelled).
//!
//! [`layout`] sizes a fabric; `add_fabric` adds its switches and links, through the topology's
//! graph API, to a topology whose NICs exist. The cluster builder ([`crate::build_topology`])
//! calls it after wiring the nodes; the topology itself knows nothing of fabrics.

use crate::catalog::{NicSpec, SwitchSpec};
use crate::error::ClusterError;
use crate::spec::{ClusterSpec, FabricTopology};
use crate::topology::{Device, LinkClass, LinkParams, Topology};

/// Leaf and spine counts and the NIC-to-leaf assignment of a fabric.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FabricLayout {
    /// Number of leaf switches.
    pub leaves: u32,
    /// Number of spine switches (0 if one leaf holds everything).
    pub spines: u32,
    /// Leaf of each NIC, node-major.
    pub leaf_of_nic: Vec<u32>,
}

/// Computes the layout for `nodes` nodes with `nics` NICs each.
pub fn layout(
    topology: FabricTopology,
    nodes: u32,
    nics: u32,
    radix: u32,
    oversubscription: f64,
) -> FabricLayout {
    let ports = nodes * nics;
    let (rails, per_rail) = match topology {
        FabricTopology::FatTree => (1, ports),
        FabricTopology::RailOptimized => (nics, nodes),
    };
    if rails == 1 && ports <= radix {
        return FabricLayout { leaves: 1, spines: 0, leaf_of_nic: vec![0; ports as usize] };
    }
    let down = ((f64::from(radix) * oversubscription / (1.0 + oversubscription)).floor() as u32)
        .clamp(1, radix - 1);
    let up = radix - down;
    let leaves_per_rail = per_rail.div_ceil(down);
    let leaves = rails * leaves_per_rail;
    let mut leaf_of_nic = Vec::with_capacity(ports as usize);
    for node in 0..nodes {
        for i in 0..nics {
            leaf_of_nic.push(match topology {
                FabricTopology::FatTree => (node * nics + i) / down,
                FabricTopology::RailOptimized => i * leaves_per_rail + node / down,
            });
        }
    }
    let spines = if leaves > 1 { up } else { 0 };
    FabricLayout { leaves, spines, leaf_of_nic }
}

/// Adds leaves, spines and their links to a topology whose NICs already exist.
pub(crate) fn add_fabric(
    t: &mut Topology,
    spec: &ClusterSpec,
    switch: &SwitchSpec,
    nic: &NicSpec,
) -> Result<(), ClusterError> {
    let l = layout(
        spec.fabric.topology,
        spec.nodes,
        spec.node.nics,
        switch.ports,
        spec.fabric.oversubscription,
    );
    let leaves: Vec<_> = (0..l.leaves).map(|index| t.add_device(Device::Leaf { index })).collect();
    let spines: Vec<_> = (0..l.spines).map(|index| t.add_device(Device::Spine { index })).collect();
    let port_rate = switch.port_bandwidth.0.min(nic.bandwidth.0);
    let nics = t.nic_vertices().to_vec();
    for (nic_v, &leaf) in nics.iter().zip(&l.leaf_of_nic) {
        let leaf_v = leaves[leaf as usize];
        // NIC -> leaf includes crossing the leaf; leaf -> NIC is the NIC's own latency.
        t.add_link(
            *nic_v,
            leaf_v,
            LinkParams {
                line_rate: port_rate,
                efficiency: nic.efficiency,
                latency: nic.latency + switch.latency,
                class: LinkClass::Network,
            },
        );
        t.add_link(
            leaf_v,
            *nic_v,
            LinkParams {
                line_rate: port_rate,
                efficiency: nic.efficiency,
                latency: nic.latency,
                class: LinkClass::Network,
            },
        );
    }
    let up = LinkParams {
        line_rate: switch.port_bandwidth.0,
        efficiency: nic.efficiency,
        latency: switch.latency,
        class: LinkClass::Network,
    };
    for &leaf_v in &leaves {
        for &spine_v in &spines {
            t.add_duplex(leaf_v, spine_v, up);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_leaf_when_everything_fits() {
        let l = layout(FabricTopology::FatTree, 4, 1, 64, 1.0);
        assert_eq!((l.leaves, l.spines), (1, 0));
    }

    #[test]
    fn fat_tree_fills_leaves_in_node_order() {
        // 16 nodes x 8 NICs = 128 ports on radix-40 switches: 20 down, 20 up per leaf.
        let l = layout(FabricTopology::FatTree, 16, 8, 40, 1.0);
        assert_eq!(l.leaves, 7);
        assert_eq!(l.spines, 20);
        assert_eq!(l.leaf_of_nic[0], 0);
        assert_eq!(l.leaf_of_nic[20], 1);
        assert_eq!(l.leaf_of_nic[127], 6);
    }

    #[test]
    fn rail_optimized_puts_each_rail_on_its_own_leaves() {
        // 128 DGX nodes on radix-64 switches: 32 nodes per rail leaf, 4 leaves per rail.
        let l = layout(FabricTopology::RailOptimized, 128, 8, 64, 1.0);
        assert_eq!(l.leaves, 32);
        assert_eq!(l.spines, 32);
        assert_eq!(l.leaf_of_nic[8 * 33 + 3], 3 * 4 + 1, "node 33, rail 3");
    }

    #[test]
    fn oversubscription_trades_uplinks_for_downlinks() {
        let l = layout(FabricTopology::FatTree, 100, 1, 64, 3.0);
        assert_eq!(l.spines, 16, "48 down, 16 up");
        assert_eq!(l.leaves, 3);
    }
}
