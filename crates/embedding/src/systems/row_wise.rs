//! TorchRec row-wise sharding: every table's rows split evenly over all GPUs (by hash, so
//! each shard serves `1/G` of the lookups in expectation); pooled outputs are partial sums
//! that every shard sends to every trainer (a reduce-scatter). TorchRec's planner
//! ([`super::torchrec`]) with only `row_wise` allowed.

use super::PlanCtx;
use super::torchrec::{self, Params, Sharding};
use crate::plan::Plan;
use simcore::InputError;

/// The plan.
pub fn plan(ctx: &PlanCtx<'_>, cache_load_factor: f64, scale_up: bool) -> Result<Plan, InputError> {
    let params =
        Params { types: vec![Sharding::RowWise], column_block: 128, cache_load_factor, scale_up };
    torchrec::plan(ctx, &params, "row-wise")
}
