//! Runs a trace under an [`Engine`] on the simulated LLM service, as a simcore model.
//!
//! When a cluster starts, each member's step issues its calls: the first call and every call
//! that does not wait for the one before it go out at once, each later one when its
//! predecessor is answered. A member is done when all its calls are answered (a step with no
//! calls is done at once), and the cluster commits when every member is done: each member's
//! time advances by one and the engine is asked what to start next. Agent logic between LLM
//! calls takes no time (AI Metropolis measured LLM inference at about 95% of simulation time).
//!
//! Every LLM call is one request to [`Replicas`] (the serving crate's engine on each replica,
//! behind its router): its prompt is the agent function's preamble (shared by every call of
//! that function, reusable when prefix caching is on) followed by tokens of its own; with
//! step priority on, its priority is the agent's step.
//!
//! The runner also checks the distance invariant each time a step starts: every agent
//! within perception range of the starting agent at that step's time must already have
//! reached that time ([`RunOutcome::violations`]; zero for every engine that respects the
//! world's dependencies).

use simcore::stats::TimeWeighted;
use simcore::{Model, Scheduler as Events, SimTime, Simulation};

use serving::{Completion, Replicas, Request, Tokens};

use crate::engine::{Ctx, Engine};
use crate::neighbors::Neighbors;
use crate::trace::{AgentCall, AgentTrace};

/// Span ids of preambles (`PREAMBLE_SPAN + function`).
const PREAMBLE_SPAN: u64 = 1 << 40;
/// Span ids of each call's own prompt tokens (`OWN_SPAN + call`).
const OWN_SPAN: u64 = 2 << 40;
/// Span ids of each call's output (`OUTPUT_SPAN + call`).
const OUTPUT_SPAN: u64 = 3 << 40;

/// The request of agent `a`'s call `i` arriving at `now`, with priority `priority`; its id
/// is `a << 32 | i`.
pub fn request(c: &AgentCall, a: u32, i: u32, now: SimTime, priority: u64) -> Request {
    let shared = c.shared_tokens.min(c.input_tokens);
    let mut prompt = Tokens::span(PREAMBLE_SPAN + u64::from(c.function), 0, shared);
    prompt = prompt.concat(&Tokens::span(OWN_SPAN + u64::from(i), 0, c.input_tokens - shared));
    Request::new(
        u64::from(a) << 32 | u64::from(i),
        now,
        prompt,
        c.output_tokens,
        OUTPUT_SPAN + u64::from(i),
    )
    .with_priority(priority)
}

/// The outcome of one run.
#[derive(Clone, Debug, Default)]
pub struct RunOutcome {
    /// Time the last step committed.
    pub completion: SimTime,
    /// Calls answered.
    pub calls: u64,
    /// Prompt tokens of all calls.
    pub tokens_in: u64,
    /// Output tokens of all calls.
    pub tokens_out: u64,
    /// Time-weighted mean of calls outstanding at the service.
    pub mean_outstanding: f64,
    /// Share of replica-time spent running iterations.
    pub gpu_busy_frac: f64,
    /// Prompt tokens reused from the cache / prompt tokens.
    pub cache_hit_rate: f64,
    /// Steps started while an agent in perception range had not reached their time.
    pub violations: u64,
    /// Series: sample times (s), calls outstanding, and the spread of agents' steps (most
    /// minus fewest committed).
    pub series: [Vec<f64>; 3],
    /// Agent-steps in the order they committed, when asked for (tests).
    pub commits: Vec<(u32, u32)>,
    /// Calls in the order they were issued, when asked for (tests).
    pub issued: Vec<u32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Event {
    Iteration(u32),
}

struct Runner<'a, E: Engine> {
    trace: &'a AgentTrace,
    engine: E,
    replicas: Replicas,
    priority: bool,
    check: Option<&'a Neighbors>,
    record: bool,
    done: Vec<u32>,
    running: Vec<bool>,
    /// Per agent: calls of its current step not yet answered.
    left: Vec<u32>,
    /// Per agent: its cluster (index into `clusters`) while running.
    cluster_of: Vec<u32>,
    /// Per cluster slot: members not yet done, and the members.
    clusters: Vec<(u32, Vec<u32>)>,
    free_clusters: Vec<u32>,
    running_clusters: usize,
    committed: Vec<u32>,
    launch: Vec<Vec<u32>>,
    answered: Vec<(u32, Completion)>,
    outstanding: TimeWeighted,
    out: RunOutcome,
    min_done: u32,
    max_done: u32,
}

impl<E: Engine> Runner<'_, E> {
    fn issue(&mut self, a: u32, i: u32, now: SimTime) {
        let c = self.trace.call(i);
        let prio = if self.priority { u64::from(self.done[a as usize]) } else { 0 };
        // Every call was checked against the engine before the run.
        if let Err(e) = self.replicas.submit(request(c, a, i, now, prio)) {
            panic!("agents runner: {e}");
        }
        self.out.tokens_in += u64::from(c.input_tokens);
        if self.record {
            self.out.issued.push(i);
        }
    }

    /// Starts agent `a`'s current step; returns whether it has calls.
    fn start_agent(&mut self, a: u32, now: SimTime) -> bool {
        let s = self.done[a as usize];
        if let Some(nb) = self.check {
            let done = &self.done;
            if nb.find(self.trace, s, a, |b| done[b as usize] < s).is_some() {
                self.out.violations += 1;
            }
        }
        let first = self.trace.first_call(s, a);
        let calls = self.trace.calls(s, a);
        self.left[a as usize] = calls.len() as u32;
        let starts: Vec<u32> = calls
            .iter()
            .enumerate()
            .filter(|(k, c)| *k == 0 || !c.after_previous)
            .map(|(k, _)| first + k as u32)
            .collect();
        for i in starts {
            self.issue(a, i, now);
        }
        !calls.is_empty()
    }

    /// Starts the clusters in `launch`; those with no calls commit at once.
    fn start_clusters(&mut self, now: SimTime) {
        let launch = std::mem::take(&mut self.launch);
        for members in &launch {
            let slot = match self.free_clusters.pop() {
                Some(s) => s,
                None => {
                    self.clusters.push((0, Vec::new()));
                    (self.clusters.len() - 1) as u32
                }
            };
            let mut busy = 0;
            for &a in members {
                assert!(!self.running[a as usize], "engine launched a running agent");
                assert!(
                    self.done[a as usize] < self.trace.steps(),
                    "engine launched a finished agent"
                );
                self.running[a as usize] = true;
                self.cluster_of[a as usize] = slot;
                if self.start_agent(a, now) {
                    busy += 1;
                }
            }
            self.clusters[slot as usize] = (busy, members.clone());
            self.running_clusters += 1;
            if busy == 0 {
                self.commit(slot, now);
            }
        }
        self.launch = launch;
        self.launch.clear();
    }

    fn commit(&mut self, slot: u32, now: SimTime) {
        let members = std::mem::take(&mut self.clusters[slot as usize].1);
        for &a in &members {
            if self.record {
                self.out.commits.push((a, self.done[a as usize]));
            }
            self.done[a as usize] += 1;
            self.running[a as usize] = false;
            self.committed.push(a);
        }
        self.clusters[slot as usize].1 = members;
        self.clusters[slot as usize].1.clear();
        self.free_clusters.push(slot);
        self.running_clusters -= 1;
        self.out.completion = now;
    }

    /// Asks the engine until nothing more starts.
    fn settle(&mut self, now: SimTime) {
        loop {
            let committed = std::mem::take(&mut self.committed);
            let ctx = Ctx {
                trace: self.trace,
                done: &self.done,
                running: &self.running,
                running_clusters: self.running_clusters,
            };
            self.engine.next(&ctx, &committed, &mut self.launch);
            self.committed = committed;
            self.committed.clear();
            if self.launch.is_empty() {
                break;
            }
            self.start_clusters(now);
            if self.committed.is_empty() {
                break;
            }
        }
        let (lo, hi) = self.done.iter().fold((u32::MAX, 0), |(lo, hi), &d| (lo.min(d), hi.max(d)));
        (self.min_done, self.max_done) = (lo, hi);
    }

    fn sample(&mut self, now: SimTime) {
        let o = self.replicas.total_outstanding() as f64;
        self.outstanding.set(now, o);
        let t = now.as_secs_f64();
        let s = &mut self.out.series;
        if s[0].last() == Some(&t) {
            for v in s.iter_mut() {
                v.pop();
            }
        }
        s[0].push(t);
        s[1].push(o);
        s[2].push(f64::from(self.max_done - self.min_done));
    }
}

impl<E: Engine> Model for Runner<'_, E> {
    type Event = Event;

    fn handle(&mut self, event: Event, sched: &mut Events<Event>) {
        let now = sched.now();
        let Event::Iteration(r) = event;
        self.replicas.fired(r, now);
        let mut answered = std::mem::take(&mut self.answered);
        answered.clear();
        self.replicas.advance_to(now, &mut answered);
        for &(_, c) in &answered {
            let (a, i) = ((c.id >> 32) as u32, c.id as u32);
            self.out.calls += 1;
            self.out.tokens_out += u64::from(c.output_tokens);
            let s = self.done[a as usize];
            let first = self.trace.first_call(s, a);
            let calls = self.trace.calls(s, a);
            let k = (i - first) as usize;
            if k + 1 < calls.len() && calls[k + 1].after_previous {
                self.issue(a, i + 1, now);
            }
            self.left[a as usize] -= 1;
            if self.left[a as usize] == 0 {
                let slot = self.cluster_of[a as usize];
                self.clusters[slot as usize].0 -= 1;
                if self.clusters[slot as usize].0 == 0 {
                    self.commit(slot, now);
                }
            }
        }
        self.answered = answered;
        if !self.committed.is_empty() {
            self.settle(now);
        }
        self.sample(now);
        self.replicas.arm(|r, t| {
            sched.schedule_at(t, Event::Iteration(r));
        });
    }
}

/// Settings of a run.
#[derive(Clone, Copy, Debug, Default)]
pub struct RunOptions<'a> {
    /// Calls carry their step as priority.
    pub priority: bool,
    /// Check the distance invariant with this index (radius `radius_p`).
    pub check: Option<&'a Neighbors>,
    /// Keep the commit and issue order (tests).
    pub record: bool,
}

/// Runs `trace` under `engine` on `replicas` until every agent has committed every step.
pub fn run<E: Engine>(
    trace: &AgentTrace,
    engine: E,
    replicas: Replicas,
    opts: RunOptions<'_>,
) -> RunOutcome {
    let n = trace.agents() as usize;
    let mut model = Runner {
        trace,
        engine,
        replicas,
        priority: opts.priority,
        check: opts.check,
        record: opts.record,
        done: vec![0; n],
        running: vec![false; n],
        left: vec![0; n],
        cluster_of: vec![0; n],
        clusters: Vec::new(),
        free_clusters: Vec::new(),
        running_clusters: 0,
        committed: Vec::new(),
        launch: Vec::new(),
        answered: Vec::new(),
        outstanding: TimeWeighted::new(SimTime::ZERO, 0.0),
        out: RunOutcome::default(),
        min_done: 0,
        max_done: 0,
    };
    if trace.steps() > 0 {
        model.settle(SimTime::ZERO);
    }
    model.sample(SimTime::ZERO);
    let mut sim = Simulation::new(model);
    {
        let m = sim.model_mut();
        let mut first = Vec::new();
        m.replicas.arm(|r, t| first.push((r, t)));
        for (r, t) in first {
            sim.schedule_at(t, Event::Iteration(r));
        }
    }
    sim.run();
    let m = sim.into_model();
    assert!(
        m.done.iter().all(|&d| d == trace.steps()),
        "agents runner: the engine `{}` stopped before every agent finished (a bug)",
        m.engine.name()
    );
    let end = m.out.completion;
    let mut out = m.out;
    out.mean_outstanding = m.outstanding.mean(end);
    finish_stats(&mut out, &m.replicas, end);
    out
}

/// GPU busy share and cache hit rate from the replicas' counters.
pub fn finish_stats(out: &mut RunOutcome, replicas: &Replicas, end: SimTime) {
    let servers = replicas.servers();
    let busy: f64 = servers.iter().map(|s| s.stats().busy.as_secs_f64()).sum();
    let span = end.as_secs_f64() * servers.len() as f64;
    out.gpu_busy_frac = if span > 0.0 { (busy / span).min(1.0) } else { 0.0 };
    let prefill: u64 = servers.iter().map(|s| s.stats().prefill_tokens).sum();
    out.cache_hit_rate = if out.tokens_in > 0 {
        1.0 - (prefill as f64 / out.tokens_in as f64).min(1.0)
    } else {
        0.0
    };
}
