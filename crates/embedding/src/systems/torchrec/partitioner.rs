//! TorchRec's `GreedyPerfPartitioner` (`torchrec/distributed/planner/partitioners.py`, default
//! `sort_by = STORAGE`) and its `NoopPerfModel` rating:
//!
//! 1. options partitioned by `uniform` (row-wise, data-parallel) first, in proposal order:
//!    shard `i` on GPU `i`; a shard that does not fit fails the proposal;
//! 2. the others in decreasing order of their total storage (HBM, then host bytes; ties keep
//!    proposal order): a table-wise or column-wise shard (`partition_by = device`) goes to the
//!    GPU with the lowest perf so far among those it fits on (ties: lower rank within the node,
//!    then lower rank); a table-row-wise option (`partition_by = host`) goes to the first node,
//!    in increasing order of its GPUs' summed perf, where shard `i` fits on its `i`-th GPU;
//! 3. the rating of a plan is its largest per-GPU perf sum.

use crate::tiers::Tiers;

use super::Sharding;
use super::enumerator::ShardingOption;

/// Where a proposal's shards went.
#[derive(Clone, Debug, PartialEq)]
pub struct Partition {
    /// Per option of the proposal (in its order), the GPU of each shard.
    pub gpus: Vec<Vec<u32>>,
    /// Per GPU, the summed perf of its shards.
    pub perf: Vec<f64>,
    /// The largest of `perf`.
    pub rating: f64,
}

/// Places `proposal` on `tiers`' GPUs, or `None` when some shard fits nowhere.
pub fn partition(proposal: &[&ShardingOption], tiers: &Tiers) -> Option<Partition> {
    let g = tiers.gpus as usize;
    let (cap_hbm, cap_ddr) = (tiers.hbm_capacity, tiers.uvm_capacity);
    // What cannot fit in the whole cluster cannot be partitioned (a shortcut, same answer).
    let (hbm, ddr) =
        proposal.iter().fold((0.0, 0.0), |(h, d), o| (h + o.total_hbm(), d + o.total_ddr()));
    if hbm > cap_hbm * g as f64 || ddr > cap_ddr * g as f64 {
        return None;
    }
    let mut hbm_free = vec![cap_hbm; g];
    let mut ddr_free = vec![cap_ddr; g];
    let mut perf = vec![0.0f64; g];
    let mut gpus: Vec<Vec<u32>> = vec![Vec::new(); proposal.len()];
    let fits =
        |o: &ShardingOption, i: usize, hf: &[f64], df: &[f64]| o.hbm <= hf[i] && o.ddr <= df[i];
    for (n, o) in proposal.iter().enumerate().filter(|(_, o)| o.uniform()) {
        for i in 0..(o.count as usize).min(g) {
            if !fits(o, i, &hbm_free, &ddr_free) {
                return None;
            }
            hbm_free[i] -= o.hbm;
            ddr_free[i] -= o.ddr;
            perf[i] += o.perf;
            gpus[n].push(i as u32);
        }
    }
    let mut rest: Vec<usize> = (0..proposal.len()).filter(|&n| !proposal[n].uniform()).collect();
    rest.sort_by(|&a, &b| {
        let key = |n: usize| (proposal[n].total_hbm(), proposal[n].total_ddr());
        let (ka, kb) = (key(a), key(b));
        kb.0.total_cmp(&ka.0).then(kb.1.total_cmp(&ka.1))
    });
    let per = (tiers.gpus_per_node as usize).clamp(1, g.max(1));
    for n in rest {
        let o = proposal[n];
        if o.sharding == Sharding::TableRowWise {
            let nodes = g.div_ceil(per);
            let mut order: Vec<usize> = (0..nodes).collect();
            let node_perf = |h: usize| perf[h * per..((h + 1) * per).min(g)].iter().sum::<f64>();
            order.sort_by(|&a, &b| node_perf(a).total_cmp(&node_perf(b)).then(a.cmp(&b)));
            let count = o.count as usize;
            let host = order.into_iter().find(|&h| {
                h * per + count <= g
                    && (0..count).all(|i| fits(o, h * per + i, &hbm_free, &ddr_free))
            })?;
            for i in 0..count {
                let d = host * per + i;
                hbm_free[d] -= o.hbm;
                ddr_free[d] -= o.ddr;
                perf[d] += o.perf;
                gpus[n].push(d as u32);
            }
        } else {
            for _ in 0..o.count {
                let d = (0..g).filter(|&i| fits(o, i, &hbm_free, &ddr_free)).min_by(|&a, &b| {
                    perf[a].total_cmp(&perf[b]).then((a % per).cmp(&(b % per))).then(a.cmp(&b))
                })?;
                hbm_free[d] -= o.hbm;
                ddr_free[d] -= o.ddr;
                perf[d] += o.perf;
                gpus[n].push(d as u32);
            }
        }
    }
    let rating = perf.iter().copied().fold(0.0, f64::max);
    Some(Partition { gpus, perf, rating })
}
