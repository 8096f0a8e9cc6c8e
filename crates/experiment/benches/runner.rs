//! Sweep-runner throughput: plan expansion and running of many small runs (analytic
//! all-reduce on one DGX A100), including saving every run and assembling the tables.

use std::sync::atomic::AtomicBool;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use experiment::runner::{self, RunOptions};
use experiment::{LoadedConfig, Plan};

fn config(points: usize) -> String {
    let sizes: Vec<String> = (0..points).map(|i| format!("{}KiB", 64 + i)).collect();
    format!(
        "name: bench\nkind: collective\ncluster: {{preset: dgx-a100}}\nworkload: {{op: all-reduce, bytes: 1MiB, skew: 1us}}\n\
         systems: [{{name: ring}}, {{name: tree}}]\nseeds: 5\nsweep:\n  grid:\n    workload.bytes: [{}]\n",
        sizes.join(", ")
    )
}

fn runner(c: &mut Criterion) {
    let mut group = c.benchmark_group("runner");
    group.sample_size(10);
    let text = config(100); // 100 points x 2 systems x 5 seeds = 1,000 runs
    group.throughput(Throughput::Elements(1_000));
    group.bench_function("plan/1000runs", |b| {
        b.iter(|| {
            Plan::build(LoadedConfig::from_text("bench.yaml", &text, &[], None).unwrap())
                .unwrap()
                .runs
                .len()
        })
    });
    let plan =
        Plan::build(LoadedConfig::from_text("bench.yaml", &text, &[], None).unwrap()).unwrap();
    let out = std::env::temp_dir().join(format!("mlsim-bench-runner-{}", std::process::id()));
    group.bench_function("run/1000runs", |b| {
        b.iter(|| {
            let _ = std::fs::remove_dir_all(&out);
            let opts = RunOptions { out: out.clone(), jobs: 1, shard: None, report: false };
            runner::run(&plan, &opts, &AtomicBool::new(false), &|_| {}).unwrap().ran
        })
    });
    group.bench_function("resume/1000runs", |b| {
        let opts = RunOptions { out: out.clone(), jobs: 1, shard: None, report: false };
        runner::run(&plan, &opts, &AtomicBool::new(false), &|_| {}).unwrap();
        b.iter(|| runner::run(&plan, &opts, &AtomicBool::new(false), &|_| {}).unwrap().skipped)
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&out);
}

criterion_group!(benches, runner);
criterion_main!(benches);
