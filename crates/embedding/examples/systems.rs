//! Every system on a table set as HBM shrinks:
//! `cargo run --release -p embedding --example systems [-- TABLES NODES]`.

use cluster::Cluster;
use embedding::{EmbeddingWorkload, SystemSpec};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let tables = args.get(1).cloned().unwrap_or_else(|| "criteo-kaggle".into());
    let nodes: u32 = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(1);
    let cluster = Cluster::preset("dgx-h100", nodes)?;
    let systems =
        ["torchrec", "table-wise", "row-wise", "table-row-wise", "data-parallel", "recshard"];
    for hbm in ["64GiB", "8GiB", "2GiB", "512MiB", "128MiB"] {
        let w: EmbeddingWorkload = serde_json::from_value(serde_json::json!({
            "tables": tables, "batch": 65536, "memory": { "hbm": hbm }, "steps": 5
        }))?;
        let mut line = format!("{hbm:>7}");
        for s in systems {
            let spec: SystemSpec = serde_json::from_value(serde_json::json!({ "system": s }))?;
            let t0 = std::time::Instant::now();
            match embedding::run::prepare(&cluster, &w, &spec).and_then(|p| {
                let pt = p.plan_time_s();
                p.run(&cluster, 1, false).map(|r| (r, pt))
            }) {
                Ok((r, pt)) => line.push_str(&format!(
                    " | {s} {:.0}/s imb {:.2} slow {:.2e} hit {:.3} glob {:.2e} (plan {:.2}s, {:.2}s)",
                    r.metrics["emb_throughput_samples_s"],
                    r.metrics["load_imbalance"],
                    r.metrics["slow_tier_accesses"],
                    r.metrics["hbm_hit_rate"],
                    r.metrics["a2a_bytes_global"],
                    pt,
                    t0.elapsed().as_secs_f64()
                )),
                Err(e) => line.push_str(&format!(" | {s} ERR {e}")),
            }
        }
        println!("{line}");
    }
    Ok(())
}
