//! Throughput of every policy under 0..k concurrent failures, or under a failure process:
//! `cargo run --release -p pipeline --example policies [-- mtbf]`.

use cluster::Cluster;
use pipeline::{PipelineWorkload, SystemSpec};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mtbf = std::env::args().any(|a| a == "mtbf");
    let cluster = Cluster::preset("dgx-h100", 4)?;
    let systems: Vec<SystemSpec> =
        ["checkpoint-restart", "spare-servers", "bamboo", "oobleck", "slipstream"]
            .iter()
            .map(|s| serde_json::from_value(serde_json::json!({ "system": s })))
            .collect::<Result<_, _>>()?;
    let cases: Vec<serde_json::Value> = if mtbf {
        ["6h", "3h", "1h", "30min", "10min"]
            .iter()
            .map(|m| serde_json::json!({ "mtbf": m, "repair": "2h" }))
            .collect()
    } else {
        (0..=6).map(|k| serde_json::json!({ "concurrent": k })).collect()
    };
    for case in cases {
        let w: PipelineWorkload = serde_json::from_value(serde_json::json!({
            "model": "gpt3-6.7b", "stages": 8, "micro_batches": 16, "failures": case.clone(),
            "duration": if mtbf { "7d" } else { "1d" }
        }))?;
        let mut line = format!("{:<40}", case.to_string());
        for s in &systems {
            let t0 = std::time::Instant::now();
            let r = match pipeline::run::prepare(&cluster, &w, s)?.run(&cluster, 1, false) {
                Ok(r) => r,
                Err(e) => {
                    line.push_str(&format!(" {}=ERR({e})", s.name()));
                    continue;
                }
            };
            line.push_str(&format!(
                " {}={:.3} ({:.2}s, {:.0}ms)",
                s.name(),
                r.metrics["throughput_vs_healthy"],
                t0.elapsed().as_secs_f64(),
                r.metrics["iter_time_s"] * 1e3
            ));
        }
        println!("{line}");
    }
    Ok(())
}
