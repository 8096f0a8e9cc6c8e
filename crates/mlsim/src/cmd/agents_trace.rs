//! `mlsim agents-trace`: the world of one point of a `kind: agents` experiment (every agent's
//! position at every step and every LLM call), written as JSON lines.

use anyhow::{Context, Result, bail};
use experiment::{LoadedConfig, Plan};

use crate::cli::AgentsTraceArgs;
use crate::output::out;

/// Writes the trace.
pub fn run(args: &AgentsTraceArgs) -> Result<()> {
    let c = &args.config;
    let loaded = LoadedConfig::from_file(&c.file, &c.sets, c.seeds.as_deref())?;
    let plan = Plan::build(loaded)?;
    let kind = &plan.loaded.config.kind;
    if kind != "agents" {
        bail!(
            "{}: kind is `{kind}`; agents-trace reads a `kind: agents` experiment",
            c.file.display()
        );
    }
    let Some(point) = plan.points.get(args.point) else {
        bail!(
            "--point {}: the experiment has {} points (0 to {})",
            args.point,
            plan.points.len(),
            plan.points.len().saturating_sub(1)
        );
    };
    let workload: agents::AgentsWorkload =
        serde_json::from_value(point.tree["workload"].clone())
            .with_context(|| format!("{}: workload of point {}", c.file.display(), args.point))?;
    let prepared =
        agents::run::prepare(&point.cluster, &workload, &agents::SystemSpec::SingleThread)
            .map_err(|e| anyhow::anyhow!("{}: {e}", c.file.display()))?;
    let world =
        prepared.world(args.seed).map_err(|e| anyhow::anyhow!("{}: {e}", c.file.display()))?;
    simcore::fs::write_atomic(&args.out, |f| {
        use std::io::Write;
        f.write_all(world.write_jsonl().as_bytes())
    })
    .with_context(|| format!("writing {}", args.out.display()))?;
    out!(
        "{}: {} agents, {} steps from step {}, {} calls (seed {}, point {})",
        args.out.display(),
        world.agents(),
        world.steps(),
        world.first_step,
        world.all_calls().len(),
        args.seed,
        args.point
    )?;
    Ok(())
}
