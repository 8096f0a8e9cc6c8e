//! TorchRec data-parallel: every table on every GPU (TorchRec's `dense` kernel, in HBM); each
//! GPU looks up its own samples with no all-to-all, and the whole table's gradient is
//! all-reduced every step (DDP). TorchRec's planner ([`super::torchrec`]) with only
//! `data_parallel` allowed.

use super::PlanCtx;
use super::torchrec::{self, Params, Sharding};
use crate::plan::Plan;
use simcore::InputError;

/// The plan.
pub fn plan(ctx: &PlanCtx<'_>) -> Result<Plan, InputError> {
    let params = Params {
        types: vec![Sharding::DataParallel],
        column_block: 128,
        cache_load_factor: crate::estimator::CACHE_RATIO,
        scale_up: false,
    };
    torchrec::plan(ctx, &params, "data-parallel")
}
