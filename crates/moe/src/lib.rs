//! # moe — expert placement during MoE training
//!
//! Simulates training a transformer whose FFNs are mixture-of-experts layers with dynamic,
//! skewed expert popularity, and compares how systems place and replicate experts:
//!
//! - [`config`]: the workload ([`MoeWorkload`]: model, experts, top-k, slots per GPU, capacity
//!   factor, batch, routing, convergence) and the [`SystemSpec`];
//! - [`routing`]: popularity per iteration, layer and class: a seeded generator with shrinking,
//!   growing and spiky classes, or a recorded CSV trace;
//! - [`placement`]: which class every slot holds; [`dispatch`]: capacity, drops and token
//!   traffic;
//! - [`systems`]: `deepspeed` (static), `flexmoe` (periodic rebalancing with migration),
//!   `swiftmoe` (per-iteration re-placement, optimizer sharded over all ranks), `nodrop`;
//! - [`iteration`]: one iteration as a task graph executed on the shared executor and cost
//!   model; [`convergence`]: progress from kept tokens; [`run`]: iterations to the target.
//!
//! Formulas, defaults and assumptions with their sources: `docs/models/moe.md`.
//!
//! ## Example
//!
//! ```
//! use cluster::Cluster;
//! use moe::{MoeWorkload, SystemSpec};
//!
//! let cluster = Cluster::preset("cloud-a100-100g", 4)?;
//! let workload: MoeWorkload = serde_json::from_value(serde_json::json!({
//!     "model": "gpt-small", "experts": 8, "slots_per_gpu": 4, "seq_len": 512,
//!     "global_batch": 16, "max_iterations": 20
//! }))?;
//! let run = moe::run::prepare(&cluster, &workload, &SystemSpec::Swiftmoe)?;
//! let result = run.run(&cluster, 1, false)?;
//! assert!(result.metrics["iter_time_s"] > 0.0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod config;
pub mod convergence;
pub mod dispatch;
pub mod iteration;
pub mod memory;
pub mod model;
pub mod placement;
pub mod routing;
pub mod run;
pub mod simulator;
pub mod systems;

pub use config::{ModelRef, MoeWorkload, SystemSpec};
pub use model::MoeModel;
pub use simulator::MoeSimulator;
