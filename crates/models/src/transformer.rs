//! A decoder-only transformer: its shape, and per layer its parameters, FLOPs and activation
//! memory. Two block conventions ([`Family`]): GPT-2/3 (biases, LayerNorm, learned positions,
//! tied embeddings) and Llama/Mistral/Mixtral (no biases, RMSNorm, rotary positions, untied
//! output layer), each optionally with grouped-query attention (GQA), a gated MLP (SwiGLU) and a
//! mixture-of-experts FFN.
//!
//! Per layer with hidden size `h`, `a` query heads, `g` KV heads (head width `d = h/a`, K and V
//! projections `g·d` wide each), FFN inner width `F` (`ffn_hidden`, or `f·h` with f =
//! `ffn_mult`, 4 in GPT-3), `m` FFN matrices (2; 3 when gated: gate, up, down), `E` experts of
//! which `k` run per token, over sequences of `s` tokens (Narayanan et al., "Efficient
//! Large-Scale Language Model Training on GPU Clusters Using Megatron-LM", SC'21, section 5.1;
//! Kaplan et al. 2020; Shazeer, "GLU Variants Improve Transformer", 2020; Ainslie et al., "GQA",
//! EMNLP 2023; Jiang et al., "Mixtral of Experts", 2024):
//!
//! | Quantity | Formula |
//! |---|---|
//! | attention weights | `2h^2 + 2h·g·d` (Q and output `h x h`, K and V `h x g·d`; `4h^2` when g = a) |
//! | FFN weights (one expert) | `m·h·F` (`2f·h^2` for GPT-3) |
//! | router weights | `h·E` when E > 1, else 0 |
//! | layer parameters, GPT | weights + biases `h + 2g·d + h + E(F(m-1) + h)` + two LayerNorms `4h` (`(4 + 2f)h^2 + (9 + f)h` for GPT-3: `12h^2 + 13h`) |
//! | layer parameters, Llama | weights + two RMSNorm gains `2h` |
//! | embeddings | `V·h`, plus learned positions `s·h` (GPT), plus an untied output layer `V·h` (Llama), plus the final RMSNorm `h` (Llama; GPT's final LayerNorm is left out, as in Megatron's count) |
//! | forward FLOPs per token, attention | `2·(attention weights) + 4sh` (projections, then `QK^T` and the weighted sum over all `s` positions, no causal halving) |
//! | forward FLOPs per token, FFN | `2·(one expert's weights)` per expert run |
//! | output layer (logits) per token | `2Vh` |
//! | activation bytes per layer, 16-bit, no recomputation | `sbh(34 + 5as/h)` for `b` sequences (Korthikanti et al., "Reducing Activation Recomputation in Large Transformer Models", 2022, eq. 1; derived for GPT-3's block, used unchanged for the others) |
//! | the same per GPU with `t`-way tensor parallelism | `sbh(10 + 24/t + 5as/(ht))`; with sequence parallelism `sbh(34/t + 5as/(ht))`; selective recomputation drops the `5as/(ht)` term; full recomputation keeps only the layer input `2sbh` (Korthikanti et al., Table 2) |
//! | attention core forward FLOPs (`QK^T` and attention over `V`) | `4bs^2h` per layer (`2bs^2h` each); what selective recomputation reruns |
//!
//! A training step splits each layer's backward pass into the input gradient B and the weight
//! gradient W (Qi et al., "Zero Bubble Pipeline Parallelism", ICLR'24, Table 1, counting
//! matrix multiplications): per micro-batch of `b` sequences, with `w` the weights one token
//! passes through in a layer (attention, `k` experts, router) and `K = 2w/h^2`, F =
//! `sbh(Kh + 4s)`, B = `sbh(Kh + 8s)`, W = `sbh·Kh` (for GPT-3, K = 2(4 + 2f): `24h + 4s`,
//! `24h + 8s`, `24h`), with `M_B` (the activations above, held from F until B) and `M_W =
//! 32sbh` bytes (held from B until W).
//!
//! Every new field defaults to GPT-3's convention, so a spec that names none of them counts
//! exactly as before. Inference costs (KV cache, prefill and decode) are in `inference.rs`.

use serde::{Deserialize, Serialize};

/// The block conventions a [`TransformerSpec`] does not spell out field by field.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// GPT-2/3: a bias on every linear layer, LayerNorm with gain and bias, learned position
    /// embeddings, output layer tied to the token embedding.
    #[default]
    Gpt,
    /// Llama, Mistral, Mixtral: no biases, RMSNorm (gain only) before attention, before the FFN
    /// and once at the end, rotary positions (no parameters), untied output layer.
    Llama,
}

impl Family {
    fn is_gpt(&self) -> bool {
        *self == Family::Gpt
    }
}

/// The shape of a decoder-only transformer.
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
    /// Attention (query) heads a.
    pub heads: u32,
    /// Vocabulary size V (GPT-2/3's BPE: 50,257).
    #[serde(default = "vocab")]
    pub vocab: u32,
    /// FFN inner width as a multiple f of h (4 in GPT-3); ignored when `ffn_hidden` is given.
    #[serde(default = "ffn_mult")]
    pub ffn_mult: u32,
    /// Context length s: the longest sequence the model takes (its `max_position_embeddings`),
    /// and the training sequence length where a simulator takes it from the model (GPT-3: 2,048).
    #[serde(default = "seq_len")]
    pub seq_len: u32,
    /// Block conventions: `gpt` (default) or `llama`.
    #[serde(default, skip_serializing_if = "Family::is_gpt")]
    pub family: Family,
    /// Key/value heads g for grouped-query attention (Llama-2-70B: 8); default `heads`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kv_heads: Option<u32>,
    /// FFN inner width F (Hugging Face's `intermediate_size`); default `ffn_mult x hidden`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ffn_hidden: Option<u32>,
    /// Gated MLP (SwiGLU: gate, up and down matrices) instead of two matrices.
    #[serde(default, skip_serializing_if = "is_false")]
    pub gated_mlp: bool,
    /// Experts per FFN (Mixtral: 8); 1 is a dense model. Describes a served MoE model; the
    /// `moe` crate lays out its own experts for training.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub experts: u32,
    /// Experts each token runs through (Mixtral: 2).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub experts_per_token: u32,
    /// Output layer shares the token embedding's weights; default: yes for `gpt`, no for
    /// `llama`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tied_embeddings: Option<bool>,
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
pub(crate) fn one() -> u32 {
    1
}
fn is_one(x: &u32) -> bool {
    *x == 1
}
fn is_false(x: &bool) -> bool {
    !*x
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
    pub(crate) fn h(&self) -> f64 {
        f64::from(self.hidden)
    }

    /// Key/value heads g (`heads` unless the spec uses grouped-query attention).
    pub fn kv_heads(&self) -> u32 {
        self.kv_heads.unwrap_or(self.heads)
    }

    /// Width of one head, `d = h/a`.
    pub fn head_dim(&self) -> f64 {
        self.h() / f64::from(self.heads)
    }

    /// Width of the K (or the V) projection, `g·d`; `h` without GQA.
    pub fn kv_width(&self) -> f64 {
        self.h() * f64::from(self.kv_heads()) / f64::from(self.heads)
    }

    /// FFN inner width F: `ffn_hidden`, else `ffn_mult x hidden`.
    pub fn ffn_width(&self) -> f64 {
        self.ffn_hidden.map_or(f64::from(self.ffn_mult) * self.h(), f64::from)
    }

    /// Matrices in one FFN: 3 for a gated MLP, else 2.
    pub fn ffn_matrices(&self) -> f64 {
        if self.gated_mlp { 3.0 } else { 2.0 }
    }

    /// Whether the output layer shares the token embedding's weights.
    pub fn tied(&self) -> bool {
        self.tied_embeddings.unwrap_or(self.family == Family::Gpt)
    }

    /// Weights of the Q, K and V projections: `h(h + 2g·d)`.
    pub fn qkv_params(&self) -> f64 {
        self.h() * self.h() + 2.0 * self.h() * self.kv_width()
    }

    /// Weights of the attention output projection: `h^2`.
    pub fn out_proj_params(&self) -> f64 {
        self.h() * self.h()
    }

    /// Weights of one attention block: `2h^2 + 2h·g·d` (`4h^2` without GQA).
    pub fn attention_params(&self) -> f64 {
        self.qkv_params() + self.out_proj_params()
    }

    /// Weights of one FFN (or one expert): `m` matrices of `h x F`.
    pub fn ffn_params(&self) -> f64 {
        self.ffn_matrices() * self.h() * self.ffn_width()
    }

    /// Weights of the MoE router (`h x E`); 0 for a dense model.
    pub fn router_params(&self) -> f64 {
        if self.experts > 1 { self.h() * f64::from(self.experts) } else { 0.0 }
    }

    /// Biases and norm gains of one layer with `experts` FFN copies.
    fn small_params(&self, experts: f64) -> f64 {
        let h = self.h();
        match self.family {
            Family::Gpt => {
                let attention = 2.0 * h + 2.0 * self.kv_width();
                let ffn = experts * ((self.ffn_matrices() - 1.0) * self.ffn_width() + h);
                attention + ffn + 4.0 * h
            }
            Family::Llama => 2.0 * h,
        }
    }

    fn layer_params_with(&self, experts: f64) -> f64 {
        self.attention_params()
            + experts * self.ffn_params()
            + self.router_params()
            + self.small_params(experts)
    }

    /// Parameters of one layer with every expert, biases and norms (GPT-3: `(4 + 2f)h^2 + (9 +
    /// f)h`).
    pub fn layer_params(&self) -> f64 {
        self.layer_params_with(f64::from(self.experts))
    }

    /// Parameters of one layer that one token uses: only `experts_per_token` experts.
    pub fn active_layer_params(&self) -> f64 {
        self.layer_params_with(f64::from(self.experts_per_token))
    }

    /// The token embedding: `V·h`.
    pub fn token_embedding_params(&self) -> f64 {
        f64::from(self.vocab) * self.h()
    }

    /// The input embeddings: token and learned position embeddings `(V + s)·h` (GPT), token
    /// embedding `V·h` (Llama, rotary positions have no weights).
    pub fn embedding_params(&self) -> f64 {
        match self.family {
            Family::Gpt => (f64::from(self.vocab) + f64::from(self.seq_len)) * self.h(),
            Family::Llama => self.token_embedding_params(),
        }
    }

    /// Weights of the output layer that are not the token embedding's: `V·h` when untied.
    pub fn lm_head_params(&self) -> f64 {
        if self.tied() { 0.0 } else { self.token_embedding_params() }
    }

    /// The final norm's gain (`h`, Llama); GPT's final LayerNorm is not counted (Megatron).
    pub fn final_norm_params(&self) -> f64 {
        match self.family {
            Family::Gpt => 0.0,
            Family::Llama => self.h(),
        }
    }

    fn outside_layers(&self) -> f64 {
        self.embedding_params() + self.lm_head_params() + self.final_norm_params()
    }

    /// All parameters (every expert).
    pub fn params(&self) -> f64 {
        f64::from(self.layers) * self.layer_params() + self.outside_layers()
    }

    /// Parameters one token uses (`experts_per_token` experts per layer); `params()` for a
    /// dense model.
    pub fn active_params(&self) -> f64 {
        f64::from(self.layers) * self.active_layer_params() + self.outside_layers()
    }

    /// Weights one token passes through in a layer: attention, its experts, the router.
    fn active_weights(&self) -> f64 {
        self.attention_params()
            + f64::from(self.experts_per_token) * self.ffn_params()
            + self.router_params()
    }

    /// Forward FLOPs per token of one layer's attention over `seq` positions.
    pub fn attention_flops_per_token(&self, seq: u32) -> f64 {
        2.0 * self.attention_params() + 4.0 * f64::from(seq) * self.h()
    }

    /// Forward FLOPs per token of one FFN (dense or one expert).
    pub fn ffn_flops_per_token(&self) -> f64 {
        2.0 * self.ffn_params()
    }

    /// Forward FLOPs per token of the output layer (logits, the LM head): `2Vh`.
    pub fn logits_flops_per_token(&self) -> f64 {
        2.0 * f64::from(self.vocab) * self.h()
    }

    /// Activation bytes of one layer for `tokens` tokens of sequences of `seq`, 16-bit, no
    /// recomputation: `tokens·(34h + 5a·seq)` (= `sbh(34 + 5as/h)`).
    pub fn activation_bytes_per_layer(&self, tokens: f64, seq: u32) -> f64 {
        tokens * (34.0 * self.h() + 5.0 * f64::from(self.heads) * f64::from(seq))
    }

    /// Activation bytes of one layer per GPU for `tokens` tokens of sequences of `seq`, 16-bit,
    /// with `tp`-way tensor parallelism, optionally sequence parallelism (`sp`) and selective
    /// recomputation (Korthikanti et al. 2022, Table 2, per layer): `tokens·((10 + 24/t)h +
    /// 5a·seq/t)`; with `sp` `tokens·((34/t)h + 5a·seq/t)`; `selective` drops the `5a·seq/t`
    /// term (the attention core's softmax, its dropout mask and output). With `tp = 1`, no `sp`
    /// and no recomputation this is [`Self::activation_bytes_per_layer`], bit for bit.
    pub fn activation_bytes_per_layer_parallel(
        &self,
        tokens: f64,
        seq: u32,
        tp: u32,
        sp: bool,
        selective: bool,
    ) -> f64 {
        let t = f64::from(tp.max(1));
        let linear = if sp { 34.0 / t } else { 10.0 + 24.0 / t };
        let core = if selective { 0.0 } else { 5.0 * f64::from(self.heads) * f64::from(seq) / t };
        tokens * (linear * self.h() + core)
    }

    /// Bytes a layer keeps under full recomputation: its 16-bit input, `2·tokens·h`
    /// (Korthikanti et al. 2022, Table 2, last row: `2sbh`).
    pub fn layer_input_bytes(&self, tokens: f64) -> f64 {
        2.0 * tokens * self.h()
    }

    /// Forward FLOPs of one layer's attention core for `tokens` tokens of sequences of `seq`:
    /// `QK^T` (`2·tokens·seq·h`) and attention over `V` (the same), `4·tokens·seq·h` (the `4s`
    /// term of the forward pass). Selective recomputation runs it once more in the backward.
    pub fn attention_core_flops(&self, tokens: f64, seq: u32) -> f64 {
        4.0 * tokens * f64::from(seq) * self.h()
    }

    /// F, B and W FLOPs and held activations of one layer for a micro-batch of `b` sequences
    /// of `seq_len` tokens.
    pub fn layer_passes(&self, b: u32) -> LayerPasses {
        let (s, h) = (f64::from(self.seq_len), self.h());
        let sb = s * f64::from(b);
        let sbh = sb * h;
        // 2(4 + 2f) exactly for GPT-3 (an integer quotient of integers).
        let k = 2.0 * self.active_weights() / (h * h);
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

    /// Checks the fields that GQA, the FFN width and experts add; the message names the field
    /// and what would be valid. (Zero layers, hidden or heads are left to each simulator,
    /// which names its own config field.)
    pub fn validate(&self) -> Result<(), String> {
        if let Some(g) = self.kv_heads {
            if g == 0 || self.heads == 0 || !self.heads.is_multiple_of(g) {
                return Err(format!(
                    "kv_heads = {g} must be at least 1 and divide heads = {}",
                    self.heads
                ));
            }
            if !self.hidden.is_multiple_of(self.heads) {
                return Err(format!(
                    "with kv_heads, heads = {} must divide hidden = {} (whole head widths)",
                    self.heads, self.hidden
                ));
            }
        }
        if self.ffn_hidden == Some(0) {
            return Err(
                "ffn_hidden must be at least 1 (or leave it out for ffn_mult x hidden)".into()
            );
        }
        if self.experts == 0 {
            return Err("experts must be at least 1 (1 is a dense FFN)".into());
        }
        if self.experts_per_token == 0 || self.experts_per_token > self.experts {
            return Err(format!(
                "experts_per_token = {} must be between 1 and experts = {}",
                self.experts_per_token, self.experts
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preset;

    #[test]
    fn gpt3_layer_counts_match_megatron() {
        let m = preset("gpt3-6.7b").unwrap();
        let h = f64::from(m.hidden);
        assert_eq!(m.layer_params(), 12.0 * h * h + 13.0 * h);
        assert_eq!(m.attention_params() + m.ffn_params(), 12.0 * h * h);
        assert_eq!(m.params(), m.active_params());
        // Megatron's total: 12lh^2 + 13lh + (V + s)h.
        let l = f64::from(m.layers);
        assert_eq!(m.params(), 12.0 * l * h * h + 13.0 * l * h + (50_257.0 + 2_048.0) * h);
    }

    #[test]
    fn gpt_numbers_are_unchanged_by_the_new_fields() {
        // The formulas as they were before GQA, gated MLPs and experts existed, for every
        // GPT preset, bit for bit.
        for name in crate::presets::names() {
            let m = preset(name).unwrap();
            if m.family != Family::Gpt {
                continue;
            }
            let (h, f, s) = (f64::from(m.hidden), f64::from(m.ffn_mult), f64::from(m.seq_len));
            assert_eq!(m.attention_params(), 4.0 * h * h, "{name}");
            assert_eq!(m.ffn_params(), 2.0 * f * h * h, "{name}");
            assert_eq!(m.layer_params(), (4.0 + 2.0 * f) * h * h + (9.0 + f) * h, "{name}");
            for b in [1, 8, 64] {
                let sb = s * f64::from(b);
                let sbh = sb * h;
                let k = 2.0 * (4.0 + 2.0 * f);
                let p = m.layer_passes(b);
                assert_eq!(p.f_flops, sbh * (k * h + 4.0 * s), "{name}");
                assert_eq!(p.b_flops, sbh * (k * h + 8.0 * s), "{name}");
                assert_eq!(p.w_flops, sbh * k * h, "{name}");
            }
        }
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

    #[test]
    fn parallel_activations_follow_korthikanti_table_2() {
        // GPT-3 175B (Korthikanti et al.'s own example): s = 2048, h = 12288, a = 96, b = 1.
        let m = preset("gpt3-175b").unwrap();
        let (s, h, a) = (2048.0, 12288.0, 96.0);
        let sbh = s * h;
        let act = |t, sp, sel| m.activation_bytes_per_layer_parallel(s, 2048, t, sp, sel);
        // t = 1, no SP, no recomputation: eq. 1, bit for bit.
        assert_eq!(act(1, false, false), m.activation_bytes_per_layer(s, 2048));
        let t = 8.0;
        let close = |x: f64, y: f64| assert!((x - y).abs() <= 1e-12 * y, "{x} vs {y}");
        close(act(8, false, false), sbh * (10.0 + 24.0 / t + 5.0 * a * s / (h * t)));
        close(act(8, true, false), sbh * (34.0 / t + 5.0 * a * s / (h * t)));
        close(act(8, false, true), sbh * (10.0 + 24.0 / t));
        close(act(8, true, true), sbh * 34.0 / t);
        // By hand, TP + SP + selective: 2048 * 12288 * 34 / 8 = 106,954,752 bytes per layer.
        assert_eq!(act(8, true, true), 106_954_752.0);
        assert_eq!(m.layer_input_bytes(s), 2.0 * sbh);
        // The attention core is the 4s part of the forward pass.
        let c = m.layer_passes(1);
        close(c.f_flops - s * 2.0 * 12.0 * h * h, m.attention_core_flops(s, 2048));
    }

    #[test]
    fn llama_parameter_counts_match_the_published_checkpoints() {
        // Exact counts of the Hugging Face checkpoints (sum of tensor sizes).
        assert_eq!(preset("llama-2-7b").unwrap().params(), 6_738_415_616.0);
        assert_eq!(preset("llama-2-13b").unwrap().params(), 13_015_864_320.0);
        assert_eq!(preset("llama-2-70b").unwrap().params(), 68_976_648_192.0);
        assert_eq!(preset("llama-3-8b").unwrap().params(), 8_030_261_248.0);
        assert_eq!(preset("llama-3-70b").unwrap().params(), 70_553_706_496.0);
        // Mixtral 8x7B: 46.7B total, 12.9B active (Jiang et al. 2024, section 2).
        let m = preset("mixtral-8x7b").unwrap();
        assert_eq!(m.params(), 46_702_792_704.0);
        assert_eq!(m.active_params(), 12_879_925_248.0);
    }

    #[test]
    fn llama_2_7b_layer_by_hand() {
        // h = 4096, F = 11008: attention 4h^2, SwiGLU 3hF, two RMSNorm gains.
        let m = preset("llama-2-7b").unwrap();
        assert_eq!(m.attention_params(), 67_108_864.0);
        assert_eq!(m.ffn_params(), 135_266_304.0);
        assert_eq!(m.layer_params(), 67_108_864.0 + 135_266_304.0 + 8_192.0);
        assert!(!m.tied());
        // GQA in Llama-2-70B: K and V are 8 x 128 = 1,024 wide.
        let m = preset("llama-2-70b").unwrap();
        assert_eq!((m.kv_heads(), m.head_dim(), m.kv_width()), (8, 128.0, 1024.0));
        assert_eq!(m.attention_params(), 2.0 * 8192.0 * 8192.0 + 2.0 * 8192.0 * 1024.0);
    }

    #[test]
    fn moe_layer_passes_count_the_active_experts() {
        let m = preset("mixtral-8x7b").unwrap();
        let (s, h) = (f64::from(m.seq_len), f64::from(m.hidden));
        let w = m.attention_params() + 2.0 * m.ffn_params() + m.router_params();
        assert_eq!(m.router_params(), 4096.0 * 8.0);
        let f = m.layer_passes(1).f_flops;
        assert!((f - s * (2.0 * w + 4.0 * s * h)).abs() < 1e-9 * f);
    }

    #[test]
    fn custom_specs_default_to_gpt_and_serialize_unchanged() {
        let m: TransformerSpec =
            serde_json::from_str(r#"{"layers": 2, "hidden": 64, "heads": 4}"#).unwrap();
        assert_eq!((m.family, m.kv_heads(), m.experts, m.tied()), (Family::Gpt, 4, 1, true));
        assert_eq!(m.ffn_width(), 256.0);
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(
            json,
            r#"{"name":"","layers":2,"hidden":64,"heads":4,"vocab":50257,"ffn_mult":4,"seq_len":2048}"#
        );
        let g: TransformerSpec = serde_json::from_str(
            r#"{"layers": 2, "hidden": 64, "heads": 4, "family": "llama", "kv_heads": 2,
                "ffn_hidden": 176, "gated_mlp": true, "experts": 4, "experts_per_token": 2}"#,
        )
        .unwrap();
        g.validate().unwrap();
        assert!(!g.tied());
        let back: TransformerSpec =
            serde_json::from_str(&serde_json::to_string(&g).unwrap()).unwrap();
        assert_eq!(back, g);
    }

    #[test]
    fn bad_new_fields_name_the_field() {
        let bad = |json: &str| {
            serde_json::from_str::<TransformerSpec>(json).unwrap().validate().unwrap_err()
        };
        let e = bad(r#"{"layers": 2, "hidden": 64, "heads": 4, "kv_heads": 3}"#);
        assert!(e.contains("kv_heads = 3") && e.contains("heads = 4"), "{e}");
        let e =
            bad(r#"{"layers": 2, "hidden": 64, "heads": 4, "experts": 2, "experts_per_token": 3}"#);
        assert!(e.contains("experts_per_token = 3"), "{e}");
        let e = bad(r#"{"layers": 2, "hidden": 64, "heads": 4, "experts": 0}"#);
        assert!(e.contains("experts must be"), "{e}");
        let e = bad(r#"{"layers": 2, "hidden": 64, "heads": 4, "ffn_hidden": 0}"#);
        assert!(e.contains("ffn_hidden"), "{e}");
    }
}
