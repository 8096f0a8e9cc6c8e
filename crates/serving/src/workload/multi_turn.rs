//! `multi-turn`: multi-turn chats, the shape of SGLang's `benchmark/multi_turn_chat`
//! (`--turns 4`, `--num-qa 20`, questions of 256-512 tokens, answers of 4-8 tokens, or
//! 256-512 with `--long`; the paper's multi-turn chat workload). Each chat is one program:
//! turn 1's prompt is the first user message; turn k+1's prompt is turn k's prompt, turn k's
//! output and the new user message, so every turn extends the previous one's sequence; turn
//! k+1 is sent `think_time` after turn k completes. Lengths are drawn uniformly (both ends
//! included) from the seeded stream `workload/multi-turn/lengths`.

use serde::{Deserialize, Serialize};
use simcore::{InputError, RandomStreams, SimTime};

use super::builder::{CallBuilder, at_least, call_count, range, uniform};

/// Output length preset: SGLang's short (4-8 tokens) or long (256-512 tokens) answers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OutputLength {
    /// 4 to 8 tokens.
    #[default]
    Short,
    /// 256 to 512 tokens.
    Long,
}

impl OutputLength {
    /// The preset's `[min, max]` tokens.
    pub fn range(self) -> [u32; 2] {
        match self {
            OutputLength::Short => [4, 8],
            OutputLength::Long => [256, 512],
        }
    }
}

/// Parameters of the `multi-turn` workload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MultiTurn {
    /// Chats (programs).
    pub chats: u32,
    /// Turns per chat.
    pub turns: u32,
    /// Tokens of each user message, `[min, max]`.
    pub user_tokens: [u32; 2],
    /// Output preset (`short` or `long`), unless `output_tokens` is given.
    pub output: OutputLength,
    /// Explicit `[min, max]` output tokens, overriding `output`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_tokens: Option<[u32; 2]>,
    /// Time between a turn's completion and the next turn (0: the offline experiment).
    pub think_time: SimTime,
}

impl Default for MultiTurn {
    fn default() -> Self {
        Self {
            chats: 20,
            turns: 4,
            user_tokens: [256, 512],
            output: OutputLength::Short,
            output_tokens: None,
            think_time: SimTime::ZERO,
        }
    }
}

impl MultiTurn {
    /// The `[min, max]` output tokens in force.
    pub fn output_range(&self) -> [u32; 2] {
        self.output_tokens.unwrap_or(self.output.range())
    }

    /// Checks the parameters.
    pub fn validate(&self) -> Result<(), InputError> {
        at_least("chats", self.chats.into(), 1)?;
        at_least("turns", self.turns.into(), 1)?;
        range("user_tokens", self.user_tokens, 1)?;
        range("output_tokens", self.output_range(), 1)?;
        call_count("turns", &[self.chats.into(), self.turns.into()])?;
        Ok(())
    }

    /// Adds the chats to `b`.
    pub fn generate(&self, seed: u64, b: &mut CallBuilder) {
        let mut rng = RandomStreams::new(seed).stream("workload/multi-turn/lengths");
        let out_range = self.output_range();
        for chat in 0..self.chats {
            let mut history = crate::Tokens::new();
            let mut previous: Option<u64> = None;
            for _ in 0..self.turns {
                let user = b.text(uniform(&mut rng, self.user_tokens));
                let prompt = history.concat(&user);
                let out = uniform(&mut rng, out_range);
                let after = previous.map(|p| vec![p]).unwrap_or_default();
                let (id, output) = b.call(chat.into(), prompt.clone(), out, after, self.think_time);
                history = prompt.concat(&output);
                previous = Some(id);
            }
        }
    }
}
