//! Hierarchical all-reduce: reduce-scatter inside each node, all-reduce of each GPU's shard
//! across nodes (one ring per local rank, i.e. per rail), all-gather inside each node
//! (Goyal et al. 2017; Jia et al. 2018, "Highly scalable deep learning training system with
//! mixed-precision"). Per GPU it sends `2(g-1)/g * S` over NVLink and `2(N-1)/N * S/g` over
//! the network.

use super::{HopCounts, Layout, Phase, Transfer};
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

pub(super) fn phases(layout: &Layout, bytes: f64) -> Result<Vec<Phase>, ClusterError> {
    let g = layout.nodes[0].len();
    if layout.nodes.iter().any(|n| n.len() != g) {
        let counts: Vec<String> = layout.nodes.iter().map(|n| n.len().to_string()).collect();
        return Err(ClusterError::Unsupported(format!(
            "hierarchical all-reduce needs the same number of GPUs on every node (got {}); use ring or tree",
            counts.join(", ")
        )));
    }
    let big_n = layout.nodes.len();
    let (gf, nf) = (g as f64, big_n as f64);
    let mut out = Vec::new();
    if g > 1 {
        out.push(intra_ring(layout, (gf - 1.0) / gf * bytes));
    }
    if big_n > 1 {
        let mut transfers = Vec::new();
        for j in 0..g {
            for i in 0..big_n {
                transfers.push(Transfer {
                    src: layout.nodes[i][j],
                    dst: layout.nodes[(i + 1) % big_n][j],
                    bytes: 2.0 * (nf - 1.0) / nf * bytes / gf,
                });
            }
        }
        out.push(Phase {
            transfers,
            hops: HopCounts::of(LinkClass::Network, 2 * (big_n as u32 - 1)),
        });
    }
    if g > 1 {
        out.push(intra_ring(layout, (gf - 1.0) / gf * bytes));
    }
    Ok(out)
}
