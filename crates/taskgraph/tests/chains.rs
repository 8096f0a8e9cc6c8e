//! Chains (fused kernels and collectives) against the same steps as separate ops.

use cluster::{Algorithm, Cluster, CollectiveKind, Dtype, GpuId};
use proptest::prelude::*;
use simcore::SimTime;
use taskgraph::{
    ChainStep, ExecConfig, Execution, NetworkMode, OpId, TaskGraph, TaskGraphBuilder, execute,
};

/// One pass: kernels and TP all-reduces in turn.
#[derive(Clone, Debug)]
struct Pass {
    group: usize,
    steps: Vec<ChainStep>,
}

/// `passes` in order per group (each depends on the previous pass of its group), and after
/// every pass of group 0 a send of `send_bytes` from its lead to group 1's lead, which the
/// next pass of group 1 waits for. Fused: one chain op per pass; else one op per step.
fn build(
    groups: &[Vec<GpuId>],
    passes: &[Pass],
    send_bytes: f64,
    fused: bool,
) -> (TaskGraph, Vec<Vec<OpId>>) {
    let mut b = TaskGraphBuilder::new();
    let mut last: Vec<Option<OpId>> = vec![None; groups.len()];
    let mut pending_send: Option<OpId> = None;
    let mut ops = Vec::new();
    for p in passes {
        let g = &groups[p.group];
        let mut mine = Vec::new();
        if fused {
            let id = b.chain_steps(p.steps.clone());
            mine.push(b.chain("pass", g[0], g, Dtype::Bf16, id));
        } else {
            for step in &p.steps {
                mine.push(match *step {
                    ChainStep::Kernel { label, flops, bytes } => {
                        b.compute(label, g[0], flops, bytes, Dtype::Bf16)
                    }
                    ChainStep::Collective { label, kind, algorithm, bytes } => {
                        b.collective(label, kind, algorithm, g, bytes)
                    }
                });
            }
            for w in mine.windows(2) {
                b.depend(w[0], w[1]);
            }
        }
        let (first, end) = (mine[0], *mine.last().unwrap());
        if let Some(prev) = last[p.group] {
            b.depend(prev, first);
        }
        if p.group == 1
            && let Some(send) = pending_send.take()
        {
            b.depend(send, first);
        }
        if p.group == 0 && groups.len() > 1 && send_bytes > 0.0 {
            let send = b.send("send", g[0], groups[1][0], send_bytes);
            b.depend(end, send);
            pending_send = Some(send);
        }
        last[p.group] = Some(end);
        ops.push(mine);
    }
    (b.build().unwrap(), ops)
}

/// Per pass, per step: (start, end) in the fused and the unfused run.
fn step_times(run: &Execution, ops: &[Vec<OpId>], fused: bool) -> Vec<(SimTime, SimTime)> {
    let mut out = Vec::new();
    for mine in ops {
        if fused {
            let op = mine[0];
            let mut begin = run.start(op);
            for &end in run.chain_step_ends(op) {
                out.push((begin, end));
                begin = end;
            }
        } else {
            out.extend(mine.iter().map(|&op| (run.start(op), run.end(op))));
        }
    }
    out
}

fn kernel(flops: f64) -> ChainStep {
    ChainStep::Kernel { label: "k", flops, bytes: flops / 100.0 }
}

fn all_reduce(bytes: f64) -> ChainStep {
    ChainStep::Collective {
        label: "TP all-reduce",
        kind: CollectiveKind::AllReduce,
        algorithm: Algorithm::Auto,
        bytes,
    }
}

fn own_streams(network: NetworkMode) -> ExecConfig {
    ExecConfig { network, comm_streams: 0, own_send_stream: true, ..ExecConfig::default() }
}

fn node(n: u32, gpus: std::ops::Range<u32>) -> Vec<GpuId> {
    gpus.map(|g| GpuId(n * 8 + g)).collect()
}

#[test]
fn a_chain_takes_exactly_the_time_of_its_steps_in_sequence() {
    let c = Cluster::preset("dgx-a100", 2).unwrap();
    let groups = vec![node(0, 0..8), node(1, 0..8)];
    let steps = vec![kernel(4e12), all_reduce(64e6), kernel(2e12), all_reduce(8e6), kernel(1e9)];
    let passes: Vec<Pass> = (0..6).map(|i| Pass { group: i % 2, steps: steps.clone() }).collect();
    for network in [NetworkMode::Analytic, NetworkMode::ContentionFree] {
        let cfg = own_streams(network);
        let (gf, of) = build(&groups, &passes, 32e6, true);
        let (gu, ou) = build(&groups, &passes, 32e6, false);
        let (rf, ru) = (execute(&gf, &c, &cfg).unwrap(), execute(&gu, &c, &cfg).unwrap());
        assert_eq!(rf.chain_conflict(), None);
        assert_eq!(step_times(&rf, &of, true), step_times(&ru, &ou, false));
        assert_eq!(rf.makespan(), ru.makespan());
        assert_eq!(rf.gpu_busy(), ru.gpu_busy());
        // A trace shows every step on its lanes: 3 kernels + 2 x 8 collective spans a pass.
        let mut buf = Vec::new();
        rf.chrome_trace(&gf).write_json(&mut buf).unwrap();
        let trace: serde_json::Value = serde_json::from_slice(&buf).unwrap();
        let spans =
            trace["traceEvents"].as_array().unwrap().iter().filter(|e| e["ph"] == "X").count();
        assert_eq!(spans, 6 * (3 + 2 * 8) + 3 * 2);
    }
}

#[test]
fn an_op_that_needs_a_chains_stream_meanwhile_is_reported() {
    let c = Cluster::preset("dgx-a100", 1).unwrap();
    let g = node(0, 0..8);
    let mut b = TaskGraphBuilder::new();
    let id = b.chain_steps(vec![kernel(4e12), all_reduce(64e6), kernel(4e12)]);
    b.chain("pass", g[0], &g, Dtype::Bf16, id);
    // Another kernel on the lead GPU, ready while the chain runs: as separate ops it could
    // run during the all-reduce.
    let late = b.delay("wait", SimTime::from_micros(10));
    let k = b.compute("other", g[0], 1e9, 0.0, Dtype::Bf16);
    b.depend(late, k);
    let graph = b.build().unwrap();
    let run = execute(&graph, &c, &own_streams(NetworkMode::Analytic)).unwrap();
    let why = run.chain_conflict().expect("a conflict");
    assert!(why.contains("`other` waited for a stream a chain held"), "{why}");
}

#[test]
fn a_chain_sharing_links_with_a_send_is_reported() {
    let c = Cluster::preset("dgx-a100", 1).unwrap();
    let g = node(0, 0..4);
    let mut b = TaskGraphBuilder::new();
    let id = b.chain_steps(vec![all_reduce(64e6)]);
    b.chain("pass", g[0], &g, Dtype::Bf16, id);
    // GPU 0 to GPU 5 over NVLink, on the send stream: the same NVLink port as the chain's.
    b.send("send", GpuId(0), GpuId(5), 64e6);
    let graph = b.build().unwrap();
    let run = execute(&graph, &c, &own_streams(NetworkMode::Analytic)).unwrap();
    assert!(run.chain_conflict().unwrap().contains("shares links"));
    // Contention-free: links are not shared, so nothing to report.
    let free = execute(&graph, &c, &own_streams(NetworkMode::ContentionFree)).unwrap();
    assert_eq!(free.chain_conflict(), None);
}

#[test]
fn chains_are_refused_in_flow_mode() {
    let c = Cluster::preset("dgx-a100", 1).unwrap();
    let g = node(0, 0..2);
    let mut b = TaskGraphBuilder::new();
    let id = b.chain_steps(vec![kernel(1e9)]);
    b.chain("pass", g[0], &g, Dtype::Bf16, id);
    let graph = b.build().unwrap();
    let e = execute(&graph, &c, &own_streams(NetworkMode::Flow)).unwrap_err().to_string();
    assert!(e.contains("flow mode"), "{e}");
}

fn arb_steps() -> impl Strategy<Value = Vec<ChainStep>> {
    prop::collection::vec(
        prop_oneof![(1e9..5e12f64).prop_map(kernel), (1e5..2e8f64).prop_map(all_reduce),],
        1..6,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Whenever the execution reports no conflict, every step of every chain starts and ends
    /// exactly when it does as a separate op, and every GPU is busy as long.
    #[test]
    fn chains_without_conflict_time_like_their_steps(
        layout in 0usize..3,
        passes in prop::collection::vec((0usize..2, arb_steps()), 1..10),
        send_bytes in prop_oneof![Just(0.0), 1e5..1e8f64],
        free in any::<bool>(),
    ) {
        let c = Cluster::preset("dgx-a100", 2).unwrap();
        // Two TP groups: in different nodes, in one node apart, or sharing a GPU.
        let groups = match layout {
            0 => vec![node(0, 0..8), node(1, 0..8)],
            1 => vec![node(0, 0..4), node(0, 4..8)],
            _ => vec![node(0, 0..4), node(0, 3..7)],
        };
        let passes: Vec<Pass> =
            passes.into_iter().map(|(group, steps)| Pass { group, steps }).collect();
        let network = if free { NetworkMode::ContentionFree } else { NetworkMode::Analytic };
        let cfg = own_streams(network);
        let (gf, of) = build(&groups, &passes, send_bytes, true);
        let (gu, ou) = build(&groups, &passes, send_bytes, false);
        let rf = execute(&gf, &c, &cfg).unwrap();
        let ru = execute(&gu, &c, &cfg).unwrap();
        if rf.chain_conflict().is_none() {
            prop_assert_eq!(step_times(&rf, &of, true), step_times(&ru, &ou, false));
            prop_assert_eq!(rf.makespan(), ru.makespan());
            prop_assert_eq!(rf.gpu_busy(), ru.gpu_busy());
        }
    }
}
