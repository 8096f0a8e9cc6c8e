//! The `mlsim` binary as a user runs it.

use std::path::PathBuf;
use std::process::Command;

mod common;
use common::{mlsim, text_of};

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mlsim-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn validate_lists_the_quickstart_runs() {
    let o = mlsim(&["validate", "configs/quickstart.yaml"]);
    let (out, err) = text_of(&o);
    assert!(o.status.success(), "{err}");
    assert!(out.contains("8 points x 3 systems x 3 seeds = 72 runs"), "{out}");
    assert_eq!(out.lines().count(), 2 + 72);
}

#[test]
fn a_bad_file_gets_a_located_message_and_exit_code_2() {
    let dir = scratch("bad");
    let file = dir.join("bad.yaml");
    std::fs::write(&file, "name: bad\nkind: collective\ncluster: {preset: dgx-h100}\nworkload: {op: all-reduce, bytes: 1MiB}\nsystems: [{name: rign}]\n").unwrap();
    let o = mlsim(&["validate", file.to_str().unwrap()]);
    let (_, err) = text_of(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err.contains(
            "bad.yaml:5:18: systems[0].name: unknown system `rign` (did you mean `ring`?)"
        ),
        "{err}"
    );
}

#[test]
fn run_writes_results_then_resumes() {
    let dir = scratch("run");
    let out = dir.join("out");
    let args = [
        "run",
        "configs/quickstart.yaml",
        "--seeds",
        "2",
        "--jobs",
        "2",
        "--out",
        out.to_str().unwrap(),
        "--no-report",
    ];
    let o = mlsim(&args);
    let (stdout, err) = text_of(&o);
    assert!(o.status.success(), "{err}");
    assert!(stdout.contains("48 runs"), "{stdout}");
    for f in ["runs.jsonl", "summary.csv", "timings.csv", "config.resolved.yaml"] {
        assert!(out.join(f).exists(), "{f} missing");
    }
    assert_eq!(std::fs::read_to_string(out.join("runs.jsonl")).unwrap().lines().count(), 48);
    let again = mlsim(&args);
    let (stdout, _) = text_of(&again);
    assert!(stdout.contains("0 ran now, 48 were already done"), "{stdout}");
}

#[test]
fn listings_and_completions() {
    let (out, _) = text_of(&mlsim(&["list", "systems"]));
    assert!(out.contains("ring") && out.contains("hierarchical"), "{out}");
    let (out, _) = text_of(&mlsim(&["list", "metrics"]));
    assert!(out.contains("busbw_gbs") && out.contains("link_utilization"), "{out}");
    let (out, _) = text_of(&mlsim(&["list", "presets"]));
    assert!(out.contains("dgx-h100") && out.contains("cloud-a100-100g"), "{out}");
    let (out, _) = text_of(&mlsim(&["completions", "bash"]));
    assert!(out.contains("mlsim") && out.len() > 1000);
}

#[test]
fn collective_prints_an_nccl_tests_table() {
    let o = mlsim(&[
        "collective",
        "--preset",
        "dgx-h100",
        "--op",
        "all-reduce",
        "--gpus",
        "8",
        "--sizes",
        "1MiB..4MiB",
    ]);
    let (out, err) = text_of(&o);
    assert!(o.status.success(), "{err}");
    assert!(out.contains("busbw") && out.contains("# Avg bus bandwidth"), "{out}");
    assert_eq!(out.lines().filter(|l| !l.starts_with('#')).count(), 3);
    let o = mlsim(&["collective", "--preset", "dgx-h10"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text_of(&o).1.contains("did you mean `dgx-h100`"));
}

#[test]
fn every_shipped_config_validates() {
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../configs"));
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&root).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            for e in std::fs::read_dir(&p).unwrap() {
                files.push(e.unwrap().path());
            }
        } else {
            files.push(p);
        }
    }
    files.retain(|p| p.extension().is_some_and(|e| e == "yaml"));
    files.sort();
    assert!(files.len() >= 5, "{files:?}");
    for f in files {
        let o = mlsim(&["validate", f.to_str().unwrap()]);
        let (_, err) = text_of(&o);
        assert!(o.status.success(), "{}: {err}", f.display());
    }
}

#[test]
fn pipeline_errors_name_the_field() {
    let dir = scratch("pipeline-bad");
    let file = dir.join("p.yaml");
    let check = |workload: &str, systems: &str, want: &[&str]| {
        let text = format!(
            "name: p\nkind: pipeline\ncluster: {{preset: dgx-h100, nodes: 1}}\nworkload:\n  model: gpt3-1.3b\n{workload}  micro_batches: 4\nsystems:\n{systems}"
        );
        std::fs::write(&file, text).unwrap();
        let o = mlsim(&["validate", file.to_str().unwrap()]);
        let (_, err) = text_of(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        for w in want {
            assert!(err.contains(w), "missing `{w}` in: {err}");
        }
    };
    check(
        "  stages: 30\n",
        "  - name: slipstream\n",
        &["p.yaml:6:", "30 stages but the model has 24 layers"],
    );
    check(
        "  stages: 4\n",
        "  - name: spare-servers\n    params: {spares: 0}\n",
        &["p.yaml:10:", "spares"],
    );
    check("  stages: 4\n", "  - name: slipstrem\n", &["did you mean `slipstream`"]);
    check(
        "  stages: 4\n  failures: {concurrent: 5}\n",
        "  - name: bamboo\n",
        &["p.yaml:7:", "at most 4"],
    );
}

#[test]
fn a_shard_exits_0_and_the_merge_draws_the_report() {
    let dir = scratch("shards");
    let shard = |i: usize| {
        let out = dir.join(format!("shard-{i}-of-4"));
        let spec = format!("{i}/4");
        let args = ["run", "configs/quickstart.yaml", "--shard", &spec, "--jobs", "1", "--out"];
        let mut args: Vec<&str> = args.to_vec();
        let out_text = out.to_str().unwrap().to_string();
        args.push(&out_text);
        let o = mlsim(&args);
        let (stdout, err) = text_of(&o);
        assert!(o.status.success(), "shard {i}: {err}");
        assert!(stdout.contains(&format!("not drawn for shard {i}/4")), "{stdout}");
        assert!(!out.join("report").exists(), "a shard draws no partial report");
        out
    };
    let outs: Vec<PathBuf> = (0..4).map(shard).collect();
    let merged = dir.join("merged");
    let mut args = vec!["merge".to_string()];
    args.extend(outs.iter().map(|p| p.to_str().unwrap().to_string()));
    args.extend(["--out".to_string(), merged.to_str().unwrap().to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = mlsim(&args);
    let (stdout, err) = text_of(&o);
    assert!(o.status.success(), "{err}");
    assert!(stdout.contains("72 of 72 runs"), "{stdout}");
    assert!(merged.join("report/index.html").is_file());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs mlsim with its standard output read up to the first line and then closed, as
/// `mlsim ... | head -1` does; returns the exit status and standard error.
fn with_output_closed_after_one_line(args: &[&str]) -> (std::process::ExitStatus, String) {
    use std::io::{BufRead, Read};
    let mut child = Command::new(env!("CARGO_BIN_EXE_mlsim"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("mlsim starts");
    let mut first = String::new();
    {
        let mut reader = std::io::BufReader::new(child.stdout.take().unwrap());
        reader.read_line(&mut first).unwrap();
        // The reader (and the pipe's read end) is dropped here, as `head -1` exits.
    }
    assert!(!first.is_empty(), "mlsim printed nothing");
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    (child.wait().unwrap(), err)
}

#[test]
fn a_closed_output_pipe_ends_the_program_quietly() {
    let dir = scratch("pipe");
    let out = dir.join("out");
    let run = [
        "run",
        "configs/quickstart.yaml",
        "--seeds",
        "1",
        "--no-report",
        "--out",
        out.to_str().unwrap(),
    ];
    for args in [&run[..], &["list", "metrics"], &["collective", "--sizes", "1KiB..1GiB"]] {
        let (status, err) = with_output_closed_after_one_line(args);
        assert!(status.success(), "{args:?}: {status:?}: {err}");
        assert!(!err.contains("panicked") && !err.contains("Broken pipe"), "{args:?}: {err}");
    }
    // The run's results were saved before its summary met the closed pipe.
    assert_eq!(std::fs::read_to_string(out.join("runs.jsonl")).unwrap().lines().count(), 24);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn missing_data_is_named_with_its_expected_path_at_the_dataset_entry() {
    let dir = scratch("no-data");
    let o = Command::new(env!("CARGO_BIN_EXE_mlsim"))
        .args(["validate", "configs/gnn/policies.yaml"])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .env("MLSIM_DATA_DIR", &dir)
        .output()
        .expect("mlsim runs");
    let (_, err) = text_of(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    // The sweep entry that names the data set (its first value, found in the file so that
    // comments above it cannot move it), and the folder that was looked for.
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let config = std::fs::read_to_string(format!("{root}/configs/gnn/policies.yaml")).unwrap();
    let (line, col) = config
        .lines()
        .enumerate()
        .find_map(|(i, l)| {
            let at = l.find("workload.dataset: [")?;
            Some((i + 1, at + "workload.dataset: [".len() + 1))
        })
        .expect("policies.yaml sweeps workload.dataset");
    assert!(err.contains(&format!("policies.yaml:{line}:{col}:")), "{err}");
    assert!(err.contains("workload.dataset: the Planetoid files are missing"), "{err}");
    assert!(err.contains(&dir.join("planetoid").display().to_string()), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
