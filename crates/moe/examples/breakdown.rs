//! Where one iteration's time goes: the critical path of the headline setup's iteration,
//! summed by operation name, per system. `cargo run --release -p moe --example breakdown`.

use std::collections::BTreeMap;

use cluster::Cluster;
use moe::dispatch::dispatch;
use moe::iteration::{IterationInput, build};
use moe::systems::{self, ExpertSystem};
use moe::{ModelSpec, SystemSpec};
use taskgraph::{ExecConfig, execute};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cluster = Cluster::preset("cloud-a100-100g", 16)?;
    let mut model = ModelSpec::preset("gpt-small").ok_or("no model")?;
    model.moe_every = 1;
    let (gpus, slots, experts) = (16u32, 4u32, 16u32);
    let tokens = 64.0 * 512.0;
    let layers = model.moe_layers() as usize;
    let routed: Vec<Vec<f64>> =
        vec![(0..experts).map(|c| tokens * (c as f64 + 1.0) / 136.0).collect(); layers];
    for spec in [
        SystemSpec::Deepspeed,
        SystemSpec::Swiftmoe,
        SystemSpec::Flexmoe { interval: 1, skew_threshold: None, max_moves: None },
    ] {
        let mut sys: Box<dyn ExpertSystem> =
            systems::build(&spec, layers, experts as usize, gpus, slots);
        let moves = sys.prepare(1, Some(&routed));
        let cap = tokens / f64::from(gpus * slots);
        let d: Vec<_> =
            (0..layers).map(|l| dispatch(&routed[l], sys.placement(l), cap, 1)).collect();
        let placements: Vec<_> = (0..layers).map(|l| sys.placement(l)).collect();
        let input = IterationInput {
            model: &model,
            experts,
            gpus,
            gpus_per_node: 1,
            tokens_per_gpu: tokens / 16.0,
            seq: 512,
            dtype_bytes: 2.0,
            dtype: cluster::Dtype::Bf16,
            placements: &placements,
            dispatches: &d,
            optimizer: sys.optimizer(),
            moves: &moves,
            host_rate: 204.8e9,
        };
        let it = build(&input)?;
        let cfg = if std::env::args().any(|a| a == "flow") {
            ExecConfig::flow()
        } else {
            ExecConfig::default()
        };
        let run = execute(&it.graph, &cluster, &cfg)?;
        let mut by: BTreeMap<&str, f64> = BTreeMap::new();
        for op in run.critical_path() {
            *by.entry(it.graph.name(op)).or_default() += run.duration(op).as_secs_f64() * 1e3;
        }
        println!(
            "{} ({} ops): {:.2} ms",
            spec.name(),
            it.graph.len(),
            run.makespan().as_secs_f64() * 1e3
        );
        for (k, v) in by {
            println!("   {k:<28} {v:8.2} ms");
        }
    }
    Ok(())
}
