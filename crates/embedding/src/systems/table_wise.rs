//! TorchRec table-wise sharding: every table whole on one GPU. TorchRec's planner
//! ([`super::torchrec`]) with only the `table_wise` sharding type allowed; it still chooses
//! each table's kernel (HBM, host memory, or host memory with an HBM cache) and sizes the
//! caches.

use super::PlanCtx;
use super::torchrec::{self, Params, Sharding};
use crate::plan::Plan;
use simcore::InputError;

/// The plan.
pub fn plan(ctx: &PlanCtx<'_>, cache_load_factor: f64, scale_up: bool) -> Result<Plan, InputError> {
    let params =
        Params { types: vec![Sharding::TableWise], column_block: 128, cache_load_factor, scale_up };
    torchrec::plan(ctx, &params, "table-wise")
}
