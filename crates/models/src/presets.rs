//! Named models, and the config value that names one or spells one out.
//!
//! - The GPT-3 family from Brown et al., "Language Models are Few-Shot Learners", NeurIPS 2020,
//!   Table 2.1 (layers, d_model, heads; vocabulary 50,257, context 2,048, FFN 4·d_model). Each
//!   model has its paper name (`gpt3-1.3b`) and, for the four smallest, the name the MoE
//!   literature uses (`gpt-small` = GPT-3 Small, 125M).
//! - Llama 2, Llama 3 and Mixtral from the `config.json` each publisher ships with its weights
//!   on Hugging Face (`num_hidden_layers`, `hidden_size`, `num_attention_heads`,
//!   `num_key_value_heads`, `intermediate_size`, `vocab_size`, `max_position_embeddings`,
//!   `num_local_experts`, `num_experts_per_tok`), checked against the papers: Touvron et al.,
//!   "Llama 2: Open Foundation and Fine-Tuned Chat Models", 2023, Table 1 (context 4k, GQA for
//!   70B); Meta, "Introducing Meta Llama 3" (2024: 8K context, GQA, 128K-token vocabulary) and
//!   Dubey et al., "The Llama 3 Herd of Models", 2024, Table 3 (8B/70B: 32/80 layers,
//!   4,096/8,192 wide, FFN 14,336/28,672, 32/64 heads, 8 KV heads; Llama 3.1: the same shapes
//!   with a 128K context); Jiang et al., "Mixtral of Experts", 2024, Table 1 (dim 4,096, 32 layers, head dim
//!   128, 32 heads, 8 KV heads, hidden dim 14,336, context 32,768, vocabulary 32,000, 8 experts,
//!   top 2). All are Llama-style blocks (SwiGLU, RMSNorm, rotary positions, untied output).
//!   Their weights are published in 16-bit (`torch_dtype` bfloat16 for Llama 3 and Mixtral,
//!   float16 for Llama 2); a simulator picks the dtype it serves them in.
//! - Megatron-LM's weak-scaling models from Narayanan et al., "Efficient Large-Scale Language
//!   Model Training on GPU Clusters Using Megatron-LM", SC'21, Table 1 (attention heads, hidden
//!   size, layers; "a vocabulary size of 51,200 and a sequence length of 2,048", section 5.1),
//!   named `megatron-1.7b` ... `megatron-1t`; the same shapes are in the paper's artifact,
//!   NVIDIA/Megatron-LM `examples/sc21/run_table_1.sh`. GPT-2/3 blocks (4h FFN, tied output).

use simcore::PresetOr;

use crate::transformer::{Family, TransformerSpec, ffn_mult, one, seq_len, vocab};

/// Megatron-LM's padded GPT-2 vocabulary in the SC'21 runs.
pub const MEGATRON_VOCAB: u32 = 51_200;

/// A model in a config: a preset's name (`llama-2-7b`) or a full spec
/// (`{layers: 32, hidden: 4096, heads: 32}`).
pub type ModelRef = PresetOr<TransformerSpec>;

/// (names, layers, hidden, heads): GPT-3's Table 2.1.
pub const PRESETS: &[(&[&str], u32, u32, u32)] = &[
    (&["gpt3-125m", "gpt-small"], 12, 768, 12),
    (&["gpt3-350m", "gpt-medium"], 24, 1024, 16),
    (&["gpt3-760m", "gpt-large"], 24, 1536, 16),
    (&["gpt3-1.3b", "gpt-xl"], 24, 2048, 24),
    (&["gpt3-2.7b"], 32, 2560, 32),
    (&["gpt3-6.7b"], 32, 4096, 32),
    (&["gpt3-13b"], 40, 5140, 40),
    (&["gpt3-175b"], 96, 12288, 96),
];

/// One row of Narayanan et al. (SC'21), Table 1: a GPT model of Megatron-LM's weak-scaling
/// study, with the parallel configuration and batch it was measured with.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MegatronRow {
    /// Preset name (`megatron-1t`).
    pub name: &'static str,
    /// Attention heads.
    pub heads: u32,
    /// Hidden size.
    pub hidden: u32,
    /// Layers.
    pub layers: u32,
    /// Parameters in billions as the table states them.
    pub params_b: f64,
    /// Tensor-parallel size.
    pub tp: u32,
    /// Pipeline-parallel size.
    pub pp: u32,
    /// GPUs.
    pub gpus: u32,
    /// Global batch size (sequences).
    pub batch: u32,
}

/// Narayanan et al. (SC'21), Table 1, row by row: heads, hidden, layers, parameters (B),
/// tensor- and pipeline-parallel size, GPUs and batch size. (The table's measured TFLOP/s are
/// validation targets and live with the validation, not here.)
pub const MEGATRON_PRESETS: &[MegatronRow] = &[
    megatron("megatron-1.7b", 24, 2304, 24, 1.7, 1, 1, 32, 512),
    megatron("megatron-3.6b", 32, 3072, 30, 3.6, 2, 1, 64, 512),
    megatron("megatron-7.5b", 32, 4096, 36, 7.5, 4, 1, 128, 512),
    megatron("megatron-18b", 48, 6144, 40, 18.4, 8, 1, 256, 1024),
    megatron("megatron-39b", 64, 8192, 48, 39.1, 8, 2, 512, 1536),
    megatron("megatron-76b", 80, 10240, 60, 76.1, 8, 4, 1024, 1792),
    megatron("megatron-145b", 96, 12288, 80, 145.6, 8, 8, 1536, 2304),
    megatron("megatron-310b", 128, 16384, 96, 310.1, 8, 16, 1920, 2160),
    megatron("megatron-530b", 128, 20480, 105, 529.6, 8, 35, 2520, 2520),
    megatron("megatron-1t", 160, 25600, 128, 1008.0, 8, 64, 3072, 3072),
];

#[allow(clippy::too_many_arguments)]
const fn megatron(
    name: &'static str,
    heads: u32,
    hidden: u32,
    layers: u32,
    params_b: f64,
    tp: u32,
    pp: u32,
    gpus: u32,
    batch: u32,
) -> MegatronRow {
    MegatronRow { name, heads, hidden, layers, params_b, tp, pp, gpus, batch }
}

impl MegatronRow {
    /// Data-parallel size: `gpus / (tp x pp)`.
    pub fn dp(&self) -> u32 {
        self.gpus / (self.tp * self.pp)
    }

    /// The spec: GPT-3's block with Megatron's vocabulary (51,200) and sequence length 2,048.
    pub fn spec(&self) -> TransformerSpec {
        TransformerSpec {
            vocab: MEGATRON_VOCAB,
            ..gpt(self.name, self.layers, self.hidden, self.heads)
        }
    }
}

fn gpt(name: &str, layers: u32, hidden: u32, heads: u32) -> TransformerSpec {
    TransformerSpec {
        name: name.to_string(),
        layers,
        hidden,
        heads,
        vocab: vocab(),
        ffn_mult: ffn_mult(),
        seq_len: seq_len(),
        family: Family::Gpt,
        kv_heads: None,
        ffn_hidden: None,
        gated_mlp: false,
        experts: one(),
        experts_per_token: one(),
        tied_embeddings: None,
    }
}

/// One Llama-style model as its `config.json` gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LlamaConfig {
    /// Preset name.
    pub name: &'static str,
    /// `num_hidden_layers`.
    pub layers: u32,
    /// `hidden_size`.
    pub hidden: u32,
    /// `num_attention_heads`.
    pub heads: u32,
    /// `num_key_value_heads`.
    pub kv_heads: u32,
    /// `intermediate_size` (per expert).
    pub ffn_hidden: u32,
    /// `vocab_size`.
    pub vocab: u32,
    /// `max_position_embeddings`.
    pub context: u32,
    /// `num_local_experts` (1: dense).
    pub experts: u32,
    /// `num_experts_per_tok` (1: dense).
    pub experts_per_token: u32,
}

/// Llama-style presets, from each model's Hugging Face `config.json`:
/// `meta-llama/Llama-2-{7b,13b,70b}-hf`, `meta-llama/Meta-Llama-3-{8B,70B}`, `meta-llama/Llama-3.1-8B`,
/// `mistralai/Mixtral-8x7B-v0.1`.
pub const LLAMA_PRESETS: &[LlamaConfig] = &[
    // Llama-2-7b-hf: 32 x 4096, 32 heads (MHA), intermediate 11008, vocab 32000, 4096 ctx.
    llama("llama-2-7b", 32, 4096, 32, 32, 11_008, 32_000, 4_096),
    // Llama-2-13b-hf: 40 x 5120, 40 heads (MHA), intermediate 13824.
    llama("llama-2-13b", 40, 5120, 40, 40, 13_824, 32_000, 4_096),
    // Llama-2-70b-hf: 80 x 8192, 64 heads, 8 KV heads (GQA), intermediate 28672.
    llama("llama-2-70b", 80, 8192, 64, 8, 28_672, 32_000, 4_096),
    // Meta-Llama-3-8B: 32 x 4096, 32 heads, 8 KV heads, intermediate 14336, vocab 128256, 8192 ctx.
    llama("llama-3-8b", 32, 4096, 32, 8, 14_336, 128_256, 8_192),
    // Meta-Llama-3-70B: 80 x 8192, 64 heads, 8 KV heads, intermediate 28672, vocab 128256.
    llama("llama-3-70b", 80, 8192, 64, 8, 28_672, 128_256, 8_192),
    // Llama-3.1-8B: Llama-3-8B's shape with max_position_embeddings 131072 (128K context).
    llama("llama-3.1-8b", 32, 4096, 32, 8, 14_336, 128_256, 131_072),
    // Mixtral-8x7B-v0.1: 32 x 4096, 32 heads, 8 KV heads, intermediate 14336 per expert,
    // vocab 32000, 32768 ctx, 8 local experts, 2 per token.
    LlamaConfig {
        experts: 8,
        experts_per_token: 2,
        ..llama("mixtral-8x7b", 32, 4096, 32, 8, 14_336, 32_000, 32_768)
    },
];

#[allow(clippy::too_many_arguments)]
const fn llama(
    name: &'static str,
    layers: u32,
    hidden: u32,
    heads: u32,
    kv_heads: u32,
    ffn_hidden: u32,
    vocab: u32,
    context: u32,
) -> LlamaConfig {
    LlamaConfig {
        name,
        layers,
        hidden,
        heads,
        kv_heads,
        ffn_hidden,
        vocab,
        context,
        experts: 1,
        experts_per_token: 1,
    }
}

impl LlamaConfig {
    /// The spec: a Llama-family block with SwiGLU, untied output layer, and `seq_len` set to
    /// the context length.
    pub fn spec(&self) -> TransformerSpec {
        TransformerSpec {
            name: self.name.to_string(),
            layers: self.layers,
            hidden: self.hidden,
            heads: self.heads,
            vocab: self.vocab,
            ffn_mult: ffn_mult(),
            seq_len: self.context,
            family: Family::Llama,
            kv_heads: Some(self.kv_heads),
            ffn_hidden: Some(self.ffn_hidden),
            gated_mlp: true,
            experts: self.experts,
            experts_per_token: self.experts_per_token,
            tied_embeddings: Some(false),
        }
    }
}

/// Every preset name.
pub fn names() -> Vec<&'static str> {
    PRESETS
        .iter()
        .flat_map(|p| p.0.iter().copied())
        .chain(LLAMA_PRESETS.iter().map(|p| p.name))
        .chain(MEGATRON_PRESETS.iter().map(|p| p.name))
        .collect()
}

/// A preset by any of its names; the spec carries the name it was asked by.
pub fn preset(name: &str) -> Option<TransformerSpec> {
    if let Some(p) = LLAMA_PRESETS.iter().find(|p| p.name == name) {
        return Some(p.spec());
    }
    if let Some(p) = MEGATRON_PRESETS.iter().find(|p| p.name == name) {
        return Some(p.spec());
    }
    PRESETS
        .iter()
        .find(|p| p.0.contains(&name))
        .map(|&(_, layers, hidden, heads)| gpt(name, layers, hidden, heads))
}

/// The model a config names or spells out; an unknown name is an error naming the nearest
/// preset and listing them all, and a spec whose GQA, FFN or expert fields do not fit together
/// is an error naming the field.
pub fn resolve(model: &ModelRef) -> Result<TransformerSpec, String> {
    let spec = model.resolve("model", &names(), preset, "or give layers, hidden, heads")?;
    spec.validate().map_err(|e| format!("model: {e}"))?;
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_have_their_published_sizes() {
        for (name, billions) in [
            ("gpt-small", 0.125),
            ("gpt3-1.3b", 1.3),
            ("gpt3-2.7b", 2.7),
            ("gpt3-6.7b", 6.7),
            ("gpt3-13b", 13.0),
            ("gpt3-175b", 175.0),
            ("llama-2-7b", 6.74),
            ("llama-2-13b", 13.0),
            ("llama-2-70b", 68.98),
            ("llama-3-8b", 8.03),
            ("llama-3-70b", 70.6),
            ("llama-3.1-8b", 8.03),
            ("mixtral-8x7b", 46.7),
        ] {
            let p = preset(name).unwrap().params() / 1e9;
            assert!((p - billions).abs() / billions < 0.06, "{name}: {p:.3}B");
        }
        assert_eq!(preset("gpt-xl").unwrap().hidden, preset("gpt3-1.3b").unwrap().hidden);
    }

    #[test]
    fn megatron_presets_match_sc21_table_1() {
        // Each preset's count is within 3% of its name and of the table's stated count (the
        // table uses the same formula, 12lh^2 + 13lh + (V + s)h).
        let in_name = [1.7, 3.6, 7.5, 18.0, 39.0, 76.0, 145.0, 310.0, 530.0, 1000.0];
        assert_eq!(MEGATRON_PRESETS.len(), in_name.len());
        for (row, named) in MEGATRON_PRESETS.iter().zip(in_name) {
            let m = preset(row.name).unwrap();
            let p = m.params() / 1e9;
            assert!((p - named).abs() / named < 0.03, "{}: {p:.3}B vs name {named}", row.name);
            assert!((p - row.params_b).abs() / row.params_b < 0.03, "{}: {p:.3}B", row.name);
            // The table gives one decimal: every count rounds to it (within 0.05B).
            assert!((p - row.params_b).abs() < 0.05, "{}: {p:.3}B", row.name);
            assert_eq!((m.vocab, m.seq_len, m.family), (51_200, 2_048, Family::Gpt));
            assert_eq!((m.heads, m.hidden, m.layers), (row.heads, row.hidden, row.layers));
            // The table's parallel layout uses every GPU, and tp divides the heads.
            assert_eq!(row.tp * row.pp * row.dp(), row.gpus, "{}", row.name);
            assert!(m.heads.is_multiple_of(row.tp) && m.layers >= row.pp, "{}", row.name);
        }
        // Hand check of the largest: 12 x 128 x 25600^2 + 13 x 128 x 25600 + 53248 x 25600.
        assert_eq!(preset("megatron-1t").unwrap().params(), 1_008_038_707_200.0);
        let r = MEGATRON_PRESETS.iter().find(|r| r.name == "megatron-1t").unwrap();
        assert_eq!((r.tp, r.pp, r.dp(), r.batch), (8, 64, 6, 3072));
    }

    #[test]
    fn gpt3_table_is_present() {
        // Brown et al. 2020, Table 2.1: (layers, d_model, heads) of every model.
        for (name, shape) in [
            ("gpt3-125m", (12, 768, 12)),
            ("gpt3-350m", (24, 1024, 16)),
            ("gpt3-760m", (24, 1536, 16)),
            ("gpt3-1.3b", (24, 2048, 24)),
            ("gpt3-2.7b", (32, 2560, 32)),
            ("gpt3-6.7b", (32, 4096, 32)),
            ("gpt3-13b", (40, 5140, 40)),
            ("gpt3-175b", (96, 12288, 96)),
        ] {
            let m = preset(name).unwrap();
            assert_eq!((m.layers, m.hidden, m.heads), shape, "{name}");
            assert_eq!((m.vocab, m.seq_len), (50_257, 2_048), "{name}");
        }
    }

    #[test]
    fn every_preset_is_valid_and_named() {
        for name in names() {
            let m = preset(name).unwrap();
            m.validate().unwrap();
            assert_eq!(m.name, name);
        }
        let m = preset("llama-2-70b").unwrap();
        assert_eq!((m.layers, m.hidden, m.heads, m.kv_heads(), m.seq_len), (80, 8192, 64, 8, 4096));
        assert_eq!((m.vocab, m.ffn_width()), (32_000, 28_672.0));
    }

    #[test]
    fn llama_names_resolve_like_gpt_names() {
        let named: ModelRef = serde_json::from_str("\"mixtral-8x7b\"").unwrap();
        let m = resolve(&named).unwrap();
        assert_eq!((m.experts, m.experts_per_token, m.seq_len), (8, 2, 32_768));
        let custom: ModelRef =
            serde_json::from_str(r#"{"layers": 2, "hidden": 64, "heads": 4, "kv_heads": 3}"#)
                .unwrap();
        let e = resolve(&custom).unwrap_err();
        assert!(e.starts_with("model: kv_heads = 3"), "{e}");
    }

    #[test]
    fn unknown_names_suggest_the_nearest() {
        let e = resolve(&ModelRef::Named("gpt3-6.7".into())).unwrap_err();
        assert!(e.contains("did you mean `gpt3-6.7b`") && e.contains("gpt-small"), "{e}");
        let e = resolve(&ModelRef::Named("llama2-7b".into())).unwrap_err();
        assert!(e.contains("did you mean `llama-2-7b`") && e.contains("mixtral-8x7b"), "{e}");
        let e = resolve(&ModelRef::Named("megatron-1T".into())).unwrap_err();
        assert!(e.contains("did you mean `megatron-1t`"), "{e}");
    }
}
