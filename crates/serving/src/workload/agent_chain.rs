//! `agent-chain`: ReAct-style agents (Yao et al., ICLR 2023; the SGLang paper's ReAct agent
//! workload): each agent is a chain of `steps` calls, each one waiting for the previous
//! (plus `think_time`, the tool's latency). Step 1's prompt is the shared system prompt (the
//! ReAct instructions and worked examples, the same for every agent) and the agent's task;
//! step k+1's prompt is step k's prompt, step k's output (a thought and an action) and the
//! observation the tool returned, so the history grows by one output and one observation per
//! step. Outputs are short.
//!
//! The counts are assumptions in that shape, not measured: 32 agents, 5 steps, a 1,024-token
//! system prompt, a 64-token task, 64-token outputs and 128-token observations.

use serde::{Deserialize, Serialize};
use simcore::{InputError, SimTime};

use super::builder::{CallBuilder, at_least, call_count};

/// Parameters of the `agent-chain` workload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AgentChain {
    /// Agents (programs).
    pub agents: u32,
    /// Calls per agent.
    pub steps: u32,
    /// System-prompt tokens, shared by every agent.
    pub system_prompt_tokens: u32,
    /// Tokens of each agent's task.
    pub task_tokens: u32,
    /// Output tokens of every step (thought and action).
    pub output_tokens: u32,
    /// Tokens of the observation appended after each step's output.
    pub observation_tokens: u32,
    /// Time between a step's completion and the next step (the tool call).
    pub think_time: SimTime,
}

impl Default for AgentChain {
    fn default() -> Self {
        Self {
            agents: 32,
            steps: 5,
            system_prompt_tokens: 1024,
            task_tokens: 64,
            output_tokens: 64,
            observation_tokens: 128,
            think_time: SimTime::ZERO,
        }
    }
}

impl AgentChain {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<(), InputError> {
        at_least("agents", self.agents.into(), 1)?;
        at_least("steps", self.steps.into(), 1)?;
        at_least("task_tokens", self.task_tokens.into(), 1)?;
        at_least("output_tokens", self.output_tokens.into(), 1)?;
        call_count("steps", &[self.agents.into(), self.steps.into()])?;
        Ok(())
    }

    /// Adds the chains to `b`.
    pub fn generate(&self, b: &mut CallBuilder) {
        let system = b.text(self.system_prompt_tokens);
        for agent in 0..self.agents {
            let mut prompt = system.concat(&b.text(self.task_tokens));
            let mut previous: Option<u64> = None;
            for step in 0..self.steps {
                let after = previous.map(|p| vec![p]).unwrap_or_default();
                let (id, out) = b.call(
                    agent.into(),
                    prompt.clone(),
                    self.output_tokens,
                    after,
                    self.think_time,
                );
                if step + 1 < self.steps {
                    let observation = b.text(self.observation_tokens);
                    prompt = prompt.concat(&out).concat(&observation);
                }
                previous = Some(id);
            }
        }
    }
}
