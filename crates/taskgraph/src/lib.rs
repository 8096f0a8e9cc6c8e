//! # taskgraph — DAGs of device operations, executed on simcore with cluster costs
//!
//! A [`TaskGraph`] is a DAG of operations ([`OpKind`]): kernels on a GPU's compute stream,
//! copies between memory tiers (HBM, host DRAM, NVMe) on copy engines, point-to-point sends
//! and collectives on communication streams, and plain delays. [`TaskGraphBuilder`] builds
//! one and rejects cycles and dangling dependencies with the names of the ops involved.
//!
//! [`execute`] runs a graph on a [`cluster::Cluster`]: an op starts when its dependencies are
//! done and its streams are free; its duration comes from the cluster's cost models. Networks
//! are either **analytic** (each transfer as if alone) or **flow-level** (max-min fair sharing
//! of every link), chosen per run in [`ExecConfig`]. The [`Execution`] gives per-op start and
//! end, the makespan, busy time per GPU, the critical path and a Chrome trace. A chain op
//! ([`OpKind::Chain`]) runs kernels and collectives one after another as one op, for
//! simulators with many short strictly sequential steps (a tensor-parallel pass); the
//! execution reports whether it timed exactly as the separate steps would have.
//!
//! The execution semantics are written down in `docs/models/taskgraph.md`.
//!
//! ## Example: a two-stage pipeline step with a gradient all-reduce
//!
//! ```
//! use cluster::{Algorithm, Cluster, CollectiveKind, Dtype, GpuId};
//! use taskgraph::{execute, ExecConfig, TaskGraphBuilder};
//!
//! let dgx = Cluster::preset("dgx-a100", 1)?;
//! let mut b = TaskGraphBuilder::new();
//! let f0 = b.compute("fwd stage0", GpuId(0), 2e12, 1e9, Dtype::Bf16);
//! let act = b.send("activations", GpuId(0), GpuId(1), 64e6);
//! let f1 = b.compute("fwd stage1", GpuId(1), 2e12, 1e9, Dtype::Bf16);
//! let ar = b.collective("grad all-reduce", CollectiveKind::AllReduce, Algorithm::Auto,
//!                       &[GpuId(0), GpuId(1)], 256e6);
//! b.depend(f0, act);
//! b.depend(act, f1);
//! b.depend(f1, ar);
//! let graph = b.build()?;
//! let run = execute(&graph, &dgx, &ExecConfig::default())?;
//! assert_eq!(run.critical_path().len(), 4);
//! assert_eq!(run.makespan(), run.end(ar));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod config;
mod cost_cache;
mod error;
mod executor;
mod graph;
mod op;
mod resources;
mod result;

pub use config::{ExecConfig, NetworkMode};
pub use cost_cache::CostCache;
pub use error::GraphError;
pub use executor::{execute, execute_cached};
pub use graph::{TaskGraph, TaskGraphBuilder};
pub use op::{ChainId, ChainStep, GroupId, OpId, OpKind, TrafficId};
pub use resources::Lane;
pub use result::{Execution, GpuBusy};
