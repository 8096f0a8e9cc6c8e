//! Experiment kinds: the built-in collective benchmark and the domain simulators.

pub mod collective;
pub mod embedding;
pub mod gnn;
pub mod moe;
pub mod pipeline;
