//! What serving a [`TransformerSpec`] costs: weight and KV-cache bytes, and the FLOPs of one
//! iteration's parts, for an iteration-level cost model (prefill chunks and decode tokens in one
//! batch, as in Orca and vLLM).
//!
//! With `L` layers, hidden size `h`, `a` query heads of width `d = h/a`, `g` KV heads, FFN inner
//! width `F` with `m` matrices (3 for SwiGLU), `E` experts of which `k` run per token,
//! vocabulary `V`, and `w` bytes per element (2 for FP16/BF16):
//!
//! | Quantity | Formula | Scope |
//! |---|---|---|
//! | weight bytes | `P·w`, P = [`TransformerSpec::params`] (every expert) | model |
//! | KV-cache bytes per token | `2·L·g·d·w` (K and V, every layer) | model |
//! | QKV projection FLOPs per token | `2h(h + 2g·d)` | layer |
//! | output projection FLOPs per token | `2h^2` | layer |
//! | router FLOPs per token | `2h·E` (MoE only) | layer |
//! | MLP FLOPs per token | `k·2m·h·F` | layer |
//! | LM head FLOPs per token | `2Vh` ([`TransformerSpec::logits_flops_per_token`]) | model |
//! | prefill attention FLOPs, `c` new tokens after `p` cached | `4h·c·(p + (c+1)/2)` | layer |
//! | decode attention FLOPs, context `n` | `4h·n` (the prefill formula with c = 1, p = n - 1) | layer |
//! | decode attention KV bytes read, context `n` | `2·n·g·d·w` | layer |
//!
//! A weight matrix `h_in x h_out` costs `2·h_in·h_out` FLOPs per token (one multiply and one
//! add per weight; Kaplan et al. 2020, section 2.1). Attention costs `2d` FLOPs per (query,
//! key) pair and head for `QK^T` and `2d` for the weighted sum of V, so `4h` per pair over all
//! query heads; GQA shares K and V between heads but does not reduce these FLOPs, only the KV
//! bytes. **Causal masking is assumed to be exploited exactly**: new token `i` (0-based) of a
//! chunk attends to the `p` cached tokens and the `i + 1` chunk tokens up to itself, `c·p +
//! c(c+1)/2` pairs in all. A tiled kernel (FlashAttention) also computes the masked half of the
//! tiles on the diagonal, a little more than this count; the training formula in
//! `transformer.rs` (`4sh` per token) counts the full `s x s` square instead. Biases, norms,
//! rotary embeddings, activations, softmax and residual adds are left out of the FLOPs (each
//! is `O(h)` per token against `O(h^2)` for the matrices); a cost model that wants their bytes
//! adds them.

use crate::TransformerSpec;

/// FLOPs per token of one layer's token-level linear operators (the matrix multiplications
/// whose cost does not depend on the context).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinearFlops {
    /// Q, K and V projections: `2h(h + 2g·d)`.
    pub qkv: f64,
    /// Attention output projection: `2h^2`.
    pub out_proj: f64,
    /// MoE router: `2h·E` (0 for a dense model).
    pub router: f64,
    /// MLP through `experts_per_token` experts: `k·2m·h·F`.
    pub mlp: f64,
}

impl LinearFlops {
    /// All of them.
    pub fn total(&self) -> f64 {
        self.qkv + self.out_proj + self.router + self.mlp
    }
}

impl TransformerSpec {
    /// Bytes of all weights (every expert) at `bytes_per_param` bytes each (2 for FP16/BF16).
    pub fn weight_bytes(&self, bytes_per_param: f64) -> f64 {
        self.params() * bytes_per_param
    }

    /// KV-cache bytes of one token over all layers: `2·L·g·d·w`.
    pub fn kv_bytes_per_token(&self, bytes_per_elem: f64) -> f64 {
        2.0 * f64::from(self.layers) * self.kv_width() * bytes_per_elem
    }

    /// FLOPs per token of one layer's linear operators.
    pub fn linear_flops_per_token(&self) -> LinearFlops {
        LinearFlops {
            qkv: 2.0 * self.qkv_params(),
            out_proj: 2.0 * self.out_proj_params(),
            router: 2.0 * self.router_params(),
            mlp: f64::from(self.experts_per_token) * self.ffn_flops_per_token(),
        }
    }

    /// Attention FLOPs (`QK^T` and the weighted sum of V) of one layer for a prefill chunk of
    /// `new` tokens after `cached` tokens already in the KV cache, causal mask exploited:
    /// `4h·c·(p + (c+1)/2)`.
    pub fn prefill_attention_flops(&self, new: u64, cached: u64) -> f64 {
        let (c, p) = (new as f64, cached as f64);
        // 4h·c·(p + (c+1)/2), written with integers only.
        2.0 * self.h() * c * (2.0 * p + c + 1.0)
    }

    /// Attention FLOPs of one layer for one decode token whose context (itself included) is
    /// `context` tokens: `4h·n`.
    pub fn decode_attention_flops(&self, context: u64) -> f64 {
        4.0 * self.h() * context as f64
    }

    /// KV-cache bytes one layer reads for one decode token over a context of `context` tokens:
    /// `2·n·g·d·w`.
    pub fn decode_attention_kv_bytes(&self, context: u64, bytes_per_elem: f64) -> f64 {
        2.0 * context as f64 * self.kv_width() * bytes_per_elem
    }
}

#[cfg(test)]
mod tests {
    use crate::preset;

    #[test]
    fn llama_2_7b_by_hand() {
        let m = preset("llama-2-7b").unwrap();
        // 6,738,415,616 parameters x 2 bytes.
        assert_eq!(m.weight_bytes(2.0), 13_476_831_232.0);
        // 2 x 32 layers x 32 heads x 128 x 2 bytes = 512 KiB per token.
        assert_eq!(m.kv_bytes_per_token(2.0), 524_288.0);
        let f = m.linear_flops_per_token();
        assert_eq!(f.qkv, 2.0 * 4096.0 * 12_288.0); // 100,663,296
        assert_eq!(f.out_proj, 33_554_432.0);
        assert_eq!(f.router, 0.0);
        assert_eq!(f.mlp, 2.0 * 3.0 * 4096.0 * 11_008.0); // 270,532,608
        // Twice the layer's weights (the norms have no FLOPs counted).
        assert_eq!(f.total(), 2.0 * (m.layer_params() - 2.0 * 4096.0));
        assert_eq!(m.logits_flops_per_token(), 262_144_000.0);
        // Context 1,000, FP16: 1,000 x 2 x 4,096 x 2 bytes per layer.
        assert_eq!(m.decode_attention_kv_bytes(1000, 2.0), 16_384_000.0);
        assert_eq!(
            m.decode_attention_kv_bytes(1000, 2.0) * 32.0,
            1000.0 * m.kv_bytes_per_token(2.0)
        );
    }

    #[test]
    fn gqa_shrinks_kv_bytes_not_attention_flops() {
        // Llama-2-70B: 2 x 80 x 8 x 128 x 2 = 320 KiB per token; Llama-3-8B: 128 KiB.
        assert_eq!(preset("llama-2-70b").unwrap().kv_bytes_per_token(2.0), 327_680.0);
        let m = preset("llama-3-8b").unwrap();
        assert_eq!(m.kv_bytes_per_token(2.0), 131_072.0);
        assert_eq!(m.linear_flops_per_token().qkv, 2.0 * 4096.0 * (4096.0 + 2.0 * 1024.0));
        assert_eq!(m.decode_attention_flops(100), 4.0 * 4096.0 * 100.0);
    }

    #[test]
    fn prefill_attention_counts_causal_pairs() {
        let m = preset("llama-2-7b").unwrap();
        // 4 new tokens after 10 cached: 11 + 12 + 13 + 14 = 50 pairs = 4 x (10 + 5/2).
        assert_eq!(m.prefill_attention_flops(4, 10), 4.0 * 4096.0 * 50.0);
        // No cache: c(c+1)/2 pairs.
        assert_eq!(m.prefill_attention_flops(3, 0), 4.0 * 4096.0 * 6.0);
        // One token is a decode step over its whole context.
        assert_eq!(m.prefill_attention_flops(1, 99), m.decode_attention_flops(100));
        // Chunking conserves work: 8 then 8 = 16 at once.
        let split = m.prefill_attention_flops(8, 0) + m.prefill_attention_flops(8, 8);
        assert_eq!(split, m.prefill_attention_flops(16, 0));
    }

    #[test]
    fn mixtral_runs_two_of_eight_experts() {
        let m = preset("mixtral-8x7b").unwrap();
        let f = m.linear_flops_per_token();
        assert_eq!(f.router, 2.0 * 4096.0 * 8.0);
        assert_eq!(f.mlp, 2.0 * 2.0 * 3.0 * 4096.0 * 14_336.0); // 704,643,072
        assert_eq!(f.qkv, 2.0 * 4096.0 * 6144.0);
        // Per token the layers cost twice the active weights (less norms); the weights held
        // are all eight experts.
        let active_layer = m.active_layer_params() - 2.0 * 4096.0;
        assert_eq!(f.total(), 2.0 * active_layer);
        assert_eq!(m.weight_bytes(2.0), 2.0 * 46_702_792_704.0);
        assert_eq!(m.kv_bytes_per_token(2.0), 131_072.0);
    }
}
