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
        let valid = |a: u32, b: u32| a != b && (a as usize) < n && (b as usize) < n;
        // Counting sort by source (both directions), then sort and deduplicate each list.
        let mut start = vec![0u64; n + 1];
        for &(a, b) in edges {
            if valid(a, b) {
                start[a as usize + 1] += 1;
                start[b as usize + 1] += 1;
            }
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        let mut fill = start.clone();
        let mut all = vec![0u32; start[n] as usize];
        for &(a, b) in edges {
            if valid(a, b) {
                all[fill[a as usize] as usize] = b;
                fill[a as usize] += 1;
                all[fill[b as usize] as usize] = a;
                fill[b as usize] += 1;
            }
        }
        let mut offsets = vec![0u64; n + 1];
        let mut neighbors = Vec::with_capacity(all.len());
        for v in 0..n {
            let list = &mut all[start[v] as usize..start[v + 1] as usize];
            list.sort_unstable();
            let before = neighbors.len();
            for (i, &u) in list.iter().enumerate() {
                if i == 0 || list[i - 1] != u {
                    neighbors.push(u);
                }
            }
            offsets[v + 1] = offsets[v] + (neighbors.len() - before) as u64;
        }
        Graph { offsets, neighbors }
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

    /// The compressed sparse rows: `(offsets, neighbors)`.
    pub fn csr(&self) -> (&[u64], &[u32]) {
        (&self.offsets, &self.neighbors)
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
