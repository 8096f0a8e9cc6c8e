//! `mlsim step` as a user runs it: one training step of a small 3D-parallel job.

use std::path::PathBuf;

mod common;
use common::{mlsim, text_of};

/// GPT-3 1.3B on one DGX A100: tp 2 x pp 2 x dp 2, 8 micro-batches per pipeline.
const SMALL: [&str; 15] = [
    "step",
    "--model",
    "gpt3-1.3b",
    "--preset",
    "dgx-a100",
    "--gpus",
    "8",
    "--tp",
    "2",
    "--pp",
    "2",
    "--dp",
    "2",
    "--global-batch",
    "16",
];

#[test]
fn step_prints_time_throughput_mfu_and_memory() {
    let o = mlsim(&SMALL);
    let (out, err) = text_of(&o);
    assert!(o.status.success(), "{err}");
    for field in
        ["step time", "TFLOP/s per GPU", "MFU", "memory per GPU", "model state", "breakdown"]
    {
        assert!(out.contains(field), "{field} missing:\n{out}");
    }
    assert!(out.contains("tp 2 x pp 2 x dp 2") && out.contains("8 micro-batches"), "{out}");
}

#[test]
fn step_json_has_the_documented_keys() {
    let mut args = SMALL.to_vec();
    args.push("--json");
    let o = mlsim(&args);
    let (out, err) = text_of(&o);
    assert!(o.status.success(), "{err}");
    assert_eq!(out.lines().count(), 1, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    for key in ["step_time_s", "tflops_per_gpu", "mfu", "peak_mem_bytes"] {
        let x = v[key].as_f64().unwrap_or_else(|| panic!("{key} missing: {out}"));
        assert!(x.is_finite() && x > 0.0, "{key} = {x}");
    }
    let mfu = v["mfu"].as_f64().unwrap();
    assert!(mfu < 1.0, "{mfu}");
    // The peak fits the A100's 80 GiB and is state + activations of the fullest GPU.
    let peak = v["peak_mem_bytes"].as_f64().unwrap();
    assert!(peak < 80.0 * 2f64.powi(30), "{peak}");
    let m = &v["memory"];
    let sum = m["state_bytes"].as_f64().unwrap() + m["activation_bytes"].as_f64().unwrap();
    assert!((sum - peak).abs() <= 1e-6 * peak, "{sum} vs {peak}");
    let b = v["breakdown"].as_object().expect("a breakdown object");
    for key in ["compute_s", "tp_comm_exposed_s", "bubble_s", "dp_comm_exposed_s", "optimizer_s"] {
        assert!(b.contains_key(key), "{key} missing: {out}");
    }
    assert_eq!((v["dp"].as_u64(), v["micro_batches"].as_u64()), (Some(2), Some(8)));
}

#[test]
fn step_writes_a_chrome_trace() {
    let dir = std::env::temp_dir().join(format!("mlsim-step-trace-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file: PathBuf = dir.join("step.json");
    let mut args = SMALL.to_vec();
    args.extend(["--trace", file.to_str().unwrap()]);
    let o = mlsim(&args);
    let (_, err) = text_of(&o);
    assert!(o.status.success(), "{err}");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert!(!v["traceEvents"].as_array().unwrap().is_empty());
}

#[test]
fn a_tp_pp_dp_mismatch_names_the_product() {
    let mut args = SMALL.to_vec();
    args[12] = "4"; // --dp 4
    let o = mlsim(&args);
    let (_, err) = text_of(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("tp 2 x pp 2 x dp 4 = 16 GPUs, but --gpus is 8"), "{err}");
    assert!(err.contains("--dp 2 would use them all"), "{err}");
}

#[test]
fn a_global_batch_that_does_not_divide_says_what_would() {
    let mut args = SMALL.to_vec();
    args[14] = "15"; // --global-batch 15
    let o = mlsim(&args);
    let (_, err) = text_of(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--global-batch 15 is not a multiple of micro-batch 1 x dp 2 = 2"),
        "{err}"
    );
    assert!(err.contains("14 or 16"), "{err}");
}

#[test]
fn bad_models_gpus_and_memory_get_clear_errors() {
    let run = |edit: &dyn Fn(&mut Vec<&str>)| {
        let mut args = SMALL.to_vec();
        edit(&mut args);
        let o = mlsim(&args);
        assert_eq!(o.status.code(), Some(2));
        text_of(&o).1
    };
    let err = run(&|a| a[2] = "gpt3-1.3");
    assert!(err.contains("did you mean `gpt3-1.3b`"), "{err}");
    let err = run(&|a| a[6] = "12");
    assert!(err.contains("--gpus 12 is not a whole number of nodes of 8 GPUs"), "{err}");
    // GPT-3 175B on one node does not fit: the error says so and what would.
    let err = run(&|a| a[2] = "gpt3-175b");
    assert!(err.contains("too much"), "{err}");
    let err = run(&|a| a.extend(["--set", "stages=4"]));
    assert!(err.contains("use --pp instead"), "{err}");
    let err = run(&|a| a.extend(["--schedule", "1f2b"]));
    assert!(err.contains("--schedule `1f2b`") && err.contains("1f1b"), "{err}");
}

#[test]
fn list_models_shows_both_tables() {
    let o = mlsim(&["list", "models"]);
    let (out, err) = text_of(&o);
    assert!(o.status.success(), "{err}");
    assert!(out.contains("gpt3-175b") && out.contains("megatron-1.7b"), "{out}");
    let line = out.lines().find(|l| l.starts_with("megatron-1t ")).expect("megatron-1t listed");
    assert!(line.contains("25600") && line.contains("1008.04B"), "{line}");
}
