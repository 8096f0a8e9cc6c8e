//! Data-parallel replicas of the server behind a router, driven request by request.
//!
//! [`Replicas`] is what a client of the simulated LLM service holds: [`Replicas::submit`]
//! routes a request ([`Router`]) to one replica at the moment it is sent, and
//! [`Replicas::advance_to`] runs every replica up to a time and hands back the requests that
//! finished, each with the replica that served it. [`Replicas::next_event_time`] is the
//! earliest time any replica has something to do, so a discrete-event model arms one event
//! per replica ([`Replicas::arm`]) and calls `advance_to` when it fires. The workload driver
//! ([`crate::drive`]) and the agent simulator (crate `agents`) both run on it.

use simcore::SimTime;

use crate::engine::SubmitError;
use crate::{Completion, Request, Router, Server};

/// Replicas, a router, and the requests outstanding on each replica.
#[derive(Debug)]
pub struct Replicas {
    servers: Vec<Server>,
    router: Router,
    outstanding: Vec<u64>,
    armed: Vec<Option<SimTime>>,
    scratch: Vec<Completion>,
}

impl Replicas {
    /// `servers` (one per replica, each with its own KV pool and cache) behind `router`.
    ///
    /// # Panics
    /// If `servers` is empty (callers check the replica count of their config first).
    pub fn new(servers: Vec<Server>, router: Router) -> Self {
        assert!(!servers.is_empty(), "at least one replica");
        let n = servers.len();
        Self { servers, router, outstanding: vec![0; n], armed: vec![None; n], scratch: Vec::new() }
    }

    /// The replicas.
    pub fn servers(&self) -> &[Server] {
        &self.servers
    }

    /// Requests routed to each replica and not finished.
    pub fn outstanding(&self) -> &[u64] {
        &self.outstanding
    }

    /// Requests routed and not finished, over all replicas.
    pub fn total_outstanding(&self) -> u64 {
        self.outstanding.iter().sum()
    }

    /// Whether replica 0 would accept `req` (every replica has the same settings).
    pub fn check(&self, req: &Request) -> Result<(), SubmitError> {
        self.servers[0].check(req)
    }

    /// Routes `req` to a replica and submits it there; returns the replica.
    pub fn submit(&mut self, req: Request) -> Result<usize, SubmitError> {
        let r = self.router.pick(&req.prompt, &self.servers, &self.outstanding);
        self.servers[r].submit(req)?;
        self.outstanding[r] += 1;
        Ok(r)
    }

    /// Runs every replica up to `now`; appends `(replica, completion)` for every request that
    /// finished, replica by replica, each in finishing order.
    pub fn advance_to(&mut self, now: SimTime, out: &mut Vec<(u32, Completion)>) {
        for r in 0..self.servers.len() {
            self.scratch.clear();
            self.servers[r].advance_to(now, &mut self.scratch);
            self.outstanding[r] -= self.scratch.len() as u64;
            out.extend(self.scratch.iter().map(|&c| (r as u32, c)));
        }
    }

    /// The earliest time a replica has something to do; `None`: all idle with nothing pending.
    pub fn next_event_time(&self) -> Option<SimTime> {
        self.servers.iter().filter_map(Server::next_event_time).min()
    }

    /// For each replica whose next event is not yet armed, calls `schedule(replica, time)`
    /// and remembers it, so one event per replica and time is pending.
    pub fn arm(&mut self, mut schedule: impl FnMut(u32, SimTime)) {
        for (r, s) in self.servers.iter().enumerate() {
            if let Some(t) = s.next_event_time()
                && self.armed[r] != Some(t)
            {
                schedule(r as u32, t);
                self.armed[r] = Some(t);
            }
        }
    }

    /// Replica `r`'s armed event at `now` fired.
    pub fn fired(&mut self, r: u32, now: SimTime) {
        if self.armed[r as usize] == Some(now) {
            self.armed[r as usize] = None;
        }
    }

    /// Waiting requests, running requests and the mean KV-pool use over replicas.
    pub fn load(&self) -> (usize, usize, f64) {
        let (mut q, mut run, mut kv) = (0, 0, 0.0);
        for s in &self.servers {
            q += s.waiting_len();
            run += s.running_len();
            kv += s.kv_used() as f64 / s.kv_pool() as f64;
        }
        (q, run, kv / self.servers.len() as f64)
    }

    /// The replicas, for their final counters.
    pub fn into_servers(self) -> Vec<Server> {
        self.servers
    }
}
