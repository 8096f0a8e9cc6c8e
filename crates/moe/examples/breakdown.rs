//! Where one iteration's time goes: the critical path of one iteration, summed by operation
//! name, per system, under a fixed linear popularity ramp. `cargo run --release -p moe
//! --example breakdown [-- scale] [flow] [comm=N]`: the headline setup (16 single-A100 nodes, GPT-Small,
//! 16 classes), or with `scale` the 256-GPU point of `configs/moe/scale.yaml` (32 DGX H100,
//! GPT-XL, 64 classes); `flow` runs the network as max-min fair flows; `comm=N` gives
//! each GPU N communication streams.

use std::collections::BTreeMap;

use cluster::Cluster;
use moe::dispatch::dispatch;
use moe::iteration::{IterationInput, build};
use moe::systems::{self, ExpertSystem};
use moe::{MoeModel, SystemSpec};
use taskgraph::{ExecConfig, execute};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let scale = std::env::args().any(|a| a == "scale");
    let (cluster, mut model, gpus_per_node, gpus, slots, experts, seq, batch) = if scale {
        let m = MoeModel::preset("gpt-xl").ok_or("no model")?;
        (Cluster::preset("dgx-h100", 32)?, m, 8u32, 256u32, 4u32, 64u32, 2048u32, 512.0)
    } else {
        let m = MoeModel::preset("gpt-small").ok_or("no model")?;
        (Cluster::preset("cloud-a100-100g", 16)?, m, 1, 16, 4, 16, 512, 64.0)
    };
    if !scale {
        model.moe_every = 1;
    }
    let tokens = batch * f64::from(seq);
    let ramp = f64::from(experts * (experts + 1) / 2);
    let layers = model.moe_layers() as usize;
    let routed: Vec<Vec<f64>> =
        vec![(0..experts).map(|c| tokens * (c as f64 + 1.0) / ramp).collect(); layers];
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
            gpus_per_node,
            tokens_per_gpu: tokens / f64::from(gpus),
            seq,
            dtype_bytes: 2.0,
            dtype: cluster::Dtype::Bf16,
            placements: &placements,
            dispatches: &d,
            optimizer: sys.optimizer(),
            moves: &moves,
            host_rate: cluster
                .catalog()
                .host(&cluster.spec().node.host)
                .map(|h| h.memory_bandwidth.0)?,
        };
        let it = build(&input)?;
        let mut cfg = if std::env::args().any(|a| a == "flow") {
            ExecConfig::flow()
        } else {
            ExecConfig::default()
        };
        for a in std::env::args() {
            if let Some(n) = a.strip_prefix("comm=") {
                cfg.comm_streams = n.parse()?;
            }
        }
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
