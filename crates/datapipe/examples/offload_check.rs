//! Checks the hand-off model against cedar's own profiling runs: for each preset, the measured
//! throughput with one operator offloaded to a process pool (SMP) or Ray workers, beside the
//! model's: the training process keeps every other operator and receives the offloaded one's
//! output at `pickle_bytes_per_s` (the pool, with 8 or 32 workers, is never the bottleneck
//! here), so `1 / (sum of the other costs + out_bytes / pickle_bytes_per_s)`. Prints a Markdown
//! table and the median error for a few hand-off rates:
//! `cargo run --release -p datapipe --example offload_check`.

use datapipe::presets::{PRESETS, load};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rates = [3e7, 9e7, 3e8, 5e9];
    let mut errors: Vec<Vec<f64>> = vec![Vec::new(); rates.len()];
    println!(
        "| preset | backend | offloaded operator | out bytes | measured, samples/s | model at 9e7 B/s | error |"
    );
    println!("|---|---|---|---|---|---|---|");
    for preset in PRESETS {
        if preset.name.ends_with("-cache") {
            continue; // the same runs as the preset they vary
        }
        let p = load(preset)?;
        let order = p.given_order();
        let costs = p.costs(&order);
        let total: f64 = costs.iter().map(|c| c.cost_s).sum();
        for (backend, runs) in &p.offload_runs {
            for &(i, measured) in runs {
                let model = |rate: f64| 1.0 / (total - costs[i].cost_s + costs[i].out_bytes / rate);
                for (k, &r) in rates.iter().enumerate() {
                    errors[k].push((model(r) / measured - 1.0).abs());
                }
                let m = model(9e7);
                println!(
                    "| {} | {backend} | {} | {:.0} | {measured:.1} | {m:.1} | {:+.0}% |",
                    preset.name,
                    p.ops[i].name,
                    costs[i].out_bytes,
                    (m / measured - 1.0) * 100.0
                );
            }
        }
    }
    println!();
    for (r, mut e) in rates.iter().zip(errors) {
        e.sort_by(f64::total_cmp);
        let median = e[e.len() / 2];
        let mean = e.iter().sum::<f64>() / e.len() as f64;
        println!(
            "hand-off {r:.0e} B/s: median |error| {:.0}%, mean {:.0}% over {} runs",
            median * 100.0,
            mean * 100.0,
            e.len()
        );
    }
    Ok(())
}
