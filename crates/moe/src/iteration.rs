//! One training iteration as a task graph.
//!
//! Per GPU `g` (data parallel over the dense part, `tokens` tokens each) and layer `l`:
//!
//! - forward: a dense kernel (attention, the router on MoE layers, the FFN on dense layers,
//!   the logits on the last layer); on MoE layers then the token **dispatch** (all-to-all-v of
//!   the routed tokens' activations), one kernel per expert slot, and the **combine**
//!   (the reverse all-to-all-v);
//! - backward, last layer first, at twice the forward FLOPs: on MoE layers the combine's
//!   gradient exchange, the slots' backward kernels, the dispatch's gradient exchange; then the
//!   dense backward kernel;
//! - gradients: a reduce-scatter of each layer's dense gradients over all GPUs (ZeRO-1), and for
//!   every expert class held by two or more GPUs a reduce-scatter (optimizer sharded over
//!   replicas) or all-reduce (other layouts) among them;
//! - optimizer, on the hosts: per GPU and MoE layer a copy of its gradient share to host memory,
//!   a host Adam step (a delay of `28 bytes/param / host rate`, one host thread per GPU) and a
//!   copy of the updated weights back; then an all-gather among the replicas (sharded over
//!   replicas) or, for SwiftMoE, a pull exchange of gradient shards before and a push exchange
//!   of weight shards after; the dense shard the same way with an all-gather over all GPUs;
//! - migrations (FlexMoE) before the layer's dispatch: per moved replica a GPU-to-GPU send of
//!   its weights (`2 bytes/param`) and a host-to-host transfer of its optimizer state
//!   (`16 bytes/param`).
//!
//! Transfers issued by host threads (SwiftMoE's gradient pull and weight push, FlexMoE's
//! optimizer-state migration: RDMA between host memory and GPU or host memory) are host-driven
//! exchanges: they cost network time but hold no GPU communication stream, so they overlap
//! with the NCCL collectives and all-to-alls on the GPUs.
//!
//! The iteration's time is the graph's makespan on the shared executor.

use cluster::{Algorithm, CollectiveKind, GpuId, MemoryTier};
use taskgraph::{OpId, TaskGraph, TaskGraphBuilder};

use crate::dispatch::LayerDispatch;
use crate::memory::OPTIMIZER_BYTES_PER_PARAM;
use crate::model::MoeModel;
use crate::placement::Placement;
use crate::systems::{Move, OptimizerLayout};

/// Bytes the Adam step reads and writes per parameter: fp16 gradient (2) and weight (2) plus
/// fp32 master, momentum and variance read and written (24).
pub const ADAM_TRAFFIC_BYTES_PER_PARAM: f64 = 28.0;

/// Everything one iteration's graph depends on.
pub struct IterationInput<'a> {
    /// The model.
    pub model: &'a MoeModel,
    /// Expert classes per MoE layer.
    pub experts: u32,
    /// GPUs.
    pub gpus: u32,
    /// GPUs per node.
    pub gpus_per_node: u32,
    /// Tokens each GPU holds.
    pub tokens_per_gpu: f64,
    /// Sequence length.
    pub seq: u32,
    /// Bytes per element.
    pub dtype_bytes: f64,
    /// Number format of kernels.
    pub dtype: cluster::Dtype,
    /// Placement per MoE layer.
    pub placements: &'a [&'a Placement],
    /// Dispatch per MoE layer.
    pub dispatches: &'a [LayerDispatch],
    /// Optimizer layout.
    pub optimizer: OptimizerLayout,
    /// Replicas moved before this iteration.
    pub moves: &'a [Move],
    /// Host Adam rate, bytes/s.
    pub host_rate: f64,
}

/// The graph and the ops whose end bounds the migration time.
pub struct IterationGraph {
    /// The task graph.
    pub graph: TaskGraph,
    /// Migration sends.
    pub migrations: Vec<OpId>,
}

fn gpu(g: u32) -> GpuId {
    GpuId(g)
}

/// Builds the task graph of one iteration.
pub fn build(inp: &IterationInput<'_>) -> Result<IterationGraph, taskgraph::GraphError> {
    let m = inp.model;
    let w = inp.gpus;
    let h = f64::from(m.base.hidden);
    let b = inp.dtype_bytes;
    let tokens = inp.tokens_per_gpu;
    let p_e = m.base.ffn_params();
    let mut g = TaskGraphBuilder::with_capacity(4096, 16384);
    let all: Vec<GpuId> = (0..w).map(gpu).collect();

    // Migrations, per MoE layer: the weights GPU to GPU (NCCL), the optimizer state host to
    // host (RDMA by host threads).
    let mut migrations = Vec::new();
    let mut migrations_of: Vec<Vec<OpId>> = vec![Vec::new(); inp.placements.len()];
    for mv in inp.moves {
        let weights = g.send("migrate expert weights", gpu(mv.from_gpu), gpu(mv.to_gpu), b * p_e);
        let state = g.host_exchange(
            "migrate optimizer state",
            vec![(gpu(mv.from_gpu), gpu(mv.to_gpu), OPTIMIZER_BYTES_PER_PARAM * p_e)],
        );
        migrations_of[mv.layer].extend([weights, state]);
        migrations.extend([weights, state]);
    }

    let dense_params_of = |l: u32| -> f64 {
        let mut p = m.base.attention_params();
        if m.is_moe(l) {
            p += h * f64::from(inp.experts);
        } else {
            p += m.base.ffn_params();
        }
        if l == 0 {
            p += f64::from(m.base.vocab) * h;
        }
        p
    };
    let dense_fwd_flops = |l: u32| -> f64 {
        let mut f = m.base.attention_flops_per_token(inp.seq);
        if m.is_moe(l) {
            f += 2.0 * h * f64::from(inp.experts);
        } else {
            f += m.base.ffn_flops_per_token();
        }
        if l + 1 == m.base.layers {
            f += m.base.logits_flops_per_token();
        }
        f * tokens
    };
    // Activations read and written by a layer's dense kernels: about 12 hidden-size vectors per
    // token (an assumption; these kernels are compute-bound at these sizes).
    let act_bytes = 12.0 * h * b * tokens;
    let traffic =
        |d: &LayerDispatch, reverse: bool| -> Vec<(GpuId, GpuId, f64)> {
            d.traffic
                .iter()
                .map(|&(s, t, n)| {
                    if reverse { (gpu(t), gpu(s), n * h * b) } else { (gpu(s), gpu(t), n * h * b) }
                })
                .collect()
        };

    // Forward.
    let mut last: Vec<Option<OpId>> = vec![None; w as usize];
    let mut moe_index = 0usize;
    let mut moe_of_layer = vec![usize::MAX; m.base.layers as usize];
    for l in 0..m.base.layers {
        let dense: Vec<OpId> = (0..w)
            .map(|x| {
                let op = g.compute(
                    "dense fwd",
                    gpu(x),
                    dense_fwd_flops(l),
                    b * dense_params_of(l) + act_bytes,
                    inp.dtype,
                );
                if let Some(p) = last[x as usize] {
                    g.depend(p, op);
                }
                op
            })
            .collect();
        if m.is_moe(l) {
            let k = moe_index;
            moe_of_layer[l as usize] = k;
            moe_index += 1;
            let d = &inp.dispatches[k];
            let disp = g.exchange("dispatch", traffic(d, false));
            g.depend_all(&dense, disp);
            g.depend_all(&migrations_of[k], disp);
            let comb = g.exchange("combine", traffic(d, true));
            for (slot, &t) in d.slot_tokens.iter().enumerate() {
                let owner = inp.placements[k].gpu_of(slot) as u32;
                let op = g.compute(
                    "expert fwd",
                    gpu(owner),
                    t * m.base.ffn_flops_per_token(),
                    b * p_e + t * h * b * (2.0 + 2.0 * f64::from(m.base.ffn_mult)),
                    inp.dtype,
                );
                g.depend(disp, op);
                g.depend(op, comb);
            }
            last = vec![Some(comb); w as usize];
        } else {
            last = dense.into_iter().map(Some).collect();
        }
    }

    // Backward.
    let mut expert_bwd: Vec<Vec<OpId>> = vec![Vec::new(); inp.placements.len()];
    let mut dense_bwd_of: Vec<Vec<OpId>> = vec![Vec::new(); m.base.layers as usize];
    for l in (0..m.base.layers).rev() {
        if m.is_moe(l) {
            let k = moe_of_layer[l as usize];
            let d = &inp.dispatches[k];
            let gcomb = g.exchange("combine grad", traffic(d, false));
            for p in last.iter().flatten() {
                g.depend(*p, gcomb);
            }
            let gdisp = g.exchange("dispatch grad", traffic(d, true));
            for (slot, &t) in d.slot_tokens.iter().enumerate() {
                let owner = inp.placements[k].gpu_of(slot) as u32;
                let op = g.compute(
                    "expert bwd",
                    gpu(owner),
                    2.0 * t * m.base.ffn_flops_per_token(),
                    2.0 * (b * p_e + t * h * b * (2.0 + 2.0 * f64::from(m.base.ffn_mult))),
                    inp.dtype,
                );
                g.depend(gcomb, op);
                g.depend(op, gdisp);
                expert_bwd[k].push(op);
            }
            last = vec![Some(gdisp); w as usize];
        }
        let dense: Vec<OpId> = (0..w)
            .map(|x| {
                let op = g.compute(
                    "dense bwd",
                    gpu(x),
                    2.0 * dense_fwd_flops(l),
                    2.0 * (b * dense_params_of(l) + act_bytes),
                    inp.dtype,
                );
                if let Some(p) = last[x as usize] {
                    g.depend(p, op);
                }
                op
            })
            .collect();
        dense_bwd_of[l as usize] = dense.clone();
        last = dense.into_iter().map(Some).collect();
    }

    // Dense gradients: ZeRO-1 reduce-scatter per layer.
    let mut dense_rs = Vec::new();
    for l in 0..m.base.layers {
        let rs = g.collective(
            "dense grad reduce-scatter",
            CollectiveKind::ReduceScatter,
            Algorithm::Auto,
            &all,
            b * dense_params_of(l),
        );
        g.depend_all(&dense_bwd_of[l as usize], rs);
        dense_rs.push(rs);
    }

    // Expert gradients and optimizer, per MoE layer.
    let mut host_prev: Vec<Option<OpId>> = vec![None; w as usize];
    let n_layers = inp.placements.len();
    for (k, &p) in inp.placements.iter().enumerate().take(n_layers) {
        let mut class_sync: Vec<Option<OpId>> = vec![None; inp.experts as usize];
        let mut bwd_of_class: Vec<Vec<OpId>> = vec![Vec::new(); inp.experts as usize];
        for (slot, &c) in p.slots.iter().enumerate() {
            bwd_of_class[c as usize].push(expert_bwd[k][slot]);
        }
        for c in 0..inp.experts {
            let members: Vec<GpuId> = p.gpus_of(c).into_iter().map(gpu).collect();
            if members.len() < 2 {
                continue;
            }
            let kind = if inp.optimizer == OptimizerLayout::ShardedOverReplicas {
                CollectiveKind::ReduceScatter
            } else {
                CollectiveKind::AllReduce
            };
            let op = g.collective("expert grad sync", kind, Algorithm::Auto, &members, b * p_e);
            g.depend_all(&bwd_of_class[c as usize], op);
            class_sync[c as usize] = Some(op);
        }
        // What each GPU's host steps, in parameters, and what it must wait for.
        let mut host_params = vec![0.0; w as usize];
        let mut ready: Vec<Vec<OpId>> = vec![Vec::new(); w as usize];
        if inp.optimizer == OptimizerLayout::ShardedOverAllRanks {
            // Each rank pulls its 1/W shard of every class from one replica: a local one if it
            // has one, else the replicas in turn.
            let mut t = Vec::new();
            for c in 0..inp.experts {
                let holders = p.gpus_of(c);
                for r in 0..w {
                    let src =
                        if holders.contains(&r) { r } else { holders[r as usize % holders.len()] };
                    t.push((gpu(src), gpu(r), b * p_e / f64::from(w)));
                }
                host_params.iter_mut().for_each(|x| *x += p_e / f64::from(w));
            }
            let op = g.host_exchange("pull grad shards", t);
            for c in 0..inp.experts as usize {
                match class_sync[c] {
                    Some(s) => g.depend(s, op),
                    None => g.depend_all(&bwd_of_class[c], op),
                }
            }
            ready.iter_mut().for_each(|r| r.push(op));
        } else {
            for (slot, &c) in p.slots.iter().enumerate() {
                let owner = p.gpu_of(slot);
                let share = match inp.optimizer {
                    OptimizerLayout::ShardedOverReplicas => p_e / f64::from(p.replicas[c as usize]),
                    _ => p_e,
                };
                host_params[owner] += share;
                match class_sync[c as usize] {
                    Some(s) => ready[owner].push(s),
                    None => ready[owner].push(expert_bwd[k][slot]),
                }
            }
        }
        let mut h2d_of = vec![None; w as usize];
        for x in 0..w {
            let xi = x as usize;
            if host_params[xi] <= 0.0 {
                continue;
            }
            let node = x / inp.gpus_per_node.max(1);
            let d2h = g.copy(
                "grad to host",
                MemoryTier::Hbm(gpu(x)),
                MemoryTier::Host(node),
                b * host_params[xi],
            );
            g.depend_all(&ready[xi], d2h);
            let step = g.host_work(
                "host adam",
                node,
                ADAM_TRAFFIC_BYTES_PER_PARAM * host_params[xi],
                inp.host_rate,
            );
            g.depend(d2h, step);
            if let Some(prev) = host_prev[xi] {
                g.depend(prev, step);
            }
            host_prev[xi] = Some(step);
            let h2d = g.copy(
                "weights to GPU",
                MemoryTier::Host(node),
                MemoryTier::Hbm(gpu(x)),
                b * host_params[xi],
            );
            g.depend(step, h2d);
            h2d_of[xi] = Some(h2d);
        }
        match inp.optimizer {
            OptimizerLayout::ShardedOverReplicas => {
                for c in 0..inp.experts {
                    let members = p.gpus_of(c);
                    if members.len() < 2 {
                        continue;
                    }
                    let ids: Vec<GpuId> = members.iter().map(|&x| gpu(x)).collect();
                    let ag = g.collective(
                        "expert weight all-gather",
                        CollectiveKind::AllGather,
                        Algorithm::Auto,
                        &ids,
                        b * p_e,
                    );
                    for &x in &members {
                        if let Some(h2d) = h2d_of[x as usize] {
                            g.depend(h2d, ag);
                        }
                    }
                }
            }
            OptimizerLayout::ShardedOverAllRanks => {
                // Every rank sends its 1/W shard of each slot's expert to the slot's GPU: the
                // volume does not depend on which class a slot holds, so it is a uniform
                // all-to-all of `S` experts' weights per rank, issued by the hosts.
                let push = g.host_collective(
                    "push weight shards",
                    CollectiveKind::AllToAll,
                    Algorithm::Direct,
                    &all,
                    b * p_e * f64::from(p.slots_per_gpu),
                );
                for h2d in h2d_of.iter().flatten() {
                    g.depend(*h2d, push);
                }
            }
            OptimizerLayout::PerReplica => {}
        }
    }

    // Dense optimizer: the 1/W shard on each host, then an all-gather of the weights.
    let p_dense = m.dense_params(inp.experts);
    let ag = g.collective(
        "dense weight all-gather",
        CollectiveKind::AllGather,
        Algorithm::Auto,
        &all,
        b * p_dense,
    );
    for x in 0..w {
        let xi = x as usize;
        let node = x / inp.gpus_per_node.max(1);
        let share = p_dense / f64::from(w);
        let d2h = g.copy(
            "dense grad to host",
            MemoryTier::Hbm(gpu(x)),
            MemoryTier::Host(node),
            b * share,
        );
        g.depend_all(&dense_rs, d2h);
        let step = g.host_work(
            "host adam dense",
            node,
            ADAM_TRAFFIC_BYTES_PER_PARAM * share,
            inp.host_rate,
        );
        g.depend(d2h, step);
        if let Some(prev) = host_prev[xi] {
            g.depend(prev, step);
        }
        let h2d = g.copy(
            "dense weights to GPU",
            MemoryTier::Host(node),
            MemoryTier::Hbm(gpu(x)),
            b * share,
        );
        g.depend(step, h2d);
        g.depend(h2d, ag);
    }
    Ok(IterationGraph { graph: g.build()?, migrations })
}
