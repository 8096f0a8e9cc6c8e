//! The model being trained: a transformer (`models::TransformerSpec`, GPT-3's Table 2.1
//! presets) whose every `moe_every`-th FFN is replaced by `E` experts, each an FFN of the same
//! shape (every other layer by default, as in GShard, Switch-Base and DeepSpeed-MoE).
//!
//! Per-layer parameters and FLOPs per token are the `models` crate's (Narayanan et al., SC'21;
//! Kaplan et al. 2020): attention `4h^2` weights and `2·4h^2 + 4sh` forward FLOPs per token,
//! an FFN `2·f·h^2` weights and twice that in FLOPs; backward costs twice the forward. This
//! simulator counts weight matrices and the token embedding, not biases, layer norms or
//! position embeddings (under 0.1% of a layer's parameters at these widths).

use models::TransformerSpec;

/// Every `moe_every`-th layer's FFN is an MoE layer when the workload does not say otherwise.
pub const DEFAULT_MOE_EVERY: u32 = 2;

/// A transformer with MoE layers.
#[derive(Clone, Debug, PartialEq)]
pub struct MoeModel {
    /// The dense shape.
    pub base: TransformerSpec,
    /// Every `moe_every`-th layer is an MoE layer (layers moe_every-1, 2*moe_every-1, ...).
    pub moe_every: u32,
}

impl MoeModel {
    /// A preset (`gpt-small`, `gpt3-6.7b`, ...) with MoE layers every other layer.
    pub fn preset(name: &str) -> Option<MoeModel> {
        models::preset(name).map(|base| MoeModel { base, moe_every: DEFAULT_MOE_EVERY })
    }

    /// Number of MoE layers.
    pub fn moe_layers(&self) -> u32 {
        self.base.layers.checked_div(self.moe_every).unwrap_or(0)
    }

    /// Whether layer `l` (0-based) is an MoE layer.
    pub fn is_moe(&self, l: u32) -> bool {
        self.moe_every > 0 && (l + 1).is_multiple_of(self.moe_every)
    }

    /// Parameters every GPU holds a copy of: the token embedding, attention, dense FFNs,
    /// routers (`experts` per MoE layer, `h x E` each).
    pub fn dense_params(&self, experts: u32) -> f64 {
        let m = &self.base;
        let dense_ffn_layers = f64::from(m.layers - self.moe_layers());
        m.token_embedding_params()
            + f64::from(m.layers) * m.attention_params()
            + dense_ffn_layers * m.ffn_params()
            + f64::from(self.moe_layers()) * f64::from(m.hidden) * f64::from(experts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gpt_small_sizes() {
        let m = MoeModel::preset("gpt-small").unwrap();
        assert_eq!(m.moe_layers(), 6);
        assert!(m.is_moe(1) && !m.is_moe(0) && m.is_moe(11));
        // Dense GPT-Small: 50257*768 + 12*(4+8)*768^2 = 123.5M (the paper's "125M").
        let dense_equivalent = m.dense_params(0) + 6.0 * m.base.ffn_params();
        assert!((dense_equivalent - 123.5e6).abs() < 0.2e6, "{dense_equivalent}");
        assert!((m.base.ffn_params() - 4.72e6).abs() < 0.01e6);
    }

    #[test]
    fn gpt3_175b_layer_matches_the_paper() {
        let m = MoeModel::preset("gpt3-175b").unwrap();
        // 96 layers x 12 h^2 = 174.0B plus embeddings 0.6B: the paper's 175B.
        let total = m.dense_params(0) + f64::from(m.moe_layers()) * m.base.ffn_params();
        assert!((total - 174.6e9).abs() < 0.5e9, "{total}");
    }
}
