//! A metric-level causal graph: nodes are metrics (by index, with names), edges are directed
//! (`a -> b`: a causes b) or undirected (`a - b`: adjacent, orientation unknown). This is a
//! partially directed graph (PDAG); the CPDAG that PC returns and the DAG of a generator are
//! both instances.
//!
//! Representation: an `n x n` boolean mark matrix `m`. `a -> b` is `m[a][b] && !m[b][a]`;
//! `a - b` is `m[a][b] && m[b][a]`; no edge is neither. (This is the adjacency-matrix
//! encoding of pcalg's and causal-learn's PDAGs.) Queries are O(n) scans, which is cheap for
//! the few hundred metrics of a microservice system; every list comes out in index order, so
//! anything built on the graph is deterministic.

use crate::error::RcaError;

/// One edge as listed by [`CausalGraph::edges`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Edge {
    /// `from -> to`.
    Directed {
        /// The cause.
        from: usize,
        /// The effect.
        to: usize,
    },
    /// `a - b` with `a < b`.
    Undirected {
        /// The smaller index.
        a: usize,
        /// The larger index.
        b: usize,
    },
}

/// What lies between two nodes, seen from the first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// Not adjacent.
    None,
    /// `a -> b`.
    Out,
    /// `a <- b`.
    In,
    /// `a - b`.
    Undirected,
}

/// A partially directed graph over named metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CausalGraph {
    n: usize,
    names: Vec<String>,
    m: Vec<bool>,
}

impl CausalGraph {
    /// `n` nodes named `x0..`, no edges.
    pub fn empty(n: usize) -> Self {
        CausalGraph { n, names: (0..n).map(|i| format!("x{i}")).collect(), m: vec![false; n * n] }
    }

    /// Nodes with the given names, no edges.
    pub fn with_names(names: Vec<String>) -> Self {
        let n = names.len();
        CausalGraph { n, names, m: vec![false; n * n] }
    }

    /// `n` nodes, every pair joined by an undirected edge (PC's starting point).
    pub fn complete_undirected(n: usize) -> Self {
        let mut g = Self::empty(n);
        for a in 0..n {
            for b in 0..n {
                g.m[a * n + b] = a != b;
            }
        }
        g
    }

    /// A DAG (or any directed graph) from a list of `(from, to)` edges.
    pub fn from_directed_edges(n: usize, edges: &[(usize, usize)]) -> Result<Self, RcaError> {
        let mut g = Self::empty(n);
        for &(a, b) in edges {
            g.add_directed(a, b)?;
        }
        Ok(g)
    }

    /// Number of nodes.
    pub fn n_nodes(&self) -> usize {
        self.n
    }

    /// Node names, by index.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Renames the nodes; the count must match.
    pub fn set_names(&mut self, names: Vec<String>) -> Result<(), RcaError> {
        if names.len() != self.n {
            return Err(RcaError::SizeMismatch {
                what: "names",
                found: names.len(),
                expected: self.n,
            });
        }
        self.names = names;
        Ok(())
    }

    /// The index of the node called `name`.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|s| s == name)
    }

    fn check(&self, a: usize, b: usize) -> Result<(), RcaError> {
        for i in [a, b] {
            if i >= self.n {
                return Err(RcaError::OutOfRange { index: i, len: self.n });
            }
        }
        if a == b {
            return Err(RcaError::SelfLoop(a));
        }
        Ok(())
    }

    #[inline]
    fn mk(&self, a: usize, b: usize) -> bool {
        self.m[a * self.n + b]
    }

    /// Sets the edge between `a` and `b` to `a -> b`, replacing whatever was there.
    pub fn add_directed(&mut self, a: usize, b: usize) -> Result<(), RcaError> {
        self.check(a, b)?;
        self.m[a * self.n + b] = true;
        self.m[b * self.n + a] = false;
        Ok(())
    }

    /// Sets the edge between `a` and `b` to `a - b`, replacing whatever was there.
    pub fn add_undirected(&mut self, a: usize, b: usize) -> Result<(), RcaError> {
        self.check(a, b)?;
        self.m[a * self.n + b] = true;
        self.m[b * self.n + a] = true;
        Ok(())
    }

    /// Removes any edge between `a` and `b`.
    pub fn remove_edge(&mut self, a: usize, b: usize) -> Result<(), RcaError> {
        self.check(a, b)?;
        self.m[a * self.n + b] = false;
        self.m[b * self.n + a] = false;
        Ok(())
    }

    /// The edge between `a` and `b`, seen from `a` (`Mark::None` when out of range).
    pub fn mark(&self, a: usize, b: usize) -> Mark {
        if a >= self.n || b >= self.n || a == b {
            return Mark::None;
        }
        match (self.mk(a, b), self.mk(b, a)) {
            (false, false) => Mark::None,
            (true, false) => Mark::Out,
            (false, true) => Mark::In,
            (true, true) => Mark::Undirected,
        }
    }

    /// Whether `a` and `b` are joined by any edge.
    pub fn is_adjacent(&self, a: usize, b: usize) -> bool {
        self.mark(a, b) != Mark::None
    }

    /// Whether the graph has `a -> b`.
    pub fn has_directed(&self, a: usize, b: usize) -> bool {
        self.mark(a, b) == Mark::Out
    }

    /// Whether the graph has `a - b`.
    pub fn has_undirected(&self, a: usize, b: usize) -> bool {
        self.mark(a, b) == Mark::Undirected
    }

    fn collect(&self, v: usize, want: impl Fn(Mark) -> bool) -> Vec<usize> {
        if v >= self.n {
            return Vec::new();
        }
        (0..self.n).filter(|&u| want(self.mark(v, u))).collect()
    }

    /// Nodes `u` with `u -> v`, in index order (empty when `v` is out of range).
    pub fn parents(&self, v: usize) -> Vec<usize> {
        self.collect(v, |m| m == Mark::In)
    }

    /// Nodes `u` with `v -> u`.
    pub fn children(&self, v: usize) -> Vec<usize> {
        self.collect(v, |m| m == Mark::Out)
    }

    /// Nodes `u` with `v - u`.
    pub fn undirected_neighbors(&self, v: usize) -> Vec<usize> {
        self.collect(v, |m| m == Mark::Undirected)
    }

    /// Nodes adjacent to `v` by any edge.
    pub fn adjacent(&self, v: usize) -> Vec<usize> {
        self.collect(v, |m| m != Mark::None)
    }

    /// Every edge once, in index order (an undirected edge as `a < b`).
    pub fn edges(&self) -> Vec<Edge> {
        let mut out = Vec::new();
        for a in 0..self.n {
            for b in 0..self.n {
                match self.mark(a, b) {
                    Mark::Out => out.push(Edge::Directed { from: a, to: b }),
                    Mark::Undirected if a < b => out.push(Edge::Undirected { a, b }),
                    _ => {}
                }
            }
        }
        out
    }

    /// Number of edges (directed and undirected).
    pub fn n_edges(&self) -> usize {
        let mut k = 0;
        for a in 0..self.n {
            for b in (a + 1)..self.n {
                k += usize::from(self.is_adjacent(a, b));
            }
        }
        k
    }

    /// Number of undirected edges.
    pub fn n_undirected(&self) -> usize {
        self.edges().iter().filter(|e| matches!(e, Edge::Undirected { .. })).count()
    }

    /// A topological order of the directed edges (Kahn's algorithm, smallest index first),
    /// ignoring undirected edges; `None` if the directed edges contain a cycle.
    pub fn topological_order(&self) -> Option<Vec<usize>> {
        let (order, _) = self.generations();
        (order.len() == self.n).then_some(order)
    }

    /// Kahn's algorithm over the directed edges: the nodes in topological order, and each
    /// node's generation (0 for a node without parents, else 1 + the largest generation of
    /// its parents). Nodes on a directed cycle are left out of the order and get generation
    /// `usize::MAX`.
    pub fn generations(&self) -> (Vec<usize>, Vec<usize>) {
        let mut indeg: Vec<usize> = (0..self.n).map(|v| self.parents(v).len()).collect();
        let mut gen_of = vec![usize::MAX; self.n];
        let mut order = Vec::with_capacity(self.n);
        let mut frontier: Vec<usize> = (0..self.n).filter(|&v| indeg[v] == 0).collect();
        let mut g = 0;
        while !frontier.is_empty() {
            let mut next = Vec::new();
            for &v in &frontier {
                gen_of[v] = g;
                order.push(v);
                for c in self.children(v) {
                    indeg[c] -= 1;
                    if indeg[c] == 0 {
                        next.push(c);
                    }
                }
            }
            next.sort_unstable();
            frontier = next;
            g += 1;
        }
        (order, gen_of)
    }

    /// Whether every edge is directed and there is no directed cycle.
    pub fn is_dag(&self) -> bool {
        self.n_undirected() == 0 && self.topological_order().is_some()
    }

    /// Nodes reachable from `v` along directed edges (not `v` itself), in index order.
    pub fn descendants(&self, v: usize) -> Vec<usize> {
        self.reach(v, |g, u| g.children(u))
    }

    /// Nodes from which `v` is reachable along directed edges (not `v` itself).
    pub fn ancestors(&self, v: usize) -> Vec<usize> {
        self.reach(v, |g, u| g.parents(u))
    }

    fn reach(&self, v: usize, step: impl Fn(&Self, usize) -> Vec<usize>) -> Vec<usize> {
        if v >= self.n {
            return Vec::new();
        }
        let mut seen = vec![false; self.n];
        let mut stack = vec![v];
        while let Some(u) = stack.pop() {
            for w in step(self, u) {
                if !seen[w] {
                    seen[w] = true;
                    stack.push(w);
                }
            }
        }
        seen[v] = false;
        (0..self.n).filter(|&u| seen[u]).collect()
    }

    /// Nodes without children (sinks) of the directed part.
    pub fn sinks(&self) -> Vec<usize> {
        (0..self.n)
            .filter(|&v| self.adjacent(v).iter().all(|&u| self.mark(v, u) == Mark::In))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_and_queries() {
        let mut g = CausalGraph::empty(4);
        g.add_directed(0, 1).unwrap();
        g.add_directed(2, 1).unwrap();
        g.add_undirected(1, 3).unwrap();
        assert_eq!(g.mark(0, 1), Mark::Out);
        assert_eq!(g.mark(1, 0), Mark::In);
        assert_eq!(g.mark(3, 1), Mark::Undirected);
        assert_eq!(g.mark(0, 2), Mark::None);
        assert_eq!(g.parents(1), vec![0, 2]);
        assert_eq!(g.children(0), vec![1]);
        assert_eq!(g.undirected_neighbors(1), vec![3]);
        assert_eq!(g.adjacent(1), vec![0, 2, 3]);
        assert_eq!(g.n_edges(), 3);
        assert_eq!(
            g.edges(),
            vec![
                Edge::Directed { from: 0, to: 1 },
                Edge::Undirected { a: 1, b: 3 },
                Edge::Directed { from: 2, to: 1 }
            ]
        );
        assert!(!g.is_dag());
        g.add_directed(1, 3).unwrap();
        assert!(g.is_dag());
        assert_eq!(g.descendants(0), vec![1, 3]);
        assert_eq!(g.ancestors(3), vec![0, 1, 2]);
        assert_eq!(g.sinks(), vec![3]);
        g.remove_edge(1, 3).unwrap();
        assert_eq!(g.n_edges(), 2);
    }

    #[test]
    fn bad_edges_are_errors() {
        let mut g = CausalGraph::empty(2);
        assert_eq!(g.add_directed(0, 0), Err(RcaError::SelfLoop(0)));
        assert!(matches!(g.add_undirected(0, 5), Err(RcaError::OutOfRange { index: 5, len: 2 })));
        assert_eq!(g.mark(0, 9), Mark::None);
        assert!(g.parents(9).is_empty());
    }

    #[test]
    fn cycles_and_generations() {
        let mut g = CausalGraph::from_directed_edges(4, &[(0, 1), (1, 2), (0, 2)]).unwrap();
        let (order, gens) = g.generations();
        assert_eq!(order, vec![0, 3, 1, 2]);
        assert_eq!(gens, vec![0, 1, 2, 0]);
        g.add_directed(2, 0).unwrap(); // replaces 0 -> 2: 0 -> 1 -> 2 -> 0 is a cycle
        assert!(g.topological_order().is_none());
        assert_eq!(g.generations().1[0], usize::MAX);
    }

    #[test]
    fn complete_graph() {
        let g = CausalGraph::complete_undirected(5);
        assert_eq!(g.n_edges(), 10);
        assert_eq!(g.n_undirected(), 10);
        assert_eq!(g.index_of("x3"), Some(3));
    }
}
