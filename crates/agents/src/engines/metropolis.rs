//! `metropolis`: AI Metropolis's out-of-order execution (Xie et al., MLSys'25), with its
//! conservative rules over positions and steps. With `r_p` the perception radius and `v` the
//! most an agent moves in a step, for agents A and B at steps `S_A`, `S_B` (their current
//! times) and positions `p_A`, `p_B` there:
//! - A and B are *coupled* if `S_A = S_B` and `dist(p_A, p_B) <= r_p + v`: they must
//!   advance together, as one cluster (coupling is taken transitively);
//! - A is *blocked* by B if `S_B < S_A` and `dist(p_A, p_B) <= (S_A - S_B + 1) v + r_p`: B
//!   could still walk into A's view before reaching A's time. Agents ahead never block.
//!
//! The controller keeps a ready queue ordered by step (lowest first, then agent); when a
//! worker is free it takes the first ready agent, gathers its cluster of coupled waiting
//! agents, checks that no member is blocked, and starts the cluster's step (every member's
//! calls at once). A blocked agent waits on the agent that blocks it and is looked at again
//! when that one commits; a commit can only unblock (the blocker's time grows by one and it
//! moves at most `v`, so the right side grows at least as fast as the distance can shrink).
//! `workers` bounds the clusters in flight (0: no bound).
//!
//! Safety: if B comes within `r_p` of A at A's time `S_A`, then at B's earlier time `S_B` it
//! was within `r_p + (S_A - S_B) v`, so A was blocked until B reached `S_A`; the runner
//! checks this invariant on every step start.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::engine::{Ctx, Engine, Watchers};

/// The out-of-order engine.
#[derive(Debug)]
pub struct Metropolis {
    radius_p: u32,
    max_vel: u32,
    workers: usize,
    ready: BinaryHeap<Reverse<(u32, u32)>>,
    watch: Watchers,
    started: bool,
    cluster: Vec<u32>,
    in_cluster: Vec<bool>,
    /// In the ready queue.
    queued: Vec<bool>,
    /// Put in `launch` by the current call (running from then on).
    launched: Vec<bool>,
}

impl Metropolis {
    /// The engine for perception radius `radius_p`, speed `max_vel`, and `workers` clusters
    /// in flight at most (0: any number) over `agents` agents.
    pub fn new(radius_p: u32, max_vel: u32, workers: u32, agents: u32) -> Self {
        Self {
            radius_p,
            max_vel,
            workers: if workers == 0 { usize::MAX } else { workers as usize },
            ready: BinaryHeap::new(),
            watch: Watchers::new(agents),
            started: false,
            cluster: Vec::new(),
            in_cluster: vec![false; agents as usize],
            queued: vec![false; agents as usize],
            launched: vec![false; agents as usize],
        }
    }

    /// An agent (not in the current cluster) that blocks `a`, if any: one behind it in
    /// range, or a running agent at its own step coupled with it.
    fn blocker(&self, ctx: &Ctx<'_>, a: u32) -> Option<u32> {
        let s = ctx.done[a as usize];
        let p = ctx.trace.pos(s, a);
        let (r, v) = (u64::from(self.radius_p), u64::from(self.max_vel));
        (0..ctx.trace.agents()).find(|&b| {
            if b == a || self.in_cluster[b as usize] {
                return false;
            }
            let sb = ctx.done[b as usize];
            if sb > s {
                return false;
            }
            let d = u64::from(p.dist(ctx.trace.pos(sb, b)));
            if sb < s {
                d <= u64::from(s - sb + 1) * v + r
            } else {
                (ctx.running[b as usize] || self.launched[b as usize]) && d <= r + v
            }
        })
    }

    fn consider(&mut self, ctx: &Ctx<'_>, a: u32) {
        let s = ctx.done[a as usize];
        if ctx.running[a as usize] || self.queued[a as usize] || s >= ctx.trace.steps() {
            return;
        }
        match self.blocker(ctx, a) {
            Some(b) => self.watch.wait(a, b),
            None => {
                self.queued[a as usize] = true;
                self.ready.push(Reverse((s, a)));
            }
        }
    }

    /// Gathers `a`'s cluster (waiting agents at its step, coupled transitively) into
    /// `self.cluster`.
    fn gather(&mut self, ctx: &Ctx<'_>, a: u32) {
        let s = ctx.done[a as usize];
        let reach = self.radius_p + self.max_vel;
        self.cluster.clear();
        self.cluster.push(a);
        self.in_cluster[a as usize] = true;
        let mut k = 0;
        while k < self.cluster.len() {
            let m = self.cluster[k];
            let pm = ctx.trace.pos(s, m);
            for b in 0..ctx.trace.agents() {
                if !self.in_cluster[b as usize]
                    && !ctx.running[b as usize]
                    && !self.launched[b as usize]
                    && ctx.done[b as usize] == s
                    && pm.dist(ctx.trace.pos(s, b)) <= reach
                {
                    self.in_cluster[b as usize] = true;
                    self.cluster.push(b);
                }
            }
            k += 1;
        }
    }

    fn dispatch(&mut self, ctx: &Ctx<'_>, launch: &mut Vec<Vec<u32>>) {
        let mut in_flight = ctx.running_clusters;
        while in_flight < self.workers {
            let Some(Reverse((s, a))) = self.ready.pop() else { break };
            self.queued[a as usize] = false;
            // Stale: started with another cluster since.
            if ctx.running[a as usize] || self.launched[a as usize] || ctx.done[a as usize] != s {
                continue;
            }
            self.gather(ctx, a);
            let blocked = self.cluster.iter().find_map(|&m| self.blocker(ctx, m));
            for &m in &self.cluster {
                self.in_cluster[m as usize] = false;
            }
            match blocked {
                Some(b) => self.watch.wait(a, b),
                None => {
                    for &m in &self.cluster {
                        self.launched[m as usize] = true;
                    }
                    launch.push(self.cluster.clone());
                    in_flight += 1;
                }
            }
        }
    }
}

impl Engine for Metropolis {
    fn name(&self) -> &'static str {
        "metropolis"
    }

    fn next(&mut self, ctx: &Ctx<'_>, committed: &[u32], launch: &mut Vec<Vec<u32>>) {
        if !self.started {
            self.started = true;
            for a in 0..ctx.trace.agents() {
                self.consider(ctx, a);
            }
        }
        for &c in committed {
            self.consider(ctx, c);
            let woken = self.watch.wake(c);
            for &a in &woken {
                self.consider(ctx, a);
            }
            self.watch.recycle(woken);
        }
        let from = launch.len();
        self.dispatch(ctx, launch);
        for c in &launch[from..] {
            for &m in c {
                self.launched[m as usize] = false;
            }
        }
    }
}
