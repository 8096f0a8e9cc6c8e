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
        let opts = BuildOptions { boundary_bytes: 1e6, dtype: Dtype::Bf16, grad_bytes_per_param: 2.0, optimizer_bytes_per_param: 28.0, staggered, iterations: 2 , tp: 1, ..BuildOptions::default()};
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

/// Mean throughput relative to healthy over seeds 1-3 on the small job with the headline's
/// schedule for every policy (ZB-H1, staggered steps).
fn fair(failures: serde_json::Value, policy: &str) -> f64 {
    let cluster = Cluster::preset("dgx-h100", 4).unwrap();
    let w: PipelineWorkload = serde_json::from_value(serde_json::json!({
        "model": "gpt3-2.7b", "stages": 8, "micro_batches": 8, "failures": failures,
        "duration": "3d", "schedule": "zb-h1", "optimizer_step": "staggered"
    }))
    .unwrap();
    let prep = pipeline::run::prepare(&cluster, &w, &system(policy)).unwrap();
    (1..=3)
        .map(|seed| prep.run(&cluster, seed, false).unwrap().metrics["throughput_vs_healthy"])
        .sum::<f64>()
        / 3.0
}

// The headline's direction, on a small version of it (GPT-3 2.7B, 8 stages x 4 pipelines on 4
// DGX H100, 8 micro-batches, 3 days) with one schedule for every policy.
//
// This replaces `slipstream_keeps_the_highest_throughput_under_failures`, which asserted
// SlipStream above Oobleck with 3 GPUs down and at MTBF 1 h. That held only while SlipStream
// alone ran decoupled B/W with staggered steps and the baselines ran synchronous 1F1B, and
// while a rebuilt Oobleck stage synchronised two original stages' parameters. With the same
// schedule for all and Oobleck's layer-wise synchronisation (its pieces issued in two rounds,
// `iteration::issue_order`), the small job gives (mean of seeds 1-3, measured when this test
// was written): 3 GPUs down, Oobleck 0.907, SlipStream 0.868, Bamboo 0.666,
// checkpoint-restart 0; MTBF 1 h, Oobleck 0.919, SlipStream 0.908, Bamboo 0.712, spare
// servers 0.501, checkpoint-restart 0.118. The headline (docs/models/pipeline.md §9) shows the
// same order. The assertions below are what that fair model shows, not a loosened bound.

#[test]
fn under_one_schedule_slipstream_and_oobleck_lead_and_oobleck_is_ahead() {
    for failures in [
        serde_json::json!({ "concurrent": 3 }),
        serde_json::json!({ "mtbf": "1h", "repair": "2h" }),
    ] {
        let slip = fair(failures.clone(), "slipstream");
        let oob = fair(failures.clone(), "oobleck");
        // Both keep training far above the systems that restart or carry redundancy.
        for other in ["bamboo", "spare-servers", "checkpoint-restart"] {
            let t = fair(failures.clone(), other);
            assert!(
                slip > t && oob > t,
                "{failures}: slipstream {slip:.3}, oobleck {oob:.3} vs {other} {t:.3}"
            );
        }
        // Re-routing a failed GPU's micro-batches onto its peers costs more than rebuilding
        // a shorter pipeline when the schedule leaves the peers few bubbles: Oobleck is ahead,
        // by less than 10%.
        assert!(oob > slip, "{failures}: oobleck {oob:.3} vs slipstream {slip:.3}");
        assert!(oob - slip < 0.1, "{failures}: oobleck {oob:.3} vs slipstream {slip:.3}");
    }
}

#[test]
fn at_fleet_failure_rates_the_policy_barely_matters() {
    // Llama 3's rate (419 unexpected interruptions in 54 days on 16,384 GPUs: one per 50,677
    // GPU-hours) on this 32-GPU job is one failure every 1,584 h: over 3 days every policy
    // without standing redundancy stays within 0.5% of the healthy job, and SlipStream and
    // Oobleck are equal; Bamboo pays its redundant forwards all the time.
    let failures = serde_json::json!({ "mtbf": "1584h", "repair": "2h" });
    let slip = fair(failures.clone(), "slipstream");
    for other in ["checkpoint-restart", "spare-servers", "oobleck"] {
        let t = fair(failures.clone(), other);
        assert!(t > 0.995, "{other} {t:.4}");
        assert!((slip - t).abs() < 0.005, "slipstream {slip:.4} vs {other} {t:.4}");
    }
    assert!(fair(failures, "bamboo") < 0.9);
}

#[test]
fn under_node_failures_slipstream_and_oobleck_tie() {
    // A node is a whole pipeline here: SlipStream re-routes all its micro-batches, Oobleck
    // drops it and re-splits the batch; both lose about a quarter and stay within 5% of each
    // other (measured: Oobleck 0.626, SlipStream 0.632 at MTBF 1 h), well above spare servers
    // (0.369), Bamboo (0.332) and checkpoint-restart (0.074).
    let failures = serde_json::json!({ "mtbf": "1h", "repair": "2h", "unit": "node" });
    let slip = fair(failures.clone(), "slipstream");
    let oob = fair(failures.clone(), "oobleck");
    assert!((slip - oob).abs() < 0.05, "slipstream {slip:.3} vs oobleck {oob:.3}");
    for other in ["bamboo", "spare-servers", "checkpoint-restart"] {
        let t = fair(failures.clone(), other);
        assert!(slip > t && oob > t, "{other} {t:.3}");
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
    // Every policy runs the workload's schedule: without failures Oobleck and SlipStream run
    // exactly the plain program (SlipStream's gain can only come from re-routing).
    assert_eq!(throughput(none.clone(), "oobleck"), ckpt);
    assert_eq!(throughput(none.clone(), "slipstream"), ckpt);
}

#[test]
fn every_policy_runs_the_workload_schedule_and_step_mode() {
    // The schedule and the optimizer-step mode are workload settings: whatever the policy,
    // its programs decouple B and W exactly when the schedule does, and stagger their steps
    // exactly when the workload does.
    let cluster = Cluster::preset("dgx-h100", 2).unwrap();
    let mut failed = vec![false; 12];
    failed[5] = true;
    for schedule in SCHEDULES {
        for step in ["auto", "synchronous", "staggered"] {
            let w = workload(serde_json::json!({ "schedule": schedule, "optimizer_step": step }));
            let kind = w.schedule;
            let staggered = match step {
                "auto" => kind.staggered_by_default(),
                s => s == "staggered",
            };
            for name in POLICIES {
                let spec = system(name);
                let prep = pipeline::run::prepare(&cluster, &w, &spec).unwrap();
                let costs =
                    pipeline::policies::RestartCost { restart_and_load: simcore::SimTime::ZERO };
                let pol = pipeline::policies::build(&spec, costs, 8);
                for f in [vec![false; 12], failed.clone()] {
                    let Config::Run { .. } = pol.config(prep.job(), &f) else { continue };
                    let (program, stag) = pol.program(prep.job(), &f).unwrap();
                    assert_eq!(program.fused_backward, kind.fused_backward(), "{name} {schedule}");
                    assert_eq!(stag, staggered, "{name} {schedule} {step}");
                }
            }
        }
    }
}

#[test]
fn oobleck_syncs_only_the_layers_a_rebuilt_stage_holds() {
    // GPT-3 6.7B (32 layers, h = 4096, V = 50,257, s = 2,048), 8 stages x 4 pipelines on 4 DGX
    // H100; stage 3 of pipeline 0 fails, so that pipeline is rebuilt on 7 GPUs with layers
    // [5, 5, 5, 5, 4, 4, 4] (the others keep 4 per stage). By hand:
    //   layer   12h^2 + 13h    = 12 * 16,777,216 + 53,248     =   201,379,840 parameters
    //   embedding (V + s) h    = 52,305 * 4,096               =   214,241,280
    //   rebuilt stage 0        = embedding + 5 layers         = 1,221,140,480
    //   plain stage 0          = embedding + 4 layers         = 1,019,760,640
    // The rebuilt stage 0 all-reduces 2 bytes per parameter of what it holds:
    //   2 * 1,221,140,480 = 2,442,280,960 bytes,
    // and its optimizer step moves 28 bytes per parameter: 34,191,933,440 bytes. (The former
    // approximation synchronised original stages 0 and 1 there: 1,825,280,000 parameters.)
    let cluster = Cluster::preset("dgx-h100", 4).unwrap();
    let w: PipelineWorkload = serde_json::from_value(serde_json::json!({
        "model": "gpt3-6.7b", "stages": 8, "pipelines": 4, "micro_batches": 16
    }))
    .unwrap();
    let spec = system("oobleck");
    let prep = pipeline::run::prepare(&cluster, &w, &spec).unwrap();
    let costs = pipeline::policies::RestartCost { restart_and_load: simcore::SimTime::ZERO };
    let pol = pipeline::policies::build(&spec, costs, 8);
    let mut failed = vec![false; 32];
    failed[3] = true;
    let (program, staggered) = pol.program(prep.job(), &failed).unwrap();
    let stages: Vec<usize> = program.pipelines.iter().map(|p| p.work.len()).collect();
    assert_eq!(stages, vec![8, 8, 8, 7], "pipelines longest first");
    // The rebuilt pipeline is the fourth: its stage 0 runs on GPU 3 * 8 + 0.
    let (rebuilt, plain) = (cluster::GpuId(24), cluster::GpuId(0));
    assert_eq!(program.pipelines[3].work[0].params, 1_221_140_480.0);
    assert_eq!(program.pipelines[0].work[0].params, 1_019_760_640.0);
    let held = |gpu| -> f64 {
        program.sync.iter().filter(|g| g.members.contains(&gpu)).map(|g| g.params).sum()
    };
    assert_eq!(held(rebuilt), 1_221_140_480.0);
    assert_eq!(held(plain), 1_019_760_640.0);
    // The same in the built graph: bytes of the all-reduces the GPU takes part in, and of its
    // optimizer steps, over one iteration.
    let opts = BuildOptions {
        boundary_bytes: 1e6,
        dtype: Dtype::Bf16,
        grad_bytes_per_param: pipeline::run::GRAD_BYTES_PER_PARAM,
        optimizer_bytes_per_param: pipeline::run::OPTIMIZER_BYTES_PER_PARAM,
        staggered,
        iterations: 1,
        tp: 1,
        ..BuildOptions::default()
    };
    let it = build(&program, &opts).unwrap();
    let g = &it.graph;
    let (mut reduced, mut stepped) = (0.0, 0.0);
    for op in g.ops() {
        match g.kind(op) {
            taskgraph::OpKind::Collective { group, bytes, .. }
                if g.group(*group).contains(&rebuilt) =>
            {
                reduced += bytes
            }
            taskgraph::OpKind::Compute { gpu, bytes, .. }
                if *gpu == rebuilt && g.name(op) == "optimizer step" =>
            {
                stepped += bytes
            }
            _ => {}
        }
    }
    assert_eq!(reduced, 2_442_280_960.0);
    assert_eq!(stepped, 34_191_933_440.0);
}

#[test]
fn oobleck_rolls_back_only_when_every_copy_of_a_layer_is_gone() {
    // GPT-3 6.7B, 8 stages x 4 pipelines: stage s holds layers 4s..4s+3.
    let cluster = Cluster::preset("dgx-h100", 4).unwrap();
    let w: PipelineWorkload = serde_json::from_value(serde_json::json!({
        "model": "gpt3-6.7b", "stages": 8, "pipelines": 4, "micro_batches": 16
    }))
    .unwrap();
    let prep = pipeline::run::prepare(&cluster, &w, &system("oobleck")).unwrap();
    let job = prep.job();
    let set = |gpus: &[usize]| {
        let mut f = vec![false; 32];
        gpus.iter().for_each(|&g| f[g] = true);
        f
    };
    let lost = pipeline::policies::oobleck::Oobleck::state_lost;
    // Stage 3 (layers 12-15) down in three pipelines: the fourth still holds it.
    assert!(!lost(job, &set(&[]), &set(&[3, 11, 19])));
    // ... and in all four: no copy left.
    assert!(lost(job, &set(&[]), &set(&[3, 11, 19, 27])));
    // With GPU 3 down, pipeline 0 runs on stages 0-2 and 4-7 with layers [5, 5, 5, 5, 4, 4, 4]:
    // its stage-4 GPU (GPU 4) holds layers 15-19. Stage 4 of the other three failing leaves
    // layers 16-19 on GPU 4; GPU 4 failing too loses them.
    assert!(!lost(job, &set(&[3]), &set(&[3, 12, 20, 28])));
    assert!(lost(job, &set(&[3]), &set(&[3, 4, 12, 20, 28])));
    // In the policy, which remembers the layout: once pipelines 1-3 have been rebuilt without
    // their stage 4, their stage-3 GPUs hold layers 15-19 too, so GPU 4 failing then loses
    // nothing; GPU 4 failing together with the three stage-4 GPUs does.
    let costs =
        pipeline::policies::RestartCost { restart_and_load: simcore::SimTime::from_secs(60) };
    let mut pol = pipeline::policies::build(&system("oobleck"), costs, 8);
    assert!(!pol.react(job, &set(&[3]), true).rollback);
    assert!(!pol.react(job, &set(&[3, 12, 20, 28]), true).rollback);
    assert!(!pol.react(job, &set(&[3, 4, 12, 20, 28]), true).rollback);
    let mut pol = pipeline::policies::build(&system("oobleck"), costs, 8);
    assert!(!pol.react(job, &set(&[3]), true).rollback);
    let r = pol.react(job, &set(&[3, 4, 12, 20, 28]), true);
    assert!(r.rollback && r.pause == simcore::SimTime::from_secs(60), "{r:?}");
}

#[test]
fn oobleck_pieces_are_issued_in_two_rounds_not_a_chain() {
    // The same rebuilt job: the pieces are, in layer order (members by pipeline 0-3; the
    // rebuilt pipeline on GPUs 24-30):
    //   0 embedding + layers 0-3 {0, 8, 16, 24}    1 layer 4       {1, 9, 17, 24}
    //   2 layers 5-7  {1, 9, 17, 25}               3 layers 8-9    {2, 10, 18, 25}
    //   4 layers 10-11 {2, 10, 18, 26}             5 layers 12-14  {3, 11, 19, 26}
    //   6 layer 15    {3, 11, 19, 27}              7 layers 16-19  {4, 12, 20, 27}
    //   8 layers 20-23 {5, 13, 21, 28}             9 layers 24-27  {6, 14, 22, 29}
    //  10 layers 28-31 + output {7, 15, 23, 30}
    // Pieces 0-7 form a staircase (each shares GPUs with the next). Greedy colouring in layer
    // order: 0, 2, 4, 6, 8, 9, 10 take colour 0, the odd pieces up to 7 colour 1.
    let cluster = Cluster::preset("dgx-h100", 4).unwrap();
    let mut failed = vec![false; 32];
    failed[3] = true;
    for schedule in ["1f1b", "zb-h1", "zb-h2"] {
        let w: PipelineWorkload = serde_json::from_value(serde_json::json!({
            "model": "gpt3-6.7b", "stages": 8, "pipelines": 4, "micro_batches": 16,
            "schedule": schedule
        }))
        .unwrap();
        let spec = system("oobleck");
        let prep = pipeline::run::prepare(&cluster, &w, &spec).unwrap();
        let costs = pipeline::policies::RestartCost { restart_and_load: simcore::SimTime::ZERO };
        let pol = pipeline::policies::build(&spec, costs, 8);
        let (program, staggered) = pol.program(prep.job(), &failed).unwrap();
        assert_eq!(program.sync.len(), 11);
        assert_eq!(
            pipeline::iteration::issue_order(&program.sync),
            vec![0, 2, 4, 6, 8, 9, 10, 1, 3, 5, 7]
        );
        // Whatever the schedule, the rebuilt job's iteration is within 10% of the healthy one
        // (the pieces cost two rounds, not a chain of eight all-reduces: about +0.2 s, +40%).
        // The rebuilt pipeline's 5-layer stages are slower than the healthy last stage (4
        // layers + the output layer): +3.5% matmuls only, +5.2% (ZB-H1) with the layers'
        // memory-bound kernels, which the output layer does not have.
        let period = |program: &pipeline::iteration::Program| {
            let opts = BuildOptions {
                boundary_bytes: prep.job().model.boundary_bytes(1),
                dtype: Dtype::Bf16,
                grad_bytes_per_param: pipeline::run::GRAD_BYTES_PER_PARAM,
                optimizer_bytes_per_param: pipeline::run::OPTIMIZER_BYTES_PER_PARAM,
                staggered,
                iterations: 2,
                tp: 1,
                ..BuildOptions::default()
            };
            let it = build(program, &opts).unwrap();
            it.timing(&execute(&it.graph, &cluster, &ExecConfig::default()).unwrap())
                .period
                .as_secs_f64()
        };
        let (healthy, _) = pol.program(prep.job(), &[false; 32]).unwrap();
        let (t0, t1) = (period(&healthy), period(&program));
        assert!(t1 < 1.10 * t0, "{schedule}: rebuilt {t1:.4} s vs healthy {t0:.4} s");
    }
}

#[test]
fn bamboo_absorbs_a_node_failure() {
    // 8 stages x 4 pipelines on 4 DGX H100: each stage's backup (the next stage of its
    // pipeline) is placed on another node, so losing any one whole node leaves every stage of
    // every pipeline a live copy: a takeover, no restart, no pipeline dropped.
    let cluster = Cluster::preset("dgx-h100", 4).unwrap();
    let w: PipelineWorkload = serde_json::from_value(serde_json::json!({
        "model": "gpt3-1.3b", "stages": 8, "pipelines": 4, "micro_batches": 8
    }))
    .unwrap();
    let spec = system("bamboo");
    let prep = pipeline::run::prepare(&cluster, &w, &spec).unwrap();
    let job = prep.job().clone();
    let costs =
        pipeline::policies::RestartCost { restart_and_load: simcore::SimTime::from_secs(60) };
    for node in 0..4 {
        let mut pol = pipeline::policies::build(&spec, costs, 8);
        let mut failed = vec![false; 32];
        failed[node * 8..node * 8 + 8].fill(true);
        let reaction = pol.react(&job, &failed, true);
        assert!(!reaction.rollback, "node {node}: {reaction:?}");
        let Config::Run { samples_per_iter, .. } = pol.config(&job, &failed) else {
            panic!("node {node}: Bamboo stopped")
        };
        assert_eq!(
            samples_per_iter,
            job.samples_per_iteration(),
            "node {node}: a pipeline dropped"
        );
    }
    // Over a day with node 1 down for two hours: no restart.
    let dir = std::env::temp_dir().join(format!("pipeline-bamboo-node-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let trace = dir.join("node.csv");
    std::fs::write(&trace, "time,event,node\n1h,fail,1\n3h,recover,1\n").unwrap();
    let w: PipelineWorkload = serde_json::from_value(serde_json::json!({
        "model": "gpt3-1.3b", "stages": 8, "pipelines": 4, "micro_batches": 8,
        "duration": "1d", "failures": { "trace": trace }
    }))
    .unwrap();
    let r = pipeline::run::prepare(&cluster, &w, &spec).unwrap().run(&cluster, 1, false).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(r.metrics["restarts"], 0.0, "{:?}", r.metrics);
    assert!(r.metrics["throughput_vs_healthy"] > 0.5, "{:?}", r.metrics);
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
                tp: 1,
                ..BuildOptions::default()
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
