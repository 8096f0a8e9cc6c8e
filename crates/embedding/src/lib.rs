//! Embedding-table sharding over tiered GPU memory for DLRM training.
//!
//! A set of embedding [`tables`] (presets shaped like Criteo/DLRM and production models, a
//! synthetic generator, or a list) with skewed row popularity ([`access`], calibrated on
//! production reuse statistics) is sharded over the GPUs of a cluster by a system
//! ([`systems`]: TorchRec's table-wise, row-wise, column-wise, data-parallel and
//! table-row-wise through its greedy partitioner and perf [`estimator`]; RecShard's per-row
//! tiering), each slice in HBM or host memory ([`tiers`], an LRU row [`cache`]), optionally
//! with RecD's deduplication ([`recd`]). The resulting [`plan`] gives every training step's
//! lookups and all-to-all traffic; [`step`] runs them as a task graph on the shared executor,
//! so step times, per-GPU imbalance and traffic come from the same cost model as every other
//! simulator. The model and its sources: `docs/models/embedding.md`.

pub mod access;
pub mod cache;
pub mod config;
pub mod estimator;
pub mod plan;
pub mod recd;
pub mod run;
pub mod simulator;
pub mod step;
pub mod systems;
pub mod tables;
pub mod tiers;

pub use config::{EmbeddingWorkload, SystemSpec};
pub use simulator::EmbeddingSimulator;
