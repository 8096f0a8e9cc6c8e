//! Times a few iterations at scale:
//! `cargo run --release -p moe --example scale_probe NODES ITERS [NETWORK [FLOW_TOLERANCE]]`
//! (network: analytic, contention-free or flow; the tolerance is `cluster.flow_tolerance`).

use cluster::{Cluster, ClusterSpec};
use moe::{MoeWorkload, SystemSpec};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let nodes: u32 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(128);
    let iters: u64 = std::env::args().nth(2).and_then(|s| s.parse().ok()).unwrap_or(3);
    let network = std::env::args().nth(3).unwrap_or_else(|| "analytic".into());
    let mut spec = ClusterSpec::preset("dgx-h100")?.with_nodes(nodes);
    if let Some(t) = std::env::args().nth(4) {
        spec.flow_tolerance = t.parse()?;
    }
    let cluster = Cluster::new(spec)?;
    let w: MoeWorkload = serde_json::from_value(serde_json::json!({
        "model": "gpt-xl", "experts": 64, "slots_per_gpu": 2, "seq_len": 2048,
        "global_batch": 2 * 8 * nodes, "max_iterations": iters, "network": network,
        "convergence": { "target_iterations": 1.0e9 }
    }))?;
    for s in [SystemSpec::Deepspeed, SystemSpec::Swiftmoe] {
        let t0 = std::time::Instant::now();
        let r = moe::run::prepare(&cluster, &w, &s)?.run(&cluster, 1, false)?;
        println!(
            "{}: {:.3}s wall for {iters} iterations, iter {:.1} ms, dropped {:.1}%",
            s.name(),
            t0.elapsed().as_secs_f64(),
            r.metrics["iter_time_s"] * 1e3,
            r.metrics["tokens_dropped_frac"] * 100.0
        );
    }
    Ok(())
}
