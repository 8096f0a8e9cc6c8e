//! # datapipe — ML input data pipelines
//!
//! An input pipeline reads, decodes and transforms each training sample on CPUs and must keep
//! the accelerators fed. Which system runs it, in what operator order, with how many workers
//! where, decides whether the GPUs wait. This crate models that and compares the systems that
//! decide it:
//!
//! - [`operator`]: one operator's profiled cost per sample, its input and output bytes, and
//!   its constraints (fixed, tags, depends-on, random); [`pipeline`]: a validated chain of
//!   them, with the cost of any order (an operator's cost scales with its input size, cedar's
//!   model); [`order`]: the orders the constraints allow and the cheapest one;
//! - [`profile`]: profiles in cedar's artifact format (operators, measured runs, disk costs);
//!   [`presets`]: cedar's six pipelines (CV-torch, CV-tf, NLP-torch, NLP-hf-tf, NLP-tf, ASR)
//!   and the cache variants, from `data/datapipe`; [`spec`]: a pipeline in a config;
//! - [`resources`]: the training host, remote workers, network, inter-process cost, disk and
//!   the trainer's rate (cedar's GCP setup by default);
//! - [`plan`]: what a system decided (stages with workers on a host, buffers, transfers, the
//!   trainer's receive, a cache, a controller) and its own throughput prediction;
//!   [`systems`]: one file per system — `unoptimized`, `torch-dataloader`, `tf-data`
//!   (AUTOTUNE with [`mm1k`]'s M/M/1/K model), `tf-data-service`, `ray-data`, `pecan`,
//!   `cedar`;
//! - [`sim`]: runs a plan on simcore's event loop (workers, bounded buffers, back-pressure,
//!   the trainer's rate, cedar's controller);
//! - [`config`], [`run`], [`simulator`]: `kind: datapipe` for the experiment runner
//!   (`configs/datapipe/`);
//! - [`real`]: real operators (images, text) run on this machine's CPUs, and a profiler that
//!   writes cedar's format; [`mirror`]: a real executor's plan as a simulated one, to predict
//!   a real run.
//!
//! Runs are deterministic: the same config and seed give the same numbers. Formulas, sources
//! and assumptions: `docs/models/datapipe.md`.
//!
//! ## Example
//!
//! ```
//! use datapipe::config::{DatapipeSystem, DatapipeWorkload, Mode};
//! use datapipe::resources::Resources;
//! use datapipe::run::prepare;
//!
//! let workload = DatapipeWorkload {
//!     pipeline: serde_json::json!("cv-torch"),
//!     mode: Mode::Local,
//!     samples: 2_000,
//!     epochs: 1,
//!     service_cv: 0.0,
//!     series_points: 10,
//!     resources: Resources::default(),
//! };
//! let slow = prepare(&workload, &DatapipeSystem::Unoptimized)?.run(1)?;
//! let fast = prepare(&workload, &DatapipeSystem::Cedar(Default::default()))?.run(1)?;
//! assert!(fast.metrics["throughput_samples_s"] > 3.0 * slow.metrics["throughput_samples_s"]);
//! # Ok::<(), simcore::InputError>(())
//! ```

pub mod config;
pub mod mirror;
pub mod mm1k;
pub mod operator;
pub mod order;
pub mod pipeline;
pub mod plan;
pub mod presets;
pub mod profile;
pub mod real;
pub mod resources;
pub mod run;
pub mod sim;
pub mod simulator;
pub mod spec;
pub mod systems;

pub use simulator::DatapipeSimulator;
