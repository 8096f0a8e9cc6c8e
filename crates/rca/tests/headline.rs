//! A small version of configs/rca/atlas-headline.yaml, checking the directions of its result:
//! on CIRCA 50/100 the true graph localises at least as well as PC's (AC@3, over 60 cases)
//! and PC's graph is far from the truth; on Online Boutique Atlas's graph is much closer to
//! the truth than PC's, and every incident is localised; BARO reports no graph scores.

use std::collections::BTreeMap;

use rca::config::{RcaSystem, RcaWorkload};
use rca::run::prepare;

fn workload(json: serde_json::Value) -> RcaWorkload {
    serde_json::from_value(json).unwrap()
}

fn system(json: serde_json::Value) -> RcaSystem {
    serde_json::from_value(json).unwrap()
}

/// Metrics averaged over seeds 1..=seeds.
fn mean_metrics(w: &RcaWorkload, s: &RcaSystem, seeds: u64) -> BTreeMap<String, f64> {
    let p = prepare(w, s).unwrap();
    let mut sum: BTreeMap<String, f64> = BTreeMap::new();
    for seed in 1..=seeds {
        for (k, v) in p.run(seed).unwrap().metrics {
            *sum.entry(k).or_default() += v / seeds as f64;
        }
    }
    sum
}

#[test]
fn on_circa_the_true_graph_localises_at_least_as_well_as_pc() {
    let w = workload(serde_json::json!({ "benchmark": "circa", "cases": 20 }));
    let truth = mean_metrics(
        &w,
        &system(serde_json::json!({ "system": "ground-truth", "localizer": "circa" })),
        3,
    );
    let pc =
        mean_metrics(&w, &system(serde_json::json!({ "system": "pc", "localizer": "circa" })), 3);
    assert!(truth["ac_at_3"] >= pc["ac_at_3"], "truth {truth:?} pc {pc:?}");
    assert!(truth["ac_at_1"] > pc["ac_at_1"], "truth {truth:?} pc {pc:?}");
    assert_eq!(truth["edge_f1"], 1.0);
    assert!(pc["edge_f1"] < 0.7, "{pc:?}");
    assert_eq!(truth["incidents"], 20.0);
}

#[test]
fn on_a_system_atlas_is_closer_to_the_truth_than_pc() {
    let w = workload(serde_json::json!({
        "benchmark": "system", "system": "online-boutique", "cases": 6, "normal": "3h",
    }));
    let atlas = mean_metrics(
        &w,
        &system(serde_json::json!({ "system": "atlas", "localizer": "circa" })),
        1,
    );
    let pc =
        mean_metrics(&w, &system(serde_json::json!({ "system": "pc", "localizer": "circa" })), 1);
    assert!(atlas["edge_f1"] > pc["edge_f1"] + 0.3, "atlas {atlas:?} pc {pc:?}");
    assert!(atlas["ac_at_3"] >= 0.5, "{atlas:?}");
    assert_eq!(atlas["incidents"], 6.0);
    let baro = mean_metrics(&w, &system(serde_json::json!({ "system": "baro" })), 1);
    assert!(!baro.contains_key("edge_f1"));
    assert!(baro["ac_at_5"] >= baro["ac_at_1"]);
}

#[test]
fn bad_workloads_name_their_field() {
    let err = |json: serde_json::Value| -> String {
        let w = workload(json);
        match prepare(&w, &system(serde_json::json!({ "system": "baro" }))) {
            Ok(_) => panic!("accepted"),
            Err(e) => e.to_string(),
        }
    };
    let e = err(serde_json::json!({ "benchmark": "circa", "system": "sock-shop" }));
    assert!(e.starts_with("workload.system: applies to `benchmark: system`"), "{e}");
    let e = err(serde_json::json!({ "benchmark": "system", "system": "sock-shoe" }));
    assert!(e.contains("workload.system") && e.contains("sock-shop"), "{e}");
    let e = err(serde_json::json!({ "benchmark": "system" }));
    assert!(e.starts_with("workload.system: missing"), "{e}");
    let e = err(serde_json::json!({ "benchmark": "circa", "nodes": 5, "edges": 40 }));
    assert!(e.starts_with("workload.edges"), "{e}");
    let e = err(serde_json::json!({ "benchmark": "circa", "cases": 0 }));
    assert!(e.starts_with("workload.cases"), "{e}");
    let e = err(serde_json::json!({ "benchmark": "circa", "metrics_missing": 1.0 }));
    assert!(e.starts_with("workload.metrics_missing"), "{e}");
    let e = err(serde_json::json!({
        "benchmark": "system", "system": "online-boutique", "normal": "10min",
    }));
    assert!(e.starts_with("workload.normal"), "{e}");
    let e = err(serde_json::json!({
        "benchmark": "system", "system": "online-boutique", "fault": "disk-hog", "gap": "90s",
    }));
    assert!(e.starts_with("workload.gap"), "{e}");
    let e = err(serde_json::json!({
        "benchmark": "system", "system": "no/such/spec.yaml",
    }));
    assert!(e.starts_with("workload.system") && e.contains("spec.yaml"), "{e}");
    let pc = prepare(
        &workload(serde_json::json!({ "benchmark": "circa" })),
        &system(serde_json::json!({ "system": "pc", "alpha": 2.0 })),
    );
    assert!(pc.err().unwrap().to_string().starts_with("params.alpha"));
    let llm = prepare(
        &workload(serde_json::json!({ "benchmark": "circa" })),
        &system(serde_json::json!({ "system": "atlas", "backend": "llm" })),
    );
    assert!(llm.err().unwrap().to_string().starts_with("params.llm: missing"));
    assert!(
        serde_json::from_value::<RcaSystem>(serde_json::json!({ "system": "pc", "alfa": 1 }))
            .is_err()
    );
}
