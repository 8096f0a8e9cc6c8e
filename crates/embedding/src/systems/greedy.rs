//! TorchRec's greedy partitioner (torchrec/distributed/planner/partitioners.py, as the
//! reference describes it): tables in decreasing order of storage; each shard goes to the
//! device with the lowest total estimated perf so far among those where it fits.
//!
//! Kernels: `fused` (all rows in HBM), `fused_uvm_caching` (rows in host memory, an HBM cache
//! of 20% of them), `fused_uvm` (host memory only). TorchRec's proposers search over kernel
//! choices with the estimator; here (a simplification, stated in docs/models/embedding.md)
//! every table starts with the kernel that needs the least HBM and tables are upgraded in
//! order of estimated time saved per HBM byte while the cluster's total HBM allows; a shard
//! that then fits on no GPU falls back to the next slower kernel. A table that fits nowhere is
//! an error. Baselines store every one of a table's `H` rows, used or not.

use crate::access::Popularity;
use crate::cache::lru_hit_rate;
use crate::estimator::{CACHE_RATIO, Kernel, ShardShape, shard_perf};
use crate::plan::{Placement, Plan, Scope, Sync};
use crate::systems::PlanCtx;
use simcore::InputError;

/// Where the shards of a table may go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Where {
    /// Each shard to any GPU (table-wise, column-wise).
    Any,
    /// Shard `i` to GPU `i` (row-wise, data-parallel).
    EveryGpu,
    /// All shards to one node, shard `i` to its `i`-th GPU (table-row-wise).
    OneNode,
}

/// How a baseline splits one table.
#[derive(Clone, Debug, PartialEq)]
pub struct TableShards {
    /// Table index.
    pub table: usize,
    /// The shards' shape (all alike).
    pub shape: ShardShape,
    /// Number of shards.
    pub count: u32,
    /// Where they go.
    pub place: Where,
}

const KERNELS: [Kernel; 3] = [Kernel::Fused, Kernel::FusedUvmCaching, Kernel::FusedUvm];

/// Places `splits` (one per table) greedily and returns the plan.
pub fn partition(
    ctx: &PlanCtx<'_>,
    mut splits: Vec<TableShards>,
    system: &str,
) -> Result<Plan, InputError> {
    let tiers = ctx.tiers;
    let g = tiers.gpus as usize;
    let mut perf = vec![0.0f64; g];
    let mut hbm_free = vec![tiers.hbm_capacity; g];
    let mut uvm_free = vec![tiers.uvm_capacity; g];
    let mut plan = Plan::default();
    let storage = |s: &TableShards| {
        ctx.tables[s.table].bytes()
            * s.shape.col_share
            * f64::from(s.count)
            * if s.shape.replica { 1.0 } else { s.shape.access_share }
    };
    splits.sort_by(|a, b| storage(b).total_cmp(&storage(a)).then(a.table.cmp(&b.table)));
    let preferred = preferred_kernels(ctx, &splits);
    for (s, &first) in splits.iter().zip(&preferred) {
        let t = &ctx.tables[s.table];
        let rows_share = if s.shape.replica { 1.0 } else { s.shape.access_share };
        let bytes = t.bytes() * rows_share * s.shape.col_share;
        let shard_pop = Popularity::new(
            ((t.used as f64 * rows_share).round() as u64).max(1),
            t.popularity.alpha,
        );
        let cache_rows = CACHE_RATIO * t.spec.rows as f64 * rows_share;
        let mut placed = false;
        for kernel in KERNELS.into_iter().skip_while(|&k| k != first) {
            let (hbm, uvm, hit) = match kernel {
                Kernel::Fused => (bytes, 0.0, 1.0),
                Kernel::FusedUvmCaching => {
                    (CACHE_RATIO * bytes, bytes, lru_hit_rate(&shard_pop, cache_rows))
                }
                Kernel::FusedUvm => (0.0, bytes, 0.0),
            };
            let cost = shard_perf(t, s.shape, kernel, &ctx.hw);
            let fits = |gpu: usize, hbm_free: &[f64], uvm_free: &[f64]| {
                hbm <= hbm_free[gpu] && uvm <= uvm_free[gpu]
            };
            let gpus: Vec<usize> = match s.place {
                Where::EveryGpu => {
                    if (0..s.count as usize).all(|i| fits(i, &hbm_free, &uvm_free)) {
                        (0..s.count as usize).collect()
                    } else {
                        continue;
                    }
                }
                Where::OneNode => {
                    let per = tiers.gpus_per_node as usize;
                    let best = (0..tiers.nodes() as usize)
                        .filter(|n| {
                            (0..s.count as usize)
                                .all(|i| n * per + i < g && fits(n * per + i, &hbm_free, &uvm_free))
                        })
                        .min_by(|&a, &b| {
                            let sum = |n: usize| {
                                (0..per)
                                    .map(|i| perf.get(n * per + i).copied().unwrap_or(0.0))
                                    .sum::<f64>()
                            };
                            sum(a).total_cmp(&sum(b)).then(a.cmp(&b))
                        });
                    match best {
                        Some(n) => (0..s.count as usize)
                            .map(|i| n * tiers.gpus_per_node as usize + i)
                            .collect(),
                        None => continue,
                    }
                }
                Where::Any => {
                    let mut chosen = Vec::new();
                    let (mut hf, mut uf, mut pf) =
                        (hbm_free.clone(), uvm_free.clone(), perf.clone());
                    for _ in 0..s.count {
                        let Some(best) = (0..g)
                            .filter(|&i| fits(i, &hf, &uf))
                            .min_by(|&a, &b| pf[a].total_cmp(&pf[b]).then(a.cmp(&b)))
                        else {
                            break;
                        };
                        hf[best] -= hbm;
                        uf[best] -= uvm;
                        pf[best] += cost;
                        chosen.push(best);
                    }
                    if chosen.len() < s.count as usize {
                        continue;
                    }
                    chosen
                }
            };
            for &gpu in &gpus {
                hbm_free[gpu] -= hbm;
                uvm_free[gpu] -= uvm;
                perf[gpu] += cost;
                plan.placements.push(Placement {
                    table: s.table,
                    gpu: gpu as u32,
                    scope: if s.shape.replica { Scope::Local } else { Scope::Global },
                    access_share: if s.shape.replica { 1.0 } else { s.shape.access_share },
                    col_share: s.shape.col_share,
                    hbm_hit: hit,
                    hbm_bytes: hbm,
                    uvm_bytes: uvm,
                    partial: s.shape.partial,
                    node_reduce: s.shape.node_reduce,
                });
            }
            if s.shape.replica {
                plan.syncs.push(Sync {
                    table: s.table,
                    group: gpus.iter().map(|&x| x as u32).collect(),
                    bytes: t.bytes() * s.shape.col_share,
                });
            }
            placed = true;
            break;
        }
        if !placed {
            return Err(InputError::invalid(
                "tables",
                format!(
                    "table {} ({:.3} GB in {} shard(s)) fits nowhere with {system}: per GPU {:.3} GB of HBM and {:.3} GB of host memory are left at best; set workload.memory or use more GPUs",
                    if t.spec.name.is_empty() { s.table.to_string() } else { t.spec.name.clone() },
                    t.bytes() * s.shape.col_share / 1e9,
                    s.count,
                    hbm_free.iter().copied().fold(0.0, f64::max) / 1e9,
                    uvm_free.iter().copied().fold(0.0, f64::max) / 1e9,
                ),
            ));
        }
    }
    Ok(plan)
}

/// HBM bytes a table's shards need with `kernel`.
fn hbm_need(ctx: &PlanCtx<'_>, s: &TableShards, kernel: Kernel) -> f64 {
    let rows_share = if s.shape.replica { 1.0 } else { s.shape.access_share };
    let bytes = ctx.tables[s.table].bytes() * rows_share * s.shape.col_share * f64::from(s.count);
    match kernel {
        Kernel::Fused => bytes,
        Kernel::FusedUvmCaching => CACHE_RATIO * bytes,
        Kernel::FusedUvm => 0.0,
    }
}

/// The kernel each table starts from: the least HBM for all, then upgrades by estimated time
/// saved per extra HBM byte while the cluster's HBM allows.
fn preferred_kernels(ctx: &PlanCtx<'_>, splits: &[TableShards]) -> Vec<Kernel> {
    let budget = ctx.tiers.hbm_capacity * f64::from(ctx.tiers.gpus);
    let mut kernel = vec![Kernel::FusedUvm; splits.len()];
    let mut used = 0.0;
    let perf = |s: &TableShards, k: Kernel| {
        shard_perf(&ctx.tables[s.table], s.shape, k, &ctx.hw) * f64::from(s.count)
    };
    loop {
        // The best upgrade by saving per byte.
        let mut best: Option<(usize, Kernel, f64, f64)> = None;
        for (i, s) in splits.iter().enumerate() {
            let next = match kernel[i] {
                Kernel::FusedUvm => Kernel::FusedUvmCaching,
                Kernel::FusedUvmCaching => Kernel::Fused,
                Kernel::Fused => continue,
            };
            let extra = hbm_need(ctx, s, next) - hbm_need(ctx, s, kernel[i]);
            if used + extra > budget {
                continue;
            }
            let saving = perf(s, kernel[i]) - perf(s, next);
            let density = saving / extra.max(1.0);
            if best.is_none_or(|b| density > b.2) {
                best = Some((i, next, density, extra));
            }
        }
        let Some((i, next, _, extra)) = best else { break };
        kernel[i] = next;
        used += extra;
    }
    kernel
}
