//! The server: continuous batching over a shared KV pool, driven request by request with
//! explicit time (SGLang's scheduler loop; vLLM's admission as a variant).
//!
//! A [`Server`] owns a KV-cache manager, an iteration cost model and a scheduler. Callers
//! [`Server::submit`] requests (with arrival times now or later), ask for
//! [`Server::next_event_time`] and [`Server::advance_to`] a time (or [`Server::step`] one event);
//! finished requests come back as [`Completion`]s. [`crate::ServingSim`] wraps it as a simcore
//! model for a whole workload.
//!
//! ## Memory
//! One pool of `kv_tokens` holds the cache and the running requests' private KV:
//! `cache.usage().cached + sum(private) <= kv_tokens` after every operation. A running request
//! pins its matched prefix through its [`Lease`] (counted by the cache) and holds the tokens it
//! computed beyond it privately, rounded up to the cache's `page_tokens`. Tokens an iteration
//! computes are allocated when it starts. When memory is short, unpinned cache is evicted
//! first.
//!
//! ## One iteration
//! 1. Arrived requests join the back of the waiting queue.
//! 2. Prefill: a request in the middle of a chunked prefill gets its next chunk first; then
//!    waiting requests are admitted in the scheduler's order until the first that does not
//!    fit (SGLang's `PrefillAdder`): at most `max_prefill_tokens` prompt tokens per batch
//!    (the first request may exceed it), at most `chunked_prefill` per batch (a longer prompt
//!    is cut, and continues next iteration as the one chunked request), at most
//!    `max_running_requests` running, and room by [`Admission`]. At least one prompt token is
//!    always computed, even when the whole prompt is cached (its last token yields the
//!    logits; SGLang trims a full match by one token the same way).
//! 3. Decode: every running request whose prefill is done computes one token. With
//!    `mixed_batches = false` (SGLang's default) this happens only in iterations without
//!    prefill (prefill goes first); with `true` the decodes join the prefill iteration and the
//!    chunk budget shrinks by their number (SGLang's mixed chunk). If the decode tokens do not
//!    fit after eviction, running requests are retracted (see [`Admission`] for the order):
//!    their lease is released (the cache keeps what it may of their computed tokens, so
//!    recomputation often hits it), their private KV is freed, and they go back to the front
//!    of the waiting queue to prefill prompt + output so far again (vLLM's recompute
//!    preemption; SGLang appends them to the queue instead).
//! 4. The iteration takes [`IterationCost::iteration_time`] of its [`BatchShape`].
//! 5. When it ends: a request whose prefill completed emits its first token then (TTFT); a
//!    decoding request emits one token. Prefilled tokens are inserted into the cache at once
//!    (release and re-acquire: SGLang's `cache_unfinished_req`), so requests admitted later
//!    reuse a prompt that is still running. A request that has all its output tokens
//!    finishes: its lease is released with prompt + output minus the last token (whose KV is
//!    never computed; SGLang's `cache_finished_req`).
//!
//! ## Rejections
//! [`Server::submit`] rejects a request with no output tokens, one longer than
//! `context_len`, one that could never fit in the pool even alone, and one that arrives
//! before the server's clock.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::fmt;

use simcore::{InputError, RandomStreams, SimTime};

use crate::config::{Admission, EngineConfig};
use crate::metrics::ServerStats;
use crate::scheduler::{Candidate, Scheduler};
use crate::{BatchShape, Completion, IterationCost, KvCache, Lease, PrefillChunk, Request, Tokens};

/// Why [`Server::submit`] refused a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SubmitError {
    /// `output_tokens` is 0.
    NoOutput {
        /// The request.
        id: u64,
    },
    /// Prompt + output exceed `context_len`.
    TooLong {
        /// The request.
        id: u64,
        /// Its prompt + output tokens.
        tokens: u64,
        /// The limit.
        context_len: u64,
    },
    /// Prompt + output (with page rounding and the admission margin) exceed the pool.
    NeverFits {
        /// The request.
        id: u64,
        /// Tokens it needs.
        tokens: u64,
        /// Tokens the pool offers one request.
        capacity: u64,
    },
    /// It arrives before the server's current time.
    InThePast {
        /// The request.
        id: u64,
        /// Its arrival.
        arrival: SimTime,
        /// The server's clock.
        now: SimTime,
    },
}

impl fmt::Display for SubmitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            SubmitError::NoOutput { id } => {
                write!(f, "request {id}: output_tokens is 0; a request generates at least 1")
            }
            SubmitError::TooLong { id, tokens, context_len } => write!(
                f,
                "request {id}: prompt + output = {tokens} tokens exceed engine.context_len = \
                 {context_len}"
            ),
            SubmitError::NeverFits { id, tokens, capacity } => write!(
                f,
                "request {id}: needs {tokens} KV tokens but engine.kv_tokens leaves {capacity} \
                 for one request; enlarge the pool or shorten the request"
            ),
            SubmitError::InThePast { id, arrival, now } => {
                write!(f, "request {id}: arrival {arrival} is before the server's time {now}")
            }
        }
    }
}

impl std::error::Error for SubmitError {}

impl From<SubmitError> for InputError {
    fn from(e: SubmitError) -> InputError {
        InputError::at("workload.requests", e.to_string())
    }
}

/// A submitted request and its progress.
#[derive(Debug)]
struct Slot {
    req: Request,
    /// Prompt followed by output: `full.prefix(kv)` are the tokens whose KV it holds.
    full: Tokens,
    /// What its next (re)admission prefills: the prompt, plus the output so far after a
    /// preemption.
    fill: Tokens,
    lease: Option<Lease>,
    /// Tokens of `full` whose KV it holds (allocated ones included).
    kv: u64,
    /// Start of its private KV: tokens before it are pinned in the cache by the lease.
    base: u64,
    /// Private tokens, `ceil_page(kv - base)`.
    private: u64,
    generated: u32,
    first_token: Option<SimTime>,
    cached: Option<u64>,
    reused: u64,
    prefill_tokens: u64,
    decode_steps: u64,
    preemptions: u32,
    admit_seq: u64,
}

impl Slot {
    fn remaining_output(&self) -> u32 {
        self.req.output_tokens - self.generated
    }

    fn decoding(&self) -> bool {
        self.kv >= self.fill.len()
    }
}

/// An LLM server replica (see the module docs).
pub struct Server {
    cfg: EngineConfig,
    cache: Box<dyn KvCache>,
    cost: Box<dyn IterationCost>,
    sched: Scheduler,
    page: u64,
    now: SimTime,
    slots: Vec<Option<Slot>>,
    free_slots: Vec<u32>,
    pending: BinaryHeap<Reverse<(SimTime, u64, u32)>>,
    waiting: VecDeque<u32>,
    running: Vec<u32>,
    chunked: Option<u32>,
    busy_until: Option<SimTime>,
    batch: BatchShape,
    prefill_batch: Vec<(u32, u64)>,
    decode_batch: Vec<u32>,
    private_total: u64,
    ratio: f64,
    submit_seq: u64,
    admit_seq: u64,
    stats: ServerStats,
    order: Vec<usize>,
    /// `waiting_version` for which `order` was computed (policies other than `lpm` depend
    /// on the waiting set only, so a round that changed nothing reuses it).
    order_version: Option<u64>,
    waiting_version: u64,
    picked: Vec<bool>,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("cache", &self.cache.name())
            .field("now", &self.now)
            .field("waiting", &self.waiting.len())
            .field("running", &self.running.len())
            .field("kv_used", &self.kv_used())
            .finish_non_exhaustive()
    }
}

impl Server {
    /// A server with `config`, its KV manager and its iteration cost model, at time 0.
    pub fn new(
        config: EngineConfig,
        cache: Box<dyn KvCache>,
        cost: Box<dyn IterationCost>,
    ) -> Result<Self, InputError> {
        config.validate()?;
        let rng = RandomStreams::new(config.seed).stream("serving.schedule");
        let ratio = match config.admission {
            Admission::NewTokenRatio { init, .. } => init,
            Admission::Watermark { .. } => 0.0,
        };
        Ok(Self {
            sched: Scheduler::new(config.schedule, rng, config.lpm_fcfs_above),
            page: u64::from(cache.page_tokens().max(1)),
            cfg: config,
            cache,
            cost,
            now: SimTime::ZERO,
            slots: Vec::new(),
            free_slots: Vec::new(),
            pending: BinaryHeap::new(),
            waiting: VecDeque::new(),
            running: Vec::new(),
            chunked: None,
            busy_until: None,
            batch: BatchShape::default(),
            prefill_batch: Vec::new(),
            decode_batch: Vec::new(),
            private_total: 0,
            ratio,
            submit_seq: 0,
            admit_seq: 0,
            stats: ServerStats::new(SimTime::ZERO),
            order: Vec::new(),
            order_version: None,
            waiting_version: 0,
            picked: Vec::new(),
        })
    }

    /// The settings.
    pub fn config(&self) -> &EngineConfig {
        &self.cfg
    }

    /// The KV-cache manager.
    pub fn cache(&self) -> &dyn KvCache {
        self.cache.as_ref()
    }

    /// The server's clock.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Counters and series so far.
    pub fn stats(&self) -> &ServerStats {
        &self.stats
    }

    /// Requests that have arrived and wait for admission.
    pub fn waiting_len(&self) -> usize {
        self.waiting.len()
    }

    /// Requests submitted with a future arrival.
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }

    /// Requests running (prefilling or decoding).
    pub fn running_len(&self) -> usize {
        self.running.len()
    }

    /// Whether no request is pending, waiting or running.
    pub fn is_idle(&self) -> bool {
        self.busy_until.is_none()
            && self.pending.is_empty()
            && self.waiting.is_empty()
            && self.running.is_empty()
    }

    /// The pool size in tokens.
    pub fn kv_pool(&self) -> u64 {
        self.cfg.kv_tokens
    }

    /// KV tokens in use: cached plus running requests' private tokens.
    pub fn kv_used(&self) -> u64 {
        self.cache.usage().cached + self.private_total
    }

    /// The current new-token ratio (SGLang admission; 0 for the watermark variant).
    pub fn new_token_ratio(&self) -> f64 {
        self.ratio
    }

    /// Tokens of the pool one request may use: the pool less the watermark.
    fn capacity(&self) -> u64 {
        match self.cfg.admission {
            Admission::NewTokenRatio { .. } => self.cfg.kv_tokens,
            Admission::Watermark { watermark } => {
                self.cfg.kv_tokens - self.watermark_tokens(watermark).min(self.cfg.kv_tokens)
            }
        }
    }

    fn watermark_tokens(&self, watermark: f64) -> u64 {
        (watermark * self.cfg.kv_tokens as f64).ceil() as u64
    }

    /// Whether `req` would be accepted (see [`SubmitError`]).
    pub fn check(&self, req: &Request) -> Result<(), SubmitError> {
        let id = req.id;
        if req.output_tokens == 0 {
            return Err(SubmitError::NoOutput { id });
        }
        let tokens = req.total_tokens();
        if tokens > self.cfg.context_len {
            return Err(SubmitError::TooLong { id, tokens, context_len: self.cfg.context_len });
        }
        // Page rounding, plus one page for a fully cached prompt whose last token is
        // recomputed while its cached copy stays pinned.
        let need = self.ceil_page(tokens) + 2 * self.page;
        if need > self.capacity() {
            return Err(SubmitError::NeverFits { id, tokens: need, capacity: self.capacity() });
        }
        Ok(())
    }

    /// Accepts `req`; it joins the waiting queue at its arrival time (now or later).
    pub fn submit(&mut self, req: Request) -> Result<(), SubmitError> {
        self.check(&req)?;
        if req.arrival < self.now {
            return Err(SubmitError::InThePast { id: req.id, arrival: req.arrival, now: self.now });
        }
        let full = req.sequence();
        let slot = Slot {
            fill: req.prompt.clone(),
            full,
            lease: None,
            kv: 0,
            base: 0,
            private: 0,
            generated: 0,
            first_token: None,
            cached: None,
            reused: 0,
            prefill_tokens: 0,
            decode_steps: 0,
            preemptions: 0,
            admit_seq: 0,
            req,
        };
        let arrival = slot.req.arrival;
        let id = match self.free_slots.pop() {
            Some(i) => {
                self.slots[i as usize] = Some(slot);
                i
            }
            None => {
                self.slots.push(Some(slot));
                (self.slots.len() - 1) as u32
            }
        };
        self.pending.push(Reverse((arrival, self.submit_seq, id)));
        self.submit_seq += 1;
        Ok(())
    }

    /// When the server next has something to do: the end of the iteration in flight, or
    /// the next arrival if it is idle. `None`: nothing left.
    pub fn next_event_time(&self) -> Option<SimTime> {
        if let Some(t) = self.busy_until {
            return Some(t);
        }
        if !self.waiting.is_empty() || !self.running.is_empty() {
            return Some(self.now);
        }
        self.pending.peek().map(|r| r.0.0.max(self.now))
    }

    /// Handles the next event (an iteration ending, arrivals) and starts the next iteration;
    /// finished requests are appended to `out`. Returns the event's time, `None` if there
    /// was nothing to do.
    pub fn step(&mut self, out: &mut Vec<Completion>) -> Option<SimTime> {
        let t = self.next_event_time()?;
        self.now = t;
        if self.busy_until == Some(t) {
            self.busy_until = None;
            self.finish_iteration(out);
        }
        self.try_start();
        Some(t)
    }

    /// Handles every event up to and including `t`, then sets the clock to `t` (if later).
    pub fn advance_to(&mut self, t: SimTime, out: &mut Vec<Completion>) {
        while let Some(e) = self.next_event_time() {
            if e > t {
                break;
            }
            self.step(out);
        }
        self.now = self.now.max(t);
    }

    /// Runs until every submitted request has finished; returns the time of the last event.
    pub fn run_to_completion(&mut self, out: &mut Vec<Completion>) -> SimTime {
        while self.step(out).is_some() {}
        self.now
    }

    #[inline]
    fn ceil_page(&self, n: u64) -> u64 {
        n.div_ceil(self.page) * self.page
    }

    fn slot(&self, s: u32) -> &Slot {
        self.slots[s as usize].as_ref().expect("live slot")
    }

    fn slot_mut(&mut self, s: u32) -> &mut Slot {
        self.slots[s as usize].as_mut().expect("live slot")
    }

    fn free(&self) -> u64 {
        self.cfg.kv_tokens - self.kv_used()
    }

    fn avail(&self) -> u64 {
        self.free() + self.cache.usage().evictable
    }

    /// Evicts until `n` tokens are free; whether they are.
    fn ensure_free(&mut self, n: u64) -> bool {
        let free = self.free();
        if free < n {
            self.cache.evict(n - free);
        }
        self.free() >= n
    }

    /// Sets slot `s`'s held tokens to `kv` and its private tokens accordingly.
    fn set_kv(&mut self, s: u32, kv: u64, base: u64) {
        let page = self.page;
        let slot = self.slot_mut(s);
        let private = (kv - base).div_ceil(page) * page;
        let old = slot.private;
        slot.kv = kv;
        slot.base = base;
        slot.private = private;
        self.private_total = self.private_total - old + private;
        debug_assert!(self.kv_used() <= self.cfg.kv_tokens, "KV pool overflow");
    }

    /// Private tokens slot `s` needs to hold `extra` more tokens.
    fn growth(&self, s: u32, extra: u64) -> u64 {
        let slot = self.slot(s);
        self.ceil_page(slot.kv + extra - slot.base) - slot.private
    }

    /// Puts arrived slot `s` in the waiting queue: at the back, or with
    /// [`EngineConfig::priority`] after every waiting request of equal or smaller priority.
    fn enqueue(&mut self, s: u32) {
        if !self.cfg.priority {
            self.waiting.push_back(s);
            return;
        }
        let p = self.slot(s).req.priority;
        let slots = &self.slots;
        let pos = self
            .waiting
            .partition_point(|&w| slots[w as usize].as_ref().expect("live slot").req.priority <= p);
        self.waiting.insert(pos, s);
    }

    fn try_start(&mut self) {
        if self.busy_until.is_some() {
            return;
        }
        while let Some(&Reverse((t, _, s))) = self.pending.peek() {
            if t > self.now {
                break;
            }
            self.pending.pop();
            self.enqueue(s);
            self.waiting_version += 1;
        }
        if self.waiting.is_empty() && self.running.is_empty() {
            return;
        }
        loop {
            self.batch.clear();
            self.prefill_batch.clear();
            self.decode_batch.clear();
            if self.cfg.mixed_batches {
                self.plan_decode();
                self.plan_prefill();
            } else {
                self.plan_prefill();
                if self.prefill_batch.is_empty() {
                    self.plan_decode();
                }
            }
            if !self.batch.is_empty() {
                break;
            }
            // Nothing fits: free memory by retracting (cannot happen with one request alone,
            // which `check` guarantees fits).
            assert!(
                !self.running.is_empty(),
                "serving engine: no request fits an idle server (a bug: submit checks this)"
            );
            let v = self.pick_victim();
            self.retract(v);
        }
        let dur = self.cost.iteration_time(&self.batch).max(SimTime::from_nanos(1));
        self.busy_until = Some(self.now + dur);
        self.stats.busy += dur;
        self.stats.iterations += 1;
        self.stats.batch_tokens += self.batch.tokens();
        let used = self.kv_used() as f64 / self.cfg.kv_tokens as f64;
        self.stats.kv_used.set(self.now, used);
        self.stats.sample(
            self.now,
            self.cfg.series_interval,
            self.waiting.len(),
            used,
            self.running.len(),
        );
    }

    fn decode_need(&self) -> u64 {
        self.running.iter().filter(|&&s| self.slot(s).decoding()).map(|&s| self.growth(s, 1)).sum()
    }

    /// Adds every decoding request to the batch, retracting requests if memory is short.
    fn plan_decode(&mut self) {
        let mut need = self.decode_need();
        if !self.ensure_free(need) {
            let keep = match self.cfg.admission {
                Admission::NewTokenRatio { retract_decode_steps, .. } => {
                    u64::from(retract_decode_steps)
                }
                Admission::Watermark { .. } => 0,
            };
            while self.running.len() > 1 {
                let v = self.pick_victim();
                self.retract(v);
                need = self.decode_need();
                if self.avail() >= need.max(self.running.len() as u64 * keep) {
                    break;
                }
            }
            if let Admission::NewTokenRatio { retract_decode_steps, .. } = self.cfg.admission {
                let (mut done, mut total) = (0u64, 0u64);
                for &s in &self.running {
                    let slot = self.slot(s);
                    done += u64::from(slot.generated);
                    total += u64::from(slot.req.output_tokens);
                }
                let est = (done + u64::from(retract_decode_steps) * self.running.len() as u64)
                    as f64
                    / total.max(1) as f64;
                self.ratio = est.clamp(self.ratio, 1.0);
            }
            let ok = self.ensure_free(need);
            assert!(ok, "serving engine: one request's decode does not fit (a bug)");
        }
        for i in 0..self.running.len() {
            let s = self.running[i];
            if !self.slot(s).decoding() {
                continue;
            }
            let (kv, base) = (self.slot(s).kv, self.slot(s).base);
            self.set_kv(s, kv + 1, base);
            self.slot_mut(s).decode_steps += 1;
            self.decode_batch.push(s);
            self.batch.decode_context.push(u32::try_from(kv + 1).unwrap_or(u32::MAX));
        }
        self.stats.decode_tokens += self.decode_batch.len() as u64;
    }

    /// Tokens reserved for the running requests' future output.
    fn reserved(&self) -> u64 {
        match self.cfg.admission {
            Admission::NewTokenRatio { .. } => {
                let clip = self.cfg.clip_max_new_tokens;
                let sum: f64 = self
                    .running
                    .iter()
                    .map(|&s| f64::from(self.slot(s).remaining_output().min(clip)))
                    .sum();
                (sum * self.ratio).ceil() as u64
            }
            Admission::Watermark { watermark } => self.watermark_tokens(watermark),
        }
    }

    fn push_chunk(&mut self, s: u32, take: u64) {
        let (kv, base) = (self.slot(s).kv, self.slot(s).base);
        self.set_kv(s, kv + take, base);
        self.slot_mut(s).prefill_tokens += take;
        self.prefill_batch.push((s, take));
        self.batch.prefill.push(PrefillChunk {
            new_tokens: u32::try_from(take).unwrap_or(u32::MAX),
            cached: u32::try_from(kv).unwrap_or(u32::MAX),
        });
        self.stats.prefill_tokens += take;
    }

    /// Continues the chunked request, then admits waiting requests in scheduler order.
    fn plan_prefill(&mut self) {
        let mut chunk_budget = self.cfg.chunked_prefill.map_or(u64::MAX, u64::from);
        if self.cfg.mixed_batches {
            chunk_budget = chunk_budget.saturating_sub(self.decode_batch.len() as u64);
        }
        let mut input_budget = u64::from(self.cfg.max_prefill_tokens);
        if let Some(s) = self.chunked {
            let left = self.slot(s).fill.len() - self.slot(s).kv;
            let take = left.min(chunk_budget);
            if take == 0 {
                return;
            }
            let alloc = self.growth(s, take);
            if alloc > self.avail() || !self.ensure_free(alloc) {
                return;
            }
            self.push_chunk(s, take);
            chunk_budget -= take;
            input_budget = input_budget.saturating_sub(take);
            if take < left {
                return;
            }
        }
        if self.waiting.is_empty() || chunk_budget == 0 {
            return;
        }
        let mut reserve = self.reserved();
        // The order of consideration: queue positions.
        let fcfs = self.sched.queue_order(self.waiting.len());
        let fresh = self.order_version == Some(self.waiting_version)
            && self.sched.policy() != crate::SchedulePolicy::Lpm;
        if !fcfs && !fresh {
            self.order_version = Some(self.waiting_version);
            let mut order = std::mem::take(&mut self.order);
            {
                let slots = &self.slots;
                let cands: Vec<Candidate<'_>> = self
                    .waiting
                    .iter()
                    .map(|&s| {
                        let slot = slots[s as usize].as_ref().expect("live slot");
                        Candidate { tokens: &slot.fill, remaining_output: slot.remaining_output() }
                    })
                    .collect();
                self.sched.order(&cands, self.cache.as_ref(), &mut order);
            }
            self.order = order;
        }
        let n = if fcfs { self.waiting.len() } else { self.order.len() };
        let mut admitted = 0usize;
        if !fcfs {
            // Admitted positions, to take out of the queue afterwards (queue order drains its
            // head instead, so it needs no O(waiting) scratch per round).
            self.picked.clear();
            self.picked.resize(self.waiting.len(), false);
        }
        for k in 0..n {
            if self.running.len() >= self.cfg.max_running_requests as usize || chunk_budget == 0 {
                break;
            }
            let pos = if fcfs { k } else { self.order[k] };
            let s = self.waiting[pos];
            let fill_len = self.slot(s).fill.len();
            // Cheap rejection before touching the cache: even a full match computes a page,
            // and pinning a match only lowers what is available.
            let out_min = match self.cfg.admission {
                Admission::NewTokenRatio { .. } => {
                    u64::from(self.slot(s).remaining_output().min(self.cfg.clip_max_new_tokens))
                }
                Admission::Watermark { .. } => 0,
            };
            if self.page + out_min + reserve > self.avail() {
                break;
            }
            let lease = {
                let slot = self.slots[s as usize].as_ref().expect("live slot");
                self.cache.acquire(&slot.fill)
            };
            let matched = lease.matched();
            let eff = matched.min(fill_len - 1);
            let extend = fill_len - eff;
            let take = extend.min(chunk_budget);
            let alloc = self.ceil_page(take);
            let fits = if !self.prefill_batch.is_empty() && extend > input_budget {
                false
            } else {
                match self.cfg.admission {
                    Admission::NewTokenRatio { .. } => {
                        let out = u64::from(
                            self.slot(s).remaining_output().min(self.cfg.clip_max_new_tokens),
                        );
                        alloc + out + reserve <= self.avail() && {
                            reserve += out;
                            true
                        }
                    }
                    Admission::Watermark { .. } => alloc + reserve <= self.avail(),
                }
            };
            if !fits || !self.ensure_free(alloc) {
                let prefix = self.slot(s).fill.prefix(matched);
                self.cache.release(lease, &prefix);
                break;
            }
            let seq = self.admit_seq;
            self.admit_seq += 1;
            let slot = self.slot_mut(s);
            slot.lease = Some(lease);
            slot.reused += eff;
            slot.cached.get_or_insert(eff);
            slot.admit_seq = seq;
            self.set_kv(s, eff, eff);
            self.running.push(s);
            self.push_chunk(s, take);
            if !fcfs {
                self.picked[pos] = true;
            }
            admitted += 1;
            chunk_budget -= take;
            input_budget = input_budget.saturating_sub(take);
            if take < extend {
                self.chunked = Some(s);
                break;
            }
        }
        if admitted > 0 {
            self.waiting_version += 1;
            if fcfs {
                self.waiting.drain(..admitted);
            } else {
                let mut i = 0;
                let picked = &self.picked;
                self.waiting.retain(|_| {
                    i += 1;
                    !picked[i - 1]
                });
            }
        }
    }

    /// The running request to retract first.
    fn pick_victim(&self) -> u32 {
        let key = |&s: &u32| {
            let slot = self.slot(s);
            (slot.generated, Reverse(slot.fill.len()), Reverse(slot.admit_seq))
        };
        let pick = match self.cfg.admission {
            // SGLang: fewest generated tokens, then longest prompt.
            Admission::NewTokenRatio { .. } => self.running.iter().min_by_key(|s| key(s)),
            // vLLM: the most recently admitted.
            Admission::Watermark { .. } => {
                self.running.iter().max_by_key(|&&s| self.slot(s).admit_seq)
            }
        };
        *pick.expect("a running request to retract")
    }

    /// Retracts running request `s`: its KV is released and it waits at the queue's front (with
    /// priority ordering, at the front of its priority).
    fn retract(&mut self, s: u32) {
        let i = self.running.iter().position(|&r| r == s).expect("running");
        self.running.remove(i);
        if self.chunked == Some(s) {
            self.chunked = None;
        }
        let slot = self.slots[s as usize].as_mut().expect("live slot");
        let lease = slot.lease.take().expect("running requests hold a lease");
        let computed = slot.full.prefix(slot.kv);
        slot.fill = slot.full.prefix(slot.req.prompt.len() + u64::from(slot.generated));
        slot.preemptions += 1;
        self.cache.release(lease, &computed);
        self.set_kv(s, 0, 0);
        if self.cfg.priority {
            // Before the waiting requests of its priority: the queue stays sorted.
            let p = self.slot(s).req.priority;
            let slots = &self.slots;
            let pos = self.waiting.partition_point(|&w| {
                slots[w as usize].as_ref().expect("live slot").req.priority < p
            });
            self.waiting.insert(pos, s);
        } else {
            self.waiting.push_front(s);
        }
        self.waiting_version += 1;
        self.stats.preemptions += 1;
    }

    /// Inserts slot `s`'s computed tokens into the cache and pins them again.
    fn reinsert(&mut self, s: u32) {
        let slot = self.slots[s as usize].as_mut().expect("live slot");
        let lease = slot.lease.take().expect("running requests hold a lease");
        let computed = slot.full.prefix(slot.kv);
        let kv = slot.kv;
        self.cache.release(lease, &computed);
        let lease = self.cache.acquire(&computed);
        let base = lease.matched().min(kv);
        self.slot_mut(s).lease = Some(lease);
        self.set_kv(s, kv, base);
    }

    /// Finishes request `s`: releases its KV into the cache and records its completion.
    fn finish(&mut self, s: u32, out: &mut Vec<Completion>) {
        let slot = self.slots[s as usize].take().expect("live slot");
        self.private_total -= slot.private;
        let lease = slot.lease.expect("running requests hold a lease");
        self.cache.release(lease, &slot.full.prefix(slot.kv));
        self.free_slots.push(s);
        out.push(Completion {
            id: slot.req.id,
            arrival: slot.req.arrival,
            first_token: slot.first_token.unwrap_or(self.now),
            finish: self.now,
            prompt_tokens: slot.req.prompt.len(),
            cached_tokens: slot.cached.unwrap_or(0),
            output_tokens: slot.req.output_tokens,
            preemptions: slot.preemptions,
            reused_tokens: slot.reused,
            prefill_tokens: slot.prefill_tokens,
            decode_steps: slot.decode_steps,
        });
    }

    fn finish_iteration(&mut self, out: &mut Vec<Completion>) {
        let now = self.now;
        let prefill = std::mem::take(&mut self.prefill_batch);
        for &(s, _) in &prefill {
            let slot = self.slot_mut(s);
            let done = slot.kv == slot.fill.len();
            if done {
                slot.generated += 1;
                slot.first_token.get_or_insert(now);
            }
            let finished = slot.generated == slot.req.output_tokens;
            if done && self.chunked == Some(s) {
                self.chunked = None;
            }
            if finished {
                self.finish(s, out);
            } else {
                self.reinsert(s);
            }
        }
        self.prefill_batch = prefill;
        let decode = std::mem::take(&mut self.decode_batch);
        for &s in &decode {
            let slot = self.slot_mut(s);
            slot.generated += 1;
            if slot.generated == slot.req.output_tokens {
                self.finish(s, out);
            }
        }
        if !decode.is_empty()
            && let Admission::NewTokenRatio { init, min, decay_steps, .. } = self.cfg.admission
        {
            self.ratio = (self.ratio - (init - min) / f64::from(decay_steps)).max(min);
        }
        self.decode_batch = decode;
        let slots = &self.slots;
        self.running.retain(|&s| slots[s as usize].is_some());
        self.stats.kv_used.set(now, self.kv_used() as f64 / self.cfg.kv_tokens as f64);
    }
}
