//! # embedding — embedding-table sharding over tiered GPU memory for DLRM training
//!
//! A DLRM's embedding tables are sharded over the GPUs' HBM and host memory; every training
//! step looks rows up and exchanges them with all-to-alls. The crate compares the systems that
//! decide the sharding:
//!
//! - [`tables`]: the tables (presets shaped like Criteo and production models, a synthetic
//!   generator, or a list) and [`config`]: the workload ([`EmbeddingWorkload`]) and the
//!   [`SystemSpec`];
//! - [`access`]: skewed row popularity calibrated on Meta's production reuse statistics
//!   (`data/recsys/`); [`tiers`] and [`cache`]: HBM, host memory and FBGEMM's LRU row cache
//!   (a miss fetched once per batch and written back on eviction);
//! - [`systems`] (one file each): TorchRec's planner (per table, every sharding type and
//!   kernel rated by its perf [`estimator`], its proposers, greedy partitioner and cache
//!   scale-up) and its single-type variants (table-wise, row-wise, column-wise, data-parallel,
//!   table-row-wise), RecShard's per-row tiering, FlexShard's sequence-table placement;
//!   [`recd`]: RecD's deduplication;
//! - [`plan`]: each step's lookups and traffic; [`step`]: the step as a task graph on the
//!   shared executor, so step times and imbalance come from the same cost model as every
//!   other simulator; [`run`] and [`simulator`]: the runner's entry points.
//!
//! Formulas, defaults and assumptions with their sources: `docs/models/embedding.md`.
//!
//! ## Example
//!
//! ```
//! use cluster::Cluster;
//! use embedding::{EmbeddingWorkload, SystemSpec};
//!
//! let cluster = Cluster::preset("dgx-h100", 1)?;
//! let workload: EmbeddingWorkload = serde_json::from_value(serde_json::json!({
//!     "tables": "criteo-kaggle", "batch": 8192, "steps": 2
//! }))?;
//! let system: SystemSpec = serde_json::from_value(serde_json::json!({ "system": "table-wise" }))?;
//! let run = embedding::run::prepare(&cluster, &workload, &system)?;
//! let result = run.run(&cluster, 1, false)?;
//! assert!(result.metrics["emb_throughput_samples_s"] > 0.0);
//! assert!(result.metrics["hbm_hit_rate"] <= 1.0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

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
