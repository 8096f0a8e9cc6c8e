//! TorchRec column-wise sharding: a table of dimension `d` becomes `ceil(d / block)` shards
//! of `block` columns (the last one may be narrower; modelled as equal shares), each placed
//! like a table-wise shard and serving every trainer's lookups for its columns. TorchRec's
//! planner ([`super::torchrec`]) with only `column_wise` allowed.

use super::PlanCtx;
use super::torchrec::{self, Params, Sharding};
use crate::plan::Plan;
use simcore::InputError;

/// The plan with shards of `block` columns.
pub fn plan(
    ctx: &PlanCtx<'_>,
    block: u32,
    cache_load_factor: f64,
    scale_up: bool,
) -> Result<Plan, InputError> {
    let params = Params {
        types: vec![Sharding::ColumnWise],
        column_block: block,
        cache_load_factor,
        scale_up,
    };
    torchrec::plan(ctx, &params, "column-wise")
}
