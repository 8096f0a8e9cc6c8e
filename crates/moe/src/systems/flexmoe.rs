//! FlexMoE: every `interval` iterations (or when the most overloaded class exceeds its capacity
//! by `skew_threshold`), move replicas from classes with more replicas than their popularity
//! warrants to classes with fewer, until the placement matches the popularity-proportional
//! target (or `max_moves` replicas moved). A moved replica carries its weights and its
//! optimizer state: 2 + 16 bytes per parameter (the reference's figure). Between rebalances
//! FlexMoE trains like DeepSpeed (it is built on it): the optimizer state of a class is sharded
//! over the class's replicas, so a new replica receives a full copy's worth of state when the
//! class is resharded.
//!
//! Our reading of "moves replicas from the least to the most popular classes until a cost
//! threshold": the target is SwiftMoE's proportional counts of the popularity averaged since the
//! last rebalance; slots that change class are those of the classes with the largest surplus,
//! and each takes the class with the largest deficit (both ties to the lower index).

use super::{ExpertSystem, Move, OptimizerLayout};
use crate::placement::{Placement, proportional_counts, uniform};

/// Periodic rebalancing.
pub struct FlexMoe {
    placements: Vec<Placement>,
    interval: u64,
    skew_threshold: Option<f64>,
    max_moves: Option<u32>,
    /// Popularity summed since the last rebalance, per layer.
    window: Vec<Vec<f64>>,
    triggered: bool,
    last_rebalance: u64,
}

impl FlexMoe {
    /// Starts from the uniform placement.
    pub fn new(
        layers: usize,
        classes: usize,
        gpus: u32,
        slots: u32,
        interval: u64,
        skew_threshold: Option<f64>,
        max_moves: Option<u32>,
    ) -> Self {
        FlexMoe {
            placements: vec![uniform(classes, gpus, slots); layers],
            interval,
            skew_threshold,
            max_moves,
            window: vec![vec![0.0; classes]; layers],
            triggered: false,
            last_rebalance: 0,
        }
    }

    fn rebalance(&mut self, layer: usize, moves: &mut Vec<Move>) {
        let p = &self.placements[layer];
        let total = p.slots.len() as u32;
        let target = proportional_counts(&self.window[layer], total);
        let mut surplus: Vec<i64> =
            (0..target.len()).map(|c| i64::from(p.replicas[c]) - i64::from(target[c])).collect();
        let mut slots = p.slots.clone();
        let mut moved = 0;
        loop {
            if self.max_moves.is_some_and(|m| moved >= m) {
                break;
            }
            let giver = (0..surplus.len())
                .filter(|&c| surplus[c] > 0)
                .max_by(|&a, &b| surplus[a].cmp(&surplus[b]).then(b.cmp(&a)));
            let taker = (0..surplus.len())
                .filter(|&c| surplus[c] < 0)
                .min_by(|&a, &b| surplus[a].cmp(&surplus[b]).then(a.cmp(&b)));
            let (Some(giver), Some(taker)) = (giver, taker) else { break };
            // The giver's last slot changes class; the state comes from a GPU of the taker.
            let Some(slot) = slots.iter().rposition(|&c| c == giver as u32) else { break };
            let to_gpu = p.gpu_of(slot) as u32;
            let sources = p.gpus_of(taker as u32);
            let from_gpu = *sources.iter().min_by_key(|&&g| g.abs_diff(to_gpu)).unwrap_or(&to_gpu);
            slots[slot] = taker as u32;
            surplus[giver] -= 1;
            surplus[taker] += 1;
            moves.push(Move { layer, slot, class: taker as u32, from_gpu, to_gpu });
            moved += 1;
        }
        self.placements[layer] = Placement::from_slots(slots, target.len(), p.slots_per_gpu);
    }
}

impl ExpertSystem for FlexMoe {
    fn name(&self) -> &'static str {
        "flexmoe"
    }

    fn optimizer(&self) -> OptimizerLayout {
        OptimizerLayout::ShardedOverReplicas
    }

    fn prepare(&mut self, t: u64, previous: Option<&[Vec<f64>]>) -> Vec<Move> {
        let mut moves = Vec::new();
        if let Some(prev) = previous {
            for (w, p) in self.window.iter_mut().zip(prev) {
                for (a, b) in w.iter_mut().zip(p) {
                    *a += b;
                }
            }
        }
        let due = t > 0 && (t - self.last_rebalance >= self.interval || self.triggered);
        if due {
            for layer in 0..self.placements.len() {
                self.rebalance(layer, &mut moves);
            }
            for w in &mut self.window {
                w.iter_mut().for_each(|x| *x = 0.0);
            }
            self.last_rebalance = t;
        }
        self.triggered = false;
        moves
    }

    fn placement(&self, layer: usize) -> &Placement {
        &self.placements[layer]
    }

    fn observe(&mut self, routed: &[Vec<f64>], capacity: f64) {
        let Some(threshold) = self.skew_threshold else { return };
        for (layer, pop) in routed.iter().enumerate() {
            let p = &self.placements[layer];
            for (c, &x) in pop.iter().enumerate() {
                let cap = f64::from(p.replicas[c]) * capacity;
                if cap > 0.0 && x / cap > threshold {
                    self.triggered = true;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rebalances_on_schedule_towards_popularity() {
        let mut f = FlexMoe::new(1, 4, 2, 4, 10, None, None);
        let hot = vec![vec![700.0, 100.0, 100.0, 100.0]];
        for t in 0..10 {
            assert!(f.prepare(t, Some(&hot)).is_empty(), "no move before the interval");
        }
        let moves = f.prepare(10, Some(&hot));
        assert_eq!(f.placement(0).replicas, proportional_counts(&[700.0, 100.0, 100.0, 100.0], 8));
        assert_eq!(moves.len(), 3, "class 0 goes from 2 to 5 replicas: {moves:?}");
        assert!(moves.iter().all(|m| m.class == 0));
        let capped = {
            let mut g = FlexMoe::new(1, 4, 2, 4, 1, None, Some(1));
            g.prepare(1, Some(&hot))
        };
        assert_eq!(capped.len(), 1);
    }
}
