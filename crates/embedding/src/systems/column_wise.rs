//! TorchRec column-wise sharding: a table of dimension `d` becomes `ceil(d / block)` shards
//! of `block` columns (the last one may be narrower; modelled as equal shares), each placed
//! by the greedy partitioner and serving every trainer's lookups for its columns.

use super::PlanCtx;
use super::greedy::{TableShards, Where, partition};
use crate::estimator::ShardShape;
use crate::plan::Plan;
use simcore::InputError;

/// The plan with shards of `block` columns.
pub fn plan(ctx: &PlanCtx<'_>, block: u32) -> Result<Plan, InputError> {
    if block == 0 {
        return Err(InputError::Invalid {
            field: "params.column_block".into(),
            message: "must be at least 1".into(),
        });
    }
    let splits = ctx
        .tables
        .iter()
        .enumerate()
        .map(|(table, t)| {
            let count = t.spec.dim.div_ceil(block).max(1);
            let shape = ShardShape {
                access_share: 1.0,
                col_share: 1.0 / f64::from(count),
                partial: false,
                replica: false,
                node_reduce: false,
            };
            TableShards { table, shape, count, place: Where::Any }
        })
        .collect();
    partition(ctx, splits, "column-wise")
}
