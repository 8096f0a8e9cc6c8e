//! Exact cases: stage rates, AUTOTUNE's buffer model, reordering and caching rules.

mod common;

use common::{op, pipeline};
use datapipe::mm1k::p_empty;
use datapipe::order::{cheapest_order, is_valid, valid_orders};
use datapipe::plan::PlanBuilder;
use datapipe::resources::{Handoff, Host, Resources};
use datapipe::sim::{SimOptions, run_epoch};
use datapipe::systems::{Ctx, cedar};
use simcore::RandomStreams;

fn opts(samples: u64) -> SimOptions {
    SimOptions { samples, service_cv: 0.0, series_points: 10 }
}

#[test]
fn a_two_stage_pipeline_runs_at_the_slower_stage_rate_times_its_parallelism() {
    // Stage A: 2 ms on 1 worker (500/s); stage B: 10 ms on 4 workers (400/s): 400/s.
    let p = pipeline(vec![op("a", 2.0, 0.0, 100.0), op("b", 10.0, 100.0, 100.0)]);
    let res = Resources::default();
    let mut b = PlanBuilder::new(&p, &res, p.given_order());
    let mid = b.buffer("mid", 8, 100.0);
    let out = b.buffer("out", 8, 100.0);
    b.compute("a", 0..1, Host::Local, 1, None, mid, Handoff::InProcess, false);
    b.compute("b", 1..2, Host::Local, 4, Some(mid), out, Handoff::InProcess, false);
    let plan = b.finish("test", out, 0.0);
    assert!((plan.bound_sps() - 400.0).abs() < 1e-9);
    let workers: Vec<u32> = plan.stages.iter().map(|s| s.workers).collect();
    let e = run_epoch(&plan, &res, &workers, &opts(4000), &RandomStreams::new(1));
    let rate = 4000.0 / e.time_s;
    // The start-up takes one pass through both stages: within 0.5%.
    assert!((rate - 400.0).abs() / 400.0 < 0.005, "rate {rate}");
    // The slower stage's workers never idle once started, the faster one's do.
    assert!(e.busy_s[1] / (4.0 * e.time_s) > 0.99);
}

#[test]
fn a_host_never_does_more_cpu_work_than_it_has() {
    // 12 one-op workers on 4 vCPUs: the plan slows them to 4 vCPUs' worth.
    let p = pipeline(vec![op("a", 10.0, 0.0, 10.0)]);
    let res = Resources { local_vcpus: 4, ..Resources::default() };
    let mut b = PlanBuilder::new(&p, &res, p.given_order());
    let out = b.buffer("out", 4, 10.0);
    b.compute("a", 0..1, Host::Local, 12, None, out, Handoff::InProcess, false);
    let plan = b.finish("test", out, 0.0);
    assert!((plan.bound_sps() - 400.0).abs() < 1e-6, "{}", plan.bound_sps());
    let e = run_epoch(&plan, &res, &[12], &opts(2000), &RandomStreams::new(1));
    assert!(e.cpu_s[0] <= 4.0 * e.time_s * (1.0 + 1e-9));
}

#[test]
fn the_empty_buffer_probability_matches_hand_values() {
    assert!((p_empty(1.0, 2.0, 1) - 2.0 / 3.0).abs() < 1e-12);
    assert!((p_empty(2.0, 1.0, 2) - 1.0 / 7.0).abs() < 1e-12);
    assert!((p_empty(3.0, 3.0, 4) - 0.2).abs() < 1e-12);
    // x/y = 0.5, K = 3: (1 - 0.5) / (1 - 0.0625) = 8/15.
    assert!((p_empty(0.5, 1.0, 3) - 8.0 / 15.0).abs() < 1e-12);
}

#[test]
fn reordering_moves_a_shrinking_operator_earlier_and_keeps_the_constraints() {
    // src (fixed) -> grow (x4) -> shrink (x0.25, cheap) -> tagged -> needs-tagged.
    let mut ops = vec![
        op("src", 0.1, 0.0, 1000.0),
        op("grow", 1.0, 1000.0, 4000.0),
        op("shrink", 0.1, 4000.0, 1000.0),
        op("tagged", 1.0, 1000.0, 1000.0),
        op("needs-tagged", 1.0, 1000.0, 1000.0),
    ];
    ops[0].fixed = true;
    ops[3].tag = Some("t".into());
    ops[4].depends_on = vec!["t".into()];
    let p = pipeline(ops);
    let (best, _) = cheapest_order(&p);
    assert!(is_valid(&p, &best));
    let pos = |i: usize| best.iter().position(|&x| x == i).unwrap();
    assert!(pos(2) < pos(1), "shrink moves before grow: {best:?}");
    assert!(pos(3) < pos(4), "the dependency holds: {best:?}");
    // Every order the enumeration gives is valid, and the cheapest is the minimum over them.
    let all = valid_orders(&p, 1000);
    assert!(all.iter().all(|o| is_valid(&p, o)));
    let min = all.iter().map(|o| p.total_cost(o)).fold(f64::INFINITY, f64::min);
    assert!((p.total_cost(&best) - min).abs() < 1e-15);
    // 4 movable operators with one precedence: 4!/2 = 12 orders.
    assert_eq!(all.len(), 12);
}

#[test]
fn a_cache_never_sits_after_a_random_operator() {
    let mut ops = vec![
        op("read", 1.0, 0.0, 1000.0),
        op("decode", 40.0, 1000.0, 4000.0),
        op("augment", 2.0, 4000.0, 4000.0),
        op("normalise", 1.0, 4000.0, 4000.0),
    ];
    ops[0].fixed = true;
    ops[2].random = true;
    ops[2].fixed = true;
    let p = pipeline(ops);
    let res = Resources::default();
    let ctx = Ctx { pipeline: &p, res: &res, remote: false, epochs: 3, samples: 1000 };
    let plan = cedar::plan(&ctx, &Default::default());
    let cached = plan.cached.as_ref().expect("decode is worth caching");
    // The cached plan reads decode's output (4000 B) and runs augment and normalise.
    assert_eq!(cached.cache_bytes_per_sample, 4000.0);
    let ops_run: Vec<usize> = cached.stages.iter().flat_map(|s| s.ops.clone()).collect();
    assert!(ops_run.contains(&2) && ops_run.contains(&3));
    assert!(!ops_run.contains(&0) && !ops_run.contains(&1));
    // One epoch: no cache.
    let one = Ctx { epochs: 1, ..ctx };
    assert!(cedar::plan(&one, &Default::default()).cached.is_none());
}

#[test]
fn a_real_plan_mirrors_into_a_simulated_one() {
    use datapipe::mirror::{StageSpec, plan_from_stages};
    let p = pipeline(vec![op("read", 1.0, 0.0, 100.0), op("work", 3.0, 100.0, 100.0)]);
    let res = Resources { local_vcpus: 2, ..Resources::default() };
    let names = vec!["read".to_string(), "work".to_string()];
    // Fused, 2 threads on 2 vCPUs: 2 / 4 ms = 500 samples/s.
    let fused =
        plan_from_stages(&p, &[StageSpec { ops: names.clone(), workers: 2 }], 8, 1, &res).unwrap();
    assert!((fused.bound_sps() - 500.0).abs() < 1e-9);
    // One stage per operator, 1 thread each: the 3 ms stage bounds it (333/s), and 2 vCPUs
    // are enough for the 4 ms of work per sample at that rate (1.33 vCPUs).
    let stages: Vec<StageSpec> =
        names.iter().map(|n| StageSpec { ops: vec![n.clone()], workers: 1 }).collect();
    let unfused = plan_from_stages(&p, &stages, 8, 1, &res).unwrap();
    assert!((unfused.bound_sps() - 1000.0 / 3.0).abs() < 1e-9);
    // Unknown operators and missing ones are errors.
    let bad = [StageSpec { ops: vec!["read".into(), "nope".into()], workers: 1 }];
    assert!(plan_from_stages(&p, &bad, 8, 1, &res).unwrap_err().to_string().contains("`nope`"));
    // Batching adds a batcher that copies each 100-byte sample once: 1 vCPU left over.
    let batched = plan_from_stages(&p, &stages, 8, 4, &res).unwrap();
    assert_eq!(batched.stages.len(), 3);
    assert!((batched.bound_sps() - 1000.0 / 3.0).abs() < 1e-6);
    let short = [StageSpec { ops: vec!["read".into()], workers: 1 }];
    assert!(plan_from_stages(&p, &short, 8, 1, &res).unwrap_err().to_string().contains("1 of"));
}
