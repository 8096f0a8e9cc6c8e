//! In-network reductions and NCCL's tuner rules under the `nccl` model, against hand values:
//! NVLS on one DGX H100, InfiniBand SHARP across DGX H100 nodes, LL's share of the link and its
//! bus-bandwidth cap, fewer channels for small operations, the tree correction at medium sizes
//! and the ring's latency plateau.

use cluster::{Algorithm, Cluster, ClusterSpec, CollectiveKind, GpuId};

/// NVLink payload rate per GPU on DGX H100: 18 links x 25 GB/s x 0.8.
const H100_NVLINK: f64 = 360e9;

fn cluster(preset: &str, nodes: u32, sharp: bool) -> Cluster {
    let mut spec = ClusterSpec::preset(preset).unwrap().with_nodes(nodes);
    spec.fabric.sharp = sharp;
    Cluster::new(spec).unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 2e-9 + 1e-9 * b
}

#[test]
fn nvls_costs_its_latency_and_s_plus_s_over_n_at_the_reduction_rate() {
    let c = cluster("dgx-h100", 1, false);
    let mut net = c.network();
    let s = 1e9;
    let (plan, cost) =
        net.collective(CollectiveKind::AllReduce, Algorithm::Nvls, &c.gpus(), s).unwrap();
    assert_eq!(plan.algorithm, Algorithm::Nvls);
    assert_eq!(cost.protocol, "simple");
    // 23 us + S (1 + 1/8) / (360 GB/s x 0.86).
    let expected = 23e-6 + s * 1.125 / (H100_NVLINK * 0.86);
    assert!(close(cost.time.as_secs_f64(), expected), "{} vs {expected}", cost.time);
    // Auto takes it for large messages, where it beats the ring's 2(n-1)/n S.
    let (auto, _) =
        net.collective(CollectiveKind::AllReduce, Algorithm::Auto, &c.gpus(), s).unwrap();
    assert_eq!(auto.algorithm, Algorithm::Nvls);
}

#[test]
fn nvls_and_sharp_are_refused_where_the_hardware_lacks_them() {
    let a100 = cluster("dgx-a100", 2, false);
    let mut net = a100.network();
    let one_node: Vec<GpuId> = (0..8).map(GpuId).collect();
    let e = net
        .collective(CollectiveKind::AllReduce, Algorithm::Nvls, &one_node, 1e6)
        .unwrap_err()
        .to_string();
    assert!(e.contains("NVSwitch"), "{e}");
    let e = net
        .collective(CollectiveKind::AllReduce, Algorithm::Sharp, &a100.gpus(), 1e6)
        .unwrap_err()
        .to_string();
    assert!(e.contains("fabric.sharp"), "{e}");
    // Auto skips both.
    let (plan, _) =
        net.collective(CollectiveKind::AllReduce, Algorithm::Auto, &a100.gpus(), 1e9).unwrap();
    assert!(matches!(plan.algorithm, Algorithm::Ring | Algorithm::Tree));
    // A switch without SHARP cannot enable it.
    let mut spec = ClusterSpec::preset("dgx-a100").unwrap().with_nodes(2);
    spec.fabric.switch = "ethernet-100g".into();
    spec.fabric.sharp = true;
    let e = Cluster::new(spec).err().unwrap().to_string();
    assert!(e.contains("quantum-hdr"), "{e}");
}

#[test]
fn sharp_is_bound_by_the_larger_of_nvlink_and_one_shard_per_nic() {
    for nodes in [2u32, 4, 12] {
        let c = cluster("dgx-h100", nodes, true);
        let mut net = c.network();
        let s = 8e9;
        let (plan, cost) =
            net.collective(CollectiveKind::AllReduce, Algorithm::Sharp, &c.gpus(), s).unwrap();
        assert_eq!(plan.phases.len(), 1);
        // NVLink: 7 peers x 2 S/8 out of each GPU; NIC: S/8 at 400 Gb/s x 0.94. Latency: two
        // NVLink hops of 3.7 us and one network round trip of 31 us.
        let nvlink = 7.0 * 2.0 * s / 8.0 / H100_NVLINK;
        let nic = s / 8.0 / (50e9 * 0.94);
        let expected = 2.0 * 3.7e-6 + 31e-6 + nvlink.max(nic);
        assert!(
            close(cost.time.as_secs_f64(), expected),
            "{nodes} nodes: {} vs {expected}",
            cost.time
        );
    }
}

#[test]
fn ll_runs_at_a_quarter_of_the_link_in_a_ring_all_reduce_and_under_the_gpus_llmaxbw() {
    // DGX A100, 1 MiB: LL wins; its bandwidth term is the bus bytes (1.75 S) over a quarter of
    // the 240 GB/s of NVLink (60 GB/s, under the 87.7 GB/s cap).
    let c = cluster("dgx-a100", 1, false);
    let mut net = c.network();
    let s = 1048576.0;
    let (plan, cost) =
        net.collective(CollectiveKind::AllReduce, Algorithm::Ring, &c.gpus(), s).unwrap();
    assert_eq!(cost.protocol, "ll");
    assert!((plan.bus_bytes - 1.75 * s).abs() < 1e-6);
    let expected = 6.6e-6 + 14.0 * 0.6e-6 + 1.75 * s / 60e9;
    assert!(close(cost.time.as_secs_f64(), expected), "{} vs {expected}", cost.time);
    // DGX H100: a quarter of 360 GB/s is 90 GB/s, above the cap: 87.7 GB/s binds.
    let c = cluster("dgx-h100", 1, false);
    let mut net = c.network();
    let (_, cost) =
        net.collective(CollectiveKind::AllReduce, Algorithm::Ring, &c.gpus(), s).unwrap();
    assert_eq!(cost.protocol, "ll");
    let expected = 6.6e-6 + 14.0 * 0.6e-6 + 1.75 * s / 87.7e9;
    assert!(close(cost.time.as_secs_f64(), expected), "{} vs {expected}", cost.time);
}

#[test]
fn small_operations_run_on_fewer_channels() {
    // DGX A100 has 24 ring channels. A 256 KiB ring all-reduce under LL: 512 threads x 8 B x
    // 8 ranks = 32 KiB per channel, so 8 channels run it, a third of the bandwidth.
    let c = cluster("dgx-a100", 1, false);
    let mut net = c.network();
    let s = 262144.0;
    let (_, cost) =
        net.collective(CollectiveKind::AllReduce, Algorithm::Ring, &c.gpus(), s).unwrap();
    assert_eq!(cost.protocol, "ll");
    let expected = 6.6e-6 + 14.0 * 0.6e-6 + 3.0 * 1.75 * s / 60e9;
    assert!(close(cost.time.as_secs_f64(), expected), "{} vs {expected}", cost.time);
    // From 768 KiB on, all 24 channels.
    let s = 786432.0;
    let (_, cost) =
        net.collective(CollectiveKind::AllReduce, Algorithm::Ring, &c.gpus(), s).unwrap();
    assert_eq!(cost.protocol, "ll");
    let expected = 6.6e-6 + 14.0 * 0.6e-6 + 1.75 * s / 60e9;
    assert!(close(cost.time.as_secs_f64(), expected), "{} vs {expected}", cost.time);
    // Below one channel's worth, the threads halve too: 8 KiB on one channel of 128 threads.
    let s = 8192.0;
    let (_, cost) =
        net.collective(CollectiveKind::AllReduce, Algorithm::Ring, &c.gpus(), s).unwrap();
    let expected = 6.6e-6 + 14.0 * 0.6e-6 + 24.0 * 4.0 * 1.75 * s / 60e9;
    assert!(close(cost.time.as_secs_f64(), expected), "{} vs {expected}", cost.time);
}

#[test]
fn trees_are_corrected_at_medium_sizes_and_rings_plateau_across_nodes() {
    let c = cluster("dgx-a100", 2, false);
    let mut net = c.network();
    let g = c.gpus();
    // 2 MiB: 64 B x 2^15, where NCCL corrects the tree's bandwidth by 0.6 under every
    // protocol.
    let s = 2097152.0;
    let (_, tree) = net.collective(CollectiveKind::AllReduce, Algorithm::Tree, &g, s).unwrap();
    // The tuner's tree factors across nodes: LL 0.92 / 3.8, LL128 0.92 x 120/128, Simple 0.92.
    let protocol_factor = match tree.protocol.as_str() {
        "ll" => 0.2421,
        "ll128" => 0.8625,
        _ => 0.92,
    };
    assert!((tree.bandwidth_factor - protocol_factor * 0.6).abs() < 1e-12, "{tree:?}");
    // A 1 GiB ring over 16 GPUs on 2 nodes under Simple: 30 steps, 4 of them across nodes,
    // latency (8.4 + 26 x 3.4 + 4 x 14) us x 1.4.
    let (_, ring) = net.collective(CollectiveKind::AllReduce, Algorithm::Ring, &g, 1e9).unwrap();
    assert_eq!(ring.protocol, "simple");
    let latency: f64 = ring.phase_latency.iter().map(|l| l.as_secs_f64()).sum();
    let expected = (8.4 + 26.0 * 3.4 + 4.0 * 14.0) * 1.4 * 1e-6;
    assert!((latency - expected).abs() < 2e-9, "{latency} vs {expected}");
    // Inside one node, no plateau.
    let one = cluster("dgx-a100", 1, false);
    let mut net = one.network();
    let (_, ring) =
        net.collective(CollectiveKind::AllReduce, Algorithm::Ring, &one.gpus(), 1e9).unwrap();
    let latency: f64 = ring.phase_latency.iter().map(|l| l.as_secs_f64()).sum();
    assert!((latency - (8.4 + 14.0 * 3.4) * 1e-6).abs() < 2e-9, "{latency}");
}
