//! # models — the neural networks mlsim trains and serves
//!
//! One place for model shapes, so every simulator that runs a transformer counts its
//! parameters, FLOPs and memory the same way:
//!
//! - [`TransformerSpec`]: a decoder-only transformer (layers, hidden size, heads, vocabulary,
//!   FFN width, context length; for Llama-style models also KV heads, a gated MLP, experts and
//!   an untied output layer, see [`Family`]) with its per-layer parameters, FLOPs per token,
//!   the forward / input-gradient / weight-gradient split of a training step ([`LayerPasses`]),
//!   activation memory, and the memory-bound (non-matmul) kernels of each pass
//!   ([`LayerMemoryBound`]: LayerNorm, bias+GeLU, dropout, residual adds, softmax).
//! - Inference costs on the same spec: weight and KV-cache bytes, the token-level linear
//!   operators' FLOPs ([`LinearFlops`]), prefill attention FLOPs with cached context, and the
//!   KV bytes a decode step reads (`inference.rs`).
//! - [`presets`]: the named models (GPT-3's Table 2.1 family; Megatron-LM's SC'21 weak-scaling
//!   models `megatron-1.7b` ... `megatron-1t` with their Table 1 layouts, [`MEGATRON_PRESETS`];
//!   Llama-2-7B/13B/70B, Llama-3-8B/70B and Mixtral-8x7B from their published configs) and
//!   [`ModelRef`], a config value that is a preset's name or a full spec.
//!
//! Sources are cited where each formula is defined and gathered in `docs/models/models.md`
//! (formulas, presets with their published configs, hand-checked numbers);
//! `docs/models/moe.md` and `docs/models/pipeline.md` say how each simulator uses them.
//!
//! ## Example
//!
//! ```
//! use models::{ModelRef, TransformerSpec};
//!
//! let m = models::resolve(&ModelRef::Named("gpt3-6.7b".into())).unwrap();
//! assert_eq!((m.layers, m.hidden, m.heads), (32, 4096, 32));
//! // About 6.7 billion parameters (the paper's 6.7B).
//! assert!((m.params() / 1e9 - 6.7).abs() < 0.2);
//! // A training step's passes over one layer for a micro-batch of one 2,048-token sequence:
//! // the weight gradient costs less than the forward pass, the input gradient more.
//! let p = m.layer_passes(1);
//! assert!(p.w_flops < p.f_flops && p.f_flops < p.b_flops);
//! let custom: TransformerSpec =
//!     serde_json::from_str(r#"{"layers": 2, "hidden": 64, "heads": 4}"#).unwrap();
//! assert_eq!(custom.vocab, 50_257);
//!
//! // Serving Llama-2-7B in FP16: 13.5 GB of weights, 512 KiB of KV cache per token.
//! let llama = models::preset("llama-2-7b").unwrap();
//! assert_eq!(llama.params(), 6_738_415_616.0);
//! assert_eq!(llama.kv_bytes_per_token(2.0), 524_288.0);
//! ```

mod inference;
mod memory_bound;
pub mod presets;
mod transformer;

pub use inference::LinearFlops;
pub use memory_bound::{LayerMemoryBound, MemoryBound};
pub use presets::{
    LLAMA_PRESETS, LlamaConfig, MEGATRON_PRESETS, MegatronRow, ModelRef, PRESETS, preset, resolve,
};
pub use transformer::{Family, LayerPasses, TransformerSpec};
