//! Invariants over random DAGs: dependencies respected, no op starts before it is ready,
//! streams never run two ops at once, results identical across runs, the critical path is a
//! contiguous chain that spans the makespan; in analytic mode no link serves two operations at
//! once (so none exceeds its capacity).

use cluster::{Algorithm, Cluster, CollectiveKind, Dtype, GpuId, MemoryTier};
use proptest::prelude::*;
use simcore::SimTime;
use taskgraph::{ExecConfig, NetworkMode, OpKind, TaskGraph, TaskGraphBuilder, execute};

fn random_graph(seed: u64, ops: usize) -> TaskGraph {
    let mut rng = simcore::RandomStreams::new(seed).stream("dag");
    let mut b = TaskGraphBuilder::new();
    let mut ids = Vec::new();
    for i in 0..ops {
        let g = GpuId(rng.below(16) as u32);
        let h = GpuId(rng.below(16) as u32);
        let op = match rng.below(8) {
            0 | 1 => b.compute("k", g, rng.next_f64() * 1e12, rng.next_f64() * 1e9, Dtype::Bf16),
            2 => b.send("s", g, h, rng.next_f64() * 1e8),
            3 => {
                let n = 2 + rng.below(6) as u32;
                let members: Vec<GpuId> = (0..n).map(|k| GpuId((g.0 + k * 3) % 16)).collect();
                let mut m = members.clone();
                m.sort();
                m.dedup();
                b.collective(
                    "c",
                    CollectiveKind::AllReduce,
                    Algorithm::Auto,
                    &m,
                    rng.next_f64() * 1e8,
                )
            }
            4 => b.copy("cp", MemoryTier::Host(g.0 / 8), MemoryTier::Hbm(g), rng.next_f64() * 1e8),
            6 if rng.below(2) == 0 => b.host_work("h", g.0 / 8, rng.next_f64() * 1e9, 2e11),
            5 => {
                let traffic = (0..1 + rng.below(6))
                    .map(|k| {
                        (
                            GpuId((g.0 + k as u32) % 16),
                            GpuId(rng.below(16) as u32),
                            rng.next_f64() * 1e7,
                        )
                    })
                    .collect();
                b.exchange("x", traffic)
            }
            _ => b.delay("d", SimTime::from_nanos(rng.below(10_000))),
        };
        // Up to three dependencies on earlier ops: always acyclic.
        for _ in 0..rng.below(4) {
            if i > 0 {
                let dep = ids[rng.below(i as u64) as usize];
                b.depend(dep, op);
            }
        }
        ids.push(op);
    }
    b.build().unwrap()
}

fn check(graph: &TaskGraph, cluster: &Cluster, cfg: &ExecConfig) -> Result<(), TestCaseError> {
    let run = execute(graph, cluster, cfg).unwrap();
    let again = execute(graph, cluster, cfg).unwrap();
    for op in graph.ops() {
        prop_assert!(run.end(op) >= run.start(op));
        for &p in graph.predecessors(op) {
            prop_assert!(run.start(op) >= run.end(taskgraph::OpId(p)), "dependency violated");
        }
        prop_assert_eq!(run.start(op), again.start(op));
        prop_assert_eq!(run.end(op), again.end(op));
    }
    // No two ops overlap on one GPU's compute stream 0.
    let mut spans: Vec<(SimTime, SimTime, u32)> = graph
        .ops()
        .filter_map(|op| match graph.kind(op) {
            OpKind::Compute { gpu, .. } => Some((run.start(op), run.end(op), gpu.0)),
            _ => None,
        })
        .collect();
    spans.sort();
    for g in 0..16 {
        let mine: Vec<_> = spans.iter().filter(|s| s.2 == g).collect();
        for w in mine.windows(2) {
            prop_assert!(w[1].0 >= w[0].1, "stream overlap on gpu {g}");
        }
    }
    let path = run.critical_path();
    if let (Some(first), Some(last)) = (path.first(), path.last()) {
        prop_assert_eq!(run.end(*last), run.makespan());
        prop_assert_eq!(run.start(*first), SimTime::ZERO);
        for w in path.windows(2) {
            prop_assert_eq!(run.start(w[1]), run.end(w[0]), "critical path has a gap");
        }
    }
    let mut t1 = Vec::new();
    let mut t2 = Vec::new();
    run.chrome_trace(graph).write_json(&mut t1).unwrap();
    again.chrome_trace(graph).write_json(&mut t2).unwrap();
    prop_assert_eq!(t1, t2, "traces differ");
    Ok(())
}

/// In analytic mode every link (NVLink, PCIe, NIC, switch port, host DRAM) serves one
/// operation at a time, each for its bytes over the link's bandwidth, inside the operation's
/// run: so no link ever carries more than its capacity.
fn links_within_capacity(graph: &TaskGraph, cluster: &Cluster) -> Result<(), TestCaseError> {
    let cfg = ExecConfig { record_link_queues: true, ..ExecConfig::default() };
    let run = execute(graph, cluster, &cfg).unwrap();
    let mut log = run.link_queue_log().to_vec();
    log.sort_by_key(|&(l, _, begin, _)| (l, begin));
    for w in log.windows(2) {
        if w[0].0 == w[1].0 {
            prop_assert!(w[1].2 >= w[0].3, "link {} serves two operations at once", w[0].0);
        }
    }
    for &(_, op, begin, end) in &log {
        let op = taskgraph::OpId(op);
        prop_assert!(begin >= run.start(op) && end <= run.end(op), "served outside its op");
    }
    Ok(())
}

/// A DAG of transfers whose bytes are known: sends inside a node (NVLink), sends between nodes
/// (NIC and switch ports), copies between host memory and HBM (PCIe) and host work (DRAM).
/// Returns the graph and each op's payload bytes.
fn transfer_graph(seed: u64, ops: usize) -> (TaskGraph, Vec<f64>) {
    let mut rng = simcore::RandomStreams::new(seed).stream("transfers");
    let mut b = TaskGraphBuilder::new();
    let mut bytes = Vec::new();
    for i in 0..ops {
        let g = GpuId(rng.below(16) as u32);
        let n = rng.next_f64() * 1e8 + 1.0;
        let op = match i % 4 {
            0 => b.send("nvlink", g, GpuId((g.0 / 8) * 8 + (g.0 + 1) % 8), n),
            1 => b.send("nic", g, GpuId((g.0 + 8) % 16), n),
            2 => b.copy("pcie", MemoryTier::Host(g.0 / 8), MemoryTier::Hbm(g), n),
            _ => b.host_work("dram", g.0 / 8, n, 1e15),
        };
        if i > 0 && rng.below(3) == 0 {
            b.depend(taskgraph::OpId(rng.below(i as u64) as u32), op);
        }
        bytes.push(n);
    }
    (b.build().unwrap(), bytes)
}

/// Per resource class: every class the graph uses shows up in the queue log, a link serves one
/// transfer at a time, and each transfer holds each link at least its bytes over the link's
/// bandwidth. Together: over any window, no NVLink, PCIe link, NIC or DRAM carries more bytes
/// than its bandwidth times the window.
fn each_resource_within_capacity(seed: u64, ops: usize) -> Result<(), TestCaseError> {
    let cluster = Cluster::preset("dgx-a100", 2).unwrap();
    let (graph, bytes) = transfer_graph(seed, ops);
    let cfg = ExecConfig { record_link_queues: true, ..ExecConfig::default() };
    let run = execute(&graph, &cluster, &cfg).unwrap();
    let topo = cluster.topology();
    let mut log = run.link_queue_log().to_vec();
    let mut classes = std::collections::BTreeSet::new();
    for &(l, op, begin, end) in &log {
        let link = topo.link(cluster::LinkId(l));
        classes.insert(format!("{:?}", link.class));
        let need = bytes[op as usize] / link.bandwidth();
        let held = end.as_secs_f64() - begin.as_secs_f64();
        prop_assert!(
            held >= need * (1.0 - 1e-9) - 1e-9,
            "{:?} link {l} held {held} s for {need} s of bytes",
            link.class
        );
    }
    for class in ["Nvlink", "Network", "Pcie", "Memory"] {
        prop_assert!(ops < 8 || classes.contains(class), "no {class} link in the queue log");
    }
    log.sort_by_key(|&(l, _, begin, _)| (l, begin));
    for w in log.windows(2) {
        if w[0].0 == w[1].0 {
            prop_assert!(w[1].2 >= w[0].3, "link {} serves two transfers at once", w[0].0);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn analytic_links_never_exceed_capacity(seed in any::<u64>(), ops in 1usize..120) {
        let cluster = Cluster::preset("dgx-a100", 2).unwrap();
        links_within_capacity(&random_graph(seed, ops), &cluster)?;
    }

    #[test]
    fn no_nvlink_pcie_nic_or_dram_above_capacity(seed in any::<u64>(), ops in 1usize..80) {
        each_resource_within_capacity(seed, ops)?;
    }

    #[test]
    fn contention_free_invariants(seed in any::<u64>(), ops in 1usize..120) {
        let cluster = Cluster::preset("dgx-a100", 2).unwrap();
        let cfg = ExecConfig { network: NetworkMode::ContentionFree, ..ExecConfig::default() };
        check(&random_graph(seed, ops), &cluster, &cfg)?;
    }

    #[test]
    fn analytic_invariants(seed in any::<u64>(), ops in 1usize..120) {
        let cluster = Cluster::preset("dgx-a100", 2).unwrap();
        check(&random_graph(seed, ops), &cluster, &ExecConfig::default())?;
    }

    #[test]
    fn flow_invariants(seed in any::<u64>(), ops in 1usize..60) {
        let cluster = Cluster::preset("dgx-a100", 2).unwrap();
        let cfg = ExecConfig { network: NetworkMode::Flow, ..ExecConfig::default() };
        check(&random_graph(seed, ops), &cluster, &cfg)?;
    }
}
