//! Transformer models with MoE layers: sizes, parameter counts and FLOPs per token.
//!
//! Presets follow GPT-3's Table 2.1 (Brown et al., "Language Models are Few-Shot Learners",
//! 2020): layers, hidden size, heads, vocabulary 50,257. An MoE model replaces the FFN of every
//! `moe_every`-th layer by `E` experts, each an FFN of the same shape (every other layer by
//! default, as in GShard, Switch-Base and DeepSpeed-MoE).
//!
//! Per token and layer (Narayanan et al., SC'21, section 5.1; Kaplan et al. 2020): attention
//! has `4h^2` parameters and costs `2 * 4h^2 + 4sh` FLOPs forward (projections, then `QK^T` and
//! the weighted sum over `s` positions); an FFN with `ffn_mult * h` inner width has
//! `2 * ffn_mult * h^2` parameters and costs twice that in FLOPs. Backward costs twice the
//! forward.

use serde::{Deserialize, Serialize};

/// The shape of a transformer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// Name for labels.
    #[serde(default)]
    pub name: String,
    /// Transformer layers.
    pub layers: u32,
    /// Hidden size h.
    pub hidden: u32,
    /// Attention heads.
    pub heads: u32,
    /// Vocabulary size (embedding and output layer).
    #[serde(default = "vocab")]
    pub vocab: u32,
    /// FFN inner width as a multiple of h.
    #[serde(default = "four")]
    pub ffn_mult: u32,
    /// Every `moe_every`-th layer is an MoE layer (layers moe_every-1, 2*moe_every-1, ...).
    #[serde(default = "two")]
    pub moe_every: u32,
}

fn vocab() -> u32 {
    50_257
}
fn four() -> u32 {
    4
}
fn two() -> u32 {
    2
}

/// Named models: (name, layers, hidden, heads), from GPT-3's Table 2.1.
pub const PRESETS: &[(&str, u32, u32, u32)] = &[
    ("gpt-small", 12, 768, 12),
    ("gpt-medium", 24, 1024, 16),
    ("gpt-large", 24, 1536, 16),
    ("gpt-xl", 24, 2048, 24),
    ("gpt3-2.7b", 32, 2560, 32),
    ("gpt3-6.7b", 32, 4096, 32),
    ("gpt3-13b", 40, 5140, 40),
    ("gpt3-175b", 96, 12288, 96),
];

impl ModelSpec {
    /// A preset by name.
    pub fn preset(name: &str) -> Option<ModelSpec> {
        PRESETS.iter().find(|p| p.0 == name).map(|&(n, layers, hidden, heads)| ModelSpec {
            name: n.to_string(),
            layers,
            hidden,
            heads,
            vocab: vocab(),
            ffn_mult: four(),
            moe_every: two(),
        })
    }

    /// Number of MoE layers.
    pub fn moe_layers(&self) -> u32 {
        self.layers.checked_div(self.moe_every).unwrap_or(0)
    }

    /// Whether layer `l` (0-based) is an MoE layer.
    pub fn is_moe(&self, l: u32) -> bool {
        self.moe_every > 0 && (l + 1).is_multiple_of(self.moe_every)
    }

    fn h(&self) -> f64 {
        f64::from(self.hidden)
    }

    /// Parameters of one FFN (one expert): two `h x ffn_mult*h` matrices.
    pub fn ffn_params(&self) -> f64 {
        2.0 * f64::from(self.ffn_mult) * self.h() * self.h()
    }

    /// Parameters of one attention block.
    pub fn attention_params(&self) -> f64 {
        4.0 * self.h() * self.h()
    }

    /// Parameters every GPU holds a copy of: embeddings, attention, dense FFNs, routers
    /// (`experts` per MoE layer, `h x E` each).
    pub fn dense_params(&self, experts: u32) -> f64 {
        let dense_ffn_layers = f64::from(self.layers - self.moe_layers());
        f64::from(self.vocab) * self.h()
            + f64::from(self.layers) * self.attention_params()
            + dense_ffn_layers * self.ffn_params()
            + f64::from(self.moe_layers()) * self.h() * f64::from(experts)
    }

    /// Forward FLOPs per token of one layer without its FFN (attention over `seq` positions).
    pub fn attention_flops_per_token(&self, seq: u32) -> f64 {
        2.0 * self.attention_params() + 4.0 * f64::from(seq) * self.h()
    }

    /// Forward FLOPs per token of one FFN (dense or one expert).
    pub fn ffn_flops_per_token(&self) -> f64 {
        2.0 * self.ffn_params()
    }

    /// Forward FLOPs per token of the output layer (logits).
    pub fn logits_flops_per_token(&self) -> f64 {
        2.0 * f64::from(self.vocab) * self.h()
    }

    /// Activation bytes per layer for `tokens` tokens of sequences of length `seq` in 16-bit
    /// precision without recomputation: `s*b*h*(34 + 5*a*s/h)` (Korthikanti et al., "Reducing
    /// Activation Recomputation in Large Transformer Models", 2022, eq. 1), with `s*b = tokens`.
    pub fn activation_bytes_per_layer(&self, tokens: f64, seq: u32) -> f64 {
        tokens * self.h() * (34.0 + 5.0 * f64::from(self.heads) * f64::from(seq) / self.h())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gpt_small_sizes() {
        let m = ModelSpec::preset("gpt-small").unwrap();
        assert_eq!(m.moe_layers(), 6);
        assert!(m.is_moe(1) && !m.is_moe(0) && m.is_moe(11));
        // Dense GPT-Small: 50257*768 + 12*(4+8)*768^2 = 123.5M (the paper's "125M").
        let dense_equivalent = m.dense_params(0) + 6.0 * m.ffn_params();
        assert!((dense_equivalent - 123.5e6).abs() < 0.2e6, "{dense_equivalent}");
        assert!((m.ffn_params() - 4.72e6).abs() < 0.01e6);
    }

    #[test]
    fn gpt3_175b_layer_matches_the_paper() {
        let m = ModelSpec::preset("gpt3-175b").unwrap();
        // 96 layers x 12 h^2 = 174.0B plus embeddings 0.6B: the paper's 175B.
        let total = m.dense_params(0) + f64::from(m.moe_layers()) * m.ffn_params();
        assert!((total - 174.6e9).abs() < 0.5e9, "{total}");
    }
}
