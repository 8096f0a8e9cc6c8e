//! `pecan`: Pecan (Graur et al., ATC'24) on tf.data service. AutoOrder moves the operators
//! that shrink data earlier and those that grow it later, within the constraints (greedy: at
//! each position, of the operators allowed there, the one with the smallest output/input
//! size ratio; ties by lower cost). AutoPlacement uses the training host's CPUs as tf.data
//! workers beside the remote ones: with `workload.mode: remote` two AUTOTUNE-d copies of
//! the pipeline (local, and remote behind the network) feed the trainer; locally, one.

use crate::order::is_valid;
use crate::pipeline::Pipeline;
use crate::plan::{Plan, PlanBuilder};
use crate::resources::Host;
use crate::systems::Ctx;
use crate::systems::tf_data::tuned_stages;

/// AutoOrder's order.
pub fn auto_order(p: &Pipeline) -> Vec<usize> {
    let n = p.len();
    let mut order: Vec<usize> = Vec::with_capacity(n);
    let mut placed = vec![false; n];
    let mut bytes = 0.0;
    for k in 0..n {
        let mut best: Option<(f64, f64, usize)> = None;
        for i in 0..n {
            if placed[i] {
                continue;
            }
            let mut trial = order.clone();
            trial.push(i);
            if !prefix_ok(p, &trial, &placed, k) {
                continue;
            }
            let op = &p.ops[i];
            let key = (op.size_ratio(), op.cost_at(bytes));
            if best.is_none_or(|(r, c, _)| {
                key.0 < r - 1e-12 || ((key.0 - r).abs() <= 1e-12 && key.1 < c)
            }) {
                best = Some((key.0, key.1, i));
            }
        }
        let i = best.map_or(k, |(_, _, i)| i);
        placed[i] = true;
        bytes = p.ops[i].out_at(bytes);
        order.push(i);
    }
    if is_valid(p, &order) { order } else { p.given_order() }
}

/// Whether `trial` can start a valid order: a fixed slot takes its own operator, movable
/// operators stay in their segment, dependencies come first.
fn prefix_ok(p: &Pipeline, trial: &[usize], placed: &[bool], k: usize) -> bool {
    let i = trial[k];
    if p.ops[k].fixed || p.ops[i].fixed {
        return i == k;
    }
    let seg = |j: usize| p.ops[..=j].iter().filter(|o| o.fixed).count();
    if seg(i) != seg(k) {
        return false;
    }
    p.ops[i].depends_on.iter().all(|t| {
        p.ops.iter().position(|o| o.tag.as_deref() == Some(t.as_str())).is_none_or(|j| placed[j])
    })
}

/// Its plan.
pub fn plan(ctx: &Ctx<'_>) -> Plan {
    let p = ctx.pipeline;
    let n = p.len();
    let order = auto_order(p);
    let mut b = PlanBuilder::new(p, ctx.res, order.clone());
    let names: Vec<&str> = order.iter().map(|&i| p.ops[i].name.as_str()).collect();
    b.note(format!("AutoOrder: {}", names.join(" > ")));
    let (local_last, local_pred) = tuned_stages(&mut b, ctx, Host::Local, "local ");
    let bytes = b.bytes_after(n - 1);
    if !(ctx.remote && ctx.res.remote_vcpus > 0) {
        return b.finish("pecan", local_last, local_pred);
    }
    let (remote_last, remote_pred) = tuned_stages(&mut b, ctx, Host::Remote, "remote ");
    // Both copies feed the buffer the trainer reads: the network writes into the local
    // copy's last buffer.
    b.transfer("network to trainer", bytes, remote_last, local_last);
    let net = ctx.res.network_bytes_per_s() / bytes;
    let mut plan = b.finish("pecan", local_last, local_pred + remote_pred.min(net));
    plan.notes.push("AutoPlacement: local and remote tf.data workers both feed the trainer".into());
    plan
}
