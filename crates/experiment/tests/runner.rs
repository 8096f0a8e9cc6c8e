//! The runner end to end: identical results for any thread count, an interrupted run resumed
//! to the same results, shards merged into the same files as one run, and every report file
//! present and well-formed.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use experiment::runner::{self, Progress, RunOptions, Shard};
use experiment::{LoadedConfig, Plan};

const CONFIG: &str = "\
name: runner-test
kind: collective
cluster: { preset: dgx-a100 }
workload: { op: all-reduce, bytes: 64MiB, skew: 3us }
systems:
  - name: ring
  - name: tree
seeds: 3
sweep:
  grid:
    cluster.nodes: [1, 2]
  zip:
    workload.bytes: [1MiB, 256MiB]
    workload.skew: [1us, 5us]
report:
  plots:
    - { type: line, metric: busbw_gbs, x: workload.bytes, log_x: true }
    - { type: bars, metric: time_s, where: { workload.bytes: 256MiB } }
    - { type: cdf, series: link_utilization }
    - { type: heatmap, matrix: traffic_gb, where: { cluster.nodes: 2, workload.bytes: 1MiB } }
    - { type: gantt, system: tree, seed: 2, where: { cluster.nodes: 2, workload.bytes: 1MiB } }
";

fn plan() -> Plan {
    Plan::build(LoadedConfig::from_text("runner-test.yaml", CONFIG, &[], None).unwrap()).unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mlsim-runner-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn run_into(
    out: &Path,
    jobs: usize,
    shard: Option<Shard>,
    report: bool,
    stop_after: Option<usize>,
) -> runner::Outcome {
    let plan = plan();
    let stop = AtomicBool::new(false);
    let done = AtomicUsize::new(0);
    let progress = |p: &Progress| {
        if let Progress::Finished { .. } = p {
            let n = done.fetch_add(1, Ordering::SeqCst) + 1;
            if stop_after.is_some_and(|k| n >= k) {
                stop.store(true, Ordering::SeqCst);
            }
        }
    };
    let opts = RunOptions { out: out.to_path_buf(), jobs, shard, report };
    runner::run(&plan, &opts, &stop, &progress).unwrap()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn expansion_is_grid_times_zip_times_systems_times_seeds() {
    let p = plan();
    assert_eq!(p.points.len(), 4);
    assert_eq!(p.runs.len(), 4 * 2 * 3);
    assert_eq!(p.axes, vec!["cluster.nodes", "workload.bytes", "workload.skew"]);
    let labels: Vec<String> =
        p.points.iter().map(|pt| serde_json::to_string(&pt.params).unwrap()).collect();
    assert_eq!(
        labels[1],
        r#"{"cluster.nodes":2,"workload.bytes":"256MiB","workload.skew":"5us"}"#
            .replace("2,", "1,")
    );
    assert_eq!(labels[2], r#"{"cluster.nodes":2,"workload.bytes":"1MiB","workload.skew":"1us"}"#);
}

#[test]
fn results_are_byte_identical_for_any_number_of_threads() {
    let (a, b) = (scratch("jobs1"), scratch("jobs2"));
    let oa = run_into(&a, 1, None, false, None);
    let ob = run_into(&b, 2, None, false, None);
    assert_eq!((oa.ran, ob.ran), (24, 24));
    for f in ["runs.jsonl", "summary.csv", "config.resolved.yaml"] {
        assert_eq!(read(&a.join(f)), read(&b.join(f)), "{f} differs between --jobs 1 and --jobs 2");
    }
    // Seeds matter (arrival skew): the three seeds of a point differ.
    let runs = read(&a.join("runs.jsonl"));
    let first: Vec<&str> = runs.lines().take(3).collect();
    assert_ne!(first[0].split("\"metrics\"").nth(1), first[1].split("\"metrics\"").nth(1));
    let _ = std::fs::remove_dir_all(&a);
    let _ = std::fs::remove_dir_all(&b);
}

#[test]
fn an_interrupted_run_resumes_to_the_same_results() {
    let (full, cut) = (scratch("full"), scratch("cut"));
    run_into(&full, 2, None, false, None);
    let first = run_into(&cut, 1, None, false, Some(7));
    assert!(first.interrupted);
    assert!(
        first.records.len() >= 7 && first.records.len() < 24,
        "{} finished",
        first.records.len()
    );
    // runs.jsonl after the interruption holds exactly the finished runs.
    assert_eq!(read(&cut.join("runs.jsonl")).lines().count(), first.records.len());
    // A process killed while writing leaves a torn last line in its journal: it is skipped.
    let journal = std::fs::read_dir(cut.join("runs")).unwrap().next().unwrap().unwrap().path();
    let mut torn = read(&journal);
    torn.push_str("{\"record\":{\"run\":23,\"key\":\"");
    std::fs::write(&journal, torn).unwrap();
    let second = run_into(&cut, 2, None, false, None);
    assert!(!second.interrupted);
    assert_eq!(second.skipped, first.records.len());
    assert_eq!(second.ran, 24 - first.records.len());
    assert_eq!(read(&cut.join("runs.jsonl")), read(&full.join("runs.jsonl")));
    assert_eq!(read(&cut.join("summary.csv")), read(&full.join("summary.csv")));
    let third = run_into(&cut, 2, None, false, None);
    assert_eq!((third.ran, third.skipped), (0, 24), "nothing left to do");
    let _ = std::fs::remove_dir_all(&full);
    let _ = std::fs::remove_dir_all(&cut);
}

#[test]
fn two_shards_merged_equal_one_run() {
    let (full, s0, s1, merged) =
        (scratch("whole"), scratch("s0"), scratch("s1"), scratch("merged"));
    run_into(&full, 2, None, true, None);
    let a = run_into(&s0, 1, Some(Shard { index: 0, count: 2 }), false, None);
    let b = run_into(&s1, 1, Some(Shard { index: 1, count: 2 }), false, None);
    assert_eq!(a.in_scope + b.in_scope, 24);
    assert_eq!(a.in_scope, 12);
    runner::merge(&[s0.clone(), s1.clone()], &merged, true).unwrap();
    for f in [
        "runs.jsonl",
        "summary.csv",
        "config.resolved.yaml",
        "report/index.html",
        "report/report.md",
    ] {
        assert_eq!(read(&full.join(f)), read(&merged.join(f)), "{f} differs");
    }
    for d in [full, s0, s1, merged] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn merging_different_experiments_is_refused() {
    let (a, b) = (scratch("exp-a"), scratch("exp-b"));
    run_into(&a, 1, Some(Shard { index: 0, count: 4 }), false, None);
    let other = CONFIG.replace("seeds: 3", "seeds: 2");
    let plan =
        Plan::build(LoadedConfig::from_text("other.yaml", &other, &[], None).unwrap()).unwrap();
    let opts = RunOptions {
        out: b.clone(),
        jobs: 1,
        shard: Some(Shard { index: 1, count: 4 }),
        report: false,
    };
    runner::run(&plan, &opts, &AtomicBool::new(false), &|_| {}).unwrap();
    let e =
        runner::merge(&[a.clone(), b.clone()], &scratch("exp-m"), false).err().unwrap().to_string();
    assert!(e.contains("different experiments"), "{e}");
    let _ = std::fs::remove_dir_all(&a);
    let _ = std::fs::remove_dir_all(&b);
}

#[test]
fn every_report_file_exists_and_is_well_formed() {
    let out = scratch("report");
    run_into(&out, 2, None, true, None);
    let report = out.join("report");
    let mut svgs = 0;
    let mut pngs = 0;
    for entry in std::fs::read_dir(&report).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        assert!(!name.starts_with('.'), "temporary file left behind: {name}");
        match path.extension().and_then(|e| e.to_str()) {
            Some("svg") => {
                let text = read(&path);
                let doc = roxmltree::Document::parse(&text)
                    .unwrap_or_else(|e| panic!("{name}: not XML: {e}"));
                assert_eq!(doc.root_element().tag_name().name(), "svg");
                svgs += 1;
            }
            Some("png") => {
                let decoder =
                    png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&path).unwrap()));
                let mut reader = decoder.read_info().unwrap();
                let mut buf = vec![0; reader.output_buffer_size().unwrap()];
                let info = reader.next_frame(&mut buf).unwrap();
                assert_eq!((info.width, info.height), experiment::report::PLOT_SIZE, "{name}");
                assert!(buf.iter().any(|&b| b != 255), "{name} is blank");
                pngs += 1;
            }
            _ => {}
        }
    }
    assert_eq!((svgs, pngs), (5, 5));
    let html = read(&report.join("index.html"));
    assert!(html.contains("<img src=\"05-execution-trace.svg\""), "gantt plot linked");
    assert!(html.contains("runner-test") && html.contains("busbw_gbs"));
    let md = read(&report.join("report.md"));
    assert!(
        md.contains("![busbw_gbs vs workload.bytes](01-busbw-gbs-vs-workload-bytes.svg)"),
        "{md}"
    );
    // The line plot's x axis is zipped with workload.skew: one line per system and node
    // count, the partner named on the axis, never a line per skew value.
    let line = read(&report.join("01-busbw-gbs-vs-workload-bytes.svg"));
    assert!(line.contains("(with workload.skew)"), "x label names the zipped axis");
    assert!(line.contains("ring, cluster.nodes=2"), "one line per system and node count");
    assert!(!line.contains("workload.skew="), "zipped axis split the lines");
    // The traced run's Chrome trace was kept for the Gantt plot, and only it.
    assert_eq!(std::fs::read_dir(out.join("traces")).unwrap().count(), 1);
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn runs_sharing_a_key_run_once_and_keep_their_own_labels() {
    // Sweeping comm-rand's alpha leaves the random system's runs identical at both points:
    // one key, run once, reported at each point with that point's values.
    let config = "\
name: shared-keys
kind: gnn
cluster: { preset: dgx-a100 }
workload:
  graph: { model: sbm, nodes: 2000, communities: 10, stubs: 3, mu: 0.1 }
  features: 64
  batch: 64
  fanouts: [5, 5]
systems:
  - name: comm-rand
    params: { alpha: 0 }
  - name: random
seeds: 1
sweep:
  grid:
    systems[0].params.alpha: [0, 1]
";
    let plan = Plan::build(LoadedConfig::from_text("shared-keys.yaml", config, &[], None).unwrap())
        .unwrap();
    assert_eq!(plan.runs[1].key, plan.runs[3].key, "random's runs share a key");
    let out = scratch("shared-keys");
    let stop = AtomicBool::new(false);
    let opts = RunOptions { out: out.clone(), jobs: 2, shard: None, report: false };
    let outcome = runner::run(&plan, &opts, &stop, &|_: &Progress| {}).unwrap();
    assert_eq!((outcome.in_scope, outcome.ran), (4, 3));
    let labels: Vec<(usize, usize, String, String)> = outcome
        .records
        .iter()
        .map(|r| {
            (r.run, r.point, r.system.clone(), r.params["systems[0].params.alpha"].to_string())
        })
        .collect();
    assert_eq!(
        labels,
        vec![
            (0, 0, "comm-rand".into(), "0".into()),
            (1, 0, "random".into(), "0".into()),
            (2, 1, "comm-rand".into(), "1".into()),
            (3, 1, "random".into(), "1".into()),
        ]
    );
    assert_eq!(outcome.records[1].metrics, outcome.records[3].metrics);
    assert_eq!(read(&out.join("runs.jsonl")).lines().count(), 4);
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn a_system_keeps_its_colour_in_every_plot_and_the_table_is_wide() {
    // tree is the second system: its colour is the palette's second (#f28e2b) in every plot,
    // also in one that shows tree alone; ring's (#4e79a7) appears only where ring is drawn.
    let config = CONFIG.replace(
        "    - { type: cdf, series: link_utilization }\n",
        "    - { type: cdf, series: link_utilization }\n    - { type: bars, metric: time_s, system: tree }\n",
    );
    let plan =
        Plan::build(LoadedConfig::from_text("colours.yaml", &config, &[], None).unwrap()).unwrap();
    let out = scratch("colours");
    let opts = RunOptions { out: out.clone(), jobs: 2, shard: None, report: true };
    runner::run(&plan, &opts, &AtomicBool::new(false), &|_| {}).unwrap();
    let report = out.join("report");
    let svg = |stem: &str| read(&report.join(format!("{stem}.svg"))).to_lowercase();
    let (ring, tree) = ("#4e79a7", "#f28e2b");
    for stem in
        ["01-busbw-gbs-vs-workload-bytes", "02-time-s-by-system", "03-cdf-of-link-utilization"]
    {
        let text = svg(stem);
        assert!(text.contains(ring) && text.contains(tree), "{stem}: both systems drawn");
    }
    let alone = svg("04-time-s-by-system");
    assert!(alone.contains(tree) && !alone.contains(ring), "tree alone keeps its colour");
    // Axis labels come from the metric's description and unit.
    assert!(svg("01-busbw-gbs-vs-workload-bytes").contains("(GB/s)".to_lowercase().as_str()));
    // The summary table: one row per point and system (4 points x 2 systems), a column per
    // metric, mean ± CI.
    let md = read(&report.join("report.md"));
    let table: Vec<&str> = md
        .lines()
        .skip_while(|l| !l.starts_with("| cluster.nodes"))
        .take_while(|l| l.starts_with('|'))
        .collect();
    assert_eq!(table.len(), 2 + 8, "{md}");
    assert!(table[0].contains("busbw_gbs") && table[0].contains("time_s"), "{}", table[0]);
    assert!(table[2].contains(" ± "), "{}", table[2]);
    let _ = std::fs::remove_dir_all(&out);
}
