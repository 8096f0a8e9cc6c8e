//! The sharding systems, one file each: TorchRec's baselines (table-wise, row-wise,
//! column-wise, data-parallel, table-row-wise, all through its greedy partitioner and perf
//! estimator), RecShard and FlexShard. RecD deduplication is a switch on any of them (`crate::recd`).

pub mod column_wise;
pub mod data_parallel;
pub mod flexshard;
pub mod greedy;
pub mod recshard;
pub mod row_wise;
pub mod table_row_wise;
pub mod table_wise;

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
}

/// The plan of `spec`.
pub fn plan(spec: &SystemSpec, ctx: &PlanCtx<'_>) -> Result<Plan, InputError> {
    match *spec {
        SystemSpec::TableWise { .. } => table_wise::plan(ctx),
        SystemSpec::RowWise { .. } => row_wise::plan(ctx),
        SystemSpec::ColumnWise { column_block, .. } => column_wise::plan(ctx, column_block),
        SystemSpec::DataParallel { .. } => data_parallel::plan(ctx),
        SystemSpec::TableRowWise { .. } => table_row_wise::plan(ctx),
        SystemSpec::Flexshard { .. } => flexshard::plan(ctx),
        SystemSpec::Recshard { rounds, .. } => recshard::plan(ctx, rounds),
    }
}
