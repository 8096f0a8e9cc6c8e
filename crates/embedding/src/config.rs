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

/// How a cache miss of a `fused_uvm_caching` shard is paid for in the simulated step.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MissModel {
    /// FBGEMM's LRU cache: each batch fetches its distinct missing rows from host memory once
    /// and writes the evicted (dirty) rows back; every lookup and update then runs in HBM.
    #[default]
    Lru,
    /// Every missed lookup reads its row from host memory and the update reads and writes it
    /// there again (three host transfers per missed lookup): the accounting of the first
    /// version of this model, kept to show what it changes.
    Direct,
}

/// The HBM row cache of `fused_uvm_caching` shards in the simulated step.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheSpec {
    /// How misses are paid for (default `lru`).
    #[serde(default)]
    pub misses: MissModel,
    /// Fetch the next batch's rows while the current one trains (TorchRec's
    /// `PrefetchTrainPipelineSparseDist` with FBGEMM's `prefetch_pipeline`); default off, as in
    /// TorchRec's default training pipeline.
    #[serde(default)]
    pub prefetch: bool,
    /// Share of the PCIe bandwidth that cache fills and write-backs achieve (default: the
    /// workload's `memory.uvm_efficiency`; assumption: they are row-sized random transfers
    /// like UVM gathers).
    #[serde(default)]
    pub transfer_efficiency: Option<f64>,
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
    /// The HBM row cache of `fused_uvm_caching` shards.
    #[serde(default)]
    pub cache: CacheSpec,
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
    /// TorchRec's planner: per table, every sharding type and compute kernel, ranked by its
    /// estimator, partitioned greedily; the best plan over its proposers.
    Torchrec {
        /// RecD deduplication.
        #[serde(default)]
        dedup: bool,
        /// Columns per column-wise shard (default 128, TorchRec's `MIN_CW_DIM`).
        #[serde(default = "min_cw_dim")]
        column_block: u32,
        /// Cache load factor of `fused_uvm_caching` shards before any scale-up (default 0.2,
        /// TorchRec's `UVM_CACHING_RATIO`).
        #[serde(default = "load_factor")]
        cache_load_factor: f64,
        /// Run TorchRec's `EmbeddingOffloadScaleupProposer` (grow the caches into free HBM;
        /// default on).
        #[serde(default = "yes")]
        scale_up: bool,
    },
    /// TorchRec's planner with every table table-wise (whole on one GPU).
    TableWise {
        /// RecD deduplication.
        #[serde(default)]
        dedup: bool,
        /// Cache load factor before scale-up (default 0.2).
        #[serde(default = "load_factor")]
        cache_load_factor: f64,
        /// Run the scale-up proposer (default on).
        #[serde(default = "yes")]
        scale_up: bool,
    },
    /// TorchRec's planner with every table row-wise (rows over all GPUs).
    RowWise {
        /// RecD deduplication.
        #[serde(default)]
        dedup: bool,
        /// Cache load factor before scale-up (default 0.2).
        #[serde(default = "load_factor")]
        cache_load_factor: f64,
        /// Run the scale-up proposer (default on).
        #[serde(default = "yes")]
        scale_up: bool,
    },
    /// TorchRec's planner with every table column-wise (blocks of columns placed greedily).
    ColumnWise {
        /// RecD deduplication.
        #[serde(default)]
        dedup: bool,
        /// Columns per shard (default 64, assumption).
        #[serde(default = "column_block")]
        column_block: u32,
        /// Cache load factor before scale-up (default 0.2).
        #[serde(default = "load_factor")]
        cache_load_factor: f64,
        /// Run the scale-up proposer (default on).
        #[serde(default = "yes")]
        scale_up: bool,
    },
    /// TorchRec's planner with every table data-parallel (a replica per GPU, gradients
    /// all-reduced; TorchRec's `dense` kernel, in HBM).
    DataParallel {
        /// RecD deduplication.
        #[serde(default)]
        dedup: bool,
    },
    /// TorchRec's planner with every table table-row-wise (rows over the GPUs of one node).
    TableRowWise {
        /// RecD deduplication.
        #[serde(default)]
        dedup: bool,
        /// Cache load factor before scale-up (default 0.2).
        #[serde(default = "load_factor")]
        cache_load_factor: f64,
        /// Run the scale-up proposer (default on).
        #[serde(default = "yes")]
        scale_up: bool,
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
fn min_cw_dim() -> u32 {
    128
}
fn load_factor() -> f64 {
    crate::estimator::CACHE_RATIO
}
fn yes() -> bool {
    true
}
fn rounds() -> u32 {
    200
}

impl SystemSpec {
    /// The system's name as in configs.
    pub fn name(&self) -> &'static str {
        match self {
            SystemSpec::Torchrec { .. } => "torchrec",
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
            SystemSpec::Torchrec { dedup, .. }
            | SystemSpec::TableWise { dedup, .. }
            | SystemSpec::RowWise { dedup, .. }
            | SystemSpec::ColumnWise { dedup, .. }
            | SystemSpec::DataParallel { dedup }
            | SystemSpec::TableRowWise { dedup, .. }
            | SystemSpec::Flexshard { dedup }
            | SystemSpec::Recshard { dedup, .. } => dedup,
        }
    }
}
