//! # pipeline — pipeline-parallel training under GPU failures
//!
//! `D` data-parallel pipelines of `p` stages each train a transformer on `m` micro-batches per
//! iteration, and GPUs fail. The crate compares the systems that keep training going:
//!
//! - [`config`]: the workload ([`PipelineWorkload`]: model, stages, pipelines, micro-batches,
//!   schedule, failures, duration) and the [`SystemSpec`] (the system entry);
//! - [`stages`]: the model (a `models::TransformerSpec`) cut into stages (an even or a
//!   balanced split), with each stage's F, B and W FLOPs and weights per GPU under tensor
//!   parallelism (`tp`, Megatron's column- and row-parallel layers), sequence parallelism
//!   (`sp`) and activation recomputation (`recompute`), and where the TP collectives cut each
//!   pass; per-GPU memory (state and activations, Korthikanti et al.'s formulas) is
//!   [`policy::JobModel::stage_memory`];
//! - [`schedule`]: GPipe, 1F1B, ZB-H1 and ZB-H2 as per-stage orders of forward (F),
//!   input-gradient (B) and weight-gradient (W) passes, and Megatron-LM's interleaved 1F1B
//!   (`interleave`: several model chunks per GPU); [`iteration`]: one iteration as a task
//!   graph on the shared executor (activation sends, gradient all-reduce or the distributed
//!   optimizer's reduce-scatter and all-gather, bucketed and overlapped with the backward on
//!   request, optimizer steps), and the step time breakdown read from its execution;
//! - [`failures`]: a seeded failure process, fixed failure sets or a trace;
//! - [`policy`] and [`policies`] (one file each): checkpoint-restart, spare servers, Bamboo,
//!   Oobleck and SlipStream, each turning a set of failed GPUs into a job shape and an
//!   iteration; [`horizon`]: days of training as an event walk over failures and repairs;
//! - [`run`]: prepare and run for the experiment runner, [`simulator`]: what it reports.
//!
//! Formulas, defaults and assumptions with their sources: `docs/models/pipeline.md`.
//!
//! ## Example
//!
//! ```
//! use cluster::Cluster;
//! use pipeline::{PipelineWorkload, SystemSpec};
//!
//! let cluster = Cluster::preset("dgx-h100", 1)?;
//! let workload: PipelineWorkload = serde_json::from_value(serde_json::json!({
//!     "model": "gpt3-1.3b", "stages": 4, "pipelines": 2, "micro_batches": 8,
//!     "duration": "1d", "failures": { "concurrent": 1 }
//! }))?;
//! let system: SystemSpec = serde_json::from_value(serde_json::json!({ "system": "slipstream" }))?;
//! let run = pipeline::run::prepare(&cluster, &workload, &system)?;
//! let result = run.run(&cluster, 1, false)?;
//! // One GPU down: SlipStream keeps training, a little slower than the healthy job.
//! let relative = result.metrics["throughput_vs_healthy"];
//! assert!(relative > 0.5 && relative < 1.0, "{relative}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

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
