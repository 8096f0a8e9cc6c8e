//! Runs a [`Plan`] on simcore's event loop: stages with parallel workers, bounded buffers
//! with back-pressure, the trainer taking samples at its step rate, and an optional run-time
//! controller.
//!
//! Samples are counted, not tracked one by one: a worker takes one sample from its input
//! buffer (or the data set), holds it for its service time, then puts it into its output
//! buffer, or blocks holding it until a slot frees (back-pressure). One event per sample per
//! stage; the pending-event set holds at most one event per busy worker plus the trainer and
//! the controller.

use simcore::{Model, RandomStreams, Scheduler, SimTime, Simulation};

use crate::plan::{Controller, Plan};
use crate::resources::{Host, Resources};

/// How to run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SimOptions {
    /// Samples per epoch.
    pub samples: u64,
    /// Coefficient of variation of service times (0: every sample costs the profiled mean;
    /// otherwise log-normal with that CV).
    pub service_cv: f64,
    /// Points in the throughput and buffer series.
    pub series_points: usize,
}

/// What one epoch did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EpochOutcome {
    /// Seconds from the first sample taken to the last consumed.
    pub time_s: f64,
    /// Samples each stage finished.
    pub processed: Vec<u64>,
    /// Seconds each stage's workers were busy, all workers together.
    pub busy_s: Vec<f64>,
    /// CPU seconds used on the training host and on the remote workers.
    pub cpu_s: [f64; 2],
    /// Peak bytes held in buffers (samples waiting plus samples held by blocked workers).
    pub buffer_bytes_peak: f64,
    /// Most samples each buffer held at once.
    pub buffer_peak_items: Vec<u32>,
    /// Workers per stage at the end (after the controller).
    pub workers: Vec<u32>,
    /// (time s, samples/s over the last interval, samples in the output buffer, bytes held
    /// in all buffers).
    pub series: Vec<(f64, f64, f64, f64)>,
    /// Events handled.
    pub events: u64,
}

#[derive(Clone, Copy, Debug)]
enum Ev {
    Start,
    Done(u32),
    Consumed,
    Tick,
}

const TRAINER: usize = usize::MAX;

enum Probe {
    Idle,
    Trying { stage: usize, before: f64 },
    Finished,
}

struct Engine<'a> {
    plan: &'a Plan,
    res: &'a Resources,
    workers: Vec<u32>,
    idle: Vec<u32>,
    blocked: Vec<u32>,
    retire: Vec<u32>,
    producers: Vec<Vec<usize>>,
    reader: Vec<usize>,
    count: Vec<u32>,
    occupancy_area: Vec<f64>,
    peak_items: Vec<u32>,
    occupancy_since: Vec<f64>,
    remaining: u64,
    consumed: u64,
    target: u64,
    trainer_s: f64,
    trainer_busy: bool,
    processed: Vec<u64>,
    busy_s: Vec<f64>,
    held_bytes: f64,
    peak_bytes: f64,
    cv_sigma: f64,
    rngs: Vec<simcore::StreamRng>,
    work: Vec<usize>,
    series_every: u64,
    series: Vec<(f64, f64, f64, f64)>,
    last_point: (f64, u64),
    controller: Option<Controller>,
    probe: Probe,
    window: (f64, u64, f64),
}

impl Engine<'_> {
    fn now(sched: &Scheduler<Ev>) -> f64 {
        sched.now().as_secs_f64()
    }

    fn service(&mut self, s: usize) -> f64 {
        let mean = self.plan.stages[s].service_s;
        if self.cv_sigma == 0.0 || mean == 0.0 {
            return mean;
        }
        let z = self.rngs[s].normal();
        mean * (self.cv_sigma * z - self.cv_sigma * self.cv_sigma / 2.0).exp()
    }

    fn set_count(&mut self, b: usize, new: u32, now: f64) {
        self.occupancy_area[b] += self.count[b] as f64 * (now - self.occupancy_since[b]);
        self.occupancy_since[b] = now;
        let item = self.plan.buffers[b].item_bytes;
        self.held_bytes += (new as f64 - self.count[b] as f64) * item;
        self.count[b] = new;
        self.peak_items[b] = self.peak_items[b].max(new);
        self.peak_bytes = self.peak_bytes.max(self.held_bytes);
    }

    fn available(&self, s: usize) -> bool {
        match self.plan.stages[s].input {
            None => self.remaining > 0,
            Some(b) => self.count[b] > 0,
        }
    }

    /// Takes one sample from `s`'s input; a freed slot lets one blocked producer put.
    fn take(&mut self, input: Option<usize>, now: f64) {
        match input {
            None => self.remaining -= 1,
            Some(b) => {
                self.set_count(b, self.count[b] - 1, now);
                self.slot_freed(b, now);
            }
        }
    }

    fn slot_freed(&mut self, b: usize, now: f64) {
        for k in 0..self.producers[b].len() {
            let p = self.producers[b][k];
            if self.blocked[p] > 0 {
                self.blocked[p] -= 1;
                let item = self.plan.buffers[b].item_bytes;
                self.held_bytes -= item;
                self.set_count(b, self.count[b] + 1, now);
                self.release_worker(p);
                self.work.push(p);
                self.work.push(self.reader[b]);
                return;
            }
        }
    }

    fn release_worker(&mut self, s: usize) {
        if self.retire[s] > 0 {
            self.retire[s] -= 1;
            self.workers[s] -= 1;
        } else {
            self.idle[s] += 1;
        }
    }

    fn try_start(&mut self, s: usize, sched: &mut Scheduler<Ev>) {
        let now = Self::now(sched);
        while self.idle[s] > 0 && self.available(s) {
            self.take(self.plan.stages[s].input, now);
            self.idle[s] -= 1;
            let t = self.service(s);
            self.busy_s[s] += t;
            sched.schedule_in(SimTime::from_secs_f64(t), Ev::Done(s as u32));
        }
    }

    fn try_consume(&mut self, sched: &mut Scheduler<Ev>) {
        let now = Self::now(sched);
        let out = self.plan.output;
        while !self.trainer_busy && self.count[out] > 0 && self.consumed < self.target {
            self.set_count(out, self.count[out] - 1, now);
            self.slot_freed(out, now);
            if self.trainer_s > 0.0 {
                self.trainer_busy = true;
                sched.schedule_in(SimTime::from_secs_f64(self.trainer_s), Ev::Consumed);
            } else {
                self.count_consumed(sched);
            }
        }
    }

    fn count_consumed(&mut self, sched: &mut Scheduler<Ev>) {
        self.consumed += 1;
        let now = Self::now(sched);
        if self.consumed.is_multiple_of(self.series_every) || self.consumed == self.target {
            let (t0, c0) = self.last_point;
            let rate = if now > t0 { (self.consumed - c0) as f64 / (now - t0) } else { 0.0 };
            self.series.push((
                now,
                rate,
                self.count[self.plan.output] as f64,
                self.held_bytes.max(0.0),
            ));
            self.last_point = (now, self.consumed);
        }
        if self.consumed == self.target {
            sched.stop();
        }
    }

    fn drain(&mut self, sched: &mut Scheduler<Ev>) {
        while let Some(s) = self.work.pop() {
            if s == TRAINER {
                self.try_consume(sched);
            } else {
                self.try_start(s, sched);
            }
        }
    }

    fn workers_on(&self, host: Host) -> u32 {
        self.plan
            .stages
            .iter()
            .enumerate()
            .filter(|(_, st)| st.host() == Some(host))
            .map(|(i, _)| self.workers[i])
            .sum()
    }

    fn tick(&mut self, c: Controller, sched: &mut Scheduler<Ev>) {
        let now = Self::now(sched);
        let out = self.plan.output;
        self.set_count(out, self.count[out], now);
        let (t0, c0, area0) = self.window;
        let span = (now - t0).max(1e-12);
        let tput = (self.consumed - c0) as f64 / span;
        let mean_out = (self.occupancy_area[out] - area0) / span;
        self.window = (now, self.consumed, self.occupancy_area[out]);
        if let Probe::Trying { stage, before } = self.probe {
            if tput < before * (1.0 + c.min_gain) {
                if self.idle[stage] > 0 {
                    self.idle[stage] -= 1;
                    self.workers[stage] -= 1;
                } else {
                    self.retire[stage] += 1;
                }
                self.probe = Probe::Finished;
            } else {
                self.probe = Probe::Idle;
            }
        }
        if matches!(self.probe, Probe::Idle) && mean_out < c.low_water {
            // The stage in front of the emptiest buffer, among those with a free vCPU.
            let mut best: Option<(f64, usize)> = None;
            for (i, st) in self.plan.stages.iter().enumerate() {
                let Some(host) = st.host() else { continue };
                if !st.scalable || self.workers_on(host) >= self.res.vcpus(host) {
                    continue;
                }
                for b in 0..self.count.len() {
                    self.set_count(b, self.count[b], now);
                }
                let occ = self.occupancy_area[st.output] / now.max(1e-12);
                if best.is_none_or(|(o, _)| occ < o) {
                    best = Some((occ, i));
                }
            }
            if let Some((_, s)) = best {
                self.workers[s] += 1;
                self.idle[s] += 1;
                self.work.push(s);
                self.probe = Probe::Trying { stage: s, before: tput };
            }
        }
        if self.consumed < self.target && !matches!(self.probe, Probe::Finished) {
            sched.schedule_in(SimTime::from_secs_f64(c.interval_s), Ev::Tick);
        }
    }
}

impl Model for Engine<'_> {
    type Event = Ev;

    fn handle(&mut self, event: Ev, sched: &mut Scheduler<Ev>) {
        match event {
            Ev::Done(s) => {
                let s = s as usize;
                self.processed[s] += 1;
                let now = Self::now(sched);
                let out = self.plan.stages[s].output;
                if self.count[out] < self.plan.buffers[out].capacity {
                    self.set_count(out, self.count[out] + 1, now);
                    self.release_worker(s);
                    self.work.push(s);
                    self.work.push(self.reader[out]);
                } else {
                    self.blocked[s] += 1;
                    self.held_bytes += self.plan.buffers[out].item_bytes;
                    self.peak_bytes = self.peak_bytes.max(self.held_bytes);
                }
            }
            Ev::Consumed => {
                self.trainer_busy = false;
                self.count_consumed(sched);
                self.work.push(TRAINER);
            }
            Ev::Start => {}
            Ev::Tick => {
                if let Some(c) = self.controller {
                    self.tick(c, sched);
                }
            }
        }
        self.drain(sched);
    }
}

/// Runs one epoch of `plan` starting from `workers` per stage.
pub fn run_epoch(
    plan: &Plan,
    res: &Resources,
    workers: &[u32],
    opts: &SimOptions,
    streams: &RandomStreams,
) -> EpochOutcome {
    let n = plan.stages.len();
    let nb = plan.buffers.len();
    let mut producers = vec![Vec::new(); nb];
    let mut reader = vec![TRAINER; nb];
    for (i, s) in plan.stages.iter().enumerate() {
        producers[s.output].push(i);
        if let Some(b) = s.input {
            reader[b] = i;
        }
    }
    let cv = opts.service_cv.max(0.0);
    let engine = Engine {
        plan,
        res,
        workers: workers.to_vec(),
        idle: workers.to_vec(),
        blocked: vec![0; n],
        retire: vec![0; n],
        producers,
        reader,
        count: vec![0; nb],
        occupancy_area: vec![0.0; nb],
        peak_items: vec![0; nb],
        occupancy_since: vec![0.0; nb],
        remaining: opts.samples,
        consumed: 0,
        target: opts.samples,
        trainer_s: res.consumer_sps.map_or(0.0, |c| 1.0 / c),
        trainer_busy: false,
        processed: vec![0; n],
        busy_s: vec![0.0; n],
        held_bytes: 0.0,
        peak_bytes: 0.0,
        cv_sigma: (1.0 + cv * cv).ln().sqrt(),
        rngs: (0..n).map(|i| streams.indexed_stream("datapipe.service", i as u64)).collect(),
        work: (0..n).rev().collect(),
        series_every: (opts.samples / opts.series_points.max(1) as u64).max(1),
        series: Vec::new(),
        last_point: (0.0, 0),
        controller: plan.controller,
        probe: Probe::Idle,
        window: (0.0, 0, 0.0),
    };
    let mut sim = Simulation::new(engine);
    if let Some(c) = plan.controller {
        sim.schedule_at(SimTime::from_secs_f64(c.interval_s), Ev::Tick);
    }
    // Every stage starts at time zero (the work list holds them all; the first event drains it).
    sim.schedule_at(SimTime::ZERO, Ev::Start);
    sim.run();
    let events = sim.events_handled();
    let time_s = sim.now().as_secs_f64();
    let e = sim.into_model();
    let mut cpu_s = [0.0; 2];
    for (i, st) in plan.stages.iter().enumerate() {
        if let Some(h) = st.host()
            && st.service_s > 0.0
        {
            cpu_s[h as usize] += e.busy_s[i] * st.cpu_s / st.service_s;
        }
    }
    EpochOutcome {
        time_s,
        processed: e.processed,
        busy_s: e.busy_s,
        cpu_s,
        buffer_bytes_peak: e.peak_bytes,
        buffer_peak_items: e.peak_items,
        workers: e.workers,
        series: e.series,
        events,
    }
}
