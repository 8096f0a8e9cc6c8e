//! GNN mini-batching (`kind: gnn`; the model: `docs/models/gnn.md`): an undirected CSR
//! [`graph`]; the Planetoid citation data sets with labels, features and the standard split
//! ([`planetoid`]); seeded generators of large graphs with planted communities ([`generate`])
//! and contextual-SBM labels and features for them ([`synthetic`]); Louvain [`communities`]
//! and METIS k-way [`partition`]s with a relabelling that makes each group's rows contiguous;
//! the batching [`policies`] random, Cluster-GCN and COMM-RAND, one file each; GraphSAGE
//! neighbour [`sampling`] with a community bias and Cluster-GCN's part scope; an exact LRU
//! model of the GPU's L2 over the feature-gather stream ([`l2`]); the simulated GPU time of
//! an [`epoch`] on the shared executor; real mini-batch training of a 2-layer GraphSAGE with
//! candle ([`train`]); and a [`run`] of the runner: the workload ([`config`]), graphs and
//! groupings cached per process ([`inputs`]), metrics.

pub mod communities;
pub mod config;
pub mod epoch;
pub mod generate;
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
