//! `unoptimized`: the pipeline as written, in one process, one sample at a time, in the given
//! order — cedar's baseline for its speedups. Its throughput is 1 / (sum of operator costs)
//! (or the trainer's rate if lower).

use crate::plan::Plan;
use crate::plan::PlanBuilder;
use crate::resources::{Handoff, Host};
use crate::systems::Ctx;

/// Its plan.
pub fn plan(ctx: &Ctx<'_>) -> Plan {
    let p = ctx.pipeline;
    let mut b = PlanBuilder::new(p, ctx.res, p.given_order());
    let n = p.len();
    let out = b.buffer("output", 1, b.bytes_after(n - 1));
    b.compute("pipeline", 0..n, Host::Local, 1, None, out, Handoff::InProcess, false);
    let predicted = 1.0 / p.total_cost(&p.given_order());
    b.note("one process, given order".to_string());
    b.finish("unoptimized", out, predicted)
}
