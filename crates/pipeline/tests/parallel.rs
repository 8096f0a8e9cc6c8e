//! Tensor and sequence parallelism, recomputation, the balanced split and per-GPU memory:
//! exact cases against the collective model and hand arithmetic, and invariants.

use cluster::{Algorithm, Cluster, CollectiveKind, GpuId};
use pipeline::config::{Recompute, Split};
use pipeline::iteration::{BuildOptions, Program, build};
use pipeline::stages::{Parallelism, balanced_partition, partition, stage_flops};
use pipeline::{PipelineWorkload, SystemSpec};
use taskgraph::{ExecConfig, OpKind, execute};

fn workload(json: serde_json::Value) -> PipelineWorkload {
    serde_json::from_value(json).unwrap()
}

fn healthy() -> SystemSpec {
    serde_json::from_value(serde_json::json!({ "system": "checkpoint-restart" })).unwrap()
}

fn options(job: &pipeline::policy::JobModel, boundary_bytes: f64) -> BuildOptions {
    BuildOptions {
        boundary_bytes,
        dtype: cluster::Dtype::Bf16,
        grad_bytes_per_param: 2.0,
        optimizer_bytes_per_param: 28.0,
        staggered: false,
        iterations: 2,
        tp: job.par.tp,
        ..BuildOptions::default()
    }
}

/// Every TP collective of a one-stage, one-pipeline job runs alone, so its time in the graph
/// is exactly the collective model's time for its group and size.
#[test]
fn tp_collective_time_equals_the_collective_model() {
    let cluster = Cluster::preset("dgx-a100", 1).unwrap();
    for (tp, sp) in [(2, false), (4, false), (8, false), (8, true)] {
        let w = workload(serde_json::json!({
            "model": "gpt3-1.3b", "stages": 1, "pipelines": 1, "micro_batches": 2, "tp": tp,
            "sp": sp
        }));
        let prepared = pipeline::run::prepare(&cluster, &w, &healthy()).unwrap();
        let job = prepared.job();
        let program = Program::healthy(&job.schedule, 1, &job.work);
        let it = build(&program, &options(job, 0.0)).unwrap();
        let run = execute(&it.graph, &cluster, &ExecConfig::default()).unwrap();
        let group: Vec<GpuId> = (0..tp).map(GpuId).collect();
        // 2 s b h bytes: 16-bit activations of one sequence of 2,048 tokens, h = 2,048.
        let bytes = 2.0 * 2048.0 * 2048.0;
        let mut net = cluster.network();
        let ops = it.tp_collectives.last().unwrap();
        assert!(!ops.is_empty());
        for &op in ops {
            let OpKind::Collective { kind, bytes: b, group: g, .. } = *it.graph.kind(op) else {
                panic!("not a collective");
            };
            assert_eq!(b, bytes);
            assert_eq!(it.graph.group(g), group.as_slice());
            let model = net.collective(kind, Algorithm::Auto, &group, bytes).unwrap().1.time;
            assert_eq!(run.duration(op), model, "tp {tp} sp {sp} {kind}");
        }
    }
}

/// Kinds of TP collectives per iteration of a job.
fn tp_counts(json: serde_json::Value, nodes: u32) -> (u32, u32, u32, pipeline::policy::JobModel) {
    let cluster = Cluster::preset("dgx-h100", nodes).unwrap();
    let prepared = pipeline::run::prepare(&cluster, &workload(json), &healthy()).unwrap();
    let job = prepared.job().clone();
    let program = Program::healthy(&job.schedule, job.shape.pipelines, &job.work);
    let it = build(&program, &options(&job, 1e6)).unwrap();
    let (mut ar, mut ag, mut rs) = (0, 0, 0);
    for &op in it.tp_collectives.last().unwrap() {
        match *it.graph.kind(op) {
            OpKind::Collective { kind: CollectiveKind::AllReduce, .. } => ar += 1,
            OpKind::Collective { kind: CollectiveKind::AllGather, .. } => ag += 1,
            OpKind::Collective { kind: CollectiveKind::ReduceScatter, .. } => rs += 1,
            _ => panic!("not a TP collective"),
        }
    }
    (ar, ag, rs, job)
}

#[test]
fn tp_collective_counts_are_exact() {
    // gpt3-1.3b: 24 layers over 4 stages (6 each), 8 micro-batches, 2 pipelines, tp 2.
    let base = serde_json::json!({
        "model": "gpt3-1.3b", "stages": 4, "pipelines": 2, "micro_batches": 8, "tp": 2
    });
    let with = |k: &str, v: serde_json::Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    // Per stage: 4 all-reduces per layer and micro-batch (2 in F, 2 in B): 4 x 6 x 8 = 192;
    // 4 stages x 2 pipelines.
    let (ar, ag, rs, _) = tp_counts(base.clone(), 2);
    assert_eq!((ar, ag, rs), (4 * 6 * 8 * 4 * 2, 0, 0));
    // Sequence parallelism: 4 all-gathers + 4 reduce-scatters per layer and micro-batch.
    let (ar, ag, rs, _) = tp_counts(with("sp", true.into()), 2);
    assert_eq!((ar, ag, rs), (0, 4 * 6 * 8 * 8, 4 * 6 * 8 * 8));
    // Full recomputation reruns F's 2 all-reduces in B: 6 per layer and micro-batch.
    let (ar, _, _, _) = tp_counts(with("recompute", "full".into()), 2);
    assert_eq!(ar, 6 * 6 * 8 * 8);
    // Selective recomputation adds no communication.
    let (ar, _, _, _) = tp_counts(with("recompute", "selective".into()), 2);
    assert_eq!(ar, 4 * 6 * 8 * 8);
    // tp 1: no TP collective at all.
    let (ar, ag, rs, _) = tp_counts(with("tp", 1.into()), 1);
    assert_eq!((ar, ag, rs), (0, 0, 0));
}

#[test]
fn memory_matches_hand_values_for_gpt3_175b() {
    // GPT-3 175B (h = 12,288, s = 2,048, V = 50,257, 96 layers), tp 8, pp 16, dp 1 on 16 DGX
    // A100, sequence parallelism and selective recomputation, 1F1B, b = 1, m = 16.
    // Stage 0: 6 layers + the embedding.
    //   layer params 12h^2 + 13h = 1,811,939,328 + 159,744 = 1,812,099,072; x 6 = 10,872,594,432
    //   embedding (V + s) h = 52,305 x 12,288 = 642,723,840; total 11,515,318,272 / 8 GPUs
    //   = 1,439,414,784 parameters per GPU; x 16 B = 23,030,636,544 B of state.
    //   activations per layer (Korthikanti Table 2, TP + SP + selective) sbh x 34 / t
    //   = 2,048 x 12,288 x 34 / 8 = 106,954,752 B; 1F1B's stage 0 holds p = 16 micro-batches
    //   of 6 layers: 16 x 6 x 106,954,752 = 10,267,656,192 B.
    //   Total 33,298,292,736 B (31.0 GiB).
    let cluster = Cluster::preset("dgx-a100", 16).unwrap();
    let w = workload(serde_json::json!({
        "model": "gpt3-175b", "stages": 16, "pipelines": 1, "micro_batches": 16, "tp": 8,
        "sp": true, "recompute": "selective"
    }));
    let prepared = pipeline::run::prepare(&cluster, &w, &healthy()).unwrap();
    let mem = prepared.job().stage_memory(16, 16).unwrap();
    assert_eq!(mem[0].0, 23_030_636_544.0);
    assert_eq!(mem[0].1, 10_267_656_192.0);
    assert_eq!(prepared.job().peak_gpu_bytes(16, 16), 33_298_292_736.0);
    // 18 bytes per parameter (fp32 gradients) adds 2 x 1,439,414,784 B.
    let mut w18 = w.clone();
    w18.state_bytes_per_param = 18.0;
    let p18 = pipeline::run::prepare(&cluster, &w18, &healthy()).unwrap();
    assert_eq!(p18.job().stage_memory(16, 16).unwrap()[0].0, 25_909_466_112.0);
    // Full recomputation keeps M_B = 2sbh per layer. 1F1B's backward is fused (each layer's W
    // right after its B), so M_W = 32sbh / 8 is never held for the whole stage: the peak is
    // the 16 micro-batches in flight before the first B, 16 x 6 x 2sbh = 192 sbh
    // = 192 x 2,048 x 12,288 = 4,831,838,208 B.
    let mut full = w.clone();
    full.recompute = Recompute::Full;
    let pf = pipeline::run::prepare(&cluster, &full, &healthy()).unwrap();
    assert_eq!(pf.job().stage_memory(16, 16).unwrap()[0].1, 4_831_838_208.0);
    assert_eq!(192.0 * 2048.0 * 12288.0, 4_831_838_208.0);
    // ZB-H1 defers W, so there M_W is held from B until W: stage 0 (W cap 0) still runs
    // each W right after its B, but the walk adds 6 x (4sbh - 2sbh) at the 16th B:
    // 15 x 6 x 2sbh + 6 x 4sbh = 204 sbh.
    let mut zb = full.clone();
    zb.schedule = pipeline::ScheduleKind::ZbH1;
    let pz = pipeline::run::prepare(&cluster, &zb, &healthy()).unwrap();
    assert_eq!(pz.job().stage_memory(16, 16).unwrap()[0].1, 204.0 * 2048.0 * 12288.0);
}

#[test]
fn counted_flops_are_narayanans_formula_with_full_recomputation() {
    let cluster = Cluster::preset("dgx-a100", 16).unwrap();
    let w = workload(serde_json::json!({
        "model": "gpt3-175b", "stages": 16, "pipelines": 1, "micro_batches": 16, "tp": 8,
        "recompute": "full"
    }));
    let prepared = pipeline::run::prepare(&cluster, &w, &healthy()).unwrap();
    let (model, counted) = prepared.job().iteration_flops();
    let (bsz, s, l, h, v) = (16.0, 2048.0, 96.0, 12288.0, 50257.0);
    let nar = 96.0 * bsz * s * l * h * h * (1.0 + s / (6.0 * h) + v / (16.0 * l * h));
    assert!((counted - nar).abs() < 1e-12 * nar, "{counted} vs {nar}");
    // Model FLOPs: three passes, 72 B s l h^2 (1 + s/(6h) + V/(12lh)).
    let mfu_flops = 72.0 * bsz * s * l * h * h * (1.0 + s / (6.0 * h) + v / (12.0 * l * h));
    assert!((model - mfu_flops).abs() < 1e-12 * mfu_flops);
}

#[test]
fn bad_parallel_settings_name_the_field_and_what_fits() {
    let cluster = Cluster::preset("dgx-h100", 2).unwrap();
    let err = |json: serde_json::Value| {
        pipeline::run::prepare(&cluster, &workload(json), &healthy()).err().unwrap().to_string()
    };
    let e = err(serde_json::json!({
        "model": "gpt3-1.3b", "stages": 4, "pipelines": 2, "micro_batches": 8, "tp": 4
    }));
    assert!(e.starts_with("workload.pipelines: tp 4 x 4 stages x 2 pipelines = 32 GPUs"), "{e}");
    assert!(e.contains("at most 1 pipelines fit"), "{e}");
    let e = err(serde_json::json!({
        "model": "gpt3-2.7b", "stages": 1, "pipelines": 1, "micro_batches": 8, "tp": 16
    }));
    assert!(e.starts_with("workload.tp: a TP group of 16 GPUs would span nodes"), "{e}");
    assert!(e.contains("tp_across_nodes"), "{e}");
    let e = err(serde_json::json!({
        "model": "gpt3-2.7b", "stages": 1, "pipelines": 1, "micro_batches": 8, "tp": 3
    }));
    assert!(e.starts_with("workload.tp: tp = 3 must divide the model's 32 attention heads"), "{e}");
    let e = err(serde_json::json!({
        "model": "gpt3-1.3b", "stages": 1, "pipelines": 1, "micro_batches": 8, "tp": 2,
        "failures": { "concurrent": 1 }
    }));
    assert!(e.starts_with("workload.failures"), "{e}");
    // A TP group across nodes when asked for.
    let ok = pipeline::run::prepare(
        &cluster,
        &workload(serde_json::json!({
            "model": "gpt3-2.7b", "stages": 1, "pipelines": 1, "micro_batches": 2, "tp": 16,
            "tp_across_nodes": true
        })),
        &healthy(),
    );
    assert!(ok.is_ok());
    // GPT-3 175B on 8 stages of one GPU each does not fit; the error says by how much and what
    // would.
    let big = Cluster::preset("dgx-a100", 8).unwrap();
    let e = pipeline::run::prepare(
        &big,
        &workload(serde_json::json!({
            "model": "gpt3-175b", "stages": 16, "pipelines": 1, "micro_batches": 16, "tp": 2
        })),
        &healthy(),
    )
    .err()
    .unwrap()
    .to_string();
    assert!(e.starts_with("workload.stages: gpt3-175b on 16 stages x tp 2 needs"), "{e}");
    assert!(e.contains("GiB too much"), "{e}");
}

#[test]
fn tp_runs_report_the_new_metrics() {
    let cluster = Cluster::preset("dgx-h100", 2).unwrap();
    let run = |extra: serde_json::Value| {
        let mut json = serde_json::json!({
            "model": "gpt3-2.7b", "stages": 2, "pipelines": 2, "micro_batches": 8, "duration": "1h"
        });
        for (k, v) in extra.as_object().unwrap() {
            json[k] = v.clone();
        }
        let p = pipeline::run::prepare(&cluster, &workload(json), &healthy()).unwrap();
        p.run(&cluster, 1, false).unwrap().metrics
    };
    let one = run(serde_json::json!({}));
    let four = run(serde_json::json!({ "tp": 4 }));
    // Four times the GPUs per stage: a shorter iteration, less memory per GPU, and less work
    // per GPU per second than without TP (communication and smaller kernels).
    assert!(four["iter_time_s"] < one["iter_time_s"]);
    assert!(four["peak_mem_bytes"] < one["peak_mem_bytes"]);
    assert!(four["tflops_per_gpu"] < one["tflops_per_gpu"]);
    for m in [&one, &four] {
        assert!(m["mfu"] > 0.0 && m["mfu"] < 1.0, "{}", m["mfu"]);
    }
    // Sequence parallelism moves the same bytes: the iteration takes about as long.
    let sp = run(serde_json::json!({ "tp": 4, "sp": true }));
    assert!((sp["iter_time_s"] / four["iter_time_s"] - 1.0).abs() < 0.1);
    assert!(sp["peak_mem_bytes"] < four["peak_mem_bytes"]);
    // Full recomputation: more time, less memory; counted FLOP/s above model FLOP/s.
    let full = run(serde_json::json!({ "tp": 4, "recompute": "full" }));
    assert!(full["iter_time_s"] > four["iter_time_s"]);
    assert!(full["peak_mem_bytes"] < four["peak_mem_bytes"]);
}

fn small_model(layers: u32, hidden: u32, vocab: u32) -> models::TransformerSpec {
    serde_json::from_value(serde_json::json!({
        "layers": layers, "hidden": hidden, "heads": 8, "vocab": vocab, "seq_len": 256
    }))
    .unwrap()
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

    /// The balanced split never has a slower bottleneck stage than the even split.
    #[test]
    fn balanced_split_is_never_worse_than_even(
        layers in 1u32..64, p in 1u32..16, hidden in 1u32..16, vocab in 1u32..200_000,
        tp in 0usize..3, rc in 0usize..3,
    ) {
        let p = p.min(layers);
        let m = small_model(layers, 64 * hidden, vocab);
        let par = Parallelism {
            tp: [1, 2, 4][tp],
            recompute: [Recompute::None, Recompute::Selective, Recompute::Full][rc],
            split: Split::Balanced,
            ..Parallelism::default()
        };
        let worst = |parts: &[u32]| {
            (0..p).map(|s| stage_flops(&m, 1, parts[s as usize], s, p, &par)).fold(0.0, f64::max)
        };
        let bal = balanced_partition(&m, 1, p, &par);
        proptest::prop_assert_eq!(bal.iter().sum::<u32>(), layers);
        proptest::prop_assert!(bal.iter().all(|&n| n >= 1));
        proptest::prop_assert!(worst(&bal) <= worst(&partition(&m, p)));
    }

    /// Every layer of every micro-batch is computed once (its forward twice with full
    /// recomputation): the kernels' FLOPs over the job, times t, are the model's per
    /// micro-batch work, and the TP collectives count 2 (or 4 with SP) per layer and pass.
    #[test]
    fn every_layer_of_every_micro_batch_is_computed_once(
        layers in 2u32..10, p in 1u32..4, m in 1u32..6, tp in 0usize..3, sp: bool,
        rc in 0usize..3, balanced: bool,
    ) {
        let p = p.min(layers);
        let t = [1u32, 2, 4][tp];
        let recompute = [Recompute::None, Recompute::Selective, Recompute::Full][rc];
        let cluster = Cluster::preset("dgx-h100", 2).unwrap();
        let w = workload(serde_json::json!({
            "model": { "layers": layers, "hidden": 256, "heads": 8, "vocab": 1000, "seq_len": 128 },
            "stages": p, "pipelines": 1, "micro_batches": m, "tp": t, "sp": sp,
            "recompute": recompute, "split": if balanced { "balanced" } else { "even" }
        }));
        let prepared = pipeline::run::prepare(&cluster, &w, &healthy()).unwrap();
        let job = prepared.job();
        let it = build(&Program::healthy(&job.schedule, 1, &job.work), &options(job, 1e3)).unwrap();
        let mut flops = 0.0;
        for lane in it.kernels.last().unwrap() {
            for task in lane {
                for &op in task {
                    if let OpKind::Compute { flops: f, .. } = *it.graph.kind(op) {
                        flops += f;
                    }
                }
            }
        }
        let model = &job.model;
        let c = model.layer_passes(1);
        let l = f64::from(layers);
        let core = 4.0 * 128.0 * 128.0 * 256.0;
        let extra = match recompute {
            Recompute::None => 0.0,
            Recompute::Selective => core,
            Recompute::Full => c.f_flops,
        };
        let expected = f64::from(m)
            * (l * (c.f_flops + c.b_flops + c.w_flops + extra) + 3.0 * model.logits_flops(1));
        proptest::prop_assert!(
            (flops * f64::from(t) - expected).abs() < 1e-9 * expected,
            "{} vs {}", flops * f64::from(t), expected
        );
        let per_layer_pass = if sp { 4 } else { 2 };
        let passes = if recompute == Recompute::Full { 3 } else { 2 };
        let want = if t > 1 { m * layers * per_layer_pass * passes } else { 0 };
        proptest::prop_assert_eq!(it.tp_collectives.last().unwrap().len() as u32, want);
    }

    /// tp x stages x pipelines GPUs: accepted when they fit the cluster, else an error that
    /// says the product.
    #[test]
    fn tp_pp_dp_product_is_checked(tp in 0usize..4, p in 1u32..9, d in 1u32..6) {
        let t = [1u32, 2, 4, 8][tp];
        let cluster = Cluster::preset("dgx-h100", 2).unwrap();
        let w = workload(serde_json::json!({
            "model": "gpt3-1.3b", "stages": p, "pipelines": d, "micro_batches": 4, "tp": t
        }));
        let r = pipeline::run::prepare(&cluster, &w, &healthy());
        let product = t * p * d;
        if product <= 16 {
            proptest::prop_assert!(r.is_ok(), "{:?}", r.err());
        } else {
            let e = r.err().unwrap().to_string();
            let says = if t == 1 { format!("need {product} GPUs") } else { format!("= {product} GPUs") };
            proptest::prop_assert!(e.contains(&says), "{}", e);
            proptest::prop_assert!(e.contains("the cluster has 16"), "{}", e);
        }
    }
}
