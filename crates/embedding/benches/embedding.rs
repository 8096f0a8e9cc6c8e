//! Embedding simulator speed (the goals: each under 10 s): planning 500 production-like
//! tables on 128 GPUs (16 DGX H100), and simulating 1,000 training steps of a plan.

use cluster::Cluster;
use criterion::{Criterion, criterion_group, criterion_main};
use embedding::{EmbeddingWorkload, SystemSpec};

fn workload(steps: u32) -> EmbeddingWorkload {
    let mut tables = embedding::tables::SyntheticSpec::production_mix();
    tables.count = 500;
    serde_json::from_value(serde_json::json!({
        "tables": { "synthetic": tables }, "batch": 65536, "memory": { "hbm": "4GiB" }, "steps": steps
    }))
    .unwrap()
}

fn system(name: &str) -> SystemSpec {
    serde_json::from_value(serde_json::json!({ "system": name })).unwrap()
}

fn planning(c: &mut Criterion) {
    let cluster = Cluster::preset("dgx-h100", 16).unwrap();
    let w = workload(1);
    let mut group = c.benchmark_group("embedding");
    group.sample_size(10);
    for name in ["torchrec", "table-wise", "recshard"] {
        let s = system(name);
        group.bench_function(format!("plan_{name}_500_tables_128_gpus"), |b| {
            b.iter(|| embedding::run::prepare(&cluster, &w, &s).unwrap().plan().placements.len())
        });
    }
    let w = workload(1000);
    let prepared = embedding::run::prepare(&cluster, &w, &system("table-wise")).unwrap();
    group.bench_function("simulate_1000_steps_128_gpus", |b| {
        b.iter(|| prepared.run(&cluster, 1, false).unwrap().metrics["step_time_s"])
    });
    group.finish();
}

criterion_group!(benches, planning);
criterion_main!(benches);
