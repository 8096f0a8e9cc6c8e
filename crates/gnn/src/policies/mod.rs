//! Mini-batch policies, one file each: which training nodes are the roots of each batch of an
//! epoch, and where their neighbourhoods may be sampled.
//!
//! - [`random`]: shuffled training nodes in batches of `b` (PyG's and DGL's default).
//! - [`cluster_gcn`]: `q` random METIS parts per batch, sampled inside them (Chiang et al.).
//! - [`comm_rand`]: community-ordered batches with a share `alpha` of random roots, and a
//!   neighbour-sampling bias towards the node's community (Balaji et al., interpretation).
//!
//! Under every policy each training node is a root exactly once per epoch (a property test).

pub mod cluster_gcn;
pub mod comm_rand;
pub mod random;

use serde::{Deserialize, Serialize};
use simcore::StreamRng;

use simcore::InputError;

/// One mini-batch.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Batch {
    /// Root (training) nodes.
    pub roots: Vec<u32>,
    /// Cluster-GCN: the parts whose induced subgraph the batch samples in (empty: anywhere).
    pub parts: Vec<u32>,
}

/// A batching policy as a config's `systems` entry names it, with its `params`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "system", deny_unknown_fields)]
pub enum SystemSpec {
    /// Random batches.
    Random,
    /// Cluster-GCN over a METIS partition.
    ClusterGcn {
        /// METIS parts (default 1,500: Cluster-GCN's Reddit setting, PyG's example).
        #[serde(default = "default_parts")]
        parts: u32,
        /// Parts per batch (default 20, the same source).
        #[serde(default = "default_parts_per_batch")]
        parts_per_batch: u32,
    },
    /// COMM-RAND.
    CommRand {
        /// Share of each batch's roots drawn at random (0 community-sequential, 1 random).
        alpha: f64,
        /// Probability that a sampled neighbour comes from the node's own community when it
        /// has neighbours there (default 0: uniform sampling).
        #[serde(default)]
        bias: f64,
    },
}

fn default_parts() -> u32 {
    1500
}
fn default_parts_per_batch() -> u32 {
    20
}

impl SystemSpec {
    /// The policy's name as in configs.
    pub fn name(&self) -> &'static str {
        match self {
            SystemSpec::Random => "random",
            SystemSpec::ClusterGcn { .. } => "cluster-gcn",
            SystemSpec::CommRand { .. } => "comm-rand",
        }
    }

    /// Checks the knobs; errors name `params.*`.
    pub fn validate(&self) -> Result<(), InputError> {
        let bad = |field: &str, message: String| InputError::Invalid {
            field: format!("params.{field}"),
            message,
        };
        match *self {
            SystemSpec::Random => Ok(()),
            SystemSpec::ClusterGcn { parts, parts_per_batch } => {
                if parts == 0 {
                    return Err(bad("parts", "must be at least 1".into()));
                }
                if parts_per_batch == 0 || parts_per_batch > parts {
                    return Err(bad(
                        "parts_per_batch",
                        format!("{parts_per_batch} is not between 1 and parts ({parts})"),
                    ));
                }
                Ok(())
            }
            SystemSpec::CommRand { alpha, bias } => {
                if !(0.0..=1.0).contains(&alpha) {
                    return Err(bad(
                        "alpha",
                        format!("{alpha} is not in [0, 1] (0 = community-sequential, 1 = random)"),
                    ));
                }
                if !(0.0..=1.0).contains(&bias) {
                    return Err(bad(
                        "bias",
                        format!("{bias} is not in [0, 1] (0 = uniform neighbour sampling)"),
                    ));
                }
                Ok(())
            }
        }
    }

    /// One epoch of batches of about `b` roots from `train`; `groups[v]` is node `v`'s METIS
    /// part (Cluster-GCN) or community (COMM-RAND), unused by random batching.
    pub fn epoch(
        &self,
        train: &[u32],
        groups: &[u32],
        b: usize,
        rng: &mut StreamRng,
    ) -> Result<Vec<Batch>, InputError> {
        let plain = |roots: Vec<Vec<u32>>| {
            roots.into_iter().map(|roots| Batch { roots, parts: Vec::new() }).collect()
        };
        Ok(match *self {
            SystemSpec::Random => plain(random::random(train, b, rng)),
            SystemSpec::ClusterGcn { parts_per_batch, .. } => {
                cluster_gcn::cluster_gcn(train, groups, parts_per_batch as usize, rng)
            }
            SystemSpec::CommRand { alpha, .. } => {
                plain(comm_rand::comm_rand(train, groups, b, alpha, rng)?)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policies::{cluster_gcn::cluster_gcn, comm_rand::comm_rand, random::random};
    use proptest::prelude::*;
    use simcore::RandomStreams;

    proptest! {
        #[test]
        fn every_training_node_is_a_root_once_per_epoch(
            n in 1u32..400, b in 1usize..64, alpha in 0.0f64..=1.0, k in 1u32..20, q in 1usize..5, seed in 0u64..100,
        ) {
            let train: Vec<u32> = (0..n).filter(|v| v % 3 != 1).collect();
            let community: Vec<u32> = (0..n).map(|v| (v * 7 + 3) % k).collect();
            let mut rng = RandomStreams::new(seed).stream("batches");
            let mut all = [
                random(&train, b, &mut rng),
                cluster_gcn(&train, &community, q, &mut rng).into_iter().map(|b| b.roots).collect(),
                comm_rand(&train, &community, b, alpha, &mut rng).unwrap(),
            ];
            for (i, batches) in all.iter_mut().enumerate() {
                if i != 1 {
                    prop_assert!(batches.iter().all(|x| x.len() <= b));
                }
                let mut roots: Vec<u32> = batches.concat();
                roots.sort_unstable();
                prop_assert_eq!(&roots, &train);
            }
        }
    }

    #[test]
    fn alpha_zero_stays_inside_communities() {
        // 10 communities of 50 training nodes, batches of 25: each batch is one community's half.
        let community: Vec<u32> = (0..500).map(|v| v / 50).collect();
        let train: Vec<u32> = (0..500).collect();
        let mut rng = RandomStreams::new(1).stream("b");
        let batches = comm_rand(&train, &community, 25, 0.0, &mut rng).unwrap();
        for batch in &batches {
            let c = community[batch[0] as usize];
            assert!(batch.iter().all(|&v| community[v as usize] == c));
        }
        let e = comm_rand(&train, &community, 25, 1.5, &mut rng).unwrap_err().to_string();
        assert!(e.starts_with("params.alpha"), "{e}");
    }

    #[test]
    fn alpha_one_batches_look_random() {
        // Distinct communities per batch of 20 from 20 communities of 100: random batches hit
        // about 20 * (1 - (1 - 1/20)^20) = 12.8 communities; community-sequential ones 1.
        let community: Vec<u32> = (0..2000).map(|v| v / 100).collect();
        let train: Vec<u32> = (0..2000).collect();
        let distinct = |alpha: f64, seed: u64| {
            let mut rng = RandomStreams::new(seed).stream("b");
            let batches = comm_rand(&train, &community, 20, alpha, &mut rng).unwrap();
            let total: usize = batches
                .iter()
                .map(|b| {
                    let mut c: Vec<u32> = b.iter().map(|&v| community[v as usize]).collect();
                    c.sort_unstable();
                    c.dedup();
                    c.len()
                })
                .sum();
            total as f64 / batches.len() as f64
        };
        let (r, s) = (distinct(1.0, 4), distinct(0.0, 4));
        assert!((r - 12.83).abs() < 0.4, "{r}");
        assert!(s < 1.2, "{s}");
        let mut rng = RandomStreams::new(4).stream("b");
        let plain = random(&train, 20, &mut rng);
        let plain_distinct: f64 = plain
            .iter()
            .map(|b| {
                let mut c: Vec<u32> = b.iter().map(|&v| community[v as usize]).collect();
                c.sort_unstable();
                c.dedup();
                c.len() as f64
            })
            .sum::<f64>()
            / plain.len() as f64;
        assert!((plain_distinct - r).abs() < 0.4, "{plain_distinct} vs {r}");
    }

    #[test]
    fn knobs_outside_their_ranges_are_rejected() {
        let e = SystemSpec::CommRand { alpha: -0.1, bias: 0.0 }.validate().unwrap_err().to_string();
        assert!(e.starts_with("params.alpha"), "{e}");
        let e = SystemSpec::CommRand { alpha: 0.5, bias: 2.0 }.validate().unwrap_err().to_string();
        assert!(e.starts_with("params.bias"), "{e}");
        let e = SystemSpec::ClusterGcn { parts: 10, parts_per_batch: 11 }.validate().unwrap_err();
        assert!(e.to_string().starts_with("params.parts_per_batch"), "{e}");
        assert!(SystemSpec::CommRand { alpha: 1.0, bias: 1.0 }.validate().is_ok());
    }
}
