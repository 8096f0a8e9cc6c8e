//! Pipeline-parallel training under GPU failures.
//!
//! `D` data-parallel pipelines of `p` stages each train a transformer ([`model`]) on `m`
//! micro-batches per iteration. A [`schedule`] fixes the order of every stage's forward (F),
//! input-gradient (B) and weight-gradient (W) passes; [`iteration`] turns it into a task graph
//! on the shared executor (activation sends between stages, data-parallel gradient
//! all-reduce, optimizer steps), so iteration times come from the same cost model as every
//! other simulator. The model and its sources: `docs/models/pipeline.md`.

pub mod config;
pub mod failures;
pub mod horizon;
pub mod iteration;
pub mod policies;
pub mod policy;
pub mod run;
pub mod schedule;
pub mod simulator;
pub mod stages;

pub use config::{PipelineWorkload, SystemSpec};
pub use schedule::{Pass, Schedule, ScheduleKind, Step};
pub use simulator::PipelineSimulator;
