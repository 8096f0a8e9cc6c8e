//! No-drop: DeepSpeed's static placement with unlimited capacity, so every token reaches its
//! expert. Hot slots then process many tokens and the iteration waits for them: an upper bound
//! on quality, not a practical system.

use super::{ExpertSystem, Move, OptimizerLayout};
use crate::placement::{Placement, uniform};

/// Static placement, no capacity limit.
pub struct NoDrop {
    placements: Vec<Placement>,
}

impl NoDrop {
    /// Uniform replicas for every layer.
    pub fn new(layers: usize, classes: usize, gpus: u32, slots: u32) -> Self {
        NoDrop { placements: vec![uniform(classes, gpus, slots); layers] }
    }
}

impl ExpertSystem for NoDrop {
    fn name(&self) -> &'static str {
        "nodrop"
    }

    fn optimizer(&self) -> OptimizerLayout {
        OptimizerLayout::ShardedOverReplicas
    }

    fn unlimited_capacity(&self) -> bool {
        true
    }

    fn prepare(&mut self, _t: u64, _previous: Option<&[Vec<f64>]>) -> Vec<Move> {
        Vec::new()
    }

    fn placement(&self, layer: usize) -> &Placement {
        &self.placements[layer]
    }
}
