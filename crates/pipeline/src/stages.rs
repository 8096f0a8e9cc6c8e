//! How a transformer is cut into pipeline stages, and each stage into tensor-parallel shards:
//! layers per stage and the work of each stage on each of its GPUs.
//!
//! The per-layer FLOPs and activation memory come from `models::TransformerSpec` (Qi et al.'s
//! F/B/W split, Korthikanti et al.'s activations). A stage holds whole layers; the first also
//! holds the embedding, the last the output layer, whose weights are tied to the input
//! embedding and whose logits cost `2sbhV` FLOPs in each of F, B and W; the embedding lookup
//! itself is free.
//!
//! With `t`-way tensor parallelism ([`Parallelism::tp`]) every FLOP count and every weight of a
//! stage is divided by `t` (Megatron's column- then row-parallel attention and MLP, and a
//! vocabulary-parallel embedding and output layer; Shoeybi et al. 2019), and each layer's F and
//! B are cut by the TP collectives ([`TpPlan`]). Recomputation adds FLOPs to B: the attention
//! core's forward (`selective`) or the whole layer's forward (`full`).
//!
//! Besides its matrix multiplications each layer runs memory-bound kernels (LayerNorm,
//! bias+GeLU, bias+dropout+add, the attention scores' softmax and dropout, their backward
//! passes; `models::LayerMemoryBound`), per GPU for its TP rank (split along the sequence
//! with sequence parallelism): F carries the layers' forward ones, B their backward ones and
//! what recomputation reruns ([`StageWork::f_mem`], [`StageWork::b_mem`]).

use cluster::CollectiveKind;
use models::{MemoryBound, TransformerSpec};

use crate::config::{Recompute, Split};
use crate::iteration::StageWork;
use crate::schedule::Pass;

/// How each stage is parallelised and how layers are split over stages.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Parallelism {
    /// Tensor-parallel degree t.
    pub tp: u32,
    /// Sequence parallelism.
    pub sp: bool,
    /// Activation recomputation.
    pub recompute: Recompute,
    /// Layers per stage.
    pub split: Split,
    /// Model chunks (virtual stages) per GPU v of the interleaved schedule: the layers are
    /// split over `p v` chunks and chunk `c` of GPU `s` is virtual stage `c p + s`. 1: none.
    pub interleave: u32,
    /// Model each layer's memory-bound kernels ([`models::LayerMemoryBound`]); false counts
    /// matrix multiplications only.
    pub memory_bound: bool,
}

impl Default for Parallelism {
    /// No tensor or sequence parallelism, no recomputation, the even split, no interleaving,
    /// memory-bound kernels modelled.
    fn default() -> Self {
        Parallelism {
            tp: 1,
            sp: false,
            recompute: Recompute::None,
            split: Split::Even,
            interleave: 1,
            memory_bound: true,
        }
    }
}

/// Layers of each of `stages` stages: as even as possible, the first stages one more.
pub fn partition(model: &TransformerSpec, stages: u32) -> Vec<u32> {
    let (q, r) = (model.layers / stages.max(1), model.layers % stages.max(1));
    (0..stages).map(|s| q + u32::from(s < r)).collect()
}

/// Layers of each virtual stage of a pipeline of `stages` stages under `par.split`: `stages x
/// par.interleave` entries (virtual stage `c p + s` is chunk `c` of GPU `s`; one per stage
/// without interleaving). The split treats each virtual stage as a stage of its own: the
/// first holds the embedding, the last the output layer.
pub fn split_layers(model: &TransformerSpec, b: u32, stages: u32, par: &Parallelism) -> Vec<u32> {
    let n = stages.saturating_mul(par.interleave.max(1));
    match par.split {
        Split::Even => partition(model, n),
        Split::Balanced => balanced_partition(model, b, n, par),
    }
}

/// F + B + W FLOPs per GPU of stage `s` of `p` holding `layers` layers: what the balanced split
/// minimises the largest of.
pub fn stage_flops(
    model: &TransformerSpec,
    b: u32,
    layers: u32,
    s: u32,
    p: u32,
    par: &Parallelism,
) -> f64 {
    let w = stage_work_with(model, b, layers, s == 0, s + 1 == p, par);
    w.f_flops + w.b_flops + w.w_flops
}

/// Contiguous layers per stage (each at least one) that minimise the largest stage's F + B + W
/// FLOPs, the output layer's logits on the last stage counted (the embedding lookup is free):
/// an exact dynamic programme over (stages, layers), `O(p L^2)`. Among optimal splits it
/// prefers fewer layers on later stages (1F1B's earlier stages hold more micro-batches). The
/// even split is one of the candidates, so its bottleneck is never smaller.
pub fn balanced_partition(
    model: &TransformerSpec,
    b: u32,
    stages: u32,
    par: &Parallelism,
) -> Vec<u32> {
    let (p, l) = (stages.max(1) as usize, model.layers as usize);
    if l < p {
        return partition(model, stages);
    }
    // cost[s][n]: stage s with n layers.
    let cost: Vec<Vec<f64>> = (0..p)
        .map(|s| {
            (0..=l).map(|n| stage_flops(model, b, n as u32, s as u32, p as u32, par)).collect()
        })
        .collect();
    // best[s][k]: the smallest bottleneck of stages 0..=s holding the first k layers;
    // take[s][k]: layers of stage s in it.
    let mut best = vec![vec![f64::INFINITY; l + 1]; p];
    let mut take = vec![vec![0usize; l + 1]; p];
    for k in 1..=l {
        best[0][k] = cost[0][k];
        take[0][k] = k;
    }
    for s in 1..p {
        for k in (s + 1)..=l {
            for n in 1..=(k - s) {
                let v = best[s - 1][k - n].max(cost[s][n]);
                if v < best[s][k] {
                    best[s][k] = v;
                    take[s][k] = n;
                }
            }
        }
    }
    let mut out = vec![0u32; p];
    let mut k = l;
    for s in (0..p).rev() {
        let n = take[s][k];
        out[s] = n as u32;
        k -= n;
    }
    out
}

/// Extra FLOPs per layer and micro-batch that recomputation adds to B (whole layer, before
/// dividing by t): the layer's forward (`full`), the attention core's forward `4bs^2h`
/// (`selective`), nothing (`none`).
pub fn recompute_flops(model: &TransformerSpec, b: u32, recompute: Recompute) -> f64 {
    match recompute {
        Recompute::None => 0.0,
        Recompute::Selective => {
            let tokens = f64::from(model.seq_len) * f64::from(b);
            model.attention_core_flops(tokens, model.seq_len)
        }
        Recompute::Full => model.layer_passes(b).f_flops,
    }
}

/// Memory-bound kernels per GPU of `layers` layers for one micro-batch under `par`: F's
/// forward ones, and B's backward ones plus what recomputation reruns (the attention core's
/// softmax, dropout and context copy with `selective`, the whole forward with `full`). Zero
/// when `par.memory_bound` is off.
pub fn stage_memory_bound(
    model: &TransformerSpec,
    b: u32,
    layers: u32,
    par: &Parallelism,
) -> (MemoryBound, MemoryBound) {
    if !par.memory_bound {
        return (MemoryBound::default(), MemoryBound::default());
    }
    let m = model.layer_memory_bound(b, par.tp, par.sp);
    let rerun = match par.recompute {
        Recompute::None => MemoryBound::default(),
        Recompute::Selective => m.attention_core,
        Recompute::Full => m.forward,
    };
    (m.forward.times(layers), (m.backward + rerun).times(layers))
}

/// Activation bytes per layer per GPU held from F until B (`M_B`) and from B until W (`M_W`)
/// under `par`: Korthikanti et al.'s Table 2 for `M_B`; `M_W = 32sbh / t` (ZB Table 1, split
/// over the TP group: an assumption).
pub fn layer_activations(model: &TransformerSpec, b: u32, par: &Parallelism) -> (f64, f64) {
    let c = model.layer_passes(b);
    let tokens = f64::from(model.seq_len) * f64::from(b);
    let t = par.tp.max(1);
    let m_b = match par.recompute {
        Recompute::Full => model.layer_input_bytes(tokens),
        Recompute::None if t == 1 && !par.sp => c.m_b,
        r => model.activation_bytes_per_layer_parallel(
            tokens,
            model.seq_len,
            t,
            par.sp,
            r == Recompute::Selective,
        ),
    };
    (m_b, c.m_w / f64::from(t))
}

/// The work of a stage of `layers` transformer layers for micro-batches of `b` sequences,
/// without tensor parallelism or recomputation (memory-bound kernels included). Each pass
/// reads the stage's 16-bit weights.
pub fn stage_work(
    model: &TransformerSpec,
    b: u32,
    layers: u32,
    first: bool,
    last: bool,
) -> StageWork {
    stage_work_with(model, b, layers, first, last, &Parallelism::default())
}

/// The work per GPU of a stage of `layers` layers under `par`: FLOPs, weights and parameters
/// divided by `t`, recomputation added to B, the memory-bound kernels of
/// [`stage_memory_bound`], and with `t > 1` the [`TpPlan`] of its collectives. Each pass
/// reads the GPU's 16-bit weights.
pub fn stage_work_with(
    model: &TransformerSpec,
    b: u32,
    layers: u32,
    first: bool,
    last: bool,
    par: &Parallelism,
) -> StageWork {
    let c = model.layer_passes(b);
    let t = f64::from(par.tp.max(1));
    let l = f64::from(layers);
    let logits = if last { model.logits_flops(b) } else { 0.0 };
    let extra = recompute_flops(model, b, par.recompute);
    let mut params = l * model.layer_params();
    if first {
        params += model.embedding_params();
    }
    if last {
        params += model.token_embedding_params();
    }
    params /= t;
    let tp = (par.tp > 1).then(|| {
        let tokens = f64::from(model.seq_len) * f64::from(b);
        let f_attn = tokens * model.attention_flops_per_token(model.seq_len);
        let f_mlp = c.f_flops - f_attn;
        let selective = if par.recompute == Recompute::Selective { extra } else { 0.0 };
        TpPlan {
            tp: par.tp,
            layers,
            sp: par.sp,
            full_recompute: par.recompute == Recompute::Full,
            f_attn: f_attn / t,
            f_mlp: f_mlp / t,
            // B - F is the attention core's second half of the backward (8s vs 4s).
            b_attn: (f_attn + (c.b_flops - c.f_flops) + selective) / t,
            b_mlp: f_mlp / t,
            head: logits / t,
            bytes: model.boundary_bytes(b),
        }
    });
    let (f_mem, b_mem) = stage_memory_bound(model, b, layers, par);
    StageWork {
        f_flops: (l * c.f_flops + logits) / t,
        b_flops: (l * (c.b_flops + extra) + logits) / t,
        w_flops: (l * c.w_flops + logits) / t,
        pass_bytes: 2.0 * params,
        params,
        tp,
        f_mem,
        b_mem,
    }
}

/// One piece of a pass: a kernel, a TP collective, or the pass's memory-bound kernels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Segment {
    /// A kernel of this many FLOPs (per GPU).
    Compute(f64),
    /// The pass's memory-bound kernels, as one op of this many HBM bytes (their fixed
    /// per-kernel times included as bytes, see `iteration::BuildOptions::memory_kernel_bytes`).
    MemoryBound(f64),
    /// A collective over the TP group of [`TpPlan::bytes`] (nccl-tests sizes).
    Collective(CollectiveKind),
}

/// How a stage's F and B are cut by tensor-parallel collectives (Shoeybi et al. 2019;
/// Korthikanti et al. 2022). Per layer, without sequence parallelism:
/// F = `[attention] AR [MLP] AR` (the row-parallel outputs are summed), B = `[MLP] AR
/// [attention] AR` (the column-parallel inputs' gradients are summed). With sequence
/// parallelism each all-reduce becomes an all-gather before the column-parallel block and a
/// reduce-scatter after the row-parallel one: F = `AG [attention] RS AG [MLP] RS`, B the same
/// with the MLP first. With full recomputation B reruns the layer's F (its collectives
/// included) before the layer's backward. W has no collective. The last stage's logits
/// (vocabulary-parallel) end F and start B.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TpPlan {
    /// The TP degree t.
    pub tp: u32,
    /// Layers of the stage.
    pub layers: u32,
    /// Sequence parallelism.
    pub sp: bool,
    /// Full recomputation (B reruns each layer's F).
    pub full_recompute: bool,
    /// FLOPs per GPU of one layer's attention in F.
    pub f_attn: f64,
    /// FLOPs per GPU of one layer's MLP in F.
    pub f_mlp: f64,
    /// FLOPs per GPU of one layer's attention in B (selective recomputation included).
    pub b_attn: f64,
    /// FLOPs per GPU of one layer's MLP in B.
    pub b_mlp: f64,
    /// FLOPs per GPU of the logits in each pass (0 except on the last stage).
    pub head: f64,
    /// Bytes of each collective: the `b x s x h` activations in 16 bits.
    pub bytes: f64,
}

impl TpPlan {
    fn layer(&self, attn: f64, mlp: f64, first_mlp: bool, out: &mut Vec<Segment>) {
        let (x, y) = if first_mlp { (mlp, attn) } else { (attn, mlp) };
        for flops in [x, y] {
            if self.sp {
                out.push(Segment::Collective(CollectiveKind::AllGather));
                out.push(Segment::Compute(flops));
                out.push(Segment::Collective(CollectiveKind::ReduceScatter));
            } else {
                out.push(Segment::Compute(flops));
                out.push(Segment::Collective(CollectiveKind::AllReduce));
            }
        }
    }

    /// The segments of `pass` in order, adjacent kernels merged; W is one kernel of `w_flops`.
    pub fn segments(&self, pass: Pass, w_flops: f64) -> Vec<Segment> {
        let mut out = Vec::new();
        match pass {
            Pass::F => {
                for _ in 0..self.layers {
                    self.layer(self.f_attn, self.f_mlp, false, &mut out);
                }
                if self.head > 0.0 {
                    out.push(Segment::Compute(self.head));
                }
            }
            Pass::B => {
                if self.head > 0.0 {
                    out.push(Segment::Compute(self.head));
                }
                for _ in 0..self.layers {
                    if self.full_recompute {
                        self.layer(self.f_attn, self.f_mlp, false, &mut out);
                    }
                    self.layer(self.b_attn, self.b_mlp, true, &mut out);
                }
            }
            Pass::W => out.push(Segment::Compute(w_flops)),
        }
        let mut merged: Vec<Segment> = Vec::with_capacity(out.len());
        for seg in out {
            match (merged.last_mut(), seg) {
                (Some(Segment::Compute(a)), Segment::Compute(b)) => *a += b,
                _ => merged.push(seg),
            }
        }
        merged
    }

    /// TP collectives of one micro-batch's F and B on one stage: per layer 2 all-reduces in F
    /// and 2 in B (4), or with sequence parallelism 2 all-gathers + 2 reduce-scatters in each
    /// (8); full recomputation adds the rerun F's (2, or 4 with SP).
    pub fn collectives_per_micro_batch(&self) -> u32 {
        let per_pass = if self.sp { 4 } else { 2 };
        self.layers * per_pass * (2 + u32::from(self.full_recompute))
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

    #[test]
    fn balanced_split_moves_layers_off_the_output_stage() {
        // GPT-3 1.3B: the logits are 1.75 layers of forward work, so the last stage of an even
        // 24 / 4 split is the bottleneck; the balanced split gives it fewer layers.
        let m = models::preset("gpt3-1.3b").unwrap();
        let par = Parallelism { split: Split::Balanced, ..Parallelism::default() };
        let parts = balanced_partition(&m, 1, 4, &par);
        assert_eq!(parts.iter().sum::<u32>(), 24);
        assert!(parts[3] < 6, "{parts:?}");
        let worst = |p: &[u32]| {
            (0..4).map(|s| stage_flops(&m, 1, p[s], s as u32, 4, &par)).fold(0.0, f64::max)
        };
        assert!(worst(&parts) < worst(&partition(&m, 4)));
    }

    #[test]
    fn tensor_parallel_work_is_split_t_ways() {
        let m = models::preset("gpt3-1.3b").unwrap();
        let one = stage_work(&m, 2, 6, true, true);
        let par = Parallelism { tp: 4, ..Parallelism::default() };
        let four = stage_work_with(&m, 2, 6, true, true, &par);
        let close = |a: f64, b: f64| assert!((a - b).abs() <= 1e-12 * b, "{a} vs {b}");
        close(four.f_flops * 4.0, one.f_flops);
        close(four.params * 4.0, one.params);
        let plan = four.tp.unwrap();
        // The segments of F and B add up to the pass's FLOPs, with 2 all-reduces per layer.
        for (pass, total) in [(Pass::F, four.f_flops), (Pass::B, four.b_flops)] {
            let segs = plan.segments(pass, four.w_flops);
            let flops: f64 =
                segs.iter().map(|s| if let Segment::Compute(f) = s { *f } else { 0.0 }).sum();
            close(flops, total);
            let ars = segs.iter().filter(|s| matches!(s, Segment::Collective(_))).count();
            assert_eq!(ars, 12);
        }
        assert_eq!(plan.collectives_per_micro_batch(), 24);
    }
}
