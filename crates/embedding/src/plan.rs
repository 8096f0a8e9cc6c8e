//! A sharding plan: where each slice of each table lives, in which tier, and whose lookups it
//! serves; and what one training step then moves and reads ([`StepLoad`]).
//!
//! A [`Placement`] on GPU `g` serves a share `a` of the lookups of every trainer in its scope
//! (all GPUs for a sharded table, the GPUs of its node for a per-node replica, only `g` for a
//! full replica), for a share of the table's columns. With global batch `B` over `G` trainers
//! (`b = B / G` samples each) and `lambda_j = c_j L_j` lookups per sample, per step:
//!
//! - ids: trainer `t` sends `a b lambda_j` 8-byte ids to `g` (none when `t = g`);
//! - lookups on `g`: `a b lambda_j |scope|` rows of `max(d, 32) x elem` bytes (TorchRec's
//!   lookup term), the share `hbm_hit` from HBM, the rest from host memory (UVM);
//! - outputs: pooled tables send `b d elem` bytes per trainer (the pooled vector, or a partial
//!   sum for row-wise shards: a reduce-scatter), sequence tables one row per lookup,
//!   `a b lambda_j d elem`; table-row-wise shards first reduce-scatter their partial sums
//!   inside the node and GPU `i` of the node then sends the reduced vectors to the trainers
//!   `t` with `t mod P = i` (both phases in one exchange, an approximation); gradients come
//!   back the same way;
//! - backward: TorchRec's estimator counts twice the forward lookup work (read and write the
//!   rows with the optimizer state of a fused update), in the same tiers;
//! - an HBM row cache (`fused_uvm_caching` under the `lru` miss model) serves every lookup
//!   and update from HBM and moves `cache_fills` rows per step from host memory into HBM and as
//!   many evicted rows back ([`crate::cache`]); under the `direct` model its misses are
//!   host-memory lookups like any other (`hbm_hit` below 1);
//! - replicated rows are kept equal by all-reducing their gradients over the replicas
//!   ([`Sync`]).

use crate::recd::{Scale, dedup_hit};
use crate::tables::Table;
use crate::tiers::Tiers;
use simcore::InputError;

/// Whose lookups a placement serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every trainer's.
    Global,
    /// The trainers of its node.
    Node,
    /// Only its own GPU's samples.
    Local,
}

/// A slice of a table on a GPU.
#[derive(Clone, Debug, PartialEq)]
pub struct Placement {
    /// Table index.
    pub table: usize,
    /// GPU.
    pub gpu: u32,
    /// Whose lookups it serves.
    pub scope: Scope,
    /// Share of each scope trainer's lookups of the table that it serves.
    pub access_share: f64,
    /// Share of the table's columns it holds.
    pub col_share: f64,
    /// Share of its lookups served from HBM (the rest from UVM).
    pub hbm_hit: f64,
    /// HBM bytes it occupies (rows and any cache).
    pub hbm_bytes: f64,
    /// Host bytes it occupies.
    pub uvm_bytes: f64,
    /// Pooled output is a partial sum (row-wise): every trainer gets a full-size vector.
    pub partial: bool,
    /// Partial sums are first reduce-scattered inside the node (table-row-wise): GPU `i` of
    /// the node sends the reduced vectors to the trainers `t` with `t mod P = i`.
    pub node_reduce: bool,
    /// Rows fetched per step from host memory into its HBM cache, each evicting and writing
    /// back one dirty row (0 without a cache; independent of deduplication, which leaves the
    /// distinct rows of a batch unchanged).
    pub cache_fills: f64,
}

/// An all-reduce keeping replicas equal.
#[derive(Clone, Debug, PartialEq)]
pub struct Sync {
    /// The table whose replicated rows it synchronises.
    pub table: usize,
    /// The GPUs holding a replica.
    pub group: Vec<u32>,
    /// Gradient bytes all-reduced per step.
    pub bytes: f64,
}

/// A sharding plan.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plan {
    /// Every slice.
    pub placements: Vec<Placement>,
    /// Replica synchronisation.
    pub syncs: Vec<Sync>,
}

/// Per-step work of a plan, before any per-step randomness.
#[derive(Clone, Debug, PartialEq)]
pub struct StepLoad {
    /// Per GPU: bytes gathered from HBM in the forward pass.
    pub hbm_read: Vec<f64>,
    /// Per GPU: bytes gathered from host memory in the forward pass.
    pub uvm_read: Vec<f64>,
    /// Per GPU: row lookups it serves per step.
    pub lookups: Vec<f64>,
    /// Per GPU: rows read from host memory (slow tier) per step: direct lookups and cache
    /// fills.
    pub uvm_accesses: Vec<f64>,
    /// Per GPU: bytes fetched into HBM caches per step.
    pub fill_bytes: Vec<f64>,
    /// Per GPU: bytes of evicted cache rows written back to host memory per step.
    pub writeback_bytes: Vec<f64>,
    /// Per GPU: HBM bytes used.
    pub hbm_used: Vec<f64>,
    /// Per GPU: host bytes used.
    pub uvm_used: Vec<f64>,
    /// Id traffic `(src trainer, dst owner, bytes)`.
    pub ids: Vec<(u32, u32, f64)>,
    /// Output traffic `(owner, trainer, bytes)`; gradients flow back the same way.
    pub outputs: Vec<(u32, u32, f64)>,
    /// Replica synchronisation.
    pub syncs: Vec<Sync>,
}

/// Bytes per id sent to an owner (int64 indices).
pub const ID_BYTES: f64 = 8.0;

impl Plan {
    /// Checks that every trainer's lookups of every table are served exactly once (shares
    /// sum to one per column slice) and that no tier is over capacity.
    pub fn check(&self, tables: &[Table], tiers: &Tiers) -> Result<(), InputError> {
        let g = tiers.gpus as usize;
        // served[table][trainer] = sum of access_share x col_share.
        let mut served = vec![vec![0.0f64; g]; tables.len()];
        for p in &self.placements {
            if p.table >= tables.len() || p.gpu as usize >= g {
                return Err(InputError::Simulation(format!("placement out of range: {p:?}")));
            }
            for t in scope_members(p.scope, p.gpu, tiers) {
                served[p.table][t as usize] += p.access_share * p.col_share;
            }
        }
        for (j, row) in served.iter().enumerate() {
            for (t, &s) in row.iter().enumerate() {
                if (s - 1.0).abs() > 1e-6 {
                    return Err(InputError::Simulation(format!(
                        "table {} ({}): trainer {t} has {s:.6} of its lookups served, not 1",
                        j, tables[j].spec.name
                    )));
                }
            }
        }
        // Replicated rows are all updated: the GPUs holding full replicas of a table's rows
        // (local scope) are one all-reduce group, and per-node replicas (node scope) on GPU
        // `i` of every node form a group when the job spans nodes.
        for (j, t) in tables.iter().enumerate() {
            let mut local: Vec<u32> = self
                .placements
                .iter()
                .filter(|p| p.table == j && p.scope == Scope::Local)
                .map(|p| p.gpu)
                .collect();
            local.sort_unstable();
            let covered = |gpus: &[u32]| {
                gpus.len() < 2
                    || self
                        .syncs
                        .iter()
                        .any(|s| s.table == j && gpus.iter().all(|x| s.group.contains(x)))
            };
            if !covered(&local) {
                return Err(InputError::Simulation(format!(
                    "table {j} ({}): replicas on GPUs {local:?} are not kept equal by an all-reduce",
                    t.spec.name
                )));
            }
            if tiers.nodes() > 1 {
                for i in 0..tiers.gpus_per_node {
                    let group: Vec<u32> = self
                        .placements
                        .iter()
                        .filter(|p| {
                            p.table == j
                                && p.scope == Scope::Node
                                && p.gpu % tiers.gpus_per_node == i
                        })
                        .map(|p| p.gpu)
                        .collect();
                    if !covered(&group) {
                        return Err(InputError::Simulation(format!(
                            "table {j} ({}): per-node replicas on GPUs {group:?} are not kept equal",
                            t.spec.name
                        )));
                    }
                }
            }
        }
        let (hbm, uvm) = self.memory(g);
        for gpu in 0..g {
            if hbm[gpu] > tiers.hbm_capacity * (1.0 + 1e-9) + 1.0 {
                return Err(InputError::Simulation(format!(
                    "GPU {gpu} holds {:.3e} B in HBM over its {:.3e} B",
                    hbm[gpu], tiers.hbm_capacity
                )));
            }
            if uvm[gpu] > tiers.uvm_capacity * (1.0 + 1e-9) + 1.0 {
                return Err(InputError::Simulation(format!(
                    "GPU {gpu} holds {:.3e} B in host memory over its {:.3e} B",
                    uvm[gpu], tiers.uvm_capacity
                )));
            }
        }
        Ok(())
    }

    /// Per GPU: (HBM bytes, host bytes) used.
    pub fn memory(&self, gpus: usize) -> (Vec<f64>, Vec<f64>) {
        let mut hbm = vec![0.0; gpus];
        let mut uvm = vec![0.0; gpus];
        for p in &self.placements {
            hbm[p.gpu as usize] += p.hbm_bytes;
            uvm[p.gpu as usize] += p.uvm_bytes;
        }
        (hbm, uvm)
    }

    /// The step's work with global batch `batch`; `scales[j]` = (lookup scale, pooled output
    /// scale) of table `j`: the share of its lookups and pooled outputs left after
    /// deduplication (`(1, 1)` without it, see [`crate::recd`]).
    pub fn load(
        &self,
        tables: &[Table],
        tiers: &Tiers,
        batch: f64,
        elem: u32,
        scales: &[Scale],
    ) -> StepLoad {
        let g = tiers.gpus as usize;
        let b = batch / g as f64;
        let (hbm_used, uvm_used) = self.memory(g);
        let mut load = StepLoad {
            hbm_read: vec![0.0; g],
            uvm_read: vec![0.0; g],
            lookups: vec![0.0; g],
            uvm_accesses: vec![0.0; g],
            fill_bytes: vec![0.0; g],
            writeback_bytes: vec![0.0; g],
            hbm_used,
            uvm_used,
            ids: Vec::new(),
            outputs: Vec::new(),
            syncs: self.syncs.clone(),
        };
        let mut ids = vec![0.0; g * g];
        let mut outs = vec![0.0; g * g];
        let e = f64::from(elem);
        for p in &self.placements {
            let t = &tables[p.table];
            let sc = scales.get(p.table).copied().unwrap_or_default();
            let lambda = t.spec.lookups_per_sample() * sc.lookups;
            let hit = if sc.lookups < 1.0 {
                dedup_hit(&t.popularity, p.hbm_hit, sc.draws)
            } else {
                p.hbm_hit
            };
            let members = scope_members(p.scope, p.gpu, tiers);
            let per_trainer = p.access_share * b * lambda;
            let lookups = per_trainer * members.len() as f64;
            let d = f64::from(t.spec.dim) * p.col_share;
            let row = d.max(32.0) * e;
            let gpu = p.gpu as usize;
            load.hbm_read[gpu] += lookups * hit * row;
            load.uvm_read[gpu] += lookups * (1.0 - hit) * row;
            load.uvm_accesses[gpu] += lookups * (1.0 - hit) + p.cache_fills;
            load.lookups[gpu] += lookups;
            // A fill moves the shard's whole row (its columns), as does the write-back.
            load.fill_bytes[gpu] += p.cache_fills * d * e;
            load.writeback_bytes[gpu] += p.cache_fills * d * e;
            let out_bytes = if t.spec.sequence {
                per_trainer * d * e
            } else {
                // A pooled vector per sample (whole or partial); deduplicated samples share one.
                b * sc.outputs * d * e
            };
            let per_node = tiers.gpus_per_node.max(1);
            let node_reduce = p.node_reduce && p.partial && !t.spec.sequence;
            for m in members {
                if m == p.gpu {
                    continue;
                }
                ids[m as usize * g + gpu] += per_trainer * ID_BYTES;
                if !node_reduce {
                    outs[gpu * g + m as usize] += out_bytes;
                } else if m % per_node == p.gpu % per_node {
                    // The reduced vectors for the trainers this GPU serves.
                    outs[gpu * g + m as usize] += out_bytes;
                }
                if node_reduce && tiers.node_of(m) == tiers.node_of(p.gpu) {
                    // Reduce-scatter: this shard's partial sums for the trainers node peer `m`
                    // serves.
                    let served = (0..tiers.gpus).filter(|t| t % per_node == m % per_node).count();
                    outs[gpu * g + m as usize] += served as f64 * out_bytes;
                }
            }
        }
        for s in 0..g {
            for d in 0..g {
                if ids[s * g + d] > 0.0 {
                    load.ids.push((s as u32, d as u32, ids[s * g + d]));
                }
                if outs[s * g + d] > 0.0 {
                    load.outputs.push((s as u32, d as u32, outs[s * g + d]));
                }
            }
        }
        load
    }
}

/// The trainers a placement on `gpu` serves.
pub fn scope_members(scope: Scope, gpu: u32, tiers: &Tiers) -> Vec<u32> {
    match scope {
        Scope::Global => (0..tiers.gpus).collect(),
        Scope::Node => {
            let n = tiers.node_of(gpu);
            (n * tiers.gpus_per_node..((n + 1) * tiers.gpus_per_node).min(tiers.gpus)).collect()
        }
        Scope::Local => vec![gpu],
    }
}

impl StepLoad {
    /// Bytes moved between host memory and HBM per step: direct lookups from host memory and
    /// their updates (read and written again), cache fills and write-backs.
    pub fn host_bytes(&self) -> f64 {
        self.uvm_read.iter().map(|b| 3.0 * b).sum::<f64>()
            + self.fill_bytes.iter().sum::<f64>()
            + self.writeback_bytes.iter().sum::<f64>()
    }

    /// Bytes of `traffic` that cross nodes and that stay inside one.
    pub fn split_by_node(traffic: &[(u32, u32, f64)], tiers: &Tiers) -> (f64, f64) {
        let mut global = 0.0;
        let mut intra = 0.0;
        for &(s, d, b) in traffic {
            if tiers.node_of(s) == tiers.node_of(d) {
                intra += b;
            } else {
                global += b;
            }
        }
        (global, intra)
    }
}
