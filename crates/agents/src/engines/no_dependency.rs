//! `no-dependency`: every call of the trace sent at time 0, as if no call depended on any
//! other — not on the agent's previous call, not on any agent's step. What is left is the
//! GPUs' throughput: a bound no engine that keeps the world's order can beat by much (it can
//! only through a scheduling anomaly of the server's batching; the tests look for one).

use simcore::SimTime;

use serving::Replicas;

use crate::runner::{RunOutcome, finish_stats, request};
use crate::trace::AgentTrace;

/// Serves every call of `trace` from time 0 on `replicas`; with `priority`, each call's
/// priority is its step.
pub fn run_no_dependency(trace: &AgentTrace, mut replicas: Replicas, priority: bool) -> RunOutcome {
    let mut out = RunOutcome::default();
    for s in 0..trace.steps() {
        for a in 0..trace.agents() {
            let first = trace.first_call(s, a);
            for (k, c) in trace.calls(s, a).iter().enumerate() {
                let prio = if priority { u64::from(s) } else { 0 };
                // Every call was checked against the engine before the run.
                if let Err(e) =
                    replicas.submit(request(c, a, first + k as u32, SimTime::ZERO, prio))
                {
                    panic!("agents no-dependency: {e}");
                }
                out.tokens_in += u64::from(c.input_tokens);
            }
        }
    }
    let total = replicas.total_outstanding() as f64;
    let mut answered = Vec::new();
    let mut area = 0.0;
    let mut last = SimTime::ZERO;
    out.series[0].push(0.0);
    out.series[1].push(total);
    out.series[2].push(0.0);
    while let Some(t) = replicas.next_event_time() {
        let before = replicas.total_outstanding() as f64;
        answered.clear();
        replicas.advance_to(t, &mut answered);
        area += before * (t - last).as_secs_f64();
        last = t;
        for (_, c) in &answered {
            out.calls += 1;
            out.tokens_out += u64::from(c.output_tokens);
            out.completion = out.completion.max(c.finish);
        }
        if !answered.is_empty() {
            out.series[0].push(t.as_secs_f64());
            out.series[1].push(replicas.total_outstanding() as f64);
            out.series[2].push(0.0);
        }
    }
    let end = out.completion;
    out.mean_outstanding = if end > SimTime::ZERO { area / end.as_secs_f64() } else { 0.0 };
    finish_stats(&mut out, &replicas, end);
    out
}
