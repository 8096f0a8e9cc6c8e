//! A GPT-style decoder-only transformer: its shape, and per layer its parameters, FLOPs and
//! activation memory.
//!
//! Per layer with hidden size `h`, `a` heads, FFN inner width `f·h` (f = `ffn_mult`, 4 in
//! GPT-3), over sequences of `s` tokens (Narayanan et al., "Efficient Large-Scale Language
//! Model Training on GPU Clusters Using Megatron-LM", SC'21, section 5.1; Kaplan et al. 2020):
//!
//! | Quantity | Formula |
//! |---|---|
//! | attention weights | `4h^2` (Q, K, V, output projections) |
//! | FFN weights (one expert) | `2f·h^2` |
//! | layer parameters | `(4 + 2f)h^2 + (9 + f)h` (weights, biases, two layer norms: `12h^2 + 13h` for f = 4) |
//! | forward FLOPs per token, attention | `2·4h^2 + 4sh` (projections, then `QK^T` and the weighted sum) |
//! | forward FLOPs per token, FFN | `2·2f·h^2` |
//! | output layer (logits) per token | `2Vh` |
//! | activation bytes per layer, 16-bit, no recomputation | `sbh(34 + 5as/h)` for `b` sequences (Korthikanti et al., "Reducing Activation Recomputation in Large Transformer Models", 2022, eq. 1) |
//!
//! A training step splits each layer's backward pass into the input gradient B and the weight
//! gradient W (Qi et al., "Zero Bubble Pipeline Parallelism", ICLR'24, Table 1, counting
//! matrix multiplications): per micro-batch of `b` sequences, F = `sbh(2(4+2f)h + 4s)`,
//! B = `sbh(2(4+2f)h + 8s)`, W = `sbh·2(4+2f)h` (for f = 4: `24h + 4s`, `24h + 8s`, `24h`),
//! with `M_B` (the activations above, held from F until B) and `M_W = 32sbh` bytes (held from
//! B until W).

use serde::{Deserialize, Serialize};

/// The shape of a GPT-style transformer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransformerSpec {
    /// Name for labels (the preset's, or empty for a custom spec).
    #[serde(default)]
    pub name: String,
    /// Transformer layers.
    pub layers: u32,
    /// Hidden size h.
    pub hidden: u32,
    /// Attention heads a.
    pub heads: u32,
    /// Vocabulary size V (GPT-2/3's BPE: 50,257).
    #[serde(default = "vocab")]
    pub vocab: u32,
    /// FFN inner width as a multiple f of h (4 in GPT-3).
    #[serde(default = "ffn_mult")]
    pub ffn_mult: u32,
    /// Context length s: the training sequence length where a simulator takes it from the
    /// model (GPT-3: 2,048).
    #[serde(default = "seq_len")]
    pub seq_len: u32,
}

/// GPT-2/3's vocabulary.
pub(crate) fn vocab() -> u32 {
    50_257
}
pub(crate) fn ffn_mult() -> u32 {
    4
}
/// GPT-3's context length.
pub(crate) fn seq_len() -> u32 {
    2_048
}

/// One layer's work in a training step for one micro-batch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LayerPasses {
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

impl TransformerSpec {
    fn h(&self) -> f64 {
        f64::from(self.hidden)
    }

    fn f(&self) -> f64 {
        f64::from(self.ffn_mult)
    }

    /// Weights of one attention block: `4h^2`.
    pub fn attention_params(&self) -> f64 {
        4.0 * self.h() * self.h()
    }

    /// Weights of one FFN (or one expert): two `h x f·h` matrices.
    pub fn ffn_params(&self) -> f64 {
        2.0 * self.f() * self.h() * self.h()
    }

    /// Parameters of one layer with biases and layer norms: `(4 + 2f)h^2 + (9 + f)h`.
    pub fn layer_params(&self) -> f64 {
        let weights = 4.0 + 2.0 * self.f();
        weights * self.h() * self.h() + (9.0 + self.f()) * self.h()
    }

    /// The token embedding (tied with the output layer): `V·h`.
    pub fn token_embedding_params(&self) -> f64 {
        f64::from(self.vocab) * self.h()
    }

    /// Token and learned position embeddings: `(V + s)·h`.
    pub fn embedding_params(&self) -> f64 {
        (f64::from(self.vocab) + f64::from(self.seq_len)) * self.h()
    }

    /// All parameters of the dense model.
    pub fn params(&self) -> f64 {
        f64::from(self.layers) * self.layer_params() + self.embedding_params()
    }

    /// Forward FLOPs per token of one layer's attention over `seq` positions.
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

    /// Activation bytes of one layer for `tokens` tokens of sequences of `seq`, 16-bit, no
    /// recomputation: `tokens·(34h + 5a·seq)` (= `sbh(34 + 5as/h)`).
    pub fn activation_bytes_per_layer(&self, tokens: f64, seq: u32) -> f64 {
        tokens * (34.0 * self.h() + 5.0 * f64::from(self.heads) * f64::from(seq))
    }

    /// F, B and W FLOPs and held activations of one layer for a micro-batch of `b` sequences
    /// of `seq_len` tokens.
    pub fn layer_passes(&self, b: u32) -> LayerPasses {
        let (s, h) = (f64::from(self.seq_len), self.h());
        let sb = s * f64::from(b);
        let sbh = sb * h;
        let k = 2.0 * (4.0 + 2.0 * self.f());
        LayerPasses {
            f_flops: sbh * (k * h + 4.0 * s),
            b_flops: sbh * (k * h + 8.0 * s),
            w_flops: sbh * k * h,
            m_b: self.activation_bytes_per_layer(sb, self.seq_len),
            m_w: 32.0 * sbh,
        }
    }

    /// FLOPs of the output layer for `b` sequences of `seq_len`: `2sbhV` (in each of F, B, W).
    pub fn logits_flops(&self, b: u32) -> f64 {
        2.0 * f64::from(self.seq_len) * f64::from(b) * self.h() * f64::from(self.vocab)
    }

    /// Bytes of one micro-batch's activations (or their gradients) between two pipeline
    /// stages, 16-bit: `2sbh`.
    pub fn boundary_bytes(&self, b: u32) -> f64 {
        2.0 * f64::from(self.seq_len) * f64::from(b) * self.h()
    }
}

#[cfg(test)]
mod tests {
    use crate::preset;

    #[test]
    fn gpt3_layer_counts_match_megatron() {
        let m = preset("gpt3-6.7b").unwrap();
        let h = f64::from(m.hidden);
        assert_eq!(m.layer_params(), 12.0 * h * h + 13.0 * h);
        assert_eq!(m.attention_params() + m.ffn_params(), 12.0 * h * h);
    }

    #[test]
    fn zero_bubble_relations_hold() {
        // T_W < T_F < T_B and T_B + T_W = 2 T_F (the ZB paper, section 2).
        let c = preset("gpt3-6.7b").unwrap().layer_passes(1);
        assert!(c.w_flops < c.f_flops && c.f_flops < c.b_flops);
        assert!((c.b_flops + c.w_flops - 2.0 * c.f_flops).abs() < 1e-6 * c.f_flops);
        assert!(c.m_w < c.m_b);
    }

    #[test]
    fn forward_flops_per_token_add_up_to_the_layer_pass() {
        // F per micro-batch = tokens x (attention + FFN forward FLOPs per token).
        let m = preset("gpt3-1.3b").unwrap();
        let tokens = f64::from(m.seq_len);
        let per_token = m.attention_flops_per_token(m.seq_len) + m.ffn_flops_per_token();
        let f = m.layer_passes(1).f_flops;
        assert!((f - tokens * per_token).abs() < 1e-9 * f);
        // Korthikanti's activations: sbh(34 + 5as/h).
        let (s, h, a) = (tokens, f64::from(m.hidden), f64::from(m.heads));
        let korthikanti = s * h * (34.0 + 5.0 * a * s / h);
        assert!((m.layer_passes(1).m_b - korthikanti).abs() < 1e-9 * korthikanti);
    }
}
