//! Capacity, drops and the token traffic of one MoE layer under one placement.
//!
//! Capacity (the reference's rule, DeepSpeed's formula per slot): each slot takes at most
//! `c = cf * T / (W * S)` tokens, where `T` is the routed token count (`tokens * top_k`), so a
//! class with `r` replicas keeps `min(pop, r * c)` tokens and drops the rest. Kept tokens are
//! split evenly over the class's replicas.
//!
//! Sources (an assumption, stated in docs/models/moe.md): every GPU holds `1/W` of the batch
//! and routes it in the global proportions, so it sends `pop_c / W * kept_c / pop_c` tokens of
//! class `c`. Tokens go to replicas local-first: to the sender's own slots, then to slots on
//! its node, then anywhere, filling in GPU order (a deterministic locality-aware dispatcher).

use crate::placement::Placement;

/// The tokens of one layer, one iteration.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerDispatch {
    /// Tokens routed to each class.
    pub routed: Vec<f64>,
    /// Tokens each class keeps.
    pub kept: Vec<f64>,
    /// Tokens each class drops.
    pub dropped: Vec<f64>,
    /// Tokens each slot processes.
    pub slot_tokens: Vec<f64>,
    /// Tokens each GPU's slots process.
    pub gpu_tokens: Vec<f64>,
    /// Token transfers `(src GPU, dst GPU, tokens)`, aggregated per pair and sorted; includes
    /// tokens a GPU keeps for its own slots (`src == dst`).
    pub traffic: Vec<(u32, u32, f64)>,
}

impl LayerDispatch {
    /// Fraction of routed tokens dropped.
    pub fn dropped_fraction(&self) -> f64 {
        let routed: f64 = self.routed.iter().sum();
        if routed > 0.0 { self.dropped.iter().sum::<f64>() / routed } else { 0.0 }
    }
}

/// Matches supplies to demands in index order, appending `(src, dst, amount)`.
fn two_pointer(
    supply: &mut [(u32, f64)],
    demand: &mut [(u32, f64)],
    out: &mut Vec<(u32, u32, f64)>,
) {
    let (mut i, mut j) = (0, 0);
    while i < supply.len() && j < demand.len() {
        let m = supply[i].1.min(demand[j].1);
        if m > 0.0 {
            out.push((supply[i].0, demand[j].0, m));
            supply[i].1 -= m;
            demand[j].1 -= m;
        }
        if supply[i].1 <= 1e-12 {
            i += 1;
        }
        if demand[j].1 <= 1e-12 {
            j += 1;
        }
    }
}

/// Drops and traffic of one layer: `routed[c]` tokens per class, per-slot capacity
/// `capacity`, GPUs grouped by `gpus_per_node`.
pub fn dispatch(
    routed: &[f64],
    placement: &Placement,
    capacity: f64,
    gpus_per_node: usize,
) -> LayerDispatch {
    let e = routed.len();
    let w = placement.gpus();
    let mut kept = vec![0.0; e];
    let mut dropped = vec![0.0; e];
    for c in 0..e {
        let cap = f64::from(placement.replicas[c]) * capacity;
        kept[c] = routed[c].min(cap);
        dropped[c] = routed[c] - kept[c];
    }
    let mut slot_tokens = vec![0.0; placement.slots.len()];
    let mut gpu_tokens = vec![0.0; w];
    for (k, &c) in placement.slots.iter().enumerate() {
        let r = f64::from(placement.replicas[c as usize]);
        slot_tokens[k] = kept[c as usize] / r;
        gpu_tokens[placement.gpu_of(k)] += slot_tokens[k];
    }
    // Demand per (class, GPU).
    let mut demand_of: Vec<Vec<(u32, f64)>> = vec![Vec::new(); e];
    for (k, &c) in placement.slots.iter().enumerate() {
        let g = placement.gpu_of(k) as u32;
        let d = &mut demand_of[c as usize];
        match d.last_mut() {
            Some(last) if last.0 == g => last.1 += slot_tokens[k],
            _ => d.push((g, slot_tokens[k])),
        }
    }
    let mut pairs: Vec<(u32, u32, f64)> = Vec::new();
    let per_node = gpus_per_node.max(1);
    for c in 0..e {
        if kept[c] <= 0.0 {
            continue;
        }
        let each = kept[c] / w as f64;
        let mut supply: Vec<(u32, f64)> = (0..w as u32).map(|g| (g, each)).collect();
        let mut demand = std::mem::take(&mut demand_of[c]);
        // Local first.
        for d in demand.iter_mut() {
            let s = &mut supply[d.0 as usize];
            let m = s.1.min(d.1);
            if m > 0.0 {
                pairs.push((d.0, d.0, m));
                s.1 -= m;
                d.1 -= m;
            }
        }
        // Then within each node.
        if per_node > 1 {
            for node in 0..w.div_ceil(per_node) {
                let lo = (node * per_node) as u32;
                let hi = ((node + 1) * per_node).min(w) as u32;
                let s_from = lo as usize;
                let s_to = hi as usize;
                let d_from = demand.partition_point(|d| d.0 < lo);
                let d_to = demand.partition_point(|d| d.0 < hi);
                two_pointer(&mut supply[s_from..s_to], &mut demand[d_from..d_to], &mut pairs);
            }
        }
        // Then anywhere.
        supply.retain(|s| s.1 > 1e-12);
        demand.retain(|d| d.1 > 1e-12);
        two_pointer(&mut supply, &mut demand, &mut pairs);
    }
    pairs.sort_by_key(|p| (p.0, p.1));
    let mut traffic: Vec<(u32, u32, f64)> = Vec::with_capacity(pairs.len());
    for p in pairs {
        match traffic.last_mut() {
            Some(last) if last.0 == p.0 && last.1 == p.1 => last.2 += p.2,
            _ => traffic.push(p),
        }
    }
    LayerDispatch { routed: routed.to_vec(), kept, dropped, slot_tokens, gpu_tokens, traffic }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::placement::{Placement, proportional_counts, uniform};
    use proptest::prelude::*;

    #[test]
    fn capacity_drops_overflow() {
        // 2 GPUs x 2 slots, classes 0..2 uniform: one replica... 4 slots for 2 classes: 2 each.
        let p = uniform(2, 2, 2);
        // T = 100 tokens, cf 1.0 -> capacity per slot 25; class 0 gets 80 -> keeps 50.
        let d = dispatch(&[80.0, 20.0], &p, 25.0, 1);
        assert_eq!(d.kept, vec![50.0, 20.0]);
        assert_eq!(d.dropped, vec![30.0, 0.0]);
        assert!((d.dropped_fraction() - 0.3).abs() < 1e-12);
        assert_eq!(d.slot_tokens, vec![25.0, 10.0, 25.0, 10.0]);
    }

    #[test]
    fn local_replicas_are_served_locally() {
        // Class 0 on both GPUs: each GPU's class-0 tokens stay home.
        let p = Placement::contiguous(&[2, 2], 1);
        let d = dispatch(&[40.0, 40.0], &p, 100.0, 1);
        let remote: f64 = d.traffic.iter().filter(|t| t.0 != t.1).map(|t| t.2).sum();
        // Classes 0 (GPUs 0,1) and 1 (GPUs 2,3): GPUs 2,3 send class 0 away and 0,1 send class 1.
        assert!((remote - 40.0).abs() < 1e-9, "{:?}", d.traffic);
    }

    proptest! {
        /// Tokens are conserved: kept + dropped = routed per class, slots process exactly the
        /// kept tokens, and the traffic moves exactly the kept tokens.
        #[test]
        fn token_conservation(pop in prop::collection::vec(0.0f64..5e3, 2..24), gpus in 1u32..12, slots in 1u32..5, cf in 0.2f64..3.0, per_node in 1usize..5) {
            let e = pop.len() as u32;
            prop_assume!(gpus * slots >= e);
            let counts = proportional_counts(&pop, gpus * slots);
            let p = Placement::contiguous(&counts, slots);
            let routed: f64 = pop.iter().sum();
            let cap = cf * routed / f64::from(gpus * slots);
            let d = dispatch(&pop, &p, cap, per_node);
            for (c, &routed_c) in pop.iter().enumerate() {
                prop_assert!((d.kept[c] + d.dropped[c] - routed_c).abs() < 1e-6);
                prop_assert!(d.kept[c] <= f64::from(p.replicas[c]) * cap + 1e-6);
            }
            let kept: f64 = d.kept.iter().sum();
            prop_assert!((d.slot_tokens.iter().sum::<f64>() - kept).abs() < 1e-6 * kept.max(1.0));
            prop_assert!((d.traffic.iter().map(|t| t.2).sum::<f64>() - kept).abs() < 1e-6 * kept.max(1.0));
            for g in 0..gpus {
                let recv: f64 = d.traffic.iter().filter(|t| t.1 == g).map(|t| t.2).sum();
                prop_assert!((recv - d.gpu_tokens[g as usize]).abs() < 1e-6 * kept.max(1.0));
            }
        }
    }
}
