//! One training step as `mlsim step` times it: prepare + run (the healthy iteration graph built
//! and executed, the per-stage bubbles and breakdown, a one-hour horizon without failures) of
//! Megatron 18B (SC'21's shape) on 8 DGX A100 nodes, tp 8 x pp 4 x dp 2, 16 micro-batches of 1
//! sequence, 1F1B (figures in docs/performance.md).

use cluster::Cluster;
use criterion::{Criterion, criterion_group, criterion_main};
use pipeline::{PipelineWorkload, SystemSpec};

fn step(c: &mut Criterion) {
    let cluster = Cluster::preset("dgx-a100", 8).unwrap();
    let w: PipelineWorkload = serde_json::from_value(serde_json::json!({
        "model": "megatron-18b", "stages": 4, "pipelines": 2, "tp": 8, "micro_batches": 16,
        "micro_batch_size": 1, "schedule": "1f1b", "duration": "1h"
    }))
    .unwrap();
    let mut group = c.benchmark_group("pipeline");
    group.sample_size(20);
    group.bench_function("step_megatron_18b_tp8_pp4_dp2_64_gpus", |b| {
        b.iter(|| {
            let prepared =
                pipeline::run::prepare(&cluster, &w, &SystemSpec::CheckpointRestart).unwrap();
            prepared.run(&cluster, 1, false).unwrap().metrics["iter_time_s"]
        })
    });
    group.finish();
}

criterion_group!(benches, step);
criterion_main!(benches);
