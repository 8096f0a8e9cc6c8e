//! The transformer being trained: its shape, and per layer and micro-batch the FLOPs of the
//! forward pass F, the input-gradient pass B and the weight-gradient pass W, and the
//! activation memory they hold.
//!
//! Presets are GPT-3's Table 2.1 (Brown et al. 2020): layers, hidden size, heads, a 2,048-token
//! context and a 50,257-token vocabulary. Per transformer layer with `b` sequences of `s`
//! tokens, hidden size `h` and `a` heads (Qi et al., "Zero Bubble Pipeline Parallelism",
//! ICLR'24, Table 1, counting matrix multiplications only):
//!
//! | Pass | FLOPs | Activation memory it needs |
//! |---|---|---|
//! | F | `sbh(24h + 4s)` | — |
//! | B | `sbh(24h + 8s)` | `M_B = sb(34h + 5as)` bytes (held from F until B) |
//! | W | `sbh * 24h` | `M_W = 32sbh` bytes (held from B until W) |
//!
//! `M_B` is Korthikanti et al.'s activation size without recomputation (16-bit, 2022, eq. 1).
//! Parameters per layer `12h^2 + 13h` (Narayanan et al., SC'21). The output layer (logits, on
//! the last stage, its weights tied to the input embedding) costs `2sbhV` FLOPs in each of F,
//! B and W; the embedding lookup on the first stage is free.

use serde::{Deserialize, Serialize};

use crate::iteration::StageWork;

/// The shape of a GPT-style transformer and the micro-batch it is trained on.
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
    /// Attention heads a.
    pub heads: u32,
    /// Vocabulary size V.
    #[serde(default = "vocab")]
    pub vocab: u32,
    /// Sequence length s.
    #[serde(default = "seq")]
    pub seq_len: u32,
}

fn vocab() -> u32 {
    50_257
}
fn seq() -> u32 {
    2_048
}

/// Named models: (name, layers, hidden, heads), GPT-3's Table 2.1.
pub const PRESETS: &[(&str, u32, u32, u32)] = &[
    ("gpt3-1.3b", 24, 2048, 24),
    ("gpt3-2.7b", 32, 2560, 32),
    ("gpt3-6.7b", 32, 4096, 32),
    ("gpt3-13b", 40, 5140, 40),
];

/// Per layer and micro-batch: FLOPs of each pass and activation bytes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LayerCost {
    /// Forward FLOPs.
    pub f_flops: f64,
    /// Input-gradient FLOPs.
    pub b_flops: f64,
    /// Weight-gradient FLOPs.
    pub w_flops: f64,
    /// Activation bytes held from F until B.
    pub m_b: f64,
    /// Bytes held from B until W.
    pub m_w: f64,
}

impl ModelSpec {
    /// A preset by name.
    pub fn preset(name: &str) -> Option<ModelSpec> {
        PRESETS.iter().find(|p| p.0 == name).map(|&(n, layers, hidden, heads)| ModelSpec {
            name: n.to_string(),
            layers,
            hidden,
            heads,
            vocab: vocab(),
            seq_len: seq(),
        })
    }

    fn h(&self) -> f64 {
        f64::from(self.hidden)
    }

    /// Parameters of one transformer layer: `12h^2 + 13h`.
    pub fn layer_params(&self) -> f64 {
        12.0 * self.h() * self.h() + 13.0 * self.h()
    }

    /// Parameters of the (tied) embedding: `V * h`, plus `s * h` learned positions.
    pub fn embedding_params(&self) -> f64 {
        (f64::from(self.vocab) + f64::from(self.seq_len)) * self.h()
    }

    /// All parameters.
    pub fn params(&self) -> f64 {
        f64::from(self.layers) * self.layer_params() + self.embedding_params()
    }

    /// Costs of one transformer layer for a micro-batch of `b` sequences.
    pub fn layer_cost(&self, b: u32) -> LayerCost {
        let (s, h, a) = (f64::from(self.seq_len), self.h(), f64::from(self.heads));
        let sbh = s * f64::from(b) * h;
        LayerCost {
            f_flops: sbh * (24.0 * h + 4.0 * s),
            b_flops: sbh * (24.0 * h + 8.0 * s),
            w_flops: sbh * 24.0 * h,
            m_b: s * f64::from(b) * (34.0 * h + 5.0 * a * s),
            m_w: 32.0 * sbh,
        }
    }

    /// FLOPs of the output layer in each of F, B and W for `b` sequences: `2sbhV`.
    pub fn logits_flops(&self, b: u32) -> f64 {
        2.0 * f64::from(self.seq_len) * f64::from(b) * self.h() * f64::from(self.vocab)
    }

    /// The work of a stage of `layers` transformer layers for micro-batches of `b` sequences;
    /// the first stage also holds the embedding, the last the (tied) output layer, whose
    /// logits cost `2sbhV` FLOPs in each pass. Each pass reads the stage's 16-bit weights.
    pub fn stage_work(&self, b: u32, layers: u32, first: bool, last: bool) -> StageWork {
        let c = self.layer_cost(b);
        let l = f64::from(layers);
        let logits = if last { self.logits_flops(b) } else { 0.0 };
        let mut params = l * self.layer_params();
        if first {
            params += self.embedding_params();
        }
        if last {
            params += f64::from(self.vocab) * self.h();
        }
        StageWork {
            f_flops: l * c.f_flops + logits,
            b_flops: l * c.b_flops + logits,
            w_flops: l * c.w_flops + logits,
            pass_bytes: 2.0 * params,
            params,
        }
    }

    /// Layers of each of `stages` stages: as even as possible, the first stages one more.
    pub fn partition(&self, stages: u32) -> Vec<u32> {
        let (q, r) = (self.layers / stages.max(1), self.layers % stages.max(1));
        (0..stages).map(|s| q + u32::from(s < r)).collect()
    }

    /// Bytes of one micro-batch's activations (or their gradients) between two stages, 16-bit.
    pub fn boundary_bytes(&self, b: u32) -> f64 {
        2.0 * f64::from(self.seq_len) * f64::from(b) * self.h()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_have_their_published_sizes() {
        for (name, billions) in
            [("gpt3-1.3b", 1.3), ("gpt3-2.7b", 2.7), ("gpt3-6.7b", 6.7), ("gpt3-13b", 13.0)]
        {
            let m = ModelSpec::preset(name).unwrap();
            let p = m.params() / 1e9;
            assert!((p - billions).abs() / billions < 0.05, "{name}: {p:.2}B");
        }
    }

    #[test]
    fn zero_bubble_relations_hold() {
        // T_W < T_F < T_B and T_B + T_W = 2 T_F (the ZB paper, section 2).
        let c = ModelSpec::preset("gpt3-6.7b").unwrap().layer_cost(1);
        assert!(c.w_flops < c.f_flops && c.f_flops < c.b_flops);
        assert!((c.b_flops + c.w_flops - 2.0 * c.f_flops).abs() < 1e-6 * c.f_flops);
        assert!(c.m_w < c.m_b);
    }
}
