//! `oracle`: dependencies mined from the whole trace. Agent `a`'s step `s` reads the world at
//! time `s`; it waits only for the agents that are actually within perception range
//! (`radius_p`) of it at that time, until they have reached time `s`. No cluster, no
//! worker limit: the least any engine that keeps the world unchanged must wait.

use crate::engine::{Ctx, Engine, Watchers};
use crate::neighbors::Neighbors;

/// The oracle engine.
#[derive(Debug)]
pub struct Oracle {
    nb: Neighbors,
    /// Agents waiting for each agent to commit.
    watch: Watchers,
    started: bool,
    /// Agents put in `launch` by the current call.
    launched: Vec<bool>,
}

impl Oracle {
    /// The oracle over the index of the trace for `radius_p`.
    pub fn new(nb: Neighbors, agents: u32) -> Self {
        Self {
            nb,
            watch: Watchers::new(agents),
            started: false,
            launched: vec![false; agents as usize],
        }
    }

    fn consider(&mut self, ctx: &Ctx<'_>, a: u32, launch: &mut Vec<Vec<u32>>) {
        let s = ctx.done[a as usize];
        if ctx.running[a as usize] || self.launched[a as usize] || s >= ctx.trace.steps() {
            return;
        }
        match self.nb.find(ctx.trace, s, a, |b| ctx.done[b as usize] < s) {
            Some(b) => self.watch.wait(a, b),
            None => {
                self.launched[a as usize] = true;
                launch.push(vec![a]);
            }
        }
    }
}

impl Engine for Oracle {
    fn name(&self) -> &'static str {
        "oracle"
    }

    fn next(&mut self, ctx: &Ctx<'_>, committed: &[u32], launch: &mut Vec<Vec<u32>>) {
        let from = launch.len();
        self.decide(ctx, committed, launch);
        for c in &launch[from..] {
            self.launched[c[0] as usize] = false;
        }
    }
}

impl Oracle {
    fn decide(&mut self, ctx: &Ctx<'_>, committed: &[u32], launch: &mut Vec<Vec<u32>>) {
        if !self.started {
            self.started = true;
            for a in 0..ctx.trace.agents() {
                self.consider(ctx, a, launch);
            }
            return;
        }
        for &c in committed {
            self.consider(ctx, c, launch);
            let woken = self.watch.wake(c);
            for &a in &woken {
                self.consider(ctx, a, launch);
            }
            self.watch.recycle(woken);
        }
    }
}
