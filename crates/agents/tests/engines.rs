//! The engines keep the world unchanged and respect its dependencies: every engine issues
//! the same calls and commits every agent's steps in order; metropolis and the oracle never
//! start a step before an agent in perception range has reached its time (the distance
//! invariant); no engine beats the critical path; on random worlds metropolis is mostly
//! faster than parallel-sync and the oracle than metropolis, but not always: the server's
//! batching makes less waiting occasionally cost time (the kept cases below).

use agents::Pos;
use agents::engine::Engine;
use agents::engines::{
    Metropolis, Oracle, ParallelSync, SingleThread, SoloLatency, critical_path, run_no_dependency,
};
use agents::neighbors::Neighbors;
use agents::runner::{RunOptions, RunOutcome, run};
use agents::trace::{AgentCall, AgentTrace, TraceBuilder};
use proptest::prelude::*;
use serving::{
    BatchShape, CachePolicy, EngineConfig, IterationCost, Replicas, Router, RouterPolicy, Server,
};
use simcore::{RandomStreams, SimTime};

/// A fixed time per iteration plus a time per batch token (a GPU whose iteration grows with
/// the batch).
#[derive(Clone, Copy)]
struct Cost {
    base_us: u64,
    per_token_us: u64,
}

impl IterationCost for Cost {
    fn iteration_time(&mut self, b: &BatchShape) -> SimTime {
        SimTime::from_nanos(1_000 * (self.base_us + self.per_token_us * b.tokens()))
    }
}

const COST: Cost = Cost { base_us: 10_000, per_token_us: 20 };

fn service(replicas: u32, priority: bool) -> Replicas {
    let servers = (0..replicas)
        .map(|_| {
            let cfg = EngineConfig { kv_tokens: 200_000, priority, ..EngineConfig::default() };
            Server::new(cfg, CachePolicy::None.build(), Box::new(COST)).unwrap()
        })
        .collect();
    Replicas::new(servers, Router::new(RouterPolicy::RoundRobin))
}

/// A random world: `agents` on a `size x size` grid walking at most one tile a step, each
/// agent-step with 0-3 calls (some chained).
fn world(seed: u64, agents: u32, steps: u32, size: u16, busy: f64) -> AgentTrace {
    let mut rng = RandomStreams::new(seed).stream("world");
    let mut pos: Vec<Pos> = (0..agents)
        .map(|_| Pos::new(rng.below(u64::from(size)) as u16, rng.below(u64::from(size)) as u16))
        .collect();
    let mut b = TraceBuilder::new(size, size, 10.0, 0, &pos);
    for _ in 0..steps {
        for a in 0..agents {
            if rng.next_f64() < busy {
                let n = 1 + rng.below(3);
                let calls: Vec<AgentCall> = (0..n)
                    .map(|k| AgentCall {
                        input_tokens: 16 + rng.below(300) as u32,
                        output_tokens: 1 + rng.below(20) as u32,
                        function: 0,
                        shared_tokens: 0,
                        after_previous: k > 0 && rng.next_f64() < 0.7,
                    })
                    .collect();
                b.calls(a, &calls);
            }
        }
        for p in &mut pos {
            let step = |v: u16, r: u64| match r {
                0 if v > 0 => v - 1,
                2 if v + 1 < size => v + 1,
                _ => v,
            };
            *p = Pos::new(step(p.x, rng.below(3)), step(p.y, rng.below(3)));
        }
        b.end_step(&pos);
    }
    b.finish()
}

fn go<E: Engine>(t: &AgentTrace, e: E, replicas: u32, record: bool) -> RunOutcome {
    let nb = Neighbors::new(t, 4);
    run(t, e, service(replicas, true), RunOptions { priority: true, check: Some(&nb), record })
}

fn all(t: &AgentTrace, replicas: u32, record: bool) -> [RunOutcome; 4] {
    let n = t.agents();
    [
        go(t, SingleThread::default(), replicas, record),
        go(t, ParallelSync::default(), replicas, record),
        go(t, Metropolis::new(4, 1, 0, n), replicas, record),
        go(t, Oracle::new(Neighbors::new(t, 4), n), replicas, record),
    ]
}

fn cp(t: &AgentTrace) -> SimTime {
    let mut cost = COST;
    let mut solo = SoloLatency::new(&mut cost, Some(8_192), false);
    critical_path(t, &Neighbors::new(t, 4), &mut solo)
}

#[test]
fn every_engine_issues_the_same_calls_and_commits_steps_in_order() {
    let t = world(1, 12, 40, 24, 0.4);
    let n_calls = t.all_calls().len() as u32;
    for out in all(&t, 2, true) {
        let mut issued = out.issued.clone();
        issued.sort_unstable();
        assert_eq!(issued, (0..n_calls).collect::<Vec<_>>());
        assert_eq!(out.calls, u64::from(n_calls));
        for a in 0..t.agents() {
            let steps: Vec<u32> = out.commits.iter().filter(|c| c.0 == a).map(|c| c.1).collect();
            assert_eq!(steps, (0..t.steps()).collect::<Vec<_>>(), "agent {a}");
        }
        assert_eq!(out.violations, 0);
    }
}

#[test]
fn order_and_bounds_on_a_crowded_and_a_sparse_world() {
    for (seed, size) in [(2, 12), (3, 60)] {
        let t = world(seed, 16, 30, size, 0.5);
        let [single, sync, metro, oracle] = all(&t, 2, false);
        let bound = cp(&t);
        for o in [&single, &sync, &metro, &oracle] {
            assert!(o.completion >= bound, "{:?} < critical path {bound:?}", o.completion);
        }
        let nodep = run_no_dependency(&t, service(2, true), true);
        assert!(nodep.completion <= oracle.completion);
        assert!(single.completion > sync.completion);
        assert!(metro.completion <= sync.completion);
        assert!(oracle.completion <= metro.completion);
    }
}

#[test]
fn the_parallel_sync_invariant_is_checked_by_the_runner() {
    // An engine that ignores dependencies (every agent as far as it likes) breaks the
    // invariant, and the runner counts it.
    struct Greedy;
    impl Engine for Greedy {
        fn name(&self) -> &'static str {
            "greedy"
        }
        fn next(&mut self, ctx: &agents::engine::Ctx<'_>, _: &[u32], launch: &mut Vec<Vec<u32>>) {
            for a in 0..ctx.trace.agents() {
                if !ctx.running[a as usize] && ctx.done[a as usize] < ctx.trace.steps() {
                    launch.push(vec![a]);
                }
            }
        }
    }
    let t = world(4, 8, 30, 8, 0.6);
    assert!(go(&t, Greedy, 1, false).violations > 0);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// The distance invariant and the critical-path bound on random worlds. Neither engine
    /// order is an invariant: on a shared batching server, waiting for less can cost an
    /// iteration or more (the kept cases below); the order is checked over many worlds in
    /// `on_random_worlds_metropolis_beats_sync_and_the_oracle_beats_metropolis`.
    #[test]
    fn random_worlds_keep_the_invariant_and_the_critical_path_bound(
        seed in 0u64..1_000_000,
        agents in 2u32..14,
        steps in 2u32..25,
        size in 6u16..40,
        replicas in 1u32..3,
    ) {
        let t = world(seed, agents, steps, size, 0.5);
        let [single, sync, metro, oracle] = all(&t, replicas, false);
        prop_assert_eq!(metro.violations, 0);
        prop_assert_eq!(oracle.violations, 0);
        let bound = cp(&t);
        for o in [&single, &sync, &metro, &oracle] {
            prop_assert!(o.completion >= bound);
        }
    }
}

/// The order of the engines as a direction over 300 fixed random worlds (the property
/// test's ranges): metropolis finishes no later than parallel-sync in most worlds and 10%
/// sooner on average; the oracle likewise against metropolis.
#[test]
fn on_random_worlds_metropolis_beats_sync_and_the_oracle_beats_metropolis() {
    let mut rng = RandomStreams::new(99).stream("worlds");
    let (mut metro_wins, mut oracle_wins) = (0u32, 0u32);
    let (mut metro_ratio, mut oracle_ratio) = (0.0, 0.0);
    let n = 300;
    for _ in 0..n {
        let seed = rng.below(1_000_000);
        let agents = 2 + rng.below(12) as u32;
        let steps = 2 + rng.below(23) as u32;
        let size = 6 + rng.below(34) as u16;
        let replicas = 1 + rng.below(2) as u32;
        let t = world(seed, agents, steps, size, 0.5);
        let [_, sync, metro, oracle] = all(&t, replicas, false);
        metro_wins += u32::from(metro.completion <= sync.completion);
        oracle_wins += u32::from(oracle.completion <= metro.completion);
        metro_ratio += metro.completion.as_secs_f64() / sync.completion.as_secs_f64() / n as f64;
        oracle_ratio += oracle.completion.as_secs_f64() / metro.completion.as_secs_f64() / n as f64;
    }
    assert!(metro_wins >= n * 85 / 100, "metropolis no later than sync in {metro_wins} of {n}");
    assert!(oracle_wins >= n * 80 / 100, "oracle no later than metropolis in {oracle_wins} of {n}");
    assert!(metro_ratio < 0.92, "mean metropolis / sync {metro_ratio}");
    assert!(oracle_ratio < 1.0, "mean oracle / metropolis {oracle_ratio}");
}

// Two kept scheduling anomalies, found by the property test above. An engine that waits for
// less starts other agents' calls earlier; on a shared server those calls join the batches
// the critical chain's calls run in (each iteration's time grows with its tokens), queue
// ahead of them, or, with several replicas, change which replica round-robin sends each
// call to. So less waiting is not always less time (Graham's scheduling anomalies); the
// loss is one to a few iterations, up to 10% of a short run (the last case).

/// The oracle one iteration (10 ms) behind metropolis: a crowded 6 x 6 world, one replica.
#[test]
fn oracle_can_lose_to_metropolis_by_an_iteration() {
    let t = world(6044, 10, 5, 6, 0.5);
    let [_, sync, metro, oracle] = all(&t, 1, false);
    assert!(metro.completion <= sync.completion);
    assert_eq!(oracle.completion - metro.completion, SimTime::from_millis(10));
    assert_eq!((metro.violations, oracle.violations), (0, 0));
}

/// Metropolis 1.3% behind parallel-sync: a crowded 7 x 7 world, two replicas.
#[test]
fn metropolis_can_lose_to_parallel_sync_on_two_replicas() {
    let t = world(1491, 9, 4, 7, 0.5);
    let [_, sync, metro, _] = all(&t, 2, false);
    assert_eq!(sync.completion, SimTime::from_nanos(839_960_000));
    assert_eq!(metro.completion, SimTime::from_nanos(850_800_000));
}

/// Metropolis 5.4% (six iterations) behind parallel-sync on one replica: agent 0, far from
/// everyone, runs ahead to its last step, whose three chained calls (40 output tokens) are
/// the longest chain of the world. With step priority its calls rank behind every call of
/// the agents still at steps 0 and 1, and each of their admissions is a prefill iteration
/// the chain's decodes wait through; under the barrier the chain runs last, alone. Step
/// priority favours the laggards, which is right on average (they hold others back) but not
/// when the agent ahead carries the critical chain.
#[test]
fn metropolis_can_lose_to_parallel_sync_when_the_agent_ahead_is_critical() {
    let t = world(7244, 9, 3, 24, 0.5);
    let [_, sync, metro, oracle] = all(&t, 1, false);
    assert_eq!(sync.completion, SimTime::from_nanos(1_105_640_000));
    assert_eq!(metro.completion, SimTime::from_nanos(1_165_640_000));
    assert_eq!(oracle.completion, metro.completion);
}

/// Metropolis 10.4% behind parallel-sync on a two-step run with two replicas (found by CI's
/// property run): the run is short, so a few iterations lost to round-robin placement are a
/// large share of it.
#[test]
fn metropolis_can_lose_a_tenth_of_a_short_run() {
    let t = world(398178, 7, 2, 24, 0.5);
    let [_, sync, metro, _] = all(&t, 2, false);
    assert_eq!(sync.completion, SimTime::from_nanos(360_820_000));
    assert_eq!(metro.completion, SimTime::from_nanos(398_340_000));
}
