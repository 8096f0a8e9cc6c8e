//! Fused passes (one chain op per tensor-parallel pass) against the same passes as separate
//! ops: the same timing, breakdown and busy times, wherever the executor reports no conflict.

use cluster::Cluster;
use pipeline::iteration::{BuildOptions, Program, build, exec_config};
use pipeline::{PipelineWorkload, SystemSpec};
use taskgraph::{NetworkMode, OpKind, execute};

fn workload(json: serde_json::Value) -> PipelineWorkload {
    serde_json::from_value(json).unwrap()
}

fn healthy() -> SystemSpec {
    serde_json::from_value(serde_json::json!({ "system": "checkpoint-restart" })).unwrap()
}

/// Builds and runs `json`'s healthy program fused and unfused; checks both agree and returns
/// whether the fused run had no conflict (so that fusion was exercised).
fn check(preset: &str, nodes: u32, json: serde_json::Value, network: NetworkMode) -> bool {
    let cluster = Cluster::preset(preset, nodes).unwrap();
    let prepared = pipeline::run::prepare(&cluster, &workload(json.clone()), &healthy()).unwrap();
    let job = prepared.job();
    let program = Program::healthy(&job.schedule, job.shape.pipelines, &job.work);
    let staggered = job.staggered;
    let opts = BuildOptions {
        boundary_bytes: 2.0 * 2048.0 * 2048.0,
        tp: job.par.tp,
        staggered,
        iterations: 2,
        overlap_grad_reduce: json.get("overlap_grad_reduce").is_some(),
        dp_reduce: serde_json::from_value(
            json.get("dp_reduce").cloned().unwrap_or(serde_json::json!("all-reduce")),
        )
        .unwrap(),
        memory_kernel_bytes: pipeline::iteration::memory_kernel_bytes(cluster.compute()),
        ..BuildOptions::default()
    };
    let cfg = exec_config(network);
    let plain = build(&program, &opts).unwrap();
    let fused = build(&program, &BuildOptions { fuse_passes: true, ..opts }).unwrap();
    let chains =
        fused.graph.ops().filter(|&op| matches!(fused.graph.kind(op), OpKind::Chain { .. }));
    assert!(chains.count() > 0, "{json}");
    assert!(
        fused.graph.len() * 2 < plain.graph.len(),
        "{} vs {}",
        fused.graph.len(),
        plain.graph.len()
    );
    let a = execute(&plain.graph, &cluster, &cfg).unwrap();
    let b = execute(&fused.graph, &cluster, &cfg).unwrap();
    if b.chain_conflict().is_some() {
        return false;
    }
    assert_eq!(plain.timing(&a), fused.timing(&b), "{json}");
    assert_eq!(plain.busy_by_gpu(&a), fused.busy_by_gpu(&b), "{json}");
    for &gpu in &plain.lane_gpus {
        assert_eq!(plain.breakdown(&a, gpu), fused.breakdown(&b, gpu), "{json} gpu {}", gpu.0);
    }
    assert_eq!(a.makespan(), b.makespan());
    assert_eq!(a.gpu_busy(), b.gpu_busy());
    true
}

#[test]
fn fused_passes_time_like_separate_ops() {
    let cases = [
        (
            "dgx-a100",
            2,
            serde_json::json!({
                "model": "gpt3-1.3b", "stages": 2, "pipelines": 1, "micro_batches": 4, "tp": 8
            }),
        ),
        (
            "dgx-a100",
            4,
            serde_json::json!({
                "model": "gpt3-1.3b", "stages": 2, "pipelines": 2, "micro_batches": 4, "tp": 8,
                "sp": true, "recompute": "selective", "overlap_grad_reduce": true
            }),
        ),
        (
            "dgx-h100",
            4,
            serde_json::json!({
                "model": "gpt3-1.3b", "stages": 2, "pipelines": 2, "micro_batches": 4, "tp": 8,
                "interleave": 2, "dp_reduce": "distributed-optimizer", "overlap_grad_reduce": true
            }),
        ),
        (
            "dgx-h100",
            2,
            serde_json::json!({
                "model": "gpt3-1.3b", "stages": 4, "pipelines": 1, "micro_batches": 8, "tp": 4,
                "schedule": "zb-h1", "optimizer_step": "staggered", "recompute": "full"
            }),
        ),
    ];
    let mut fused_without_conflict = 0;
    for (preset, nodes, json) in cases.iter().cloned() {
        for network in [NetworkMode::Analytic, NetworkMode::ContentionFree] {
            fused_without_conflict += u32::from(check(preset, nodes, json.clone(), network));
        }
    }
    // TP groups of 8 fill a node: nothing else uses their NVLink ports or streams.
    assert!(fused_without_conflict >= 6, "{fused_without_conflict}");
}
