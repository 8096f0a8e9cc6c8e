//! Tensor parallelism inside one replica: how a model's weights and KV cache are split over
//! `t` GPUs of one node, how much KV fits, and what the all-reduces cost.
//!
//! Megatron-style sharding (Shoeybi et al. 2019, as in vLLM and SGLang): the Q/K/V and MLP-up
//! matrices are split by columns, the output and MLP-down matrices by rows, so each layer
//! needs two all-reduces of the `T x h` activations (one after attention, one after the MLP);
//! the LM head is split over the vocabulary and its logits gathered. Query heads are divided
//! evenly (`heads % t == 0` is required); KV heads too, and when `t` exceeds the KV heads
//! (GQA) each KV head is replicated, so a GPU holds `ceil(g/t)` of them (vLLM's rule).
//!
//! Memory follows SGLang: a fraction `mem_fraction_static` of each GPU's memory holds the
//! weights and the KV pool, the rest is left to activations, CUDA graphs and the allocator.
//! SGLang's default fraction depends on the TP degree (`server_args.py`, v0.3-0.4): 0.88 for
//! t = 1, 0.87 for 2, 0.85 for 4 to 7, 0.81 for 8 to 15, 0.79 from 16.

use std::collections::HashMap;

use cluster::{Algorithm, Cluster, CollectiveKind, GpuId};
use models::TransformerSpec;
use simcore::{InputError, SimTime};

use crate::config::kv_pool_tokens;

/// SGLang's default `mem_fraction_static` for tensor-parallel degree `t` (see the module docs).
pub fn sglang_mem_fraction(t: u32) -> f64 {
    match t {
        0..=1 => 0.88,
        2..=3 => 0.87,
        4..=7 => 0.85,
        8..=15 => 0.81,
        _ => 0.79,
    }
}

/// How one model is split over `t` GPUs of a node.
#[derive(Clone, Debug, PartialEq)]
pub struct TpShard {
    /// Tensor-parallel degree.
    pub t: u32,
    /// Bytes per weight and per KV element.
    pub bytes_per_elem: f64,
    /// KV heads each GPU holds: `ceil(g / t)`.
    pub kv_heads_per_gpu: u32,
}

impl TpShard {
    /// Checks that `model` splits over `t` GPUs: `t >= 1`, query heads divisible by `t`, and
    /// at most the node's `gpus_per_node` GPUs.
    pub fn new(
        model: &TransformerSpec,
        t: u32,
        bytes_per_elem: f64,
        gpus_per_node: u32,
    ) -> Result<TpShard, InputError> {
        if t == 0 {
            return Err(InputError::at("cost.tp", "tensor-parallel degree must be at least 1"));
        }
        if t > gpus_per_node {
            return Err(InputError::at(
                "cost.tp",
                format!(
                    "tensor parallelism runs inside one node: {t} GPUs asked, the node has \
                     {gpus_per_node}"
                ),
            ));
        }
        if !model.heads.is_multiple_of(t) {
            return Err(InputError::at(
                "cost.tp",
                format!(
                    "{} has {} query heads, which do not split over {t} GPUs; use a divisor",
                    model.name, model.heads
                ),
            ));
        }
        Ok(TpShard { t, bytes_per_elem, kv_heads_per_gpu: model.kv_heads().div_ceil(t) })
    }

    /// Weight bytes each GPU holds: all weights / t (the small replicated parts — norms,
    /// the MoE router — are counted as split too; they are under 0.01% of a Llama's weights).
    pub fn weight_bytes_per_gpu(&self, model: &TransformerSpec) -> f64 {
        model.weight_bytes(self.bytes_per_elem) / f64::from(self.t)
    }

    /// Width of the K (or V) projection one GPU holds: `ceil(g/t)·d`.
    pub fn kv_width_per_gpu(&self, model: &TransformerSpec) -> f64 {
        f64::from(self.kv_heads_per_gpu) * model.head_dim()
    }

    /// KV-cache bytes one token takes on one GPU: `2·L·ceil(g/t)·d·w`.
    pub fn kv_bytes_per_token_per_gpu(&self, model: &TransformerSpec) -> f64 {
        2.0 * f64::from(model.layers) * self.kv_width_per_gpu(model) * self.bytes_per_elem
    }

    /// Tokens of KV the replica's pool holds: per GPU, `(mem_fraction x HBM - weights / t) /
    /// KV bytes per token per GPU` (the same as `(t x usable HBM - weights - reserve) / KV
    /// bytes per token` when the KV heads divide evenly), through [`kv_pool_tokens`] with the
    /// reserve `(1 - mem_fraction) x HBM`. A model that does not fit gets an error naming the
    /// model, the GPU and the degree.
    pub fn kv_pool_tokens(
        &self,
        model: &TransformerSpec,
        cluster: &Cluster,
        mem_fraction: f64,
    ) -> Result<u64, InputError> {
        let gpu = cluster.gpu();
        let hbm = gpu.memory.0;
        let weights = self.weight_bytes_per_gpu(model).ceil() as u64;
        let reserve = ((1.0 - mem_fraction) * hbm as f64).ceil() as u64;
        let kv = self.kv_bytes_per_token_per_gpu(model).ceil() as u64;
        kv_pool_tokens(hbm, weights, reserve, kv).map_err(|_| {
            InputError::at(
                "model",
                format!(
                    "{} does not fit on {} x {}: {:.1} GB of weights per GPU + {:.1} GB \
                     reserve ({:.0}% of memory left to activations) leave no room for KV \
                     cache in {:.1} GB; use more GPUs (tensor parallelism) or a larger GPU",
                    model.name,
                    self.t,
                    gpu.name,
                    weights as f64 / 1e9,
                    reserve as f64 / 1e9,
                    (1.0 - mem_fraction) * 100.0,
                    hbm as f64 / 1e9,
                ),
            )
        })
    }
}

/// Collective costs of one replica's `t` GPUs (GPUs `0..t` of the cluster's first node),
/// remembered by size: a serving run asks for the same few sizes millions of times.
#[derive(Debug)]
pub struct TpComm {
    group: Vec<GpuId>,
    launch: SimTime,
    memo: HashMap<(CollectiveKind, u64), SimTime>,
}

impl TpComm {
    /// Collectives over GPUs `0..t`, each with `launch` added (Vidur adds 0.02 ms to every
    /// TP all-reduce).
    pub fn new(t: u32, launch: SimTime) -> TpComm {
        TpComm { group: (0..t).map(GpuId).collect(), launch, memo: HashMap::new() }
    }

    /// GPUs in the group.
    pub fn size(&self) -> u32 {
        self.group.len() as u32
    }

    /// Time of a `kind` collective of `bytes` (nccl-tests convention: the whole buffer) over
    /// the group, `Algorithm::Auto`, plus the launch overhead; zero for one GPU or no bytes.
    pub fn time(
        &mut self,
        cluster: &Cluster,
        kind: CollectiveKind,
        bytes: u64,
    ) -> Result<SimTime, InputError> {
        if self.group.len() < 2 || bytes == 0 {
            return Ok(SimTime::ZERO);
        }
        if let Some(&t) = self.memo.get(&(kind, bytes)) {
            return Ok(t);
        }
        let (_, cost) = cluster
            .network()
            .collective(kind, Algorithm::Auto, &self.group, bytes as f64)
            .map_err(|e| InputError::Simulation(format!("tensor-parallel {kind}: {e}")))?;
        let t = cost.time + self.launch;
        self.memo.insert((kind, bytes), t);
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_heads_and_replicates_kv_heads_beyond_g() {
        let m = models::preset("llama-2-70b").unwrap(); // 64 query heads, 8 KV heads
        assert_eq!(TpShard::new(&m, 4, 2.0, 8).unwrap().kv_heads_per_gpu, 2);
        assert_eq!(TpShard::new(&m, 8, 2.0, 8).unwrap().kv_heads_per_gpu, 1);
        let e = TpShard::new(&m, 3, 2.0, 8).unwrap_err().to_string();
        assert!(e.contains("cost.tp") && e.contains("64 query heads"), "{e}");
        let e = TpShard::new(&m, 16, 2.0, 8).unwrap_err().to_string();
        assert!(e.contains("one node"), "{e}");
        assert!(TpShard::new(&m, 0, 2.0, 8).is_err());
    }

    #[test]
    fn sglang_fractions() {
        assert_eq!(sglang_mem_fraction(1), 0.88);
        assert_eq!(sglang_mem_fraction(2), 0.87);
        assert_eq!(sglang_mem_fraction(4), 0.85);
        assert_eq!(sglang_mem_fraction(8), 0.81);
    }

    #[test]
    fn llama_7b_pool_on_one_a10g_by_hand() {
        let m = models::preset("llama-2-7b").unwrap();
        let c = Cluster::preset("g5-xlarge", 1).unwrap();
        let s = TpShard::new(&m, 1, 2.0, 1).unwrap();
        // 23028 MiB x 0.88 - 13,476,831,232 B of weights, over 512 KiB per token.
        let hbm = 23_028u64 << 20;
        let reserve = (0.12 * hbm as f64).ceil() as u64;
        let expect = (hbm - 13_476_831_232 - reserve) / 524_288;
        assert_eq!(s.kv_pool_tokens(&m, &c, 0.88).unwrap(), expect);
        assert_eq!(expect, 14_824);
    }

    #[test]
    fn llama_70b_on_one_a10g_names_model_and_gpu() {
        let m = models::preset("llama-2-70b").unwrap();
        let c = Cluster::preset("g5-xlarge", 1).unwrap();
        let s = TpShard::new(&m, 1, 2.0, 1).unwrap();
        let e = s.kv_pool_tokens(&m, &c, 0.88).unwrap_err().to_string();
        assert!(
            e.contains("llama-2-70b") && e.contains("A10G") && e.contains("does not fit"),
            "{e}"
        );
    }
}
