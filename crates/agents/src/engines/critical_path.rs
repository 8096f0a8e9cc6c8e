//! The critical path: the longest chain of dependent calls, each priced alone on an idle
//! replica. Agent `a`'s step `s` can start only after its own step `s - 1` and the steps
//! `s - 1` of the agents in perception range of it at time `s` (the oracle's dependencies);
//! within the step its calls run as their chain says. With every call at its solo latency
//! (no batching slows it), no engine that respects these dependencies finishes sooner.
//!
//! Solo latency of a call: its prefill (in chunks of `chunked_prefill` tokens, the preamble
//! already cached when prefix caching is on) and one decode iteration per further output
//! token, each priced by the same iteration cost model as the server.

use std::collections::HashMap;

use simcore::SimTime;

use serving::{BatchShape, IterationCost, PrefillChunk};

use crate::neighbors::Neighbors;
use crate::trace::{AgentCall, AgentTrace};

/// Prices calls alone on one replica, remembering each shape's answer.
pub struct SoloLatency<'a> {
    cost: &'a mut dyn IterationCost,
    chunk: u32,
    cached_preamble: bool,
    memo: HashMap<(u32, u32, u32), SimTime>,
    batch: BatchShape,
}

impl<'a> SoloLatency<'a> {
    /// Latencies on `cost` with prefill chunks of `chunk` tokens (`None`: unchunked); with
    /// `cached_preamble`, a call's preamble is taken as cached.
    pub fn new(cost: &'a mut dyn IterationCost, chunk: Option<u32>, cached_preamble: bool) -> Self {
        Self {
            cost,
            chunk: chunk.unwrap_or(u32::MAX).max(1),
            cached_preamble,
            memo: HashMap::new(),
            batch: BatchShape::default(),
        }
    }

    /// The latency of `c` alone.
    pub fn of(&mut self, c: &AgentCall) -> SimTime {
        let cached = if self.cached_preamble {
            c.shared_tokens.min(c.input_tokens.saturating_sub(1))
        } else {
            0
        };
        let key = (c.input_tokens, c.output_tokens, cached);
        if let Some(&t) = self.memo.get(&key) {
            return t;
        }
        let mut t = SimTime::ZERO;
        let mut done = cached;
        while done < c.input_tokens {
            let take = (c.input_tokens - done).min(self.chunk);
            self.batch.clear();
            self.batch.prefill.push(PrefillChunk { new_tokens: take, cached: done });
            t += self.cost.iteration_time(&self.batch);
            done += take;
        }
        for k in 1..c.output_tokens {
            self.batch.clear();
            self.batch.decode_context.push(c.input_tokens + k);
            t += self.cost.iteration_time(&self.batch);
        }
        self.memo.insert(key, t);
        t
    }
}

/// The critical path of `trace` with the dependencies of radius `nb.radius()`.
pub fn critical_path(trace: &AgentTrace, nb: &Neighbors, solo: &mut SoloLatency<'_>) -> SimTime {
    let n = trace.agents() as usize;
    let mut prev = vec![SimTime::ZERO; n];
    let mut cur = vec![SimTime::ZERO; n];
    let mut ends: Vec<SimTime> = Vec::new();
    for s in 0..trace.steps() {
        for a in 0..trace.agents() {
            let mut start = prev[a as usize];
            nb.find(trace, s, a, |b| {
                start = start.max(prev[b as usize]);
                false
            });
            ends.clear();
            let mut longest = SimTime::ZERO;
            for c in trace.calls(s, a) {
                let from = if c.after_previous {
                    ends.last().copied().unwrap_or(SimTime::ZERO)
                } else {
                    SimTime::ZERO
                };
                let end = from + solo.of(c);
                longest = longest.max(end);
                ends.push(end);
            }
            cur[a as usize] = start + longest;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev.into_iter().max().unwrap_or(SimTime::ZERO)
}
