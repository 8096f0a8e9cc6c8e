//! A whole workload on one [`Server`], as a simcore model.
//!
//! Events: [`ServingEvent::RequestsArrived`] submits every request due now (requests that
//! arrive together join the same prefill round) and schedules the next arrival;
//! [`ServingEvent::IterationDone`] marks the end of the iteration in flight. After each event
//! the model lets the server catch up to the clock and schedules the end of its next
//! iteration. [`run_workload`] builds and runs it and computes the [`Metrics`].

use simcore::{InputError, Model, RunResult, Scheduler as Events, SimTime, Simulation};

use crate::config::EngineConfig;
use crate::engine::Server;
use crate::metrics::{Metrics, ServerStats};
use crate::{Completion, IterationCost, KvCache, Request};

/// Events of a serving run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServingEvent {
    /// Requests arrived (all those due now).
    RequestsArrived,
    /// The server's iteration in flight ended.
    IterationDone,
}

/// The simcore model: a server and the requests still to arrive.
pub struct ServingSim {
    server: Server,
    arrivals: std::iter::Peekable<std::vec::IntoIter<Request>>,
    completions: Vec<Completion>,
    armed: Option<SimTime>,
}

impl ServingSim {
    /// A model feeding `requests` (any order; sorted by arrival, stably) to `server`.
    /// Requests are checked when submitted; [`run_workload`] checks them all first.
    pub fn new(server: Server, mut requests: Vec<Request>) -> Self {
        requests.sort_by_key(|r| r.arrival);
        Self {
            server,
            arrivals: requests.into_iter().peekable(),
            completions: Vec::new(),
            armed: None,
        }
    }

    /// When the first request arrives, if any: schedule [`ServingEvent::RequestsArrived`] then.
    pub fn first_arrival(&mut self) -> Option<SimTime> {
        self.arrivals.peek().map(|r| r.arrival)
    }

    /// The server.
    pub fn server(&self) -> &Server {
        &self.server
    }

    /// Requests finished so far, in finishing order.
    pub fn completions(&self) -> &[Completion] {
        &self.completions
    }

    /// The server and the completions.
    pub fn into_parts(self) -> (Server, Vec<Completion>) {
        (self.server, self.completions)
    }
}

impl Model for ServingSim {
    type Event = ServingEvent;

    fn handle(&mut self, event: ServingEvent, sched: &mut Events<ServingEvent>) {
        let now = sched.now();
        match event {
            ServingEvent::RequestsArrived => {
                while let Some(r) = self.arrivals.next_if(|r| r.arrival <= now) {
                    // Checked up front by `run_workload`; a direct user sees the panic message.
                    if let Err(e) = self.server.submit(r) {
                        panic!("serving: {e}");
                    }
                }
                if let Some(r) = self.arrivals.peek() {
                    sched.schedule_at(r.arrival, ServingEvent::RequestsArrived);
                }
            }
            ServingEvent::IterationDone => {
                if self.armed == Some(now) {
                    self.armed = None;
                }
            }
        }
        self.server.advance_to(now, &mut self.completions);
        if let Some(t) = self.server.next_event_time()
            && self.armed != Some(t)
        {
            sched.schedule_at(t, ServingEvent::IterationDone);
            self.armed = Some(t);
        }
    }
}

/// The outcome of [`run_workload`].
#[derive(Clone, Debug)]
pub struct WorkloadRun {
    /// Every request, in finishing order.
    pub completions: Vec<Completion>,
    /// The server's counters and series.
    pub stats: ServerStats,
    /// The headline metrics.
    pub metrics: Metrics,
    /// Time of the last event.
    pub end: SimTime,
    /// Events the simulation handled.
    pub events: u64,
}

impl WorkloadRun {
    /// Metrics and series as a [`RunResult`].
    pub fn to_run_result(&self) -> RunResult {
        let mut r = RunResult::new();
        self.metrics.write_to(&mut r);
        self.stats.write_series(&mut r);
        r
    }
}

/// Serves `requests` on a new server until all have finished. Every request is checked
/// first; the error names the first bad one.
pub fn run_workload(
    config: EngineConfig,
    cache: Box<dyn KvCache>,
    cost: Box<dyn IterationCost>,
    requests: Vec<Request>,
) -> Result<WorkloadRun, InputError> {
    let server = Server::new(config, cache, cost)?;
    for r in &requests {
        server.check(r)?;
    }
    let mut model = ServingSim::new(server, requests);
    let first = model.first_arrival();
    let mut sim = Simulation::new(model);
    if let Some(t) = first {
        sim.schedule_at(t, ServingEvent::RequestsArrived);
    }
    sim.run();
    let end = sim.now();
    let events = sim.events_handled();
    let (server, completions) = sim.into_model().into_parts();
    let stats = server.stats().clone();
    let metrics = Metrics::compute(&completions, &stats, end);
    Ok(WorkloadRun { completions, stats, metrics, end, events })
}
