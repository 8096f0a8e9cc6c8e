//! Named models, and the config value that names one or spells one out.
//!
//! The GPT-3 family from Brown et al., "Language Models are Few-Shot Learners", NeurIPS 2020,
//! Table 2.1 (layers, d_model, heads; vocabulary 50,257, context 2,048, FFN 4·d_model). Each
//! model has its paper name (`gpt3-1.3b`) and, for the four smallest, the name the MoE
//! literature uses (`gpt-small` = GPT-3 Small, 125M).

use simcore::PresetOr;

use crate::transformer::{TransformerSpec, ffn_mult, seq_len, vocab};

/// A model in a config: a preset's name (`gpt3-6.7b`) or a full spec
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

/// Every preset name.
pub fn names() -> Vec<&'static str> {
    PRESETS.iter().flat_map(|p| p.0.iter().copied()).collect()
}

/// A preset by any of its names; the spec carries the name it was asked by.
pub fn preset(name: &str) -> Option<TransformerSpec> {
    PRESETS.iter().find(|p| p.0.contains(&name)).map(|&(_, layers, hidden, heads)| {
        TransformerSpec {
            name: name.to_string(),
            layers,
            hidden,
            heads,
            vocab: vocab(),
            ffn_mult: ffn_mult(),
            seq_len: seq_len(),
        }
    })
}

/// The model a config names or spells out; an unknown name is an error naming the nearest
/// preset and listing them all.
pub fn resolve(model: &ModelRef) -> Result<TransformerSpec, String> {
    model.resolve("model", &names(), preset, "or give layers, hidden, heads")
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
        ] {
            let p = preset(name).unwrap().params() / 1e9;
            assert!((p - billions).abs() / billions < 0.06, "{name}: {p:.3}B");
        }
        assert_eq!(preset("gpt-xl").unwrap().hidden, preset("gpt3-1.3b").unwrap().hidden);
    }

    #[test]
    fn unknown_names_suggest_the_nearest() {
        let e = resolve(&ModelRef::Named("gpt3-6.7".into())).unwrap_err();
        assert!(e.contains("did you mean `gpt3-6.7b`") && e.contains("gpt-small"), "{e}");
    }
}
