//! TorchRec's `EmbeddingEnumerator` (`torchrec/distributed/planner/enumerators.py`): every
//! table's sharding options, one per sharding type and compute kernel, with their shards'
//! storage and the estimator's perf.
//!
//! Sharding types (`EmbeddingBagCollectionSharder.sharding_types` on CUDA, table-column-wise
//! left out): data-parallel, table-wise, column-wise, row-wise, table-row-wise; sequence
//! tables (TorchRec's `EmbeddingCollectionSharder`) are not offered table-row-wise. Kernels
//! (`compute_kernels`): `fused`, `fused_uvm`, `fused_uvm_caching`, and `dense` for
//! data-parallel. Storage (`calculate_shard_storages`): a `fused` or `dense` shard in HBM, a
//! `fused_uvm` shard in host memory, a `fused_uvm_caching` shard in host memory plus
//! `load_factor` of its bytes in HBM (TorchRec also counts input and output buffers and the
//! cache's index state, a few percent; left out here as for every other system). Column-wise
//! options whose table fits in one block duplicate table-wise and are not offered twice.

use std::sync::Arc;

use crate::cache::MissCurve;
use crate::estimator::{CacheTerms, Kernel, ShardShape, shard_perf};
use crate::systems::PlanCtx;

use super::Sharding;

/// One way to shard one table: `count` equal shards of one kind.
#[derive(Clone, Debug, PartialEq)]
pub struct ShardingOption {
    /// Table index.
    pub table: usize,
    /// Sharding type.
    pub sharding: Sharding,
    /// Compute kernel.
    pub kernel: Kernel,
    /// Cache load factor (`fused_uvm_caching` only, else 0).
    pub load_factor: f64,
    /// Number of shards.
    pub count: u32,
    /// The shards' shape.
    pub shape: ShardShape,
    /// HBM bytes of one shard.
    pub hbm: f64,
    /// Host bytes of one shard.
    pub ddr: f64,
    /// Estimated perf of one shard, seconds per step.
    pub perf: f64,
    /// Rows one shard fetches into its cache per step (`fused_uvm_caching` only).
    pub fetches: f64,
    /// Per-shard hit rate of single references (`fused_uvm_caching` only, else 1 or 0).
    pub hit_rate: f64,
    /// Identity of the option for the proposal cache.
    pub key: u64,
}

impl ShardingOption {
    /// HBM bytes of all shards.
    pub fn total_hbm(&self) -> f64 {
        self.hbm * f64::from(self.count)
    }

    /// Host bytes of all shards.
    pub fn total_ddr(&self) -> f64 {
        self.ddr * f64::from(self.count)
    }

    /// TorchRec's `_sharding_option_score`: the largest shard perf (`use_depth`) or the sum.
    pub fn score(&self, use_depth: bool) -> f64 {
        if use_depth { self.perf } else { self.perf * f64::from(self.count) }
    }

    /// Whether its shards are placed one per GPU (`partition_by = uniform`).
    pub fn uniform(&self) -> bool {
        matches!(self.sharding, Sharding::RowWise | Sharding::DataParallel)
    }
}

/// Builds sharding options for the tables of a planning context.
pub struct Enumerator<'a> {
    ctx: &'a PlanCtx<'a>,
    column_block: u32,
    curves: Vec<Option<Arc<MissCurve>>>,
}

/// SplitMix64 finaliser: well-mixed option keys.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl<'a> Enumerator<'a> {
    /// An enumerator with column-wise blocks of `column_block` columns.
    pub fn new(ctx: &'a PlanCtx<'a>, column_block: u32) -> Enumerator<'a> {
        Enumerator { ctx, column_block: column_block.max(1), curves: vec![None; ctx.tables.len()] }
    }

    /// The context.
    pub fn ctx(&self) -> &PlanCtx<'a> {
        self.ctx
    }

    /// The miss-ratio curve of table `j` with a whole global batch (memoised).
    pub fn curve(&mut self, j: usize) -> Arc<MissCurve> {
        if let Some(c) = &self.curves[j] {
            return Arc::clone(c);
        }
        let t = &self.ctx.tables[j];
        let lookups = self.ctx.batch * t.spec.lookups_per_sample();
        let c = MissCurve::shared(&t.popularity, t.spec.rows, lookups);
        self.curves[j] = Some(Arc::clone(&c));
        c
    }

    /// Shards and shape of table `j` under `sharding`.
    pub fn shape(&self, j: usize, sharding: Sharding) -> (ShardShape, u32) {
        let tiers = self.ctx.tiers;
        let g = tiers.gpus;
        match sharding {
            Sharding::TableWise => (ShardShape::WHOLE, 1),
            Sharding::ColumnWise => {
                let count = self.ctx.tables[j].spec.dim.div_ceil(self.column_block).max(1);
                (ShardShape { col_share: 1.0 / f64::from(count), ..ShardShape::WHOLE }, count)
            }
            Sharding::RowWise => (
                ShardShape { access_share: 1.0 / f64::from(g), partial: true, ..ShardShape::WHOLE },
                g,
            ),
            Sharding::TableRowWise => {
                let p = tiers.gpus_per_node.min(g).max(1);
                (
                    ShardShape {
                        access_share: 1.0 / f64::from(p),
                        partial: true,
                        node_reduce: true,
                        ..ShardShape::WHOLE
                    },
                    p,
                )
            }
            Sharding::DataParallel => (ShardShape { replica: true, ..ShardShape::WHOLE }, g),
        }
    }

    /// The option of table `j` with `sharding`, `kernel` and cache load factor `load_factor`.
    pub fn option(
        &mut self,
        j: usize,
        sharding: Sharding,
        kernel: Kernel,
        load_factor: f64,
    ) -> ShardingOption {
        let (shape, count) = self.shape(j, sharding);
        let t = &self.ctx.tables[j];
        let rows_share = if shape.replica { 1.0 } else { shape.access_share };
        let bytes = t.bytes() * rows_share * shape.col_share;
        let lf = if kernel == Kernel::FusedUvmCaching { load_factor.clamp(0.0, 1.0) } else { 0.0 };
        let (hbm, ddr) = match kernel {
            Kernel::Fused | Kernel::Dense => (bytes, 0.0),
            Kernel::FusedUvm => (0.0, bytes),
            Kernel::FusedUvmCaching => (lf * bytes, bytes),
        };
        let (fetches, hit_rate) = match kernel {
            Kernel::FusedUvmCaching => {
                // Row shards see the table's characteristic time: 1/s of its fetches.
                let s = self.curve(j).at_load_factor(lf);
                (s.fetches * rows_share, s.hit_rate)
            }
            Kernel::FusedUvm => (0.0, 0.0),
            Kernel::Fused | Kernel::Dense => (0.0, 1.0),
        };
        let t = &self.ctx.tables[j];
        let perf =
            shard_perf(t, shape, kernel, CacheTerms { load_factor: lf, fetches }, &self.ctx.hw);
        let key =
            mix(mix((j as u64) ^ ((sharding as u64) << 40) ^ ((kernel as u64) << 48))
                ^ lf.to_bits());
        ShardingOption {
            table: j,
            sharding,
            kernel,
            load_factor: lf,
            count,
            shape,
            hbm,
            ddr,
            perf,
            fetches,
            hit_rate,
            key,
        }
    }

    /// Every option of table `j` with a sharding type among `types`, in TorchRec's order
    /// (sharding type, then kernel), caches at `load_factor`.
    pub fn options(
        &mut self,
        j: usize,
        types: &[Sharding],
        load_factor: f64,
    ) -> Vec<ShardingOption> {
        let sequence = self.ctx.tables[j].spec.sequence;
        let mut out = Vec::new();
        for &s in types {
            if types.len() > 1 {
                if s == Sharding::TableRowWise && sequence {
                    continue;
                }
                if s == Sharding::ColumnWise
                    && types.contains(&Sharding::TableWise)
                    && self.shape(j, s).1 == 1
                {
                    continue;
                }
            }
            let kernels: &[Kernel] = if s == Sharding::DataParallel {
                &[Kernel::Dense]
            } else {
                &[Kernel::Fused, Kernel::FusedUvm, Kernel::FusedUvmCaching]
            };
            for &k in kernels {
                out.push(self.option(j, s, k, load_factor));
            }
        }
        out
    }
}
