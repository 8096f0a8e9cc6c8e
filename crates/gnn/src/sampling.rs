//! Neighbour sampling (GraphSAGE, Hamilton, Ying, Leskovec, NeurIPS 2017): from a batch's roots,
//! each layer samples up to `fanout[l]` distinct neighbours of every node of the current
//! frontier, without replacement; the nodes seen for the first time form the next frontier.
//! The optional bias knob (COMM-RAND's second knob, interpretation) draws each sampled
//! neighbour from the node's own community with probability `bias` when it has neighbours
//! there (0 = uniform sampling). Cluster-GCN batches take the subgraph their parts induce
//! instead ([`BatchSampler::induced`]); the trainer reaches the same outputs by sampling every
//! neighbour inside the parts ([`Scope::Within`] with unbounded fanouts).
//!
//! The result lists the batch's unique nodes in order of discovery (roots first), which is
//! the order their feature rows are gathered, and the sampled edges per layer for training.

use simcore::StreamRng;

use crate::graph::Graph;
use crate::policies::Batch;
use simcore::InputError;

/// A sampled computation graph.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sampled {
    /// Unique nodes in order of discovery (roots first).
    pub nodes: Vec<u32>,
    /// Per layer (from the roots outwards), `(dst, src)` edges: `src` is a sampled neighbour
    /// of `dst`.
    pub edges: Vec<Vec<(u32, u32)>>,
    /// Nodes first reached at each hop: `hop_nodes[0]` roots, `hop_nodes[h]` hop `h`'s new
    /// nodes (they sum to `nodes.len()`).
    pub hop_nodes: Vec<usize>,
}

/// Checks fanouts: at least one layer, every fanout at least 1.
pub fn check_fanouts(fanouts: &[u32]) -> Result<(), InputError> {
    if fanouts.is_empty() {
        return Err(InputError::invalid("fanouts", "give one fanout per layer, e.g. [25, 10]"));
    }
    if let Some(i) = fanouts.iter().position(|&f| f == 0) {
        return Err(InputError::invalid(
            &format!("fanouts[{i}]"),
            "a fanout of 0 samples no neighbours; use at least 1",
        ));
    }
    Ok(())
}

/// Which neighbours a batch may sample.
#[derive(Clone, Copy, Debug)]
pub enum Scope<'a> {
    /// Any neighbour, uniformly.
    All,
    /// Any neighbour; with probability `bias` from the node's own community when it has
    /// neighbours there (COMM-RAND's second knob).
    Community {
        /// Community of every node.
        community: &'a [u32],
        /// Probability of drawing from the own community.
        bias: f64,
    },
    /// Only neighbours inside the batch's parts (Cluster-GCN's induced subgraph).
    Within {
        /// Part of every node.
        part: &'a [u32],
        /// Whether each part belongs to the batch.
        allowed: &'a [bool],
    },
}

/// Samples the `fanouts.len()`-hop neighbourhood of `roots` within `scope`; `seen` is scratch
/// space of the graph's size (all false on entry and on return).
pub fn sample(
    graph: &Graph,
    roots: &[u32],
    fanouts: &[u32],
    scope: Scope<'_>,
    seen: &mut [bool],
    rng: &mut StreamRng,
) -> Sampled {
    let community = match scope {
        Scope::Community { community, bias } => Some((community, bias)),
        _ => None,
    };
    let mut inside: Vec<u32> = Vec::new();
    let mut out = Sampled {
        nodes: Vec::with_capacity(roots.len() * 4),
        edges: Vec::new(),
        hop_nodes: Vec::new(),
    };
    for &r in roots {
        if !seen[r as usize] {
            seen[r as usize] = true;
            out.nodes.push(r);
        }
    }
    out.hop_nodes.push(out.nodes.len());
    let mut frontier: Vec<u32> = out.nodes.clone();
    let mut picked: Vec<u32> = Vec::new();
    for &fanout in fanouts {
        // Reserve for typical fanouts only: a huge fanout ("every neighbour") must not
        // reserve memory the graph's degrees never need.
        let mut layer = Vec::with_capacity(frontier.len() * (fanout as usize).min(32));
        let mut next = Vec::new();
        for &v in &frontier {
            let mut nbrs = graph.neighbors(v);
            if let Scope::Within { part, allowed } = scope {
                inside.clear();
                inside.extend(nbrs.iter().copied().filter(|&u| allowed[part[u as usize] as usize]));
                nbrs = &inside;
            }
            picked.clear();
            if nbrs.len() <= fanout as usize {
                picked.extend_from_slice(nbrs);
            } else {
                match community {
                    Some((comm, bias)) if bias > 0.0 => {
                        let own: Vec<u32> = nbrs
                            .iter()
                            .copied()
                            .filter(|&u| comm[u as usize] == comm[v as usize])
                            .collect();
                        let other: Vec<u32> = nbrs
                            .iter()
                            .copied()
                            .filter(|&u| comm[u as usize] != comm[v as usize])
                            .collect();
                        let (mut own, mut other) = (own, other);
                        while picked.len() < fanout as usize
                            && (!own.is_empty() || !other.is_empty())
                        {
                            let from_own =
                                !own.is_empty() && (other.is_empty() || rng.next_f64() < bias);
                            let pool = if from_own { &mut own } else { &mut other };
                            let i = rng.below(pool.len() as u64) as usize;
                            picked.push(pool.swap_remove(i));
                        }
                    }
                    _ => {
                        // Floyd's algorithm: `fanout` distinct indices of `nbrs.len()`.
                        let n = nbrs.len() as u64;
                        let mut chosen: Vec<u64> = Vec::with_capacity(fanout as usize);
                        for j in n - u64::from(fanout)..n {
                            let t = rng.below(j + 1);
                            if chosen.contains(&t) {
                                chosen.push(j);
                            } else {
                                chosen.push(t);
                            }
                        }
                        picked.extend(chosen.iter().map(|&i| nbrs[i as usize]));
                    }
                }
            }
            for &u in &picked {
                layer.push((v, u));
                if !seen[u as usize] {
                    seen[u as usize] = true;
                    out.nodes.push(u);
                    next.push(u);
                }
            }
        }
        out.edges.push(layer);
        out.hop_nodes.push(next.len());
        frontier = next;
    }
    for &v in &out.nodes {
        seen[v as usize] = false;
    }
    out
}

/// Where a run's batches sample, before a batch's parts are known.
#[derive(Clone, Copy, Debug)]
pub enum SampleIn<'a> {
    /// Anywhere, uniformly.
    Anywhere,
    /// Anywhere, biased towards the node's community ([`Scope::Community`]).
    Community {
        /// Community of every node.
        community: &'a [u32],
        /// Probability of drawing from the own community.
        bias: f64,
    },
    /// Inside each batch's parts ([`Scope::Within`]); `part[v]` is node `v`'s part.
    BatchParts {
        /// Part of every node.
        part: &'a [u32],
    },
}

/// A Cluster-GCN batch: the subgraph its parts induce (Chiang et al., KDD'19; PyG's
/// `ClusterLoader`): every node of the parts and every edge among them, no sampling.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Induced {
    /// The parts' nodes, part by part.
    pub nodes: Vec<u32>,
    /// Edges among them, each counted in both directions (the adjacency entries a layer
    /// aggregates over).
    pub edges: u64,
    /// Adjacency entries scanned to find them (the nodes' degrees summed).
    pub scanned: u64,
}

/// Samples batch after batch, keeping its scratch space between them.
pub struct BatchSampler<'a> {
    graph: &'a Graph,
    fanouts: &'a [u32],
    within: SampleIn<'a>,
    seen: Vec<bool>,
    allowed: Vec<bool>,
    /// Nodes of each part (Cluster-GCN), in id order.
    members: Vec<Vec<u32>>,
}

impl<'a> BatchSampler<'a> {
    /// A sampler over `graph` with `fanouts` (checked) sampling `within`.
    pub fn new(
        graph: &'a Graph,
        fanouts: &'a [u32],
        within: SampleIn<'a>,
    ) -> Result<BatchSampler<'a>, InputError> {
        check_fanouts(fanouts)?;
        let (parts, members) = match within {
            SampleIn::BatchParts { part } => {
                let parts = part.iter().max().map_or(0, |&p| p as usize + 1);
                let mut members = vec![Vec::new(); parts];
                for (v, &p) in part.iter().enumerate() {
                    members[p as usize].push(v as u32);
                }
                (parts, members)
            }
            _ => (0, Vec::new()),
        };
        Ok(BatchSampler {
            graph,
            fanouts,
            within,
            seen: vec![false; graph.nodes() as usize],
            allowed: vec![false; parts],
            members,
        })
    }

    /// The subgraph `batch`'s parts induce (Cluster-GCN); empty unless this sampler works
    /// inside batch parts.
    pub fn induced(&mut self, batch: &Batch) -> Induced {
        let SampleIn::BatchParts { part } = self.within else {
            return Induced::default();
        };
        for &p in &batch.parts {
            self.allowed[p as usize] = true;
        }
        let mut out = Induced::default();
        for &p in &batch.parts {
            for &v in &self.members[p as usize] {
                out.nodes.push(v);
                let nbrs = self.graph.neighbors(v);
                out.scanned += nbrs.len() as u64;
                out.edges +=
                    nbrs.iter().filter(|&&u| self.allowed[part[u as usize] as usize]).count()
                        as u64;
            }
        }
        for &p in &batch.parts {
            self.allowed[p as usize] = false;
        }
        out
    }

    /// Samples `batch`'s neighbourhood.
    pub fn sample(&mut self, batch: &Batch, rng: &mut StreamRng) -> Sampled {
        match self.within {
            SampleIn::Anywhere => {
                sample(self.graph, &batch.roots, self.fanouts, Scope::All, &mut self.seen, rng)
            }
            SampleIn::Community { community, bias } => {
                let scope = Scope::Community { community, bias };
                sample(self.graph, &batch.roots, self.fanouts, scope, &mut self.seen, rng)
            }
            SampleIn::BatchParts { part } => {
                for &p in &batch.parts {
                    self.allowed[p as usize] = true;
                }
                let scope = Scope::Within { part, allowed: &self.allowed };
                let s = sample(self.graph, &batch.roots, self.fanouts, scope, &mut self.seen, rng);
                for &p in &batch.parts {
                    self.allowed[p as usize] = false;
                }
                s
            }
        }
    }
}

/// A test graph: node 0 linked to 1..=10; each i in 1..=10 linked to 10i+1..=10i+9
/// (ids < 110).
#[cfg(test)]
pub(crate) fn star_of_stars() -> Graph {
    let mut e = Vec::new();
    for i in 1..=10u32 {
        e.push((0, i));
        for j in 1..=9 {
            e.push((i, 10 * i + j));
        }
    }
    Graph::from_edges(110, &e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use simcore::RandomStreams;

    #[test]
    fn fanouts_bound_the_sample_and_nodes_are_unique() {
        let g = star_of_stars();
        let mut seen = vec![false; 110];
        let mut rng = RandomStreams::new(1).stream("s");
        let s = sample(&g, &[0], &[3, 2], Scope::All, &mut seen, &mut rng);
        assert_eq!(s.edges[0].len(), 3);
        assert!(s.edges[1].len() <= 3 * 2);
        assert_eq!(s.nodes[0], 0);
        assert_eq!(s.hop_nodes.len(), 3);
        assert_eq!(s.hop_nodes[..2], [1, 3]);
        assert_eq!(s.hop_nodes.iter().sum::<usize>(), s.nodes.len());
        let mut u = s.nodes.clone();
        u.sort_unstable();
        u.dedup();
        assert_eq!(u.len(), s.nodes.len());
        assert!(seen.iter().all(|&x| !x), "scratch is reset");
        // Every sampled edge is a real edge.
        for layer in &s.edges {
            for &(d, src) in layer {
                assert!(g.neighbors(d).contains(&src));
            }
        }
    }

    #[test]
    fn bias_one_keeps_neighbours_in_the_community() {
        let g = star_of_stars();
        // Community: node 0 with 1..=5, the rest elsewhere.
        let comm: Vec<u32> = (0..110).map(|v| u32::from(v > 5)).collect();
        let mut seen = vec![false; 110];
        let mut rng = RandomStreams::new(2).stream("s");
        let s = sample(
            &g,
            &[0],
            &[4],
            Scope::Community { community: &comm, bias: 1.0 },
            &mut seen,
            &mut rng,
        );
        assert!(s.edges[0].iter().all(|&(_, u)| u <= 5), "{:?}", s.edges[0]);
    }

    #[test]
    fn within_scope_samples_only_inside_the_allowed_parts() {
        let g = star_of_stars();
        // Parts: node 0 and stars 1..=3 with their leaves in part 0, everything else in part 1.
        let part: Vec<u32> = (0..110u32)
            .map(|v| {
                let hub = if v <= 10 { v } else { v / 10 };
                u32::from(hub > 3)
            })
            .collect();
        let mut seen = vec![false; 110];
        let mut rng = RandomStreams::new(3).stream("s");
        let scope = Scope::Within { part: &part, allowed: &[true, false] };
        let s = sample(&g, &[0], &[10, 10], scope, &mut seen, &mut rng);
        assert!(s.nodes.iter().all(|&v| part[v as usize] == 0), "{:?}", s.nodes);
        // Everything in part 0 within two hops is reached: 0, hubs 1..=3 and their 27 leaves.
        assert_eq!(s.nodes.len(), 1 + 3 + 27);
    }

    #[test]
    fn a_cluster_gcn_batch_is_its_parts_induced_subgraph() {
        // Parts: {0, 1, 2}, {3, 4}, {5, 6, 7}. Edges: a triangle 0-1-2 in part 0, 3-4 in
        // part 1, the path 5-6-7 in part 2, and 2-3, 4-5, 7-0 between parts.
        let g = Graph::from_edges(
            8,
            &[(0, 1), (1, 2), (0, 2), (3, 4), (5, 6), (6, 7), (2, 3), (4, 5), (7, 0)],
        );
        let part = [0, 0, 0, 1, 1, 2, 2, 2];
        let mut s = BatchSampler::new(&g, &[1, 1], SampleIn::BatchParts { part: &part }).unwrap();
        let batch = |parts: Vec<u32>| Batch { roots: vec![0], parts };
        // Parts 0 and 1: nodes 0..=4; edges 0-1, 1-2, 0-2, 3-4 and 2-3 = 5, 10 directed;
        // degrees 3 + 2 + 3 + 2 + 2 = 12 scanned.
        let a = s.induced(&batch(vec![0, 1]));
        assert_eq!(a.nodes, [0, 1, 2, 3, 4]);
        assert_eq!((a.edges, a.scanned), (10, 12));
        // Parts 2 and 0: nodes 5, 6, 7, 0, 1, 2; edges 5-6, 6-7, 7-0 and the triangle = 6, 12
        // directed; degrees 2 + 2 + 2 + 3 + 2 + 3 = 14.
        let b = s.induced(&batch(vec![2, 0]));
        assert_eq!(b.nodes, [5, 6, 7, 0, 1, 2]);
        assert_eq!((b.edges, b.scanned), (12, 14));
        // One part alone: the triangle, 6 directed edges.
        assert_eq!(s.induced(&batch(vec![0])).edges, 6);
        // Outside Cluster-GCN there is no induced subgraph.
        let mut plain = BatchSampler::new(&g, &[1], SampleIn::Anywhere).unwrap();
        assert_eq!(plain.induced(&batch(vec![0])), Induced::default());
    }

    #[test]
    fn zero_fanouts_are_rejected() {
        assert!(
            check_fanouts(&[25, 0]).unwrap_err().to_string().starts_with("workload.fanouts[1]")
        );
        assert!(check_fanouts(&[]).is_err());
        assert!(check_fanouts(&[10, 5]).is_ok());
    }
}
