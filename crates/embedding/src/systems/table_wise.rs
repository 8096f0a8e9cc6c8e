//! TorchRec table-wise sharding: every table whole on one GPU, placed by the greedy
//! partitioner; the owner serves every trainer's lookups of the table.

use super::PlanCtx;
use super::greedy::{TableShards, Where, partition};
use crate::estimator::ShardShape;
use crate::plan::Plan;
use simcore::InputError;

/// The plan.
pub fn plan(ctx: &PlanCtx<'_>) -> Result<Plan, InputError> {
    let shape = ShardShape::WHOLE;
    let splits = (0..ctx.tables.len())
        .map(|table| TableShards { table, shape, count: 1, place: Where::Any })
        .collect();
    partition(ctx, splits, "table-wise")
}
