//! TorchRec data-parallel: every table on every GPU; each GPU looks up its own samples with
//! no all-to-all, and the whole table's gradient is all-reduced every step (DDP).

use super::PlanCtx;
use super::greedy::{TableShards, Where, partition};
use crate::estimator::ShardShape;
use crate::plan::Plan;
use simcore::InputError;

/// The plan.
pub fn plan(ctx: &PlanCtx<'_>) -> Result<Plan, InputError> {
    let shape = ShardShape { replica: true, ..ShardShape::WHOLE };
    let splits = (0..ctx.tables.len())
        .map(|table| TableShards { table, shape, count: ctx.tiers.gpus, place: Where::EveryGpu })
        .collect();
    partition(ctx, splits, "data-parallel")
}
