//! The failure policies: every program they produce runs to the end (no ordering deadlock),
//! runs every pass of every micro-batch exactly once on a GPU that holds its stage's weights,
//! and the headline direction holds on a small job.

use cluster::{Cluster, Dtype};
use pipeline::iteration::{BuildOptions, build};
use pipeline::policy::Config;
use pipeline::schedule::Pass;
use pipeline::{PipelineWorkload, SystemSpec};
use proptest::prelude::*;
use taskgraph::{ExecConfig, execute};

fn workload(extra: serde_json::Value) -> PipelineWorkload {
    let mut base = serde_json::json!({ "model": "gpt3-1.3b", "stages": 4, "pipelines": 3, "micro_batches": 8 });
    if let (Some(b), Some(e)) = (base.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    serde_json::from_value(base).unwrap()
}

fn system(name: &str) -> SystemSpec {
    serde_json::from_value(serde_json::json!({ "system": name })).unwrap()
}

const POLICIES: [&str; 5] =
    ["checkpoint-restart", "spare-servers", "bamboo", "oobleck", "slipstream"];
const SCHEDULES: [&str; 4] = ["gpipe", "1f1b", "zb-h1", "zb-h2"];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn every_pass_runs_once_on_a_holder_of_its_stage(
        failed_gpus in proptest::collection::btree_set(0u32..12, 0..6),
        policy in 0usize..5,
        schedule in 0usize..4,
    ) {
        let cluster = Cluster::preset("dgx-h100", 2).unwrap();
        let w = workload(serde_json::json!({ "schedule": SCHEDULES[schedule] }));
        let spec = system(POLICIES[policy]);
        let prep = pipeline::run::prepare(&cluster, &w, &spec).unwrap();
        let job = prep.job().clone();
        let costs = pipeline::policies::RestartCost { restart_and_load: simcore::SimTime::ZERO };
        let pol = pipeline::policies::build(&spec, costs, 8);
        let mut failed = vec![false; 12];
        for g in &failed_gpus {
            failed[*g as usize] = true;
        }
        let Config::Run { .. } = pol.config(&job, &failed) else { return Ok(()) };
        let (program, staggered) = pol.program(&job, &failed).unwrap();
        // Every (pipeline, stage, pass, micro-batch) once, on a GPU whose sync group holds it.
        for (d, pipe) in program.pipelines.iter().enumerate() {
            for s in 0..pipe.work.len() as u32 {
                let holders: Vec<_> = program
                    .sync
                    .iter()
                    .filter(|g| g.stages.contains(&(d as u32, s)))
                    .flat_map(|g| g.members.clone())
                    .collect();
                for j in 0..pipe.micro_batches {
                    for pass in [Pass::F, Pass::B, Pass::W] {
                        let runs: Vec<_> = program
                            .gpus
                            .iter()
                            .flat_map(|(g, t)| t.iter().map(move |t| (*g, *t)))
                            .filter(|(_, t)| !t.redundant && t.pipeline == d as u32 && t.stage == s && t.pass == pass && t.micro == j)
                            .collect();
                        prop_assert_eq!(runs.len(), 1, "{} {:?}{} of stage {} pipeline {}", POLICIES[policy], pass, j, s, d);
                        prop_assert!(holders.contains(&runs[0].0), "{} runs on gpu{} which does not hold stage {}", POLICIES[policy], runs[0].0 .0, s);
                    }
                }
            }
        }
        // It runs to the end.
        let opts = BuildOptions { boundary_bytes: 1e6, dtype: Dtype::Bf16, grad_bytes_per_param: 2.0, optimizer_bytes_per_param: 28.0, staggered, iterations: 2 };
        let it = build(&program, &opts).unwrap();
        let run = execute(&it.graph, &cluster, &ExecConfig::default());
        prop_assert!(run.is_ok(), "{}: {:?}", POLICIES[policy], run.err());
    }
}

/// Throughput relative to healthy for each policy on a small job.
fn throughput(failures: serde_json::Value, policy: &str) -> f64 {
    let cluster = Cluster::preset("dgx-h100", 4).unwrap();
    let w: PipelineWorkload = serde_json::from_value(serde_json::json!({
        "model": "gpt3-2.7b", "stages": 8, "micro_batches": 8, "failures": failures, "duration": "3d"
    }))
    .unwrap();
    let r = pipeline::run::prepare(&cluster, &w, &system(policy))
        .unwrap()
        .run(&cluster, 3, false)
        .unwrap();
    r.metrics["throughput_vs_healthy"]
}

#[test]
fn slipstream_keeps_the_highest_throughput_under_failures() {
    for failures in [
        serde_json::json!({ "concurrent": 3 }),
        serde_json::json!({ "mtbf": "1h", "repair": "2h" }),
    ] {
        let slip = throughput(failures.clone(), "slipstream");
        for other in ["oobleck", "bamboo", "checkpoint-restart"] {
            let t = throughput(failures.clone(), other);
            assert!(slip > t, "{failures}: slipstream {slip:.3} vs {other} {t:.3}");
        }
    }
}

#[test]
fn without_failures_only_redundancy_costs() {
    let none = serde_json::json!(null);
    let ckpt = throughput(none.clone(), "checkpoint-restart");
    assert!(ckpt > 0.99 && ckpt <= 1.0, "checkpoints cost little: {ckpt}");
    assert!(
        throughput(none.clone(), "bamboo") < ckpt,
        "Bamboo's redundant forwards cost throughput"
    );
    assert_eq!(throughput(none.clone(), "oobleck"), ckpt);
}

#[test]
fn impossible_settings_name_their_field() {
    let cluster = Cluster::preset("dgx-h100", 1).unwrap();
    let check = |extra: serde_json::Value, sys: &str, field: &str| {
        let e = pipeline::run::prepare(&cluster, &workload(extra), &system(sys))
            .err()
            .unwrap()
            .to_string();
        assert!(e.starts_with(field), "expected `{field}`: {e}");
    };
    check(
        serde_json::json!({ "stages": 30, "pipelines": 1 }),
        "oobleck",
        "workload.stages: 30 stages but the model has 24 layers",
    );
    check(serde_json::json!({ "micro_batches": 0 }), "oobleck", "workload.micro_batches");
    check(
        serde_json::json!({ "pipelines": 3 }),
        "oobleck",
        "workload.pipelines: 3 pipelines x 4 stages need 12 GPUs; the cluster has 8",
    );
    check(
        serde_json::json!({ "pipelines": 2, "failures": { "concurrent": 9 } }),
        "oobleck",
        "workload.failures.concurrent: 9 failed GPUs",
    );
    check(
        serde_json::json!({ "model": "gpt3-13b", "stages": 1, "pipelines": 1 }),
        "oobleck",
        "workload.stages: gpt3-13b on 1 stages needs",
    );
    check(
        serde_json::json!({ "model": "gpt3-1.3", "pipelines": 2 }),
        "oobleck",
        "workload.model: unknown model `gpt3-1.3` (did you mean `gpt3-1.3b`?)",
    );
    let spares: SystemSpec =
        serde_json::from_value(serde_json::json!({ "system": "spare-servers", "spares": 0 }))
            .unwrap();
    let e =
        pipeline::run::prepare(&cluster, &workload(serde_json::json!({ "pipelines": 2 })), &spares)
            .err()
            .unwrap()
            .to_string();
    assert!(e.starts_with("params.spares"), "{e}");
}

#[test]
fn equivalent_failure_patterns_share_one_iteration_time() {
    // Failure patterns that differ by a permutation of the pipelines have one cache key; the
    // iteration time computed for each without the cache is the same.
    let cluster = Cluster::preset("dgx-h100", 2).unwrap();
    let w = workload(serde_json::json!({ "schedule": "1f1b" }));
    for name in ["slipstream", "bamboo", "oobleck"] {
        let spec = system(name);
        let prep = pipeline::run::prepare(&cluster, &w, &spec).unwrap();
        let job = prep.job().clone();
        let costs = pipeline::policies::RestartCost { restart_and_load: simcore::SimTime::ZERO };
        let pol = pipeline::policies::build(&spec, costs, 8);
        let mut keys = Vec::new();
        let mut periods = Vec::new();
        // Stage 1 of pipeline 0, 1 or 2 failed.
        for d in 0..3 {
            let mut failed = vec![false; 12];
            failed[d * 4 + 1] = true;
            let Config::Run { key, .. } = pol.config(&job, &failed) else {
                panic!("{name} stopped")
            };
            let (program, staggered) = pol.program(&job, &failed).unwrap();
            let opts = BuildOptions {
                boundary_bytes: 1e6,
                dtype: Dtype::Bf16,
                grad_bytes_per_param: 2.0,
                optimizer_bytes_per_param: 28.0,
                staggered,
                iterations: 2,
            };
            let it = build(&program, &opts).unwrap();
            let run = execute(&it.graph, &cluster, &ExecConfig::default()).unwrap();
            keys.push(key);
            periods.push(it.timing(&run).period);
        }
        assert!(keys.windows(2).all(|k| k[0] == k[1]), "{name}: {keys:?}");
        assert!(periods.windows(2).all(|p| p[0] == p[1]), "{name}: {periods:?}");
    }
}

#[test]
fn the_horizon_accounts_for_every_second() {
    let cluster = Cluster::preset("dgx-h100", 2).unwrap();
    for name in POLICIES {
        let w = workload(
            serde_json::json!({ "failures": { "mtbf": "2h", "repair": "1h" }, "duration": "2d" }),
        );
        let r = pipeline::run::prepare(&cluster, &w, &system(name))
            .unwrap()
            .run(&cluster, 5, false)
            .unwrap();
        let m = &r.metrics;
        assert!(
            m["throughput_vs_healthy"] >= 0.0 && m["throughput_vs_healthy"] <= 1.1,
            "{name}: {m:?}"
        );
        assert!(m["lost_work_s"] >= 0.0 && m["lost_work_s"] <= 2.0 * 86400.0, "{name}: {m:?}");
        assert_eq!(r.series["throughput_samples_s"].len(), pipeline::run::WINDOWS);
        // Same seed, same result.
        let again = pipeline::run::prepare(&cluster, &w, &system(name))
            .unwrap()
            .run(&cluster, 5, false)
            .unwrap();
        assert_eq!(r.metrics, again.metrics);
        if name == "checkpoint-restart" {
            assert!(m["restarts"] > 0.0 && m["lost_work_s"] > 0.0);
        }
        if name == "spare-servers" {
            assert!(m["spare_gpu_hours"] > 0.0);
        }
    }
}

#[test]
fn per_stage_outputs_show_the_last_stage_as_the_bottleneck() {
    // GPT-3 2.7B on 8 stages: the last stage also computes the output layer, so it idles
    // least; stage bubbles average to the job's bubble fraction (all pipelines are alike).
    let cluster = Cluster::preset("dgx-h100", 4).unwrap();
    let w: PipelineWorkload = serde_json::from_value(serde_json::json!({
        "model": "gpt3-2.7b", "stages": 8, "micro_batches": 8, "duration": "1h"
    }))
    .unwrap();
    let r = pipeline::run::prepare(&cluster, &w, &system("checkpoint-restart"))
        .unwrap()
        .run(&cluster, 1, false)
        .unwrap();
    let bubbles = &r.series["bubble_frac_by_stage"];
    let acts = &r.series["peak_act_bytes_by_stage"];
    assert_eq!((bubbles.len(), acts.len()), (8, 8));
    let last = bubbles[7];
    assert!(bubbles[..7].iter().all(|&b| b > last), "{bubbles:?}");
    let mean = bubbles.iter().sum::<f64>() / 8.0;
    assert!(
        (mean - r.metrics["bubble_frac"]).abs() < 1e-9,
        "{mean} vs {}",
        r.metrics["bubble_frac"]
    );
    // 1F1B: stage s holds p - s micro-batches of activations, so memory falls with s.
    assert!(acts.windows(2).all(|a| a[0] >= a[1]), "{acts:?}");
    assert_eq!(acts.iter().copied().fold(0.0, f64::max), r.metrics["peak_act_bytes"]);
}
