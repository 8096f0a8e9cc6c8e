//! # simcore — the discrete-event engine of mlsim
//!
//! Every simulator in mlsim runs on this crate. Its concepts:
//!
//! - [`SimTime`]: simulated time as an integer count of nanoseconds. No floating point ever
//!   decides the order of events.
//! - [`Model`] and [`Simulation`]: a model owns its state and handles its own typed events (a
//!   plain enum, stored by value: no boxing, no downcasts). [`Simulation::run`] pops events in
//!   (time, insertion order) and hands each to [`Model::handle`] with a [`Scheduler`] for
//!   follow-ups. [`Simulation::run_until`] stops at a time limit.
//! - [`EventQueue`]: the pending-event set; a binary heap plus a FIFO fast path for events due
//!   at the current time, with opt-in cancellation.
//! - [`RandomStreams`]: independent, reproducible generators named by (run seed, stream name).
//! - [`stats`]: counters, running summaries, time-weighted averages and histograms.
//! - [`ChromeTrace`]: spans and markers written as Chrome trace JSON for Perfetto.
//! - [`RunResult`]: what a run reports (metrics, series, matrices, trace) to the experiment
//!   runner; [`Simulator`] and its [`Description`]: what a simulator crate declares so the
//!   runner can drive it; [`InputError`]: the one error type for bad input.
//! - [`units`]: human units in config values ("400Gbps", "80GiB", "1.5ms").
//! - [`fs::write_atomic`]: output written to a temporary name and renamed.
//! - [`data`]: where data files are: the repository's `data/` folder, paths from configs.
//! - [`names::did_you_mean`]: suggestions for misspelt names in user input.
//! - [`Zipf`]: a table-free O(1) Zipf sampler (rejection-inversion) for skewed popularity.
//!
//! ## Example: an M/M/1 queue
//!
//! ```
//! use simcore::{Model, RandomStreams, Scheduler, SimTime, Simulation, StreamRng};
//!
//! enum Ev { Arrived, Departed }
//! struct Queue { rng: StreamRng, waiting: u32, served: u32 }
//!
//! impl Model for Queue {
//!     type Event = Ev;
//!     fn handle(&mut self, ev: Ev, s: &mut Scheduler<Ev>) {
//!         match ev {
//!             Ev::Arrived => {
//!                 self.waiting += 1;
//!                 if self.waiting == 1 {
//!                     s.schedule_in(SimTime::from_secs_f64(self.rng.exp(0.8)), Ev::Departed);
//!                 }
//!                 if s.now() < SimTime::from_secs(1000) {
//!                     s.schedule_in(SimTime::from_secs_f64(self.rng.exp(1.0)), Ev::Arrived);
//!                 }
//!             }
//!             Ev::Departed => {
//!                 self.waiting -= 1;
//!                 self.served += 1;
//!                 if self.waiting > 0 {
//!                     s.schedule_in(SimTime::from_secs_f64(self.rng.exp(0.8)), Ev::Departed);
//!                 }
//!             }
//!         }
//!     }
//! }
//!
//! let rng = RandomStreams::new(42).stream("mm1");
//! let mut sim = Simulation::new(Queue { rng, waiting: 0, served: 0 });
//! sim.schedule_at(SimTime::ZERO, Ev::Arrived);
//! sim.run();
//! assert!(sim.model().served > 900);
//! ```

pub mod data;
pub mod fast_hash;
pub mod fs;
mod input_error;
pub mod names;
pub mod preset;
mod queue;
mod random;
mod run_result;
mod simulation;
mod simulator;
pub mod stats;
mod time;
mod trace;
pub mod units;
pub mod zipf;

pub use input_error::InputError;
pub use preset::PresetOr;
pub use queue::{EventId, EventQueue, Scheduled};
pub use random::{RandomStreams, StreamRng, fnv1a64};
pub use run_result::RunResult;
pub use simulation::{Model, RunOutcome, Scheduler, Simulation};
pub use simulator::{Described, Description, Simulator};
pub use time::SimTime;
pub use trace::{ChromeTrace, TraceEvent};
pub use zipf::Zipf;
