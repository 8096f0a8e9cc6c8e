//! Exact cases of the executor: chains, diamonds, stream contention, analytic vs flow-level
//! network, link sharing, critical paths and traces.

use cluster::{Algorithm, Cluster, ClusterSpec, CollectiveKind, Dtype, GpuId, MemoryTier};
use simcore::SimTime;
use taskgraph::{ExecConfig, GraphError, NetworkMode, TaskGraphBuilder, execute};

fn dgx(nodes: u32) -> Cluster {
    Cluster::preset("dgx-h100", nodes).unwrap()
}

fn kernel(c: &Cluster, flops: f64) -> SimTime {
    c.compute().kernel_time(flops, 0.0, Dtype::Bf16).unwrap()
}

#[test]
fn chain_takes_the_sum_of_its_ops() {
    let c = dgx(1);
    let mut b = TaskGraphBuilder::new();
    let a = b.compute("a", GpuId(0), 1e12, 0.0, Dtype::Bf16);
    let d = b.delay("wait", SimTime::from_micros(7));
    let z = b.compute("z", GpuId(0), 3e12, 0.0, Dtype::Bf16);
    b.depend(a, d);
    b.depend(d, z);
    let run = execute(&b.build().unwrap(), &c, &ExecConfig::default()).unwrap();
    let expected = kernel(&c, 1e12) + SimTime::from_micros(7) + kernel(&c, 3e12);
    assert_eq!(run.makespan(), expected);
    assert_eq!(run.start(z), run.end(d));
    assert_eq!(run.critical_path(), vec![a, d, z]);
}

#[test]
fn diamond_waits_for_the_slower_branch() {
    let c = dgx(1);
    let mut b = TaskGraphBuilder::new();
    let top = b.compute("top", GpuId(0), 1e12, 0.0, Dtype::Bf16);
    let left = b.compute("left", GpuId(0), 2e12, 0.0, Dtype::Bf16);
    let right = b.compute("right", GpuId(1), 5e12, 0.0, Dtype::Bf16);
    let bottom = b.compute("bottom", GpuId(1), 1e12, 0.0, Dtype::Bf16);
    b.depend(top, left);
    b.depend(top, right);
    b.depend_all(&[left, right], bottom);
    let run = execute(&b.build().unwrap(), &c, &ExecConfig::default()).unwrap();
    let expected = kernel(&c, 1e12) + kernel(&c, 5e12) + kernel(&c, 1e12);
    assert_eq!(run.makespan(), expected);
    assert_eq!(run.critical_path(), vec![top, right, bottom]);
    let busy = run.gpu_busy();
    assert_eq!(busy[0].compute, kernel(&c, 1e12) + kernel(&c, 2e12));
}

#[test]
fn one_stream_serialises_two_streams_overlap() {
    let c = dgx(1);
    let graph = |streams: bool| {
        let mut b = TaskGraphBuilder::new();
        b.compute_on("x", GpuId(0), 0, 4e12, 0.0, Dtype::Bf16);
        b.compute_on("y", GpuId(0), u8::from(streams), 4e12, 0.0, Dtype::Bf16);
        b.build().unwrap()
    };
    let k = kernel(&c, 4e12);
    let one = execute(&graph(false), &c, &ExecConfig::default()).unwrap();
    assert_eq!(one.makespan(), k + k);
    // The second op waited for the stream: the critical path goes through the first.
    assert_eq!(one.critical_path().len(), 2);
    let cfg = ExecConfig { compute_streams: 2, ..ExecConfig::default() };
    let two = execute(&graph(true), &c, &cfg).unwrap();
    assert_eq!(two.makespan(), k);
    // Stream 1 does not exist with one stream per GPU: a clear error.
    let e = execute(&graph(true), &c, &ExecConfig::default()).unwrap_err().to_string();
    assert!(e.contains("compute stream 1 does not exist"), "{e}");
}

#[test]
fn collectives_of_different_groups_overlap_only_with_several_comm_streams() {
    // Two all-reduces of overlapping groups {0,1} and {1,2} (two communicators). With one
    // communication stream GPU 1 runs them in sequence; with two, group 0 uses stream 0 and
    // group 1 stream 1, so they overlap: fully when links are contention-free, and sharing
    // GPU 1's NVLink port in the analytic (queued) and flow modes.
    let c = dgx(1);
    let mut b = TaskGraphBuilder::new();
    let x =
        b.collective("x", CollectiveKind::AllReduce, Algorithm::Ring, &[GpuId(0), GpuId(1)], 1e9);
    let y =
        b.collective("y", CollectiveKind::AllReduce, Algorithm::Ring, &[GpuId(1), GpuId(2)], 1e9);
    let g = b.build().unwrap();
    let one = execute(&g, &c, &ExecConfig::default()).unwrap();
    let t = one.duration(x);
    assert_eq!(one.duration(y), t);
    assert_eq!(one.makespan(), t + t);
    let two_cfg = ExecConfig {
        comm_streams: 2,
        network: NetworkMode::ContentionFree,
        ..ExecConfig::default()
    };
    let two = execute(&g, &c, &two_cfg).unwrap();
    assert_eq!(two.makespan(), t);
    assert_eq!(two.start(y), SimTime::ZERO);
    // 0: one stream per group, here two on GPU 1.
    assert_eq!(g.max_groups_per_gpu(), 2);
    let per_group = execute(&g, &c, &ExecConfig { comm_streams: 0, ..two_cfg });
    assert_eq!(per_group.unwrap().makespan(), t);
    // Analytic: both start at once, GPU 1's port serves x's bytes first, then y's.
    let queued = execute(&g, &c, &ExecConfig { network: NetworkMode::Analytic, ..two_cfg });
    let queued = queued.unwrap();
    assert_eq!(queued.start(y), SimTime::ZERO);
    assert!(queued.makespan() > t && queued.makespan() <= t + t, "{:?}", queued.makespan());
    // Busy time is summed over streams: GPU 1 was busy on two streams at once.
    assert_eq!(two.gpu_busy()[1].comm, t + t);
    let shared = execute(&g, &c, &ExecConfig { network: NetworkMode::Flow, ..two_cfg }).unwrap();
    assert!(shared.makespan() > t, "flows share GPU 1's links: {:?} vs {t:?}", shared.makespan());
    assert!(shared.makespan() < t + t);
    // The trace names both streams.
    let mut buf = Vec::new();
    two.chrome_trace(&g).write_json(&mut buf).unwrap();
    let trace = String::from_utf8(buf).unwrap();
    assert!(trace.contains("gpu1 comm1"), "{trace}");
}

#[test]
fn flow_mode_equals_analytic_when_nothing_contends() {
    for (nodes, kind, algo) in [
        (1, CollectiveKind::AllReduce, Algorithm::Ring),
        (1, CollectiveKind::AllGather, Algorithm::Ring),
        (2, CollectiveKind::AllReduce, Algorithm::Ring),
        (4, CollectiveKind::AllReduce, Algorithm::Hierarchical),
        (2, CollectiveKind::AllReduce, Algorithm::Tree),
        (2, CollectiveKind::AllToAll, Algorithm::Direct),
    ] {
        let c = dgx(nodes);
        let mut b = TaskGraphBuilder::new();
        b.collective("coll", kind, algo, &c.gpus(), 256e6);
        b.send("p2p", GpuId(0), GpuId(c.gpu_count() - 1), 64e6);
        b.copy("h2d", MemoryTier::Host(0), MemoryTier::Hbm(GpuId(1)), 32e6);
        let mut only = TaskGraphBuilder::new();
        only.collective("coll", kind, algo, &c.gpus(), 256e6);
        let g = only.build().unwrap();
        let analytic = execute(&g, &c, &ExecConfig::default()).unwrap().makespan().as_secs_f64();
        let flow = execute(&g, &c, &ExecConfig::flow()).unwrap().makespan().as_secs_f64();
        assert!(
            (flow - analytic).abs() / analytic < 0.01,
            "{kind} {algo} on {nodes} nodes: flow {flow} vs analytic {analytic}"
        );
    }
}

#[test]
fn exchange_flow_mode_equals_analytic_and_waits_for_its_members() {
    let c = dgx(2);
    let traffic: Vec<(GpuId, GpuId, f64)> = (0..16)
        .flat_map(|i| {
            (0..16).map(move |j| (GpuId(i), GpuId(j), ((i * 7 + j * 3) % 5) as f64 * 1e6))
        })
        .collect();
    let mut b = TaskGraphBuilder::new();
    let k = b.compute("late", GpuId(9), 4e12, 0.0, Dtype::Bf16);
    let x = b.exchange("dispatch", traffic);
    b.depend(k, x);
    let g = b.build().unwrap();
    let analytic = execute(&g, &c, &ExecConfig::default()).unwrap();
    let flow = execute(&g, &c, &ExecConfig::flow()).unwrap();
    assert_eq!(analytic.start(x), analytic.end(k));
    let (a, f) = (analytic.duration(x).as_secs_f64(), flow.duration(x).as_secs_f64());
    assert!((a - f).abs() / a < 0.01, "analytic {a} flow {f}");
}

#[test]
fn collectives_wait_for_every_member_and_block_their_streams() {
    let c = dgx(1);
    let mut b = TaskGraphBuilder::new();
    let slow = b.compute("slow", GpuId(3), 8e12, 0.0, Dtype::Bf16);
    let ar = b.collective("ar", CollectiveKind::AllReduce, Algorithm::Ring, &c.gpus(), 64e6);
    let send = b.send("send", GpuId(0), GpuId(1), 1e6);
    b.depend(slow, ar);
    let run = execute(&b.build().unwrap(), &c, &ExecConfig::default()).unwrap();
    assert_eq!(run.start(ar), run.end(slow));
    // The send was ready at time zero and took GPU0/GPU1's comm streams before the all-reduce.
    assert_eq!(run.start(send), SimTime::ZERO);
    assert!(run.end(send) <= run.start(ar));
}

#[test]
fn invalid_ops_are_clear_errors() {
    let c = dgx(1);
    let mut b = TaskGraphBuilder::new();
    b.compute("far", GpuId(99), 1.0, 0.0, Dtype::Bf16);
    let e = execute(&b.build().unwrap(), &c, &ExecConfig::default()).unwrap_err();
    assert!(matches!(e, GraphError::Device { .. }));
    assert!(
        e.to_string().contains("op `far`") && e.to_string().contains("GPU 99 does not exist"),
        "{e}"
    );
    let mut b = TaskGraphBuilder::new();
    b.send("neg", GpuId(0), GpuId(1), -5.0);
    let e = execute(&b.build().unwrap(), &c, &ExecConfig::default()).unwrap_err().to_string();
    assert!(e.contains("bytes must be finite and >= 0"), "{e}");
    let cloud = Cluster::preset("cloud-a100-100g", 2).unwrap();
    let mut b = TaskGraphBuilder::new();
    b.copy("spill", MemoryTier::Hbm(GpuId(0)), MemoryTier::Ssd(0), 1e6);
    let e = execute(&b.build().unwrap(), &cloud, &ExecConfig::default()).unwrap_err().to_string();
    assert!(e.contains("no SSD"), "{e}");
}

#[test]
fn copies_use_pcie_and_nvme_bandwidth() {
    let c = dgx(1);
    let mut b = TaskGraphBuilder::new();
    let h2d = b.copy("h2d", MemoryTier::Host(0), MemoryTier::Hbm(GpuId(0)), 1e9);
    let ssd = b.copy("ssd read", MemoryTier::Ssd(0), MemoryTier::Host(0), 1e9);
    let run = execute(&b.build().unwrap(), &c, &ExecConfig::default()).unwrap();
    // PCIe Gen5 x16: 63 GB/s x 0.88 measured efficiency; 8 NVMe drives x 6.4 GB/s.
    let pcie = run.duration(h2d).as_secs_f64();
    assert!((pcie - 1e9 / (63e9 * 0.88)).abs() / pcie < 0.01, "{pcie}");
    let nvme = run.duration(ssd).as_secs_f64();
    assert!((nvme - 1e9 / (8.0 * 6.4e9)).abs() / nvme < 0.01, "{nvme}");
}

#[test]
fn trace_has_the_fields_perfetto_needs() {
    let c = dgx(1);
    let mut b = TaskGraphBuilder::new();
    let k = b.compute("gemm", GpuId(2), 1e12, 0.0, Dtype::Bf16);
    let ar =
        b.collective("ar", CollectiveKind::AllReduce, Algorithm::Auto, &[GpuId(2), GpuId(5)], 1e6);
    b.delay("pause", SimTime::from_micros(3));
    b.depend(k, ar);
    let g = b.build().unwrap();
    let run = execute(&g, &c, &ExecConfig::default()).unwrap();
    let mut buf = Vec::new();
    run.chrome_trace(&g).write_json(&mut buf).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&buf).unwrap();
    let events = v["traceEvents"].as_array().unwrap();
    let spans: Vec<&serde_json::Value> = events.iter().filter(|e| e["ph"] == "X").collect();
    assert_eq!(spans.len(), 1 + 2 + 1, "gemm, ar on two lanes, pause");
    for e in &spans {
        for field in ["name", "ph", "ts", "dur", "pid", "tid"] {
            assert!(!e[field].is_null(), "{field} missing in {e}");
        }
    }
    let names: Vec<&str> = events
        .iter()
        .filter(|e| e["ph"] == "M" && e["name"] == "thread_name")
        .map(|e| e["args"]["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"gpu2 compute0") && names.contains(&"gpu5 comm"), "{names:?}");
}

#[test]
fn network_mode_round_trips_through_serde() {
    let cfg: ExecConfig = serde_json::from_str(r#"{"network":"flow"}"#).unwrap();
    assert_eq!(cfg.network, NetworkMode::Flow);
    assert_eq!(cfg.compute_streams, 1);
    assert!(serde_json::from_str::<ExecConfig>(r#"{"network":"flows"}"#).is_err());
}

#[test]
fn analytic_links_are_first_come_first_served_queues() {
    // GPU0->GPU8 and GPU1->GPU9 share NIC 0's uplink (two GPUs per NIC): analytic mode serves
    // the first send, then the second (each at the NIC's rate); contention-free gives each the
    // whole NIC (an upper bound); flow mode shares it max-min fairly (each gets half).
    let mut spec = ClusterSpec::preset("dgx-h100").unwrap().with_nodes(2);
    spec.node.nics = 4;
    let c = Cluster::new(spec).unwrap();
    let bytes = 1e9;
    let mut b = TaskGraphBuilder::new();
    let s1 = b.send("a", GpuId(0), GpuId(8), bytes);
    let s2 = b.send("b", GpuId(1), GpuId(9), bytes);
    let g = b.build().unwrap();
    let secs = |cfg: ExecConfig| {
        let run = execute(&g, &c, &cfg).unwrap();
        (run.end(s1).as_secs_f64(), run.end(s2).as_secs_f64())
    };
    let free = secs(ExecConfig { network: NetworkMode::ContentionFree, ..ExecConfig::default() });
    let queued = secs(ExecConfig::default());
    let flow = secs(ExecConfig::flow());
    let nic = bytes / (50e9 * 0.94);
    assert!((free.0 - nic).abs() / nic < 0.01 && (free.1 - nic).abs() / nic < 0.01, "{free:?}");
    assert!((queued.0 - nic).abs() / nic < 0.01, "{queued:?}");
    assert!((queued.1 - 2.0 * nic).abs() / nic < 0.01, "{queued:?}");
    assert!((flow.0 - 2.0 * nic).abs() / nic < 0.01, "{flow:?}");
    assert!((flow.1 - 2.0 * nic).abs() / nic < 0.01, "{flow:?}");
    assert!(NetworkMode::ContentionFree.caveat().is_some());
    assert!(NetworkMode::Analytic.caveat().is_none());
}

#[test]
fn host_work_shares_the_nodes_dram() {
    // Two host steps of 10 GB on one DGX node (its DRAM bandwidth from the catalog):
    // alone each takes bytes / DRAM bandwidth; together they share it (analytic: one after
    // the other; flow: half each), and a rate below the DRAM's caps a step.
    let c = dgx(1);
    let dram = {
        let topo = c.topology();
        let (h, m) = (topo.host_vertex(0).unwrap(), topo.host_memory_vertex(0).unwrap());
        topo.links().iter().find(|l| l.from == h && l.to == m).unwrap().bandwidth()
    };
    let bytes = 1e10;
    let mut b = TaskGraphBuilder::new();
    let h1 = b.host_work("adam 0", 0, bytes, 1e15);
    let h2 = b.host_work("adam 1", 0, bytes, 1e15);
    let slow = b.host_work("slow", 0, bytes, dram / 4.0);
    b.depend(h2, slow);
    let g = b.build().unwrap();
    let alone = bytes / dram;
    // (config, end of the first step, end of the second), in units of one step alone.
    for (cfg, first, second) in [
        (ExecConfig::default(), 1.0, 2.0),
        (ExecConfig::flow(), 2.0, 2.0),
        (ExecConfig { network: NetworkMode::ContentionFree, ..ExecConfig::default() }, 1.0, 1.0),
    ] {
        let run = execute(&g, &c, &cfg).unwrap();
        let end1 = run.end(h1).as_secs_f64();
        assert!((end1 - first * alone).abs() / alone < 1e-6, "{:?}: {end1}", cfg.network);
        let end2 = run.end(h2).as_secs_f64();
        assert!(
            (end2 - second * alone).abs() / alone < 1e-6,
            "{:?}: {end2} vs {alone}",
            cfg.network
        );
        let d = run.duration(slow).as_secs_f64();
        assert!((d - 4.0 * alone).abs() / alone < 1e-6, "{:?}: rate cap {d}", cfg.network);
    }
}

/// `cluster.flow_tolerance` reaches the flow network: an all-to-all-v whose flows carry
/// different byte counts ends earlier with a looser tolerance, by at most that share of its
/// time (flows end early by at most the tolerance times their duration), and 0 is exact.
#[test]
fn flow_tolerance_bounds_how_early_an_exchange_ends() {
    let makespan = |tolerance: f64| {
        let mut spec = ClusterSpec::preset("dgx-h100").unwrap().with_nodes(4);
        spec.flow_tolerance = tolerance;
        let c = Cluster::new(spec).unwrap();
        let mut traffic = Vec::new();
        for s in 0..32u32 {
            for d in (0..32u32).filter(|&d| d != s) {
                traffic.push((GpuId(s), GpuId(d), 1e6 * f64::from(1 + (s * 7 + d * 13) % 29)));
            }
        }
        let mut b = TaskGraphBuilder::new();
        b.exchange("a2a-v", traffic);
        let run = execute(&b.build().unwrap(), &c, &ExecConfig::flow()).unwrap();
        run.makespan().as_secs_f64()
    };
    let exact = makespan(0.0);
    for tolerance in [0.001, 0.01, 0.05] {
        let t = makespan(tolerance);
        assert!(t <= exact && t >= exact * (1.0 - tolerance), "{tolerance}: {t} vs {exact}");
    }
    assert!(makespan(0.05) < exact, "a 5% tolerance ends some flow early");
    let mut spec = ClusterSpec::preset("dgx-h100").unwrap();
    spec.flow_tolerance = 1.5;
    let err = Cluster::new(spec).unwrap_err().to_string();
    assert!(err.contains("flow_tolerance must be in [0, 1)"), "{err}");
}

#[test]
fn sends_on_their_own_stream_overlap_the_first_groups_collective() {
    let c = dgx(2);
    let mut g = TaskGraphBuilder::new();
    let members = [GpuId(0), GpuId(1)];
    let ar = g.collective("ar", CollectiveKind::AllReduce, Algorithm::Ring, &members, 64e6);
    let send = g.send("send", GpuId(0), GpuId(8), 64e6);
    let g = g.build().unwrap();
    let free = ExecConfig { network: NetworkMode::ContentionFree, ..ExecConfig::default() };
    let shared = execute(&g, &c, &free).unwrap();
    // Stream 0 is shared: one after the other (in readiness order).
    assert_eq!(shared.makespan(), shared.duration(ar) + shared.duration(send));
    let own = execute(&g, &c, &ExecConfig { own_send_stream: true, ..free }).unwrap();
    assert_eq!(own.start(send), SimTime::ZERO);
    assert_eq!(own.start(ar), SimTime::ZERO);
    assert_eq!(own.makespan(), own.duration(ar).max(own.duration(send)));
}
