//! LLM multi-agent simulation: a generative-agents world (agents on a grid that perceive,
//! plan and talk through LLM calls) whose calls are scheduled by a simulation engine and
//! served by the `serving` crate's simulated LLM server — the question AI Metropolis asks
//! (Xie et al., MLSys'25): how much faster does a world advance when agents that cannot yet
//! affect each other run out of order?
//!
//! Concepts, one module each:
//! - [`world`]: tiles ([`Pos`], Chebyshev distance), SmallVille's size and step length;
//!   [`smallville`]: its map, its 25 residents and the recorded three-agent demo
//!   (`data/agents/`).
//! - [`trace::AgentTrace`]: every agent's position at every time and the LLM calls of every
//!   agent-step; written and read as JSON lines; tiled side by side to scale the agent count.
//! - [`calls`]: the shapes and counts of calls (published figures and the assumptions);
//!   [`generator`]: seeded SmallVille days calibrated to them; [`replay`]: the recorded demo.
//! - [`engine::Engine`] and [`engines`]: `single-thread`, `parallel-sync`, `metropolis` (the
//!   coupled and blocked rules), `oracle`, and the `no-dependency` and critical-path bounds;
//!   [`neighbors::Neighbors`]: who is within a radius of whom at each time.
//! - [`runner`]: runs a trace under an engine on `serving::Replicas` as a simcore model and
//!   checks the distance invariant at every step start.
//! - [`config`], [`run`] and [`simulator`]: `kind: agents` for the experiment runner.
//!
//! The model, its sources and assumptions: `docs/models/agents.md`.
//!
//! ```
//! use agents::trace::{AgentCall, TraceBuilder};
//! use agents::{Pos, engines::ParallelSync, runner};
//! use serving::{CachePolicy, EngineConfig, Replicas, Router, RouterPolicy, Server};
//! use serving::{BatchShape, IterationCost};
//! use simcore::SimTime;
//!
//! // Two agents far apart, one call each in step 0.
//! let call = AgentCall { input_tokens: 100, output_tokens: 3, function: 0, shared_tokens: 0, after_previous: false };
//! let mut b = TraceBuilder::new(20, 20, 10.0, 0, &[Pos::new(0, 0), Pos::new(19, 19)]);
//! b.calls(0, &[call]);
//! b.calls(1, &[call]);
//! b.end_step(&[Pos::new(1, 0), Pos::new(18, 19)]);
//! let trace = b.finish();
//!
//! // A server whose iterations take 10 ms.
//! struct Fixed;
//! impl IterationCost for Fixed {
//!     fn iteration_time(&mut self, _: &BatchShape) -> SimTime { SimTime::from_millis(10) }
//! }
//! let server = Server::new(EngineConfig::default(), CachePolicy::None.build(), Box::new(Fixed)).unwrap();
//! let service = Replicas::new(vec![server], Router::new(RouterPolicy::RoundRobin));
//! let out = runner::run(&trace, ParallelSync::default(), service, Default::default());
//! // Both prompts prefill together (10 ms), then two decode iterations: 30 ms.
//! assert_eq!(out.completion, SimTime::from_millis(30));
//! assert_eq!(out.calls, 2);
//! ```

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
