//! End-to-end serving runs, the speed targets (aim: each under 5 s):
//!
//! - the whole 1-hour Azure 2023 conversation trace (19,366 requests, data/serving) replayed at
//!   its recorded rate on 4 replicas of Llama-3-8B (one A10G each, g5.12xlarge) behind the
//!   cache-aware router, with SGLang's radix cache and lpm;
//! - 100,000 generated shared-prefix requests (6,250 groups of 16, SGLang's benchmark shape),
//!   offline on one A10G, with the radix cache and lpm, and with vLLM's prefix blocks.
//!
//! Each iteration prepares nothing new: the workload is generated (or the trace read) inside
//! `run`, as in a sweep.

use std::time::Duration;

use cluster::Cluster;
use criterion::{Criterion, criterion_group, criterion_main};
use serving::simulator::prepare;
use serving::{ServingWorkload, SystemSpec};

fn workload(v: serde_json::Value) -> ServingWorkload {
    serde_json::from_value(v).expect("a valid serving workload")
}

fn system(v: serde_json::Value) -> SystemSpec {
    serde_json::from_value(v).expect("a valid serving system")
}

fn serving(c: &mut Criterion) {
    let mut group = c.benchmark_group("serving");
    group.sample_size(10).measurement_time(Duration::from_secs(20));

    let four = Cluster::preset("g5-12xlarge", 1).expect("preset");
    let trace = workload(serde_json::json!({
        "model": "llama-3-8b",
        "engine": { "context_len": 16384 },
        "replicas": 4,
        "router": "cache-aware",
        "arrivals": { "trace": 1 },
        "requests": { "type": "trace", "format": "splitwise",
                      "path": "data/serving/splitwise_conv.csv" },
    }));
    let radix = system(serde_json::json!({ "system": "radix", "schedule": "lpm" }));
    let prepared = prepare(&four, &trace, &radix).expect("the trace run prepares");
    group.bench_function("azure_conv_19366_requests_4_replicas", |b| {
        b.iter(|| prepared.run(1).expect("the trace run"))
    });

    let one = Cluster::preset("g5-xlarge", 1).expect("preset");
    let shared = workload(serde_json::json!({
        "model": "llama-2-7b",
        "requests": { "type": "shared-prefix", "groups": 6250, "prompts_per_group": 16 },
    }));
    for (name, spec) in [
        ("shared_prefix_100k_radix_lpm", serde_json::json!({ "system": "radix" })),
        ("shared_prefix_100k_prefix_blocks", serde_json::json!({ "system": "prefix-blocks" })),
    ] {
        let prepared = prepare(&one, &shared, &system(spec)).expect("the shared run prepares");
        group.bench_function(name, |b| b.iter(|| prepared.run(1).expect("the shared run")));
    }
    group.finish();
}

criterion_group!(benches, serving);
criterion_main!(benches);
