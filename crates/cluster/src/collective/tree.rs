//! Double binary trees (Sanders, Speck and Träff, "Two-tree algorithms for full bandwidth
//! broadcast, reduction and scan", Parallel Computing 2009), as NCCL uses since 2.4.
//!
//! Tree A is the balanced in-order binary tree over the ranks; tree B is A shifted by one rank
//! (even n) or mirrored (odd n), so that most ranks that are inner nodes in one tree are leaves
//! in the other. Each tree carries half the data; reduction goes up and broadcast down, both
//! pipelined, so every tree edge carries `S/2` each way and the latency is that of the longest
//! root-to-leaf path, twice. A broadcast uses one tree rooted at the group's first rank.
//!
//! Unlike NCCL, the trees span ranks, not nodes (NCCL chains the GPUs inside a node and builds
//! the trees over nodes); see docs/models/cluster.md.

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
    let map = |i: usize| if n % 2 == 0 { (i + 1) % n } else { n - 1 - i };
    let mut b = vec![None; n];
    for (i, p) in a.iter().enumerate() {
        b[map(i)] = p.map(map);
    }
    b
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
    let ranks = layout.flat();
    let n = ranks.len();
    let a = in_order_tree(n);
    let mut transfers = Vec::new();
    let hops = match kind {
        CollectiveKind::AllReduce => {
            let b = second_tree(&a);
            tree_transfers(&a, &ranks, bytes / 2.0, true, &mut transfers);
            tree_transfers(&b, &ranks, bytes / 2.0, true, &mut transfers);
            let (ha, hb) = (deepest_path(&a, &ranks, router)?, deepest_path(&b, &ranks, router)?);
            let h = if (ha.network, ha.total()) >= (hb.network, hb.total()) { ha } else { hb };
            HopCounts { nvlink: 2 * h.nvlink, pcie: 2 * h.pcie, network: 2 * h.network }
        }
        CollectiveKind::Broadcast => {
            // Re-label so that the tree's root position holds the group's first rank.
            let root_pos = a.iter().position(Option::is_none).unwrap_or(0);
            let relabelled: Vec<GpuId> = (0..n).map(|p| ranks[(p + n - root_pos) % n]).collect();
            tree_transfers(&a, &relabelled, bytes, false, &mut transfers);
            deepest_path(&a, &relabelled, router)?
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
    fn the_two_trees_mostly_swap_inner_nodes_and_leaves() {
        let n = 16;
        let a = in_order_tree(n);
        let b = second_tree(&a);
        let inner = |t: &[Option<usize>], i: usize| t.iter().any(|p| *p == Some(i));
        let both_inner = (0..n).filter(|&i| inner(&a, i) && inner(&b, i)).count();
        assert!(both_inner <= 2, "{both_inner} ranks are inner in both trees");
    }
}
