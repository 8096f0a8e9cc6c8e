//! A bad experiment file gets one clear message: file, line, column, the field, what was
//! expected, and the nearest valid name for a typo.

use experiment::{LoadedConfig, Plan};

const GOOD: &str = "\
name: errors
kind: collective
cluster:
  preset: dgx-h100
  nodes: 2
workload:
  op: all-reduce
  bytes: 64MiB
systems:
  - name: ring
  - name: tree
seeds: 2
sweep:
  grid:
    workload.skew: [0us, 1us]
";

fn error(text: &str) -> String {
    match LoadedConfig::from_text("exp.yaml", text, &[], None).and_then(Plan::build) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e) => e.to_string(),
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

#[test]
fn the_good_file_is_valid() {
    let plan = Plan::build(LoadedConfig::from_text("exp.yaml", GOOD, &[], None).unwrap()).unwrap();
    assert_eq!(plan.runs.len(), 2 * 2 * 2);
}

#[test]
fn unknown_field_in_a_kind_section_names_line_field_and_suggestion() {
    let e = error(&GOOD.replace("  bytes: 64MiB", "  bytes: 64MiB\n  netwrk: flow"));
    assert_eq!(
        first_line(&e),
        "exp.yaml:9:3: workload.netwrk: unknown field `netwrk`, expected one of `op`, `bytes`, `gpus`, `network`, `skew` (did you mean `network`?)"
    );
    assert!(e.contains(" 9 |   netwrk: flow"), "{e}");
}

#[test]
fn typo_in_a_cluster_override_and_in_a_preset_name() {
    let e = error(&GOOD.replace("  nodes: 2", "  nodez: 2"));
    assert!(
        first_line(&e).starts_with("exp.yaml:5:3: cluster.nodez: unknown field `nodez`"),
        "{e}"
    );
    assert!(e.contains("did you mean `node"), "{e}");
    let e = error(&GOOD.replace("preset: dgx-h100", "preset: dgx-h10"));
    assert_eq!(
        first_line(&e),
        "exp.yaml:4:11: cluster.preset: unknown preset `dgx-h10` (did you mean `dgx-h100`?); valid: cloud-a100-100g, dgx-a100, dgx-h100, g5-xlarge, g5-12xlarge, g5-48xlarge, g6-xlarge, g6-12xlarge, g6-48xlarge"
    );
}

#[test]
fn bad_unit_is_located_at_the_value() {
    let e = error(&GOOD.replace("bytes: 64MiB", "bytes: 64Mb"));
    assert!(
        first_line(&e).starts_with("exp.yaml:8:10: workload.bytes: unknown unit 'Mb' in '64Mb'"),
        "{e}"
    );
    assert!(e.contains("did you mean MB?"), "{e}");
}

#[test]
fn bad_unit_in_a_sweep_value_points_at_the_sweep_entry() {
    let e = error(&GOOD.replace("[0us, 1us]", "[0us, 1uss]"));
    assert!(first_line(&e).starts_with("exp.yaml:15:26: workload.skew: unknown unit 'uss'"), "{e}");
}

#[test]
fn wrong_type_is_located() {
    let e = error(&GOOD.replace("  nodes: 2", "  nodes: two"));
    assert!(first_line(&e).starts_with("exp.yaml:5:10: cluster.nodes: invalid"), "{e}");
    let e = error(&GOOD.replace("seeds: 2", "seeds: {a: 1}"));
    assert!(first_line(&e).starts_with("exp.yaml:12:8: seeds: seeds must be a count"), "{e}");
}

#[test]
fn unknown_system_and_kind_suggest_the_nearest() {
    let e = error(&GOOD.replace("  - name: tree", "  - name: tre"));
    assert!(
        first_line(&e).starts_with(
            "exp.yaml:11:11: systems[1].name: unknown system `tre` (did you mean `tree`?)"
        ),
        "{e}"
    );
    let e = error(&GOOD.replace("kind: collective", "kind: colective"));
    assert!(
        first_line(&e).starts_with(
            "exp.yaml:2:7: kind: unknown kind `colective` (did you mean `collective`?)"
        ),
        "{e}"
    );
}

#[test]
fn an_algorithm_that_cannot_do_the_op_is_rejected_at_validation() {
    let e = error(&GOOD.replace("op: all-reduce", "op: all-to-all"));
    assert!(
        first_line(&e)
            .starts_with("exp.yaml:10:11: systems[0].name: all-to-all has no `ring` algorithm"),
        "{e}"
    );
}

#[test]
fn set_overrides_are_blamed_on_the_argument() {
    let loaded =
        LoadedConfig::from_text("exp.yaml", GOOD, &["workload.bytes=12Q".into()], None).unwrap();
    let e = Plan::build(loaded).err().unwrap().to_string();
    assert!(e.starts_with("--set workload.bytes=12Q: workload.bytes: unknown unit 'Q'"), "{e}");
}

#[test]
fn report_plots_are_checked() {
    let text = format!(
        "{GOOD}report:\n  plots:\n    - type: line\n      metric: busbw\n      x: workload.bytes\n"
    );
    let e = error(&text);
    assert!(
        first_line(&e)
            .starts_with("exp.yaml:19:15: report.plots[0].metric: unknown metric `busbw`"),
        "{e}"
    );
    assert!(e.contains("did you mean `busbw_gbs`?"), "{e}");
    let text = format!(
        "{GOOD}report:\n  plots:\n    - type: bars\n      metric: time_s\n      where: {{workload.skew: 2us}}\n"
    );
    let e = error(&text);
    assert!(e.contains("no point has workload.skew = 2us"), "{e}");
}

#[test]
fn a_missing_cluster_is_an_error_only_for_kinds_that_simulate_hardware() {
    let no_cluster = GOOD.replace("cluster:\n  preset: dgx-h100\n  nodes: 2\n", "");
    let e = error(&no_cluster);
    assert!(first_line(&e).contains("cluster: missing: this kind simulates hardware"), "{e}");
    let datapipe = "\
name: nocluster
kind: datapipe
workload: { pipeline: asr, samples: 100 }
systems:
  - name: unoptimized
";
    let plan =
        Plan::build(LoadedConfig::from_text("exp.yaml", datapipe, &[], None).unwrap()).unwrap();
    assert_eq!(plan.runs.len(), 1);
}
