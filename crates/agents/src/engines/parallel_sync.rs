//! `parallel-sync`: every agent runs step `s` at once (their LLM calls concurrent), then a
//! global barrier; step `s + 1` starts when the last agent has committed step `s` (the usual
//! parallel version of Generative Agents' loop).

use crate::engine::{Ctx, Engine};

/// The lock-step engine.
#[derive(Clone, Debug, Default)]
pub struct ParallelSync {
    /// Next step to start.
    step: u32,
}

impl Engine for ParallelSync {
    fn name(&self) -> &'static str {
        "parallel-sync"
    }

    fn next(&mut self, ctx: &Ctx<'_>, _committed: &[u32], launch: &mut Vec<Vec<u32>>) {
        if ctx.running_clusters > 0 || self.step >= ctx.trace.steps() {
            return;
        }
        launch.extend((0..ctx.trace.agents()).map(|a| vec![a]));
        self.step += 1;
    }
}
