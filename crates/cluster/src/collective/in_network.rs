//! All-reduce with reductions done by switches: NVLink SHARP inside a node (NCCL's NVLS) and
//! InfiniBand SHARP across nodes (NCCL's CollNet Direct).
//!
//! The plans carry GPU-to-GPU transfers whose loads on every GPU's links equal what the
//! switch-based algorithm puts there; a transfer "through the switch" has no GPU at its other
//! end, so each is spread over peers that load the same links (every GPU hangs off the
//! NVSwitch by one link, and off the fabric by its NIC).
//!
//! **NVLS** (NVIDIA H100 whitepaper, "NVLink SHARP"; NCCL 2.17+): each GPU reduces its `1/n`
//! of the buffer with `multimem.ld_reduce` (the switch reads that piece from every GPU, sums it
//! and returns it) and writes the sum back with `multimem.st` (the switch multicasts it to
//! every GPU). Per GPU and direction the link carries `S + S/n`, against `2(n-1)/n S` for a
//! ring. The switch's reduction runs below the link's payload rate: the topology's
//! `nvls` factor (from NVIDIA's statement of about 480 GB/s peak bus bandwidth, 275 GB/s
//! algorithm bandwidth, on 8 H100; docs/models/cluster.md) divides the bytes.
//!
//! **SHARP** (Graham et al., "Scalable Hierarchical Aggregation Protocol", COMHPC 2016;
//! NCCL's CollNet Direct): inside each node the GPUs reduce-scatter directly over NVLink,
//! each GPU sends its reduced `1/g` shard up the switch tree and receives the total, and the
//! GPUs all-gather inside the node; the three run pipelined, so one phase holds them all and
//! the most loaded link decides. A shard goes up once and comes down once: per NIC `S/g` each
//! way whatever the node count (a ring sends `2(n-1)/n` of it). The up-and-down through the
//! switch tree is drawn as a send to the same local GPU of the next node, which loads that
//! NIC the same way and crosses the fabric as one ring step does.

use super::{HopCounts, Layout, Phase, Transfer};
use crate::error::ClusterError;
use crate::topology::{Capabilities, LinkClass};

/// Whether NVLS can run this group: one node whose NVSwitch reduces.
pub(super) fn check_nvls(layout: &Layout, caps: Capabilities) -> Result<(), ClusterError> {
    if caps.nvls.is_none() {
        return Err(ClusterError::Unsupported(
            "nvls needs an NVSwitch that reduces in the switch (NVLink SHARP: third-generation \
             NVSwitch, as in DGX/HGX H100 and H200); this node has none"
                .into(),
        ));
    }
    if layout.nodes.len() > 1 {
        return Err(ClusterError::Unsupported(format!(
            "nvls runs inside one node; this group spans {} nodes (NVLS with a tree across \
             nodes is not modelled: use ring, tree or sharp)",
            layout.nodes.len()
        )));
    }
    Ok(())
}

/// Whether SHARP can run this group: SHARP enabled on the fabric, several nodes, as many of
/// the group's GPUs on each.
pub(super) fn check_sharp(layout: &Layout, caps: Capabilities) -> Result<(), ClusterError> {
    if !caps.sharp {
        return Err(ClusterError::Unsupported(
            "sharp needs in-network reduction: set fabric.sharp: true in the cluster spec (or pass \
             --sharp) on a switch that has it (quantum-hdr, quantum2-ndr)"
                .into(),
        ));
    }
    if layout.nodes.len() < 2 {
        return Err(ClusterError::Unsupported(
            "sharp reduces across nodes; this group is inside one node (use ring, tree or nvls)"
                .into(),
        ));
    }
    let g = layout.nodes[0].len();
    if layout.nodes.iter().any(|n| n.len() != g) {
        return Err(ClusterError::Unsupported(
            "sharp needs the same number of the group's GPUs on every node".into(),
        ));
    }
    Ok(())
}

/// NVLS all-reduce of `bytes` inside one node.
pub(super) fn nvls_phases(layout: &Layout, bytes: f64, factor: f64) -> Vec<Phase> {
    let gpus = &layout.nodes[0];
    let n = gpus.len() as f64;
    // Each ordered pair carries x: every GPU sends and receives (n-1)x = S(1 + 1/n).
    let x = bytes * (n + 1.0) / (n * (n - 1.0)) / factor;
    let mut transfers = Vec::with_capacity(gpus.len() * (gpus.len() - 1));
    for &src in gpus {
        for &dst in gpus {
            if src != dst {
                transfers.push(Transfer { src, dst, bytes: x });
            }
        }
    }
    // ld_reduce and st: each a round trip through the switch.
    vec![Phase { transfers, hops: HopCounts::of(LinkClass::Nvlink, 2) }]
}

/// SHARP all-reduce of `bytes` over several nodes.
pub(super) fn sharp_phases(layout: &Layout, bytes: f64) -> Vec<Phase> {
    let nodes = &layout.nodes;
    let g = nodes[0].len();
    let shard = bytes / g as f64;
    let mut transfers = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        // Reduce-scatter and all-gather inside the node: every ordered pair a shard each way.
        for &src in node {
            for &dst in node {
                if src != dst {
                    transfers.push(Transfer { src, dst, bytes: 2.0 * shard });
                }
            }
        }
        // The shard up the switch tree and the total back down.
        let next = &nodes[(i + 1) % nodes.len()];
        for (&src, &dst) in node.iter().zip(next) {
            transfers.push(Transfer { src, dst, bytes: shard });
        }
    }
    let mut hops = HopCounts::of(LinkClass::Network, 1);
    if g > 1 {
        hops.add(layout.intra, 2);
    }
    vec![Phase { transfers, hops }]
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::collective::test_layout as layout;

    fn sent(p: &Phase, gpu: u32, remote_only: Option<u32>) -> f64 {
        p.transfers
            .iter()
            .filter(|t| t.src.0 == gpu && remote_only.is_none_or(|per| t.dst.0 / per != gpu / per))
            .map(|t| t.bytes)
            .sum()
    }

    #[test]
    fn nvls_loads_each_gpu_link_with_s_plus_s_over_n() {
        let p = nvls_phases(&layout(1, 8), 800.0, 1.0);
        for g in 0..8 {
            assert!((sent(&p[0], g, None) - 900.0).abs() < 1e-9);
            let got: f64 = p[0].transfers.iter().filter(|t| t.dst.0 == g).map(|t| t.bytes).sum();
            assert!((got - 900.0).abs() < 1e-9);
        }
    }

    #[test]
    fn sharp_sends_one_shard_per_nic_whatever_the_node_count() {
        for nodes in [2, 5, 12] {
            let p = sharp_phases(&layout(nodes, 8), 800.0);
            for g in 0..nodes * 8 {
                assert!((sent(&p[0], g, Some(8)) - 100.0).abs() < 1e-9, "{nodes} nodes");
                assert!((sent(&p[0], g, None) - (100.0 + 7.0 * 200.0)).abs() < 1e-9);
            }
        }
    }

    #[test]
    fn availability_errors_say_what_is_needed() {
        let none = Capabilities::default();
        assert!(check_nvls(&layout(1, 8), none).unwrap_err().to_string().contains("NVSwitch"));
        let nvls = Capabilities { nvls: Some(0.86), ..none };
        assert!(check_nvls(&layout(2, 8), nvls).unwrap_err().to_string().contains("one node"));
        assert!(check_sharp(&layout(2, 8), none).unwrap_err().to_string().contains("fabric.sharp"));
        let sharp = Capabilities { sharp: true, ..none };
        assert!(check_sharp(&layout(1, 8), sharp).is_err());
        assert!(check_sharp(&layout(3, 8), sharp).is_ok());
    }
}
