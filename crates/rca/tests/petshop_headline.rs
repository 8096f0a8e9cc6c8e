//! A small version of configs/rca/petshop.yaml (the low-traffic scenario only), checking the
//! directions of its result: the reversed call graph localises PetShop's issues better than
//! no graph (BARO) at AC@3; Atlas's documentation-driven graph is closer to that graph than
//! PC's; every issue is localised. And the `benchmark: petshop` workload's bad fields and
//! bad data files are errors naming the field, or the file and line.

use std::collections::BTreeMap;
use std::path::PathBuf;

use rca::config::{RcaSystem, RcaWorkload};
use rca::run::prepare;

fn workload(json: serde_json::Value) -> RcaWorkload {
    serde_json::from_value(json).unwrap()
}

fn system(json: serde_json::Value) -> RcaSystem {
    serde_json::from_value(json).unwrap()
}

fn metrics(w: &RcaWorkload, s: serde_json::Value) -> BTreeMap<String, f64> {
    prepare(w, &system(s)).unwrap().run(1).unwrap().metrics.into_iter().collect()
}

#[test]
fn on_low_traffic_a_graph_helps_and_atlas_is_closer_to_it_than_pc() {
    let w = workload(serde_json::json!({ "benchmark": "petshop", "scenario": "low_traffic" }));
    let truth =
        metrics(&w, serde_json::json!({ "system": "ground-truth", "localizer": "random-walk" }));
    let baro = metrics(&w, serde_json::json!({ "system": "baro" }));
    let atlas = metrics(&w, serde_json::json!({ "system": "atlas", "localizer": "random-walk" }));
    let pc = metrics(&w, serde_json::json!({ "system": "pc", "localizer": "random-walk" }));
    for m in [&truth, &baro, &atlas, &pc] {
        assert_eq!(m["incidents"], 26.0, "{m:?}");
    }
    assert!(truth["ac_at_3"] > baro["ac_at_3"] + 0.2, "truth {truth:?} baro {baro:?}");
    assert_eq!(truth["edge_f1"], 1.0);
    assert!(atlas["edge_f1"] > pc["edge_f1"] + 0.1, "atlas {atlas:?} pc {pc:?}");
    assert!(atlas["ac_at_3"] > baro["ac_at_3"], "atlas {atlas:?} baro {baro:?}");
    assert!(!baro.contains_key("edge_f1"));
    assert!(truth.contains_key("ac_at_1_latency") && truth.contains_key("ac_at_3_availability"));
}

/// A fresh folder under the system's temporary directory.
fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rca-petshop-config-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn bad_petshop_workloads_name_their_field_or_file() {
    let err = |json: serde_json::Value| -> String {
        match prepare(&workload(json), &system(serde_json::json!({ "system": "baro" }))) {
            Ok(_) => panic!("accepted"),
            Err(e) => e.to_string(),
        }
    };
    let e = err(serde_json::json!({ "benchmark": "petshop", "cases": 5 }));
    assert!(e.starts_with("workload.cases: does not apply to `benchmark: petshop`"), "{e}");
    let e = err(serde_json::json!({ "benchmark": "petshop", "system": "sock-shop" }));
    assert!(e.starts_with("workload.system"), "{e}");
    let e = err(serde_json::json!({ "benchmark": "petshop", "metrics_missing": 0.2 }));
    assert!(e.starts_with("workload.metrics_missing"), "{e}");
    let e = err(serde_json::json!({ "benchmark": "petshop", "scenario": "low_trafic" }));
    assert!(e.starts_with("workload.scenario") && e.contains("low_traffic"), "{e}");
    let e =
        err(serde_json::json!({ "benchmark": "system", "system": "sock-shop", "scenario": "all" }));
    assert!(e.starts_with("workload.scenario: applies to `benchmark: petshop`"), "{e}");
    let e = err(serde_json::json!({ "benchmark": "petshop", "data": "no/such/petshop" }));
    assert!(e.starts_with("workload.data") && e.contains("no/such/petshop"), "{e}");
    // A data folder whose first scenario's call graph has a malformed row.
    let dir = temp_dir("bad-graph");
    for sc in rca::petshop::SCENARIOS {
        std::fs::create_dir_all(dir.join(sc)).unwrap();
        std::fs::write(dir.join(sc).join("graph.csv"), ",a,b\na,0.0,1.0\nb,0.0,yes\n").unwrap();
    }
    let e = err(serde_json::json!({ "benchmark": "petshop", "data": dir.display().to_string() }));
    assert!(e.contains("graph.csv:3:"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}
