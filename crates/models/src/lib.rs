//! # models — the neural networks mlsim trains and serves
//!
//! One place for model shapes, so every simulator that runs a transformer counts its
//! parameters, FLOPs and activation memory the same way:
//!
//! - [`TransformerSpec`]: a GPT-style decoder (layers, hidden size, heads, vocabulary, FFN
//!   width, context length) with its per-layer parameters, FLOPs per token, the forward /
//!   input-gradient / weight-gradient split of a training step ([`LayerPasses`]) and
//!   activation memory.
//! - [`presets`]: the named models (GPT-3's Table 2.1 family) and [`ModelRef`], a config value
//!   that is a preset's name or a full spec.
//!
//! Sources are cited where each formula is defined; `docs/models/moe.md` and
//! `docs/models/pipeline.md` say how each simulator uses them.
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
//! ```

pub mod presets;
mod transformer;

pub use presets::{ModelRef, PRESETS, preset, resolve};
pub use transformer::{LayerPasses, TransformerSpec};
