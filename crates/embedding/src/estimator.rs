//! TorchRec's shard performance estimator (torchrec/distributed/planner/shard_estimators.py),
//! the cost function of the baseline planners. Per shard, with `inputs` lookups and `outputs`
//! output rows per step, `d` the shard's dimension and `e` bytes per element:
//!
//! ```text
//! input_read  = inputs x 8                      (int64 ids)
//! lookup      = inputs x max(d, 32) x e
//! fwd_out     = outputs x d x e
//! fwd_comms   = fwd_out / comms_bw              (cross-node bandwidth if the job spans nodes)
//! fwd_compute = (input_read + lookup + fwd_out) x penalty / kernel_bw
//! bwd_compute = 2 x fwd_compute, bwd_comms = fwd_comms
//! perf        = fwd_compute + fwd_comms + bwd_compute + bwd_comms
//! ```
//!
//! `penalty` is 1.15 for `64 <= d < 128` and 1.75 for `d < 64` (smaller rows use the memory
//! system worse). Kernel bandwidths (`constants.py`, `kernel_bw_lookup`): `fused` (shard in
//! HBM) the HBM bandwidth; `dense` (data-parallel replicas) half of it; `fused_uvm` (shard in
//! host memory) the host-to-GPU bandwidth over 10; `fused_uvm_caching` (host memory with an HBM
//! cache of a share `r` of the rows, the cache load factor) `(r HBM + (1 - r) host) / 10`, or
//! the HBM bandwidth when the prefetch pipeline is on. A caching shard adds TorchRec's
//! `prefetch_compute = expected_cache_fetches x d x e / host bandwidth` to its perf
//! (`_get_expected_cache_prefetch_time`), with the fetches of [`crate::cache`] (divided by the
//! shards of a row-wise or table-row-wise table, as TorchRec does).
//! Table-wise and column-wise shards serve every trainer: `inputs = lambda b G`, `outputs =
//! b G` (pooled) or `inputs` (sequence); a row-wise shard of `k` serves `1/k` of the
//! lookups but still outputs `b G` partial sums; a data-parallel replica serves its own
//! `b` samples and all-reduces the table's gradient, `2 (G - 1) / G x table bytes /
//! comms_bw`, in the backward pass. (TorchRec's newer estimator adds smaller per-type terms:
//! no block penalty and `d` instead of `max(d, 32)` for row-wise lookups, a batched copy in the
//! row-wise backward; they are left out here.)

use crate::tables::Table;
use crate::tiers::Tiers;

/// TorchRec's compute kernels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kernel {
    /// The shard in HBM.
    Fused,
    /// The shard in host memory with an HBM cache of a share of its rows.
    FusedUvmCaching,
    /// The shard in host memory.
    FusedUvm,
    /// A data-parallel replica in HBM (TorchRec's `dense` kernel).
    Dense,
}

impl Kernel {
    /// TorchRec's name of the kernel.
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Fused => "fused",
            Kernel::FusedUvmCaching => "fused_uvm_caching",
            Kernel::FusedUvm => "fused_uvm",
            Kernel::Dense => "dense",
        }
    }
}

/// TorchRec's default cache load factor of `fused_uvm_caching` (`UVM_CACHING_RATIO`,
/// `constants.py`): the share of a table's rows its HBM cache holds.
pub const CACHE_RATIO: f64 = 0.2;

/// The cache of a `fused_uvm_caching` shard as the estimator sees it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CacheTerms {
    /// Cache load factor: share of the shard's rows in the cache.
    pub load_factor: f64,
    /// Rows the shard fetches into its cache per step (TorchRec's expected cache fetches).
    pub fetches: f64,
}
/// TorchRec's backward-to-forward compute ratio.
pub const BWD_MULTIPLIER: f64 = 2.0;

/// What a shard is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ShardShape {
    /// Share of the table's lookups it serves.
    pub access_share: f64,
    /// Share of the table's columns.
    pub col_share: f64,
    /// Pooled outputs are partial sums (row-wise).
    pub partial: bool,
    /// A data-parallel replica (serves only its own samples).
    pub replica: bool,
    /// Partial sums reduce-scattered inside the node first (table-row-wise).
    pub node_reduce: bool,
}

impl ShardShape {
    /// A whole table in one shard serving every trainer (table-wise).
    pub const WHOLE: ShardShape = ShardShape {
        access_share: 1.0,
        col_share: 1.0,
        partial: false,
        replica: false,
        node_reduce: false,
    };
}

/// The estimator's view of the hardware.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EstimatorHw {
    /// HBM bandwidth, bytes/s.
    pub hbm_bw: f64,
    /// Host-to-GPU bandwidth, bytes/s (before TorchRec's /10).
    pub ddr_bw: f64,
    /// Bandwidth of the output all-to-all, bytes/s.
    pub comms_bw: f64,
    /// GPU-to-GPU bandwidth inside a node, bytes/s.
    pub intra_bw: f64,
    /// GPUs per node.
    pub gpus_per_node: u32,
    /// Trainers.
    pub world: u32,
    /// Samples per trainer and step.
    pub batch_per_rank: f64,
    /// Bytes per element.
    pub elem: u32,
    /// Cache fetches overlap the previous batch (TorchRec's prefetch pipeline).
    pub prefetch: bool,
}

impl EstimatorHw {
    /// From the tiers: host bandwidth is the PCIe route (TorchRec applies its own /10).
    pub fn new(
        tiers: &Tiers,
        uvm_efficiency: f64,
        batch: f64,
        elem: u32,
        prefetch: bool,
    ) -> EstimatorHw {
        let multi_node = tiers.gpus > tiers.gpus_per_node;
        EstimatorHw {
            hbm_bw: tiers.hbm_bw,
            ddr_bw: tiers.uvm_bw / uvm_efficiency,
            comms_bw: if multi_node { tiers.inter_bw } else { tiers.intra_bw },
            intra_bw: tiers.intra_bw,
            gpus_per_node: tiers.gpus_per_node,
            world: tiers.gpus,
            batch_per_rank: batch / f64::from(tiers.gpus.max(1)),
            elem,
            prefetch,
        }
    }

    /// TorchRec's kernel bandwidth (`kernel_bw_lookup`) with cache load factor `r`.
    pub fn kernel_bw(&self, kernel: Kernel, r: f64) -> f64 {
        match kernel {
            Kernel::Fused => self.hbm_bw,
            Kernel::Dense => 0.5 * self.hbm_bw,
            Kernel::FusedUvm => self.ddr_bw / 10.0,
            Kernel::FusedUvmCaching if self.prefetch => self.hbm_bw,
            Kernel::FusedUvmCaching => (r * self.hbm_bw + (1.0 - r) * self.ddr_bw) / 10.0,
        }
    }
}

/// TorchRec's perf (seconds per step) of one shard; `cache` matters for `fused_uvm_caching`
/// only.
pub fn shard_perf(
    table: &Table,
    shape: ShardShape,
    kernel: Kernel,
    cache: CacheTerms,
    hw: &EstimatorHw,
) -> f64 {
    let e = f64::from(hw.elem);
    let g = f64::from(hw.world);
    let b = hw.batch_per_rank;
    let lambda = table.spec.lookups_per_sample();
    let d = f64::from(table.spec.dim) * shape.col_share;
    let (inputs, outputs) = if shape.replica {
        (lambda * b, if table.spec.sequence { lambda * b } else { b })
    } else {
        let inputs = lambda * b * g * shape.access_share;
        (inputs, if table.spec.sequence { inputs } else { b * g })
    };
    let penalty = if d < 64.0 {
        1.75
    } else if d < 128.0 {
        1.15
    } else {
        1.0
    };
    let input_read = inputs * 8.0;
    let lookup = inputs * d.max(32.0) * e;
    let fwd_out = outputs * d * e;
    let fwd_compute =
        (input_read + lookup + fwd_out) * penalty / hw.kernel_bw(kernel, cache.load_factor);
    let bwd_compute = BWD_MULTIPLIER * fwd_compute;
    let (fwd_comms, bwd_comms) = if shape.replica {
        let bytes = table.spec.rows as f64 * d * e;
        (0.0, 2.0 * (g - 1.0) / g * bytes / hw.comms_bw)
    } else if shape.node_reduce && !table.spec.sequence {
        // Reduce-scatter of the partial sums over NVLink, then 1/P of them across nodes.
        let p = f64::from(hw.gpus_per_node.max(1));
        let c = fwd_out * (p - 1.0) / p / hw.intra_bw + fwd_out / p / hw.comms_bw;
        (c, c)
    } else {
        let c = fwd_out / hw.comms_bw;
        (c, c)
    };
    let prefetch =
        if kernel == Kernel::FusedUvmCaching { cache.fetches * d * e / hw.ddr_bw } else { 0.0 };
    fwd_compute + fwd_comms + bwd_compute + bwd_comms + prefetch
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tables::{TableSpec, derive};

    #[test]
    fn reproduces_a_hand_computed_table_wise_shard() {
        // TorchRec's defaults: HBM 897 GiB/s, DDR 51 GiB/s... the kernel here is fused, so
        // only HBM and the cross-node 12.5 GiB/s matter. A table of d = 64 (penalty 1.15),
        // pooling 10, 8 ranks of 512 samples, fp32.
        let spec = TableSpec {
            name: "t".into(),
            rows: 1_000_000,
            dim: 64,
            distinct_values: None,
            coverage: 1.0,
            pooling: 10.0,
            sequence: false,
            alpha: None,
            session_level: None,
        };
        let t = &derive(&[spec], 1.0, 4, false)[0];
        let gib = 1024.0f64.powi(3);
        let hw = EstimatorHw {
            hbm_bw: 897.0 * gib,
            ddr_bw: 51.0 * gib,
            comms_bw: 12.5 * gib,
            intra_bw: 600.0 * gib,
            gpus_per_node: 8,
            world: 8,
            batch_per_rank: 512.0,
            elem: 4,
            prefetch: false,
        };
        let shape = ShardShape::WHOLE;
        // inputs = 10 x 512 x 8 = 40,960; outputs = 4,096.
        let input_read = 40_960.0 * 8.0;
        let lookup = 40_960.0 * 64.0 * 4.0;
        let fwd_out = 4_096.0 * 64.0 * 4.0;
        let fwd_compute = (input_read + lookup + fwd_out) * 1.15 / (897.0 * gib);
        let fwd_comms = fwd_out / (12.5 * gib);
        let want = 3.0 * fwd_compute + 2.0 * fwd_comms;
        let none = CacheTerms::default();
        let got = shard_perf(t, shape, Kernel::Fused, none, &hw);
        assert!((got - want).abs() < 1e-15, "{got} vs {want}");
        // UVM is slower than caching is slower than HBM.
        let uvm = shard_perf(t, shape, Kernel::FusedUvm, none, &hw);
        let terms = CacheTerms { load_factor: CACHE_RATIO, fetches: 1_000.0 };
        let cache = shard_perf(t, shape, Kernel::FusedUvmCaching, terms, &hw);
        assert!(uvm > cache && cache > got);
        // Caching: the blended bandwidth (0.2 x 897 + 0.8 x 51) / 10 GiB/s, plus the prefetch
        // of 1,000 rows of 256 B at 51 GiB/s.
        let blended = (0.2 * 897.0 + 0.8 * 51.0) / 10.0 * gib;
        let want = 3.0 * (input_read + lookup + fwd_out) * 1.15 / blended
            + 2.0 * fwd_comms
            + 1_000.0 * 256.0 / (51.0 * gib);
        assert!((cache - want).abs() < 1e-12 * want, "{cache} vs {want}");
        // With the prefetch pipeline the lookups run at HBM speed; the prefetch stays.
        let piped = EstimatorHw { prefetch: true, ..hw };
        let cache = shard_perf(t, shape, Kernel::FusedUvmCaching, terms, &piped);
        assert!((cache - got - 1_000.0 * 256.0 / (51.0 * gib)).abs() < 1e-12, "{cache}");
    }
}
