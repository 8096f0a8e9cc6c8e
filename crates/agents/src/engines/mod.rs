//! The engines, one file each, and their names in configs.

mod metropolis;
mod oracle;
mod parallel_sync;
mod single_thread;

pub use metropolis::Metropolis;
pub use oracle::Oracle;
pub use parallel_sync::ParallelSync;
pub use single_thread::SingleThread;
mod critical_path;
mod no_dependency;

pub use critical_path::{SoloLatency, critical_path};
pub use no_dependency::run_no_dependency;
