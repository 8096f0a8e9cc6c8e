//! What makes `mlsim step` fast: one iteration instead of two under synchronous steps
//! (exact), and `replicas: one` (pipeline 0 alone, approximate).

use cluster::Cluster;
use pipeline::iteration::{BuildOptions, Program, build};
use pipeline::{PipelineWorkload, SystemSpec};
use taskgraph::{ExecConfig, execute};

fn workload(json: serde_json::Value) -> PipelineWorkload {
    serde_json::from_value(json).unwrap()
}

fn system(name: &str) -> SystemSpec {
    serde_json::from_value(serde_json::json!({ "system": name })).unwrap()
}

/// Under synchronous steps the second iteration is the first shifted by its length: period,
/// busy time, bubble fraction, per-GPU busy times and every program GPU's breakdown are the
/// same, to the nanosecond, whether one or two iterations are built. Cases with sends across
/// nodes, TP and DP collectives, interleaving, the distributed optimizer with overlapped
/// buckets, and a decoupled backward.
#[test]
fn one_synchronous_iteration_times_as_two() {
    let cases = [
        (
            serde_json::json!({ "model": "megatron-18b", "stages": 4, "pipelines": 2, "tp": 8,
                "micro_batches": 8, "recompute": "full" }),
            8,
        ),
        (
            serde_json::json!({ "model": "gpt3-1.3b", "stages": 4, "pipelines": 4,
                "micro_batches": 8, "interleave": 2, "dp_reduce": "distributed-optimizer",
                "overlap_grad_reduce": true, "grad_bucket_bytes": "8MiB" }),
            2,
        ),
        (
            serde_json::json!({ "model": "gpt3-1.3b", "stages": 8, "pipelines": 2,
                "micro_batches": 12, "schedule": "zb-h1", "optimizer_step": "synchronous" }),
            2,
        ),
    ];
    for (json, nodes) in cases {
        let cluster = Cluster::preset("dgx-a100", nodes).unwrap();
        let w = workload(json.clone());
        let prepared = pipeline::run::prepare(&cluster, &w, &system("checkpoint-restart")).unwrap();
        let job = prepared.job();
        let program = Program::healthy(&job.schedule, job.shape.pipelines, &job.work);
        let opts = BuildOptions {
            boundary_bytes: job.model.boundary_bytes(w.micro_batch_size) / f64::from(job.par.tp),
            tp: job.par.tp,
            dp_reduce: w.dp_reduce,
            overlap_grad_reduce: w.overlap_grad_reduce,
            grad_bucket_bytes: w.grad_bucket_bytes.0 as f64,
            memory_kernel_bytes: pipeline::iteration::memory_kernel_bytes(cluster.compute()),
            staggered: false,
            ..BuildOptions::default()
        };
        let run_with = |iterations: u32| {
            let it = build(&program, &BuildOptions { iterations, ..opts }).unwrap();
            let run = execute(&it.graph, &cluster, &ExecConfig::default()).unwrap();
            (it, run)
        };
        let (one, run1) = run_with(1);
        let (two, run2) = run_with(2);
        assert_eq!(one.timing(&run1), two.timing(&run2), "{json}");
        assert_eq!(one.busy_by_gpu(&run1), two.busy_by_gpu(&run2), "{json}");
        for gpu in &one.lane_gpus {
            assert_eq!(one.breakdown(&run1, *gpu), two.breakdown(&run2, *gpu), "{json} {gpu:?}");
        }
        // And the run's metrics are those of two iterations (a trace asks for two).
        let r1 = prepared.run(&cluster, 1, false).unwrap();
        let r2 = prepared.run(&cluster, 1, true).unwrap();
        assert_eq!(r1.metrics, r2.metrics, "{json}");
        assert_eq!(r1.series, r2.series, "{json}");
    }
}

/// `replicas: one` simulates pipeline 0 with its gradient collectives over every replica:
/// the same step as `all` for one pipeline, and without network contention; with contention
/// close to it (what it leaves out is the other replicas' traffic on shared fabric links).
#[test]
fn one_replica_matches_all_without_contention() {
    let cluster = Cluster::preset("dgx-a100", 8).unwrap();
    let base = serde_json::json!({ "model": "megatron-18b", "stages": 4, "tp": 8,
        "micro_batches": 16, "recompute": "full", "duration": "1h" });
    let metric = |json: &serde_json::Value, replicas: &str, network: &str, pipelines: u32| {
        let mut json = json.clone();
        json["replicas"] = replicas.into();
        json["network"] = network.into();
        json["pipelines"] = pipelines.into();
        let w = workload(json);
        let prepared = pipeline::run::prepare(&cluster, &w, &system("checkpoint-restart")).unwrap();
        prepared.run(&cluster, 1, false).unwrap().metrics
    };
    // One pipeline: nothing is left out.
    assert_eq!(metric(&base, "one", "analytic", 1), metric(&base, "all", "analytic", 1));
    for network in ["contention-free", "analytic"] {
        let all = metric(&base, "all", network, 2);
        let one = metric(&base, "one", network, 2);
        let (a, o) = (all["iter_time_s"], one["iter_time_s"]);
        if network == "contention-free" {
            assert_eq!(a, o, "{network}");
        } else {
            assert!((o - a).abs() <= 0.03 * a, "{network}: all {a} one {o}");
        }
        for k in ["compute_s", "tp_comm_exposed_s", "optimizer_s", "peak_mem_bytes", "mfu"] {
            if network == "contention-free" || k != "mfu" {
                assert!((all[k] - one[k]).abs() <= 0.03 * all[k].abs().max(1e-12), "{k}");
            }
        }
    }
}

/// `replicas: one` is for the plain job without failures; elsewhere the error names the field.
#[test]
fn one_replica_is_refused_where_pipelines_change() {
    let cluster = Cluster::preset("dgx-h100", 2).unwrap();
    let json = serde_json::json!({ "model": "gpt3-1.3b", "stages": 4, "micro_batches": 8,
        "replicas": "one" });
    for name in ["bamboo", "oobleck", "slipstream"] {
        let err = pipeline::run::prepare(&cluster, &workload(json.clone()), &system(name))
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("replicas"), "{name}: {err}");
    }
    let mut with_failures = json.clone();
    with_failures["failures"] = serde_json::json!({ "concurrent": 1 });
    let err = pipeline::run::prepare(&cluster, &workload(with_failures), &system("spare-servers"))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("replicas"), "{err}");
    assert!(
        pipeline::run::prepare(&cluster, &workload(json), &system("checkpoint-restart")).is_ok()
    );
}
