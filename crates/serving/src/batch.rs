//! What one iteration of the server computes, and the interface that prices it.
//!
//! The engine forms a batch each iteration (continuous batching): some requests contribute a
//! chunk of prompt tokens to prefill, the others one decode token each. The cost model only
//! needs the shape of that batch — how many new tokens each prefill chunk has and how much
//! context already sits in the KV cache before it, and the context length of each decoding
//! request — not which requests they are.

use simcore::SimTime;

/// One request's prefill work in an iteration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PrefillChunk {
    /// Prompt tokens computed in this iteration.
    pub new_tokens: u32,
    /// Tokens of context already in the KV cache before the chunk (a reused prefix, earlier
    /// chunks of the same prompt): attention reads them, nothing recomputes them.
    pub cached: u32,
}

/// The shape of one iteration's batch.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BatchShape {
    /// Prefill chunks, one per request that prefills in this iteration.
    pub prefill: Vec<PrefillChunk>,
    /// Context length (prompt plus output tokens so far, all in the KV cache) of each request
    /// that decodes one token in this iteration.
    pub decode_context: Vec<u32>,
}

impl BatchShape {
    /// Tokens the token-level operators (projections, MLP, norms) process: every prefill
    /// chunk's new tokens plus one per decoding request.
    pub fn tokens(&self) -> u64 {
        self.prefill.iter().map(|c| u64::from(c.new_tokens)).sum::<u64>()
            + self.decode_context.len() as u64
    }

    /// Requests in the batch.
    pub fn requests(&self) -> usize {
        self.prefill.len() + self.decode_context.len()
    }

    /// Whether the batch computes nothing.
    pub fn is_empty(&self) -> bool {
        self.requests() == 0
    }

    /// Empties the batch, keeping its allocations.
    pub fn clear(&mut self) {
        self.prefill.clear();
        self.decode_context.clear();
    }
}

/// Prices an iteration: the time from launching the batch until its tokens are out, on the
/// server's GPUs (all tensor-parallel ranks of one replica), including the per-iteration CPU
/// overhead.
pub trait IterationCost {
    /// Time of one iteration of `batch` (never zero for a non-empty batch).
    fn iteration_time(&mut self, batch: &BatchShape) -> SimTime;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_counts_add_prefill_chunks_and_one_per_decode() {
        let mut b = BatchShape {
            prefill: vec![
                PrefillChunk { new_tokens: 100, cached: 2048 },
                PrefillChunk { new_tokens: 7, cached: 0 },
            ],
            decode_context: vec![300, 4000, 12],
        };
        assert_eq!(b.tokens(), 110);
        assert_eq!(b.requests(), 5);
        b.clear();
        assert!(b.is_empty());
        assert_eq!(b.tokens(), 0);
    }
}
