//! `shared-prefix`: SGLang's generated shared-prefix benchmark (`bench_serving.py
//! --dataset-name generated-shared-prefix`): `groups` groups of `prompts_per_group` prompts;
//! each prompt is its group's system prompt followed by its own question, and generates
//! `output_tokens` tokens. Defaults are bench_serving's (`--gsp-num-groups 64`,
//! `--gsp-prompts-per-group 16`, `--gsp-system-prompt-len 2048`, `--gsp-question-len 128`,
//! `--gsp-output-len 256`); like bench_serving, the prompts are shuffled before they are sent
//! (`shuffle: false` keeps them grouped). Every prompt is its own root; its program is its
//! group.

use serde::{Deserialize, Serialize};
use simcore::{InputError, RandomStreams, SimTime};

use super::builder::{CallBuilder, at_least, call_count};

/// Parameters of the `shared-prefix` workload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SharedPrefix {
    /// Groups, each with its own system prompt.
    pub groups: u32,
    /// Prompts per group.
    pub prompts_per_group: u32,
    /// System-prompt tokens (shared inside a group).
    pub system_prompt_tokens: u32,
    /// Question tokens (unique per prompt).
    pub question_tokens: u32,
    /// Output tokens per prompt.
    pub output_tokens: u32,
    /// Send the prompts in a seeded random order (bench_serving does), else group by group.
    pub shuffle: bool,
}

impl Default for SharedPrefix {
    fn default() -> Self {
        Self {
            groups: 64,
            prompts_per_group: 16,
            system_prompt_tokens: 2048,
            question_tokens: 128,
            output_tokens: 256,
            shuffle: true,
        }
    }
}

impl SharedPrefix {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<(), InputError> {
        at_least("groups", self.groups.into(), 1)?;
        at_least("prompts_per_group", self.prompts_per_group.into(), 1)?;
        at_least("output_tokens", self.output_tokens.into(), 1)?;
        if self.system_prompt_tokens == 0 && self.question_tokens == 0 {
            return Err(super::builder::invalid(
                "question_tokens",
                "a prompt needs at least one token: give system_prompt_tokens or question_tokens above 0",
            ));
        }
        call_count("prompts_per_group", &[self.groups.into(), self.prompts_per_group.into()])?;
        Ok(())
    }

    /// Adds the prompts to `b`.
    pub fn generate(&self, seed: u64, b: &mut CallBuilder) {
        let systems: Vec<_> = (0..self.groups).map(|_| b.text(self.system_prompt_tokens)).collect();
        let mut order: Vec<(u32, u32)> = (0..self.groups)
            .flat_map(|g| (0..self.prompts_per_group).map(move |q| (g, q)))
            .collect();
        if self.shuffle {
            RandomStreams::new(seed).stream("workload/shared-prefix/order").shuffle(&mut order);
        }
        for (g, _) in order {
            let prompt = systems[g as usize].concat(&b.text(self.question_tokens));
            b.call(g.into(), prompt, self.output_tokens, Vec::new(), SimTime::ZERO);
        }
    }
}
