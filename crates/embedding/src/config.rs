//! What a run simulates: the `workload` (tables, batch, memory, sessions) and the `system`
//! (the sharding planner, with or without RecD deduplication).

use serde::{Deserialize, Serialize};
use taskgraph::NetworkMode;

use crate::tables::TableSet;
use crate::tiers::MemorySpec;

/// User sessions (RecD): consecutive samples of one session share their session-level
/// features, and batches are formed from whole sessions.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionSpec {
    /// Mean samples per session.
    pub mean_length: f64,
    /// Share of tables whose feature is session-level when a table does not say
    /// (`session_level` in its spec); default 0.5 (assumption).
    #[serde(default = "half")]
    pub session_share: f64,
}

fn half() -> f64 {
    0.5
}

/// The popularity exponent: a number or a file to fit it to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AlphaSpec {
    /// The exponent.
    Value(f64),
    /// Fit to a locality stats file (the format of facebookresearch/dlrm_datasets).
    Fit {
        /// The file.
        locality_stats: std::path::PathBuf,
    },
}

/// The `workload:` of `kind: embedding`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmbeddingWorkload {
    /// The tables.
    pub tables: TableSet,
    /// Global batch (samples per step over all GPUs).
    #[serde(default = "batch")]
    pub batch: u64,
    /// Bytes per embedding element (4 = fp32, 2 = fp16).
    #[serde(default = "four")]
    pub element_bytes: u32,
    /// Zipf exponent of row popularity where a table does not give one: a number, or
    /// `{locality_stats: FILE}` to fit it to a reuse-statistics file (default: the fit to the
    /// 2022 production statistics, see docs/models/embedding.md).
    #[serde(default)]
    pub alpha: Option<AlphaSpec>,
    /// Memory budgets and efficiencies.
    #[serde(default)]
    pub memory: MemorySpec,
    /// Sessions (needed by `dedup`).
    #[serde(default)]
    pub sessions: Option<SessionSpec>,
    /// Training steps simulated (each with its own batch draw).
    #[serde(default = "steps")]
    pub steps: u32,
    /// Network model of the step graphs.
    #[serde(default)]
    pub network: NetworkMode,
}

fn batch() -> u64 {
    65_536
}
fn four() -> u32 {
    4
}
fn steps() -> u32 {
    20
}

/// Which planner shards the tables.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "system", deny_unknown_fields)]
pub enum SystemSpec {
    /// TorchRec table-wise: each table whole on one GPU (greedy partitioner).
    TableWise {
        /// RecD deduplication.
        #[serde(default)]
        dedup: bool,
    },
    /// TorchRec row-wise: every table's rows split over all GPUs.
    RowWise {
        /// RecD deduplication.
        #[serde(default)]
        dedup: bool,
    },
    /// TorchRec column-wise: tables split into column blocks placed greedily.
    ColumnWise {
        /// RecD deduplication.
        #[serde(default)]
        dedup: bool,
        /// Columns per shard (default 64, assumption).
        #[serde(default = "column_block")]
        column_block: u32,
    },
    /// TorchRec data-parallel: every table on every GPU, gradients all-reduced.
    DataParallel {
        /// RecD deduplication.
        #[serde(default)]
        dedup: bool,
    },
    /// TorchRec table-row-wise: each table's rows split over the GPUs of one node.
    TableRowWise {
        /// RecD deduplication.
        #[serde(default)]
        dedup: bool,
    },
    /// FlexShard: tiered row replication for sequence tables (row-wise for pooled ones).
    Flexshard {
        /// RecD deduplication.
        #[serde(default)]
        dedup: bool,
    },
    /// RecShard: per-row tiering and table placement from access statistics.
    Recshard {
        /// RecD deduplication.
        #[serde(default)]
        dedup: bool,
        /// Local-search rounds after the greedy placement (default 200).
        #[serde(default = "rounds")]
        rounds: u32,
    },
}

fn column_block() -> u32 {
    64
}
fn rounds() -> u32 {
    200
}

impl SystemSpec {
    /// The system's name as in configs.
    pub fn name(&self) -> &'static str {
        match self {
            SystemSpec::TableWise { .. } => "table-wise",
            SystemSpec::RowWise { .. } => "row-wise",
            SystemSpec::ColumnWise { .. } => "column-wise",
            SystemSpec::DataParallel { .. } => "data-parallel",
            SystemSpec::TableRowWise { .. } => "table-row-wise",
            SystemSpec::Flexshard { .. } => "flexshard",
            SystemSpec::Recshard { .. } => "recshard",
        }
    }

    /// Whether RecD deduplication is on.
    pub fn dedup(&self) -> bool {
        match *self {
            SystemSpec::TableWise { dedup }
            | SystemSpec::RowWise { dedup }
            | SystemSpec::ColumnWise { dedup, .. }
            | SystemSpec::DataParallel { dedup }
            | SystemSpec::TableRowWise { dedup }
            | SystemSpec::Flexshard { dedup }
            | SystemSpec::Recshard { dedup, .. } => dedup,
        }
    }
}
