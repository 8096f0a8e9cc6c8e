//! Who is within a radius of whom at each time of a trace: a grid index per time, so the
//! oracle's dependencies and the distance-invariant check cost O(neighbours), not O(agents).
//!
//! At each time the agents are sorted by the cell (`cell x cell` tiles, `cell` = the radius)
//! they stand in; the agents within `radius` of a tile lie in the 3 x 3 cells around it, and
//! each row of three cells is one contiguous range of the sorted list.

use crate::trace::AgentTrace;
use crate::world::Pos;

/// The per-time index for one radius.
#[derive(Clone, Debug)]
pub struct Neighbors {
    radius: u32,
    cell: u32,
    cols: u32,
    agents: usize,
    /// `(steps + 1) x agents` entries `(cell key, agent)`, sorted within each time.
    sorted: Vec<(u32, u32)>,
}

impl Neighbors {
    /// The index of `trace` for `radius` tiles.
    pub fn new(trace: &AgentTrace, radius: u32) -> Self {
        let cell = radius.max(1);
        let cols = u32::from(trace.width).div_ceil(cell) + 1;
        let n = trace.agents() as usize;
        let mut sorted = Vec::with_capacity((trace.steps() as usize + 1) * n);
        for t in 0..=trace.steps() {
            let start = sorted.len();
            for (a, p) in trace.positions_at(t).iter().enumerate() {
                sorted.push((key(*p, cell, cols), a as u32));
            }
            sorted[start..].sort_unstable();
        }
        Self { radius, cell, cols, agents: n, sorted }
    }

    /// The radius.
    pub fn radius(&self) -> u32 {
        self.radius
    }

    /// Calls `f(b)` for every agent `b != a` within the radius of `a` at time `t`
    /// (positions from `trace`, which must be the indexed one). Stops early and returns
    /// `Some(b)` when `f` returns `true`.
    pub fn find(
        &self,
        trace: &AgentTrace,
        t: u32,
        a: u32,
        mut f: impl FnMut(u32) -> bool,
    ) -> Option<u32> {
        let p = trace.pos(t, a);
        let at = &self.sorted[t as usize * self.agents..(t as usize + 1) * self.agents];
        let (cx, cy) = (u32::from(p.x) / self.cell, u32::from(p.y) / self.cell);
        for y in cy.saturating_sub(1)..=cy + 1 {
            let lo = y * self.cols + cx.saturating_sub(1);
            let hi = y * self.cols + cx + 1;
            let from = at.partition_point(|e| e.0 < lo);
            for &(k, b) in &at[from..] {
                if k > hi {
                    break;
                }
                if b != a && trace.pos(t, b).dist(p) <= self.radius && f(b) {
                    return Some(b);
                }
            }
        }
        None
    }
}

impl Neighbors {
    /// Mean over agent-steps (times `0..steps`) of the other agents within the radius.
    pub fn mean_neighbors(&self, trace: &AgentTrace) -> f64 {
        let steps = trace.steps();
        if steps == 0 || trace.agents() == 0 {
            return 0.0;
        }
        let mut n = 0u64;
        for t in 0..steps {
            for a in 0..trace.agents() {
                self.find(trace, t, a, |_| {
                    n += 1;
                    false
                });
            }
        }
        n as f64 / (f64::from(steps) * f64::from(trace.agents()))
    }
}

fn key(p: Pos, cell: u32, cols: u32) -> u32 {
    (u32::from(p.y) / cell) * cols + u32::from(p.x) / cell
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::TraceBuilder;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn finds_exactly_the_agents_in_range(
            pts in proptest::collection::vec((0u16..40, 0u16..30), 1..40),
            radius in 0u32..7,
        ) {
            let start: Vec<Pos> = pts.iter().map(|&(x, y)| Pos::new(x, y)).collect();
            let t = TraceBuilder::new(40, 30, 10.0, 0, &start).finish();
            let idx = Neighbors::new(&t, radius);
            for a in 0..start.len() as u32 {
                let mut got = Vec::new();
                idx.find(&t, 0, a, |b| { got.push(b); false });
                got.sort_unstable();
                let want: Vec<u32> = (0..start.len() as u32)
                    .filter(|&b| b != a && start[b as usize].dist(start[a as usize]) <= radius)
                    .collect();
                prop_assert_eq!(got, want);
            }
        }
    }
}
