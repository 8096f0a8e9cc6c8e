//! Meek's orientation rules (C. Meek, "Causal inference and causal explanation with
//! background knowledge", UAI 1995): orient the undirected edges of a PDAG that every DAG
//! of its Markov equivalence class orients the same way. For an undirected edge `a - b`,
//! orient it `a -> b` when:
//!
//! - **R1** there is `c -> a` with `c` and `b` not adjacent (else `c -> a - b` would be a new
//!   v-structure or `a <- b` a collider);
//! - **R2** there is a chain `a -> c -> b` (else `a <- b` closes a directed cycle);
//! - **R3** there are `c`, `d` with `a - c`, `a - d`, `c -> b`, `d -> b` and `c`, `d` not
//!   adjacent (else `b -> a` plus R2 would create a cycle through `c` or `d`);
//! - **R4** there are `c`, `d` with `a - c`, `c -> d`, `d -> b`, `c` and `b` not adjacent and
//!   `a` adjacent to `d` (Meek's rule 4; it only fires with background knowledge, since R1-R3
//!   are complete for a pattern whose only orientations are v-structures, Meek 1995 thm. 3).
//!
//! The rules are applied until none fires. Each pass scans undirected edges in index order
//! (both orientations of each, R1 to R4 in turn), so the result is deterministic; and since
//! a rule only orients an undirected edge, no orientation is ever overwritten.

use crate::graph::{CausalGraph, Mark};

/// How many edges each rule oriented.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MeekStats {
    /// Edges oriented by R1.
    pub r1: usize,
    /// Edges oriented by R2.
    pub r2: usize,
    /// Edges oriented by R3.
    pub r3: usize,
    /// Edges oriented by R4.
    pub r4: usize,
}

impl MeekStats {
    /// Edges oriented in total.
    pub fn total(&self) -> usize {
        self.r1 + self.r2 + self.r3 + self.r4
    }
}

/// Which rule (1..=4) orients the undirected edge `a - b` as `a -> b`, if any.
fn rule_for(g: &CausalGraph, a: usize, b: usize) -> Option<u8> {
    let n = g.n_nodes();
    let mark = |x: usize, y: usize| g.mark(x, y);
    // R1: c -> a, c not adjacent to b.
    if (0..n).any(|c| mark(c, a) == Mark::Out && c != b && !g.is_adjacent(c, b)) {
        return Some(1);
    }
    // R2: a -> c -> b.
    if (0..n).any(|c| mark(a, c) == Mark::Out && mark(c, b) == Mark::Out) {
        return Some(2);
    }
    // R3: a - c, a - d, c -> b, d -> b, c and d not adjacent.
    let cs: Vec<usize> =
        (0..n).filter(|&c| mark(a, c) == Mark::Undirected && mark(c, b) == Mark::Out).collect();
    for (i, &c) in cs.iter().enumerate() {
        if cs[i + 1..].iter().any(|&d| !g.is_adjacent(c, d)) {
            return Some(3);
        }
    }
    // R4: a - c, c -> d, d -> b, c and b not adjacent, a adjacent to d.
    for c in (0..n).filter(|&c| c != b && mark(a, c) == Mark::Undirected && !g.is_adjacent(c, b)) {
        if (0..n).any(|d| mark(c, d) == Mark::Out && mark(d, b) == Mark::Out && g.is_adjacent(a, d))
        {
            return Some(4);
        }
    }
    None
}

/// Applies R1-R4 to `g` until no rule fires; returns how many edges each rule oriented.
pub fn apply_meek_rules(g: &mut CausalGraph) -> MeekStats {
    let n = g.n_nodes();
    let mut stats = MeekStats::default();
    loop {
        let mut changed = false;
        for a in 0..n {
            for b in 0..n {
                if g.mark(a, b) != Mark::Undirected {
                    continue;
                }
                if let Some(rule) = rule_for(g, a, b) {
                    // In range and distinct: `mark` returned an edge.
                    let _ = g.add_directed(a, b);
                    match rule {
                        1 => stats.r1 += 1,
                        2 => stats.r2 += 1,
                        3 => stats.r3 += 1,
                        _ => stats.r4 += 1,
                    }
                    changed = true;
                }
            }
        }
        if !changed {
            return stats;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(n: usize, directed: &[(usize, usize)], undirected: &[(usize, usize)]) -> CausalGraph {
        let mut g = CausalGraph::empty(n);
        for &(a, b) in directed {
            g.add_directed(a, b).unwrap();
        }
        for &(a, b) in undirected {
            g.add_undirected(a, b).unwrap();
        }
        g
    }

    #[test]
    fn r1_propagates_away_from_a_collider() {
        // c -> a - b, c and b not adjacent: a -> b.
        let (c, a, b) = (0, 1, 2);
        let mut g = graph(3, &[(c, a)], &[(a, b)]);
        let s = apply_meek_rules(&mut g);
        assert!(g.has_directed(a, b));
        assert_eq!(s, MeekStats { r1: 1, ..Default::default() });
    }

    #[test]
    fn r2_avoids_a_cycle() {
        // a -> c -> b and a - b: a -> b.
        let (a, b, c) = (0, 1, 2);
        let mut g = graph(3, &[(a, c), (c, b)], &[(a, b)]);
        let s = apply_meek_rules(&mut g);
        assert!(g.has_directed(a, b));
        assert_eq!(s, MeekStats { r2: 1, ..Default::default() });
    }

    #[test]
    fn r3_orients_into_the_double_collider() {
        // a - c, a - d, a - b, c -> b <- d, c and d not adjacent: a -> b.
        let (a, b, c, d) = (0, 1, 2, 3);
        let mut g = graph(4, &[(c, b), (d, b)], &[(a, b), (a, c), (a, d)]);
        let s = apply_meek_rules(&mut g);
        assert!(g.has_directed(a, b));
        assert_eq!(s.r3, 1);
        // a - c and a - d stay undirected: nothing forces them.
        assert!(g.has_undirected(a, c) && g.has_undirected(a, d));
        assert_eq!(s.total(), 1);
    }

    #[test]
    fn r4_orients_along_the_chain() {
        // a - b, a - c, a - d, c -> d -> b, c and b not adjacent: a -> b.
        let (a, b, c, d) = (0, 1, 2, 3);
        let mut g = graph(4, &[(c, d), (d, b)], &[(a, b), (a, c), (a, d)]);
        let s = apply_meek_rules(&mut g);
        assert!(g.has_directed(a, b));
        assert_eq!(s.r4, 1);
        assert_eq!((s.r1, s.r3), (0, 0));
    }

    #[test]
    fn nothing_fires_on_an_undirected_chain_or_a_shielded_case() {
        let mut g = graph(3, &[], &[(0, 1), (1, 2)]);
        assert_eq!(apply_meek_rules(&mut g).total(), 0);
        // c -> a - b with c adjacent to b: R1 does not apply.
        let mut g = graph(3, &[(0, 1)], &[(1, 2), (0, 2)]);
        let s = apply_meek_rules(&mut g);
        assert_eq!(s.r1, 0);
        assert!(g.has_undirected(1, 2));
    }

    #[test]
    fn rules_chain_through_a_long_path() {
        // 0 -> 2 <- 1 collider, then 2 - 3 - 4 - 5: R1 orients the whole tail.
        let mut g = graph(6, &[(0, 2), (1, 2)], &[(2, 3), (3, 4), (4, 5)]);
        let s = apply_meek_rules(&mut g);
        assert!(g.has_directed(2, 3) && g.has_directed(3, 4) && g.has_directed(4, 5));
        assert_eq!(s.r1, 3);
    }
}
