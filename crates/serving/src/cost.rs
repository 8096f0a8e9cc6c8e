//! The iteration cost of one model replica on the cluster's roofline: [`RooflineCost`].
//!
//! Vidur (Agrawal et al., MLSys'24) splits an iteration into operators and fits each from GPU
//! profiles; this model keeps Vidur's decomposition but prices every operator as a roofline
//! kernel of the cluster's compute model (`t = L + max(F / (e(F)·peak), B / (e_m·BW))`, see
//! docs/models/cluster.md) with FLOPs from `models`' inference helpers and bytes counted
//! here. For a batch of `T` tokens (every prefill chunk's new tokens plus one per decoding
//! request) on `t` tensor-parallel GPUs, with hidden size `h`, `w` bytes per element, KV width
//! per GPU `k = ceil(g/t)·d`, FFN width `F` with `m` matrices, one layer runs, in order:
//!
//! | # | Kernel | FLOPs (per GPU) | Bytes (per GPU) |
//! |---|---|---|---|
//! | 1 | input RMSNorm | 0 | `(2Th + h)w` |
//! | 2 | QKV projection | `T·2h(h+2gd)/t` | `(h(h/t+2k) + Th + T(h/t+2k))w` |
//! | 3 | rotary embedding on Q, K | 0 | `2T(h/t + k)w` |
//! | 4 | KV-cache write | 0 | `2·T·2k·w` |
//! | 5 | prefill attention (all chunks, one varlen kernel) | `Σ 4h·c(p+(c+1)/2)/t` | `Σ (2c·h/t + (p+c)·2k)w` |
//! | 6 | decode attention (all decoding requests, one kernel) | `Σ 4h·n/t` | `Σ (2h/t + n·2k)w` |
//! | 7 | output projection | `T·2h²/t` | `(h²/t + Th/t + Th)w` |
//! | 8 | residual add + RMSNorm (fused) | 0 | `(4Th + h)w` |
//! | 9 | MLP up (gate and up fused) | `T·k_e·2(m-1)hF/t` | `(D(m-1)hF/t + Th + T·k_e(m-1)F/t)w` |
//! | 10 | activation (SiLU x up) | 0 | `T·k_e·mF/t·w` |
//! | 11 | MLP down | `T·k_e·2hF/t` | `(D·hF/t + T·k_e·F/t + Th)w` |
//!
//! plus, for a mixture of experts, the router GEMM (`T·2hE` FLOPs, `(hE + Th + TE)w` bytes,
//! replicated on every GPU) and a top-k kernel (`2TEw` bytes): 11 kernels per layer for a
//! dense model (10 when the batch has only prefill or only decode attention), 13 for MoE.
//! `k_e` is the experts per token (1 when dense) and `D` the experts whose weights the batch
//! reads: all `E` of them would be read only if some token routes to each; **assumption**:
//! routing is uniform and independent, so `D = E·(1 - (1 - k_e/E)^T)` (the expected number of
//! distinct experts; 1 when dense). Mixtral-8x7B: 2 at T = 1, 4.3 at T = 3, 7.9 at T = 16.
//!
//! Each layer adds two all-reduces of `T·h·w` bytes over the `t` GPUs when `t > 1` (after the
//! output projection and after MLP down), costed by the cluster's collective model plus
//! Vidur's 0.02 ms launch overhead per TP collective. Outside the layers: the embedding
//! lookup (`2Thw` bytes), the final norm over `T` tokens, and the LM head over the tokens
//! that produce a next token — **one per sequence in the batch** (every decoding request and
//! every prefill chunk: vLLM's and SGLang's logits processors compute logits only at each
//! sequence's last position; a chunk that is not the last of its prompt computes a logit row
//! that is thrown away, as SGLang does) — with `2Vh/t` FLOPs and `(Vh/t + Nh + NV/t)w` bytes
//! for `N` sequences, and with `t > 1` an all-gather of the `N·V·w` bytes of logits.
//! The KV written and read per GPU uses `ceil(g/t)` KV heads (replicated beyond `g`).
//!
//! Launch overheads: every compute kernel pays the compute model's launch overhead `L` (2 us
//! by default), except in a decode-only batch of at most [`CostConfig::cuda_graph_max_batch`]
//! requests when [`CostConfig::cuda_graphs`] is on: SGLang and vLLM capture decode batches in
//! CUDA graphs, which launch all kernels with one call; then neither `L` nor the TP launch is
//! charged (the kernels' fixed GPU time `t_fix - L` stays).
//!
//! The iteration's time is the sum of every kernel and collective (nothing overlaps) plus a
//! per-iteration CPU overhead ([`CostConfig::cpu_overhead`]: scheduling, input preparation,
//! sampling, Python). Departures from Vidur: no measured profiles (predictions come from
//! datasheet peaks and fitted efficiency curves); no +10% batching overhead; attention of a
//! prefill batch is summed per chunk rather than Vidur's one equivalent prefill of length
//! `sqrt(Σ c²)`; decode attention uses each request's exact context rather than a mean
//! rounded up to 64; CPU overhead is one constant. See docs/models/serving.md, "Iteration
//! cost", for the validation against published prefill and decode times.

use std::cell::Cell;
use std::sync::Arc;

use cluster::{Cluster, CollectiveKind, Dtype};
use models::TransformerSpec;
use simcore::{InputError, SimTime};

use crate::batch::{BatchShape, IterationCost};
use crate::tp::{TpComm, TpShard, sglang_mem_fraction};

/// Settings of [`RooflineCost`], with their sources.
#[derive(Clone, Debug, PartialEq)]
pub struct CostConfig {
    /// Element type of weights, activations and KV cache (FP16, the SGLang paper's).
    pub dtype: Dtype,
    /// Tensor-parallel degree: GPUs `0..tp` of the first node serve one replica.
    pub tp: u32,
    /// CPU time per iteration outside the GPU kernels (scheduling, input preparation,
    /// sampling, Python), added to every iteration. **Assumption**: 1 ms. No per-step figure
    /// is published for SGLang; vLLM's v0.6.0 profile (Llama-3-8B, one H100) puts scheduling
    /// and input preparation at 29% of run time against 38% on the GPU, and SGLang v0.4 and
    /// vLLM v0.6 overlap most of it with the GPU; lmdeploy's C++ engine decodes Llama-2-7B
    /// on an A100 in 9-10 ms where the GPU kernels alone are predicted at 9.4 ms.
    pub cpu_overhead: SimTime,
    /// Launch overhead added to each tensor-parallel collective (Vidur: 0.02 ms).
    pub tp_launch: SimTime,
    /// Decode-only batches run as CUDA graphs (SGLang and vLLM default: on).
    pub cuda_graphs: bool,
    /// Largest decode batch captured in a CUDA graph (SGLang `cuda_graph_max_bs`: 160 on GPUs
    /// with at most 80 GB free).
    pub cuda_graph_max_batch: u32,
    /// Fraction of each GPU's memory for weights and KV cache (SGLang `mem_fraction_static`);
    /// `None`: SGLang's default for the TP degree ([`sglang_mem_fraction`]).
    pub mem_fraction: Option<f64>,
}

impl Default for CostConfig {
    fn default() -> Self {
        CostConfig {
            dtype: Dtype::Fp16,
            tp: 1,
            cpu_overhead: SimTime::from_millis(1),
            tp_launch: SimTime::from_micros(20),
            cuda_graphs: true,
            cuda_graph_max_batch: 160,
            mem_fraction: None,
        }
    }
}

/// Time of one iteration's parts, for inspection and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CostBreakdown {
    /// Compute kernels of all layers (token-level operators and attention).
    pub layers: SimTime,
    /// Embedding, final norm and LM head.
    pub head: SimTime,
    /// Tensor-parallel collectives.
    pub comm: SimTime,
    /// Per-iteration CPU overhead.
    pub cpu: SimTime,
    /// Compute kernels launched.
    pub kernels: u32,
    /// Whether the iteration ran as a CUDA graph.
    pub graph: bool,
}

impl CostBreakdown {
    /// The iteration's time.
    pub fn total(&self) -> SimTime {
        self.layers + self.head + self.comm + self.cpu
    }
}

/// The roofline iteration cost of one replica: a model on `tp` GPUs of the cluster's first
/// node (see the module docs for the kernels and their FLOPs and bytes).
#[derive(Debug)]
pub struct RooflineCost {
    model: TransformerSpec,
    cluster: Arc<Cluster>,
    config: CostConfig,
    shard: TpShard,
    comm: TpComm,
}

impl RooflineCost {
    /// A cost model for `model` on `cluster` with `config`. Errors name the field: a TP degree
    /// that does not split the heads or exceeds the node, a dtype the GPU has no rate for, a
    /// memory fraction outside (0, 1].
    pub fn new(
        model: TransformerSpec,
        cluster: Arc<Cluster>,
        config: CostConfig,
    ) -> Result<RooflineCost, InputError> {
        model.validate().map_err(|e| InputError::at("model", e))?;
        let gpn = cluster.spec().node.gpus;
        let w = config.dtype.size_bytes() as f64;
        let shard = TpShard::new(&model, config.tp, w, gpn)?;
        cluster
            .gpu()
            .peak_flops(config.dtype)
            .map_err(|e| InputError::at("cost.dtype", e.to_string()))?;
        if let Some(f) = config.mem_fraction
            && !(f > 0.0 && f <= 1.0)
        {
            return Err(InputError::at(
                "cost.mem_fraction",
                format!("must be in (0, 1], got {f} (SGLang 0.88 for one GPU)"),
            ));
        }
        let comm = TpComm::new(config.tp, config.tp_launch);
        Ok(RooflineCost { model, cluster, config, shard, comm })
    }

    /// The model.
    pub fn model(&self) -> &TransformerSpec {
        &self.model
    }

    /// The settings.
    pub fn config(&self) -> &CostConfig {
        &self.config
    }

    /// How the model is split over the TP GPUs.
    pub fn shard(&self) -> &TpShard {
        &self.shard
    }

    /// Weight bytes on each GPU (all weights / tp).
    pub fn weight_bytes_per_gpu(&self) -> f64 {
        self.shard.weight_bytes_per_gpu(&self.model)
    }

    /// Memory fraction in use: the configured one or SGLang's default for the TP degree.
    pub fn mem_fraction(&self) -> f64 {
        self.config.mem_fraction.unwrap_or_else(|| sglang_mem_fraction(self.config.tp))
    }

    /// Tokens of KV cache the replica holds (the engine's `kv_tokens`); an error naming the
    /// model and GPU when the weights leave no room.
    pub fn kv_pool_tokens(&self) -> Result<u64, InputError> {
        self.shard.kv_pool_tokens(&self.model, &self.cluster, self.mem_fraction())
    }

    /// Expected distinct experts a batch of `tokens` tokens reads per layer under uniform,
    /// independent top-k routing: `E·(1 - (1 - k/E)^T)`; 1 for a dense model.
    pub fn experts_touched(&self, tokens: u64) -> f64 {
        let e = f64::from(self.model.experts);
        if self.model.experts <= 1 {
            return 1.0;
        }
        let k = f64::from(self.model.experts_per_token);
        let miss = (1.0 - k / e).powf(tokens as f64);
        e * (1.0 - miss)
    }

    /// The iteration's time split into its parts.
    pub fn breakdown(&mut self, batch: &BatchShape) -> Result<CostBreakdown, InputError> {
        let mut out = CostBreakdown { cpu: self.config.cpu_overhead, ..CostBreakdown::default() };
        let tokens = batch.tokens();
        if tokens == 0 {
            return Ok(out);
        }
        let m = &self.model;
        let compute = self.cluster.compute();
        let dt = self.config.dtype;
        let w = self.shard.bytes_per_elem;
        let tp = f64::from(self.config.tp);
        let t = tokens as f64;
        let h = f64::from(m.hidden);
        let kw = self.shard.kv_width_per_gpu(m);
        let graph = self.config.cuda_graphs
            && batch.prefill.is_empty()
            && batch.decode_context.len() as u64 <= u64::from(self.config.cuda_graph_max_batch);
        let launch = if graph { compute.launch_overhead() } else { SimTime::ZERO };
        let kernels = Cell::new(0u32);
        let kernel = |flops: f64, elems: f64| -> Result<SimTime, InputError> {
            kernels.set(kernels.get() + 1);
            let k = compute
                .kernel_time(flops, elems * w, dt)
                .map_err(|e| InputError::Simulation(e.to_string()))?;
            Ok(k.saturating_sub(launch))
        };

        // One layer (every layer is the same).
        let lf = m.linear_flops_per_token();
        let mut layer = SimTime::ZERO;
        layer += kernel(0.0, 2.0 * t * h + h)?; // input norm
        let q_out = h / tp + 2.0 * kw;
        layer += kernel(t * lf.qkv / tp, h * q_out + t * h + t * q_out)?;
        layer += kernel(0.0, 2.0 * t * (h / tp + kw))?; // rotary on Q and K
        layer += kernel(0.0, 2.0 * t * 2.0 * kw)?; // KV-cache write
        if !batch.prefill.is_empty() {
            let (mut f, mut b) = (0.0, 0.0);
            for c in &batch.prefill {
                let (new, cached) = (u64::from(c.new_tokens), u64::from(c.cached));
                f += m.prefill_attention_flops(new, cached) / tp;
                b += 2.0 * new as f64 * h / tp + (new + cached) as f64 * 2.0 * kw;
            }
            layer += kernel(f, b)?;
        }
        if !batch.decode_context.is_empty() {
            let (mut f, mut b) = (0.0, 0.0);
            for &n in &batch.decode_context {
                f += m.decode_attention_flops(u64::from(n)) / tp;
                b += 2.0 * h / tp + f64::from(n) * 2.0 * kw;
            }
            layer += kernel(f, b)?;
        }
        layer += kernel(t * lf.out_proj / tp, h * h / tp + t * h / tp + t * h)?;
        layer += kernel(0.0, 4.0 * t * h + h)?; // residual add + post-attention norm
        let e = f64::from(m.experts);
        if m.experts > 1 {
            layer += kernel(t * lf.router, h * e + t * h + t * e)?; // router, replicated
            layer += kernel(0.0, 2.0 * t * e)?; // top-k and softmax
        }
        let ke = f64::from(m.experts_per_token.max(1));
        let mats = m.ffn_matrices();
        let ff = m.ffn_width() / tp;
        let d = self.experts_touched(tokens);
        let up_flops = t * lf.mlp * (mats - 1.0) / mats / tp;
        let down_flops = t * lf.mlp / mats / tp;
        layer += kernel(up_flops, d * (mats - 1.0) * h * ff + t * h + t * ke * (mats - 1.0) * ff)?;
        layer += kernel(0.0, t * ke * mats * ff)?; // activation
        layer += kernel(down_flops, d * h * ff + t * ke * ff + t * h)?;
        let per_layer_kernels = kernels.get();
        out.layers = SimTime::from_nanos(layer.as_nanos() * u64::from(m.layers));

        // Outside the layers.
        let seqs = batch.requests() as f64;
        let v = f64::from(m.vocab);
        out.head += kernel(0.0, 2.0 * t * h)?; // embedding lookup
        out.head += kernel(0.0, 2.0 * t * h + h)?; // final norm
        out.head +=
            kernel(seqs * m.logits_flops_per_token() / tp, v * h / tp + seqs * h + seqs * v / tp)?;
        out.kernels = per_layer_kernels * m.layers + (kernels.get() - per_layer_kernels);
        out.graph = graph;

        // Tensor-parallel collectives.
        if self.config.tp > 1 {
            let saved = if graph { self.config.tp_launch } else { SimTime::ZERO };
            let ar_bytes = (t * h * w).ceil() as u64;
            let ar = self
                .comm
                .time(&self.cluster, CollectiveKind::AllReduce, ar_bytes)?
                .saturating_sub(saved);
            out.comm = SimTime::from_nanos(ar.as_nanos() * 2 * u64::from(m.layers));
            let logits = (seqs * v * w).ceil() as u64;
            out.comm += self
                .comm
                .time(&self.cluster, CollectiveKind::AllGather, logits)?
                .saturating_sub(saved);
        }
        Ok(out)
    }
}

impl IterationCost for RooflineCost {
    fn iteration_time(&mut self, batch: &BatchShape) -> SimTime {
        // Construction checked the dtype and the TP group, so pricing cannot fail.
        let t = self.breakdown(batch).expect("roofline cost of a checked configuration");
        t.total().max(SimTime::from_nanos(1))
    }
}

#[cfg(test)]
mod tests;
