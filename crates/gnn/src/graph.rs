//! An undirected graph in compressed sparse row form: node `v`'s neighbours are
//! `neighbors[offsets[v]..offsets[v + 1]]`, sorted, without self-loops or duplicates; every
//! edge is stored in both directions.

/// An undirected graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Graph {
    offsets: Vec<u64>,
    neighbors: Vec<u32>,
}

impl Graph {
    /// The graph on `nodes` nodes with `edges` (either direction; self-loops and duplicates
    /// are dropped). Node ids must be below `nodes`.
    pub fn from_edges(nodes: u32, edges: &[(u32, u32)]) -> Graph {
        let n = nodes as usize;
        let mut pairs: Vec<(u32, u32)> = Vec::with_capacity(edges.len() * 2);
        for &(a, b) in edges {
            if a != b && (a as usize) < n && (b as usize) < n {
                pairs.push((a, b));
                pairs.push((b, a));
            }
        }
        pairs.sort_unstable();
        pairs.dedup();
        let mut offsets = vec![0u64; n + 1];
        for &(a, _) in &pairs {
            offsets[a as usize + 1] += 1;
        }
        for i in 0..n {
            offsets[i + 1] += offsets[i];
        }
        Graph { offsets, neighbors: pairs.into_iter().map(|p| p.1).collect() }
    }

    /// Number of nodes.
    pub fn nodes(&self) -> u32 {
        (self.offsets.len() - 1) as u32
    }

    /// Number of undirected edges.
    pub fn edges(&self) -> u64 {
        self.neighbors.len() as u64 / 2
    }

    /// Neighbours of `v`, sorted.
    pub fn neighbors(&self, v: u32) -> &[u32] {
        let (a, b) = (self.offsets[v as usize] as usize, self.offsets[v as usize + 1] as usize);
        &self.neighbors[a..b]
    }

    /// Degree of `v`.
    pub fn degree(&self, v: u32) -> u32 {
        (self.offsets[v as usize + 1] - self.offsets[v as usize]) as u32
    }

    /// The same graph with node `v` renamed `perm[v]` (`perm` a permutation of `0..nodes`).
    pub fn relabel(&self, perm: &[u32]) -> Graph {
        let mut edges = Vec::with_capacity(self.neighbors.len() / 2);
        for v in 0..self.nodes() {
            for &u in self.neighbors(v) {
                if v < u {
                    edges.push((perm[v as usize], perm[u as usize]));
                }
            }
        }
        Graph::from_edges(self.nodes(), &edges)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges_are_symmetric_sorted_and_deduplicated() {
        let g = Graph::from_edges(4, &[(0, 1), (1, 0), (2, 1), (3, 3), (0, 2), (0, 9)]);
        assert_eq!(g.nodes(), 4);
        assert_eq!(g.edges(), 3);
        assert_eq!(g.neighbors(0), &[1, 2]);
        assert_eq!(g.neighbors(1), &[0, 2]);
        assert_eq!(g.degree(3), 0);
        let r = g.relabel(&[3, 2, 1, 0]);
        assert_eq!(r.neighbors(3), &[1, 2]);
        assert_eq!(r.edges(), 3);
    }
}
