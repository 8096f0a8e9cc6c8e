//! # gnn — GNN mini-batching
//!
//! Mini-batch GNN training gathers the features of every sampled node; how the batches are
//! built decides how many of those gathers the GPU's L2 serves, and what accuracy the model
//! reaches. The crate compares batching policies on real and generated graphs:
//!
//! - [`graph`]: an undirected CSR graph; [`planetoid`]: Cora, CiteSeer and PubMed with labels,
//!   features and the standard split (`data/planetoid/`); [`generate`]: seeded SBM and
//!   LFR-like graphs with planted communities, and [`synthetic`] labels and features for them;
//! - [`communities`] (Louvain) and [`partition`] (METIS k-way), with a relabelling that makes
//!   each group's feature rows contiguous;
//! - [`policies`] (one file each): random, Cluster-GCN and COMM-RAND, chosen by the system
//!   entry [`SystemSpec`]; [`sampling`]: GraphSAGE neighbour sampling with a community bias;
//! - [`l2`]: an exact LRU model of the GPU's L2 over the gather stream; [`gpu_l2`]: the L2 an
//!   epoch uses, that exact LRU or a realistic one (two partitions, flushed by the other
//!   kernels' buffers); [`epoch`]: the simulated time of an epoch — sampling on the CPU,
//!   copies to the GPU, the gather, layers, optimizer and kernel launches — on the shared
//!   executor; [`train`]: real 2-layer GraphSAGE training with candle on the CPU;
//! - [`config`]: the workload ([`GnnWorkload`]); [`inputs`]: graphs and groupings cached per
//!   process; [`run`] and [`simulator`]: the runner's entry points and what a run reports.
//!
//! Formulas, defaults and assumptions with their sources: `docs/models/gnn.md`.
//!
//! ## Example
//!
//! ```
//! use cluster::Cluster;
//! use gnn::{GnnWorkload, SystemSpec};
//!
//! let cluster = Cluster::preset("dgx-a100", 1)?;
//! let workload: GnnWorkload = serde_json::from_value(serde_json::json!({
//!     "graph": { "model": "sbm", "nodes": 40000, "communities": 40, "stubs": 8, "mu": 0.05 },
//!     "features": 1024, "fanouts": [10, 5], "batch": 512, "communities": "planted"
//! }))?;
//! let policy = |v| serde_json::from_value::<SystemSpec>(v);
//! let random = policy(serde_json::json!({ "system": "random" }))?;
//! let community = policy(serde_json::json!({ "system": "comm-rand", "alpha": 0.0 }))?;
//! let hit_rate = |s: &SystemSpec| -> Result<f64, Box<dyn std::error::Error>> {
//!     let run = gnn::run::prepare(&cluster, &workload, s)?;
//!     Ok(run.run(&cluster, 1, false)?.metrics["l2_hit_rate"])
//! };
//! // 160 MB of features, 4x the A100's L2: community batches reuse rows, so the L2 serves
//! // more of the gathers.
//! assert!(hit_rate(&community)? > hit_rate(&random)?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod communities;
pub mod config;
pub mod epoch;
pub mod generate;
pub mod gpu_l2;
pub mod graph;
pub mod inputs;
pub mod l2;
pub mod partition;
pub mod planetoid;
pub mod policies;
pub mod run;
pub mod sampling;
pub mod simulator;
pub mod synthetic;
pub mod train;

pub use config::GnnWorkload;
pub use graph::Graph;
pub use policies::SystemSpec;
pub use simulator::GnnSimulator;
