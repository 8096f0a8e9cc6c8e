//! Links whose capacity can never bind a flow, so the flow network leaves them out.
//!
//! A link `L = u -> v` into a pure forwarder `v` (a NIC, switch or NVSwitch: no route starts or
//! ends there) passes every crossing on to one of `v`'s other out-links: not back over
//! `v -> u`, because a route is a shortest path and `L` has a positive latency, so going
//! there and back can never be shortest. Whatever crosses `L` therefore crosses those out-links
//! too, and if their capacities sum to less than `L`'s, the rates on `L` sum to less than its
//! capacity: its constraint follows from theirs. The same holds backwards for a link out of a
//! pure forwarder whose other in-links sum to less. A GPU's 55 GB/s PCIe link to its NIC is
//! one: everything on it goes on over the NIC's 47 GB/s port (dgx-h100), and so is the NIC's
//! link back to the GPU.
//!
//! Dropping a constraint that follows from others leaves the set of feasible rates, and so
//! the max-min fair rates (which are unique), exactly as they were. The inequality is strict,
//! so the links a redundant link relies on have strictly smaller capacities; by induction
//! on capacity each dropped constraint follows from kept ones, and every route keeps its
//! slowest link.

use crate::topology::{Device, Topology};

/// Per link: whether its constraint follows from its neighbours' (module docs).
pub(crate) fn redundant_links(topo: &Topology) -> Vec<bool> {
    let forwarder = |v| {
        matches!(
            topo.device(v),
            Device::Nic { .. }
                | Device::Leaf { .. }
                | Device::Spine { .. }
                | Device::NvSwitch { .. }
        )
    };
    // Relative margin so that capacities equal up to rounding count as equal (not redundant).
    let below = |sum: f64, cap: f64| sum * (1.0 + 1e-9) < cap;
    topo.links()
        .iter()
        .map(|link| {
            if link.latency.as_nanos() == 0 {
                return false;
            }
            let cap = link.bandwidth();
            let (u, v) = (link.from, link.to);
            let onward = forwarder(v)
                && below(
                    topo.out_links(v)
                        .filter(|&(_, w)| w != u)
                        .map(|(m, _)| topo.link(m).bandwidth())
                        .sum(),
                    cap,
                );
            let before = forwarder(u)
                && below(
                    topo.in_links(u)
                        .filter(|&(_, w)| w != v)
                        .map(|(k, _)| topo.link(k).bandwidth())
                        .sum(),
                    cap,
                );
            onward || before
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Cluster, GpuId};
    use simcore::SimTime;

    #[test]
    fn a_gpus_nic_links_are_redundant_and_fabric_links_are_not() {
        let cluster = Cluster::preset("dgx-h100", 4).unwrap();
        let topo = cluster.topology();
        let redundant = redundant_links(topo);
        let label = |v| topo.device(v).label();
        let mut seen = 0;
        for (i, l) in topo.links().iter().enumerate() {
            let (a, b) = (label(l.from), label(l.to));
            let gpu_nic = (a.starts_with("gpu") && b.starts_with("nic"))
                || (a.starts_with("nic") && b.starts_with("gpu"));
            if gpu_nic {
                seen += 1;
            }
            assert_eq!(redundant[i], gpu_nic, "{a} -> {b}");
        }
        assert_eq!(seen, 2 * 32);
        // Every route keeps a link.
        let mut net = cluster.network();
        for d in 1..32 {
            let (a, b) = (topo.gpu_vertex(GpuId(0)).unwrap(), topo.gpu_vertex(GpuId(d)).unwrap());
            let route = net.router().route(a, b).unwrap();
            assert!(route.links.iter().any(|l| !redundant[l.0 as usize]));
        }
    }

    /// Leaving the redundant links out changes no completion: the same flows on the same
    /// topology end at the same times with and without them.
    #[test]
    fn leaving_them_out_changes_no_completion() {
        let cluster = Cluster::preset("dgx-h100", 4).unwrap();
        let topo = cluster.topology();
        let mut net = cluster.network();
        let caps = topo.links().iter().map(|l| l.bandwidth()).collect();
        let mut pruned = crate::FlowNetwork::new(topo);
        let mut full = crate::FlowNetwork::with_capacities(caps);
        let mut tag = 0u64;
        for s in 0..32u32 {
            for d in (0..32u32).filter(|&d| d != s && (s * 7 + d * 3) % 4 != 0) {
                let (a, b) =
                    (topo.gpu_vertex(GpuId(s)).unwrap(), topo.gpu_vertex(GpuId(d)).unwrap());
                let links = net.router().route(a, b).unwrap().links.clone();
                let bytes = 1e6 * f64::from(1 + (s * 31 + d * 17) % 13);
                pruned.add(SimTime::ZERO, &links, bytes, tag);
                full.add(SimTime::ZERO, &links, bytes, tag);
                tag += 1;
            }
        }
        let (mut a, mut b) = (Vec::new(), Vec::new());
        while let Some(t) = full.next_completion() {
            assert_eq!(pruned.next_completion(), Some(t));
            full.take_completed(t, &mut a);
            pruned.take_completed(t, &mut b);
            assert_eq!(a, b, "at {t:?}");
        }
        assert_eq!(pruned.next_completion(), None);
        assert!(a.len() as u64 == tag);
    }
}
