//! TorchRec table-row-wise: each table's rows split over the GPUs of one node (chosen by the
//! greedy partitioner), so the reduce-scatter of partial sums starts on NVLink; every trainer
//! still sends ids to and receives outputs from that node.

use super::PlanCtx;
use super::greedy::{TableShards, Where, partition};
use crate::estimator::ShardShape;
use crate::plan::Plan;
use simcore::InputError;

/// The plan.
pub fn plan(ctx: &PlanCtx<'_>) -> Result<Plan, InputError> {
    let per = ctx.tiers.gpus_per_node.min(ctx.tiers.gpus);
    let shape = ShardShape {
        access_share: 1.0 / f64::from(per),
        col_share: 1.0,
        partial: true,
        replica: false,
        node_reduce: true,
    };
    let splits = (0..ctx.tables.len())
        .map(|table| TableShards { table, shape, count: per, place: Where::OneNode })
        .collect();
    partition(ctx, splits, "table-row-wise")
}
