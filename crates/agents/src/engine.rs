//! What a simulation engine decides: which agents start their next step, and together with
//! whom. The [`crate::runner`] does the rest — it issues the LLM calls of every agent-step it
//! is told to start, commits the step when they are all answered, and asks again.
//!
//! A *cluster* is a set of agents at the same step that start together and commit together
//! (AI Metropolis's coupled agents); the lock-step engines start every agent as its own
//! cluster. An agent's step `s` reads the world at time `s` (every agent's position after
//! `s` steps) and commits it by reaching time `s + 1`.

use crate::trace::AgentTrace;

/// What an engine sees when it decides.
#[derive(Clone, Copy, Debug)]
pub struct Ctx<'a> {
    /// The world.
    pub trace: &'a AgentTrace,
    /// Steps each agent has committed (its current time).
    pub done: &'a [u32],
    /// Whether each agent's step is in flight.
    pub running: &'a [bool],
    /// Clusters in flight.
    pub running_clusters: usize,
}

/// A scheduling policy over agent-steps.
pub trait Engine {
    /// Its name in configs.
    fn name(&self) -> &'static str;

    /// Called at the start (with `committed` empty) and whenever steps commit (`committed`:
    /// the agents whose step just committed); appends the clusters to start now to
    /// `launch`. An agent may be launched only at its current step and when not running.
    fn next(&mut self, ctx: &Ctx<'_>, committed: &[u32], launch: &mut Vec<Vec<u32>>);
}

/// Agents waiting on others: `watch[b]` holds the agents that wait for `b`'s next commit.
/// An agent waits on one agent at a time, so each commit wakes exactly its own watchers.
#[derive(Clone, Debug, Default)]
pub struct Watchers {
    watch: Vec<Vec<u32>>,
    woken: Vec<u32>,
}

impl Watchers {
    /// No one waiting, for `agents` agents.
    pub fn new(agents: u32) -> Self {
        Self { watch: vec![Vec::new(); agents as usize], woken: Vec::new() }
    }

    /// `a` waits for `b`'s next commit.
    pub fn wait(&mut self, a: u32, b: u32) {
        self.watch[b as usize].push(a);
    }

    /// The agents that waited for `b`, no longer waiting (valid until the next call).
    pub fn wake(&mut self, b: u32) -> Vec<u32> {
        let mut w = std::mem::take(&mut self.watch[b as usize]);
        let mut out = std::mem::take(&mut self.woken);
        out.clear();
        out.append(&mut w);
        self.watch[b as usize] = w;
        out
    }

    /// Gives back the list [`Watchers::wake`] returned, to reuse its allocation.
    pub fn recycle(&mut self, list: Vec<u32>) {
        self.woken = list;
    }
}
