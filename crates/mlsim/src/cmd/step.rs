//! `mlsim step`: one training step of a GPT model under tensor x pipeline x data parallelism,
//! simulated by the pipeline crate with no failures.
//!
//! The command turns its flags into a `kind: pipeline` workload (tp, `stages` = pp,
//! `pipelines` = dp, `micro_batches` = global batch / (micro-batch x dp)) on a cluster of
//! exactly `gpus / gpus-per-node` nodes, runs it with the checkpoint-restart system and no
//! failure process (the healthy job), and reports the steady-state iteration the pipeline
//! crate measures (`iter_time_s`: the period of the second of two back-to-back iterations) with
//! its throughput, MFU, per-GPU memory and whatever time breakdown the pipeline model reports.

use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use cluster::{Cluster, ClusterSpec};
use pipeline::{PipelineWorkload, ScheduleKind, SystemSpec};
use serde_json::{Map, Value, json};
use simcore::{InputError, RunResult};

use crate::cli::{NetworkArg, RecomputeArg, SplitArg, StepArgs};
use crate::output::out;

/// The breakdown metrics of a step, as the pipeline crate names them, with their labels.
pub const BREAKDOWN: [(&str, &str); 5] = [
    ("compute_s", "compute"),
    ("tp_comm_exposed_s", "exposed TP communication"),
    ("bubble_s", "pipeline bubble"),
    ("dp_comm_exposed_s", "exposed DP communication"),
    ("optimizer_s", "optimizer"),
];

/// Simulated time of the (failure-free) horizon: any length works, the step time is the
/// steady-state iteration, measured before the horizon is walked.
const HORIZON: &str = "1h";

/// The job's shape, derived from the flags and checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Nodes of the cluster.
    pub nodes: u32,
    /// Data-parallel size.
    pub dp: u32,
    /// Micro-batches per pipeline and step.
    pub micro_batches: u32,
}

/// Checks `gpus`, `tp x pp x dp` and the global batch; every error names the numbers and what
/// would work.
pub fn layout(
    gpus: u32,
    per_node: u32,
    tp: u32,
    pp: u32,
    dp: Option<u32>,
    micro_batch: u32,
    global_batch: u32,
) -> Result<Layout> {
    for (flag, v) in [("--gpus", gpus), ("--tp", tp), ("--pp", pp), ("--micro-batch", micro_batch)]
    {
        if v == 0 {
            bail!("{flag} must be at least 1");
        }
    }
    if global_batch == 0 {
        bail!("--global-batch must be at least 1");
    }
    let per_node = per_node.max(1);
    if !gpus.is_multiple_of(per_node) {
        let below = gpus / per_node * per_node;
        let above = below + per_node;
        let use_ = if below > 0 { format!("{below} or {above}") } else { above.to_string() };
        bail!(
            "--gpus {gpus} is not a whole number of nodes of {per_node} GPUs: use {use_} (--gpus counts whole nodes)"
        );
    }
    let nodes = gpus / per_node;
    let (gpus64, tp_pp) = (u64::from(gpus), u64::from(tp) * u64::from(pp));
    let dp = match dp {
        Some(0) => bail!("--dp must be at least 1"),
        Some(dp) => {
            let product = tp_pp * u64::from(dp);
            if product != gpus64 {
                let hint = if gpus64.is_multiple_of(tp_pp) {
                    format!("; --dp {} would use them all", gpus64 / tp_pp)
                } else {
                    format!("; tp x pp = {tp_pp} does not divide {gpus}, so no --dp can")
                };
                bail!(
                    "tp {tp} x pp {pp} x dp {dp} = {product} GPUs, but --gpus is {gpus}: the product must equal the GPU count{hint}"
                );
            }
            dp
        }
        None => {
            if !gpus64.is_multiple_of(tp_pp) {
                bail!(
                    "tp {tp} x pp {pp} = {tp_pp} does not divide --gpus {gpus}: tp x pp x dp must equal the GPU count"
                );
            }
            u32::try_from(gpus64 / tp_pp).context("--dp does not fit in 32 bits")?
        }
    };
    let unit = u64::from(micro_batch) * u64::from(dp);
    let global = u64::from(global_batch);
    if !global.is_multiple_of(unit) {
        let below = global / unit * unit;
        let above = below + unit;
        let near = if below > 0 {
            format!("--global-batch {below} or {above}")
        } else {
            above.to_string()
        };
        let mb = if global.is_multiple_of(u64::from(dp)) {
            let per_replica = global / u64::from(dp);
            let fits: Vec<String> = (1..=per_replica.min(64))
                .filter(|b| per_replica.is_multiple_of(*b))
                .map(|b| b.to_string())
                .collect();
            format!(", or a --micro-batch that divides {per_replica} ({})", fits.join(", "))
        } else {
            String::new()
        };
        bail!(
            "--global-batch {global_batch} is not a multiple of micro-batch {micro_batch} x dp {dp} = {unit}: would divide: {near}{mb}"
        );
    }
    let micro_batches =
        u32::try_from(global / unit).context("micro-batches per pipeline do not fit in 32 bits")?;
    Ok(Layout { nodes, dp, micro_batches })
}

fn recompute_name(r: RecomputeArg) -> &'static str {
    match r {
        RecomputeArg::None => "none",
        RecomputeArg::Selective => "selective",
        RecomputeArg::Full => "full",
    }
}

fn split_name(s: SplitArg) -> &'static str {
    match s {
        SplitArg::Even => "even",
        SplitArg::Balanced => "balanced",
    }
}

fn network_name(n: NetworkArg) -> &'static str {
    match n {
        NetworkArg::Analytic => "analytic",
        NetworkArg::ContentionFree => "contention-free",
        NetworkArg::Flow => "flow",
    }
}

/// The `--model` value as a config value: a preset name, or a JSON spec.
fn model_value(model: &str) -> Result<Value> {
    let m = model.trim();
    if m.starts_with('{') {
        serde_json::from_str(m).with_context(|| format!("--model: `{m}` is not a valid JSON spec"))
    } else {
        Ok(Value::String(m.to_string()))
    }
}

/// The pipeline crate's field as the flag that sets it.
fn flag_of(field: &str) -> Option<&'static str> {
    Some(match field.strip_prefix("workload.").unwrap_or(field) {
        "model" => "--model",
        "stages" => "--pp",
        "pipelines" => "--dp",
        "tp" => "--tp",
        "sp" => "--sp",
        "recompute" => "--recompute",
        "split" => "--split",
        "interleave" => "--interleave",
        "schedule" => "--schedule",
        "micro_batches" => "--global-batch",
        "micro_batch_size" => "--micro-batch",
        "network" => "--network",
        "dp_reduce" => "--distributed-optimizer",
        "overlap_grad_reduce" => "--overlap-grad-reduce",
        _ => return None,
    })
}

/// An error of the pipeline crate, with the flag in place of the config field it names.
fn flagged(e: InputError) -> anyhow::Error {
    match e {
        InputError::Invalid { field, message } => match flag_of(&field) {
            Some(flag) => anyhow!("{flag} ({field}): {message}"),
            None => anyhow!("{field}: {message}"),
        },
        other => anyhow!(other),
    }
}

/// Builds the workload of the step.
fn workload(args: &StepArgs, layout: &Layout) -> Result<PipelineWorkload> {
    let schedule: ScheduleKind = serde_json::from_value(Value::String(args.schedule.clone()))
        .map_err(|e| anyhow!("--schedule `{}`: {e}", args.schedule))?;
    let mut w = json!({
        "model": model_value(&args.model)?,
        "stages": args.pp,
        "pipelines": layout.dp,
        "tp": args.tp,
        "sp": args.sp,
        "recompute": recompute_name(args.recompute),
        "split": split_name(args.split),
        "micro_batches": layout.micro_batches,
        "micro_batch_size": args.micro_batch,
        "schedule": schedule,
        "network": network_name(args.network),
        "duration": HORIZON,
    });
    if let Some(v) = args.interleave {
        w["interleave"] = json!(v);
    }
    if args.distributed_optimizer {
        w["dp_reduce"] = json!("distributed-optimizer");
    }
    if args.overlap_grad_reduce {
        w["overlap_grad_reduce"] = json!(true);
    }
    for set in &args.sets {
        let (key, value) = set
            .split_once('=')
            .filter(|(k, _)| !k.trim().is_empty())
            .with_context(|| format!("--set `{set}`: expected KEY=VALUE"))?;
        let key = key.trim();
        if let Some(flag) = flag_of(key) {
            bail!("--set {key}=...: use {flag} instead");
        }
        if matches!(key, "failures" | "duration") {
            bail!(
                "--set {key}=...: a step runs without failures (use `mlsim run` with a `kind: pipeline` config)"
            );
        }
        let value = serde_json::from_str(value.trim())
            .unwrap_or_else(|_| Value::String(value.trim().to_string()));
        w[key] = value;
    }
    serde_json::from_value(w).map_err(|e| {
        let msg = e.to_string();
        let missing = [
            ("interleave", "--interleave"),
            ("dp_reduce", "--distributed-optimizer"),
            ("overlap_grad_reduce", "--overlap-grad-reduce"),
        ]
        .into_iter()
        .find(|(field, _)| msg.contains(&format!("unknown field `{field}`")));
        if let Some((field, flag)) = missing {
            anyhow!(
                "{flag}: this build's pipeline model has no `{field}` setting (leave {flag} out)"
            )
        } else if msg.contains("unknown field") || !args.sets.is_empty() {
            anyhow!("the step's settings (--set {}): {msg}", args.sets.join(", --set "))
        } else if msg.contains("model") {
            anyhow!("--model `{}`: {msg}", args.model)
        } else {
            anyhow!("the step's settings: {msg}")
        }
    })
}

/// Per-GPU memory of the fullest stage: (peak, model state, activations), from the result's
/// per-stage series when present.
fn memory(r: &RunResult) -> (f64, Option<(f64, f64, usize)>) {
    let peak = r.metrics.get("peak_mem_bytes").copied().unwrap_or(f64::NAN);
    let fullest =
        match (r.series.get("peak_mem_bytes_by_stage"), r.series.get("peak_act_bytes_by_stage")) {
            (Some(mem), Some(act)) if mem.len() == act.len() && !mem.is_empty() => mem
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map(|(i, m)| (m - act[i], act[i], i)),
            _ => None,
        };
    (peak, fullest)
}

/// Runs the command.
pub fn run(args: &StepArgs) -> Result<()> {
    let mut spec = match &args.cluster {
        Some(path) => ClusterSpec::from_file(path)?,
        None => ClusterSpec::preset(&args.preset)?,
    };
    let per_node = spec.node.gpus;
    let layout = layout(
        args.gpus,
        per_node,
        args.tp,
        args.pp,
        args.dp,
        args.micro_batch,
        args.global_batch,
    )?;
    let model_ref: models::ModelRef = serde_json::from_value(model_value(&args.model)?)
        .map_err(|e| anyhow!("--model `{}`: {e}", args.model))?;
    let model = models::resolve(&model_ref).map_err(|e| anyhow!("--{e}"))?;
    spec.nodes = layout.nodes;
    if args.sharp {
        spec.fabric.sharp = true;
    }
    let cluster = Cluster::new(spec).context("building the cluster")?;
    let w = workload(args, &layout)?;
    let prepared =
        pipeline::run::prepare(&cluster, &w, &SystemSpec::CheckpointRestart).map_err(flagged)?;
    let r = prepared.run(&cluster, 1, args.trace.is_some()).map_err(flagged)?;
    if let Some(path) = &args.trace {
        save_trace(&r, path)?;
    }
    let name = if model.name.is_empty() { "custom model".to_string() } else { model.name.clone() };
    if args.json {
        print_json(args, &cluster, &name, &layout, &r)
    } else {
        print_text(args, &cluster, &name, &layout, &r)
    }
}

fn save_trace(r: &RunResult, path: &Path) -> Result<()> {
    let trace =
        r.trace.as_ref().context("--trace: the pipeline model returned no trace for this step")?;
    trace.save(path).with_context(|| format!("--trace: writing {}", path.display()))
}

fn metric(r: &RunResult, key: &str) -> Option<f64> {
    r.metrics.get(key).copied()
}

fn print_json(
    args: &StepArgs,
    cluster: &Cluster,
    name: &str,
    layout: &Layout,
    r: &RunResult,
) -> Result<()> {
    let (peak, fullest) = memory(r);
    let mut breakdown = Map::new();
    for (key, _) in BREAKDOWN {
        breakdown.insert(key.to_string(), metric(r, key).map_or(Value::Null, Value::from));
    }
    let memory = json!({
        "peak_bytes": peak,
        "state_bytes": fullest.map(|f| f.0),
        "activation_bytes": fullest.map(|f| f.1),
        "fullest_stage": fullest.map(|f| f.2),
        "hbm_bytes": cluster.gpu().memory.0,
    });
    let v = json!({
        "model": name,
        "cluster": cluster.spec().name,
        "gpu": cluster.gpu().name,
        "gpus": args.gpus,
        "nodes": layout.nodes,
        "tp": args.tp,
        "pp": args.pp,
        "dp": layout.dp,
        "micro_batch": args.micro_batch,
        "global_batch": args.global_batch,
        "micro_batches": layout.micro_batches,
        "sp": args.sp,
        "recompute": recompute_name(args.recompute),
        "interleave": args.interleave,
        "split": split_name(args.split),
        "distributed_optimizer": args.distributed_optimizer,
        "overlap_grad_reduce": args.overlap_grad_reduce,
        "sets": args.sets,
        "schedule": args.schedule,
        "network": network_name(args.network),
        "step_time_s": metric(r, "iter_time_s"),
        "tflops_per_gpu": metric(r, "tflops_per_gpu"),
        "mfu": metric(r, "mfu"),
        "peak_mem_bytes": peak,
        "memory": memory,
        "bubble_frac": metric(r, "bubble_frac"),
        "breakdown": breakdown,
        "metrics": r.metrics,
        "caveats": r.caveats,
        "trace": args.trace.as_ref().map(|p| p.display().to_string()),
    });
    out!("{v}")?;
    Ok(())
}

fn print_text(
    args: &StepArgs,
    cluster: &Cluster,
    name: &str,
    layout: &Layout,
    r: &RunResult,
) -> Result<()> {
    let gib = 2f64.powi(30);
    let spec = cluster.spec();
    out!(
        "# mlsim step: {name} on {} ({} GPUs: {} node(s) x {} {}), tp {} x pp {} x dp {}",
        spec.name,
        args.gpus,
        layout.nodes,
        spec.node.gpus,
        cluster.gpu().name,
        args.tp,
        args.pp,
        layout.dp
    )?;
    let mut knobs = vec![format!("schedule {}", args.schedule)];
    if let Some(v) = args.interleave {
        knobs.push(format!("interleave {v}"));
    }
    if args.sp {
        knobs.push("sequence parallel".into());
    }
    knobs.push(format!("recompute {}", recompute_name(args.recompute)));
    knobs.push(format!("{} split", split_name(args.split)));
    if args.distributed_optimizer {
        knobs.push("distributed optimizer".into());
    }
    if args.overlap_grad_reduce {
        knobs.push("overlapped gradient reduction".into());
    }
    knobs.extend(args.sets.iter().cloned());
    knobs.push(format!("{} network", network_name(args.network)));
    out!(
        "# micro-batch {} x {} micro-batches x dp {} = global batch {}; {}",
        args.micro_batch,
        layout.micro_batches,
        layout.dp,
        args.global_batch,
        knobs.join(", ")
    )?;
    for c in &r.caveats {
        out!("# note: {c}")?;
    }
    let step = metric(r, "iter_time_s");
    let show = |v: Option<f64>, f: &dyn Fn(f64) -> String| v.map_or("not available".into(), f);
    out!("step time          {}", show(step, &|s| format!("{s:.3} s")))?;
    out!(
        "TFLOP/s per GPU    {}",
        show(metric(r, "tflops_per_gpu"), &|t| format!("{t:.1} (Narayanan et al.'s count)"))
    )?;
    out!("MFU                {}", show(metric(r, "mfu"), &|m| format!("{:.1} %", 100.0 * m)))?;
    let (peak, fullest) = memory(r);
    let hbm = cluster.gpu().memory.0 as f64;
    out!("memory per GPU     peak {:.1} GiB of {:.1} GiB", peak / gib, hbm / gib)?;
    match fullest {
        Some((state, act, stage)) => out!(
            "                   fullest GPU (stage {stage}): model state {:.1} GiB (weights, gradients, optimizer), activations {:.1} GiB",
            state / gib,
            act / gib
        )?,
        None => out!("                   by kind: not available")?,
    }
    if let Some(b) = metric(r, "bubble_frac") {
        out!("bubble fraction    {:.1} %", 100.0 * b)?;
    }
    let present: Vec<_> =
        BREAKDOWN.iter().filter_map(|(k, label)| metric(r, k).map(|v| (*label, v))).collect();
    if present.is_empty() {
        out!("breakdown          not available (this build's pipeline model does not report it)")?;
    } else {
        out!("breakdown")?;
        for (key, label) in BREAKDOWN {
            match (metric(r, key), step) {
                (Some(v), Some(s)) if s > 0.0 => {
                    out!("  {label:<26} {v:>10.3} s {:>6.1} %", 100.0 * v / s)?
                }
                (Some(v), _) => out!("  {label:<26} {v:>10.3} s")?,
                (None, _) => out!("  {label:<26} not available")?,
            }
        }
    }
    if let Some(path) = &args.trace {
        out!("trace              {}", path.display())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_derives_dp_and_micro_batches() {
        let l = layout(1024, 8, 8, 16, Some(8), 1, 1536).unwrap();
        assert_eq!(l, Layout { nodes: 128, dp: 8, micro_batches: 192 });
        let l = layout(3072, 8, 8, 64, None, 1, 3072).unwrap();
        assert_eq!(l, Layout { nodes: 384, dp: 6, micro_batches: 512 });
    }

    #[test]
    fn layout_errors_name_the_numbers() {
        let e = layout(1024, 8, 8, 16, Some(4), 1, 1536).unwrap_err().to_string();
        assert!(e.contains("tp 8 x pp 16 x dp 4 = 512 GPUs") && e.contains("--dp 8"), "{e}");
        let e = layout(1000, 8, 8, 16, None, 1, 1536).unwrap_err().to_string();
        assert!(e.contains("tp 8 x pp 16 = 128 does not divide --gpus 1000"), "{e}");
        let e = layout(1020, 8, 1, 1, None, 1, 1536).unwrap_err().to_string();
        assert!(e.contains("use 1016 or 1024"), "{e}");
        let e = layout(1024, 8, 8, 16, Some(8), 2, 1000).unwrap_err().to_string();
        assert!(e.contains("micro-batch 2 x dp 8 = 16") && e.contains("992 or 1008"), "{e}");
        assert!(e.contains("--micro-batch that divides 125 (1, 5, 25)"), "{e}");
        let e = layout(8, 8, 0, 1, None, 1, 8).unwrap_err().to_string();
        assert!(e.contains("--tp must be at least 1"), "{e}");
    }
}
