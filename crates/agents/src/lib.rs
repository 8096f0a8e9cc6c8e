//! LLM multi-agent simulation (work in progress).

pub mod calls;
pub mod config;
pub mod engine;
pub mod engines;
pub mod generator;
pub mod neighbors;
pub mod replay;
pub mod run;
pub mod runner;
pub mod simulator;
pub mod smallville;
pub mod trace;
pub mod world;

pub use config::{AgentsWorkload, SystemSpec, WorldSpec};
pub use simulator::AgentsSimulator;
pub use world::Pos;
