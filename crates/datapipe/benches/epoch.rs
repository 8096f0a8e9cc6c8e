//! One simulated epoch of 1,000,000 samples through an 8-operator pipeline, one stage per
//! operator, 40 workers in all (5 per stage), with variable service times (issue target: under
//! 5 s): `cargo bench -p datapipe --bench epoch`.

use criterion::{Criterion, criterion_group, criterion_main};
use datapipe::operator::Operator;
use datapipe::pipeline::Pipeline;
use datapipe::plan::PlanBuilder;
use datapipe::resources::{Handoff, Host, Resources};
use datapipe::sim::{SimOptions, run_epoch};
use simcore::RandomStreams;

fn bench(c: &mut Criterion) {
    let ops: Vec<Operator> = (0..8)
        .map(|i| Operator {
            name: format!("op{i}"),
            latency_s: 1e-3 * (1.0 + i as f64 * 0.3),
            in_bytes: if i == 0 { 0.0 } else { 1000.0 },
            out_bytes: 1000.0,
            random: false,
            fixed: false,
            tag: None,
            depends_on: Vec::new(),
            gil: false,
        })
        .collect();
    let p = Pipeline::new("bench".into(), ops, None, "bench").unwrap();
    let res = Resources { local_vcpus: 40, ..Resources::default() };
    let mut b = PlanBuilder::new(&p, &res, p.given_order());
    let mut input = None;
    for k in 0..8 {
        let out = b.buffer(&format!("b{k}"), 16, 1000.0);
        b.compute(
            &format!("s{k}"),
            k..k + 1,
            Host::Local,
            5,
            input,
            out,
            Handoff::InProcess,
            false,
        );
        input = Some(out);
    }
    let plan = b.finish("bench", input.unwrap(), 0.0);
    let workers: Vec<u32> = plan.stages.iter().map(|s| s.workers).collect();
    let opts = SimOptions { samples: 1_000_000, service_cv: 0.3, series_points: 100 };
    let mut g = c.benchmark_group("datapipe");
    g.sample_size(10);
    g.bench_function("epoch_1m_samples_8_ops_40_workers", |bch| {
        bch.iter(|| run_epoch(&plan, &res, &workers, &opts, &RandomStreams::new(1)).time_s)
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
