//! Seeded generators of large graphs with planted communities.
//!
//! - **Stochastic block model** (Holland, Laskey, Leinhardt 1983), in its sparse planted-
//!   partition form: `k` equal communities; every node draws `Poisson(d)` edge stubs and sends
//!   each to a uniform node of its own community with probability `1 - mu`, else to a uniform
//!   node of the whole graph. The expected degree is about `2d`, and about `mu` of the edges
//!   leave their community.
//! - **LFR-like** (after Lancichinetti, Fortunato, Radicchi, Phys. Rev. E 78, 2008): degrees from
//!   a discrete power law with exponent `gamma` between `min_degree` and `max_degree`, community
//!   sizes from a power law with exponent `beta`, and the same stub rule with mixing `mu`. LFR
//!   rewires until the mixing is exact; here it holds in expectation (an assumption that keeps
//!   generation linear in the edges, so millions of nodes take seconds).
//!
//! Self-loops and duplicate edges are dropped. The same spec and seed give the same graph.

use serde::{Deserialize, Serialize};
use simcore::{RandomStreams, StreamRng};

use crate::graph::Graph;
use simcore::InputError;

/// A generated graph with its planted communities.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Generated {
    /// The graph.
    pub graph: Graph,
    /// Community of each node.
    pub community: Vec<u32>,
}

/// What to generate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "kebab-case", deny_unknown_fields)]
pub enum GraphSpec {
    /// Stochastic block model.
    Sbm {
        /// Nodes.
        nodes: u32,
        /// Communities (equal sizes).
        communities: u32,
        /// Mean stubs per node (the mean degree is about twice this).
        stubs: f64,
        /// Share of stubs that leave the community.
        mu: f64,
    },
    /// LFR-like power-law graph.
    Lfr {
        /// Nodes.
        nodes: u32,
        /// Degree exponent (LFR's tau1; 2 to 3 in real networks).
        #[serde(default = "gamma")]
        gamma: f64,
        /// Community-size exponent (LFR's tau2).
        #[serde(default = "beta")]
        beta: f64,
        /// Smallest and largest stub count.
        #[serde(default = "degree_range")]
        degree: [u32; 2],
        /// Smallest and largest community.
        community_size: [u32; 2],
        /// Share of stubs that leave the community.
        mu: f64,
    },
}

fn gamma() -> f64 {
    2.5
}
fn beta() -> f64 {
    1.5
}
fn degree_range() -> [u32; 2] {
    [3, 100]
}

/// A Poisson draw (Knuth's product method for small means, a rounded normal above 30).
fn poisson(rng: &mut StreamRng, mean: f64) -> u32 {
    if mean <= 0.0 {
        return 0;
    }
    if mean > 30.0 {
        let z = rng.normal();
        return (mean + z * mean.sqrt()).round().max(0.0) as u32;
    }
    let limit = (-mean).exp();
    let mut k = 0u32;
    let mut p = rng.next_f64();
    while p > limit {
        k += 1;
        p *= rng.next_f64();
    }
    k
}

/// A discrete power law `P(k) ∝ k^-exponent` on `[lo, hi]`, by inverting the continuous law
/// on `[lo, hi + 1)` and flooring.
fn power_law(rng: &mut StreamRng, exponent: f64, lo: u32, hi: u32) -> u32 {
    let (a, b) = (f64::from(lo), f64::from(hi) + 1.0);
    let u = rng.next_f64();
    let x = if (exponent - 1.0).abs() < 1e-9 {
        a * (b / a).powf(u)
    } else {
        let e = 1.0 - exponent;
        (a.powf(e) + u * (b.powf(e) - a.powf(e))).powf(1.0 / e)
    };
    (x.floor() as u32).clamp(lo, hi)
}

impl GraphSpec {
    /// Nodes of the graph this spec generates.
    pub fn nodes(&self) -> u32 {
        match *self {
            GraphSpec::Sbm { nodes, .. } | GraphSpec::Lfr { nodes, .. } => nodes,
        }
    }

    /// Checks the spec; errors name the field under `field`.
    pub fn validate(&self, field: &str) -> Result<(), InputError> {
        let bad = |f: &str, m: &str| Err(InputError::invalid(&format!("{field}.{f}"), m));
        match *self {
            GraphSpec::Sbm { nodes, communities, stubs, mu } => {
                if nodes == 0 {
                    return bad("nodes", "must be at least 1");
                }
                if communities == 0 || communities > nodes {
                    return bad("communities", "must be between 1 and the number of nodes");
                }
                if !(stubs >= 0.0 && stubs.is_finite()) {
                    return bad("stubs", "must be >= 0");
                }
                if !(0.0..=1.0).contains(&mu) {
                    return bad("mu", "must be between 0 and 1");
                }
            }
            GraphSpec::Lfr { nodes, gamma, beta, degree, community_size, mu } => {
                if nodes == 0 {
                    return bad("nodes", "must be at least 1");
                }
                if !(gamma > 0.0 && gamma.is_finite() && beta > 0.0 && beta.is_finite()) {
                    return bad("gamma", "gamma and beta must be positive");
                }
                if degree[0] == 0 || degree[0] > degree[1] {
                    return bad("degree", "give [min, max] with 1 <= min <= max");
                }
                if community_size[0] == 0 || community_size[0] > community_size[1] {
                    return bad("community_size", "give [min, max] with 1 <= min <= max");
                }
                if !(0.0..=1.0).contains(&mu) {
                    return bad("mu", "must be between 0 and 1");
                }
            }
        }
        Ok(())
    }

    /// Generates the graph with `seed`.
    pub fn generate(&self, seed: u64) -> Result<Generated, InputError> {
        self.validate("graph")?;
        let streams = RandomStreams::new(seed);
        let mut rng = streams.stream("graph");
        let (nodes, community, stubs): (u32, Vec<u32>, Vec<u32>) = match *self {
            GraphSpec::Sbm { nodes, communities, stubs, .. } => {
                let community = (0..nodes)
                    .map(|v| (u64::from(v) * u64::from(communities) / u64::from(nodes)) as u32)
                    .collect();
                let s = (0..nodes).map(|_| poisson(&mut rng, stubs)).collect();
                (nodes, community, s)
            }
            GraphSpec::Lfr { nodes, gamma, beta, degree, community_size, .. } => {
                let mut community = Vec::with_capacity(nodes as usize);
                let mut c = 0u32;
                while (community.len() as u32) < nodes {
                    let size = power_law(&mut rng, beta, community_size[0], community_size[1]);
                    let size = size.min(nodes - community.len() as u32);
                    community.extend(std::iter::repeat_n(c, size as usize));
                    c += 1;
                }
                let s =
                    (0..nodes).map(|_| power_law(&mut rng, gamma, degree[0], degree[1])).collect();
                (nodes, community, s)
            }
        };
        let mu = match *self {
            GraphSpec::Sbm { mu, .. } | GraphSpec::Lfr { mu, .. } => mu,
        };
        // Community ranges: nodes of a community are contiguous by construction.
        let mut start = vec![0u32; community.last().map_or(0, |&c| c as usize + 1) + 1];
        for &c in &community {
            start[c as usize + 1] += 1;
        }
        for i in 1..start.len() {
            start[i] += start[i - 1];
        }
        let mut edges = Vec::with_capacity(stubs.iter().map(|&s| s as usize).sum());
        for v in 0..nodes {
            let c = community[v as usize] as usize;
            let (lo, hi) = (start[c], start[c + 1]);
            for _ in 0..stubs[v as usize] {
                let u = if rng.next_f64() >= mu && hi - lo > 1 {
                    lo + rng.below(u64::from(hi - lo)) as u32
                } else {
                    rng.below(u64::from(nodes)) as u32
                };
                edges.push((v, u));
            }
        }
        Ok(Generated { graph: Graph::from_edges(nodes, &edges), community })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mixing(g: &Generated) -> f64 {
        let mut out = 0u64;
        for v in 0..g.graph.nodes() {
            for &u in g.graph.neighbors(v) {
                out += u64::from(g.community[v as usize] != g.community[u as usize]);
            }
        }
        out as f64 / (2 * g.graph.edges()) as f64
    }

    #[test]
    fn sbm_has_its_degree_and_mixing() {
        let spec = GraphSpec::Sbm { nodes: 20_000, communities: 50, stubs: 5.0, mu: 0.2 };
        let g = spec.generate(1).unwrap();
        let mean_degree = 2.0 * g.graph.edges() as f64 / 20_000.0;
        assert!((mean_degree - 10.0).abs() < 0.3, "{mean_degree}");
        // Inter-community stubs land in another community with probability 49/50.
        let m = mixing(&g);
        assert!((m - 0.2 * 49.0 / 50.0).abs() < 0.01, "{m}");
        assert_eq!(g, spec.generate(1).unwrap(), "seeded");
        assert_ne!(g, spec.generate(2).unwrap());
    }

    #[test]
    fn lfr_has_heavy_tailed_degrees_and_sized_communities() {
        let spec = GraphSpec::Lfr {
            nodes: 30_000,
            gamma: 2.5,
            beta: 1.5,
            degree: [3, 300],
            community_size: [50, 2000],
            mu: 0.3,
        };
        let g = spec.generate(3).unwrap();
        let max_degree = (0..g.graph.nodes()).map(|v| g.graph.degree(v)).max().unwrap();
        let mean = 2.0 * g.graph.edges() as f64 / 30_000.0;
        assert!(f64::from(max_degree) > 10.0 * mean, "max {max_degree} mean {mean}");
        let m = mixing(&g);
        assert!((m - 0.3).abs() < 0.05, "{m}");
        let communities = g.community.iter().max().unwrap() + 1;
        assert!(communities > 15 && communities < 600, "{communities}");
    }

    #[test]
    fn bad_specs_name_their_field() {
        let e = GraphSpec::Sbm { nodes: 10, communities: 11, stubs: 2.0, mu: 0.1 }
            .generate(1)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("workload.graph.communities"), "{e}");
        let e = GraphSpec::Sbm { nodes: 10, communities: 2, stubs: 2.0, mu: 1.5 }
            .generate(1)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("workload.graph.mu"), "{e}");
    }
}
