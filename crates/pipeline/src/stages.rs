//! How a transformer is cut into pipeline stages: layers per stage and the work of each stage.
//!
//! The per-layer FLOPs and activation memory come from `models::TransformerSpec` (Qi et al.'s
//! F/B/W split, Korthikanti et al.'s activations). A stage holds whole layers; the first also
//! holds the embedding, the last the output layer, whose weights are tied to the input
//! embedding and whose logits cost `2sbhV` FLOPs in each of F, B and W; the embedding lookup
//! itself is free.

use models::TransformerSpec;

use crate::iteration::StageWork;

/// Layers of each of `stages` stages: as even as possible, the first stages one more.
pub fn partition(model: &TransformerSpec, stages: u32) -> Vec<u32> {
    let (q, r) = (model.layers / stages.max(1), model.layers % stages.max(1));
    (0..stages).map(|s| q + u32::from(s < r)).collect()
}

/// The work of a stage of `layers` transformer layers for micro-batches of `b` sequences.
/// Each pass reads the stage's 16-bit weights.
pub fn stage_work(
    model: &TransformerSpec,
    b: u32,
    layers: u32,
    first: bool,
    last: bool,
) -> StageWork {
    let c = model.layer_passes(b);
    let l = f64::from(layers);
    let logits = if last { model.logits_flops(b) } else { 0.0 };
    let mut params = l * model.layer_params();
    if first {
        params += model.embedding_params();
    }
    if last {
        params += model.token_embedding_params();
    }
    StageWork {
        f_flops: l * c.f_flops + logits,
        b_flops: l * c.b_flops + logits,
        w_flops: l * c.w_flops + logits,
        pass_bytes: 2.0 * params,
        params,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_are_split_evenly_first_stages_first() {
        let m = models::preset("gpt3-1.3b").unwrap();
        assert_eq!(partition(&m, 5), vec![5, 5, 5, 5, 4]);
        let (first, last) = (stage_work(&m, 1, 5, true, false), stage_work(&m, 1, 4, false, true));
        assert!(
            first.params > 5.0 * m.layer_params() && last.f_flops > 4.0 * m.layer_passes(1).f_flops
        );
    }
}
