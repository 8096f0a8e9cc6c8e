//! The serving engine: exact small runs, chunked prefill, prefix reuse, preemption, and
//! invariants over random workloads (memory never exceeds the pool, every token computed once
//! unless preempted, every request finishes, same inputs give the same completions).

use std::cell::RefCell;
use std::rc::Rc;

use proptest::prelude::*;
use serving::{
    Admission, BatchShape, CachePolicy, Completion, EngineConfig, IterationCost, PrefillChunk,
    Request, SchedulePolicy, Server, SubmitError, Tokens, run_workload,
};
use simcore::SimTime;

/// Test double: a fixed time per iteration plus a time per batch token; records the shapes.
#[derive(Clone, Default)]
struct TestCost {
    base_ns: u64,
    per_token_ns: u64,
    shapes: Rc<RefCell<Vec<BatchShape>>>,
}

impl TestCost {
    fn new(base_ns: u64, per_token_ns: u64) -> Self {
        Self { base_ns, per_token_ns, shapes: Rc::default() }
    }
}

impl IterationCost for TestCost {
    fn iteration_time(&mut self, b: &BatchShape) -> SimTime {
        self.shapes.borrow_mut().push(b.clone());
        SimTime::from_nanos(self.base_ns + self.per_token_ns * b.tokens())
    }
}

fn ms(x: f64) -> SimTime {
    SimTime::from_nanos((x * 1e6).round() as u64)
}

fn req(id: u64, at: SimTime, prompt: Tokens, out: u32) -> Request {
    Request::new(id, at, prompt, out, 1_000_000 + id)
}

fn config(kv: u64) -> EngineConfig {
    EngineConfig { kv_tokens: kv, ..EngineConfig::default() }
}

fn by_id(mut c: Vec<Completion>) -> Vec<Completion> {
    c.sort_by_key(|c| c.id);
    c
}

#[test]
fn hand_computed_tiny_run() {
    // 1 ms + 10 us per token. A (100-token prompt, 3 out) and B (50, 2) at 0; C (20, 1) at 5 ms.
    // t=0: prefill A+B, 150 tokens: 2.5 ms. t=2.5: decode A,B: 1.02 ms -> B done at 3.52.
    // t=3.52: decode A: 1.01 ms -> A done at 4.53. Idle; C at 5: prefill 20: 1.2 ms -> 6.2.
    let reqs = vec![
        req(0, SimTime::ZERO, Tokens::span(1, 0, 100), 3),
        req(1, SimTime::ZERO, Tokens::span(2, 0, 50), 2),
        req(2, ms(5.0), Tokens::span(3, 0, 20), 1),
    ];
    let cost = TestCost::new(1_000_000, 10_000);
    let run = run_workload(
        config(1000),
        CachePolicy::Radix { page_size: 1 }.build(),
        Box::new(cost.clone()),
        reqs.clone(),
    )
    .unwrap();
    let c = by_id(run.completions.clone());
    assert_eq!((c[0].first_token, c[0].finish), (ms(2.5), ms(4.53)));
    assert_eq!((c[1].first_token, c[1].finish), (ms(2.5), ms(3.52)));
    assert_eq!((c[2].first_token, c[2].finish), (ms(6.2), ms(6.2)));
    assert_eq!(c[2].ttft(), ms(1.2));
    assert_eq!(run.stats.iterations, 4);
    assert_eq!(run.stats.batch_tokens, 150 + 2 + 1 + 20);
    let m = run.metrics;
    assert_eq!(m.preemptions, 0);
    assert!((m.mean_batch_tokens - 173.0 / 4.0).abs() < 1e-12);
    assert!((m.throughput_req_s - 3.0 / 6.2e-3).abs() < 1e-6);
    assert!((m.throughput_tok_s - 6.0 / 6.2e-3).abs() < 1e-6);
    // TPOT: A (4.53 - 2.5) / 2, B 1.02 / 1; C has one token.
    assert!((m.tpot_s - (2.03e-3 / 2.0 + 1.02e-3) / 2.0).abs() < 1e-12);
    assert_eq!(m.ttft_p50_s, 2.5e-3);
    let r = run.to_run_result();
    assert!(r.metrics.contains_key("kv_used_frac") && r.series.contains_key("queue_len"));

    // The same through the request-by-request API with explicit time.
    let mut s = Server::new(
        config(1000),
        CachePolicy::Radix { page_size: 1 }.build(),
        Box::new(TestCost::new(1_000_000, 10_000)),
    )
    .unwrap();
    let mut out = Vec::new();
    s.submit(reqs[0].clone()).unwrap();
    s.submit(reqs[1].clone()).unwrap();
    s.advance_to(ms(4.0), &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(s.next_event_time(), Some(ms(4.53)));
    s.advance_to(ms(5.0), &mut out);
    assert!(s.is_idle());
    s.submit(reqs[2].clone()).unwrap();
    s.run_to_completion(&mut out);
    assert_eq!(by_id(out), c);
}

#[test]
fn chunked_prefill_splits_a_long_prompt() {
    let cost = TestCost::new(1000, 1);
    let cfg = EngineConfig { chunked_prefill: Some(256), ..config(10_000) };
    let reqs = vec![
        req(0, SimTime::ZERO, Tokens::span(1, 0, 600), 2),
        req(1, SimTime::ZERO, Tokens::span(2, 0, 100), 1),
    ];
    let run = run_workload(cfg, CachePolicy::None.build(), Box::new(cost.clone()), reqs).unwrap();
    let shapes = cost.shapes.borrow();
    let chunk = |n, c| PrefillChunk { new_tokens: n, cached: c };
    assert_eq!(shapes[0].prefill, vec![chunk(256, 0)]);
    assert_eq!(shapes[1].prefill, vec![chunk(256, 256)]);
    // The last chunk leaves room for the next request in the same batch.
    assert_eq!(shapes[2].prefill, vec![chunk(88, 512), chunk(100, 0)]);
    assert_eq!(shapes[3].decode_context, vec![601]);
    assert_eq!(shapes.len(), 4);
    let c = by_id(run.completions);
    assert_eq!(c[0].prefill_tokens, 600);
    assert_eq!(c[0].first_token, c[1].first_token);
}

fn shared_prefix_workload() -> Vec<Request> {
    // 4 groups x 4 prompts: a 500-token system prompt and a 20-token question, 4 outputs.
    let mut v = Vec::new();
    for q in 0..4u64 {
        for g in 0..4u64 {
            let p = Tokens::span(10 + g, 0, 500).concat(&Tokens::span(100 + 4 * g + q, 0, 20));
            v.push(req(4 * g + q, SimTime::ZERO, p, 4));
        }
    }
    v
}

#[test]
fn radix_with_lpm_computes_fewer_prefill_tokens_than_no_cache() {
    let prefill = |cache: CachePolicy, schedule| {
        let cfg = EngineConfig { schedule, ..config(100_000) };
        let run = run_workload(
            cfg,
            cache.build(),
            Box::new(TestCost::new(1000, 1)),
            shared_prefix_workload(),
        )
        .unwrap();
        assert_eq!(run.completions.len(), 16);
        (run.stats.prefill_tokens, run.metrics.cache_hit_rate)
    };
    let (none, none_hit) = prefill(CachePolicy::None, SchedulePolicy::Fcfs);
    let (radix, radix_hit) = prefill(CachePolicy::Radix { page_size: 1 }, SchedulePolicy::Lpm);
    assert_eq!(none, 16 * 520);
    assert_eq!(none_hit, 0.0);
    // lpm admits one request per group first; the rest reuse its 500 tokens.
    assert_eq!(radix, 4 * 520 + 12 * 20);
    assert!((radix_hit - 12.0 * 500.0 / (16.0 * 520.0)).abs() < 1e-12);
    let (blocks, _) = prefill(CachePolicy::PrefixBlocks { block_size: 16 }, SchedulePolicy::Lpm);
    assert!(radix < blocks && blocks < none, "{radix} {blocks} {none}");
}

#[test]
fn preemption_happens_and_recovers_in_a_tiny_pool() {
    for admission in [
        Admission::NewTokenRatio {
            init: 0.1,
            min: 0.05,
            decay_steps: 600,
            retract_decode_steps: 20,
        },
        Admission::VLLM,
    ] {
        let cfg = EngineConfig { admission, ..config(300) };
        let reqs: Vec<Request> =
            (0..4).map(|i| req(i, SimTime::ZERO, Tokens::span(i, 0, 50), 100)).collect();
        let run = run_workload(
            cfg,
            CachePolicy::Radix { page_size: 1 }.build(),
            Box::new(TestCost::new(1000, 1)),
            reqs,
        )
        .unwrap();
        assert_eq!(run.completions.len(), 4);
        assert!(run.metrics.preemptions > 0, "{admission:?}");
        let preempted: u32 = run.completions.iter().map(|c| c.preemptions).sum();
        assert_eq!(u64::from(preempted), run.metrics.preemptions);
        for c in &run.completions {
            assert_eq!(c.output_tokens, 100);
            let work = c.reused_tokens + c.prefill_tokens + c.decode_steps;
            assert!(work >= c.prompt_tokens + 99, "{c:?}");
        }
    }
}

#[test]
fn bad_requests_are_rejected_with_reasons() {
    let cfg = EngineConfig { context_len: 1000, ..config(500) };
    let mut s = Server::new(cfg, CachePolicy::None.build(), Box::new(TestCost::new(1, 1))).unwrap();
    let e = s.submit(req(7, SimTime::ZERO, Tokens::span(1, 0, 990), 20)).unwrap_err();
    assert!(matches!(e, SubmitError::TooLong { id: 7, tokens: 1010, .. }));
    assert!(e.to_string().contains("engine.context_len"), "{e}");
    let e = s.submit(req(8, SimTime::ZERO, Tokens::span(1, 0, 600), 20)).unwrap_err();
    assert!(matches!(e, SubmitError::NeverFits { id: 8, .. }));
    assert!(e.to_string().contains("engine.kv_tokens"), "{e}");
    let e = s.submit(req(9, SimTime::ZERO, Tokens::span(1, 0, 6), 0)).unwrap_err();
    assert_eq!(e, SubmitError::NoOutput { id: 9 });
    s.advance_to(ms(1.0), &mut Vec::new());
    let e = s.submit(req(10, SimTime::ZERO, Tokens::span(1, 0, 6), 1)).unwrap_err();
    assert!(matches!(e, SubmitError::InThePast { id: 10, .. }));
    let cfg = EngineConfig { kv_tokens: 0, ..EngineConfig::default() };
    let e = Server::new(cfg, CachePolicy::None.build(), Box::new(TestCost::new(1, 1))).unwrap_err();
    assert_eq!(e.field(), Some("engine.kv_tokens"));
}

/// A random small setting and workload.
#[derive(Clone, Debug)]
struct Case {
    cache: CachePolicy,
    schedule: SchedulePolicy,
    mixed: bool,
    chunk: Option<u32>,
    vllm: bool,
    extra_pool: u64,
    reqs: Vec<(u64, u32, u64, u32, u32, u64)>, // (prefix span, prefix len, own span, own len, out, arrival us)
}

fn case() -> impl Strategy<Value = Case> {
    let cache = prop_oneof![
        Just(CachePolicy::None),
        Just(CachePolicy::PrefixBlocks { block_size: 4 }),
        Just(CachePolicy::Radix { page_size: 1 }),
        Just(CachePolicy::Radix { page_size: 4 }),
    ];
    let schedule = prop::sample::select(SchedulePolicy::NAMES.to_vec())
        .prop_map(|n| SchedulePolicy::from_name(n).unwrap());
    let chunk = prop_oneof![Just(None), (8u32..300).prop_map(Some)];
    let reqs = prop::collection::vec(
        (0u64..3, 0u32..150, 0u64..1000, 1u32..60, 1u32..80, 0u64..300),
        1..14,
    );
    (cache, schedule, any::<bool>(), chunk, any::<bool>(), prop_oneof![Just(0u64), 0u64..400], reqs)
        .prop_map(|(cache, schedule, mixed, chunk, vllm, extra_pool, reqs)| Case {
            cache,
            schedule,
            mixed,
            chunk,
            vllm,
            extra_pool,
            reqs,
        })
}

fn build(c: &Case) -> (Server, Vec<Request>) {
    let reqs: Vec<Request> = c
        .reqs
        .iter()
        .enumerate()
        .map(|(i, &(ps, pl, own, ol, out, at))| {
            let p = Tokens::span(ps, 0, pl).concat(&Tokens::span(100 + own * 16 + i as u64, 0, ol));
            req(i as u64, SimTime::from_micros(at), p, out)
        })
        .collect();
    let biggest = reqs.iter().map(Request::total_tokens).max().unwrap();
    let admission = if c.vllm { Admission::VLLM } else { Admission::SGLANG };
    let kv = ((biggest + 16) as f64 / 0.98).ceil() as u64 + c.extra_pool;
    let cfg = EngineConfig {
        kv_tokens: kv,
        schedule: c.schedule,
        mixed_batches: c.mixed,
        chunked_prefill: c.chunk,
        admission,
        seed: 3,
        ..EngineConfig::default()
    };
    let s = Server::new(cfg, c.cache.build(), Box::new(TestCost::new(5_000, 100))).unwrap();
    (s, reqs)
}

/// Runs the case by steps, checking memory after each; returns the completions.
fn drive(c: &Case) -> Vec<Completion> {
    let (mut s, reqs) = build(c);
    for r in reqs {
        s.submit(r).unwrap();
    }
    let mut out = Vec::new();
    let mut steps = 0u64;
    while s.step(&mut out).is_some() {
        steps += 1;
        assert!(steps < 200_000, "no progress");
        assert!(s.kv_used() <= s.kv_pool(), "{} > {}", s.kv_used(), s.kv_pool());
        assert_eq!(s.cache().recount(), s.cache().usage());
    }
    assert!(s.is_idle());
    assert_eq!(s.kv_used(), s.cache().usage().cached, "no private KV left");
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn engine_invariants(c in case()) {
        let out = drive(&c);
        prop_assert_eq!(out.len(), c.reqs.len());
        for x in &out {
            let needed = x.prompt_tokens + u64::from(x.output_tokens) - 1;
            let work = x.reused_tokens + x.prefill_tokens + x.decode_steps;
            if x.preemptions == 0 {
                prop_assert_eq!(work, needed, "{:?}", x);
                prop_assert_eq!(x.decode_steps, u64::from(x.output_tokens) - 1);
                prop_assert_eq!(x.reused_tokens, x.cached_tokens);
            } else {
                prop_assert!(work >= needed, "{:?}", x);
            }
            prop_assert!(x.cached_tokens < x.prompt_tokens);
            prop_assert!(x.arrival <= x.first_token && x.first_token <= x.finish);
        }
        // Determinism: the same case gives the same completions, in the same order.
        prop_assert_eq!(drive(&c), out);
    }
}

#[test]
fn priority_orders_the_waiting_queue_and_ties_keep_arrival_order() {
    // One request runs at a time; four arrive together with priorities 3, 1, 2, 1.
    let run = |priority: bool| {
        let cfg = EngineConfig { max_running_requests: 1, priority, ..config(10_000) };
        let mut s =
            Server::new(cfg, CachePolicy::None.build(), Box::new(TestCost::new(1_000_000, 0)))
                .unwrap();
        for (id, p) in [(0u64, 3u64), (1, 1), (2, 2), (3, 1)] {
            s.submit(req(id, SimTime::ZERO, Tokens::span(10 + id, 0, 8), 2).with_priority(p))
                .unwrap();
        }
        let mut out = Vec::new();
        s.run_to_completion(&mut out);
        out.iter().map(|c| c.id).collect::<Vec<_>>()
    };
    assert_eq!(run(false), vec![0, 1, 2, 3]);
    assert_eq!(run(true), vec![1, 3, 2, 0]);
}
