//! DeepSpeed-MoE: every class gets `S x W / E` replicas on distinct GPUs, decided once; tokens
//! beyond capacity are dropped. The optimizer runs ZeRO-1 with CPU offload: state sharded over
//! each class's replicas (the SwiftMoE paper's DeepSpeed baseline configuration).

use super::{ExpertSystem, Move, OptimizerLayout};
use crate::placement::{Placement, uniform};

/// Static placement.
pub struct DeepSpeed {
    placements: Vec<Placement>,
}

impl DeepSpeed {
    /// Uniform replicas for every layer.
    pub fn new(layers: usize, classes: usize, gpus: u32, slots: u32) -> Self {
        DeepSpeed { placements: vec![uniform(classes, gpus, slots); layers] }
    }
}

impl ExpertSystem for DeepSpeed {
    fn name(&self) -> &'static str {
        "deepspeed"
    }

    fn optimizer(&self) -> OptimizerLayout {
        OptimizerLayout::ShardedOverReplicas
    }

    fn prepare(&mut self, _t: u64, _previous: Option<&[Vec<f64>]>) -> Vec<Move> {
        Vec::new()
    }

    fn placement(&self, layer: usize) -> &Placement {
        &self.placements[layer]
    }
}
