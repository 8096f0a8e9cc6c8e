//! `mlsim list`: what is built in.

use anyhow::Result;
use cluster::{Catalog, Cluster, CollectiveKind, PRESETS};

use crate::cli::{ListArgs, ListWhat};

use crate::output::out;

/// Prints the requested listing.
pub fn run(args: &ListArgs) -> Result<()> {
    match args.what {
        ListWhat::Presets => {
            out!("{:<18} {:>5} {:>6}  description", "preset", "GPUs", "NICs")?;
            for (name, _) in PRESETS {
                let c = Cluster::preset(name, 1)?;
                let s = c.spec();
                out!("{:<18} {:>5} {:>6}  {}", name, s.node.gpus, s.node.nics, s.description)?;
            }
            out!(
                "\nGPUs and NICs are per node; scale with --gpus (collective) or nodes: in a config."
            )?;
        }
        ListWhat::Gpus => {
            let cat = Catalog::builtin();
            out!(
                "{:<16} {:>10} {:>9} {:>10} {:>6}  name",
                "gpu",
                "bf16 TF/s",
                "HBM",
                "HBM GB/s",
                "L2"
            )?;
            for (key, g) in &cat.gpus {
                let bf16 = g.peak.get(&cluster::Dtype::Bf16).map(|r| format!("{:.1}", r.0 / 1e12));
                let fp16 = g.peak.get(&cluster::Dtype::Fp16).map(|r| format!("{:.1}*", r.0 / 1e12));
                out!(
                    "{:<16} {:>10} {:>9} {:>10.0} {:>6}  {}",
                    key,
                    bf16.or(fp16).unwrap_or_else(|| "-".into()),
                    g.memory.to_string(),
                    g.memory_bandwidth.0 / 1e9,
                    g.l2_cache.to_string(),
                    g.name
                )?;
            }
            out!(
                "\nDense peak rates; * = fp16 (no bf16 support). Sources: docs/models/cluster.md."
            )?;
        }
        ListWhat::Kinds => {
            for k in experiment::kinds() {
                out!("{:<12} {}", k.info().name, k.info().description)?;
            }
        }
        ListWhat::Systems => {
            for k in experiment::kinds() {
                out!("kind {}:", k.info().name)?;
                for s in k.info().systems {
                    out!("  {:<14} {}", s.name, s.description)?;
                }
            }
        }
        ListWhat::Metrics => {
            for k in experiment::kinds() {
                out!("kind {}:", k.info().name)?;
                for (what, list) in [
                    ("metric", k.info().metrics),
                    ("series", k.info().series),
                    ("matrix", k.info().matrices),
                ] {
                    for m in list {
                        let unit = if m.unit.is_empty() {
                            String::new()
                        } else {
                            format!(" [{}]", m.unit)
                        };
                        out!("  {what:<7} {:<18} {}{unit}", m.name, m.description)?;
                    }
                }
            }
        }
        ListWhat::Models => {
            out!(
                "{:<16} {:>6} {:>7} {:>6} {:>8} {:>12}",
                "model",
                "layers",
                "hidden",
                "heads",
                "vocab",
                "parameters"
            )?;
            for name in models::presets::names() {
                if let Some(m) = models::preset(name) {
                    out!(
                        "{:<16} {:>6} {:>7} {:>6} {:>8} {:>11.2}B",
                        name,
                        m.layers,
                        m.hidden,
                        m.heads,
                        m.vocab,
                        m.params() / 1e9
                    )?;
                }
            }
            out!(
                "\nGPT-3: Brown et al. 2020, Table 2.1; megatron-*: Narayanan et al., SC'21, Table 1; Llama and Mixtral: their published configs."
            )?;
        }
        ListWhat::Collectives => {
            for k in CollectiveKind::ALL {
                let algos: Vec<&str> =
                    cluster::Algorithm::candidates(k).iter().map(|a| a.name()).collect();
                out!("{:<15} algorithms: {}, auto", k.name(), algos.join(", "))?;
            }
        }
    }
    Ok(())
}
