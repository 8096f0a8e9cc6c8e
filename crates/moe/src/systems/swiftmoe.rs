//! SwiftMoE: every iteration, replicas proportional to the previous iteration's popularity (at
//! least one per class, laid out contiguously), with no migration: the optimizer state is
//! sharded over all ranks and updated weights are pushed to the new placement anyway.

use super::{ExpertSystem, Move, OptimizerLayout};
use crate::placement::{Placement, proportional_counts, uniform};

/// Per-iteration re-placement.
pub struct SwiftMoe {
    placements: Vec<Placement>,
    total: u32,
    slots: u32,
}

impl SwiftMoe {
    /// Starts from the uniform placement.
    pub fn new(layers: usize, classes: usize, gpus: u32, slots: u32) -> Self {
        SwiftMoe {
            placements: vec![uniform(classes, gpus, slots); layers],
            total: gpus * slots,
            slots,
        }
    }
}

impl ExpertSystem for SwiftMoe {
    fn name(&self) -> &'static str {
        "swiftmoe"
    }

    fn optimizer(&self) -> OptimizerLayout {
        OptimizerLayout::ShardedOverAllRanks
    }

    fn prepare(&mut self, _t: u64, previous: Option<&[Vec<f64>]>) -> Vec<Move> {
        if let Some(prev) = previous {
            for (layer, pop) in prev.iter().enumerate() {
                let counts = proportional_counts(pop, self.total);
                self.placements[layer] = Placement::contiguous(&counts, self.slots);
            }
        }
        Vec::new()
    }

    fn placement(&self, layer: usize) -> &Placement {
        &self.placements[layer]
    }
}
