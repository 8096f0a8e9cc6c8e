//! [`CallBuilder`]: hands out call ids and text spans while a workload is generated, and
//! times the roots by the arrival process once every call is known.
//!
//! Span ids are allocated from 0 upwards, one per distinct text (a system prompt, a question,
//! an output), so prompts share a span exactly when they share that text. Trace replays that
//! bring their own block ids (Mooncake's `hash_ids`) put them at [`TRACE_SPAN_BASE`] and up,
//! where generated spans never reach.

use simcore::{InputError, RandomStreams, SimTime, StreamRng};

use super::{Arrivals, Call};
use crate::Tokens;

/// First span id of spans named by a trace file (2^62): generated spans stay below it.
pub const TRACE_SPAN_BASE: u64 = 1 << 62;

/// The most calls one workload may have (a guard against configs that would exhaust memory).
pub const MAX_CALLS: u64 = 10_000_000;

/// Builds the calls of one workload: ids in creation order, fresh spans, root timing.
#[derive(Debug, Default)]
pub struct CallBuilder {
    calls: Vec<Call>,
    next_span: u64,
}

impl CallBuilder {
    /// An empty workload.
    pub fn new() -> Self {
        Self::default()
    }

    /// A span id no other text of this workload uses.
    pub fn span(&mut self) -> u64 {
        let s = self.next_span;
        self.next_span += 1;
        s
    }

    /// `len` tokens of a fresh span.
    pub fn text(&mut self, len: u32) -> Tokens {
        Tokens::span(self.span(), 0, len)
    }

    /// Adds a call generating `output_tokens` tokens into a fresh output span; it waits for
    /// `after` and then `think` (roots: `after` empty, timed later by [`CallBuilder::finish`]).
    /// Returns the call's id and its output tokens.
    pub fn call(
        &mut self,
        program: u64,
        prompt: Tokens,
        output_tokens: u32,
        after: Vec<u64>,
        think: SimTime,
    ) -> (u64, Tokens) {
        let id = self.calls.len() as u64;
        let output_span = self.span();
        let delay = if after.is_empty() { SimTime::ZERO } else { think };
        self.calls.push(Call { id, program, prompt, output_tokens, output_span, after, delay });
        (id, Tokens::span(output_span, 0, output_tokens))
    }

    /// Number of calls so far.
    pub fn len(&self) -> usize {
        self.calls.len()
    }

    /// Whether no call was added.
    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }

    /// The calls, with the roots timed by `arrivals`: at 0 offline (and for `Trace`, since a
    /// generator has no timestamps), or at the points of a Poisson process in id order.
    pub fn finish(self, seed: u64, arrivals: &Arrivals) -> Result<Vec<Call>, InputError> {
        let mut calls = self.calls;
        if let Arrivals::Poisson { rate } = *arrivals {
            let mut times = poisson_times(seed, rate)?;
            for c in calls.iter_mut().filter(|c| c.after.is_empty()) {
                c.delay = times.next_time();
            }
        }
        Ok(calls)
    }
}

/// Arrival times of a Poisson process: exponential gaps of mean `1 / rate` seconds from the
/// seeded stream `workload/arrivals`, accumulated in f64 seconds.
pub struct PoissonTimes {
    rng: StreamRng,
    mean_gap: f64,
    t: f64,
}

impl PoissonTimes {
    /// The next arrival time (the first is one gap after 0).
    pub fn next_time(&mut self) -> SimTime {
        self.t += self.rng.exp(self.mean_gap);
        SimTime::from_secs_f64(self.t)
    }
}

/// The Poisson process of `rate` arrivals per second for run seed `seed`; the rate must be
/// positive and finite.
pub fn poisson_times(seed: u64, rate: f64) -> Result<PoissonTimes, InputError> {
    if !(rate.is_finite() && rate > 0.0) {
        return Err(InputError::at(
            "workload.arrivals.rate",
            format!("{rate} is not a valid rate: give a positive number of arrivals per second"),
        ));
    }
    Ok(PoissonTimes {
        rng: RandomStreams::new(seed).stream("workload/arrivals"),
        mean_gap: 1.0 / rate,
        t: 0.0,
    })
}

/// A uniform integer in `[range[0], range[1]]` (both included).
pub fn uniform(rng: &mut StreamRng, range: [u32; 2]) -> u32 {
    let span = u64::from(range[1] - range[0]) + 1;
    range[0] + rng.below(span) as u32
}

/// Checks that `value` is at least `min`, naming `workload.requests.<field>`.
pub fn at_least(field: &str, value: u64, min: u64) -> Result<(), InputError> {
    if value < min {
        return Err(invalid(field, format!("{value} is too small: give at least {min}")));
    }
    Ok(())
}

/// Checks a `[min, max]` range: `min <= max` and `min >= lowest`.
pub fn range(field: &str, r: [u32; 2], lowest: u32) -> Result<(), InputError> {
    if r[0] > r[1] {
        return Err(invalid(
            field,
            format!("[{}, {}]: the minimum is above the maximum", r[0], r[1]),
        ));
    }
    if r[0] < lowest {
        return Err(invalid(
            field,
            format!("[{}, {}]: the minimum must be at least {lowest}", r[0], r[1]),
        ));
    }
    Ok(())
}

/// Checks a product of counts (the number of calls a config asks for) against [`MAX_CALLS`].
pub fn call_count(field: &str, factors: &[u64]) -> Result<u64, InputError> {
    let mut n: u64 = 1;
    for &f in factors {
        n = n.saturating_mul(f);
    }
    if n > MAX_CALLS {
        return Err(invalid(
            field,
            format!("this asks for {n} calls; at most {MAX_CALLS} are supported"),
        ));
    }
    Ok(n)
}

/// An invalid-setting error for `workload.requests.<field>`.
pub fn invalid(field: &str, message: impl Into<String>) -> InputError {
    InputError::at(format!("workload.requests.{field}"), message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_and_ids_count_up_and_roots_are_timed_last() {
        let mut b = CallBuilder::new();
        let sys = b.text(10);
        let (a, out) = b.call(0, sys.clone(), 3, Vec::new(), SimTime::from_secs(9));
        let (c, _) = b.call(0, sys.concat(&out), 2, vec![a], SimTime::from_secs(1));
        assert_eq!((a, c), (0, 1));
        assert_eq!(out, Tokens::span(1, 0, 3), "span 0 is the text, 1 the first output");
        let calls = b.finish(1, &Arrivals::Offline).unwrap();
        assert_eq!(calls[0].delay, SimTime::ZERO, "a root's think time is ignored");
        assert_eq!(calls[1].delay, SimTime::from_secs(1));
        assert_eq!(calls[1].output_span, 2);
    }

    #[test]
    fn uniform_draws_stay_in_range_and_reach_both_ends() {
        let mut rng = RandomStreams::new(3).stream("t");
        let draws: Vec<u32> = (0..1000).map(|_| uniform(&mut rng, [4, 8])).collect();
        assert!(draws.iter().all(|d| (4..=8).contains(d)));
        assert!(draws.contains(&4) && draws.contains(&8));
        assert_eq!(uniform(&mut rng, [7, 7]), 7);
    }

    #[test]
    fn counts_and_ranges_are_checked() {
        assert!(call_count("x", &[MAX_CALLS, 2]).is_err());
        assert_eq!(call_count("x", &[64, 16]).unwrap(), 1024);
        assert_eq!(range("r", [5, 4], 1).unwrap_err().field(), Some("workload.requests.r"));
        assert!(range("r", [0, 4], 1).is_err());
        assert!(poisson_times(1, f64::NAN).is_err());
    }
}
