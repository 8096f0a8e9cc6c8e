//! Bad input gets errors that name the field, or the file and line, and what is valid.

use datapipe::config::{DatapipeSystem, DatapipeWorkload};
use datapipe::profile::read_ops;
use datapipe::spec::read_pipeline;
use serde_json::json;

fn err(v: serde_json::Value) -> String {
    read_pipeline(&v).unwrap_err().to_string()
}

#[test]
fn a_cycle_in_the_constraints_is_named() {
    let e = err(json!({"ops": [
        {"name": "src", "latency_ms": 1, "out_bytes": 10, "fixed": true},
        {"name": "a", "latency_ms": 1, "in_bytes": 10, "out_bytes": 10, "tag": "ta", "depends_on": "tb"},
        {"name": "b", "latency_ms": 1, "in_bytes": 10, "out_bytes": 10, "tag": "tb", "depends_on": "ta"}
    ]}));
    assert!(e.contains("cycle") && e.contains("a -> b") || e.contains("b -> a"), "{e}");
}

#[test]
fn a_zero_output_size_is_refused() {
    let e = err(json!({"ops": [{"name": "src", "latency_ms": 1, "out_bytes": 0}]}));
    assert!(e.starts_with("workload.pipeline.ops[0].out_bytes"), "{e}");
    assert!(e.contains("> 0"), "{e}");
}

#[test]
fn unknown_pipelines_fields_and_tags_are_named() {
    let e = err(json!("cv-torhc"));
    assert!(e.contains("unknown pipeline `cv-torhc`") && e.contains("cv-torch"), "{e}");
    let e = err(json!({"ops": [{"name": "src", "latency": 1, "out_bytes": 5}]}));
    assert!(e.starts_with("workload.pipeline.ops[0].latency") && e.contains("latency_ms"), "{e}");
    let e = err(json!({"ops": [
        {"name": "src", "latency_ms": 1, "out_bytes": 10},
        {"name": "a", "latency_ms": 1, "in_bytes": 10, "out_bytes": 10, "depends_on": "nope"}
    ]}));
    assert!(e.contains("depends_on `nope`"), "{e}");
}

#[test]
fn unknown_systems_are_refused_with_the_valid_names() {
    let e = serde_json::from_value::<DatapipeSystem>(json!({"system": "tf-dta"})).unwrap_err();
    assert!(e.to_string().contains("tf-data"), "{e}");
    let w: Result<DatapipeWorkload, _> =
        serde_json::from_value(json!({"pipeline": "asr", "resources": {"local_cpus": 4}}));
    assert!(w.unwrap_err().to_string().contains("local_vcpus"));
}

#[test]
fn a_profile_with_a_missing_field_names_the_file_line_and_column() {
    let dir = std::env::temp_dir().join(format!("datapipe-errors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad_ops.tsv");
    let header = datapipe::profile::OPS_COLUMNS.join("\t");
    std::fs::write(
        &path,
        format!("# test\n{header}\nx\tp\td\tf\t1\t0\tsrc\t1\t\t\t0\t1000\t0\t10\nx\tp\td\tf\t0\t1\top\t0\t\t\t0\tslow\t10\t10\n"),
    )
    .unwrap();
    let e = read_ops(&path, None).unwrap_err().to_string();
    assert!(e.contains("bad_ops.tsv:4:") && e.contains("latency_ns"), "{e}");
    std::fs::write(&path, format!("{header}\nx\tp\td\n")).unwrap();
    let e = read_ops(&path, None).unwrap_err().to_string();
    assert!(e.contains(":2:") && e.contains("missing `definition_file`"), "{e}");
    std::fs::write(&path, "pipeline\tprofile\n").unwrap();
    let e = read_ops(&path, None).unwrap_err().to_string();
    assert!(e.contains("missing column `definition`"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}
