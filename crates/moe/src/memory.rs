//! Peak memory per GPU and per host, for the memory metrics and the "does it fit" check.
//!
//! Per GPU (bytes, `b` = bytes per element of the dtype):
//! - dense weights and gradients: `2 * b * P_dense`;
//! - expert slots, weights and gradients: `2 * b * S * P_e` per MoE layer;
//! - activations of the local batch without recomputation (Korthikanti et al. 2022, eq. 1),
//!   for every layer;
//! - a migration buffer of one expert's weights and optimizer state (`18 * P_e`) for FlexMoE.
//!
//! Per host (the optimizer is offloaded in all three systems, as in the SwiftMoE paper's setup):
//! fp32 master weights and Adam moments, 16 bytes per parameter (the paper's figure), for the
//! dense shard (`P_dense / W`) and the host's share of the experts: `S * P_e / r` per slot
//! (sharded over replicas), `S * P_e` per slot (per replica), or `E * P_e / W` per layer
//! (sharded over all ranks).

use crate::model::MoeModel;
use crate::systems::OptimizerLayout;

/// Bytes of optimizer state per parameter: fp32 master weights, momentum and variance plus the
/// fp32 gradient copy (SwiftMoE paper, section 2.2: 16 bytes per parameter).
pub const OPTIMIZER_BYTES_PER_PARAM: f64 = 16.0;

/// Peak bytes on one GPU and one host.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MemoryUse {
    /// Device memory per GPU.
    pub hbm: f64,
    /// Host memory per GPU (one GPU's share of its host).
    pub host: f64,
}

/// Memory of one GPU and its host share.
#[allow(clippy::too_many_arguments)]
pub fn peak(
    model: &MoeModel,
    experts: u32,
    slots: u32,
    gpus: u32,
    tokens_per_gpu: f64,
    seq: u32,
    dtype_bytes: f64,
    layout: OptimizerLayout,
    migration_buffer: bool,
) -> MemoryUse {
    let p_dense = model.dense_params(experts);
    let p_e = model.base.ffn_params();
    let moe_layers = f64::from(model.moe_layers());
    let s = f64::from(slots);
    let activations =
        f64::from(model.base.layers) * model.base.activation_bytes_per_layer(tokens_per_gpu, seq);
    let mut hbm =
        2.0 * dtype_bytes * p_dense + 2.0 * dtype_bytes * s * p_e * moe_layers + activations;
    if migration_buffer {
        hbm += (2.0 + OPTIMIZER_BYTES_PER_PARAM) * p_e;
    }
    let replicas = s * f64::from(gpus) / f64::from(experts);
    let expert_state_params = match layout {
        OptimizerLayout::ShardedOverReplicas => s * p_e / replicas.max(1.0),
        OptimizerLayout::PerReplica => s * p_e,
        OptimizerLayout::ShardedOverAllRanks => f64::from(experts) * p_e / f64::from(gpus),
    } * moe_layers;
    let host = OPTIMIZER_BYTES_PER_PARAM * (p_dense / f64::from(gpus) + expert_state_params);
    MemoryUse { hbm, host }
}
