//! Workloads: what clients send to the server. A workload is a set of [`Call`]s — LLM calls
//! with their prompts (as [`Tokens`], so prompts that share text share spans), output lengths
//! and dependencies: a call whose `after` is empty is released at `delay` (its arrival time); a
//! call that depends on others is released `delay` after the last of them completes (a chat's
//! next turn, a tree-of-thought's branches, an agent's next step).
//!
//! [`WorkloadSpec`] is the `workload.requests` entry of a serving config: seeded generators and
//! trace replays, one file each. [`Arrivals`] says when the roots arrive.
//!
//! | `type` | what | defaults from |
//! | --- | --- | --- |
//! | `shared-prefix` ([`SharedPrefix`]) | groups of prompts sharing a system prompt | SGLang `bench_serving` generated-shared-prefix |
//! | `few-shot` ([`FewShot`]) | one shared set of worked examples, a question each, 1 output token | MMLU 5-shot; token counts assumed |
//! | `multi-turn` ([`MultiTurn`]) | chats whose turns extend the previous turn | SGLang `benchmark/multi_turn_chat` |
//! | `tree-of-thought` ([`TreeOfThought`]) | calls forked into branches level by level | SGLang tree-of-thought shape; counts assumed |
//! | `agent-chain` ([`AgentChain`]) | ReAct chains over a growing history | ReAct shape; counts assumed |
//! | `trace` ([`Trace`]) | a Splitwise (Azure 2023) or Mooncake trace file | `data/serving/` |
//!
//! Every workload is a pure function of its parameters, the seed and the arrivals: call ids
//! are 0, 1, ... in creation order, and span ids are shared exactly where text is shared
//! (generated spans count up from 0; a trace's block ids sit at [`TRACE_SPAN_BASE`] and up).
//!
//! ```
//! use serving::workload::{Arrivals, WorkloadSpec};
//!
//! let spec: WorkloadSpec = serde_json::from_str(
//!     r#"{"type": "shared-prefix", "groups": 2, "prompts_per_group": 3}"#,
//! ).unwrap();
//! let calls = spec.calls(7, &Arrivals::Offline).unwrap();
//! assert_eq!(calls.len(), 6);
//! let prompts: Vec<_> = calls.iter().map(|c| c.prompt.clone()).collect();
//! // Two 2,048-token system prompts and six 128-token questions.
//! assert_eq!(serving::optimal_reuse(&prompts).computed_tokens, 2 * 2048 + 6 * 128);
//! ```

mod agent_chain;
mod builder;
mod few_shot;
mod mooncake;
mod multi_turn;
mod shared_prefix;
mod splitwise;
mod trace;
mod tree_of_thought;

use serde::{Deserialize, Serialize};
use simcore::{InputError, SimTime};

use crate::Tokens;

pub use agent_chain::AgentChain;
pub use builder::{CallBuilder, MAX_CALLS, TRACE_SPAN_BASE};
pub use few_shot::FewShot;
pub use mooncake::BLOCK_TOKENS;
pub use multi_turn::{MultiTurn, OutputLength};
pub use shared_prefix::SharedPrefix;
pub use trace::{Trace, TraceFormat, TraceRequest};
pub use tree_of_thought::TreeOfThought;

/// One LLM call of a workload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    /// Unique id (the request id the server sees).
    pub id: u64,
    /// The program (chat, tree, agent, prompt group) the call belongs to.
    pub program: u64,
    /// The prompt.
    pub prompt: Tokens,
    /// Tokens the call generates (at least 1).
    pub output_tokens: u32,
    /// Span of its output tokens, so later calls can include them.
    pub output_span: u64,
    /// Calls that must complete before this one is sent.
    pub after: Vec<u64>,
    /// For a root: its arrival time; otherwise the think time after the last of `after`
    /// completes.
    pub delay: SimTime,
}

/// When the roots of a workload arrive.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Arrivals {
    /// Every root at time 0 (the SGLang paper's throughput experiment).
    Offline,
    /// Roots (programs) arrive as a Poisson process of this rate per second.
    Poisson {
        /// Programs per second.
        rate: f64,
    },
    /// A trace's own timestamps, divided by `speedup` (1 = as recorded); generators without
    /// timestamps fall back to offline.
    Trace {
        /// Time compression of the recorded arrivals.
        speedup: f64,
    },
}

/// The `workload.requests` entry of a serving config: which workload, with its parameters
/// (every one has a default except a trace's `format` and `path`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum WorkloadSpec {
    /// SGLang's generated shared-prefix benchmark.
    SharedPrefix(SharedPrefix),
    /// MMLU-style few-shot prompts.
    FewShot(FewShot),
    /// Multi-turn chats.
    MultiTurn(MultiTurn),
    /// Tree-of-thought programs.
    TreeOfThought(TreeOfThought),
    /// ReAct-style agent chains.
    AgentChain(AgentChain),
    /// Replay of a trace file.
    Trace(Trace),
}

impl Default for WorkloadSpec {
    fn default() -> Self {
        WorkloadSpec::SharedPrefix(SharedPrefix::default())
    }
}

impl WorkloadSpec {
    /// The `type` name (`shared-prefix`, `trace`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            WorkloadSpec::SharedPrefix(_) => "shared-prefix",
            WorkloadSpec::FewShot(_) => "few-shot",
            WorkloadSpec::MultiTurn(_) => "multi-turn",
            WorkloadSpec::TreeOfThought(_) => "tree-of-thought",
            WorkloadSpec::AgentChain(_) => "agent-chain",
            WorkloadSpec::Trace(_) => "trace",
        }
    }

    /// Checks the parameters; errors name `workload.requests.<field>`. A trace's file is
    /// only read by [`WorkloadSpec::calls`].
    pub fn validate(&self) -> Result<(), InputError> {
        match self {
            WorkloadSpec::SharedPrefix(w) => w.validate(),
            WorkloadSpec::FewShot(w) => w.validate(),
            WorkloadSpec::MultiTurn(w) => w.validate(),
            WorkloadSpec::TreeOfThought(w) => w.validate(),
            WorkloadSpec::AgentChain(w) => w.validate(),
            WorkloadSpec::Trace(w) => w.validate(),
        }
    }

    /// The calls of this workload for run seed `seed`, the roots timed by `arrivals`
    /// (generators have no timestamps: `Trace` arrivals time them as `Offline`). The same
    /// spec, seed and arrivals give the same calls.
    pub fn calls(&self, seed: u64, arrivals: &Arrivals) -> Result<Vec<Call>, InputError> {
        self.validate()?;
        let mut b = CallBuilder::new();
        match self {
            WorkloadSpec::SharedPrefix(w) => w.generate(seed, &mut b),
            WorkloadSpec::FewShot(w) => w.generate(&mut b),
            WorkloadSpec::MultiTurn(w) => w.generate(seed, &mut b),
            WorkloadSpec::TreeOfThought(w) => w.generate(&mut b),
            WorkloadSpec::AgentChain(w) => w.generate(&mut b),
            WorkloadSpec::Trace(w) => return w.calls(seed, arrivals),
        }
        b.finish(seed, arrivals)
    }
}
