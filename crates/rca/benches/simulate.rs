//! Simulator speed (issue goal: a 24-hour simulation of Train Ticket at 1-minute metrics in
//! under 5 s on a 2-core machine, release mode): the built-in Train Ticket system at its
//! default rates (4.8 user requests/s on average, about 55 service calls/s, with the default
//! daily sinusoid), 1,440 rows x 168 metrics, no faults and with a CPU hog.

use criterion::{Criterion, criterion_group, criterion_main};
use rca::fault::{FaultKind, FaultSpec, Faults};
use rca::sim::{SimConfig, simulate};
use rca::system::builtin::builtin;
use simcore::SimTime;

fn bench(c: &mut Criterion) {
    let sys = builtin("train-ticket").expect("built-in system");
    let config = SimConfig { seed: 1, ..SimConfig::default() };
    let none = Faults::none();
    let hog = Faults::new(
        &sys,
        &[FaultSpec {
            service: "ts-order-service".into(),
            start: SimTime::from_secs(12 * 3600),
            duration: SimTime::from_secs(1800),
            kind: FaultKind::CpuHog { cores: 1.5 },
        }],
    )
    .expect("valid fault");
    let t = simulate(&sys, &none, &config).expect("runs");
    eprintln!(
        "train-ticket 24 h: {} rows x {} metrics, {} events, {} user requests",
        t.data.samples(),
        t.data.variables(),
        t.summary.events,
        t.summary.requests.iter().map(|r| r.sent).sum::<u64>()
    );
    let mut g = c.benchmark_group("simulate");
    g.sample_size(10);
    g.bench_function("train-ticket-24h-1min", |b| b.iter(|| simulate(&sys, &none, &config)));
    g.bench_function("train-ticket-24h-1min-cpu-hog", |b| b.iter(|| simulate(&sys, &hog, &config)));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
