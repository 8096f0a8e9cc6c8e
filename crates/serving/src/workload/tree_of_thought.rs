//! `tree-of-thought`: branching programs, the shape of SGLang's tree-of-thought benchmarks
//! (`benchmark/tree_of_thought_v0` and `tree_of_thought_deep`: a question is forked into
//! several branches, each branch's generation is extended with the next instruction and forked
//! again). Each tree is one program: the root call's prompt is its question; a call at level
//! l >= 1 extends its parent's prompt and output with the instruction of level l and waits
//! for the parent (plus `think_time`); every call has `branches` children down to `depth`
//! levels (the root is level 0), so a tree has 1 + b + ... + b^(depth-1) calls. Siblings have
//! the same prompt (the instruction text of a level is the same everywhere), as after SGLang's
//! `fork`.
//!
//! The counts are assumptions that follow that shape, not the benchmark's measured lengths:
//! 32 trees, 2 branches, 3 levels (7 calls a tree), a 256-token question, 32-token
//! instructions, 128 output tokens per call.

use serde::{Deserialize, Serialize};
use simcore::{InputError, SimTime};

use super::builder::{CallBuilder, at_least, call_count, invalid};
use crate::Tokens;

/// Parameters of the `tree-of-thought` workload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TreeOfThought {
    /// Trees (programs), each with its own question.
    pub trees: u32,
    /// Children of every call above the last level.
    pub branches: u32,
    /// Levels, the root included (1: the root alone).
    pub depth: u32,
    /// Tokens of a tree's question.
    pub question_tokens: u32,
    /// Tokens of the instruction that starts each level below the root.
    pub instruction_tokens: u32,
    /// Output tokens of every call.
    pub output_tokens: u32,
    /// Time between a parent's completion and its children's release.
    pub think_time: SimTime,
}

impl Default for TreeOfThought {
    fn default() -> Self {
        Self {
            trees: 32,
            branches: 2,
            depth: 3,
            question_tokens: 256,
            instruction_tokens: 32,
            output_tokens: 128,
            think_time: SimTime::ZERO,
        }
    }
}

impl TreeOfThought {
    /// Calls in one tree: 1 + b + ... + b^(depth-1) (saturating).
    pub fn calls_per_tree(&self) -> u64 {
        let mut total: u64 = 0;
        let mut level: u64 = 1;
        for _ in 0..self.depth {
            total = total.saturating_add(level);
            level = level.saturating_mul(self.branches.into());
        }
        total
    }

    /// Checks the parameters.
    pub fn validate(&self) -> Result<(), InputError> {
        at_least("trees", self.trees.into(), 1)?;
        at_least("depth", self.depth.into(), 1)?;
        if self.depth > 1 {
            at_least("branches", self.branches.into(), 1)?;
        }
        at_least("question_tokens", self.question_tokens.into(), 1)?;
        at_least("output_tokens", self.output_tokens.into(), 1)?;
        if self.depth > 64 {
            return Err(invalid("depth", format!("{} levels is too deep: at most 64", self.depth)));
        }
        call_count("depth", &[self.trees.into(), self.calls_per_tree()])?;
        Ok(())
    }

    /// Adds the trees to `b`.
    pub fn generate(&self, b: &mut CallBuilder) {
        let instructions: Vec<Tokens> =
            (1..self.depth).map(|_| b.text(self.instruction_tokens)).collect();
        for tree in 0..self.trees {
            let question = b.text(self.question_tokens);
            let (root, out) = b.call(
                tree.into(),
                question.clone(),
                self.output_tokens,
                Vec::new(),
                SimTime::ZERO,
            );
            // (call id, its prompt followed by its output) of the current level.
            let mut level = vec![(root, question.concat(&out))];
            for instruction in &instructions {
                let mut next = Vec::with_capacity(level.len() * self.branches as usize);
                for (parent, seq) in &level {
                    let prompt = seq.concat(instruction);
                    for _ in 0..self.branches {
                        let (id, out) = b.call(
                            tree.into(),
                            prompt.clone(),
                            self.output_tokens,
                            vec![*parent],
                            self.think_time,
                        );
                        next.push((id, prompt.concat(&out)));
                    }
                }
                level = next;
            }
        }
    }
}
