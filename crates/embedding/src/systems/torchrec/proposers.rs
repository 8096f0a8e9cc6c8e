//! TorchRec's default proposers (`torchrec/distributed/planner/proposers.py`; the planner's
//! default list is `GridSearchProposer`, `GreedyProposer()`, `GreedyProposer(use_depth=False)`,
//! `UniformProposer`), and the [`Search`] that partitions and rates each proposal once and
//! keeps the best (`planners.py`: the lowest perf rating among partitionable proposals; a
//! proposal seen before is not partitioned again).
//!
//! - grid search: every combination of options, when there are at most 10,000;
//! - greedy: every table starts with its best option by score (the largest shard perf with
//!   `use_depth`, else the sum over shards); after each proposal the table whose current option
//!   uses the most storage (largest shard HBM, then total HBM, largest shard host memory, total
//!   host memory) moves to its next option, until no table has one left;
//! - uniform: for each sharding type every table offers, every table's best option of it.

use std::collections::HashMap;

use crate::tiers::Tiers;

use super::Sharding;
use super::enumerator::ShardingOption;
use super::partitioner::{Partition, partition};

/// TorchRec's `MAX_PROPOSALS`: the grid search runs only below this many combinations.
pub const MAX_PROPOSALS: f64 = 1e4;

/// The best plan found.
#[derive(Clone, Debug, PartialEq)]
pub struct Best {
    /// One option per table, in table order.
    pub options: Vec<ShardingOption>,
    /// Where their shards went.
    pub partition: Partition,
}

/// Partitions and rates proposals, remembering every one and the best.
pub struct Search<'a> {
    tiers: &'a Tiers,
    seen: HashMap<u64, Option<f64>>,
    best: Option<Best>,
}

impl<'a> Search<'a> {
    /// An empty search on `tiers`.
    pub fn new(tiers: &'a Tiers) -> Search<'a> {
        Search { tiers, seen: HashMap::new(), best: None }
    }

    /// The rating of `proposal` (one option per table, in table order), `None` if it does not
    /// partition. With `prune`, a proposal whose rating cannot be below the best one's is not
    /// partitioned (and `None` returned): every GPU carries the uniform options' shards, one
    /// GPU also the largest other shard, and the busiest at least the mean. The best plan is
    /// the same as without it; proposers that learn from the rating do not prune.
    pub fn evaluate(&mut self, proposal: &[&ShardingOption], prune: bool) -> Option<f64> {
        let key = proposal.iter().fold(0u64, |h, o| h.wrapping_add(o.key));
        if let Some(r) = self.seen.get(&key) {
            return *r;
        }
        if prune && let Some(best) = &self.best {
            let (mut total, mut uniform, mut largest) = (0.0, 0.0, 0.0f64);
            for o in proposal {
                total += o.perf * f64::from(o.count);
                if o.uniform() && o.count == self.tiers.gpus {
                    uniform += o.perf;
                } else {
                    largest = largest.max(o.perf);
                }
            }
            let bound = (total / f64::from(self.tiers.gpus.max(1))).max(uniform + largest);
            if bound >= best.partition.rating {
                return None;
            }
        }
        let p = partition(proposal, self.tiers);
        let rating = p.as_ref().map(|p| p.rating);
        if let Some(p) = p
            && self.best.as_ref().is_none_or(|b| p.rating < b.partition.rating)
        {
            self.best =
                Some(Best { options: proposal.iter().map(|&o| o.clone()).collect(), partition: p });
        }
        self.seen.insert(key, rating);
        rating
    }

    /// Distinct proposals evaluated.
    pub fn proposals(&self) -> usize {
        self.seen.len()
    }

    /// The best plan so far.
    pub fn best(&self) -> Option<&Best> {
        self.best.as_ref()
    }

    /// The best plan.
    pub fn into_best(self) -> Option<Best> {
        self.best
    }
}

/// Per table, the indices of its options sorted by score (stable: ties keep enumeration
/// order).
pub fn sorted(options: &[Vec<ShardingOption>], use_depth: bool) -> Vec<Vec<usize>> {
    options
        .iter()
        .map(|opts| {
            let mut idx: Vec<usize> = (0..opts.len()).collect();
            idx.sort_by(|&a, &b| opts[a].score(use_depth).total_cmp(&opts[b].score(use_depth)));
            idx
        })
        .collect()
}

/// `GridSearchProposer`: every combination, first table outermost, if there are at most
/// [`MAX_PROPOSALS`].
pub fn grid(search: &mut Search<'_>, options: &[Vec<ShardingOption>]) {
    let order = sorted(options, true);
    let total: f64 = order.iter().map(|o| o.len() as f64).product();
    if total > MAX_PROPOSALS || order.iter().any(Vec::is_empty) {
        return;
    }
    let mut idx = vec![0usize; order.len()];
    loop {
        let proposal: Vec<&ShardingOption> =
            idx.iter().enumerate().map(|(j, &i)| &options[j][order[j][i]]).collect();
        search.evaluate(&proposal, true);
        // Odometer, last table fastest.
        let mut j = idx.len();
        loop {
            if j == 0 {
                return;
            }
            j -= 1;
            idx[j] += 1;
            if idx[j] < order[j].len() {
                break;
            }
            idx[j] = 0;
        }
    }
}

/// `GreedyProposer(use_depth)`.
pub fn greedy(search: &mut Search<'_>, options: &[Vec<ShardingOption>], use_depth: bool) {
    let order = sorted(options, use_depth);
    if order.iter().any(Vec::is_empty) {
        return;
    }
    let mut idx = vec![0usize; order.len()];
    let mut proposal: Vec<&ShardingOption> =
        (0..order.len()).map(|j| &options[j][order[j][0]]).collect();
    loop {
        search.evaluate(&proposal, true);
        let mut largest: Option<(usize, [f64; 4])> = None;
        for (j, o) in proposal.iter().enumerate() {
            if idx[j] + 1 >= order[j].len() {
                continue;
            }
            let s = [o.hbm, o.total_hbm(), o.ddr, o.total_ddr()];
            let bigger = |than: &[f64; 4]| {
                s.iter()
                    .zip(than)
                    .map(|(a, b)| a.total_cmp(b))
                    .find(|c| c.is_ne())
                    .is_some_and(|c| c.is_gt())
            };
            if bigger(&largest.map_or([0.0; 4], |l| l.1)) {
                largest = Some((j, s));
            }
        }
        let Some((j, _)) = largest else { return };
        idx[j] += 1;
        proposal[j] = &options[j][order[j][idx[j]]];
    }
}

/// `UniformProposer`: per sharding type (in `types` order) that every table offers, each
/// table's best option of that type.
pub fn uniform(search: &mut Search<'_>, options: &[Vec<ShardingOption>], types: &[Sharding]) {
    let order = sorted(options, true);
    for &s in types {
        let proposal: Option<Vec<&ShardingOption>> = order
            .iter()
            .enumerate()
            .map(|(j, idx)| idx.iter().map(|&i| &options[j][i]).find(|o| o.sharding == s))
            .collect();
        if let Some(p) = proposal {
            search.evaluate(&p, true);
        }
    }
}
