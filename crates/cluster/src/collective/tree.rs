//! Double binary trees (Sanders, Speck and Träff, "Two-tree algorithms for full bandwidth
//! broadcast, reduction and scan", Parallel Computing 2009), arranged as NCCL 2.4+ does: the
//! GPUs of a node form a chain, and the nodes form two binary trees.
//!
//! Node tree A is the balanced in-order binary tree over the nodes; tree B is A shifted by one
//! node (even count) or mirrored (odd count), so that most nodes that are inner in one tree are
//! leaves in the other. In tree A each node's chain runs from its first GPU (the head, linked
//! to the parent node's head) to its last; in tree B the chain runs backwards, so the two trees
//! leave a node through different GPUs and NICs. Each tree carries half the data; reduction
//! goes up and broadcast down, both pipelined, so every edge carries `S/2` each way and the
//! latency is that of the longest root-to-leaf path, twice: NCCL's
//! `2 * ((g - 1) * intra + log2(N) * inter)` hops. A broadcast uses tree A rooted at the node of
//! the group's first GPU, which heads its chain.
//!
//! Across nodes the trees run on one channel per NIC, as NCCL's do: channel `k` rotates every
//! node's chain by `k`, so each channel's trees leave the nodes through different GPUs and
//! NICs, and each channel carries `1/C` of the data.

use super::{CollectiveKind, HopCounts, Layout, Phase, Transfer};
use crate::error::ClusterError;
use crate::routing::Router;
use crate::topology::GpuId;

/// Parent of each position in the balanced in-order binary tree over `0..n`.
pub(crate) fn in_order_tree(n: usize) -> Vec<Option<usize>> {
    fn build(lo: usize, hi: usize, parent: Option<usize>, out: &mut [Option<usize>]) {
        if lo >= hi {
            return;
        }
        let mid = lo + (hi - lo) / 2;
        out[mid] = parent;
        build(lo, mid, Some(mid), out);
        build(mid + 1, hi, Some(mid), out);
    }
    let mut parent = vec![None; n];
    build(0, n, None, &mut parent);
    parent
}

/// The second tree: tree A shifted by one (even n) or mirrored (odd n).
pub(crate) fn second_tree(a: &[Option<usize>]) -> Vec<Option<usize>> {
    let n = a.len();
    let map = |i: usize| if n.is_multiple_of(2) { (i + 1) % n } else { n - 1 - i };
    let mut b = vec![None; n];
    for (i, p) in a.iter().enumerate() {
        b[map(i)] = p.map(map);
    }
    b
}

/// Parent of every rank (index into `layout.flat()`) in one tree: `node_parent` over nodes,
/// chains inside nodes running forwards (`reverse == false`, head = first GPU) or backwards.
fn rank_tree(layout: &Layout, node_parent: &[Option<usize>], reverse: bool) -> Vec<Option<usize>> {
    let mut offset = Vec::with_capacity(layout.nodes.len());
    let mut total = 0;
    for n in &layout.nodes {
        offset.push(total);
        total += n.len();
    }
    let head = |node: usize| {
        let len = layout.nodes[node].len();
        offset[node] + if reverse { len - 1 } else { 0 }
    };
    let mut parent = vec![None; total];
    for (node, members) in layout.nodes.iter().enumerate() {
        let len = members.len();
        for k in 0..len {
            let rank = offset[node] + k;
            parent[rank] = if rank == head(node) {
                node_parent[node].map(head)
            } else if reverse {
                Some(rank + 1)
            } else {
                Some(rank - 1)
            };
        }
    }
    parent
}

/// Hop counts of the costliest root-to-leaf path (most network hops, then most in total).
fn deepest_path(
    parent: &[Option<usize>],
    ranks: &[GpuId],
    router: &mut Router<'_>,
) -> Result<HopCounts, ClusterError> {
    let topo = router.topology();
    let mut worst = HopCounts::default();
    for start in 0..parent.len() {
        let mut h = HopCounts::default();
        let mut cur = start;
        while let Some(p) = parent[cur] {
            let (a, b) = (topo.gpu_vertex(ranks[cur])?, topo.gpu_vertex(ranks[p])?);
            h.add(router.route(a, b)?.class, 1);
            cur = p;
        }
        if (h.network, h.total()) > (worst.network, worst.total()) {
            worst = h;
        }
    }
    Ok(worst)
}

fn tree_transfers(
    parent: &[Option<usize>],
    ranks: &[GpuId],
    bytes: f64,
    up: bool,
    out: &mut Vec<Transfer>,
) {
    for (child, p) in parent.iter().enumerate() {
        if let Some(p) = *p {
            out.push(Transfer { src: ranks[p], dst: ranks[child], bytes });
            if up {
                out.push(Transfer { src: ranks[child], dst: ranks[p], bytes });
            }
        }
    }
}

pub(super) fn phases(
    kind: CollectiveKind,
    layout: &Layout,
    bytes: f64,
    router: &mut Router<'_>,
) -> Result<Vec<Phase>, ClusterError> {
    let nodes = layout.nodes.len();
    let a = in_order_tree(nodes);
    let mut transfers = Vec::new();
    let hops = match kind {
        CollectiveKind::AllReduce => {
            let c = super::ring::channels(layout, router.topology().nics_per_node());
            let mut h = HopCounts::default();
            for k in 0..c {
                // Channel k: every node's GPUs rotated by k.
                let rotated = Layout {
                    nodes: layout
                        .nodes
                        .iter()
                        .map(|n| {
                            let r = k % n.len();
                            n[r..].iter().chain(&n[..r]).copied().collect()
                        })
                        .collect(),
                    intra: layout.intra,
                };
                let ranks = rotated.flat();
                let ta = rank_tree(&rotated, &a, false);
                let tb = rank_tree(&rotated, &second_tree(&a), true);
                let share = bytes / 2.0 / c as f64;
                tree_transfers(&ta, &ranks, share, true, &mut transfers);
                tree_transfers(&tb, &ranks, share, true, &mut transfers);
                if k == 0 {
                    let (ha, hb) =
                        (deepest_path(&ta, &ranks, router)?, deepest_path(&tb, &ranks, router)?);
                    h = if (ha.network, ha.total()) >= (hb.network, hb.total()) { ha } else { hb };
                }
            }
            HopCounts { nvlink: 2 * h.nvlink, pcie: 2 * h.pcie, network: 2 * h.network }
        }
        CollectiveKind::Broadcast => {
            // Re-label nodes so that the node tree's root is the first node (which holds the
            // group's first GPU at the head of its chain).
            let root = a.iter().position(Option::is_none).unwrap_or(0);
            let relabel = |x: usize| (x + nodes - root) % nodes;
            let mut rooted = vec![None; nodes];
            for (i, p) in a.iter().enumerate() {
                rooted[relabel(i)] = p.map(relabel);
            }
            let ranks = layout.flat();
            let t = rank_tree(layout, &rooted, false);
            tree_transfers(&t, &ranks, bytes, false, &mut transfers);
            deepest_path(&t, &ranks, router)?
        }
        other => unreachable!("{other} has no tree algorithm"),
    };
    Ok(vec![Phase { transfers, hops }])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth(parent: &[Option<usize>]) -> usize {
        (0..parent.len())
            .map(|mut i| {
                let mut d = 0;
                while let Some(p) = parent[i] {
                    i = p;
                    d += 1;
                }
                d
            })
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn trees_are_balanced_and_spanning() {
        for n in 1..40 {
            for t in [in_order_tree(n), second_tree(&in_order_tree(n))] {
                assert_eq!(t.iter().filter(|p| p.is_none()).count(), 1, "one root, n={n}");
                let bound = (n as f64).log2().floor() as usize;
                assert!(depth(&t) <= bound, "n={n} depth={} bound={bound}", depth(&t));
                let mut children = vec![0; n];
                t.iter().flatten().for_each(|&p| children[p] += 1);
                assert!(children.iter().all(|&c| c <= 2), "binary, n={n}");
            }
        }
    }

    #[test]
    fn ranks_chain_inside_nodes_and_heads_link_nodes() {
        let layout = Layout {
            nodes: (0..3).map(|n| (0..4).map(|l| GpuId(n * 4 + l)).collect()).collect(),
            intra: crate::topology::LinkClass::Nvlink,
        };
        let a = in_order_tree(3); // node 1 is the root
        let fwd = rank_tree(&layout, &a, false);
        assert_eq!(fwd.iter().filter(|p| p.is_none()).count(), 1);
        assert_eq!(fwd[4], None, "head of the root node");
        assert_eq!(fwd[5], Some(4));
        assert_eq!(fwd[0], Some(4), "node 0's head hangs off node 1's head");
        let back = rank_tree(&layout, &second_tree(&a), true);
        assert_eq!(back[2], Some(3), "backward chain");
        assert_eq!(back.iter().filter(|p| p.is_none()).count(), 1);
    }

    #[test]
    fn the_two_trees_mostly_swap_inner_nodes_and_leaves() {
        let n = 16;
        let a = in_order_tree(n);
        let b = second_tree(&a);
        let inner = |t: &[Option<usize>], i: usize| t.contains(&Some(i));
        let both_inner = (0..n).filter(|&i| inner(&a, i) && inner(&b, i)).count();
        assert!(both_inner <= 2, "{both_inner} ranks are inner in both trees");
    }
}
