//! Prints every system's simulated and predicted throughput on each preset pipeline:
//! `cargo run --release -p datapipe --example compare [local|remote] [samples]`.

use datapipe::config::{DatapipeSystem, DatapipeWorkload, Mode};
use datapipe::presets::PAPER_PIPELINES;
use datapipe::resources::Resources;
use datapipe::run::prepare;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let mode =
        if args.get(1).map(String::as_str) == Some("remote") { Mode::Remote } else { Mode::Local };
    let samples: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(20_000);
    let systems = DatapipeSystem::all_defaults();
    println!(
        "{:<10} {:<17} {:>10} {:>10} {:>8} {:>6}",
        "pipeline", "system", "sim sps", "pred sps", "speedup", "cpu"
    );
    for name in PAPER_PIPELINES {
        for s in &systems {
            let w = DatapipeWorkload {
                pipeline: serde_json::json!(name),
                mode,
                samples,
                epochs: 1,
                service_cv: 0.0,
                series_points: 10,
                resources: Resources::default(),
            };
            let p = prepare(&w, s)?;
            let r = p.run(1)?;
            println!(
                "{:<10} {:<17} {:>10.1} {:>10.1} {:>8.2} {:>6.2}   {}",
                name,
                p.plan().system,
                r.metrics["throughput_samples_s"],
                r.metrics["predicted_throughput_samples_s"],
                r.metrics["speedup_vs_unoptimized"],
                r.metrics["cpu_busy_frac"],
                p.plan().notes.join("; ")
            );
        }
    }
    Ok(())
}
