//! Direct all-to-all: every rank sends `S/n` to every other rank at once (NCCL implements it as
//! grouped send/receive to all peers), so the phase pays one hop of latency and the most
//! loaded link decides the bandwidth term: across nodes that is each GPU's NIC, which carries
//! its `(n - g)/n * S` of inter-node traffic.

use super::{HopCounts, Layout, Phase, Transfer};
use crate::topology::LinkClass;

pub(super) fn phases(layout: &Layout, bytes: f64) -> Vec<Phase> {
    let ranks = layout.flat();
    let n = ranks.len();
    let piece = bytes / n as f64;
    let mut transfers = Vec::with_capacity(n * (n - 1));
    for &src in &ranks {
        for &dst in &ranks {
            if src != dst {
                transfers.push(Transfer { src, dst, bytes: piece });
            }
        }
    }
    let class = if layout.nodes.len() > 1 { LinkClass::Network } else { layout.intra };
    vec![Phase { transfers, hops: HopCounts::of(class, 1) }]
}
