//! How many LLM calls agents make, when, and how long their prompts and outputs are.
//!
//! Published figures (AI Metropolis, MLSys'25, from 40 recorded days of Generative Agents on
//! GPT-3.5): 25 agents make about 56,700 calls per simulated day, 642.6 input and 21.9 output
//! tokens on average; about 5,000 calls in the busy 12-1 pm hour, 800 in the quiet 6-7 am
//! hour, 1-4 am nearly idle; the five most used agent functions make about 70% of the calls
//! and carry long fixed few-shot preambles.
//!
//! What is assumed (each a config value, [`CallShape`] and [`HourlyCalls`]):
//! - the other 22 hours of the daily profile (shaped like a waking day: a morning rise, a
//!   flat afternoon, an evening fall), scaled so the day sums to 56,700;
//! - prompt and output lengths lognormal with the published means (sigma 0.5 and 0.9),
//!   clipped to 16..4,096 and 1..512 tokens;
//! - an agent waking up plans its day in one chain of `wake_plan_calls` (28) calls;
//! - calls come in episodes, chains of dependent calls inside one agent-step (one agent's
//!   perceive-retrieve-plan chain), `chain_mean` 3 calls on average (geometric);
//! - 20 agent functions, the top 5 drawing 70% of calls, each top function's prompt starting
//!   with a fixed 400-token preamble (what prefix caching can reuse); the others none;
//! - background episodes fall on agent-steps uniformly at random within an hour, at the rate
//!   that makes the hour's expected total equal the profile once the world's own events
//!   (conversations, activity changes) are counted.

use serde::{Deserialize, Serialize};
use simcore::{InputError, StreamRng};

use crate::trace::AgentCall;

/// Calls per hour of the day for 25 agents, midnight first (sums to 56,700).
pub const DEFAULT_HOURLY: [f64; 24] = [
    300.0, 60.0, 30.0, 30.0, 60.0, 200.0, 800.0, 2_600.0, 3_860.0, 3_560.0, 3_560.0, 3_960.0,
    5_000.0, 4_160.0, 3_560.0, 3_560.0, 3_560.0, 3_760.0, 3_960.0, 3_660.0, 3_060.0, 1_900.0,
    1_000.0, 500.0,
];

/// Agents the hourly profile is given for (SmallVille's 25).
pub const PROFILE_AGENTS: f64 = 25.0;

/// The daily profile: calls in each hour for 25 agents (scaled by the agent count).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct HourlyCalls(pub Vec<f64>);

impl Default for HourlyCalls {
    fn default() -> Self {
        Self(DEFAULT_HOURLY.to_vec())
    }
}

impl HourlyCalls {
    /// Checks 24 non-negative finite values.
    pub fn validate(&self, field: &str) -> Result<(), InputError> {
        if self.0.len() != 24 || self.0.iter().any(|v| !v.is_finite() || *v < 0.0) {
            return Err(InputError::at(
                field,
                format!(
                    "24 non-negative numbers (calls in each hour for 25 agents), got {} values",
                    self.0.len()
                ),
            ));
        }
        Ok(())
    }
}

/// Shapes of calls (see the module docs for which are published and which assumed).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CallShape {
    /// Mean prompt tokens (published: 642.6).
    pub input_mean: f64,
    /// Lognormal sigma of prompt lengths (assumption: 0.5).
    pub input_sigma: f64,
    /// Mean output tokens (published: 21.9).
    pub output_mean: f64,
    /// Lognormal sigma of output lengths (assumption: 0.9).
    pub output_sigma: f64,
    /// Mean calls in one episode, a chain of dependent calls in one agent-step (assumption: 3).
    pub chain_mean: f64,
    /// Agent functions (prompt templates) (assumption: 20).
    pub functions: u16,
    /// How many of them are the most used (published: 5).
    pub top_functions: u16,
    /// Share of calls made by the most used functions (published: about 0.7).
    pub top_share: f64,
    /// Fixed preamble of each most-used function's prompt, tokens (assumption: 400).
    pub preamble_tokens: u32,
    /// Utterances a conversation has at most per speaker (assumption: 8, so up to 16 lines
    /// as in the recorded demo's conversations).
    pub max_turns: u32,
    /// Calls of the day's plan an agent makes, chained, in the step it wakes up (assumption:
    /// 28, the structure of Generative Agents' long-term planning: the wake-up hour, the
    /// day's broad plan, one call per hour of the hourly schedule, and two to revise the
    /// agent's identity).
    pub wake_plan_calls: u32,
}

impl Default for CallShape {
    fn default() -> Self {
        Self {
            input_mean: 642.6,
            input_sigma: 0.5,
            output_mean: 21.9,
            output_sigma: 0.9,
            chain_mean: 3.0,
            functions: 20,
            top_functions: 5,
            top_share: 0.7,
            preamble_tokens: 400,
            max_turns: 8,
            wake_plan_calls: 28,
        }
    }
}

/// Clip of prompt lengths.
const INPUT_RANGE: (f64, f64) = (16.0, 4_096.0);
/// Clip of output lengths.
const OUTPUT_RANGE: (f64, f64) = (1.0, 512.0);

impl CallShape {
    /// Checks every value; errors name `field.<name>`.
    pub fn validate(&self, field: &str) -> Result<(), InputError> {
        let bad =
            |name: &str, what: &str| InputError::at(format!("{field}.{name}"), what.to_string());
        if !(self.input_mean >= INPUT_RANGE.0 && self.input_mean <= INPUT_RANGE.1) {
            return Err(bad("input_mean", "a number of tokens from 16 to 4,096"));
        }
        if !(self.output_mean >= OUTPUT_RANGE.0 && self.output_mean <= OUTPUT_RANGE.1) {
            return Err(bad("output_mean", "a number of tokens from 1 to 512"));
        }
        for (n, v) in [("input_sigma", self.input_sigma), ("output_sigma", self.output_sigma)] {
            if !(0.0..=3.0).contains(&v) {
                return Err(bad(n, "a lognormal sigma from 0 to 3"));
            }
        }
        if !(self.chain_mean >= 1.0 && self.chain_mean <= 100.0) {
            return Err(bad("chain_mean", "calls per episode, from 1 to 100"));
        }
        if self.functions == 0 || self.top_functions > self.functions {
            return Err(bad("top_functions", "at most `functions`, which must be at least 1"));
        }
        if !(0.0..=1.0).contains(&self.top_share) {
            return Err(bad("top_share", "a share from 0 to 1"));
        }
        if self.max_turns == 0 {
            return Err(bad("max_turns", "at least 1"));
        }
        Ok(())
    }

    fn lognormal(rng: &mut StreamRng, mean: f64, sigma: f64, range: (f64, f64)) -> u32 {
        let mu = mean.ln() - sigma * sigma / 2.0;
        (mu + sigma * rng.normal()).exp().round().clamp(range.0, range.1) as u32
    }

    /// One call with a drawn function; `after_previous` as given.
    pub fn call(&self, rng: &mut StreamRng, after_previous: bool) -> AgentCall {
        let top = self.top_functions > 0 && rng.next_f64() < self.top_share;
        let function = if top || self.top_functions == self.functions {
            rng.below(u64::from(self.top_functions.max(1))) as u16
        } else {
            self.top_functions + rng.below(u64::from(self.functions - self.top_functions)) as u16
        };
        self.call_of(rng, function, after_previous)
    }

    /// One call of `function`.
    pub fn call_of(&self, rng: &mut StreamRng, function: u16, after_previous: bool) -> AgentCall {
        let input_tokens = Self::lognormal(rng, self.input_mean, self.input_sigma, INPUT_RANGE);
        let output_tokens = Self::lognormal(rng, self.output_mean, self.output_sigma, OUTPUT_RANGE);
        let shared_tokens = if function < self.top_functions {
            self.preamble_tokens.min(input_tokens - 1)
        } else {
            0
        };
        AgentCall { input_tokens, output_tokens, function, shared_tokens, after_previous }
    }

    /// An episode: a chain of `1 + Geometric` calls (mean `chain_mean`), appended to `out`.
    pub fn episode(&self, rng: &mut StreamRng, out: &mut Vec<AgentCall>) {
        let more = (self.chain_mean - 1.0) / self.chain_mean;
        let mut first = out.is_empty();
        loop {
            out.push(self.call(rng, !first));
            first = false;
            if rng.next_f64() >= more {
                break;
            }
        }
    }

    /// A conversation of `lines` utterances, one call each, chained (function 0, a top one:
    /// Generative Agents generates each utterance from the chat history).
    pub fn conversation(&self, rng: &mut StreamRng, lines: u32, out: &mut Vec<AgentCall>) {
        for _ in 0..lines {
            let first = out.is_empty();
            out.push(self.call_of(rng, 0, !first));
        }
    }

    /// The day's plan: `wake_plan_calls` chained calls of function 1 (a top one), appended.
    pub fn plan(&self, rng: &mut StreamRng, out: &mut Vec<AgentCall>) {
        for _ in 0..self.wake_plan_calls {
            let first = out.is_empty();
            out.push(self.call_of(rng, 1.min(self.functions - 1), !first));
        }
    }

    /// Lines of a conversation: two speakers, 1 to `max_turns` utterances each.
    pub fn conversation_lines(&self, rng: &mut StreamRng) -> u32 {
        2 * (1 + rng.below(u64::from(self.max_turns)) as u32)
    }

    /// Expected calls in one conversation.
    pub fn conversation_mean(&self) -> f64 {
        f64::from(self.max_turns) + 1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use simcore::RandomStreams;

    #[test]
    fn default_profile_has_the_published_anchors() {
        let sum: f64 = DEFAULT_HOURLY.iter().sum();
        assert_eq!(sum, 56_700.0);
        assert_eq!(DEFAULT_HOURLY[12], 5_000.0);
        assert_eq!(DEFAULT_HOURLY[6], 800.0);
        assert!(DEFAULT_HOURLY[1..4].iter().all(|&c| c <= 60.0));
    }

    #[test]
    fn drawn_calls_have_the_published_means() {
        let s = CallShape::default();
        let mut rng = RandomStreams::new(7).stream("calls");
        let mut calls = Vec::new();
        for _ in 0..40_000 {
            let mut ep = Vec::new();
            s.episode(&mut rng, &mut ep);
            assert!(!ep[0].after_previous && ep[1..].iter().all(|c| c.after_previous));
            calls.extend(ep);
        }
        let n = calls.len() as f64;
        let chain = n / 40_000.0;
        let inp = calls.iter().map(|c| f64::from(c.input_tokens)).sum::<f64>() / n;
        let out = calls.iter().map(|c| f64::from(c.output_tokens)).sum::<f64>() / n;
        let top = calls.iter().filter(|c| c.function < 5).count() as f64 / n;
        assert!((chain - 3.0).abs() < 0.05, "{chain}");
        assert!((inp - 642.6).abs() / 642.6 < 0.02, "{inp}");
        assert!((out - 21.9).abs() / 21.9 < 0.03, "{out}");
        assert!((top - 0.7).abs() < 0.01, "{top}");
        assert!(calls.iter().all(|c| c.shared_tokens < c.input_tokens));
    }

    #[test]
    fn bad_shapes_name_the_field() {
        let s = CallShape { chain_mean: 0.5, ..CallShape::default() };
        let e = s.validate("workload.calls").unwrap_err().to_string();
        assert!(e.contains("workload.calls.chain_mean"), "{e}");
        let e = HourlyCalls(vec![1.0; 23]).validate("workload.world.hourly_calls").unwrap_err();
        assert!(e.to_string().contains("24"), "{e}");
    }
}
