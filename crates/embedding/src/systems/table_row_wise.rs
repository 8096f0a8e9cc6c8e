//! TorchRec table-row-wise: each table's rows split over the GPUs of one node (chosen by the
//! partitioner), so the reduce-scatter of partial sums starts on NVLink; every trainer still
//! sends ids to and receives outputs from that node. TorchRec's planner
//! ([`super::torchrec`]) with only `table_row_wise` allowed.

use super::PlanCtx;
use super::torchrec::{self, Params, Sharding};
use crate::plan::Plan;
use simcore::InputError;

/// The plan.
pub fn plan(ctx: &PlanCtx<'_>, cache_load_factor: f64, scale_up: bool) -> Result<Plan, InputError> {
    let params = Params {
        types: vec![Sharding::TableRowWise],
        column_block: 128,
        cache_load_factor,
        scale_up,
    };
    torchrec::plan(ctx, &params, "table-row-wise")
}
