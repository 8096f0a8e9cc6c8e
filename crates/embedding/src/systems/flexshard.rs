//! FlexShard (Sethi et al., arXiv 2301.02959; interpretation of its abstract, see
//! docs/models/embedding.md): for sequence (unpooled) tables, whose all-to-all traffic
//! dominates, rows are tiered by access probability:
//!
//! - tier 0, the hottest `k0` rows: a replica on every GPU; lookups stay local, the rows'
//!   gradients are all-reduced over all GPUs every step (dense over the `k0` rows);
//! - tier 1, the next `k1` rows: one replica per node, row-wise over the node's `P` GPUs;
//!   lookups stay on NVLink, gradients are all-reduced across nodes (`P` groups of one GPU
//!   per node, `k1 / P` rows each);
//! - tier 2, the other used rows: row-wise over all `G` GPUs (global all-to-all).
//!
//! Memory: the same budget per GPU as plain row-wise sharding of the whole hash table,
//! `H d e / G`; FlexShard stores only the used rows, so the rows hashing leaves unused pay for
//! the replicas: `k0 + k1 / P + (U - k0 - k1) / G <= H / G` rows per GPU.
//!
//! `(k0, k1)` minimise the expected communication time of the table's step, on a grid of
//! powers of two: with `L` lookups, per-lookup bytes `8 + 2 d e` (id, row out, gradient back),
//! tier shares `f0 = F(k0)`, `f1 = F(k0 + k1) - f0`, `f2 = 1 - f0 - f1`, node-crossing
//! bytes `L f2 (G - P) / G (8 + 2de)` over the `G` NICs at `BW_inter` each, NVLink bytes
//! `L [f1 (P - 1) / P + f2 (P - 1) / G] (8 + 2de)` over `G` GPUs at `BW_intra`, plus the two
//! all-reduces, of `k0 d e` bytes over all GPUs and `(k1 / P) d e` over one GPU per node,
//! each `alpha + bytes / beta` with `(alpha, beta)` fitted to the cluster's collective model
//! ([`crate::tiers::Tiers`]). Pooled tables are sharded row-wise, like the baseline. All
//! rows live in HBM.

use super::PlanCtx;
use crate::plan::{Placement, Plan, Scope, Sync};
use simcore::InputError;

/// The tier sizes chosen for one table.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TierSizes {
    /// Rows replicated on every GPU.
    pub k0: u64,
    /// Rows replicated once per node.
    pub k1: u64,
    /// Expected communication seconds per step.
    pub comm_s: f64,
}

/// Powers of two up to `max`, with 0 first.
fn grid(max: u64) -> Vec<u64> {
    let mut v = vec![0];
    let mut k = 1u64;
    while k <= max {
        v.push(k);
        k = k.saturating_mul(2);
    }
    if *v.last().unwrap_or(&0) != max {
        v.push(max);
    }
    v
}

/// The best tier sizes of table `j` (a sequence table).
pub fn tier_sizes(ctx: &PlanCtx<'_>, j: usize) -> TierSizes {
    let t = &ctx.tables[j];
    let tiers = ctx.tiers;
    let (g, p) = (f64::from(tiers.gpus), f64::from(tiers.gpus_per_node.min(tiers.gpus)));
    let n = f64::from(tiers.nodes());
    let e = f64::from(ctx.elem);
    let rb = f64::from(t.spec.dim) * e;
    let scale = ctx.scales.get(j).map_or(1.0, |s| s.lookups);
    let lookups = ctx.batch * t.spec.lookups_per_sample() * scale;
    let per = 8.0 + 2.0 * rb;
    let used = t.used as f64;
    let budget_rows = t.spec.rows as f64 / g;
    let comm = |k0: u64, k1: u64| -> f64 {
        let f0 = t.popularity.hot_share(k0);
        let f01 = t.popularity.hot_share(k0.saturating_add(k1));
        let (f1, f2) = (f01 - f0, 1.0 - f01);
        let inter = lookups * f2 * (g - p) / g * per / (g * tiers.inter_bw);
        let intra =
            lookups * (f1 * (p - 1.0) / p + f2 * (p - 1.0) / g) * per / (g * tiers.intra_bw);
        let ar = |(alpha, bw): (f64, f64), bytes: f64| {
            if bytes > 0.0 { alpha + bytes / bw } else { 0.0 }
        };
        let sync0 = if g > 1.0 { ar(tiers.allreduce_all, k0 as f64 * rb) } else { 0.0 };
        let sync1 = if n > 1.0 { ar(tiers.allreduce_nodes, k1 as f64 / p * rb) } else { 0.0 };
        inter + intra + sync0 + sync1
    };
    let fits = |k0: u64, k1: u64| {
        let (a, b) = (k0 as f64, k1 as f64);
        a + b <= used && a + b / p + (used - a - b) / g <= budget_rows.max(used / g) + 1e-9
    };
    let mut best = TierSizes { k0: 0, k1: 0, comm_s: comm(0, 0) };
    let ks = grid(t.used);
    for &k0 in &ks {
        for &k1 in &ks {
            if !fits(k0, k1) {
                break;
            }
            let c = comm(k0, k1);
            if c < best.comm_s * (1.0 - 1e-12) {
                best = TierSizes { k0, k1, comm_s: c };
            }
        }
    }
    best
}

/// The plan.
pub fn plan(ctx: &PlanCtx<'_>) -> Result<Plan, InputError> {
    let tiers = ctx.tiers;
    let g = tiers.gpus;
    let p = tiers.gpus_per_node.min(g);
    let nodes = tiers.nodes();
    let e = f64::from(ctx.elem);
    let mut plan = Plan::default();
    let mut hbm = vec![0.0f64; g as usize];
    for (j, t) in ctx.tables.iter().enumerate() {
        let rb = f64::from(t.spec.dim) * e;
        let mut put = |plan: &mut Plan, gpu: u32, scope: Scope, share: f64, bytes: f64| {
            hbm[gpu as usize] += bytes;
            plan.placements.push(Placement {
                table: j,
                gpu,
                scope,
                access_share: share,
                col_share: 1.0,
                hbm_hit: 1.0,
                hbm_bytes: bytes,
                uvm_bytes: 0.0,
                partial: !t.spec.sequence,
                node_reduce: false,
                cache_fills: 0.0,
            });
        };
        if !t.spec.sequence {
            for gpu in 0..g {
                put(&mut plan, gpu, Scope::Global, 1.0 / f64::from(g), t.bytes() / f64::from(g));
            }
            continue;
        }
        let k = tier_sizes(ctx, j);
        let f0 = t.popularity.hot_share(k.k0);
        let f1 = t.popularity.hot_share(k.k0 + k.k1) - f0;
        let rest = t.used.saturating_sub(k.k0 + k.k1) as f64;
        for gpu in 0..g {
            if k.k0 > 0 {
                put(&mut plan, gpu, Scope::Local, f0, k.k0 as f64 * rb);
            }
            if k.k1 > 0 {
                put(
                    &mut plan,
                    gpu,
                    Scope::Node,
                    f1 / f64::from(p),
                    k.k1 as f64 * rb / f64::from(p),
                );
            }
            put(
                &mut plan,
                gpu,
                Scope::Global,
                (1.0 - f0 - f1) / f64::from(g),
                rest * rb / f64::from(g),
            );
        }
        if k.k0 > 0 && g > 1 {
            plan.syncs.push(Sync { table: j, group: (0..g).collect(), bytes: k.k0 as f64 * rb });
        }
        if k.k1 > 0 && nodes > 1 {
            for i in 0..p {
                plan.syncs.push(Sync {
                    table: j,
                    group: (0..nodes).map(|n| n * p + i).filter(|&x| x < g).collect(),
                    bytes: k.k1 as f64 * rb / f64::from(p),
                });
            }
        }
    }
    if let Some((gpu, &b)) = hbm.iter().enumerate().find(|(_, b)| **b > tiers.hbm_capacity) {
        return Err(InputError::invalid(
            "memory.hbm",
            format!(
                "flexshard keeps every row in HBM: GPU {gpu} needs {:.3} GB of the {:.3} GB set; raise memory.hbm or use more GPUs",
                b / 1e9,
                tiers.hbm_capacity / 1e9
            ),
        ));
    }
    Ok(plan)
}
