//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const EXAMPLES: &str = "\
Examples:
  mlsim run configs/quickstart.yaml                 # results/quickstart/: tables, plots, report
  mlsim run configs/quickstart.yaml --jobs 2 --set workload.network=flow --seeds 5
  mlsim validate configs/quickstart.yaml           # check the file, list the runs
  mlsim run configs/quickstart.yaml --shard 0/4 --out results/q/shard0   # one slice of four
  mlsim merge results/q/shard* --out results/q/all
  mlsim report results/quickstart
  mlsim collective --preset dgx-h100 --op all-reduce --gpus 8 --sizes 1MiB..1GiB
  mlsim collective --preset dgx-a100 --op all-to-all --gpus 32 --sizes 64MiB --mode flow
  mlsim collective --cluster my-cluster.yaml --op all-gather --gpus 16 --sizes 8MiB..8GiB --factor 4
  mlsim step --model gpt3-175b --preset dgx-a100 --gpus 1024 --tp 8 --pp 16 --dp 8 --global-batch 1536
  mlsim step --model megatron-1t --gpus 3072 --tp 8 --pp 64 --global-batch 3072 --sp --recompute selective --json
  mlsim datapipe profile --pipeline image --samples 64
  mlsim datapipe run --real --pipeline image --workers 2 --fuse
  mlsim list presets";

/// mlsim: simulators of ML training and serving systems.
#[derive(Debug, Parser)]
#[command(name = "mlsim", version, about, after_help = EXAMPLES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Time a collective over a range of message sizes, printed like nccl-tests
    /// (size, time, algbw, busbw).
    Collective(CollectiveArgs),
    /// Time one training step of a GPT model under tensor x pipeline x data parallelism:
    /// step time, TFLOP/s per GPU, MFU, memory per GPU and where the time goes.
    Step(StepArgs),
    /// ML input pipelines: profile a real pipeline on this machine (cedar's profile format),
    /// or run a plan of it for real and measure its throughput.
    Datapipe(crate::cmd::datapipe::DatapipeArgs),
    /// Run an experiment file: every point x system x seed, in parallel, resumable; writes
    /// results/<name>/ (runs.jsonl, summary.csv, report/index.html).
    Run(RunArgs),
    /// Check an experiment file and print the runs it expands to, without running them.
    Validate(ValidateArgs),
    /// Redraw the report of a results directory.
    Report(ReportArgs),
    /// Join the results directories of shards into one, identical to a single run.
    Merge(MergeArgs),
    /// Write the world trace (positions and LLM calls) of one point of a `kind: agents`
    /// experiment, to replay under every engine (`world: {type: trace, path: ...}`).
    AgentsTrace(AgentsTraceArgs),
    /// List built-in presets, GPUs, collectives, experiment kinds, systems or metrics.
    List(ListArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(CompletionsArgs),
}

/// Config overrides shared by `run` and `validate`.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// The experiment file (YAML).
    pub file: PathBuf,
    /// Override a value: PATH=VALUE, e.g. cluster.nodes=4 or workload.bytes=64MiB (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub sets: Vec<String>,
    /// Seeds: a count (5 = seeds 1..5) or a list (1,7,42); replaces the file's seeds.
    #[arg(long)]
    pub seeds: Option<String>,
}

/// Arguments of `mlsim run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Worker threads (default: all cores).
    #[arg(long, short)]
    pub jobs: Option<usize>,
    /// Results directory (default: results/<name>, or results/<name>/shard-I-of-N with --shard).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Run only slice I of N (0-based): runs whose index is I modulo N.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Skip the report (plots and HTML) at the end.
    #[arg(long)]
    pub no_report: bool,
}

/// Arguments of `mlsim validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
}

/// Arguments of `mlsim agents-trace`.
#[derive(Debug, Args)]
pub struct AgentsTraceArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// The sweep point whose world to write (its index, as `mlsim validate` lists points'
    /// runs; default 0).
    #[arg(long, default_value_t = 0)]
    pub point: usize,
    /// The seed of the world (default 1, the first seed of a run).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The file to write (JSON lines).
    #[arg(long, short)]
    pub out: PathBuf,
}

/// Arguments of `mlsim report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A results directory (with config.resolved.yaml and runs.jsonl).
    pub dir: PathBuf,
}

/// Arguments of `mlsim merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Results directories of shards of one experiment.
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Where to write the merged results.
    #[arg(long)]
    pub out: PathBuf,
    /// Skip the report.
    #[arg(long)]
    pub no_report: bool,
}

/// Arguments of `mlsim completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    pub shell: clap_complete::Shell,
}

/// The collective to time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OpArg {
    AllReduce,
    AllGather,
    ReduceScatter,
    AllToAll,
    Broadcast,
}

/// The algorithm to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AlgoArg {
    /// The fastest applicable one under the analytic model.
    Auto,
    Ring,
    Tree,
    Hierarchical,
    Direct,
    /// NVLink SHARP inside one node (third-generation NVSwitch: H100, H200).
    Nvls,
    /// InfiniBand SHARP across nodes (with --sharp or fabric.sharp: true).
    Sharp,
}

/// How the network is simulated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    /// Closed form: latency plus the most loaded link (links as queues when operations
    /// overlap; one collective alone takes exactly its closed-form time).
    Analytic,
    /// The closed form, as if alone on the network: an upper bound on performance (for one
    /// collective, the same as analytic).
    ContentionFree,
    /// Flow-level: the collective's transfers as max-min fair flows, executed on the engine.
    Flow,
}

/// Communication latency model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CommArg {
    /// NCCL's LL/LL128/Simple protocol latencies (the default of every preset).
    Nccl,
    /// Textbook alpha-beta: physical path latency per hop, full bandwidth.
    Textbook,
}

/// Arguments of `mlsim collective`.
#[derive(Debug, Args)]
pub struct CollectiveArgs {
    /// Built-in cluster preset (see `mlsim list presets`).
    #[arg(long, default_value = "dgx-h100", conflicts_with = "cluster")]
    pub preset: String,
    /// A cluster spec YAML file instead of a preset.
    #[arg(long)]
    pub cluster: Option<PathBuf>,
    /// The collective.
    #[arg(long, value_enum, default_value = "all-reduce")]
    pub op: OpArg,
    /// Number of GPUs taking part (the first N of the cluster; nodes are added as needed).
    #[arg(long, default_value_t = 8)]
    pub gpus: u32,
    /// Message sizes: `MIN..MAX` (multiplied by --factor), a list `A,B,C`, or one size.
    /// Units: B, kB, MB, GB, KiB, MiB, GiB (nccl-tests sizes: the whole buffer).
    #[arg(long, default_value = "1MiB..1GiB")]
    pub sizes: String,
    /// Step factor between sizes of a `MIN..MAX` range.
    #[arg(long, default_value_t = 2.0)]
    pub factor: f64,
    /// Algorithm.
    #[arg(long, value_enum, default_value = "auto")]
    pub algo: AlgoArg,
    /// Network simulation mode.
    #[arg(long, value_enum, default_value = "analytic")]
    pub mode: ModeArg,
    /// Override the cluster's communication latency model.
    #[arg(long, value_enum)]
    pub comm: Option<CommArg>,
    /// Enable in-network reduction (InfiniBand SHARP) on the fabric, as `fabric.sharp: true`.
    #[arg(long)]
    pub sharp: bool,
    /// Element type, for the count column.
    #[arg(long, default_value = "bf16")]
    pub dtype: String,
}

/// Activation recomputation (Korthikanti et al. 2022).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RecomputeArg {
    /// Keep every activation.
    None,
    /// Recompute the attention core in the backward pass.
    Selective,
    /// Keep each layer's input only; rerun its forward in the backward pass.
    Full,
}

/// How layers are assigned to pipeline stages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SplitArg {
    /// As even as possible (Megatron-LM's default).
    Even,
    /// Minimise the slowest stage, counting the embedding and output layers.
    Balanced,
}

/// How the network of the step is simulated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum NetworkArg {
    /// Closed-form times, links as first-come first-served queues (fast).
    Analytic,
    /// Closed-form times as if alone on the network: an upper bound on performance.
    ContentionFree,
    /// Max-min fair flows on every link (exact sharing, slower).
    Flow,
}

/// Arguments of `mlsim step`.
#[derive(Debug, Args)]
pub struct StepArgs {
    /// The model: a preset name (`gpt3-175b`, `megatron-1t`, `llama-2-70b`; `mlsim list
    /// models`) or a JSON spec (`{"layers": 24, "hidden": 2048, "heads": 16}`).
    #[arg(long)]
    pub model: String,
    /// Built-in cluster preset (see `mlsim list presets`).
    #[arg(long, default_value = "dgx-a100", conflicts_with = "cluster")]
    pub preset: String,
    /// A cluster spec YAML file instead of a preset.
    #[arg(long)]
    pub cluster: Option<PathBuf>,
    /// GPUs of the job: whole nodes, tp x pp x dp.
    #[arg(long)]
    pub gpus: u32,
    /// Tensor-parallel size (within a node).
    #[arg(long, default_value_t = 1)]
    pub tp: u32,
    /// Pipeline-parallel size (stages).
    #[arg(long, default_value_t = 1)]
    pub pp: u32,
    /// Data-parallel size; default gpus / (tp x pp).
    #[arg(long)]
    pub dp: Option<u32>,
    /// Sequences per micro-batch.
    #[arg(long, default_value_t = 1)]
    pub micro_batch: u32,
    /// Sequences per step over all data-parallel replicas; a multiple of micro-batch x dp.
    #[arg(long)]
    pub global_batch: u32,
    /// Sequence parallelism (with tp > 1).
    #[arg(long)]
    pub sp: bool,
    /// Activation recomputation.
    #[arg(long, value_enum, default_value = "none")]
    pub recompute: RecomputeArg,
    /// Virtual pipeline stages per GPU (interleaved 1F1B), where the pipeline model has them.
    #[arg(long, value_name = "V")]
    pub interleave: Option<u32>,
    /// Layer split over stages.
    #[arg(long, value_enum, default_value = "even")]
    pub split: SplitArg,
    /// Megatron-LM's distributed optimizer: reduce-scatter the gradients, step a 1/dp shard,
    /// all-gather the weights (default: all-reduce, every replica steps everything).
    #[arg(long)]
    pub distributed_optimizer: bool,
    /// Overlap each gradient bucket's reduction with the rest of the backward pass.
    #[arg(long)]
    pub overlap_grad_reduce: bool,
    /// Any other field of the pipeline workload (docs/experiments.md, `kind: pipeline`):
    /// KEY=VALUE, the value as JSON or else a string, e.g. state_bytes_per_param=18
    /// (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// Pipeline schedule: 1f1b, gpipe, zb-h1, zb-h2 (see docs/models/pipeline.md).
    #[arg(long, default_value = "1f1b")]
    pub schedule: String,
    /// Network simulation mode.
    #[arg(long, value_enum, default_value = "analytic")]
    pub network: NetworkArg,
    /// Enable in-network reduction (InfiniBand SHARP) on the fabric, as `fabric.sharp: true`:
    /// data-parallel all-reduces may use it.
    #[arg(long)]
    pub sharp: bool,
    /// Write the step's Chrome trace (JSON; open in Perfetto or chrome://tracing).
    #[arg(long, value_name = "FILE")]
    pub trace: Option<PathBuf>,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// What `mlsim list` lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ListWhat {
    Presets,
    /// Model presets (`mlsim step --model`, `model:` in configs).
    Models,
    Gpus,
    Collectives,
    Kinds,
    Systems,
    Metrics,
}

/// Arguments of `mlsim list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// What to list.
    #[arg(value_enum)]
    pub what: ListWhat,
}
