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
//! let metrics = |w: &GnnWorkload, s: &SystemSpec| -> Result<_, Box<dyn std::error::Error>> {
//!     Ok(gnn::run::prepare(&cluster, w, s)?.run(&cluster, 1, false)?.metrics)
//! };
//! // 160 MB of features, 4x the A100's 40 MB L2. With the exact shared LRU over the gathers
//! // alone (`l2: exact-lru`), consecutive community batches reuse rows: more L2 hits.
//! let exact = GnnWorkload { l2: gnn::config::L2Model::ExactLru, ..workload.clone() };
//! let (c, r) = (metrics(&exact, &community)?, metrics(&exact, &random)?);
//! assert!(c["l2_hit_rate"] > r["l2_hit_rate"] + 0.05);
//! // The default realistic L2 is flushed between batches by the step's other buffers (the
//! // gathered copy, activations, gradients, AdamW states: about 80 MB a batch here, twice
//! // the L2), and a batch reads each unique row once: no row survives to be hit, whatever the
//! // batching. Community batches still win, by gathering and computing over fewer unique
//! // nodes (about 7,200 against 19,400 a batch).
//! let (c, r) = (metrics(&workload, &community)?, metrics(&workload, &random)?);
//! assert_eq!((c["l2_hit_rate"], r["l2_hit_rate"]), (0.0, 0.0));
//! assert!(c["unique_nodes_per_batch"] < 0.5 * r["unique_nodes_per_batch"]);
//! assert!(c["speedup_vs_random"] > 1.2);
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
