//! Expert placement systems, one file each. A system decides, before every iteration, where each
//! class's replicas are and which replicas migrate; it also fixes where the expert optimizer
//! state lives, which decides the optimizer's data movement.

mod deepspeed;
mod flexmoe;
mod nodrop;
mod swiftmoe;

pub use deepspeed::DeepSpeed;
pub use flexmoe::FlexMoe;
pub use nodrop::NoDrop;
pub use swiftmoe::SwiftMoe;

use crate::config::SystemSpec;
use crate::placement::Placement;

/// Where the expert optimizer state lives and how it is split.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptimizerLayout {
    /// In host memory, sharded over the replicas of each class (ZeRO-1 with CPU offload):
    /// gradients reduce-scatter among replicas, each replica's host steps its shard, weights
    /// all-gather back.
    ShardedOverReplicas,
    /// In host memory, a full copy per replica (FlexMoE: the state moves with the replica):
    /// gradients all-reduce among replicas, every replica's host steps the whole expert.
    PerReplica,
    /// In host memory, every class sharded `1/W` over all ranks, independent of placement
    /// (SwiftMoE): gradients all-reduce among replicas, each rank pulls its shard from one
    /// replica, steps it, and pushes the updated shard to every slot of the next placement.
    ShardedOverAllRanks,
}

/// One replica moved before an iteration: weights and optimizer state copied from a GPU that
/// holds the class to the GPU of the slot that takes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Move {
    /// MoE layer.
    pub layer: usize,
    /// Slot that changes class.
    pub slot: usize,
    /// Class it takes.
    pub class: u32,
    /// GPU the state comes from.
    pub from_gpu: u32,
    /// GPU of the slot.
    pub to_gpu: u32,
}

/// A placement policy.
pub trait ExpertSystem: Send {
    /// Its name.
    fn name(&self) -> &'static str;
    /// Where its optimizer state lives.
    fn optimizer(&self) -> OptimizerLayout;
    /// Whether slots accept every token (no capacity limit).
    fn unlimited_capacity(&self) -> bool {
        false
    }
    /// Decides the placement of iteration `t` from the tokens routed per layer and class in
    /// iteration `t - 1` (`None` before the first), and returns the replicas that migrate.
    fn prepare(&mut self, t: u64, previous: Option<&[Vec<f64>]>) -> Vec<Move>;
    /// The placement of MoE layer `layer` for the current iteration.
    fn placement(&self, layer: usize) -> &Placement;
    /// The capacity per slot this iteration saw (for skew triggers), given after routing.
    fn observe(&mut self, _routed: &[Vec<f64>], _capacity: f64) {}
}

/// The system a spec describes, for `layers` MoE layers of `classes` classes on `gpus` GPUs with
/// `slots` slots each.
pub fn build(
    spec: &SystemSpec,
    layers: usize,
    classes: usize,
    gpus: u32,
    slots: u32,
) -> Box<dyn ExpertSystem> {
    match spec {
        SystemSpec::Deepspeed => Box::new(DeepSpeed::new(layers, classes, gpus, slots)),
        SystemSpec::Flexmoe { interval, skew_threshold, max_moves } => Box::new(FlexMoe::new(
            layers,
            classes,
            gpus,
            slots,
            *interval,
            *skew_threshold,
            *max_moves,
        )),
        SystemSpec::Swiftmoe => Box::new(SwiftMoe::new(layers, classes, gpus, slots)),
        SystemSpec::Nodrop => Box::new(NoDrop::new(layers, classes, gpus, slots)),
    }
}
