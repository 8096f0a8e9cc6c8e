//! The speed target: 1,000 agents (40 SmallVilles) for the busy hour (12-1 pm, 360
//! steps, about 200,000 calls) under the metropolis engine on 8 simulated L4 GPUs (one
//! Llama-3-8B replica each), in under 10 s. The world is generated once; each iteration runs
//! the engine and the LLM service from scratch. Beside it, the same world under the oracle,
//! and the world's generation alone.

use std::time::Duration;

use agents::run::prepare;
use agents::{AgentsWorkload, SystemSpec};
use cluster::Cluster;
use criterion::{Criterion, criterion_group, criterion_main};

fn agents(c: &mut Criterion) {
    let mut group = c.benchmark_group("agents");
    group.sample_size(10).measurement_time(Duration::from_secs(30));
    let cluster = Cluster::preset("g6-48xlarge", 1).expect("preset");
    let w: AgentsWorkload = serde_json::from_value(serde_json::json!({
        "world": { "type": "generated", "agents": 1000, "start_hour": 12, "hours": 1 },
        "llm": { "model": "llama-3-8b", "replicas": 8 },
    }))
    .expect("a valid agents workload");
    let metropolis = SystemSpec::Metropolis { workers: 0 };
    let prepared = prepare(&cluster, &w, &metropolis).expect("prepares");
    let world = prepared.world(1).expect("the world");
    group.bench_function("generate_1000_agents_busy_hour", |b| {
        b.iter(|| prepared.world(1).expect("the world"))
    });
    group.bench_function("metropolis_1000_agents_busy_hour_8_l4", |b| {
        b.iter(|| prepared.run_engine(&metropolis, &world, 1, false).expect("runs"))
    });
    group.bench_function("oracle_1000_agents_busy_hour_8_l4", |b| {
        b.iter(|| prepared.run_engine(&SystemSpec::Oracle, &world, 1, false).expect("runs"))
    });
    group.finish();
}

criterion_group!(benches, agents);
criterion_main!(benches);
