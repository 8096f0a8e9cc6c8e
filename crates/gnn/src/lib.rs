//! GNN mini-batching. This first part holds the graphs: an undirected CSR [`graph`], the
//! Planetoid citation data sets with labels, features and the standard split ([`planetoid`]),
//! seeded generators of large graphs with planted communities ([`generate`]), an LRU model of
//! the GPU's L2 cache over a feature-gather stream ([`l2`]), and Louvain [`communities`]
//! with a relabelling that makes each community's rows contiguous. Batching policies, METIS
//! partitions, the epoch-time model and real training follow (issue 7); the model document will
//! be `docs/models/gnn.md`.

pub mod communities;
pub mod error;
pub mod generate;
pub mod graph;
pub mod l2;
pub mod planetoid;

pub use error::GnnError;
pub use graph::Graph;
