//! `mlsim datapipe`: ML input pipelines.
//!
//! - `mlsim datapipe profile --pipeline image|text`: profiles a real pipeline on this
//!   machine (per-operator latency and sizes on one thread, and the whole chain's one-thread
//!   throughput) and writes `<out>` in cedar's operator-profile format plus `<out>`'s
//!   `_runs.tsv` sibling with the baseline throughput, so the simulator loads it like a preset.
//! - `mlsim datapipe run --real --pipeline image|text`: runs a plan (operator order, workers,
//!   fused or one stage per operator) for real on this machine's CPUs and prints the measured
//!   throughput. Without `--real` the same plan is simulated from the pipeline's profile
//!   (`--profile`, default the one `profile` writes), as threads on `--vcpus` CPUs.
//!
//! Inputs are generated, deterministic from `--seed` (see `datapipe::real`), unless
//! `--input-dir` names a directory of JPEG files.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use datapipe::mirror::{StageSpec, plan_from_stages};
use datapipe::real::{
    DEFAULT_CAPACITY, ImageInputs, ProfileConfig, RealContext, RealPipeline, RealPlan, RealReport,
    TextInputs, profile, run_plan,
};
use datapipe::resources::Resources;
use datapipe::sim::{SimOptions, run_epoch};
use serde_json::json;

use crate::output::out;

/// Arguments of `mlsim datapipe`.
#[derive(Debug, Args)]
pub struct DatapipeArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: DatapipeCommand,
}

/// `mlsim datapipe` subcommands.
#[derive(Debug, Subcommand)]
pub enum DatapipeCommand {
    /// Profile a real pipeline on this machine and write it in cedar's profile format.
    Profile(ProfileArgs),
    /// Run a pipeline plan (needs --real for now) and print its throughput.
    Run(RunArgs),
}

/// The built-in real pipelines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PipelineArg {
    /// cedar's simclrv2 chain: read, decode, to float, random resized crop, flip, colour
    /// jitter, grayscale, Gaussian blur, normalise.
    Image,
    /// cedar's wikitext103 chain: read a line, GPT-2 BPE, truncate, BOS, EOS, to tensor,
    /// embedding.
    Text,
}

impl PipelineArg {
    fn pipeline(self) -> RealPipeline {
        match self {
            PipelineArg::Image => RealPipeline::Image,
            PipelineArg::Text => RealPipeline::Text,
        }
    }
}

/// Where the inputs come from and how big the shared state is.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Which pipeline.
    #[arg(long)]
    pub pipeline: PipelineArg,
    /// Seed of the generated inputs and of the random operators.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Image pipeline: distinct generated images (500x375 JPEGs).
    #[arg(long, default_value_t = 64)]
    pub images: usize,
    /// Image pipeline: read these .jpg/.jpeg files instead of generated ones.
    #[arg(long, value_name = "DIR")]
    pub input_dir: Option<PathBuf>,
    /// Text pipeline: embedding dimension of the 50257-row table (cedar: 764, 154 MB).
    #[arg(long, default_value_t = 764)]
    pub embed_dim: usize,
    /// Operator order, comma-separated (default: cedar's); must respect the pipeline's
    /// constraints (`--order help` lists them).
    #[arg(long, value_delimiter = ',')]
    pub order: Option<Vec<String>>,
}

/// Arguments of `mlsim datapipe profile`.
#[derive(Debug, Args)]
pub struct ProfileArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Measured samples.
    #[arg(long, default_value_t = 64)]
    pub samples: usize,
    /// Warm-up samples before measuring.
    #[arg(long, default_value_t = 8)]
    pub warmup: usize,
    /// The operator profile to write (default results/datapipe/real_<pipeline>_ops.tsv); the
    /// baseline run goes beside it as ..._runs.tsv.
    #[arg(long, short)]
    pub out: Option<PathBuf>,
}

/// Arguments of `mlsim datapipe run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Run the plan for real on this machine's CPUs (without it, the plan is simulated from a
    /// profile written by `mlsim datapipe profile`).
    #[arg(long)]
    pub real: bool,
    /// Simulated runs: the operator profile to simulate from (default
    /// results/datapipe/real_<pipeline>_ops.tsv, with its _runs.tsv beside it).
    #[arg(long, value_name = "PATH")]
    pub profile: Option<PathBuf>,
    /// Simulated runs: vCPUs of the simulated host (default: this machine's).
    #[arg(long)]
    pub vcpus: Option<u32>,
    #[command(flatten)]
    pub input: InputArgs,
    /// Worker threads per stage.
    #[arg(long, default_value_t = 1)]
    pub workers: usize,
    /// One stage running every operator (as a DataLoader worker does) instead of one stage
    /// per operator joined by channels.
    #[arg(long)]
    pub fuse: bool,
    /// Samples to push through (default: 200 for image, 2000 for text).
    #[arg(long)]
    pub samples: Option<usize>,
    /// Capacity of each channel between stages, in samples.
    #[arg(long, default_value_t = DEFAULT_CAPACITY)]
    pub capacity: usize,
    /// Samples per batch: a batcher collates them into one contiguous buffer (1: none).
    #[arg(long, default_value_t = 1)]
    pub batch_size: usize,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `mlsim datapipe`.
pub fn run(args: &DatapipeArgs) -> Result<()> {
    match &args.command {
        DatapipeCommand::Profile(a) => run_profile(a),
        DatapipeCommand::Run(a) if a.real => run_real(a),
        DatapipeCommand::Run(a) => run_simulated(a),
    }
}

/// The simulated branch of `mlsim datapipe run`: the same plan as `--real` would run, on the
/// simulator, from the pipeline's profile.
fn run_simulated(args: &RunArgs) -> Result<()> {
    let pipeline = args.input.pipeline.pipeline();
    let Some(order) = order(&args.input)? else { return Ok(()) };
    let samples = args.samples.unwrap_or(match pipeline {
        RealPipeline::Image => 200,
        RealPipeline::Text => 2000,
    });
    let path = args.profile.clone().unwrap_or_else(|| {
        Path::new("results/datapipe").join(format!("real_{}_ops.tsv", pipeline.name()))
    });
    if !path.exists() {
        bail!(
            "no profile at {}: run `mlsim datapipe profile --pipeline {}` first, or name one with --profile",
            path.display(),
            pipeline.name()
        );
    }
    let ops = datapipe::profile::read_ops(&path, None)?;
    let runs_path = path.with_file_name(
        path.file_name()
            .and_then(|n| n.to_str())
            .map(|n| n.replace("_ops.tsv", "_runs.tsv"))
            .unwrap_or_default(),
    );
    let baseline = if runs_path.is_file() && runs_path != path {
        datapipe::profile::read_runs(&runs_path, &ops.profile)?.baseline_sps
    } else {
        None
    };
    let p = datapipe::pipeline::Pipeline::new(
        ops.profile.clone(),
        ops.ops,
        baseline,
        &path.display().to_string(),
    )?;
    let workers = u32::try_from(args.workers).unwrap_or(u32::MAX);
    let stages: Vec<StageSpec> = if args.fuse {
        vec![StageSpec { ops: order.clone(), workers }]
    } else {
        order.iter().map(|o| StageSpec { ops: vec![o.clone()], workers }).collect()
    };
    let vcpus = args.vcpus.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, |n| u32::try_from(n.get()).unwrap_or(1))
    });
    let res = Resources { local_vcpus: vcpus.max(1), ..Resources::default() };
    let capacity = u32::try_from(args.capacity).unwrap_or(u32::MAX);
    let batch = u32::try_from(args.batch_size).unwrap_or(u32::MAX).max(1);
    let plan = plan_from_stages(&p, &stages, capacity, batch, &res)?;
    let start: Vec<u32> = plan.stages.iter().map(|s| s.workers).collect();
    let opts = SimOptions { samples: samples as u64, service_cv: 0.0, series_points: 10 };
    let e = run_epoch(&plan, &res, &start, &opts, &simcore::RandomStreams::new(args.input.seed));
    let throughput = if e.time_s > 0.0 { samples as f64 / e.time_s } else { 0.0 };
    if args.json {
        let v = json!({
            "pipeline": pipeline.name(),
            "simulated": true,
            "fused": args.fuse,
            "samples": samples,
            "vcpus": vcpus,
            "profile": path.display().to_string(),
            "throughput_samples_s": throughput,
            "bound_samples_s": plan.bound_sps(),
            "time_s": e.time_s,
            "notes": plan.notes,
        });
        out!("{}", serde_json::to_string_pretty(&v)?)?;
        return Ok(());
    }
    out!(
        "{} pipeline, simulated from {} on {vcpus} vCPUs, {} ({} worker{} per stage), {samples} samples",
        pipeline.name(),
        path.display(),
        if args.fuse { "fused: one stage" } else { "unfused: one stage per operator" },
        args.workers,
        if args.workers == 1 { "" } else { "s" },
    )?;
    out!("order: {}", order.join(" > "))?;
    out!("throughput   {throughput:.2} samples/s (bound {:.2})", plan.bound_sps())?;
    for n in &plan.notes {
        out!("note: {n}")?;
    }
    Ok(())
}

/// Builds the context of the chosen pipeline, timing it (not part of any measurement).
fn context(input: &InputArgs) -> Result<RealContext> {
    let t0 = Instant::now();
    let pipeline = input.pipeline.pipeline();
    let ctx = match (pipeline, &input.input_dir) {
        (RealPipeline::Image, Some(dir)) => RealContext::image_from_dir(dir)?,
        (RealPipeline::Image, None) => RealContext::image(
            &ImageInputs { images: input.images, ..Default::default() },
            input.seed,
        )?,
        (RealPipeline::Text, Some(_)) => {
            bail!("--input-dir reads JPEG files; it only applies to --pipeline image")
        }
        (RealPipeline::Text, None) => RealContext::text(
            &TextInputs { embed_dim: input.embed_dim, ..Default::default() },
            input.seed,
        )?,
    };
    eprintln!(
        "inputs: {} distinct {} ({:.1} s to build, not measured)",
        ctx.inputs(),
        if pipeline == RealPipeline::Image { "images" } else { "lines" },
        t0.elapsed().as_secs_f64()
    );
    Ok(ctx)
}

/// The operator order: `--order` or cedar's. `--order help` prints the operators with their
/// constraints and gives `None`.
fn order(input: &InputArgs) -> Result<Option<Vec<String>>> {
    let pipeline = input.pipeline.pipeline();
    let Some(names) = &input.order else {
        return Ok(Some(pipeline.default_order()));
    };
    let names: Vec<String> = names.iter().map(|s| s.trim().to_string()).collect();
    if names.iter().any(|n| n == "help") {
        out!(
            "operators of the {} pipeline, in cedar's order (constraints in brackets):",
            pipeline.name()
        )?;
        out!("  {}", constraints(pipeline))?;
        return Ok(None);
    }
    let ops = names.iter().map(|n| pipeline.op(n)).collect::<Result<Vec<_>, _>>()?;
    if let Err(e) = pipeline.check_order(&ops) {
        bail!(
            "--order: {e}
  the operators, in cedar's order: {}",
            constraints(pipeline)
        );
    }
    Ok(Some(names))
}

/// Operator names with their constraints, for messages.
fn constraints(pipeline: RealPipeline) -> String {
    pipeline
        .ops()
        .iter()
        .map(|op| {
            let i = op.info();
            let mut notes = Vec::new();
            if i.fixed {
                notes.push("fixed".to_string());
            }
            if let Some(t) = i.tag {
                notes.push(format!("tag {t}"));
            }
            for d in i.depends_on {
                notes.push(format!("after tag {d}"));
            }
            if notes.is_empty() {
                i.name.to_string()
            } else {
                format!("{} ({})", i.name, notes.join(", "))
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn run_profile(args: &ProfileArgs) -> Result<()> {
    let pipeline = args.input.pipeline.pipeline();
    let Some(order) = order(&args.input)? else { return Ok(()) };
    let config = ProfileConfig {
        samples: args.samples,
        warmup: args.warmup,
        seed: args.input.seed,
        order: Some(order),
        ..Default::default()
    };
    // Check the counts before spending time on the inputs.
    config.validate()?;
    let ctx = context(&args.input)?;
    let prof = profile(&ctx, &config)?;
    let path = args.out.clone().unwrap_or_else(|| {
        Path::new("results/datapipe").join(format!("real_{}_ops.tsv", pipeline.name()))
    });
    let runs = prof.write(&path)?;
    out!(
        "{} pipeline, {} samples on one thread ({}):",
        pipeline.name(),
        prof.samples,
        prof.clock.describe()
    )?;
    out!(
        "{:<22} {:>12} {:>12} {:>12} {:>12}",
        "operator",
        "latency_ms",
        "wall_ms",
        "in_bytes",
        "out_bytes"
    )?;
    for p in &prof.ops {
        out!(
            "{:<22} {:>12.4} {:>12.4} {:>12.0} {:>12.0}",
            p.op.name(),
            p.latency_ns * 1e-6,
            p.wall_ns * 1e-6,
            p.in_bytes,
            p.out_bytes
        )?;
    }
    let total: f64 = prof.ops.iter().map(|p| p.latency_ns).sum();
    out!("sum of latencies      {:.4} ms/sample ({:.1} samples/s)", total * 1e-6, 1e9 / total)?;
    out!("baseline (one thread) {:.1} samples/s", prof.baseline_throughput_sps)?;
    out!("wrote {} and {}", path.display(), runs.display())?;
    Ok(())
}

fn run_real(args: &RunArgs) -> Result<()> {
    let pipeline = args.input.pipeline.pipeline();
    let Some(order) = order(&args.input)? else { return Ok(()) };
    let samples = args.samples.unwrap_or(match pipeline {
        RealPipeline::Image => 200,
        RealPipeline::Text => 2000,
    });
    let mut plan = if args.fuse {
        RealPlan::fused(&order, args.workers, samples, args.input.seed)
    } else {
        RealPlan::unfused(&order, args.workers, samples, args.input.seed)
    };
    plan.channel_capacity = args.capacity;
    plan.batch_size = args.batch_size;
    // Check the plan before spending time on the inputs.
    plan.resolve(pipeline)?;
    let ctx = context(&args.input)?;
    let report = run_plan(&plan, &ctx)?;
    if args.json {
        out!("{}", serde_json::to_string_pretty(&report_json(&report, args.fuse))?)?;
        return Ok(());
    }
    out!(
        "{} pipeline, {} ({} worker{} per stage, {} threads), {} samples",
        report.pipeline,
        if args.fuse { "fused: one stage" } else { "unfused: one stage per operator" },
        args.workers,
        if args.workers == 1 { "" } else { "s" },
        report.threads,
        report.samples
    )?;
    out!("order: {}", order.join(" > "))?;
    out!("throughput   {:.2} samples/s", report.throughput_sps)?;
    out!("wall time    {:.3} s", report.wall_s)?;
    out!(
        "consumer     {:.3} s busy dropping samples ({:.0}% of the wall time)",
        report.consumer_busy_s,
        100.0 * report.consumer_busy_s / report.wall_s
    )?;
    out!("{:<40} {:>8} {:>10} {:>10}", "stage", "workers", "busy_s", "busy_frac")?;
    for s in &report.stages {
        out!("{:<40} {:>8} {:>10.3} {:>10.3}", s.ops.join("+"), s.workers, s.busy_s, s.busy_frac)?;
    }
    out!(
        "checked: all {} samples passed each of the {} operators exactly once",
        report.samples,
        report.op_applications.len()
    )?;
    Ok(())
}

fn report_json(r: &RealReport, fused: bool) -> serde_json::Value {
    json!({
        "pipeline": r.pipeline,
        "fused": fused,
        "samples": r.samples,
        "threads": r.threads,
        "wall_s": r.wall_s,
        "throughput_samples_s": r.throughput_sps,
        "mean_output_bytes": r.mean_output_bytes,
        "consumer_busy_s": r.consumer_busy_s,
        "batch_size": r.batch_size,
        "batcher_busy_s": r.batcher_busy_s,
        "stages": r.stages.iter().map(|s| json!({
            "ops": s.ops,
            "workers": s.workers,
            "samples": s.samples,
            "busy_s": s.busy_s,
            "busy_frac": s.busy_frac,
        })).collect::<Vec<_>>(),
        "op_applications": r.op_applications.iter().map(|(n, c)| json!({"op": n, "count": c})).collect::<Vec<_>>(),
    })
}
