//! `few-shot`: MMLU 5-shot style prompts (Hendrycks et al., ICLR 2021; the SGLang paper's
//! MMLU workload): every prompt is the same `shots` worked examples (a shared prefix) followed
//! by its own question, and generates one token (the answer letter).
//!
//! Token counts are assumptions, not measurements: 5 examples of 100 tokens (an MMLU question
//! with its four choices and answer is on the order of 100 Llama tokens) and a 100-token
//! question; 1,000 questions. All questions share one set of examples, as in one MMLU subject;
//! every question is its own root and its own program.

use serde::{Deserialize, Serialize};
use simcore::{InputError, SimTime};

use super::builder::{CallBuilder, at_least, call_count};
use crate::Tokens;

/// Parameters of the `few-shot` workload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FewShot {
    /// Questions (prompts).
    pub questions: u32,
    /// Worked examples in the shared prefix.
    pub shots: u32,
    /// Tokens per example.
    pub shot_tokens: u32,
    /// Tokens of each question.
    pub question_tokens: u32,
    /// Output tokens (1: the answer).
    pub output_tokens: u32,
}

impl Default for FewShot {
    fn default() -> Self {
        Self { questions: 1000, shots: 5, shot_tokens: 100, question_tokens: 100, output_tokens: 1 }
    }
}

impl FewShot {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<(), InputError> {
        at_least("questions", self.questions.into(), 1)?;
        at_least("question_tokens", self.question_tokens.into(), 1)?;
        at_least("output_tokens", self.output_tokens.into(), 1)?;
        call_count("questions", &[self.questions.into()])?;
        Ok(())
    }

    /// Adds the prompts to `b`.
    pub fn generate(&self, b: &mut CallBuilder) {
        let mut examples = Tokens::new();
        for _ in 0..self.shots {
            let shot = b.text(self.shot_tokens);
            examples.extend(&shot);
        }
        for q in 0..self.questions {
            let prompt = examples.concat(&b.text(self.question_tokens));
            b.call(q.into(), prompt, self.output_tokens, Vec::new(), SimTime::ZERO);
        }
    }
}
