//! A request to the server and the record of how it was served.
//!
//! A [`Request`] carries its prompt as [`Tokens`] and the number of tokens it will generate.
//! Its output tokens are the span `output_span` from offset 0, so a later chat turn can put
//! them in its own prompt (`prompt.concat(&request.output())`) and find them in the cache.
//!
//! The simulated request generates exactly `output_tokens` tokens (as if it stopped at that
//! many); the engine uses that count where a real server only knows `max_new_tokens`.

use simcore::SimTime;

use crate::Tokens;

/// One generation request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// Caller's identifier, copied to the [`Completion`].
    pub id: u64,
    /// When it reaches the server.
    pub arrival: SimTime,
    /// The prompt.
    pub prompt: Tokens,
    /// Tokens it generates (at least 1).
    pub output_tokens: u32,
    /// Span of its output tokens: they are `(output_span, 0..output_tokens)`.
    pub output_span: u64,
    /// Admission priority, smaller first, when the engine orders by priority
    /// ([`crate::EngineConfig::priority`]); 0 by default. AI Metropolis gives each call its
    /// agent's step.
    pub priority: u64,
}

impl Request {
    /// A request of `prompt` generating `output_tokens` tokens of span `output_span`.
    pub fn new(
        id: u64,
        arrival: SimTime,
        prompt: Tokens,
        output_tokens: u32,
        output_span: u64,
    ) -> Self {
        Self { id, arrival, prompt, output_tokens, output_span, priority: 0 }
    }

    /// The same request with admission priority `priority` (smaller first).
    pub fn with_priority(mut self, priority: u64) -> Self {
        self.priority = priority;
        self
    }

    /// Its output tokens.
    pub fn output(&self) -> Tokens {
        Tokens::span(self.output_span, 0, self.output_tokens)
    }

    /// Prompt followed by output: the sequence whose KV the request builds.
    pub fn sequence(&self) -> Tokens {
        self.prompt.concat(&self.output())
    }

    /// Prompt plus output tokens.
    pub fn total_tokens(&self) -> u64 {
        self.prompt.len() + u64::from(self.output_tokens)
    }
}

/// How one request was served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Completion {
    /// The request's id.
    pub id: u64,
    /// When it arrived.
    pub arrival: SimTime,
    /// When its first output token was out (end of the iteration that finished its prefill).
    pub first_token: SimTime,
    /// When its last output token was out.
    pub finish: SimTime,
    /// Prompt length.
    pub prompt_tokens: u64,
    /// Prompt tokens reused from the cache at its first admission (the hit-rate numerator).
    pub cached_tokens: u64,
    /// Output tokens generated.
    pub output_tokens: u32,
    /// Times it was retracted (preempted) and put back in the queue.
    pub preemptions: u32,
    /// Tokens reused from the cache over all its admissions (first and after preemptions).
    pub reused_tokens: u64,
    /// Tokens it computed in prefill chunks, over all its admissions.
    pub prefill_tokens: u64,
    /// Decode steps it took part in (one token each).
    pub decode_steps: u64,
}

impl Completion {
    /// Time to first token.
    pub fn ttft(&self) -> SimTime {
        self.first_token - self.arrival
    }

    /// Arrival to last token.
    pub fn e2e(&self) -> SimTime {
        self.finish - self.arrival
    }

    /// Mean time per output token after the first, in seconds (`None` for one output token).
    pub fn tpot_s(&self) -> Option<f64> {
        (self.output_tokens > 1).then(|| {
            (self.finish - self.first_token).as_secs_f64() / f64::from(self.output_tokens - 1)
        })
    }
}
