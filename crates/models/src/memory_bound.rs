//! The memory-bound (non-matmul) work of a transformer layer in a training step: per pass, the
//! HBM bytes its elementwise and normalisation kernels read and write, and how many kernels
//! run, for one micro-batch on one tensor-parallel rank.
//!
//! Counted from the tensor shapes of a Megatron-LM GPT layer as Narayanan et al. ran it
//! ("Efficient Large-Scale Language Model Training on GPU Clusters Using Megatron-LM", SC'21,
//! §4.2: fused bias+GeLU and bias+dropout+add kernels, fused scale+mask+softmax; apex's fused
//! LayerNorm; NVIDIA/Megatron-LM `megatron/model/transformer.py`), 16-bit activations, 1-byte
//! dropout masks (Korthikanti et al., "Reducing Activation Recomputation in Large Transformer
//! Models", 2022, §4.1). With `s` the sequence, `b` the micro-batch, `h` the hidden size, `a`
//! the heads, `t` the tensor-parallel degree, `F` the FFN width (`4h`), `q = h + 2g·d` the QKV
//! width (`3h`), per rank: `N = sbh` elements of a hidden-size activation held whole on every
//! rank (`N_r = N`), or split along the sequence with sequence parallelism (`N_r = N/t`);
//! `A = b(a/t)s^2` attention-score elements:
//!
//! | Pass | Kernel | Bytes | Kernels |
//! |---|---|---|---|
//! | F | LayerNorm x2 (read x, write y) | `2 x 4N_r` | 2 |
//! | F | scale+mask+softmax, fused (read scores, write probabilities) | `4A` | 1 |
//! | F | attention dropout (read, write, 1-byte mask) | `5A` | 1 |
//! | F | context `[b, a, s, d] -> [s, b, a, d]` copy (`permute().contiguous()`) | `4sbh/t` | 1 |
//! | F | bias+dropout+add x2, fused (read x and residual, write out and mask) | `2 x 7N_r` | 2 |
//! | F | bias+GeLU, fused (read, write) | `4sbF/t` | 1 |
//! | B | bias+dropout+add x2: dropout gradient (read grad and mask, write) and bias gradient (read grad) | `2 x 7N_r` | 4 |
//! | B | bias+GeLU: gradient (read grad and input, write) and bias gradient (read grad) | `8sbF/t` | 2 |
//! | B | LayerNorm x2 (apex: gain/bias partial sums read grad and input; input gradient reads both and writes; final sums) | `2 x 10N_r` | 6 |
//! | B | residual gradient sums x2 (read two, write one) | `2 x 6N_r` | 2 |
//! | B | attention dropout (read grad and mask, write) | `5A` | 1 |
//! | B | softmax, fused (read grad and probabilities, write) | `6A` | 1 |
//! | B | Q, K, V gradients joined into the QKV gradient (read, write) | `4sbq/t` | 1 |
//!
//! F: `22N_r + 4sbh/t + 4sbF/t + 9A` bytes in 8 kernels; B: `46N_r + 8sbF/t + 4sbq/t + 11A`
//! bytes in 17 kernels (about twice F's bytes, as a backward reads the forward's saved input
//! and the incoming gradient and writes the outgoing one). For GPT-3's block without sequence
//! parallelism: F = `sbh(22 + 20/t) + 9bas^2/t`, B = `sbh(46 + 44/t) + 11bas^2/t`; with it
//! `42sbh/t + 9bas^2/t` and `90sbh/t + 11bas^2/t`. Selective recomputation reruns the
//! attention core's softmax, dropout and context copy (`9A + 4sbh/t`, 3 kernels) in B; full
//! recomputation the whole F. Left out: per-row LayerNorm statistics (`8sb` bytes), bias and
//! gain reads (`O(h)`), the embedding's dropout, the final LayerNorm and the loss (outside
//! the layers). The counts are a GPT block's; they are used unchanged for other families (an
//! assumption, as for activation memory).

use std::ops::Add;

use crate::TransformerSpec;

/// Memory-bound kernels of one pass: HBM bytes read plus written, and the number of kernels
/// (each costs the GPU's fixed per-kernel time on top of its bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MemoryBound {
    /// HBM bytes read plus written.
    pub bytes: f64,
    /// Kernels launched.
    pub kernels: u32,
}

impl MemoryBound {
    /// `n` copies (e.g. `n` layers).
    pub fn times(self, n: u32) -> MemoryBound {
        MemoryBound { bytes: self.bytes * f64::from(n), kernels: self.kernels * n }
    }
}

impl Add for MemoryBound {
    type Output = MemoryBound;
    fn add(self, o: MemoryBound) -> MemoryBound {
        MemoryBound { bytes: self.bytes + o.bytes, kernels: self.kernels + o.kernels }
    }
}

/// One layer's memory-bound work per micro-batch on one tensor-parallel rank.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LayerMemoryBound {
    /// The forward pass.
    pub forward: MemoryBound,
    /// The backward pass (input gradients; the bias and norm-gain gradients' sums included).
    pub backward: MemoryBound,
    /// The attention core's forward (softmax, its dropout, the context copy): what selective
    /// recomputation reruns.
    pub attention_core: MemoryBound,
}

impl TransformerSpec {
    /// The memory-bound work of one layer for a micro-batch of `b` sequences of `seq_len` on
    /// one of `tp` tensor-parallel ranks, with or without sequence parallelism (`sp`); see the
    /// module docs for each kernel's bytes.
    pub fn layer_memory_bound(&self, b: u32, tp: u32, sp: bool) -> LayerMemoryBound {
        let t = f64::from(tp.max(1));
        let s = f64::from(self.seq_len);
        let sb = s * f64::from(b);
        let n = sb * self.h();
        // Norms and bias+dropout+add: whole on every rank, or split along the sequence.
        let nr = if sp { n / t } else { n };
        let scores = f64::from(b) * f64::from(self.heads) / t * s * s;
        let ffn = sb * self.ffn_width() * f64::from(self.experts_per_token) / t;
        let qkv = sb * (self.h() + 2.0 * self.kv_width()) / t;
        let ctx = n / t;
        let attention_core = MemoryBound { bytes: 9.0 * scores + 4.0 * ctx, kernels: 3 };
        let forward = MemoryBound {
            bytes: 8.0 * nr + 14.0 * nr + 4.0 * ffn + attention_core.bytes,
            kernels: 5 + attention_core.kernels,
        };
        let backward = MemoryBound {
            bytes: 14.0 * nr + 8.0 * ffn + 20.0 * nr + 12.0 * nr + 11.0 * scores + 4.0 * qkv,
            kernels: 4 + 2 + 6 + 2 + 1 + 1 + 1,
        };
        LayerMemoryBound { forward, backward, attention_core }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> TransformerSpec {
        serde_json::from_str(r#"{"layers": 1, "hidden": 8, "heads": 2, "seq_len": 4}"#).unwrap()
    }

    #[test]
    fn hand_values_of_a_tiny_layer() {
        // s = 4, b = 1, h = 8, a = 2, t = 1: N = 32 elements, A = 2 x 16 = 32 scores,
        // F = 32 x 4 = 128 FFN elements, q = 24: 4 x 24 = 96 QKV elements.
        let m = tiny().layer_memory_bound(1, 1, false);
        // F: LayerNorms 2 x 4N = 256, bias+dropout+add 2 x 7N = 448, softmax 4A = 128,
        // dropout 5A = 160, context copy 4N = 128, bias+GeLU 4 x 128 = 512.
        assert_eq!(m.forward, MemoryBound { bytes: 1632.0, kernels: 8 });
        // B: bias+dropout+add 2 x 7N = 448, bias+GeLU 8 x 128 = 1024, LayerNorms 2 x 10N =
        // 640, residual sums 2 x 6N = 384, dropout 5A = 160, softmax 6A = 192, QKV 4 x 96 = 384.
        assert_eq!(m.backward, MemoryBound { bytes: 3232.0, kernels: 17 });
        assert_eq!(m.attention_core, MemoryBound { bytes: 416.0, kernels: 3 });
    }

    #[test]
    fn gpt3_closed_forms_hold() {
        let m = crate::preset("gpt3-6.7b").unwrap();
        let (s, h, a) = (2048.0, 4096.0, 32.0);
        for (b, t) in [(1u32, 1u32), (2, 4), (1, 8)] {
            let (bf, tf) = (f64::from(b), f64::from(t));
            let sbh = s * bf * h;
            let sc = bf * a * s * s / tf;
            let close = |x: f64, y: f64| assert!((x - y).abs() <= 1e-9 * y, "{x} vs {y}");
            let plain = m.layer_memory_bound(b, t, false);
            close(plain.forward.bytes, sbh * (22.0 + 20.0 / tf) + 9.0 * sc);
            close(plain.backward.bytes, sbh * (46.0 + 44.0 / tf) + 11.0 * sc);
            let sp = m.layer_memory_bound(b, t, true);
            close(sp.forward.bytes, 42.0 * sbh / tf + 9.0 * sc);
            close(sp.backward.bytes, 90.0 * sbh / tf + 11.0 * sc);
        }
    }

    #[test]
    fn tensor_parallelism_divides_what_it_splits() {
        let m = crate::preset("megatron-18b").unwrap();
        let one = m.layer_memory_bound(2, 1, false);
        let n = 2.0 * 2048.0 * 6144.0;
        for t in [2u32, 4, 8] {
            let tf = f64::from(t);
            let close = |x: f64, y: f64| assert!((x - y).abs() <= 1e-9 * y, "{x} vs {y}");
            // With sequence parallelism every byte is divided by t.
            let sp = m.layer_memory_bound(2, t, true);
            close(sp.forward.bytes, one.forward.bytes / tf);
            close(sp.backward.bytes, one.backward.bytes / tf);
            close(sp.attention_core.bytes, one.attention_core.bytes / tf);
            // Without it the norms and bias+dropout+add (22N forward, 46N backward) stay whole.
            let tp = m.layer_memory_bound(2, t, false);
            close(tp.forward.bytes, 22.0 * n + (one.forward.bytes - 22.0 * n) / tf);
            close(tp.backward.bytes, 46.0 * n + (one.backward.bytes - 46.0 * n) / tf);
            assert_eq!(tp.forward.kernels, one.forward.kernels);
        }
    }
}
