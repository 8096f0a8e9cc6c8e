//! Pipeline simulation speed: 30 simulated days of GPT-3 6.7B training on 64 GPUs (8 DGX H100,
//! 8 stages x 8 pipelines) with a GPU failing every hour on average (repair 2 h), per policy;
//! the goal is under 5 s for such a run (figures in docs/performance.md).

use cluster::Cluster;
use criterion::{Criterion, criterion_group, criterion_main};
use pipeline::{PipelineWorkload, SystemSpec};

fn horizon(c: &mut Criterion) {
    let cluster = Cluster::preset("dgx-h100", 8).unwrap();
    let w: PipelineWorkload = serde_json::from_value(serde_json::json!({
        "model": "gpt3-6.7b", "stages": 8, "pipelines": 8, "micro_batches": 16,
        "duration": "30d", "failures": { "mtbf": "1h", "repair": "2h" }
    }))
    .unwrap();
    let mut group = c.benchmark_group("pipeline");
    group.sample_size(10);
    for name in ["checkpoint-restart", "bamboo", "oobleck", "slipstream"] {
        let s: SystemSpec = serde_json::from_value(serde_json::json!({ "system": name })).unwrap();
        let prepared = pipeline::run::prepare(&cluster, &w, &s).unwrap();
        group.bench_function(format!("{name}_30_days_mtbf_1h_64_gpus"), |b| {
            b.iter(|| prepared.run(&cluster, 1, false).unwrap().metrics["throughput_samples_s"])
        });
    }
    group.finish();
}

criterion_group!(benches, horizon);
criterion_main!(benches);
