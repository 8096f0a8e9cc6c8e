//! A workload of dependent [`Call`]s on one or more server replicas, as a simcore model.
//!
//! The driver plays the clients: a call whose `after` is empty is released at its `delay`
//! (its arrival); a call that depends on others is released `delay` after the last of them
//! completes. A released call is routed ([`Router`]) to a replica at the moment it is released
//! (so a cache-aware router sees the caches as they are then) and submitted there as a
//! [`Request`] arriving now. Calls released at the same time join the same prefill round.
//!
//! Events: [`DriverEvent::CallsDue`] releases every call due now;
//! [`DriverEvent::IterationDone`] marks the end of a replica's iteration. After each event the
//! replicas catch up to the clock; their completions release dependent calls and their next
//! iterations are scheduled.
//!
//! [`drive`] checks every call first (ids unique, parents known, each request accepted by the
//! engine), runs until every call has finished (a dependency cycle is an error), and computes
//! the [`Metrics`] over all replicas with the offline bound [`optimal_hit_rate`] beside the
//! achieved hit rate.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use simcore::{InputError, Model, RunResult, Scheduler as Events, SimTime, Simulation};

use crate::metrics::{Metrics, ServerStats};
use crate::router::Router;
use crate::workload::Call;
use crate::{Completion, Replicas, Request, Server, Tokens, optimal_reuse};

/// Events of a driven workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DriverEvent {
    /// Calls are due (all those whose release time has come).
    CallsDue,
    /// Replica `0`'s iteration in flight ended.
    IterationDone(u32),
}

/// The simcore model: replicas, a router and the calls.
struct Driver {
    replicas: Replicas,
    calls: Vec<Call>,
    /// Children of each call (indices).
    children: Vec<Vec<u32>>,
    /// Parents not yet completed, per call.
    waiting_parents: Vec<u32>,
    /// Latest parent completion so far, per call.
    parents_done: Vec<SimTime>,
    index: HashMap<u64, u32>,
    due: BinaryHeap<Reverse<(SimTime, u32)>>,
    due_armed: Option<SimTime>,
    replica_of: Vec<u32>,
    completions: Vec<Completion>,
    scratch: Vec<(u32, Completion)>,
    samples: Samples,
}

/// Whole-system series, sampled after every event.
#[derive(Clone, Debug, Default)]
struct Samples {
    time_s: Vec<f64>,
    queue: Vec<f64>,
    kv: Vec<f64>,
    running: Vec<f64>,
}

impl Driver {
    fn release(&mut self, i: u32, now: SimTime) {
        let c = &self.calls[i as usize];
        let req = Request::new(c.id, now, c.prompt.clone(), c.output_tokens, c.output_span);
        // Checked up front by `drive`.
        let r = match self.replicas.submit(req) {
            Ok(r) => r,
            Err(e) => panic!("serving driver: {e}"),
        };
        self.replica_of[i as usize] = r as u32;
    }

    fn sample(&mut self, now: SimTime) {
        let (q, run, kv) = self.replicas.load();
        let t = now.as_secs_f64();
        let s = &mut self.samples;
        if s.time_s.last() == Some(&t) {
            s.time_s.pop();
            s.queue.pop();
            s.kv.pop();
            s.running.pop();
        }
        s.time_s.push(t);
        s.queue.push(q as f64);
        s.kv.push(kv);
        s.running.push(run as f64);
    }
}

impl Model for Driver {
    type Event = DriverEvent;

    fn handle(&mut self, event: DriverEvent, sched: &mut Events<DriverEvent>) {
        let now = sched.now();
        match event {
            DriverEvent::CallsDue => {
                if self.due_armed == Some(now) {
                    self.due_armed = None;
                }
                while let Some(&Reverse((t, i))) = self.due.peek() {
                    if t > now {
                        break;
                    }
                    self.due.pop();
                    self.release(i, now);
                }
            }
            DriverEvent::IterationDone(r) => self.replicas.fired(r, now),
        }
        self.scratch.clear();
        self.replicas.advance_to(now, &mut self.scratch);
        for k in 0..self.scratch.len() {
            let (_, c) = self.scratch[k];
            let i = self.index[&c.id] as usize;
            for j in 0..self.children[i].len() {
                let ch = self.children[i][j] as usize;
                self.waiting_parents[ch] -= 1;
                self.parents_done[ch] = self.parents_done[ch].max(c.finish);
                if self.waiting_parents[ch] == 0 {
                    let at = self.parents_done[ch] + self.calls[ch].delay;
                    self.due.push(Reverse((at, ch as u32)));
                }
            }
            self.completions.push(c);
        }
        self.replicas.arm(|r, t| {
            sched.schedule_at(t, DriverEvent::IterationDone(r));
        });
        if let Some(&Reverse((t, _))) = self.due.peek()
            && self.due_armed != Some(t)
        {
            sched.schedule_at(t.max(now), DriverEvent::CallsDue);
            self.due_armed = Some(t.max(now));
        }
        self.sample(now);
    }
}

/// The outcome of [`drive`].
#[derive(Clone, Debug)]
pub struct DriveRun {
    /// Every call's request, in finishing order.
    pub completions: Vec<Completion>,
    /// The replica each completion was served by (same order as `completions`).
    pub replicas: Vec<u32>,
    /// Each replica's counters and series.
    pub stats: Vec<ServerStats>,
    /// The headline metrics over all replicas.
    pub metrics: Metrics,
    /// The offline bound on the hit rate ([`optimal_hit_rate`]).
    pub optimal_hit_rate: f64,
    /// Programs (distinct `Call::program`) finished per second of the run.
    pub throughput_programs_s: f64,
    /// Time of the last event.
    pub end: SimTime,
    /// Events the simulation handled.
    pub events: u64,
    /// Whole-system series after every event: time (s), waiting requests, mean KV use over
    /// replicas, running requests.
    pub series: [Vec<f64>; 4],
}

impl DriveRun {
    /// Metrics and series as a [`RunResult`]: the engine's metrics plus `optimal_hit_rate`
    /// and `throughput_programs_s`; series `time_s`, `queue_len`, `kv_used_frac`, `running`
    /// (whole system, thinned to at most `max_points` samples) and per request, in finishing
    /// order, `ttft_s` and `e2e_s`.
    pub fn to_run_result(&self, max_points: usize) -> RunResult {
        let mut r = RunResult::new();
        self.metrics.write_to(&mut r);
        r.metric("optimal_hit_rate", self.optimal_hit_rate)
            .metric("throughput_programs_s", self.throughput_programs_s);
        let names = ["time_s", "queue_len", "kv_used_frac", "running"];
        for (name, s) in names.iter().zip(&self.series) {
            r.series_thinned(name, s, max_points);
        }
        r.series("ttft_s", self.completions.iter().map(|c| c.ttft().as_secs_f64()).collect());
        r.series("e2e_s", self.completions.iter().map(|c| c.e2e().as_secs_f64()).collect());
        r
    }
}

/// The offline bound on the cache hit rate of `calls`: the share of prompt tokens that need
/// not be prefilled by any order with a large enough cache. Every distinct prefix of the
/// prompts (a node of their radix tree) must be computed once, by a prefill or — for tokens a
/// call generated, which later prompts may include (a chat's next turn) — by that call's
/// decode steps. So the prefill bound is the radix tree over the prompts and every call's
/// prompt + output less its last token (whose KV is never computed), minus the decoded tokens
/// (`output_tokens - 1` per distinct output span). With no outputs reused this is SGLang's
/// `1 - sum(edge lengths) / sum(prompt lengths)` ([`optimal_reuse`]).
pub fn optimal_hit_rate(calls: &[Call]) -> f64 {
    let mut seqs: Vec<Tokens> = Vec::with_capacity(2 * calls.len());
    let mut prompt_tokens = 0u64;
    let mut spans: Vec<(u64, u32)> = Vec::with_capacity(calls.len());
    for c in calls {
        prompt_tokens += c.prompt.len();
        seqs.push(c.prompt.clone());
        if c.output_tokens > 1 {
            seqs.push(c.prompt.concat(&Tokens::span(c.output_span, 0, c.output_tokens - 1)));
            spans.push((c.output_span, c.output_tokens - 1));
        }
    }
    if prompt_tokens == 0 {
        return 0.0;
    }
    spans.sort_unstable();
    spans.dedup_by_key(|s| s.0);
    let decoded: u64 = spans.iter().map(|s| u64::from(s.1)).sum();
    let all = optimal_reuse(&seqs);
    let computed = all.computed_tokens.saturating_sub(decoded);
    (1.0 - computed as f64 / prompt_tokens as f64).clamp(0.0, 1.0)
}

/// Serves `calls` on `servers` (one per replica, each with its own cache) behind `router`
/// until every call has finished. Errors name the first bad call.
pub fn drive(
    servers: Vec<Server>,
    router: Router,
    calls: Vec<Call>,
) -> Result<DriveRun, InputError> {
    if servers.is_empty() {
        return Err(InputError::at("replicas", "at least one replica is needed"));
    }
    let n = calls.len();
    let mut index = HashMap::with_capacity(n);
    for (i, c) in calls.iter().enumerate() {
        if index.insert(c.id, i as u32).is_some() {
            return Err(InputError::at(
                "workload.requests",
                format!("two calls have the id {}", c.id),
            ));
        }
        let req = Request::new(c.id, SimTime::ZERO, c.prompt.clone(), c.output_tokens, 0);
        servers[0].check(&req)?;
    }
    let mut children = vec![Vec::new(); n];
    let mut waiting_parents = vec![0u32; n];
    let mut due = BinaryHeap::new();
    for (i, c) in calls.iter().enumerate() {
        for p in &c.after {
            let Some(&pi) = index.get(p) else {
                return Err(InputError::at(
                    "workload.requests",
                    format!("call {} waits for call {p}, which does not exist", c.id),
                ));
            };
            children[pi as usize].push(i as u32);
            waiting_parents[i] += 1;
        }
        if c.after.is_empty() {
            due.push(Reverse((c.delay, i as u32)));
        }
    }
    let optimal = optimal_hit_rate(&calls);
    let model = Driver {
        replicas: Replicas::new(servers, router),
        children,
        waiting_parents,
        parents_done: vec![SimTime::ZERO; n],
        index,
        due,
        due_armed: None,
        replica_of: vec![0; n],
        completions: Vec::with_capacity(n),
        scratch: Vec::new(),
        samples: Samples::default(),
        calls,
    };
    let mut sim = Simulation::new(model);
    if let Some(&Reverse((t, _))) = sim.model().due.peek() {
        sim.model_mut().due_armed = Some(t);
        sim.schedule_at(t, DriverEvent::CallsDue);
    }
    sim.run();
    let end = sim.now();
    let events = sim.events_handled();
    let d = sim.into_model();
    if d.completions.len() != n {
        return Err(InputError::at(
            "workload.requests",
            format!(
                "{} of {n} calls never ran: their dependencies form a cycle",
                n - d.completions.len()
            ),
        ));
    }
    let stats: Vec<ServerStats> = d.replicas.servers().iter().map(|s| s.stats().clone()).collect();
    let mut metrics = Metrics::compute(&d.completions, &stats[0], end);
    let iterations: u64 = stats.iter().map(|s| s.iterations).sum();
    let batch_tokens: u64 = stats.iter().map(|s| s.batch_tokens).sum();
    metrics.mean_batch_tokens =
        if iterations == 0 { 0.0 } else { batch_tokens as f64 / iterations as f64 };
    metrics.preemptions = stats.iter().map(|s| s.preemptions).sum();
    metrics.kv_used_frac =
        stats.iter().map(|s| s.kv_used.mean(end)).sum::<f64>() / stats.len() as f64;
    let mut programs: Vec<u64> = d.calls.iter().map(|c| c.program).collect();
    programs.sort_unstable();
    programs.dedup();
    let span = match (
        d.completions.iter().map(|c| c.arrival).min(),
        d.completions.iter().map(|c| c.finish).max(),
    ) {
        (Some(a), Some(b)) => (b - a).as_secs_f64(),
        _ => 0.0,
    };
    let throughput_programs_s = if span > 0.0 { programs.len() as f64 / span } else { 0.0 };
    let replicas = d.completions.iter().map(|c| d.replica_of[d.index[&c.id] as usize]).collect();
    let s = d.samples;
    Ok(DriveRun {
        replicas,
        completions: d.completions,
        stats,
        metrics,
        optimal_hit_rate: optimal,
        throughput_programs_s,
        end,
        events,
        series: [s.time_s, s.queue, s.kv, s.running],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::router::RouterPolicy;
    use crate::{BatchShape, CachePolicy, EngineConfig, IterationCost};

    struct Cost;
    impl IterationCost for Cost {
        fn iteration_time(&mut self, b: &BatchShape) -> SimTime {
            SimTime::from_micros(1000 + 10 * b.tokens())
        }
    }

    fn server() -> Server {
        Server::new(
            EngineConfig { kv_tokens: 100_000, ..EngineConfig::default() },
            CachePolicy::Radix { page_size: 1 }.build(),
            Box::new(Cost),
        )
        .unwrap()
    }

    fn call(id: u64, prompt: Tokens, out: u32, after: Vec<u64>, delay: SimTime) -> Call {
        Call { id, program: 0, prompt, output_tokens: out, output_span: 1000 + id, after, delay }
    }

    #[test]
    fn a_chat_turn_waits_for_the_last_and_reuses_its_output() {
        let sys = Tokens::span(0, 0, 100);
        let p1 = sys.concat(&Tokens::span(1, 0, 20));
        let out1 = Tokens::span(1000, 0, 8);
        let p2 = p1.concat(&out1).concat(&Tokens::span(2, 0, 20));
        let think = SimTime::from_secs(2);
        let calls = vec![
            call(0, p1.clone(), 8, vec![], SimTime::ZERO),
            call(1, p2.clone(), 4, vec![0], think),
        ];
        let run = drive(vec![server()], Router::new(RouterPolicy::RoundRobin), calls).unwrap();
        assert_eq!(run.completions.len(), 2);
        let (a, b) = (run.completions[0], run.completions[1]);
        assert_eq!((a.id, b.id), (0, 1));
        assert_eq!(b.arrival, a.finish + think);
        // Turn 2 reuses turn 1's prompt and its output less the last token.
        assert_eq!(b.cached_tokens, 120 + 7);
        let best = run.optimal_hit_rate;
        assert!(
            best >= run.metrics.cache_hit_rate - 1e-12,
            "{best} {}",
            run.metrics.cache_hit_rate
        );
        // Bound: of 120 + 148 prompt tokens, 120 + 1 + 20 must be prefilled.
        assert!((best - (1.0 - 141.0 / 268.0)).abs() < 1e-12, "{best}");
    }

    #[test]
    fn unknown_parents_and_cycles_are_errors() {
        let p = Tokens::span(0, 0, 10);
        let bad = vec![call(0, p.clone(), 1, vec![7], SimTime::ZERO)];
        let e = drive(vec![server()], Router::default(), bad).unwrap_err();
        assert!(e.to_string().contains("does not exist"), "{e}");
        let cyc = vec![
            call(0, p.clone(), 1, vec![], SimTime::ZERO),
            call(1, p.clone(), 1, vec![2], SimTime::ZERO),
            call(2, p, 1, vec![1], SimTime::ZERO),
        ];
        let e = drive(vec![server()], Router::default(), cyc).unwrap_err();
        assert!(e.to_string().contains("cycle"), "{e}");
    }

    #[test]
    fn replicas_share_the_work() {
        let calls: Vec<Call> = (0..8)
            .map(|i| call(i, Tokens::span(10 + i, 0, 200), 16, vec![], SimTime::ZERO))
            .collect();
        let one = drive(vec![server()], Router::default(), calls.clone()).unwrap();
        let two =
            drive(vec![server(), server()], Router::new(RouterPolicy::LeastOutstanding), calls)
                .unwrap();
        assert!(two.end < one.end);
        assert_eq!(two.replicas.iter().filter(|&&r| r == 1).count(), 4);
    }
}
