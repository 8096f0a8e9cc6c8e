//! TorchRec's `EmbeddingOffloadScaleupProposer` (`torchrec/distributed/planner/proposers.py`):
//! grow the HBM caches of `fused_uvm_caching` tables into the HBM the plan leaves free.
//!
//! 1. The starting proposal gives every table its best-scoring `fused_uvm_caching` option
//!    (its best option if it has none), caches at the starting load factor. TorchRec gives up
//!    when that plan does not fit; a user would then lower the load factor, and here
//!    (*assumption*) the starting load factor is halved until the starting plan partitions (down
//!    to 1/1024 of it).
//! 2. If that partitions, the extra budget searched is at most the HBM left free and at most
//!    what would put every cached table wholly in HBM; a clamped Luus-Jaakola random search
//!    (`utils.py`, `LuusJaakolaSearch`: 16 iterations, seed 42, step shrinking by 0.95 after
//!    each improvement) looks for the budget whose plan rates best, and a budget whose plan
//!    does not partition bounds the search from the right.
//! 3. A budget is shared out (`allocate_budget`) in proportion to each table's priority, its
//!    cacheability (the area under its miss-ratio curve) times its expected distinct lookups
//!    per batch (here [`MissCurve::area`](crate::cache::MissCurve::area)), in passes that clip
//!    a cache at the whole table and hand what is left to the others; a table whose cache
//!    reaches the whole table (load factor above 0.9999) becomes `fused`.
//!
//! TorchRec models each table's HBM as affine in the load factor (input and output buffers on
//! top); with no buffers counted here it is linear, and no table is promoted early for its
//! buffers (`promote_high_prefetch_overheaad_table_to_hbm` never fires).

use simcore::{RandomStreams, StreamRng};

use crate::estimator::Kernel;

use super::enumerator::{Enumerator, ShardingOption};
use super::proposers::{Search, sorted};

/// Luus-Jaakola search on `[left, right]`, clamped to the interval (TorchRec's variant).
struct LuusJaakola {
    left: f64,
    right: f64,
    iteration: i32,
    max_iterations: i32,
    rng: StreamRng,
    x: f64,
    fx: f64,
    y: f64,
    f_left: Option<f64>,
    f_right: Option<f64>,
    d: f64,
}

impl LuusJaakola {
    fn new(left: f64, right: f64, max_iterations: i32, left_cost: Option<f64>) -> LuusJaakola {
        let mut rng = RandomStreams::new(42).stream("luus-jaakola");
        let x = left + (right - left) * rng.next_f64();
        LuusJaakola {
            left,
            right,
            iteration: -1,
            max_iterations,
            rng,
            x,
            fx: 0.0,
            y: f64::NAN,
            f_left: left_cost,
            f_right: None,
            d: right - left,
        }
    }

    fn clamp(&self, x: f64) -> f64 {
        x.clamp(self.left, self.right.max(self.left))
    }

    /// The right end is infeasible from `right` on.
    fn shrink_right(&mut self, right: f64) {
        self.right = right;
        self.f_right = Some(f64::INFINITY);
        self.d = self.right - self.left;
        self.x = self.clamp(self.x);
    }

    /// The next point to try given the cost `fy` of the last one; `None` when done.
    fn next(&mut self, fy: f64) -> Option<f64> {
        self.iteration += 1;
        if self.iteration == 0 {
            return Some(self.x);
        } else if self.iteration == 1 {
            self.fx = fy;
        } else if self.iteration == self.max_iterations {
            return None;
        } else if fy <= self.fx {
            self.x = self.y;
            self.fx = fy;
            self.d *= 0.95;
        }
        if self.y == self.left {
            self.f_left = Some(fy);
        } else if self.y == self.right {
            self.f_right = Some(fy);
        }
        // Resample a boundary whose cost is known (bounded: a degenerate interval ends it).
        for _ in 0..1000 {
            let a = -self.d + 2.0 * self.d * self.rng.next_f64();
            let y = self.clamp(self.x + a);
            if (y == self.left && self.f_left.is_some())
                || (y == self.right && self.f_right.is_some())
            {
                continue;
            }
            self.y = y;
            return Some(y);
        }
        None
    }
}

/// Runs the scale-up proposer on `options` (per table, in enumeration order).
pub fn scale_up(
    search: &mut Search<'_>,
    enumerator: &mut Enumerator<'_>,
    options: &[Vec<ShardingOption>],
) {
    let order = sorted(options, true);
    let mut start: Vec<ShardingOption> = order
        .iter()
        .enumerate()
        .filter_map(|(j, idx)| {
            let first = idx.first().map(|&i| &options[j][i])?;
            Some(
                idx.iter()
                    .map(|&i| &options[j][i])
                    .find(|o| o.kernel == Kernel::FusedUvmCaching)
                    .unwrap_or(first)
                    .clone(),
            )
        })
        .collect();
    if start.len() != options.len() {
        return;
    }
    let mut rating0 = None;
    for _ in 0..=10 {
        let refs: Vec<&ShardingOption> = start.iter().collect();
        rating0 = search.evaluate(&refs, false);
        if rating0.is_some() {
            break;
        }
        for o in &mut start {
            if o.kernel == Kernel::FusedUvmCaching {
                *o = enumerator.option(o.table, o.sharding, o.kernel, 0.5 * o.load_factor);
            }
        }
    }
    let Some(rating0) = rating0 else { return };
    let tiers = enumerator.ctx().tiers;
    let used0: f64 = start.iter().map(ShardingOption::total_hbm).sum();
    let available = tiers.hbm_capacity * f64::from(tiers.gpus) - used0;
    // Cached tables wholly in HBM (TorchRec's `get_hbm_ceiling`).
    let ceiling: f64 = start
        .iter()
        .map(|o| if o.kernel == Kernel::FusedUvmCaching { o.total_ddr() } else { o.total_hbm() })
        .sum();
    let budget_max = available.min(ceiling - used0);
    // The tables that can scale, with their full size and priority.
    let cached: Vec<(usize, f64, f64)> = start
        .iter()
        .enumerate()
        .filter(|(_, o)| o.kernel == Kernel::FusedUvmCaching && o.load_factor > 0.0)
        .map(|(n, o)| (n, o.total_ddr(), enumerator.curve(o.table).area()))
        .filter(|&(_, _, prio)| prio > 0.0)
        .collect();
    if budget_max <= 0.0 || cached.is_empty() {
        return;
    }
    let mut lj = LuusJaakola::new(0.0, budget_max, 16, Some(rating0));
    let mut cost = rating0;
    while let Some(budget) = lj.next(cost) {
        let proposal = next_plan(enumerator, &start, &cached, budget.floor());
        let refs: Vec<&ShardingOption> = proposal.iter().collect();
        match search.evaluate(&refs, false) {
            Some(r) => cost = r,
            None => {
                let used: f64 = proposal.iter().map(ShardingOption::total_hbm).sum();
                lj.shrink_right(used - used0);
                cost = 1e99;
            }
        }
    }
}

/// TorchRec's `next_plan` and `allocate_budget`: `budget` more bytes of cache shared in
/// proportion to priority, clipped at whole tables.
fn next_plan(
    enumerator: &mut Enumerator<'_>,
    start: &[ShardingOption],
    cached: &[(usize, f64, f64)],
    budget: f64,
) -> Vec<ShardingOption> {
    let mut size: Vec<f64> =
        cached.iter().map(|&(n, full, _)| start[n].load_factor * full).collect();
    let mut left = budget;
    for _ in 0..128 {
        if left <= 1.0 {
            break;
        }
        let open: Vec<usize> = (0..cached.len()).filter(|&i| size[i] < cached[i].1).collect();
        let total: f64 = open.iter().map(|&i| cached[i].2).sum();
        if open.is_empty() || total <= 0.0 {
            break;
        }
        let mut given = 0.0;
        for &i in &open {
            let grown = (size[i] + left * cached[i].2 / total).min(cached[i].1);
            given += grown - size[i];
            size[i] = grown;
        }
        left -= given;
    }
    let mut proposal = start.to_vec();
    for (i, &(n, full, _)) in cached.iter().enumerate() {
        let o = &start[n];
        let lf = if full > 0.0 { size[i] / full } else { 1.0 };
        proposal[n] = if lf > 0.9999 {
            enumerator.option(o.table, o.sharding, Kernel::Fused, 0.0)
        } else {
            enumerator.option(o.table, o.sharding, Kernel::FusedUvmCaching, lf)
        };
    }
    proposal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luus_jaakola_finds_the_minimum_of_a_bowl() {
        let f = |x: f64| (x - 30.0).powi(2);
        let mut lj = LuusJaakola::new(0.0, 100.0, 64, Some(f(0.0)));
        let mut cost = 0.0;
        let mut best = f64::INFINITY;
        while let Some(x) = lj.next(cost) {
            assert!((0.0..=100.0).contains(&x));
            cost = f(x);
            best = best.min(cost);
        }
        assert!(best < 4.0, "{best}");
    }
}
