//! What a run simulates: the `workload` (model, experts, routing, convergence) and the `system`.

use serde::{Deserialize, Serialize};

use crate::convergence::ConvergenceSpec;
use crate::model::{DEFAULT_MOE_EVERY, MoeModel};
use crate::routing::RoutingSpec;
use cluster::Dtype;
use simcore::InputError;
use simcore::units::Bandwidth;
use taskgraph::NetworkMode;

pub use models::ModelRef;

/// The model of `model` with MoE layers every `moe_every` layers (default 2); an unknown
/// preset is an error listing them. The expert layers are costed as GPT-style FFNs (two
/// matrices of `ffn_mult · hidden`), so a Llama-family model (gated MLP, GQA, its own experts)
/// is an error rather than a silently wrong cost.
pub fn resolve_model(model: &ModelRef, moe_every: Option<u32>) -> Result<MoeModel, InputError> {
    let base = models::resolve(model).map_err(|e| InputError::invalid("model", e))?;
    if base.family != models::Family::Gpt || base.experts > 1 {
        return Err(InputError::invalid(
            "model",
            format!(
                "`{}` is a {:?}-family model; kind: moe costs GPT-style dense FFNs turned into experts, so it takes a GPT model (a preset such as gpt-small, gpt-medium, gpt3-1.3b, or a spec with family: gpt)",
                base.name, base.family
            ),
        ));
    }
    Ok(MoeModel { base, moe_every: moe_every.unwrap_or(DEFAULT_MOE_EVERY) })
}

/// The `workload:` of `kind: moe`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoeWorkload {
    /// The model.
    pub model: ModelRef,
    /// Override the model's MoE layer spacing (1: every layer is an MoE layer).
    #[serde(default)]
    pub moe_every: Option<u32>,
    /// Expert classes per MoE layer (E).
    pub experts: u32,
    /// Classes each token is routed to.
    #[serde(default = "one")]
    pub top_k: u32,
    /// Expert slots per GPU (S).
    pub slots_per_gpu: u32,
    /// Capacity factor: each slot takes `cf * tokens * top_k / (W * S)` tokens.
    #[serde(default = "one_f")]
    pub capacity_factor: f64,
    /// Sequence length.
    pub seq_len: u32,
    /// Sequences per iteration, over all GPUs.
    pub global_batch: u32,
    /// Number format of weights, activations and gradients.
    #[serde(default = "bf16")]
    pub dtype: Dtype,
    /// Routing-load generator or trace.
    #[serde(default)]
    pub routing: RoutingSpec,
    /// Convergence model.
    #[serde(default)]
    pub convergence: ConvergenceSpec,
    /// Stop after this many iterations even if the target is not reached.
    #[serde(default = "max_iterations")]
    pub max_iterations: u64,
    /// Network model of the per-iteration task graphs.
    #[serde(default)]
    pub network: NetworkMode,
    /// Communication streams per GPU; default: one per group of GPUs (PyTorch gives each
    /// process group its own NCCL stream); 1 runs a GPU's collectives in sequence (see
    /// docs/models/moe.md).
    #[serde(default)]
    pub comm_streams: Option<u8>,
    /// Effective rate of the host (CPU) Adam step, in bytes of optimizer traffic per second;
    /// default: the host's DRAM bandwidth (see docs/models/moe.md).
    #[serde(default)]
    pub host_adam_rate: Option<Bandwidth>,
}

fn one() -> u32 {
    1
}
fn one_f() -> f64 {
    1.0
}
fn bf16() -> Dtype {
    Dtype::Bf16
}
fn max_iterations() -> u64 {
    5_000
}

/// Which system places the experts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "system", deny_unknown_fields)]
pub enum SystemSpec {
    /// Static replicas, optimizer offloaded and sharded over each class's replicas (ZeRO-1).
    Deepspeed,
    /// Periodic rebalancing that migrates weights and optimizer state.
    Flexmoe {
        /// Rebalance every this many iterations.
        #[serde(default = "default_interval")]
        interval: u64,
        /// Also rebalance when the most overloaded class's load exceeds its capacity by this
        /// factor (none: only periodic).
        #[serde(default)]
        skew_threshold: Option<f64>,
        /// Most replicas moved per rebalance per layer (none: as many as the target needs).
        #[serde(default)]
        max_moves: Option<u32>,
    },
    /// Per-iteration re-placement with the optimizer statically sharded over all ranks.
    Swiftmoe,
    /// Static placement with unlimited capacity: an upper bound on quality (no drops).
    Nodrop,
}

fn default_interval() -> u64 {
    50
}

impl SystemSpec {
    /// The system's name as in configs.
    pub fn name(&self) -> &'static str {
        match self {
            SystemSpec::Deepspeed => "deepspeed",
            SystemSpec::Flexmoe { .. } => "flexmoe",
            SystemSpec::Swiftmoe => "swiftmoe",
            SystemSpec::Nodrop => "nodrop",
        }
    }

    /// Checks parameters; errors name the field (under the system's `params`).
    pub fn validate(&self) -> Result<(), InputError> {
        if let SystemSpec::Flexmoe { interval, skew_threshold, max_moves } = self {
            let bad = |f: &str, m: String| Err(InputError::at(format!("params.{f}"), m));
            if *interval == 0 {
                return bad("interval", "must be at least 1 iteration".into());
            }
            if let Some(t) = skew_threshold
                && !(*t > 1.0 && t.is_finite())
            {
                return bad("skew_threshold", format!("{t} must be > 1 (load over capacity)"));
            }
            if *max_moves == Some(0) {
                return bad("max_moves", "must be at least 1 (omit it for no limit)".into());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_llama_model_is_refused() {
        let err = resolve_model(&ModelRef::Named("llama-2-7b".into()), None).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("model") && msg.contains("GPT"), "{msg}");
        assert!(resolve_model(&ModelRef::Named("gpt-small".into()), None).is_ok());
    }
}
