//! The PetShop loader on the shipped data, on malformed files, and a direction test of the
//! evaluation on a tiny hand-written scenario.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use rca::petshop::{
    EvalOptions, MissingNormal, NormalSource, PetshopError, data_root, evaluate, incident,
    load_all, load_scenario, read_graph, read_metrics, read_target,
};

/// A fresh, empty folder under the system's temporary directory.
fn temp_dir(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let k = N.fetch_add(1, Ordering::Relaxed);
    let d = std::env::temp_dir().join(format!("rca-petshop-{}-{k}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// The error's text, asserting it names `file` and `:line:`.
fn err_at(e: PetshopError, file: &str, line: usize) -> String {
    let text = e.to_string();
    assert!(text.contains(file), "error should name {file}: {text}");
    assert!(text.contains(&format!(":{line}: ")), "error should name line {line}: {text}");
    text
}

#[test]
fn every_shipped_scenario_and_issue_loads_and_agrees_with_its_graph() {
    let scenarios = load_all(&data_root().unwrap()).unwrap();
    let names: Vec<&str> = scenarios.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["low_traffic", "high_traffic", "temporal_traffic1", "temporal_traffic2"]);
    let counts: Vec<usize> = scenarios.iter().map(|s| s.issues.len()).collect();
    assert_eq!(counts, [26, 26, 8, 8]);
    assert_eq!(counts.iter().sum::<usize>(), 68);
    let nodes: Vec<usize> = scenarios.iter().map(|s| s.graph.names.len()).collect();
    assert_eq!(nodes, [42, 44, 41, 41]);
    let calls: Vec<usize> = scenarios.iter().map(|s| s.graph.calls.len()).collect();
    assert_eq!(calls, [44, 47, 43, 43]);
    // Normal-period metrics: present for low and high traffic only (see data/rca/README.md).
    let normal: Vec<Option<(usize, usize)>> =
        scenarios.iter().map(|s| s.normal.as_ref().map(|m| (m.rows(), m.series.len()))).collect();
    assert_eq!(normal, [Some((589, 287)), Some((589, 273)), None, None]);
    let mut latency = 0;
    for sc in &scenarios {
        for issue in &sc.issues {
            let at = format!("{}/{}", sc.name, issue.label());
            assert!(sc.graph.index_of(&issue.root_cause.node).is_some(), "{at}");
            assert_eq!(issue.root_cause.metric, None, "{at}: node-level truth");
            assert_eq!(issue.target.node, "PetSite", "{at}");
            assert_ne!(issue.root_cause.node, issue.target.node, "{at}");
            latency += usize::from(issue.target.metric == "latency");
            assert_eq!(issue.metrics.rows(), 5, "{at}");
            // The trigger lies inside row 2 (0-based 1), except in temporal_traffic1's
            // train/issue_0, where it is exactly row 2's start.
            let first = issue.first_abnormal_row();
            let exact = at == "temporal_traffic1/train/issue_0";
            assert_eq!(first, Some(if exact { 1 } else { 2 }), "{at}");
            assert!(issue.command.is_some(), "{at}");
            for node in issue.metrics.nodes() {
                assert!(sc.graph.index_of(node).is_some(), "{at}: {node}");
            }
            // The root cause has series in the issue file and, where there is one, in the
            // normal-period file, so every method can rank it.
            assert!(issue.metrics.nodes().contains(&issue.root_cause.node.as_str()), "{at}");
            if let Some(m) = &sc.normal {
                assert!(m.nodes().contains(&issue.root_cause.node.as_str()), "{at}");
            }
            let inc = incident(sc, issue).unwrap();
            assert!(inc.series.iter().any(|s| s.node == issue.root_cause.node), "{at}");
            assert_eq!(inc.abnormal.len(), if exact { 4 } else { 3 }, "{at}");
        }
    }
    assert_eq!(latency, 36);
}

#[test]
fn malformed_graphs_name_the_file_and_line() {
    let d = temp_dir("graph");
    let p = d.join("graph.csv");
    // Not square: 3 header nodes, 2 rows.
    write(&p, ",a,b,c\na,0,1,0\nb,0,0,1\n");
    let t = err_at(read_graph(&p).unwrap_err(), "graph.csv", 3);
    assert!(t.contains("square") && t.contains("`c`"), "{t}");
    // A ragged row.
    write(&p, ",a,b\na,0,1\nb,0\n");
    let t = err_at(read_graph(&p).unwrap_err(), "graph.csv", 3);
    assert!(t.contains("2 fields, expected 3"), "{t}");
    // A value other than 0/1.
    write(&p, ",a,b\na,0,2\nb,0,0\n");
    let t = err_at(read_graph(&p).unwrap_err(), "graph.csv", 2);
    assert!(t.contains("column 3") && t.contains("not 0 or 1"), "{t}");
    // Row names differing from the header.
    write(&p, ",a,b\nb,0,1\na,0,0\n");
    let t = err_at(read_graph(&p).unwrap_err(), "graph.csv", 2);
    assert!(t.contains("expected `a`"), "{t}");
    // One row too many.
    write(&p, ",a\na,0\nb,0\n");
    err_at(read_graph(&p).unwrap_err(), "graph.csv", 3);
    // The shipped float form loads.
    write(&p, ",a,b\na,0.0,1.0\nb,0.0,0.0\n");
    assert_eq!(read_graph(&p).unwrap().calls, [(0, 1)]);
}

const HEADER: &str =
    "microservice,a,a\nmetric,latency,requests\nstatistic,Average,Sum\nunix_timestamp,,\n";

#[test]
fn malformed_metrics_name_the_file_and_line() {
    let d = temp_dir("metrics");
    let p = d.join("metrics.csv");
    // A ragged row.
    write(&p, &format!("{HEADER}0,1.0,2\n300,1.0\n"));
    let t = err_at(read_metrics(&p).unwrap_err(), "metrics.csv", 6);
    assert!(t.contains("2 fields, expected 3"), "{t}");
    // A non-numeric cell.
    write(&p, &format!("{HEADER}0,1.0,2\n300,fast,3\n"));
    let t = err_at(read_metrics(&p).unwrap_err(), "metrics.csv", 6);
    assert!(t.contains("column 2 (a latency Average)") && t.contains("`fast`"), "{t}");
    // Time going backwards.
    write(&p, &format!("{HEADER}300,1.0,2\n0,1.0,3\n"));
    err_at(read_metrics(&p).unwrap_err(), "metrics.csv", 6);
    // A wrong header label.
    write(&p, "microservice,a\nmetrics,latency\nstatistic,Average\nunix_timestamp,\n0,1\n");
    let t = err_at(read_metrics(&p).unwrap_err(), "metrics.csv", 2);
    assert!(t.contains("`metric`"), "{t}");
    // Empty cells are missing values.
    write(&p, &format!("{HEADER}0,,2\n300,1.5,\n"));
    let m = read_metrics(&p).unwrap();
    assert_eq!(m.values, [vec![None, Some(1.5)], vec![Some(2.0), None]]);
}

const TARGET: &str = r#"{"target": {"node": "front", "metric": "latency", "agg": "Average",
"timestamp": 1000},
"root_cause": {"node": "back", "metric": null},
"metadata": {"reproducibility": {"command": "inject"}}}
"#;

#[test]
fn malformed_targets_name_the_file_and_line() {
    let d = temp_dir("target");
    let p = d.join("target.json");
    // Bad JSON: a missing comma on line 2.
    let line1 =
        r#"{"target": {"node": "front", "metric": "latency", "agg": "Average", "timestamp": 1},"#;
    let line2 = r#""root_cause": {"node": "back" "metric": null}}"#;
    write(&p, &format!("{line1}\n{line2}\n"));
    let t = err_at(read_target(&p).unwrap_err(), "target.json", 2);
    assert!(t.contains("column"), "{t}");
    // A missing field.
    let no_time = r#"{"target": {"node": "front", "metric": "latency", "agg": "Average"},"#;
    write(&p, &format!("{no_time}\n\"root_cause\": {{\"node\": \"back\", \"metric\": null}}}}\n"));
    let t = err_at(read_target(&p).unwrap_err(), "target.json", 1);
    assert!(t.contains("timestamp"), "{t}");
    write(&p, TARGET);
    let (target, cause, command) = read_target(&p).unwrap();
    assert_eq!((target.node.as_str(), cause.node.as_str()), ("front", "back"));
    assert_eq!(command.as_deref(), Some("inject"));

    // A root cause that is not a node of the call graph.
    let sc = tiny_scenario("unknown-node");
    write(&sc.join("test/issue_0/target.json"), &TARGET.replace("\"back\"", "\"nowhere\""));
    let t = err_at(load_scenario(&sc).unwrap_err(), "target.json", 3);
    assert!(t.contains("root_cause.node") && t.contains("`nowhere`"), "{t}");
    // A series of a node the graph does not have.
    let sc = tiny_scenario("unknown-series");
    let m = sc.join("noissue/metrics.csv");
    let text =
        std::fs::read_to_string(&m).unwrap().replacen("microservice,front", "microservice,frnt", 1);
    write(&m, &text);
    let t = err_at(load_scenario(&sc).unwrap_err(), "metrics.csv", 1);
    assert!(t.contains("`frnt`"), "{t}");
}

/// A two-node scenario, `front` calling `back`: 40 normal rows with small noise, and one
/// issue whose last three rows have `back`'s latency tripled and `front`'s latency raised by
/// the same absolute amount (it waits for `back`), requests unchanged.
fn tiny_scenario(name: &str) -> PathBuf {
    let d = temp_dir(name);
    write(&d.join("graph.csv"), ",front,back\nfront,0,1\nback,0,0\n");
    let header = "microservice,front,back,front,back\nmetric,latency,latency,requests,requests\n\
                  statistic,Average,Average,Sum,Sum\nunix_timestamp,,,,\n";
    let row = |t: usize, back: f64, extra: f64| {
        let wiggle = ((t * 7919) % 13) as f64 / 13.0 - 0.5; // deterministic noise in [-0.5, 0.5)
        let back_lat = back * (1.0 + 0.05 * wiggle);
        let front_lat = 0.05 + back_lat + extra + 0.002 * wiggle;
        let req = 1000.0 + 20.0 * wiggle;
        format!("{},{front_lat},{back_lat},{req},{}\n", t * 300, req * 2.0)
    };
    let mut normal = header.to_string();
    for t in 0..40 {
        normal.push_str(&row(t, 0.1, 0.0));
    }
    write(&d.join("noissue/metrics.csv"), &normal);
    let mut issue = header.to_string();
    for (k, t) in (1000..1005).enumerate() {
        let back = if k >= 2 { 0.3 } else { 0.1 };
        issue.push_str(&row(t, back, 0.0));
    }
    write(&d.join("test/issue_0/metrics.csv"), &issue);
    // The trigger lies inside row 2 (starting at 1001 * 300 = 300,300 s).
    write(&d.join("test/issue_0/target.json"), &TARGET.replace("1000}", "300400}"));
    d
}

#[test]
fn baro_finds_the_obvious_fault_of_a_tiny_scenario() {
    let d = tiny_scenario("direction");
    let sc = load_scenario(&d).unwrap();
    assert_eq!(sc.issues.len(), 1);
    let issue = &sc.issues[0];
    assert_eq!(issue.first_abnormal_row(), Some(2));
    let inc = incident(&sc, issue).unwrap();
    assert_eq!((inc.normal.clone(), inc.abnormal.clone()), (0..40, 42..45));
    assert_eq!(inc.source, NormalSource::NoIssue);
    let eval = evaluate(std::slice::from_ref(&sc), &EvalOptions::default()).unwrap();
    let baro = eval.rankings.iter().find(|r| r.method == "baro").unwrap();
    assert_eq!(baro.nodes[0], "back", "BARO ranks the slowed callee first: {:?}", baro.nodes);
    assert_eq!(baro.rank, Some(0));
    // CIRCA, with the call graph reversed, explains front's rise by back's: back first too.
    let circa = eval.rankings.iter().find(|r| r.method == "circa").unwrap();
    assert_eq!(circa.rank, Some(0), "{:?}", circa.nodes);
    let all = eval.scores.iter().find(|r| r.group == "all" && r.method == "baro").unwrap();
    assert_eq!((all.scores.cases, all.scores.ac1), (1, 1.0));

    // Without normal-period metrics: the pre-incident rows, or skipped.
    let mut bare = sc.clone();
    bare.normal = None;
    let inc = incident(&bare, &bare.issues[0]).unwrap();
    assert_eq!((inc.normal.clone(), inc.source), (0..2, NormalSource::PreIncidentRows));
    let skip = EvalOptions { missing_normal: MissingNormal::Skip, ..EvalOptions::default() };
    let eval = evaluate(std::slice::from_ref(&bare), &skip).unwrap();
    assert!(eval.rankings.is_empty() && eval.skipped.len() == 1);
    // A trigger before the first row leaves no pre-incident rows: skipped, not an error.
    bare.issues[0].target.timestamp = 0.0;
    assert!(incident(&bare, &bare.issues[0]).is_err());
    let eval = evaluate(&[bare], &EvalOptions::default()).unwrap();
    assert!(eval.rankings.is_empty() && eval.skipped[0].contains("no row before"));
}
