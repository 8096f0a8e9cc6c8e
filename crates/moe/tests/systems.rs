//! The behaviour the SwiftMoE comparison rests on: what each system moves, and the ordering of
//! a small version of the headline experiment.

use cluster::{Cluster, Dtype};
use moe::dispatch::dispatch;
use moe::iteration::{IterationInput, build};
use moe::systems::{self, ExpertSystem, OptimizerLayout};
use moe::{MoeModel, MoeWorkload, SystemSpec};
use taskgraph::OpKind;

fn workload(extra: serde_json::Value) -> MoeWorkload {
    let mut v = serde_json::json!({
        "model": "gpt-small", "experts": 8, "slots_per_gpu": 4, "seq_len": 256,
        "global_batch": 32, "capacity_factor": 1.0, "convergence": { "target_iterations": 60 }
    });
    for (k, x) in extra.as_object().unwrap() {
        v[k] = x.clone();
    }
    serde_json::from_value(v).unwrap()
}

fn skewed(layers: usize, classes: usize, t: u64) -> Vec<Vec<f64>> {
    // Popularity that rotates: class (t mod E) is hot.
    (0..layers)
        .map(|_| {
            (0..classes)
                .map(|c| if c as u64 == t % classes as u64 { 4000.0 } else { 300.0 })
                .collect()
        })
        .collect()
}

fn graph_for(
    sys: &mut dyn ExpertSystem,
    t: u64,
    model: &MoeModel,
) -> (taskgraph::TaskGraph, usize) {
    let layers = model.moe_layers() as usize;
    let prev = skewed(layers, 8, t);
    let moves = sys.prepare(t, Some(&prev));
    let d: Vec<_> = (0..layers).map(|l| dispatch(&prev[l], sys.placement(l), 200.0, 1)).collect();
    let placements: Vec<_> = (0..layers).map(|l| sys.placement(l)).collect();
    let input = IterationInput {
        model,
        experts: 8,
        gpus: 4,
        gpus_per_node: 1,
        tokens_per_gpu: 2048.0,
        seq: 256,
        dtype_bytes: 2.0,
        dtype: Dtype::Bf16,
        placements: &placements,
        dispatches: &d,
        optimizer: sys.optimizer(),
        moves: &moves,
        host_rate: 100e9,
    };
    (build(&input).unwrap().graph, moves.len())
}

fn migration_bytes(g: &taskgraph::TaskGraph) -> f64 {
    g.ops()
        .filter(|&op| g.name(op).starts_with("migrate"))
        .map(|op| match *g.kind(op) {
            OpKind::Send { bytes, .. } => bytes,
            OpKind::Exchange { traffic, .. } => g.traffic(traffic).iter().map(|t| t.2).sum(),
            _ => 0.0,
        })
        .sum()
}

#[test]
fn swiftmoe_moves_no_optimizer_state() {
    let model = MoeModel::preset("gpt-small").unwrap();
    let mut s = systems::build(&SystemSpec::Swiftmoe, 6, 8, 4, 4);
    assert_eq!(s.optimizer(), OptimizerLayout::ShardedOverAllRanks);
    let before = s.placement(0).clone();
    for t in 1..20 {
        let (g, moves) = graph_for(s.as_mut(), t, &model);
        assert_eq!(moves, 0);
        assert_eq!(migration_bytes(&g), 0.0, "iteration {t} migrates");
    }
    assert_ne!(s.placement(0), &before, "the placement did follow popularity");
}

#[test]
fn flexmoe_migrates_weights_and_optimizer_state_of_moved_replicas() {
    let model = MoeModel::preset("gpt-small").unwrap();
    let mut f = systems::build(
        &SystemSpec::Flexmoe { interval: 5, skew_threshold: None, max_moves: None },
        6,
        8,
        4,
        4,
    );
    let mut total_moves = 0;
    for t in 1..=10 {
        let (g, moves) = graph_for(f.as_mut(), t, &model);
        // 2 bytes of weights + 16 bytes of optimizer state per parameter of each moved expert.
        assert!(
            (migration_bytes(&g) - moves as f64 * 18.0 * model.base.ffn_params()).abs() < 1.0,
            "iteration {t}"
        );
        if t % 5 != 0 {
            assert_eq!(moves, 0, "no move between rebalances (iteration {t})");
        }
        total_moves += moves;
    }
    assert!(total_moves > 0);
}

#[test]
fn small_headline_ordering() {
    // The headline's direction on 4 nodes. On a network whose links are never used above
    // capacity (the default, congestion-aware analytic mode), nodrop (no capacity, no drops)
    // reaches the target first: SwiftMoE's per-iteration re-placement cuts drops and
    // iterations, but its extra transfers queue on the same 100 Gb/s NICs. Only a
    // contention-free network (an upper bound) gives SwiftMoE a clear lead over DeepSpeed and
    // FlexMoE, as the paper reports (docs/models/moe.md); nodrop is faster still here.
    let cluster = Cluster::preset("cloud-a100-100g", 4).unwrap();
    let run = |s: SystemSpec, network: &str| {
        let w = workload(serde_json::json!({ "network": network }));
        let r = moe::run::prepare(&cluster, &w, &s).unwrap().run(&cluster, 3, false).unwrap();
        (
            r.metrics["time_to_target_s"],
            r.metrics["tokens_dropped_frac"],
            r.metrics["iterations_to_target"],
        )
    };
    let flexmoe = |k| SystemSpec::Flexmoe { interval: k, skew_threshold: None, max_moves: None };
    for network in ["analytic", "contention-free"] {
        let ds = run(SystemSpec::Deepspeed, network);
        let swift = run(SystemSpec::Swiftmoe, network);
        let flex: Vec<_> = [5, 20].into_iter().map(|k| run(flexmoe(k), network)).collect();
        let nodrop = run(SystemSpec::Nodrop, network);
        for f in &flex {
            assert!(f.1 < ds.1, "flexmoe drops less than deepspeed: {f:?} vs {ds:?}");
            assert!(swift.1 < f.1, "swiftmoe drops less than flexmoe: {swift:?} vs {f:?}");
            assert!(swift.2 < f.2, "swiftmoe needs fewer iterations than flexmoe");
        }
        assert!(swift.2 < ds.2, "fewer iterations through fewer drops");
        assert_eq!(nodrop.1, 0.0);
        assert_eq!(nodrop.2, 60.0);
        let others = [ds, swift, flex[0], flex[1]];
        if network == "analytic" {
            for o in others {
                assert!(
                    nodrop.0 < o.0,
                    "nodrop first on a capacity-respecting network: {nodrop:?} vs {o:?}"
                );
            }
        } else {
            for o in [ds, flex[0], flex[1]] {
                assert!(
                    swift.0 < o.0,
                    "contention-free: swiftmoe beats the capacity-limited baselines: {swift:?} vs {o:?}"
                );
            }
        }
    }
}

#[test]
fn impossible_settings_name_their_field() {
    let cluster = Cluster::preset("cloud-a100-100g", 2).unwrap();
    let check = |extra: serde_json::Value, field: &str| {
        let e = moe::run::prepare(&cluster, &workload(extra), &SystemSpec::Deepspeed)
            .err()
            .unwrap()
            .to_string();
        assert!(e.starts_with(field), "expected `{field}`: {e}");
    };
    check(
        serde_json::json!({ "slots_per_gpu": 2, "experts": 8 }),
        "workload.slots_per_gpu: 2 slots x 2 GPUs = 4 slots cannot hold 8",
    );
    check(serde_json::json!({ "capacity_factor": 0.0 }), "workload.capacity_factor");
    check(serde_json::json!({ "top_k": 9 }), "workload.top_k");
    check(serde_json::json!({ "comm_streams": 0 }), "workload.comm_streams: must be at least 1");
    check(
        serde_json::json!({ "model": "gpt3-175b" }),
        "workload.model: gpt3-175b with 4 slots per GPU needs",
    );
    check(
        serde_json::json!({ "model": "gpt-smal" }),
        "workload.model: unknown model `gpt-smal` (did you mean `gpt-small`?)",
    );
    let e = SystemSpec::Flexmoe { interval: 0, skew_threshold: None, max_moves: None }
        .validate()
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("params.interval"), "{e}");
}
