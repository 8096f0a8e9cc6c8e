//! Invariants over random pipelines and every system: each sample passes each operator
//! exactly once per epoch, buffers never exceed their bounds, no host does more CPU work than
//! it has vCPUs, and reordering never breaks a constraint.

mod common;

use common::op;
use datapipe::config::{DatapipeSystem, DatapipeWorkload, Mode};
use datapipe::order::is_valid;
use datapipe::pipeline::Pipeline;
use datapipe::plan::stage_flows;
use datapipe::resources::{Host, Resources};
use datapipe::run::plan_for;
use datapipe::sim::{SimOptions, run_epoch};
use datapipe::systems::Ctx;
use proptest::prelude::*;
use simcore::RandomStreams;

fn systems() -> Vec<DatapipeSystem> {
    let mut all = DatapipeSystem::all_defaults();
    all.push(DatapipeSystem::Cedar(datapipe::systems::cedar::Params {
        fusion: false,
        ..Default::default()
    }));
    all
}

/// A random pipeline: (latency ms, size ratio, random, fixed, gil) per operator after the
/// source; the third operator (if any) is tagged and the last depends on it.
fn arb_pipeline() -> impl Strategy<Value = Pipeline> {
    prop::collection::vec(
        (0.05f64..5.0, 0.2f64..4.0, any::<bool>(), any::<bool>(), any::<bool>()),
        1..7,
    )
    .prop_map(|spec| {
        let mut ops = vec![op("src", 0.2, 0.0, 1000.0)];
        let mut bytes = 1000.0;
        for (i, (ms, ratio, random, fixed, gil)) in spec.iter().enumerate() {
            let mut o = op(&format!("op{i}"), *ms, bytes, bytes * ratio);
            bytes *= ratio;
            o.random = *random && i % 3 == 0;
            o.fixed = *fixed && i % 2 == 0;
            o.gil = *gil;
            ops.push(o);
        }
        let n = ops.len();
        if n >= 4 {
            ops[2].tag = Some("t".into());
            ops[n - 1].depends_on = vec!["t".into()];
        }
        Pipeline::new("random".into(), ops, None, "test").unwrap()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn every_plan_keeps_the_invariants(p in arb_pipeline(), remote in any::<bool>(), vcpus in 1u32..9) {
        let res = Resources { local_vcpus: vcpus, remote_vcpus: 6, ..Resources::default() };
        let samples = 300u64;
        let ctx = Ctx { pipeline: &p, res: &res, remote, epochs: 2, samples };
        for system in systems() {
            let plan = plan_for(&ctx, &system).unwrap();
            prop_assert!(is_valid(&p, &plan.order), "{}: invalid order {:?}", plan.system, plan.order);
            let opts = SimOptions { samples, service_cv: 0.3, series_points: 5 };
            for epoch_plan in std::iter::once(&plan).chain(plan.cached.as_deref()) {
                let workers: Vec<u32> = epoch_plan.stages.iter().map(|s| s.workers).collect();
                let e = run_epoch(epoch_plan, &res, &workers, &opts, &RandomStreams::new(3));
                // Every operator the plan runs sees every sample exactly once.
                for (i, _) in p.ops.iter().enumerate() {
                    let through: u64 = epoch_plan
                        .stages
                        .iter()
                        .zip(&e.processed)
                        .filter(|(s, _)| s.ops.contains(&i))
                        .map(|(_, n)| *n)
                        .sum();
                    let runs_it = epoch_plan.stages.iter().any(|s| s.ops.contains(&i));
                    prop_assert_eq!(through, if runs_it { samples } else { 0 }, "{}: op {}", plan.system, i);
                }
                // A plan without a cache runs every operator.
                if epoch_plan.stages.iter().all(|s| s.input.is_some() || !s.ops.is_empty()) {
                    let ran: std::collections::BTreeSet<usize> =
                        epoch_plan.stages.iter().flat_map(|s| s.ops.iter().copied()).collect();
                    prop_assert_eq!(ran.len(), p.ops.len(), "{}", plan.system);
                }
                for (b, peak) in epoch_plan.buffers.iter().zip(&e.buffer_peak_items) {
                    prop_assert!(*peak <= b.capacity, "{}: buffer {} held {} > {}", plan.system, b.name, peak, b.capacity);
                }
                // The plan never asks a host for more CPU than it has at its steady flow; the
                // simulated run stays within that but for the start, when every stage is busy
                // before the bottleneck sets the pace (5% here).
                let flows = stage_flows(epoch_plan);
                for (h, v) in [(Host::Local, res.local_vcpus), (Host::Remote, res.remote_vcpus)] {
                    let demand: f64 = epoch_plan
                        .stages
                        .iter()
                        .zip(&flows)
                        .filter(|(s, _)| s.host() == Some(h))
                        .map(|(s, f)| s.cpu_s * f)
                        .sum();
                    prop_assert!(demand <= v as f64 * (1.0 + 1e-6), "{}: {:?} demand {} > {}", plan.system, h, demand, v);
                    prop_assert!(
                        e.cpu_s[h as usize] <= v as f64 * e.time_s * 1.05 + 1e-9,
                        "{}: {:?} used {} CPU s in {} s on {} vCPUs", plan.system, h, e.cpu_s[h as usize], e.time_s, v
                    );
                }
            }
        }
    }
}

#[test]
fn the_same_seed_gives_identical_results() {
    let w = DatapipeWorkload {
        pipeline: serde_json::json!("cv-torch"),
        mode: Mode::Remote,
        samples: 500,
        epochs: 1,
        service_cv: 0.5,
        series_points: 10,
        resources: Resources::default(),
    };
    let p = datapipe::run::prepare(&w, &DatapipeSystem::Cedar(Default::default())).unwrap();
    let a = serde_json::to_string(&p.run(7).unwrap().metrics).unwrap();
    let b = serde_json::to_string(&p.run(7).unwrap().metrics).unwrap();
    assert_eq!(a, b);
}
