//! Localises the 68 issues of the PetShop data set (`data/rca/petshop`) with BARO, the random
//! walk and CIRCA, and prints node-level AC@1/3/5 and Avg@5 per scenario and overall, then
//! AC@1 and AC@3 per traffic scenario and symptom (the grouping of the PetShop authors'
//! scripts), and each issue's top three nodes.
//!
//! `cargo run --release -p rca --example petshop [-- DATA_DIR] [--skip-temporal]`
//!
//! DATA_DIR defaults to the shipped copy; `--skip-temporal` leaves out the scenarios without
//! normal-period metrics instead of using each issue's pre-incident rows.

use std::error::Error;
use std::path::PathBuf;

use rca::petshop::{
    EvalOptions, IssueRanking, MissingNormal, data_root, evaluate, load_all, score_rankings,
};

fn main() -> Result<(), Box<dyn Error>> {
    let mut root: Option<PathBuf> = None;
    let mut options = EvalOptions::default();
    for arg in std::env::args().skip(1) {
        if arg == "--skip-temporal" {
            options.missing_normal = MissingNormal::Skip;
        } else {
            root = Some(PathBuf::from(arg));
        }
    }
    let root = match root {
        Some(r) => r,
        None => data_root()?,
    };
    let scenarios = load_all(&root)?;
    println!("PetShop data: {}", root.display());
    for sc in &scenarios {
        let normal = match &sc.normal {
            Some(m) => format!("noissue {} rows x {} series", m.rows(), m.series.len()),
            None => "no noissue metrics".to_string(),
        };
        println!(
            "  {:<18} {} nodes, {} calls, {} issues, {normal}",
            sc.name,
            sc.graph.names.len(),
            sc.graph.calls.len(),
            sc.issues.len()
        );
    }
    let eval = evaluate(&scenarios, &options)?;
    for s in &eval.skipped {
        println!("skipped {s}");
    }

    println!("\nNode-level scores (AC@k: share of issues whose root-cause node is in the top k)");
    println!(
        "{:<18} {:<12} {:<20} {:>5} {:>6} {:>6} {:>6} {:>6}  normal period",
        "scenario", "method", "graph", "cases", "AC@1", "AC@3", "AC@5", "Avg@5"
    );
    for row in &eval.scores {
        let normal = eval
            .rankings
            .iter()
            .find(|r| r.scenario == row.group)
            .map_or("mixed", |r| r.normal.as_str());
        println!(
            "{:<18} {:<12} {:<20} {:>5} {:>6.3} {:>6.3} {:>6.3} {:>6.3}  {normal}",
            row.group,
            row.method,
            row.graph,
            row.scores.cases,
            row.scores.ac1,
            row.scores.ac3,
            row.scores.ac5,
            row.scores.avg5
        );
    }

    println!("\nAC@1 / AC@3 per traffic scenario and symptom (temporal = temporal_traffic1 + 2)");
    println!(
        "{:<10} {:<13} {:>5}  {:>13} {:>13} {:>13}",
        "traffic", "symptom", "cases", "baro", "random-walk", "circa"
    );
    for traffic in ["low", "high", "temporal"] {
        for symptom in ["latency", "availability"] {
            let pick = |m: &str| -> Vec<&IssueRanking> {
                eval.rankings
                    .iter()
                    .filter(|r| {
                        r.scenario.starts_with(traffic)
                            && r.target_metric == symptom
                            && r.method == m
                    })
                    .collect()
            };
            let mut cells = Vec::new();
            let mut cases = 0;
            for m in ["baro", "random-walk", "circa"] {
                let sel = pick(m);
                if sel.is_empty() {
                    cells.push("-".to_string());
                    continue;
                }
                let s = score_rankings(sel)?;
                cases = s.cases;
                cells.push(format!("{:.3} {:.3}", s.ac1, s.ac3));
            }
            println!(
                "{traffic:<10} {symptom:<13} {cases:>5}  {:>13} {:>13} {:>13}",
                cells[0], cells[1], cells[2]
            );
        }
    }

    println!("\nPer issue: rank of the true node (1-based) and the top three nodes");
    for r in &eval.rankings {
        let rank = r.rank.map_or("-".to_string(), |k| (k + 1).to_string());
        let top: Vec<&str> = r.nodes.iter().take(3).map(String::as_str).collect();
        println!(
            "{:<18} {:<14} {:<12} {:<12} truth {:<42} rank {:>3}  top {}",
            r.scenario,
            r.issue,
            r.target_metric,
            r.method,
            r.root_cause,
            rank,
            top.join(", ")
        );
    }
    Ok(())
}
