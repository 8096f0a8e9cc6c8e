//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const EXAMPLES: &str = "\
Examples:
  mlsim collective --preset dgx-h100 --op all-reduce --gpus 8 --sizes 1MiB..1GiB
  mlsim collective --preset dgx-a100 --op all-to-all --gpus 32 --sizes 64MiB --mode flow
  mlsim collective --cluster my-cluster.yaml --op all-gather --gpus 16 --sizes 8MiB..8GiB --factor 4
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
    /// List built-in presets, GPUs or collectives.
    List(ListArgs),
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
}

/// How the network is simulated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    /// Closed form: latency plus the most loaded link.
    Analytic,
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
    /// Element type, for the count column.
    #[arg(long, default_value = "bf16")]
    pub dtype: String,
}

/// What `mlsim list` lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ListWhat {
    Presets,
    Gpus,
    Collectives,
}

/// Arguments of `mlsim list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// What to list.
    #[arg(value_enum)]
    pub what: ListWhat,
}
