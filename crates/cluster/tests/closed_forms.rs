//! Planned collectives costed on real topologies reduce to the textbook alpha-beta formulas
//! when links are uniform and the textbook communication model is used.

use cluster::collective::alpha_beta;
use cluster::{Algorithm, Cluster, ClusterSpec, CollectiveKind, CommModelSpec, GpuId};
use simcore::SimTime;

/// A DGX H100 with the textbook model: every GPU has one 450 GB/s x 0.8 NVLink port to the
/// NVSwitch; a GPU-to-GPU hop is two 200 ns link traversals.
fn textbook(nodes: u32) -> Cluster {
    let mut spec = ClusterSpec::preset("dgx-h100").unwrap().with_nodes(nodes);
    spec.comm = CommModelSpec::Textbook { per_message: SimTime::ZERO };
    Cluster::new(spec).unwrap()
}

const NVLINK_BW: f64 = 450e9 * 0.8;
const NVLINK_ALPHA: f64 = 400e-9;

fn close(a: f64, b: f64) -> bool {
    // Times are rounded up to whole nanoseconds once.
    (a - b).abs() <= 1e-9 + 1e-12 * b
}

#[test]
fn ring_all_reduce_matches_the_textbook_formula() {
    let c = textbook(1);
    let mut net = c.network();
    for n in [2u32, 3, 5, 8] {
        let group: Vec<GpuId> = (0..n).map(GpuId).collect();
        for bytes in [1e3, 1e6, 1e9] {
            let (_, cost) =
                net.collective(CollectiveKind::AllReduce, Algorithm::Ring, &group, bytes).unwrap();
            let expected = alpha_beta::ring_all_reduce(n as usize, bytes, NVLINK_ALPHA, NVLINK_BW);
            assert!(
                close(cost.time.as_secs_f64(), expected),
                "n={n} S={bytes}: {} vs {expected}",
                cost.time
            );
        }
    }
}

#[test]
fn all_gather_all_to_all_broadcast_and_p2p_match() {
    let c = textbook(1);
    let mut net = c.network();
    let group = c.gpus();
    let s = 512e6;
    let t = |net: &mut cluster::Network<'_>, kind, algo| {
        net.collective(kind, algo, &group, s).unwrap().1.time.as_secs_f64()
    };
    let ag = t(&mut net, CollectiveKind::AllGather, Algorithm::Ring);
    assert!(close(ag, alpha_beta::ring_all_gather(8, s, NVLINK_ALPHA, NVLINK_BW)));
    let rs = t(&mut net, CollectiveKind::ReduceScatter, Algorithm::Ring);
    assert!(close(rs, ag));
    let a2a = t(&mut net, CollectiveKind::AllToAll, Algorithm::Direct);
    assert!(close(a2a, alpha_beta::direct_all_to_all(8, s, NVLINK_ALPHA, NVLINK_BW)), "{a2a}");
    let bc = t(&mut net, CollectiveKind::Broadcast, Algorithm::Ring);
    assert!(close(bc, alpha_beta::chain_broadcast(8, s, NVLINK_ALPHA, NVLINK_BW)), "{bc}");
    let p2p = net.send(GpuId(1), GpuId(6), s).unwrap().1.time.as_secs_f64();
    assert!(close(p2p, alpha_beta::point_to_point(s, NVLINK_ALPHA, NVLINK_BW)));
}

#[test]
fn hierarchical_all_reduce_matches_across_nodes() {
    // Inter-node hop: GPU -PCIe5- NIC -400G- leaf -400G- NIC -PCIe5- GPU on one rail.
    let c = textbook(4);
    let mut net = c.network();
    let s = 1e9;
    let (_, cost) =
        net.collective(CollectiveKind::AllReduce, Algorithm::Hierarchical, &c.gpus(), s).unwrap();
    let inter_alpha = (2.0 * 470.0 + 350.0 + 130.0 + 350.0) * 1e-9;
    let inter_bw = 50e9 * 0.94;
    let expected = alpha_beta::hierarchical_all_reduce(
        4,
        8,
        s,
        (NVLINK_ALPHA, NVLINK_BW),
        (inter_alpha, inter_bw),
    );
    assert!(close(cost.time.as_secs_f64(), expected), "{} vs {expected}", cost.time);
}

#[test]
fn hierarchical_all_gather_and_reduce_scatter_match() {
    let c = textbook(4);
    let mut net = c.network();
    let s = 1e9;
    let inter_alpha = (2.0 * 470.0 + 350.0 + 130.0 + 350.0) * 1e-9;
    let inter_bw = 50e9 * 0.94;
    let expected = alpha_beta::ring_all_gather(4, s / 8.0, inter_alpha, inter_bw)
        + alpha_beta::ring_all_gather(8, s, NVLINK_ALPHA, NVLINK_BW);
    for kind in [CollectiveKind::AllGather, CollectiveKind::ReduceScatter] {
        let (_, cost) = net.collective(kind, Algorithm::Hierarchical, &c.gpus(), s).unwrap();
        assert!(close(cost.time.as_secs_f64(), expected), "{kind}: {} vs {expected}", cost.time);
    }
}

#[test]
fn multi_node_ring_is_bound_by_the_nics() {
    // 8 channels, one per NIC: the bus bandwidth approaches 8 NICs x 47 GB/s = 376 GB/s,
    // the ~380 GB/s NVIDIA reports for DGX H100 at scale.
    let c = Cluster::preset("dgx-h100", 4).unwrap();
    let mut net = c.network();
    let s = 8.0 * 1024.0 * 1024.0 * 1024.0;
    let (_, cost) =
        net.collective(CollectiveKind::AllReduce, Algorithm::Ring, &c.gpus(), s).unwrap();
    let busbw = CollectiveKind::AllReduce.bus_factor(32) * s / cost.time.as_secs_f64();
    assert!((busbw - 376e9).abs() / 376e9 < 0.02, "busbw {busbw}");
}

#[test]
fn small_messages_pick_low_latency_protocols() {
    let c = Cluster::preset("dgx-a100", 1).unwrap();
    let mut net = c.network();
    let small =
        net.collective(CollectiveKind::AllReduce, Algorithm::Ring, &c.gpus(), 8.0).unwrap().1;
    let large =
        net.collective(CollectiveKind::AllReduce, Algorithm::Ring, &c.gpus(), 1e9).unwrap().1;
    assert_eq!(small.protocol, "ll");
    assert_eq!(large.protocol, "simple");
    // NCCL's model: Ring/LL = 6.6 us + 14 x 0.6 us = 15 us for 8 GPUs.
    assert!((small.time.as_secs_f64() - 15.0e-6).abs() < 0.1e-6, "{}", small.time);
}

#[test]
fn uniform_all_to_all_v_equals_the_direct_all_to_all() {
    let c = textbook(2);
    let mut net = c.network();
    let s = 64e6;
    let n = c.gpu_count();
    let mut transfers = Vec::new();
    for i in 0..n {
        for j in 0..n {
            transfers.push((GpuId(i), GpuId(j), s / f64::from(n)));
        }
    }
    let (_, v) = net.all_to_all_v(&transfers).unwrap();
    let (_, d) = net.collective(CollectiveKind::AllToAll, Algorithm::Direct, &c.gpus(), s).unwrap();
    assert_eq!(v.time, d.time);
    // Skewed: GPU 0 sends 4x more to the other node; its NIC is the bottleneck.
    let heavy = vec![(GpuId(0), GpuId(8), 4e9), (GpuId(1), GpuId(9), 1e9)];
    let (_, cost) = net.all_to_all_v(&heavy).unwrap();
    let nic = 50e9 * 0.94;
    let alpha = (2.0 * 470.0 + 350.0 + 130.0 + 350.0) * 1e-9;
    assert!(close(cost.time.as_secs_f64(), alpha + 4e9 / nic), "{}", cost.time);
    assert!(net.all_to_all_v(&[(GpuId(0), GpuId(1), -1.0)]).is_err());
    assert_eq!(net.all_to_all_v(&[(GpuId(3), GpuId(3), 1e9)]).unwrap().1.time, SimTime::ZERO);
}
