//! MoE simulation speed: the headline setup (16 single-A100 nodes, GPT-Small, 16 classes x 4
//! slots) for 2,000 iterations per system; on 1,024 GPUs, 100 DeepSpeed iterations and 10
//! SwiftMoE iterations (about 1 s each; figures in docs/performance.md).

use cluster::Cluster;
use criterion::{Criterion, criterion_group, criterion_main};
use moe::{MoeWorkload, SystemSpec};

fn workload(extra: serde_json::Value) -> MoeWorkload {
    let mut base = serde_json::json!({
        "model": "gpt-small", "moe_every": 1, "experts": 16, "slots_per_gpu": 4, "seq_len": 512,
        "global_batch": 64, "capacity_factor": 1.0,
        "convergence": { "target_iterations": 1.0e9 }
    });
    if let (Some(b), Some(e)) = (base.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    serde_json::from_value(base).unwrap()
}

fn headline(c: &mut Criterion) {
    let cluster = Cluster::preset("cloud-a100-100g", 16).unwrap();
    let w = workload(serde_json::json!({ "max_iterations": 2000 }));
    let mut group = c.benchmark_group("moe");
    group.sample_size(10);
    group.bench_function("headline_3_systems_2000_iterations", |b| {
        b.iter(|| {
            let mut t = 0.0;
            for s in [
                SystemSpec::Deepspeed,
                SystemSpec::Flexmoe { interval: 50, skew_threshold: None, max_moves: None },
                SystemSpec::Swiftmoe,
            ] {
                let r =
                    moe::run::prepare(&cluster, &w, &s).unwrap().run(&cluster, 1, false).unwrap();
                t += r.metrics["time_to_target_s"];
            }
            t
        })
    });
    let big = Cluster::preset("dgx-h100", 128).unwrap();
    let wb = workload(serde_json::json!({
        "model": "gpt-xl", "moe_every": 2, "experts": 64, "slots_per_gpu": 2,
        "global_batch": 2048, "seq_len": 2048, "max_iterations": 10
    }));
    let wb100 = workload(serde_json::json!({
        "model": "gpt-xl", "moe_every": 2, "experts": 64, "slots_per_gpu": 2,
        "global_batch": 2048, "seq_len": 2048, "max_iterations": 100
    }));
    group.bench_function("deepspeed_1024_gpus_100_iterations", |b| {
        b.iter(|| {
            moe::run::prepare(&big, &wb100, &SystemSpec::Deepspeed)
                .unwrap()
                .run(&big, 1, false)
                .unwrap()
                .metrics["iter_time_s"]
        })
    });
    group.bench_function("swiftmoe_1024_gpus_10_iterations", |b| {
        b.iter(|| {
            moe::run::prepare(&big, &wb, &SystemSpec::Swiftmoe)
                .unwrap()
                .run(&big, 1, false)
                .unwrap()
                .metrics["iter_time_s"]
        })
    });
    group.finish();
}

criterion_group!(benches, headline);
criterion_main!(benches);
