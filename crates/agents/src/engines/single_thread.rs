//! `single-thread`: one agent-step at a time, step by step and agent by agent (Generative
//! Agents' own loop): agent 0's step 0, agent 1's step 0, ..., agent 0's step 1, ...

use crate::engine::{Ctx, Engine};

/// The sequential engine.
#[derive(Clone, Debug, Default)]
pub struct SingleThread {
    /// Next agent-step to start, numbered `step x agents + agent`.
    next: u64,
}

impl Engine for SingleThread {
    fn name(&self) -> &'static str {
        "single-thread"
    }

    fn next(&mut self, ctx: &Ctx<'_>, _committed: &[u32], launch: &mut Vec<Vec<u32>>) {
        let n = u64::from(ctx.trace.agents());
        if ctx.running_clusters > 0 || self.next >= u64::from(ctx.trace.steps()) * n {
            return;
        }
        launch.push(vec![(self.next % n) as u32]);
        self.next += 1;
    }
}
