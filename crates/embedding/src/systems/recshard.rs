//! RecShard (Sethi et al., ASPLOS'22; interpretation of its abstract, see
//! docs/models/embedding.md): place each table whole on one GPU and keep its hottest rows in
//! HBM, the other used rows in host memory, unused rows nowhere (rows are remapped so the hot
//! ones form the HBM slice).
//!
//! Cost of table `j` with its hottest `x_j` rows in HBM, per step:
//! `3 a_j [F_j(x_j) t_HBM + (1 - F_j(x_j)) t_UVM] + comm_j`, where `a_j` is its lookups per
//! step, `F_j` the share of lookups that go to its hottest `x_j` rows
//! ([`Popularity::hot_share`](crate::access::Popularity::hot_share)), `t_tier = max(d, 32) e / BW_tier` per lookup (TorchRec's
//! lookup size), 3 = forward plus TorchRec's twice-as-costly backward, and `comm_j` the time
//! of its output and gradient all-to-all (the same wherever it is placed). A GPU's cost is the
//! sum over its tables; the plan minimises the largest GPU cost under each GPU's HBM budget.
//!
//! For a fixed set of tables on one GPU the best HBM split is exact: `F_j` is concave, so
//! caching rows in decreasing order of `3 a_j (t_UVM - t_HBM) p_j(r) / (d_j e)` (benefit per
//! byte) is optimal; with Zipf rows that is a threshold on rank per table, found by bisection
//! on the threshold ([`gpu_optimum`]). Assigning tables to GPUs is the hard part (the paper
//! solves a MILP): here a greedy pass (heaviest table first, to the GPU whose optimal cost
//! grows least, among the least loaded) and a local search that moves or swaps tables off
//! the most loaded GPU. [`exact`] enumerates every assignment of small instances; a test compares.

use super::PlanCtx;
use crate::plan::{Placement, Plan, Scope};
use crate::tables::Table;
use simcore::InputError;

/// Per-table terms of the cost.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TableCost {
    /// Lookup-time weight: 3 x lookups per step.
    pub weight: f64,
    /// Seconds per lookup from HBM.
    pub t_hbm: f64,
    /// Seconds per lookup from host memory.
    pub t_uvm: f64,
    /// Seconds of output and gradient all-to-all.
    pub comm: f64,
    /// Bytes per stored row.
    pub row_bytes: f64,
    /// Probability of the hottest row.
    pub p1: f64,
    /// Used rows.
    pub used: u64,
}

impl TableCost {
    /// The terms of table `j` under `ctx`.
    pub fn new(ctx: &PlanCtx<'_>, j: usize) -> TableCost {
        let t = &ctx.tables[j];
        let sc = ctx.scales.get(j).copied().unwrap_or_default();
        let (scale, out_scale) = (sc.lookups, sc.outputs);
        let e = f64::from(ctx.elem);
        let lookups = ctx.batch * t.spec.lookups_per_sample() * scale;
        let lookup_bytes = f64::from(t.spec.dim).max(32.0) * e;
        let d = f64::from(t.spec.dim);
        let out = if t.spec.sequence { lookups * d * e } else { ctx.batch * out_scale * d * e };
        let g = f64::from(ctx.tiers.gpus);
        let comm = 2.0 * out * (g - 1.0) / g / ctx.hw.comms_bw;
        TableCost {
            weight: 3.0 * lookups,
            t_hbm: lookup_bytes / ctx.tiers.hbm_bw,
            t_uvm: lookup_bytes / ctx.tiers.uvm_bw,
            comm,
            row_bytes: d * e,
            p1: t.popularity.hot_share(1),
            used: t.used,
        }
    }

    /// Cost with the hottest `x` rows in HBM.
    pub fn cost(&self, table: &Table, x: u64) -> f64 {
        let f = table.popularity.hot_share(x);
        self.comm + self.weight * (f * self.t_hbm + (1.0 - f) * self.t_uvm)
    }

    /// Rows worth caching at benefit-per-byte threshold `lambda`.
    fn rows_at(&self, table: &Table, lambda: f64) -> u64 {
        let gain = self.weight * (self.t_uvm - self.t_hbm) / self.row_bytes;
        if gain <= 0.0 {
            return 0;
        }
        // p(r) = p1 r^-alpha >= lambda / gain  <=>  r <= (lambda / (gain p1))^(-1/alpha).
        let q = lambda / (gain * self.p1);
        let alpha = table.popularity.alpha;
        if q <= 0.0 {
            return self.used;
        }
        if alpha <= 1e-12 {
            return if q <= 1.0 { self.used } else { 0 };
        }
        let r = q.powf(-1.0 / alpha);
        if r >= self.used as f64 { self.used } else { r.floor() as u64 }
    }
}

/// The best HBM split of `members` on one GPU with `capacity` bytes: (rows in HBM per member,
/// the GPU's cost).
pub fn gpu_optimum(
    tables: &[Table],
    costs: &[TableCost],
    members: &[usize],
    capacity: f64,
) -> (Vec<u64>, f64) {
    let (rows, cost, _) = gpu_optimum_with_price(tables, costs, members, capacity);
    (rows, cost)
}

/// [`gpu_optimum`] and the benefit per byte at which it stops caching rows (0 when every used
/// row fits): the price of a byte of HBM on that GPU.
pub fn gpu_optimum_with_price(
    tables: &[Table],
    costs: &[TableCost],
    members: &[usize],
    capacity: f64,
) -> (Vec<u64>, f64, f64) {
    if members.is_empty() {
        return (Vec::new(), 0.0, 0.0);
    }
    let bytes_at = |lambda: f64| -> f64 {
        members
            .iter()
            .map(|&j| costs[j].rows_at(&tables[j], lambda) as f64 * costs[j].row_bytes)
            .sum()
    };
    let all: f64 = members.iter().map(|&j| costs[j].used as f64 * costs[j].row_bytes).sum();
    let mut price = 0.0;
    let rows: Vec<u64> = if all <= capacity {
        members.iter().map(|&j| costs[j].used).collect()
    } else {
        // Bisection on log(lambda): bytes_at falls as lambda grows.
        let (mut lo, mut hi) = (-80.0f64, 80.0f64);
        for _ in 0..48 {
            let mid = 0.5 * (lo + hi);
            if bytes_at(mid.exp()) > capacity {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        let (at_hi, at_lo) = (hi.exp(), lo.exp());
        price = at_hi;
        let mut rows: Vec<u64> =
            members.iter().map(|&j| costs[j].rows_at(&tables[j], at_hi)).collect();
        // Tables at the threshold (all of them when alpha = 0: equal rows) share what is left,
        // in member order.
        let mut left = capacity - bytes_at(at_hi);
        for (k, &j) in members.iter().enumerate() {
            let more = costs[j].rows_at(&tables[j], at_lo).saturating_sub(rows[k]);
            let fit = ((left / costs[j].row_bytes).floor().max(0.0) as u64).min(more);
            rows[k] += fit;
            left -= fit as f64 * costs[j].row_bytes;
        }
        rows
    };
    let cost = members.iter().zip(&rows).map(|(&j, &x)| costs[j].cost(&tables[j], x)).sum();
    (rows, cost, price)
}

/// Candidate GPUs tried per table in the greedy pass (the least loaded ones).
const CANDIDATES: usize = 16;

/// The plan, with `rounds` rounds of local search.
pub fn plan(ctx: &PlanCtx<'_>, rounds: u32) -> Result<Plan, InputError> {
    let tables = ctx.tables;
    let g = ctx.tiers.gpus as usize;
    let cap = ctx.tiers.hbm_capacity;
    let costs: Vec<TableCost> = (0..tables.len()).map(|j| TableCost::new(ctx, j)).collect();
    let used_bytes = |j: usize| costs[j].used as f64 * costs[j].row_bytes;
    let mut order: Vec<usize> = (0..tables.len()).collect();
    let uvm_cost = |j: usize| costs[j].cost(&tables[j], 0);
    order.sort_by(|&a, &b| uvm_cost(b).total_cmp(&uvm_cost(a)).then(a.cmp(&b)));
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); g];
    let mut gpu_cost = vec![0.0f64; g];
    let mut stored = vec![0.0f64; g];
    let total_cap = cap + ctx.tiers.uvm_capacity;
    for &j in &order {
        let mut by_load: Vec<usize> =
            (0..g).filter(|&i| stored[i] + used_bytes(j) <= total_cap).collect();
        if by_load.is_empty() {
            let t = &tables[j];
            return Err(InputError::invalid(
                "tables",
                format!(
                    "table {} ({:.3} GB of used rows) fits on no GPU with recshard: set workload.memory or use more GPUs",
                    if t.spec.name.is_empty() { j.to_string() } else { t.spec.name.clone() },
                    used_bytes(j) / 1e9
                ),
            ));
        }
        by_load.sort_by(|&a, &b| gpu_cost[a].total_cmp(&gpu_cost[b]).then(a.cmp(&b)));
        by_load.truncate(CANDIDATES);
        let mut best: Option<(usize, f64)> = None;
        for &i in &by_load {
            let mut m = members[i].clone();
            m.push(j);
            let (_, c) = gpu_optimum(tables, &costs, &m, cap);
            if best.is_none_or(|(_, bc)| c < bc) {
                best = Some((i, c));
            }
        }
        let (i, c) = best.unwrap_or((by_load[0], f64::INFINITY));
        members[i].push(j);
        gpu_cost[i] = c;
        stored[i] += used_bytes(j);
    }
    // Local search: move a table off the most loaded GPU, or swap it with a table of another
    // GPU, when that lowers the pair's maximum below the current worst.
    //
    // Candidates that cannot beat the one in hand are not solved. The bound is weak duality:
    // for any price `l >= 0` of an HBM byte, a GPU holding set `S` costs at least
    // `sum_{j in S} min_x [cost_j(x) + l b_j x] - l C` (`b_j` bytes per row, `C` the capacity),
    // each term minimised at `rows_at(l)`; priced at the current optimum of the GPU a
    // candidate changes, it is nearly tight. The search takes the same steps as solving
    // every candidate, up to rounding.
    let dual = |j: usize, l: f64| {
        let x = costs[j].rows_at(&tables[j], l).min(costs[j].used);
        costs[j].cost(&tables[j], x) + l * costs[j].row_bytes * x as f64
    };
    let mut price: Vec<f64> =
        members.iter().map(|m| gpu_optimum_with_price(tables, &costs, m, cap).2).collect();
    for _ in 0..rounds {
        let worst = (0..g)
            .max_by(|&a, &b| gpu_cost[a].total_cmp(&gpu_cost[b]).then(b.cmp(&a)))
            .unwrap_or(0);
        // (index on worst, dst, index on dst or none, new src cost, new dst cost, src price,
        // dst price)
        type Step = (usize, usize, Option<usize>, f64, f64, f64, f64);
        let mut best: Option<Step> = None;
        let better = |best: &Option<Step>, m: f64| {
            m < gpu_cost[worst] * (1.0 - 1e-9) && best.is_none_or(|b| m < b.3.max(b.4))
        };
        // Dual sums of every GPU at its own price, and of the worst GPU's tables at each
        // price.
        let sums: Vec<f64> =
            (0..g).map(|d| members[d].iter().map(|&i| dual(i, price[d])).sum()).collect();
        let lw = price[worst];
        for (k, &j) in members[worst].iter().enumerate() {
            let mut rest = members[worst].clone();
            rest.remove(k);
            let (_, c_src, p_src) = gpu_optimum_with_price(tables, &costs, &rest, cap);
            if !better(&best, c_src) {
                continue;
            }
            let src_sum = sums[worst] - dual(j, lw);
            for dst in 0..g {
                if dst == worst {
                    continue;
                }
                let ld = price[dst];
                let j_at_dst = dual(j, ld);
                if stored[dst] + used_bytes(j) <= total_cap
                    && better(&best, sums[dst] + j_at_dst - ld * cap)
                {
                    let mut m = members[dst].clone();
                    m.push(j);
                    let (_, c_dst, p_dst) = gpu_optimum_with_price(tables, &costs, &m, cap);
                    if better(&best, c_src.max(c_dst)) {
                        best = Some((k, dst, None, c_src, c_dst, p_src, p_dst));
                    }
                }
                for (l, &i) in members[dst].iter().enumerate() {
                    if stored[dst] - used_bytes(i) + used_bytes(j) > total_cap
                        || stored[worst] - used_bytes(j) + used_bytes(i) > total_cap
                    {
                        continue;
                    }
                    let src_bound = (src_sum + dual(i, lw) - lw * cap).max(c_src);
                    let dst_bound = sums[dst] - dual(i, ld) + j_at_dst - ld * cap;
                    if !better(&best, src_bound.max(dst_bound)) {
                        continue;
                    }
                    let mut src_set = rest.clone();
                    src_set.push(i);
                    let mut dst_set = members[dst].clone();
                    dst_set[l] = j;
                    let (_, a, pa) = gpu_optimum_with_price(tables, &costs, &src_set, cap);
                    let (_, b, pb) = gpu_optimum_with_price(tables, &costs, &dst_set, cap);
                    if better(&best, a.max(b)) {
                        best = Some((k, dst, Some(l), a, b, pa, pb));
                    }
                }
            }
        }
        let Some((k, dst, swap, c_src, c_dst, p_src, p_dst)) = best else { break };
        let j = members[worst].remove(k);
        stored[worst] -= used_bytes(j);
        stored[dst] += used_bytes(j);
        if let Some(l) = swap {
            let i = std::mem::replace(&mut members[dst][l], j);
            members[worst].push(i);
            stored[dst] -= used_bytes(i);
            stored[worst] += used_bytes(i);
        } else {
            members[dst].push(j);
        }
        gpu_cost[worst] = c_src;
        gpu_cost[dst] = c_dst;
        price[worst] = p_src;
        price[dst] = p_dst;
    }
    let mut plan = Plan::default();
    for (gpu, m) in members.iter().enumerate() {
        let (rows, _) = gpu_optimum(tables, &costs, m, cap);
        for (&j, &x) in m.iter().zip(&rows) {
            let t = &tables[j];
            plan.placements.push(Placement {
                table: j,
                gpu: gpu as u32,
                scope: Scope::Global,
                access_share: 1.0,
                col_share: 1.0,
                hbm_hit: t.popularity.hot_share(x),
                hbm_bytes: x as f64 * costs[j].row_bytes,
                uvm_bytes: (t.used - x.min(t.used)) as f64 * costs[j].row_bytes,
                partial: false,
                node_reduce: false,
                cache_fills: 0.0,
            });
        }
    }
    plan.placements.sort_by_key(|p| p.table);
    Ok(plan)
}

/// The largest GPU cost of a plan made by [`plan`] (the objective), from its placements.
pub fn objective(ctx: &PlanCtx<'_>, plan: &Plan) -> f64 {
    let g = ctx.tiers.gpus as usize;
    let mut cost = vec![0.0; g];
    for p in &plan.placements {
        let c = TableCost::new(ctx, p.table);
        let x = (p.hbm_bytes / c.row_bytes).round() as u64;
        cost[p.gpu as usize] += c.cost(&ctx.tables[p.table], x);
    }
    cost.into_iter().fold(0.0, f64::max)
}

/// The optimum over every assignment of tables to GPUs (small instances only: `G^T`
/// assignments), each GPU with its exact HBM split.
pub fn exact(ctx: &PlanCtx<'_>) -> f64 {
    let tables = ctx.tables;
    let g = ctx.tiers.gpus as usize;
    let t = tables.len();
    let costs: Vec<TableCost> = (0..t).map(|j| TableCost::new(ctx, j)).collect();
    let total = (g as u64).pow(t as u32);
    let mut best = f64::INFINITY;
    for code in 0..total {
        let mut members: Vec<Vec<usize>> = vec![Vec::new(); g];
        let mut c = code;
        for j in 0..t {
            members[(c % g as u64) as usize].push(j);
            c /= g as u64;
        }
        let worst = members
            .iter()
            .map(|m| gpu_optimum(tables, &costs, m, ctx.tiers.hbm_capacity).1)
            .fold(0.0, f64::max);
        best = best.min(worst);
    }
    best
}
