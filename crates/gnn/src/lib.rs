//! GNN mini-batching, first part: an undirected CSR [`graph`]; the Planetoid citation data
//! sets with labels, features and the standard split ([`planetoid`]); seeded generators of
//! large graphs with planted communities ([`generate`]); Louvain [`communities`] and a
//! relabelling that makes each community's rows contiguous; the mini-batch policies random,
//! Cluster-GCN and COMM-RAND ([`batching`]); GraphSAGE neighbour [`sampling`] with a community
//! bias; an LRU model of the GPU's L2 cache over a feature-gather stream ([`l2`]); the
//! simulated GPU time of an [`epoch`] on the shared executor; and real mini-batch training of
//! a 2-layer GraphSAGE with candle ([`train`]). METIS partitions, accuracy-vs-alpha sweeps and
//! `kind: gnn` follow (issue 7), with the model document `docs/models/gnn.md`.

pub mod batching;
pub mod communities;
pub mod epoch;
pub mod error;
pub mod generate;
pub mod graph;
pub mod l2;
pub mod planetoid;
pub mod sampling;
pub mod train;

pub use error::GnnError;
pub use graph::Graph;
