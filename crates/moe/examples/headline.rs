//! The SwiftMoE headline comparison on one seed, printed as a table:
//! `cargo run --release -p moe --example headline [seed] [analytic|flow]`.

use cluster::Cluster;
use moe::{MoeWorkload, SystemSpec};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seed: u64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(1);
    let network = std::env::args().nth(2).unwrap_or_else(|| "analytic".into());
    let cluster = Cluster::preset("cloud-a100-100g", 16)?;
    let mut v = serde_json::json!({
        "model": "gpt-small", "moe_every": 1, "experts": 16, "slots_per_gpu": 4, "seq_len": 512,
        "global_batch": 64, "capacity_factor": 1.0, "network": network
    });
    // Extra workload fields as JSON in MOE_EXTRA, e.g. '{"routing": {"skew": 0.7}}'.
    if let Ok(extra) = std::env::var("MOE_EXTRA") {
        let e: serde_json::Value = serde_json::from_str(&extra)?;
        for (k, x) in e.as_object().ok_or("MOE_EXTRA must be a JSON object")? {
            v[k] = x.clone();
        }
    }
    let w: MoeWorkload = serde_json::from_value(v)?;
    let systems = [
        ("deepspeed", SystemSpec::Deepspeed),
        ("flexmoe-10", SystemSpec::Flexmoe { interval: 10, skew_threshold: None, max_moves: None }),
        ("flexmoe-50", SystemSpec::Flexmoe { interval: 50, skew_threshold: None, max_moves: None }),
        (
            "flexmoe-100",
            SystemSpec::Flexmoe { interval: 100, skew_threshold: None, max_moves: None },
        ),
        ("swiftmoe", SystemSpec::Swiftmoe),
        ("nodrop", SystemSpec::Nodrop),
    ];
    println!(
        "{:<12} {:>12} {:>10} {:>12} {:>10} {:>12}",
        "system", "time (s)", "iters", "iter (ms)", "dropped", "rebalance"
    );
    for (name, s) in systems {
        let t0 = std::time::Instant::now();
        let r = moe::run::prepare(&cluster, &w, &s)?.run(&cluster, seed, false)?;
        let m = &r.metrics;
        println!(
            "{:<12} {:>12.2} {:>10} {:>12.2} {:>9.1}% {:>11.2}%   ({:.2}s wall)",
            name,
            m["time_to_target_s"],
            m["iterations_to_target"],
            m["iter_time_s"] * 1e3,
            m["tokens_dropped_frac"] * 100.0,
            m["rebalance_time_frac"] * 100.0,
            t0.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
