//! The PC algorithm (Spirtes, Glymour and Scheines, *Causation, Prediction, and Search*,
//! 2000), in its order-independent "stable" form (Colombo and Maathuis, "Order-independent
//! constraint-based causal structure learning", JMLR 15, 2014, algorithm 4.1), with the
//! conditional-independence test behind the [`CiTest`] trait.
//!
//! 1. **Skeleton.** Start from the complete undirected graph. At level l = 0, 1, 2, ...:
//!    freeze every node's adjacency set a(x) (the PC-stable step: removals during a level do
//!    not shrink the sets other tests of that level draw from); then for each ordered
//!    adjacent pair (x, y) with |a(x) \ {y}| >= l, test x ⟂ y | S for every S ⊆ a(x) \ {y}
//!    of size l, in lexicographic order, and at the first p-value > alpha remove x - y and
//!    record S as the separating set of {x, y}. Stop when no pair has enough neighbours (or
//!    at `max_depth`). At level 0 each unordered pair is tested once (both orders would run
//!    the same test).
//! 2. **V-structures.** For each unshielded triple x - z - y (x, y not adjacent; triples in
//!    the order (z, x, y), x < y), if z is not in sepset(x, y), orient x -> z <- y.
//!    *Conflicts* (two v-structures that disagree on an edge, possible with finite-sample
//!    test errors): an edge already oriented is never re-oriented, and a triple with an edge
//!    pointing out of z (z -> x or z -> y) is skipped entirely. This gives priority to the
//!    existing orientation, as causal-learn's default `uc_priority = 2` ("prioritize
//!    existing colliders") does; unlike pcalg's `solve.confl`, no bidirected edge is made.
//! 3. **Meek's rules** R1-R4 ([`crate::meek`]).
//!
//! Same test results give the same graph: every loop runs in index order.

use std::collections::BTreeMap;

use crate::ci::CiTest;
use crate::error::RcaError;
use crate::graph::{CausalGraph, Mark};
use crate::meek::{MeekStats, apply_meek_rules};

/// PC's parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct PcOptions {
    /// Significance level: an edge is removed when a test's p-value exceeds it (causal-learn's
    /// default 0.05).
    pub alpha: f64,
    /// Largest conditioning-set size tried (`None`: no limit, as causal-learn's default -1).
    pub max_depth: Option<usize>,
    /// Whether to orient edges (v-structures and Meek's rules); `false` returns the
    /// undirected skeleton.
    pub orient: bool,
}

impl Default for PcOptions {
    fn default() -> Self {
        PcOptions { alpha: 0.05, max_depth: None, orient: true }
    }
}

/// What PC found.
#[derive(Debug, Clone, PartialEq)]
pub struct PcResult {
    /// The estimated CPDAG (or skeleton, without orientation).
    pub graph: CausalGraph,
    /// The separating set of each removed edge, keyed by `(min, max)`.
    pub sepsets: BTreeMap<(usize, usize), Vec<usize>>,
    /// Number of conditional-independence tests run.
    pub tests: usize,
    /// The largest conditioning-set size tested.
    pub max_level: usize,
    /// V-structures oriented (triples applied).
    pub v_structures: usize,
    /// Edges oriented by each Meek rule.
    pub meek: MeekStats,
}

impl PcResult {
    /// The separating set recorded when `a - b` was removed, if it was.
    pub fn sepset(&self, a: usize, b: usize) -> Option<&[usize]> {
        self.sepsets.get(&(a.min(b), a.max(b))).map(Vec::as_slice)
    }
}

/// Runs PC-stable with `test` (over all `test.n_vars()` variables).
pub fn pc(test: &mut dyn CiTest, options: &PcOptions) -> Result<PcResult, RcaError> {
    if !(options.alpha > 0.0 && options.alpha < 1.0) {
        return Err(RcaError::InvalidParameter {
            name: "alpha",
            value: options.alpha.to_string(),
            expected: "a significance level in (0, 1)",
        });
    }
    let n = test.n_vars();
    let mut g = CausalGraph::complete_undirected(n);
    let mut sepsets = BTreeMap::new();
    let mut tests = 0;
    let mut level = 0;
    let mut max_level = 0;
    let mut subset = Vec::new();
    let mut idx = Vec::new();
    loop {
        if options.max_depth.is_some_and(|d| level > d) {
            break;
        }
        // PC-stable: adjacency sets frozen for the whole level.
        let frozen: Vec<Vec<usize>> = (0..n).map(|x| g.adjacent(x)).collect();
        let mut any = false;
        for (x, frozen_x) in frozen.iter().enumerate() {
            for &y in frozen_x {
                if level == 0 && y < x {
                    continue;
                }
                if !g.is_adjacent(x, y) {
                    continue;
                }
                let cand: Vec<usize> = frozen_x.iter().copied().filter(|&v| v != y).collect();
                if cand.len() < level {
                    continue;
                }
                any = true;
                max_level = level;
                // Subsets of `cand` of size `level`, lexicographic, by index vector.
                idx.clear();
                idx.extend(0..level);
                loop {
                    subset.clear();
                    subset.extend(idx.iter().map(|&i| cand[i]));
                    tests += 1;
                    let p = test.p_value(x, y, &subset)?;
                    if p > options.alpha {
                        g.remove_edge(x, y)?;
                        sepsets.insert((x.min(y), x.max(y)), subset.clone());
                        break;
                    }
                    if !next_combination(&mut idx, cand.len()) {
                        break;
                    }
                }
            }
        }
        if !any {
            break;
        }
        level += 1;
    }

    let mut v_structures = 0;
    let mut meek = MeekStats::default();
    if options.orient {
        v_structures = orient_v_structures(&mut g, &sepsets);
        meek = apply_meek_rules(&mut g);
    }
    Ok(PcResult { graph: g, sepsets, tests, max_level, v_structures, meek })
}

/// Advances `idx` (strictly increasing indices into `0..len`) to the next combination in
/// lexicographic order; `false` after the last one.
fn next_combination(idx: &mut [usize], len: usize) -> bool {
    let k = idx.len();
    let mut i = k;
    while i > 0 {
        i -= 1;
        if idx[i] < len - k + i {
            idx[i] += 1;
            for j in (i + 1)..k {
                idx[j] = idx[j - 1] + 1;
            }
            return true;
        }
    }
    false
}

/// Orients x -> z <- y for each unshielded triple with z outside sepset(x, y), with the
/// conflict rule of the module docs; returns how many triples were applied.
pub fn orient_v_structures(
    g: &mut CausalGraph,
    sepsets: &BTreeMap<(usize, usize), Vec<usize>>,
) -> usize {
    let n = g.n_nodes();
    let mut applied = 0;
    for z in 0..n {
        let adj = g.adjacent(z);
        for (i, &x) in adj.iter().enumerate() {
            for &y in &adj[i + 1..] {
                if g.is_adjacent(x, y) {
                    continue;
                }
                // Non-adjacent pairs were all separated by PC; a pair without a recorded
                // set (a graph built elsewhere) is treated as separated by the empty set.
                let in_sepset = sepsets.get(&(x, y)).is_some_and(|s| s.contains(&z));
                if in_sepset {
                    continue;
                }
                // Priority to existing orientations: skip if an edge points out of z.
                if g.mark(z, x) == Mark::Out || g.mark(z, y) == Mark::Out {
                    continue;
                }
                if g.mark(x, z) == Mark::Out && g.mark(y, z) == Mark::Out {
                    continue;
                }
                // Both in range and distinct: they came from the adjacency lists.
                let _ = g.add_directed(x, z);
                let _ = g.add_directed(y, z);
                applied += 1;
            }
        }
    }
    applied
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::DataMatrix;
    use crate::fisher_z::FisherZ;
    use simcore::RandomStreams;

    /// A CI oracle from d-separation in a known DAG (small graphs: path enumeration).
    struct Oracle {
        dag: CausalGraph,
    }

    impl Oracle {
        /// d-separation by the moralised ancestral graph criterion (Lauritzen 1990).
        fn d_separated(&self, x: usize, y: usize, s: &[usize]) -> bool {
            let n = self.dag.n_nodes();
            let mut keep = vec![false; n];
            for v in [x, y].iter().chain(s) {
                keep[*v] = true;
                for a in self.dag.ancestors(*v) {
                    keep[a] = true;
                }
            }
            let mut adj = vec![vec![false; n]; n];
            for v in (0..n).filter(|&v| keep[v]) {
                let ps = self.dag.parents(v);
                for &p in &ps {
                    adj[p][v] = true;
                    adj[v][p] = true;
                }
                for &p in &ps {
                    for &q in &ps {
                        if p != q {
                            adj[p][q] = true;
                        }
                    }
                }
            }
            let mut seen = vec![false; n];
            let mut stack = vec![x];
            seen[x] = true;
            while let Some(u) = stack.pop() {
                if u == y {
                    return false;
                }
                for w in 0..n {
                    if adj[u][w] && keep[w] && !seen[w] && !s.contains(&w) {
                        seen[w] = true;
                        stack.push(w);
                    }
                }
            }
            true
        }
    }

    impl CiTest for Oracle {
        fn n_vars(&self) -> usize {
            self.dag.n_nodes()
        }
        fn p_value(&mut self, x: usize, y: usize, s: &[usize]) -> Result<f64, RcaError> {
            Ok(if self.d_separated(x, y, s) { 1.0 } else { 0.0 })
        }
    }

    proptest::proptest! {
        /// With a perfect (d-separation) test, PC returns the true skeleton, and every edge
        /// it orients is oriented as in the true DAG (a CPDAG's directed edges are compelled).
        #[test]
        fn oracle_pc_is_sound(bits in proptest::collection::vec(proptest::bool::weighted(0.35), 21),
                              n in 2usize..=7) {
            let mut edges = Vec::new();
            let mut k = 0;
            for a in 0..n {
                for b in (a + 1)..n {
                    if bits[k] {
                        edges.push((a, b));
                    }
                    k += 1;
                }
            }
            let dag = CausalGraph::from_directed_edges(n, &edges).unwrap();
            let r = pc(&mut Oracle { dag: dag.clone() }, &PcOptions::default()).unwrap();
            for a in 0..n {
                for b in 0..n {
                    if a == b {
                        continue;
                    }
                    proptest::prop_assert_eq!(r.graph.is_adjacent(a, b), dag.is_adjacent(a, b));
                    if r.graph.has_directed(a, b) {
                        proptest::prop_assert!(dag.has_directed(a, b), "{a} -> {b} not in the DAG");
                    }
                }
            }
        }
    }

    #[test]
    fn combinations_are_lexicographic() {
        let mut idx = vec![0, 1];
        let mut all = vec![idx.clone()];
        while next_combination(&mut idx, 4) {
            all.push(idx.clone());
        }
        assert_eq!(all, vec![[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3]]);
        let mut empty: Vec<usize> = vec![];
        assert!(!next_combination(&mut empty, 3));
    }

    #[test]
    fn oracle_pc_recovers_the_textbook_cpdag() {
        // The sprinkler-like DAG: 0 -> 1, 0 -> 2, 1 -> 3, 2 -> 3, 3 -> 4. Its CPDAG keeps
        // 0 - 1 and 0 - 2 undirected and orients 1 -> 3 <- 2 (v-structure) and 3 -> 4 (R1).
        let dag =
            CausalGraph::from_directed_edges(5, &[(0, 1), (0, 2), (1, 3), (2, 3), (3, 4)]).unwrap();
        let r = pc(&mut Oracle { dag }, &PcOptions::default()).unwrap();
        let g = &r.graph;
        assert!(g.has_undirected(0, 1) && g.has_undirected(0, 2));
        assert!(g.has_directed(1, 3) && g.has_directed(2, 3) && g.has_directed(3, 4));
        assert_eq!(g.n_edges(), 5);
        assert_eq!(r.sepset(1, 2), Some(&[0][..]));
        assert_eq!(r.sepset(0, 3), Some(&[1, 2][..]));
        assert_eq!((r.v_structures, r.meek.r1), (1, 1));
    }

    #[test]
    fn oracle_pc_on_a_chain_and_a_collider() {
        // 0 -> 1 -> 2: no v-structure, all undirected.
        let dag = CausalGraph::from_directed_edges(3, &[(0, 1), (1, 2)]).unwrap();
        let r = pc(&mut Oracle { dag }, &PcOptions::default()).unwrap();
        assert!(r.graph.has_undirected(0, 1) && r.graph.has_undirected(1, 2));
        // 0 -> 2 <- 1: the collider is found.
        let dag = CausalGraph::from_directed_edges(3, &[(0, 2), (1, 2)]).unwrap();
        let r = pc(&mut Oracle { dag }, &PcOptions::default()).unwrap();
        assert!(r.graph.has_directed(0, 2) && r.graph.has_directed(1, 2));
        assert_eq!(r.sepset(0, 1), Some(&[][..]));
    }

    #[test]
    fn conflicting_v_structures_keep_the_first_orientation() {
        // Skeleton 0 - 1 - 2 - 3 with empty sepsets: triples (1: 0,2) and (2: 1,3) both ask
        // for colliders and disagree on 1 - 2. Triple at z = 1 comes first: 0 -> 1 <- 2; the
        // triple at z = 2 then has 2 -> 1 pointing out of z and is skipped.
        let mut g = CausalGraph::empty(4);
        for (a, b) in [(0, 1), (1, 2), (2, 3)] {
            g.add_undirected(a, b).unwrap();
        }
        let mut seps = BTreeMap::new();
        for k in [(0, 2), (1, 3), (0, 3)] {
            seps.insert(k, vec![]);
        }
        assert_eq!(orient_v_structures(&mut g, &seps), 1);
        assert!(g.has_directed(0, 1) && g.has_directed(2, 1));
        assert!(g.has_undirected(2, 3));
    }

    fn linear_gaussian(n: usize, seed: u64) -> (CausalGraph, DataMatrix) {
        // 7 nodes: 0 -> 2, 1 -> 2, 2 -> 3, 3 -> 4, 2 -> 5, 5 -> 6, 4 -> 6.
        let edges = [
            (0, 2, 0.8),
            (1, 2, -0.7),
            (2, 3, 0.9),
            (3, 4, 0.8),
            (2, 5, -0.6),
            (5, 6, 0.7),
            (4, 6, 0.75),
        ];
        let dag = CausalGraph::from_directed_edges(
            7,
            &edges.iter().map(|&(a, b, _)| (a, b)).collect::<Vec<_>>(),
        )
        .unwrap();
        let mut rng = RandomStreams::new(seed).stream("rca/test/sem");
        let mut cols = vec![vec![0.0; n]; 7];
        for t in 0..n {
            let mut row = [0.0; 7];
            for v in 0..7 {
                row[v] = rng.normal();
                for &(a, b, w) in &edges {
                    if b == v {
                        row[v] += w * row[a];
                    }
                }
            }
            for (col, x) in cols.iter_mut().zip(row) {
                col[t] = x;
            }
        }
        (dag, DataMatrix::from_columns(cols).unwrap())
    }

    #[test]
    fn pc_recovers_the_skeleton_of_a_linear_gaussian_dag() {
        let (dag, data) = linear_gaussian(5000, 11);
        let mut test = FisherZ::new(&data).unwrap();
        let r = pc(&mut test, &PcOptions::default()).unwrap();
        for a in 0..7 {
            for b in (a + 1)..7 {
                assert_eq!(r.graph.is_adjacent(a, b), dag.is_adjacent(a, b), "pair {a}-{b}");
            }
        }
        // The v-structures 0 -> 2 <- 1 and 4 -> 6 <- 5 are found, and Meek's R1 orients the
        // rest away from them.
        assert!(r.graph.has_directed(0, 2) && r.graph.has_directed(1, 2));
        assert!(r.graph.has_directed(4, 6) && r.graph.has_directed(5, 6));
        assert!(r.graph.has_directed(2, 3) && r.graph.has_directed(2, 5));
    }

    #[test]
    fn pc_is_deterministic_and_validates_alpha() {
        let (_, data) = linear_gaussian(500, 3);
        let run = || pc(&mut FisherZ::new(&data).unwrap(), &PcOptions::default()).unwrap();
        assert_eq!(run(), run());
        let bad = PcOptions { alpha: 1.5, ..PcOptions::default() };
        assert!(pc(&mut FisherZ::new(&data).unwrap(), &bad).is_err());
        let skel = PcOptions { orient: false, max_depth: Some(0), ..PcOptions::default() };
        let r = pc(&mut FisherZ::new(&data).unwrap(), &skel).unwrap();
        assert_eq!(r.graph.n_undirected(), r.graph.n_edges());
        assert_eq!(r.max_level, 0);
    }

    #[test]
    fn a_test_error_is_reported_not_panicked() {
        // Two identical columns: the test conditioning on one of them is singular.
        let a: Vec<f64> = (0..50).map(|t| (t as f64).sin()).collect();
        let b: Vec<f64> = (0..50).map(|t| (t as f64 * 0.3).cos()).collect();
        let c: Vec<f64> = a.iter().zip(&b).map(|(x, y)| x + y).collect();
        let data = DataMatrix::from_columns(vec![a.clone(), b, c, a]).unwrap();
        let mut t = FisherZ::new(&data).unwrap();
        assert!(pc(&mut t, &PcOptions::default()).is_err());
    }
}
