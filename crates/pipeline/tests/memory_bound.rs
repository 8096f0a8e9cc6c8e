//! The layers' memory-bound kernels (LayerNorm, bias+GeLU, bias+dropout+add, softmax and
//! dropout of the attention scores, their backward passes): hand values of a stage's bytes,
//! the op's time against the cluster's per-kernel model, division under tensor parallelism,
//! and that adding them never makes a step faster.

use cluster::Cluster;
use models::{MemoryBound, TransformerSpec};
use pipeline::config::Recompute;
use pipeline::iteration::{BuildOptions, Program, build, memory_kernel_bytes};
use pipeline::stages::{Parallelism, stage_work_with};
use pipeline::{PipelineWorkload, SystemSpec};
use taskgraph::{ExecConfig, OpKind, execute};

fn tiny() -> TransformerSpec {
    serde_json::from_value(serde_json::json!({
        "layers": 2, "hidden": 8, "heads": 2, "seq_len": 4
    }))
    .unwrap()
}

fn healthy() -> SystemSpec {
    serde_json::from_value(serde_json::json!({ "system": "checkpoint-restart" })).unwrap()
}

/// One layer of the tiny model (s = 4, b = 1, h = 8, a = 2): F moves 1,632 bytes in 8
/// kernels, B 3,232 in 17, the attention core 416 in 3 (hand sums in `models`); a stage of 2
/// layers carries twice that, plus what recomputation reruns in B.
#[test]
fn a_stage_carries_its_layers_memory_bound_bytes() {
    let m = tiny();
    let par = |recompute| Parallelism { recompute, ..Parallelism::default() };
    let w = stage_work_with(&m, 1, 2, false, false, &par(Recompute::None));
    assert_eq!(w.f_mem, MemoryBound { bytes: 3264.0, kernels: 16 });
    assert_eq!(w.b_mem, MemoryBound { bytes: 6464.0, kernels: 34 });
    let sel = stage_work_with(&m, 1, 2, false, false, &par(Recompute::Selective));
    assert_eq!(sel.b_mem, MemoryBound { bytes: 2.0 * (3232.0 + 416.0), kernels: 40 });
    let full = stage_work_with(&m, 1, 2, false, false, &par(Recompute::Full));
    assert_eq!(full.b_mem, MemoryBound { bytes: 2.0 * (3232.0 + 1632.0), kernels: 50 });
    assert_eq!(full.f_mem, w.f_mem);
    // Off: matrix multiplications only, the FLOPs unchanged.
    let off = stage_work_with(
        &m,
        1,
        2,
        false,
        false,
        &Parallelism { memory_bound: false, ..par(Recompute::Full) },
    );
    assert_eq!((off.f_mem, off.b_mem), (MemoryBound::default(), MemoryBound::default()));
    assert_eq!((off.f_flops, off.b_flops), (full.f_flops, full.b_flops));
}

/// Per GPU, tensor parallelism divides what it splits: everything with sequence parallelism;
/// without it the LayerNorms and bias+dropout+add (`22sbh` bytes in F, `46sbh` in B per layer)
/// stay whole on every rank. Kernel counts do not change.
#[test]
fn tensor_parallelism_divides_the_per_gpu_bytes() {
    let m = models::preset("gpt3-1.3b").unwrap();
    let (b, layers) = (2u32, 3u32);
    let n = 2048.0 * f64::from(b) * 2048.0 * f64::from(layers);
    let one = stage_work_with(&m, b, layers, false, false, &Parallelism::default());
    let close = |x: f64, y: f64| assert!((x - y).abs() <= 1e-9 * y, "{x} vs {y}");
    for t in [2u32, 4, 8] {
        let tf = f64::from(t);
        let sp = Parallelism { tp: t, sp: true, ..Parallelism::default() };
        let w = stage_work_with(&m, b, layers, false, false, &sp);
        close(w.f_mem.bytes, one.f_mem.bytes / tf);
        close(w.b_mem.bytes, one.b_mem.bytes / tf);
        let tp = Parallelism { tp: t, ..Parallelism::default() };
        let w = stage_work_with(&m, b, layers, false, false, &tp);
        close(w.f_mem.bytes, 22.0 * n + (one.f_mem.bytes - 22.0 * n) / tf);
        close(w.b_mem.bytes, 46.0 * n + (one.b_mem.bytes - 46.0 * n) / tf);
        assert_eq!((w.f_mem.kernels, w.b_mem.kernels), (one.f_mem.kernels, one.b_mem.kernels));
    }
}

/// A pass's memory-bound kernels run as one op whose time is that of its kernels one after
/// another on the cluster's memory-bound model: `kernels x max(L, m_fix) + bytes / (m_max x
/// HBM bandwidth)` (to the nanosecond per kernel).
#[test]
fn the_memory_bound_op_takes_its_kernels_time() {
    let cluster = Cluster::preset("dgx-a100", 1).unwrap();
    let w: PipelineWorkload = serde_json::from_value(serde_json::json!({
        "model": "gpt3-1.3b", "stages": 2, "pipelines": 1, "micro_batches": 2, "tp": 4,
        "recompute": "selective"
    }))
    .unwrap();
    let prepared = pipeline::run::prepare(&cluster, &w, &healthy()).unwrap();
    let job = prepared.job();
    let program = Program::healthy(&job.schedule, 1, &job.work);
    let opts = BuildOptions {
        tp: job.par.tp,
        memory_kernel_bytes: memory_kernel_bytes(cluster.compute()),
        ..BuildOptions::default()
    };
    let it = build(&program, &opts).unwrap();
    let run = execute(&it.graph, &cluster, &ExecConfig::default()).unwrap();
    let gpu = cluster.gpu();
    let fixed = cluster.compute().launch_overhead().max(gpu.memory_access.fixed_time);
    let rate = gpu.memory_access.max_efficiency * gpu.memory_bandwidth.0;
    let mut seen = 0;
    for op in it.graph.ops() {
        let mem = match it.graph.name(op) {
            "F memory-bound" => job.work[0].f_mem,
            "B memory-bound" => job.work[0].b_mem,
            _ => continue,
        };
        let OpKind::Compute { flops, .. } = *it.graph.kind(op) else { panic!("not a kernel") };
        assert_eq!(flops, 0.0);
        let want = f64::from(mem.kernels) * fixed.as_secs_f64() + mem.bytes / rate;
        let got = run.duration(op).as_secs_f64();
        assert!((got - want).abs() <= 1e-9 * f64::from(mem.kernels + 1), "{got} vs {want}");
        seen += 1;
    }
    // F and B of 2 micro-batches on 2 stages (same layers each), 2 iterations.
    assert_eq!(seen, 16);
}

/// Adding the memory-bound kernels never makes a step faster, whatever the schedule,
/// parallelism and recomputation.
#[test]
fn memory_bound_kernels_never_make_a_step_faster() {
    let cluster = Cluster::preset("dgx-a100", 2).unwrap();
    let cases = [
        serde_json::json!({"schedule": "1f1b"}),
        serde_json::json!({"schedule": "gpipe"}),
        serde_json::json!({"schedule": "zb-h1", "split": "balanced"}),
        serde_json::json!({"schedule": "zb-h2", "optimizer_step": "staggered"}),
        serde_json::json!({"tp": 2, "recompute": "selective"}),
        serde_json::json!({"tp": 4, "sp": true, "recompute": "full"}),
        serde_json::json!({"tp": 2, "interleave": 2, "dp_reduce": "distributed-optimizer"}),
    ];
    for case in cases {
        let time = |on: bool| {
            let mut json = serde_json::json!({
                "model": "gpt3-1.3b", "stages": 4, "micro_batches": 8, "micro_batch_size": 2,
                "duration": "1h", "memory_bound_ops": on,
            });
            for (k, v) in case.as_object().unwrap() {
                json[k] = v.clone();
            }
            let w: PipelineWorkload = serde_json::from_value(json).unwrap();
            let prepared = pipeline::run::prepare(&cluster, &w, &healthy()).unwrap();
            prepared.run(&cluster, 1, false).unwrap().metrics["iter_time_s"]
        };
        let (off, on) = (time(false), time(true));
        assert!(on > off, "{case}: {on} s with the memory-bound kernels, {off} s without");
    }
}
