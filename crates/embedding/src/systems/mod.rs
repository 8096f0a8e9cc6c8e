//! The sharding systems, one file each: TorchRec's planner ([`torchrec`]: per table, every
//! sharding type and kernel, its proposers, partitioner and cache scale-up) and its
//! single-type variants (table-wise, row-wise, column-wise, data-parallel, table-row-wise),
//! RecShard and FlexShard. RecD deduplication is a switch on any of them (`crate::recd`).

pub mod column_wise;
pub mod data_parallel;
pub mod flexshard;
pub mod recshard;
pub mod row_wise;
pub mod table_row_wise;
pub mod table_wise;
pub mod torchrec;

use crate::config::SystemSpec;
use crate::estimator::EstimatorHw;
use crate::plan::Plan;
use crate::tables::Table;
use crate::tiers::Tiers;
use simcore::InputError;

/// What a planner sees.
#[derive(Clone, Copy, Debug)]
pub struct PlanCtx<'a> {
    /// The tables.
    pub tables: &'a [Table],
    /// The GPUs' tiers.
    pub tiers: &'a Tiers,
    /// The estimator's hardware view.
    pub hw: EstimatorHw,
    /// Global batch.
    pub batch: f64,
    /// Bytes per element.
    pub elem: u32,
    /// Per table, what deduplication leaves.
    pub scales: &'a [crate::recd::Scale],
    /// How the simulated step pays for cache misses.
    pub cache: crate::config::CacheSpec,
}

/// The plan of `spec`.
pub fn plan(spec: &SystemSpec, ctx: &PlanCtx<'_>) -> Result<Plan, InputError> {
    match *spec {
        SystemSpec::Torchrec { column_block, cache_load_factor, scale_up, .. } => {
            let params = torchrec::Params {
                types: torchrec::Sharding::ALL.to_vec(),
                column_block,
                cache_load_factor,
                scale_up,
            };
            torchrec::plan(ctx, &params, "torchrec")
        }
        SystemSpec::TableWise { cache_load_factor, scale_up, .. } => {
            table_wise::plan(ctx, cache_load_factor, scale_up)
        }
        SystemSpec::RowWise { cache_load_factor, scale_up, .. } => {
            row_wise::plan(ctx, cache_load_factor, scale_up)
        }
        SystemSpec::ColumnWise { column_block, cache_load_factor, scale_up, .. } => {
            column_wise::plan(ctx, column_block, cache_load_factor, scale_up)
        }
        SystemSpec::DataParallel { .. } => data_parallel::plan(ctx),
        SystemSpec::TableRowWise { cache_load_factor, scale_up, .. } => {
            table_row_wise::plan(ctx, cache_load_factor, scale_up)
        }
        SystemSpec::Flexshard { .. } => flexshard::plan(ctx),
        SystemSpec::Recshard { rounds, .. } => recshard::plan(ctx, rounds),
    }
}
