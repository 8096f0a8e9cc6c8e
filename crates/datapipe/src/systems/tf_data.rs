//! `tf-data`: tf.data with AUTOTUNE in the training process. Every operator is a parallel
//! map (threads of one process: no serialisation between them or to the trainer), in the
//! given order; AUTOTUNE ([`super::autotune`]) picks each one's parallelism and buffer under
//! a CPU budget of the host's vCPUs and a RAM budget of half its memory.

use crate::plan::{Plan, PlanBuilder};
use crate::resources::Host;
use crate::systems::{Ctx, autotune, per_op_stages, ram_budget};

/// Adds the AUTOTUNE-d per-operator stages of the builder's order on `host`; returns the
/// last buffer and AUTOTUNE's modelled throughput.
pub fn tuned_stages(
    b: &mut PlanBuilder<'_>,
    ctx: &Ctx<'_>,
    host: Host,
    prefix: &str,
) -> (usize, f64) {
    let n = ctx.pipeline.len();
    let cost: Vec<f64> = b.costs().iter().map(|c| c.cost_s).collect();
    let bytes: Vec<f64> = b.costs().iter().map(|c| c.out_bytes).collect();
    let consumer = ctx.res.consumer_sps.map_or(0.0, |c| 1.0 / c);
    let t = autotune::tune(&cost, &bytes, ctx.res.vcpus(host), ram_budget(ctx.res, host), consumer);
    let group = if host == Host::Local { 0 } else { 1 };
    let last = per_op_stages(b, 0..n, host, &t.parallelism, &t.buffers, group, prefix);
    b.note(format!("{prefix}AUTOTUNE parallelism {:?}, buffers {:?}", t.parallelism, t.buffers));
    (last.unwrap_or(0), 1.0 / t.output_time_s)
}

/// Its plan.
pub fn plan(ctx: &Ctx<'_>) -> Plan {
    let mut b = PlanBuilder::new(ctx.pipeline, ctx.res, ctx.pipeline.given_order());
    let (out, predicted) = tuned_stages(&mut b, ctx, Host::Local, "");
    b.finish("tf-data", out, predicted)
}
