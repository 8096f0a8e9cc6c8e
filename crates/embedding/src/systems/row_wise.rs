//! TorchRec row-wise sharding: every table's rows split evenly over all GPUs (by hash, so
//! each shard serves `1/G` of the lookups in expectation); pooled outputs are partial sums
//! that every shard sends to every trainer (a reduce-scatter).

use super::PlanCtx;
use super::greedy::{TableShards, Where, partition};
use crate::estimator::ShardShape;
use crate::plan::Plan;
use simcore::InputError;

/// The plan.
pub fn plan(ctx: &PlanCtx<'_>) -> Result<Plan, InputError> {
    let g = ctx.tiers.gpus;
    let shape = ShardShape {
        access_share: 1.0 / f64::from(g),
        col_share: 1.0,
        partial: true,
        replica: false,
        node_reduce: false,
    };
    let splits = (0..ctx.tables.len())
        .map(|table| TableShards { table, shape, count: g, place: Where::EveryGpu })
        .collect();
    partition(ctx, splits, "row-wise")
}
