//! Ring collectives (and the chain broadcast) with one ring per channel.
//!
//! Within one node a single ring is enough: every GPU's NVLink port carries the same load
//! whatever the channel count. Across nodes NCCL runs one ring per NIC so that every NIC
//! carries a share, and keeps each inter-node hop on one rail. Here channel `k` visits the GPUs
//! of even-numbered nodes from `k` to `k-1` and of odd-numbered nodes backwards from `k-1` to
//! `k`, so every hop between nodes joins two GPUs of the same local index (same rail: one leaf
//! switch, no spine) and every NIC sends and receives for one channel. Each channel carries
//! `1/C` of the data.
//!
//! Per rank, a ring all-reduce sends `2(n-1)/n * S` in `2(n-1)` steps, an all-gather or
//! reduce-scatter `(n-1)/n * S` in `n-1` steps (Patarasuk and Yuan 2009; Thakur, Rabenseifner
//! and Gropp 2005). The pipelined chain broadcast sends `S` over each of `n-1` edges.

use super::{CollectiveKind, HopCounts, Layout, Phase, Transfer};
use crate::topology::{GpuId, LinkClass};

/// The ring order of channel `k`. With `keep_root`, the group's first GPU stays first (the
/// chain of a broadcast starts at its root) and only the rest of its node rotates.
fn channel_order(layout: &Layout, k: usize, keep_root: bool) -> Vec<GpuId> {
    let mut order = Vec::with_capacity(layout.size());
    for (i, node) in layout.nodes.iter().enumerate() {
        let rest = if keep_root && i == 0 {
            order.push(node[0]);
            &node[1..]
        } else {
            &node[..]
        };
        if rest.is_empty() {
            continue;
        }
        let r = k % rest.len();
        let at = order.len();
        order.extend_from_slice(&rest[r..]);
        order.extend_from_slice(&rest[..r]);
        if i % 2 == 1 {
            order[at..].reverse();
        }
    }
    order
}

/// Number of channels: one per NIC (bounded by the smallest node's GPU count) across nodes,
/// one inside a node.
pub(super) fn channels(layout: &Layout, nics_per_node: u32) -> usize {
    if layout.nodes.len() < 2 {
        1
    } else {
        let min_local = layout.nodes.iter().map(Vec::len).min().unwrap_or(1);
        min_local.min(nics_per_node.max(1) as usize).max(1)
    }
}

/// Hops of `steps` consecutive ring steps on a ring of `n` edges of which `crossings` cross
/// nodes: a pipelined chunk walks `steps` consecutive edges, so `ceil(steps * crossings / n)` of
/// them are network hops (NCCL's tuning model counts `2 * nodes` for an all-reduce, the same for
/// many GPUs per node).
fn ring_hops(layout: &Layout, steps: u32, crossings: u32, n: u32) -> HopCounts {
    let network = (u64::from(steps) * u64::from(crossings)).div_ceil(u64::from(n.max(1))) as u32;
    let network = network.min(steps);
    let mut h = HopCounts::of(LinkClass::Network, network);
    h.add(layout.intra, steps - network);
    h
}

pub(super) fn phases(
    kind: CollectiveKind,
    layout: &Layout,
    bytes: f64,
    nics_per_node: u32,
) -> Vec<Phase> {
    let n = layout.size();
    let nn = n as f64;
    let node_count = layout.nodes.len() as u32;
    // Ring edges that cross nodes, per ring.
    let crossings = if node_count > 1 { node_count } else { 0 };
    let c = channels(layout, nics_per_node);
    let steps_n = (n - 1) as u32;
    let (per_edge, hops, chain) = match kind {
        CollectiveKind::AllReduce => (
            2.0 * (nn - 1.0) / nn * bytes,
            ring_hops(layout, 2 * steps_n, crossings, n as u32),
            false,
        ),
        CollectiveKind::AllGather | CollectiveKind::ReduceScatter => {
            ((nn - 1.0) / nn * bytes, ring_hops(layout, steps_n, crossings, n as u32), false)
        }
        CollectiveKind::Broadcast => {
            (bytes, ring_hops(layout, steps_n, node_count.saturating_sub(1), steps_n), true)
        }
        CollectiveKind::AllToAll => unreachable!("all-to-all has no ring algorithm"),
    };
    let mut transfers = Vec::with_capacity(c * n);
    for k in 0..c {
        let order = channel_order(layout, k, chain);
        let edges = if chain { n - 1 } else { n };
        for j in 0..edges {
            transfers.push(Transfer {
                src: order[j],
                dst: order[(j + 1) % n],
                bytes: per_edge / c as f64,
            });
        }
    }
    vec![Phase { transfers, hops }]
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::collective::test_layout as layout;

    #[test]
    fn single_node_all_reduce_is_one_ring() {
        let p = phases(CollectiveKind::AllReduce, &layout(1, 4), 1000.0, 8);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].transfers.len(), 4);
        assert_eq!(p[0].transfers[3].dst, GpuId(0));
        assert!((p[0].transfers[0].bytes - 1500.0).abs() < 1e-9);
        assert_eq!(p[0].hops, HopCounts { nvlink: 6, pcie: 0, network: 0 });
    }

    #[test]
    fn multi_node_uses_one_channel_per_nic_and_rotates() {
        let p = phases(CollectiveKind::AllGather, &layout(2, 8), 16.0 * 1024.0, 8);
        let t = &p[0].transfers;
        assert_eq!(t.len(), 8 * 16);
        // Every GPU leaves its node once across the 8 channels, always to the same local
        // index (its rail).
        let mut exits = vec![0; 16];
        for tr in t {
            if tr.src.0 / 8 != tr.dst.0 / 8 {
                exits[tr.src.0 as usize] += 1;
                assert_eq!(tr.src.0 % 8, tr.dst.0 % 8, "inter-node hop leaves its rail");
            }
        }
        assert!(exits.iter().all(|&e| e == 1), "{exits:?}");
        assert_eq!(p[0].hops, HopCounts { nvlink: 13, pcie: 0, network: 2 });
    }

    #[test]
    fn broadcast_is_an_open_chain_from_the_first_rank() {
        let p = phases(CollectiveKind::Broadcast, &layout(1, 4), 100.0, 1);
        let t = &p[0].transfers;
        assert_eq!(t.len(), 3);
        assert_eq!(t[0].src, GpuId(0));
        assert!(t.iter().all(|x| x.bytes == 100.0));
    }
}
