//! One training step of the embedding layer as a task graph on the shared executor:
//!
//! 1. ids all-to-all (trainers send lookup ids to the owners);
//! 2. forward lookups on every owner: a memory-bound kernel over the rows gathered from HBM
//!    (bytes stretched by `1 / hbm_efficiency`),
//!    and the rows gathered from host memory as a copy over the GPU's PCIe link, stretched by
//!    `1 / uvm_efficiency` (random row reads);
//! 3. output all-to-all (pooled vectors, partial sums or sequence rows to the trainers);
//! 4. gradient all-to-all back (same bytes);
//! 5. backward: the fused sparse update reads and writes the rows (twice the forward gather,
//!    TorchRec's multiplier), in HBM and over PCIe both ways; for rows in host memory the read
//!    and the write are two copies that run at the same time (the kernel streams rows, some
//!    being read while others are written back, and PCIe carries both directions at once);
//! 6. replicas' gradient all-reduces.
//!
//! HBM caches (FBGEMM's LRU, [`crate::cache`]) add per GPU a copy of the fetched rows from host
//! memory and one of the evicted rows back, both at `transfer_efficiency` of the PCIe route.
//! Without the prefetch pipeline they run in the forward pass after the ids arrive and before
//! the lookups (FBGEMM's `prefetch` inside `forward`); with it they belong to the next batch and
//! overlap the whole step (TorchRec's `PrefetchTrainPipelineSparseDist`): they depend on
//! nothing and nothing waits for them, but they share the PCIe link with the step's other host
//! transfers and the step is not over before they are.
//!
//! The dense part of the model is left out: the metrics are the embedding layer's. Each step
//! draws its batch: the lookups an owner serves vary around their mean by a Poisson factor
//! `1 + z / sqrt(n)` (normal approximation, `n` its lookups), so steps differ a little and
//! an owner's imbalance shows.

use cluster::{Algorithm, CollectiveKind, Dtype, GpuId, MemoryTier};
use simcore::StreamRng;
use taskgraph::{OpId, TaskGraph, TaskGraphBuilder};

use crate::plan::StepLoad;
use crate::tiers::Tiers;
use simcore::InputError;

/// A step's graph and the ops that make up each GPU's own time.
pub struct StepGraph {
    /// The graph.
    pub graph: TaskGraph,
    /// Per GPU, its lookup and update ops.
    pub gpu_ops: Vec<Vec<OpId>>,
    /// The all-to-all ops (ids, outputs, gradients).
    pub exchanges: Vec<OpId>,
    /// The replica all-reduces.
    pub syncs: Vec<OpId>,
}

/// How the step runs its cache transfers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CacheTransfers {
    /// Fills overlap the previous batch.
    pub prefetch: bool,
    /// Share of the PCIe route's bandwidth they achieve.
    pub efficiency: f64,
}

/// Builds one step of `load`, drawing its batch from `rng`.
pub fn build(
    load: &StepLoad,
    tiers: &Tiers,
    uvm_efficiency: f64,
    cache: CacheTransfers,
    rng: &mut StreamRng,
) -> Result<StepGraph, InputError> {
    let g = tiers.gpus as usize;
    let per_node = tiers.gpus_per_node;
    // Per owner: its draw of this step's lookups.
    let factor: Vec<f64> = (0..g)
        .map(|i| {
            let n = load.lookups[i];
            let z = rng.normal();
            if n > 0.0 { (1.0 + z / n.sqrt()).max(0.0) } else { 1.0 }
        })
        .collect();
    let mut b = TaskGraphBuilder::with_capacity(8 * g + 8, 16 * g + 8);
    let scaled = |t: &[(u32, u32, f64)], by_src: bool| -> Vec<(GpuId, GpuId, f64)> {
        t.iter()
            .map(|&(s, d, x)| {
                let f = if by_src { factor[s as usize] } else { factor[d as usize] };
                (GpuId(s), GpuId(d), x * f)
            })
            .collect()
    };
    let ids = if load.ids.is_empty() {
        None
    } else {
        Some(b.exchange("ids all-to-all", scaled(&load.ids, false)))
    };
    let mut exchanges: Vec<OpId> = ids.into_iter().collect();
    let mut syncs = Vec::new();
    let mut fwd_done = Vec::with_capacity(g);
    let mut gpu_ops = vec![Vec::new(); g];
    for i in 0..g {
        let gpu = GpuId(i as u32);
        let node = i as u32 / per_node;
        let f = factor[i];
        let hbm = load.hbm_read[i] * f / tiers.hbm_efficiency;
        let k = b.compute("lookup (HBM)", gpu, 0.0, hbm, Dtype::Fp32);
        gpu_ops[i].push(k);
        if let Some(x) = ids {
            b.depend(x, k);
        }
        fwd_done.push(k);
        if load.fill_bytes[i] > 0.0 {
            let eff = cache.efficiency;
            let fill = b.copy(
                "cache fill (host memory)",
                MemoryTier::Host(node),
                MemoryTier::Hbm(gpu),
                load.fill_bytes[i] * f / eff,
            );
            let back = b.copy(
                "cache write-back (host memory)",
                MemoryTier::Hbm(gpu),
                MemoryTier::Host(node),
                load.writeback_bytes[i] * f / eff,
            );
            gpu_ops[i].extend([fill, back]);
            if !cache.prefetch {
                if let Some(x) = ids {
                    b.depend(x, fill);
                    b.depend(x, back);
                }
                b.depend(fill, k);
                b.depend(back, k);
            }
        }
        if load.uvm_read[i] > 0.0 {
            let c = b.copy(
                "lookup (host memory)",
                MemoryTier::Host(node),
                MemoryTier::Hbm(gpu),
                load.uvm_read[i] * f / uvm_efficiency,
            );
            if let Some(x) = ids {
                b.depend(x, c);
            }
            gpu_ops[i].push(c);
            fwd_done.push(c);
        }
    }
    let grads = if load.outputs.is_empty() {
        None
    } else {
        let o = b.exchange("output all-to-all", scaled(&load.outputs, true));
        b.depend_all(&fwd_done, o);
        let back: Vec<(u32, u32, f64)> = load.outputs.iter().map(|&(s, d, x)| (d, s, x)).collect();
        let gr = b.exchange("gradient all-to-all", scaled(&back, false));
        b.depend(o, gr);
        exchanges.extend([o, gr]);
        Some(gr)
    };
    let mut bwd_of = vec![Vec::new(); g];
    for i in 0..g {
        let gpu = GpuId(i as u32);
        let node = i as u32 / per_node;
        let f = factor[i];
        let after: Vec<OpId> = match grads {
            Some(x) => vec![x],
            None => gpu_ops[i].clone(),
        };
        let hbm = 2.0 * load.hbm_read[i] * f / tiers.hbm_efficiency;
        let k = b.compute("update (HBM)", gpu, 0.0, hbm, Dtype::Fp32);
        b.depend_all(&after, k);
        gpu_ops[i].push(k);
        bwd_of[i].push(k);
        if load.uvm_read[i] > 0.0 {
            let bytes = load.uvm_read[i] * f / uvm_efficiency;
            let r = b.copy(
                "update read (host memory)",
                MemoryTier::Host(node),
                MemoryTier::Hbm(gpu),
                bytes,
            );
            let w = b.copy(
                "update write (host memory)",
                MemoryTier::Hbm(gpu),
                MemoryTier::Host(node),
                bytes,
            );
            b.depend_all(&after, r);
            b.depend_all(&after, w);
            gpu_ops[i].extend([r, w]);
            bwd_of[i].extend([r, w]);
        }
    }
    for s in &load.syncs {
        if s.group.len() < 2 || s.bytes <= 0.0 {
            continue;
        }
        let members: Vec<GpuId> = s.group.iter().map(|&x| GpuId(x)).collect();
        let ar = b.collective(
            "replica all-reduce",
            CollectiveKind::AllReduce,
            Algorithm::Auto,
            &members,
            s.bytes,
        );
        for &m in &s.group {
            b.depend_all(&bwd_of[m as usize], ar);
        }
        syncs.push(ar);
    }
    let graph = b.build().map_err(|e| InputError::Simulation(e.to_string()))?;
    Ok(StepGraph { graph, gpu_ops, exchanges, syncs })
}
