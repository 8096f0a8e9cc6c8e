//! Hierarchical collectives over `N` nodes of `g` GPUs: intra-node rings, and inter-node
//! rings among the GPUs of one local index (one ring per rail).
//!
//! - All-reduce: reduce-scatter inside each node, all-reduce of each GPU's shard across nodes,
//!   all-gather inside each node (Jia et al. 2018, "Highly scalable deep learning training
//!   system with mixed-precision"). Per GPU `2(g-1)/g * S` over NVLink and `2(N-1)/N * S/g`
//!   over the network.
//! - All-gather of a total `S`: all-gather across nodes per rail (each rail collects `S/g`),
//!   then all-gather inside each node.
//! - Reduce-scatter of a total `S`: reduce-scatter inside each node, then across nodes per
//!   rail.

use super::{CollectiveKind, HopCounts, Layout, Phase, Transfer};
use crate::error::ClusterError;
use crate::topology::LinkClass;

fn intra_ring(layout: &Layout, per_edge: f64) -> Phase {
    let mut transfers = Vec::new();
    for node in &layout.nodes {
        let g = node.len();
        for j in 0..g {
            transfers.push(Transfer { src: node[j], dst: node[(j + 1) % g], bytes: per_edge });
        }
    }
    let g = layout.nodes[0].len() as u32;
    Phase { transfers, hops: HopCounts::of(layout.intra, g - 1) }
}

/// Rings across nodes, one per local index, each edge carrying `per_edge`.
fn rail_rings(layout: &Layout, per_edge: f64, steps: u32) -> Phase {
    let (g, big_n) = (layout.nodes[0].len(), layout.nodes.len());
    let mut transfers = Vec::new();
    for j in 0..g {
        for i in 0..big_n {
            transfers.push(Transfer {
                src: layout.nodes[i][j],
                dst: layout.nodes[(i + 1) % big_n][j],
                bytes: per_edge,
            });
        }
    }
    Phase { transfers, hops: HopCounts::of(LinkClass::Network, steps) }
}

pub(super) fn phases(
    kind: CollectiveKind,
    layout: &Layout,
    bytes: f64,
) -> Result<Vec<Phase>, ClusterError> {
    let g = layout.nodes[0].len();
    if layout.nodes.iter().any(|n| n.len() != g) {
        let counts: Vec<String> = layout.nodes.iter().map(|n| n.len().to_string()).collect();
        return Err(ClusterError::Unsupported(format!(
            "hierarchical collectives need the same number of GPUs on every node (got {}); use ring or tree",
            counts.join(", ")
        )));
    }
    let big_n = layout.nodes.len();
    let (gf, nf) = (g as f64, big_n as f64);
    let steps_n = big_n as u32 - 1;
    let intra = (g > 1).then(|| intra_ring(layout, (gf - 1.0) / gf * bytes));
    let inter =
        |per_edge: f64, steps: u32| (big_n > 1).then(|| rail_rings(layout, per_edge, steps));
    let out: Vec<Option<Phase>> = match kind {
        CollectiveKind::AllReduce => {
            vec![intra.clone(), inter(2.0 * (nf - 1.0) / nf * bytes / gf, 2 * steps_n), intra]
        }
        CollectiveKind::AllGather => vec![inter((nf - 1.0) / nf * bytes / gf, steps_n), intra],
        CollectiveKind::ReduceScatter => vec![intra, inter((nf - 1.0) / nf * bytes / gf, steps_n)],
        other => unreachable!("{other} has no hierarchical algorithm"),
    };
    let out: Vec<Phase> = out.into_iter().flatten().collect();
    Ok(out)
}
