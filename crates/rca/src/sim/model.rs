//! The simulator's state and event handlers on simcore's engine.
//!
//! A *job* is one attempt of one call (or one user request) at a service: it travels to the
//! service, waits in a replica's FIFO queue for a core, does its CPU work, its disk I/O, then
//! its calls step by step, and replies. Jobs live in a slab reused through a free list, and
//! every event carries the job's generation, so an event for a job that has since been
//! freed and reused is recognised and dropped: after warm-up nothing is allocated per event.
//!
//! Invariants kept here: a job is freed exactly once, when it no longer executes *and* no
//! caller waits for it (its reply arrived, or the caller timed out); a replica's `busy` counts
//! the jobs in `Phase::Cpu` on it; `in_flight` counts the jobs assigned to it that have not
//! finished.

use std::collections::VecDeque;

use simcore::{Model, RandomStreams, Scheduler, SimTime, StreamRng};

use crate::fault::{Fault, FaultKind, Faults};
use crate::sim::histogram::LatencyHistogram;
use crate::sim::{METRICS_PER_SERVICE, RequestSummary, ServiceSummary};
use crate::system::System;

const NONE: u32 = u32::MAX;

/// The simulator's events, named as facts.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Ev {
    /// A user request of type `rtype` arrived.
    UserArrived { rtype: u32 },
    /// A request reached its service.
    Delivered { job: u32, generation: u32 },
    /// A job's CPU work finished.
    CpuDone { job: u32, generation: u32 },
    /// A job's disk I/O finished.
    IoDone { job: u32, generation: u32 },
    /// A job's reply reached its caller.
    Replied { job: u32, generation: u32 },
    /// A caller's timeout on a job expired.
    TimedOut { job: u32, generation: u32 },
    /// A metrics interval ended.
    Sampled,
    /// A memory-leak fault started or ended on `service`.
    LeakChanged { service: u32 },
    /// The leaking replicas of `service` reached their memory limit.
    OomReached { service: u32, epoch: u32 },
    /// The OOM-killed replicas of `service` are back.
    Restarted { service: u32 },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Free,
    InTransit,
    Queued,
    Cpu,
    Io,
    Calling,
    Done,
}

#[derive(Clone, Copy, Debug)]
struct Job {
    generation: u32,
    phase: Phase,
    endpoint: u32,
    service: u32,
    replica: u32,
    parent: u32,
    parent_gen: u32,
    /// Global call index (NONE for a user request).
    call: u32,
    /// Request type (user requests).
    rtype: u32,
    attempt: u32,
    step: u32,
    outstanding: u32,
    /// A call failed (while calling), or the reply is an error (once done).
    failed: bool,
    /// The caller still waits for the reply.
    awaited: bool,
    sent_at: SimTime,
    timeout: SimTime,
}

const FREE_JOB: Job = Job {
    generation: 0,
    phase: Phase::Free,
    endpoint: 0,
    service: 0,
    replica: NONE,
    parent: NONE,
    parent_gen: 0,
    call: NONE,
    rtype: 0,
    attempt: 0,
    step: 0,
    outstanding: 0,
    failed: false,
    awaited: false,
    sent_at: SimTime::ZERO,
    timeout: SimTime::ZERO,
};

#[derive(Debug)]
struct Replica {
    busy: u32,
    queue: VecDeque<u32>,
    in_flight: u32,
}

/// Per-service state, interval accumulators and run totals.
#[derive(Debug)]
struct Svc {
    replicas: Vec<Replica>,
    alive: bool,
    rr: u32,
    faults: Vec<u32>,
    rng: StreamRng,
    leak_since: SimTime,
    oom_epoch: u32,
    // Interval accumulators.
    attempts: u64,
    ok: u64,
    errors: u64,
    cpu_work_s: f64,
    hist: LatencyHistogram,
    last_p50_ms: f64,
    last_p99_ms: f64,
    total: ServiceSummary,
}

/// Fault effects on one service at one time.
#[derive(Clone, Copy, Debug)]
struct Effects {
    speed: f64,
    reply_delay: SimTime,
    loss: f64,
    io_slowdown: f64,
    error_p: f64,
}

const NO_EFFECTS: Effects =
    Effects { speed: 1.0, reply_delay: SimTime::ZERO, loss: 0.0, io_slowdown: 1.0, error_p: 0.0 };

/// The simulation model.
pub(crate) struct Micro<'a> {
    sys: &'a System,
    faults: &'a [Fault],
    jobs: Vec<Job>,
    free: Vec<u32>,
    svcs: Vec<Svc>,
    arrivals: StreamRng,
    fault_rng: StreamRng,
    /// Cumulative request-type rates (scaled), for picking a type.
    cum_rates: Vec<f64>,
    total_rate: f64,
    horizon: SimTime,
    time_of_day_s: f64,
    interval: SimTime,
    rows: usize,
    row: usize,
    /// Column-major metrics, `rows` per column.
    pub(crate) values: Vec<f64>,
    pub(crate) requests: Vec<RequestSummary>,
    pub(crate) max_jobs: usize,
}

impl<'a> Micro<'a> {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        sys: &'a System,
        faults: &'a Faults,
        streams: &RandomStreams,
        horizon: SimTime,
        interval: SimTime,
        rows: usize,
        rate_scale: f64,
        time_of_day_s: f64,
    ) -> Self {
        let svcs = sys
            .services()
            .iter()
            .enumerate()
            .map(|(i, s)| Svc {
                replicas: (0..s.replicas)
                    .map(|_| Replica { busy: 0, queue: VecDeque::with_capacity(16), in_flight: 0 })
                    .collect(),
                alive: true,
                rr: 0,
                faults: faults
                    .list()
                    .iter()
                    .enumerate()
                    .filter(|(_, f)| f.service == i)
                    .map(|(k, _)| k as u32)
                    .collect(),
                rng: streams.indexed_stream("rca/sim/service", i as u64),
                leak_since: SimTime::ZERO,
                oom_epoch: 0,
                attempts: 0,
                ok: 0,
                errors: 0,
                cpu_work_s: 0.0,
                hist: LatencyHistogram::new(),
                last_p50_ms: 0.0,
                last_p99_ms: 0.0,
                total: ServiceSummary { name: s.name.clone(), ..ServiceSummary::default() },
            })
            .collect();
        let mut acc = 0.0;
        let cum_rates = sys
            .requests()
            .iter()
            .map(|r| {
                acc += r.rate * rate_scale;
                acc
            })
            .collect();
        Micro {
            sys,
            faults: faults.list(),
            jobs: Vec::with_capacity(1024),
            free: Vec::with_capacity(1024),
            svcs,
            arrivals: streams.stream("rca/sim/arrivals"),
            fault_rng: streams.stream("rca/sim/faults"),
            cum_rates,
            total_rate: acc,
            horizon,
            time_of_day_s,
            interval,
            rows,
            row: 0,
            values: vec![0.0; rows * sys.services().len() * METRICS_PER_SERVICE],
            requests: sys
                .requests()
                .iter()
                .map(|r| RequestSummary { name: r.name.clone(), ..RequestSummary::default() })
                .collect(),
            max_jobs: 0,
        }
    }

    /// The first events: the first arrival, the first sample, the leak boundaries.
    pub(crate) fn initial_events(&mut self) -> Vec<(SimTime, Ev)> {
        let mut out = Vec::new();
        out.extend(self.next_arrival(SimTime::ZERO));
        if self.rows > 0 {
            out.push((self.interval, Ev::Sampled));
        }
        for f in self.faults {
            if matches!(f.kind, FaultKind::MemoryLeak { .. }) {
                let service = f.service as u32;
                out.push((f.start, Ev::LeakChanged { service }));
                out.push((f.end, Ev::LeakChanged { service }));
            }
        }
        out
    }

    /// Jobs still allocated (0 once the run has drained).
    pub(crate) fn live_jobs(&self) -> usize {
        self.jobs.len() - self.free.len()
    }

    pub(crate) fn service_totals(&self) -> Vec<ServiceSummary> {
        self.svcs.iter().map(|s| s.total.clone()).collect()
    }

    // ---- arrivals -------------------------------------------------------------------------

    /// Thinning (Lewis and Shedler 1979): candidates at the peak rate, each kept with
    /// probability shape(t) / peak.
    fn next_arrival(&mut self, now: SimTime) -> Option<(SimTime, Ev)> {
        let shape = self.sys.shape();
        let peak = self.total_rate * shape.max();
        if peak <= 0.0 {
            return None;
        }
        let mut t = now.as_secs_f64();
        let end = self.horizon.as_secs_f64();
        loop {
            t += self.arrivals.exp(1.0 / peak);
            if t >= end {
                return None;
            }
            let keep = shape.factor(self.time_of_day_s + t) / shape.max();
            if self.arrivals.next_f64() < keep {
                break;
            }
        }
        let x = self.arrivals.next_f64() * self.total_rate;
        let rtype = self.cum_rates.iter().position(|&c| x < c).unwrap_or(self.cum_rates.len() - 1);
        let at = SimTime::from_secs_f64(t).max(now);
        Some((at, Ev::UserArrived { rtype: rtype as u32 }))
    }

    // ---- jobs -----------------------------------------------------------------------------

    fn alloc(&mut self, job: Job) -> u32 {
        if let Some(i) = self.free.pop() {
            let generation = self.jobs[i as usize].generation;
            self.jobs[i as usize] = Job { generation, ..job };
            i
        } else {
            self.jobs.push(Job { generation: 0, ..job });
            self.max_jobs = self.max_jobs.max(self.jobs.len());
            (self.jobs.len() - 1) as u32
        }
    }

    fn release(&mut self, j: u32) {
        let job = &mut self.jobs[j as usize];
        debug_assert!(job.phase != Phase::Free);
        job.generation = job.generation.wrapping_add(1);
        job.phase = Phase::Free;
        self.free.push(j);
    }

    fn effects(&self, service: usize, now: SimTime) -> Effects {
        let svc = &self.svcs[service];
        if svc.faults.is_empty() {
            return NO_EFFECTS;
        }
        let cores = f64::from(self.sys.services()[service].cores);
        let mut e = NO_EFFECTS;
        let mut ok_p = 1.0;
        let mut keep = 1.0;
        for &k in &svc.faults {
            let f = &self.faults[k as usize];
            if !f.active(now) {
                continue;
            }
            match f.kind {
                FaultKind::CpuHog { cores: c } => e.speed -= c / cores,
                FaultKind::NetworkDelay { delay } => {
                    e.reply_delay = e.reply_delay.saturating_add(delay)
                }
                FaultKind::PacketLoss { probability } => keep *= 1.0 - probability,
                FaultKind::DiskHog { slowdown } => e.io_slowdown *= slowdown,
                FaultKind::Misconfiguration { error_rate } => {
                    let len = f.end.saturating_sub(f.start).as_secs_f64().max(1e-9);
                    let frac = (now.saturating_sub(f.start).as_secs_f64() / len).clamp(0.0, 1.0);
                    ok_p *= 1.0 - error_rate * frac;
                }
                FaultKind::MemoryLeak { .. } => {}
            }
        }
        e.speed = e.speed.max(0.01);
        e.loss = 1.0 - keep;
        e.error_p = 1.0 - ok_p;
        e
    }

    /// Sends attempt `attempt` of a call (or a user request when `parent == NONE`).
    #[allow(clippy::too_many_arguments)]
    fn send(
        &mut self,
        endpoint: usize,
        parent: u32,
        call: u32,
        rtype: u32,
        attempt: u32,
        timeout: SimTime,
        s: &mut Scheduler<Ev>,
    ) {
        let now = s.now();
        let service = self.sys.endpoints()[endpoint].service;
        let parent_gen = if parent == NONE { 0 } else { self.jobs[parent as usize].generation };
        let j = self.alloc(Job {
            phase: Phase::InTransit,
            endpoint: endpoint as u32,
            service: service as u32,
            parent,
            parent_gen,
            call,
            rtype,
            attempt,
            step: 0,
            outstanding: 0,
            failed: false,
            awaited: true,
            sent_at: now,
            timeout,
            ..FREE_JOB
        });
        let generation = self.jobs[j as usize].generation;
        let svc = &mut self.svcs[service];
        svc.attempts += 1;
        svc.total.attempts += 1;
        let loss = self.effects(service, now).loss;
        if loss > 0.0 && self.fault_rng.next_f64() < loss {
            // Lost on the way: it never arrives; the caller's timeout ends it.
            self.jobs[j as usize].phase = Phase::Done;
            self.svcs[service].total.lost += 1;
        } else {
            s.schedule_in(self.sys.network_delay(), Ev::Delivered { job: j, generation });
        }
        s.schedule_in(timeout, Ev::TimedOut { job: j, generation });
    }

    fn delivered(&mut self, j: u32, s: &mut Scheduler<Ev>) {
        let service = self.jobs[j as usize].service as usize;
        let svc = &mut self.svcs[service];
        if !svc.alive {
            // Connection refused: every replica is restarting.
            self.finish(j, true, s);
            return;
        }
        let n = svc.replicas.len() as u32;
        let r = svc.rr % n;
        svc.rr = svc.rr.wrapping_add(1);
        let replica = &mut svc.replicas[r as usize];
        replica.in_flight += 1;
        let cores = self.sys.services()[service].cores;
        let job = &mut self.jobs[j as usize];
        job.replica = r;
        if replica.busy < cores {
            self.start_cpu(j, s);
        } else {
            job.phase = Phase::Queued;
            replica.queue.push_back(j);
        }
    }

    fn start_cpu(&mut self, j: u32, s: &mut Scheduler<Ev>) {
        let job = &mut self.jobs[j as usize];
        let (service, replica, endpoint) =
            (job.service as usize, job.replica as usize, job.endpoint as usize);
        job.phase = Phase::Cpu;
        let generation = job.generation;
        let speed = self.effects(service, s.now()).speed;
        let svc = &mut self.svcs[service];
        svc.replicas[replica].busy += 1;
        let work = svc.rng.exp(self.sys.endpoints()[endpoint].cpu_s);
        svc.cpu_work_s += work;
        svc.total.cpu_work_s += work;
        s.schedule_in(SimTime::from_secs_f64(work / speed), Ev::CpuDone { job: j, generation });
    }

    fn cpu_done(&mut self, j: u32, s: &mut Scheduler<Ev>) {
        let job = self.jobs[j as usize];
        let (service, replica) = (job.service as usize, job.replica as usize);
        let rep = &mut self.svcs[service].replicas[replica];
        rep.busy -= 1;
        if let Some(next) = rep.queue.pop_front() {
            self.start_cpu(next, s);
        }
        let io_s = self.sys.endpoints()[job.endpoint as usize].io_s;
        if io_s > 0.0 {
            let slow = self.effects(service, s.now()).io_slowdown;
            let t = self.svcs[service].rng.exp(io_s) * slow;
            self.jobs[j as usize].phase = Phase::Io;
            s.schedule_in(
                SimTime::from_secs_f64(t),
                Ev::IoDone { job: j, generation: job.generation },
            );
        } else {
            self.jobs[j as usize].step =
                self.sys.endpoints()[job.endpoint as usize].steps.start as u32;
            self.advance(j, s);
        }
    }

    fn io_done(&mut self, j: u32, s: &mut Scheduler<Ev>) {
        let ep = self.jobs[j as usize].endpoint as usize;
        self.jobs[j as usize].step = self.sys.endpoints()[ep].steps.start as u32;
        self.advance(j, s);
    }

    /// Issues the next step with at least one call, or completes the job.
    fn advance(&mut self, j: u32, s: &mut Scheduler<Ev>) {
        let sys = self.sys;
        let end = sys.endpoints()[self.jobs[j as usize].endpoint as usize].steps.end;
        loop {
            let step = self.jobs[j as usize].step as usize;
            if step >= end {
                let job = self.jobs[j as usize];
                let p = self.effects(job.service as usize, s.now()).error_p;
                let misconfigured = p > 0.0 && self.fault_rng.next_f64() < p;
                self.finish(j, job.failed || misconfigured, s);
                return;
            }
            self.jobs[j as usize].step += 1;
            let service = self.jobs[j as usize].service as usize;
            let mut sent = 0;
            for ci in sys.step_range(step) {
                let c = *sys.call(ci);
                if c.probability < 1.0 && self.svcs[service].rng.next_f64() >= c.probability {
                    continue;
                }
                for _ in 0..c.count {
                    self.send(c.endpoint, j, ci as u32, 0, 0, c.timeout, s);
                }
                sent += c.count;
            }
            if sent > 0 {
                let job = &mut self.jobs[j as usize];
                job.phase = Phase::Calling;
                job.outstanding = sent;
                return;
            }
        }
    }

    /// The job's work is over (`error`: it replies with an error).
    fn finish(&mut self, j: u32, error: bool, s: &mut Scheduler<Ev>) {
        let job = &mut self.jobs[j as usize];
        job.phase = Phase::Done;
        job.failed = error;
        let (service, replica, awaited, generation) =
            (job.service as usize, job.replica, job.awaited, job.generation);
        if replica != NONE {
            let rep = &mut self.svcs[service].replicas[replica as usize];
            rep.in_flight = rep.in_flight.saturating_sub(1);
        }
        if !awaited {
            self.release(j);
            return;
        }
        let e = self.effects(service, s.now());
        if e.loss > 0.0 && self.fault_rng.next_f64() < e.loss {
            self.svcs[service].total.lost += 1;
            return; // the reply is lost; the caller's timeout ends the job
        }
        let delay = self.sys.network_delay().saturating_add(e.reply_delay);
        s.schedule_in(delay, Ev::Replied { job: j, generation });
    }

    fn record(&mut self, service: usize, latency: SimTime, error: bool, timeout: bool) {
        let svc = &mut self.svcs[service];
        svc.hist.record(latency.as_nanos());
        if error {
            svc.errors += 1;
            if timeout {
                svc.total.timeouts += 1;
            } else {
                svc.total.errors += 1;
            }
        } else {
            svc.ok += 1;
            svc.total.ok += 1;
            svc.total.ok_latency_s += latency.as_secs_f64();
        }
    }

    fn replied(&mut self, j: u32, s: &mut Scheduler<Ev>) {
        let job = self.jobs[j as usize];
        self.record(job.service as usize, s.now().saturating_sub(job.sent_at), job.failed, false);
        self.release(j);
        self.notify(job, job.failed, false, s);
    }

    fn timed_out(&mut self, j: u32, s: &mut Scheduler<Ev>) {
        let job = self.jobs[j as usize];
        self.record(job.service as usize, job.timeout, true, true);
        if job.phase == Phase::Done {
            self.release(j);
        } else {
            self.jobs[j as usize].awaited = false; // orphaned: freed when it finishes
        }
        self.notify(job, true, true, s);
    }

    /// Tells the caller of `job` how its attempt ended.
    fn notify(&mut self, job: Job, error: bool, timeout: bool, s: &mut Scheduler<Ev>) {
        if job.parent == NONE {
            let r = &mut self.requests[job.rtype as usize];
            match (error, timeout) {
                (false, _) => r.ok += 1,
                (true, false) => r.errors += 1,
                (true, true) => r.timeouts += 1,
            }
            return;
        }
        let p = job.parent as usize;
        if self.jobs[p].generation != job.parent_gen || self.jobs[p].phase != Phase::Calling {
            return; // the caller was killed meanwhile
        }
        let c = *self.sys.call(job.call as usize);
        if error && job.attempt < c.retries {
            self.svcs[job.service as usize].total.retries += 1;
            self.send(c.endpoint, job.parent, job.call, 0, job.attempt + 1, c.timeout, s);
            return;
        }
        let parent = &mut self.jobs[p];
        parent.failed |= error;
        parent.outstanding -= 1;
        if parent.outstanding == 0 {
            self.advance(job.parent, s);
        }
    }

    // ---- memory leaks and OOM kills ------------------------------------------------------

    /// Leaked bytes per replica of `service` at `now`, and the current leak rate.
    fn leak(&self, service: usize, now: SimTime) -> (f64, f64) {
        let svc = &self.svcs[service];
        if !svc.alive {
            return (0.0, 0.0);
        }
        let (mut bytes, mut rate) = (0.0, 0.0);
        for &k in &svc.faults {
            let f = &self.faults[k as usize];
            if let FaultKind::MemoryLeak { rate: r } = f.kind
                && f.active(now)
            {
                let since = f.start.max(svc.leak_since);
                bytes += r.0 * now.saturating_sub(since).as_secs_f64();
                rate += r.0;
            }
        }
        (bytes, rate)
    }

    fn schedule_oom(&mut self, service: usize, s: &mut Scheduler<Ev>) {
        let now = s.now();
        let svc = &mut self.svcs[service];
        svc.oom_epoch = svc.oom_epoch.wrapping_add(1);
        let epoch = svc.oom_epoch;
        let (bytes, rate) = self.leak(service, now);
        if rate <= 0.0 {
            return;
        }
        let spec = &self.sys.services()[service];
        let room = (spec.memory_limit - spec.memory - bytes).max(0.0);
        s.schedule_in(
            SimTime::from_secs_f64_ceil(room / rate),
            Ev::OomReached { service: service as u32, epoch },
        );
    }

    fn oom(&mut self, service: usize, s: &mut Scheduler<Ev>) {
        let svc = &mut self.svcs[service];
        svc.alive = false;
        svc.total.ooms += 1;
        for rep in &mut svc.replicas {
            rep.busy = 0;
            rep.queue.clear();
            rep.in_flight = 0;
        }
        for j in 0..self.jobs.len() as u32 {
            let job = &mut self.jobs[j as usize];
            let running =
                matches!(job.phase, Phase::Queued | Phase::Cpu | Phase::Io | Phase::Calling);
            if job.service as usize == service && running {
                job.replica = NONE;
                self.finish(j, true, s);
            }
        }
        s.schedule_in(self.sys.restart_time(), Ev::Restarted { service: service as u32 });
    }

    fn restarted(&mut self, service: usize, s: &mut Scheduler<Ev>) {
        let svc = &mut self.svcs[service];
        svc.alive = true;
        svc.leak_since = s.now();
        self.schedule_oom(service, s);
    }

    // ---- metrics ---------------------------------------------------------------------------

    fn sample(&mut self, s: &mut Scheduler<Ev>) {
        let now = s.now();
        let from = now.saturating_sub(self.interval);
        let dt = self.interval.as_secs_f64();
        let rows = self.rows;
        for (i, spec) in self.sys.services().iter().enumerate() {
            let (leak, _) = self.leak(i, now);
            let mut hog = 0.0;
            for &k in &self.svcs[i].faults {
                let f = &self.faults[k as usize];
                if let FaultKind::CpuHog { cores } = f.kind {
                    hog += cores * f.overlap_s(from, now) * f64::from(spec.replicas);
                }
            }
            let svc = &mut self.svcs[i];
            let capacity = f64::from(spec.cores) * f64::from(spec.replicas) * dt;
            let cpu = (svc.cpu_work_s + hog) / capacity;
            let in_flight: u32 = svc.replicas.iter().map(|r| r.in_flight).sum();
            let mem = spec.memory
                + leak
                + spec.memory_per_request * f64::from(in_flight) / f64::from(spec.replicas);
            let done = svc.ok + svc.errors;
            let err = if done == 0 { 0.0 } else { svc.errors as f64 / done as f64 };
            if let Some([p50, p99]) = svc.hist.quantiles([0.5, 0.99]) {
                svc.last_p50_ms = p50 / 1e6;
                svc.last_p99_ms = p99 / 1e6;
            }
            let vals = [
                cpu,
                mem / (1024.0 * 1024.0),
                svc.attempts as f64 / dt,
                err,
                svc.last_p50_ms,
                svc.last_p99_ms,
            ];
            for (k, v) in vals.into_iter().enumerate() {
                self.values[(i * METRICS_PER_SERVICE + k) * rows + self.row] = v;
            }
            svc.attempts = 0;
            svc.ok = 0;
            svc.errors = 0;
            svc.cpu_work_s = 0.0;
            svc.hist.reset();
        }
        self.row += 1;
        if self.row < self.rows {
            s.schedule_in(self.interval, Ev::Sampled);
        }
    }
}

impl Model for Micro<'_> {
    type Event = Ev;

    fn handle(&mut self, ev: Ev, s: &mut Scheduler<Ev>) {
        // A job event is stale when its job has been freed (generation changed) or has moved
        // on to another phase (killed by an OOM).
        let phase_is = |m: &Self, job: u32, generation: u32, ok: &[Phase]| {
            let j = &m.jobs[job as usize];
            j.generation == generation && ok.contains(&j.phase)
        };
        match ev {
            Ev::UserArrived { rtype } => {
                let endpoint = self.sys.requests()[rtype as usize].endpoint;
                self.requests[rtype as usize].sent += 1;
                self.send(endpoint, NONE, NONE, rtype, 0, self.sys.client_timeout(), s);
                if let Some((at, ev)) = self.next_arrival(s.now()) {
                    s.schedule_at(at, ev);
                }
            }
            Ev::Delivered { job, generation } => {
                if phase_is(self, job, generation, &[Phase::InTransit]) {
                    self.delivered(job, s);
                }
            }
            Ev::CpuDone { job, generation } => {
                if phase_is(self, job, generation, &[Phase::Cpu]) {
                    self.cpu_done(job, s);
                }
            }
            Ev::IoDone { job, generation } => {
                if phase_is(self, job, generation, &[Phase::Io]) {
                    self.io_done(job, s);
                }
            }
            Ev::Replied { job, generation } => {
                let j = &self.jobs[job as usize];
                if j.generation == generation && j.awaited && j.phase == Phase::Done {
                    self.replied(job, s);
                }
            }
            Ev::TimedOut { job, generation } => {
                let j = &self.jobs[job as usize];
                if j.generation == generation && j.awaited && j.phase != Phase::Free {
                    self.timed_out(job, s);
                }
            }
            Ev::Sampled => self.sample(s),
            Ev::LeakChanged { service } => {
                if self.svcs[service as usize].alive {
                    self.schedule_oom(service as usize, s);
                }
            }
            Ev::OomReached { service, epoch } => {
                let svc = &self.svcs[service as usize];
                if svc.alive && svc.oom_epoch == epoch {
                    self.oom(service as usize, s);
                }
            }
            Ev::Restarted { service } => self.restarted(service as usize, s),
        }
    }
}
