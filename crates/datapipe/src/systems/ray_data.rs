//! `ray-data`: Ray Data's streaming executor. Ray Data fuses consecutive map operators with
//! the same resources into one task (its default operator fusion), so each task (one CPU)
//! runs the whole pipeline on one sample in the given order; tasks run on every CPU of the
//! cluster (the training host's, and with `workload.mode: remote` the remote node's too,
//! whose results cross the network); finished samples wait in the object store, bounded by
//! back-pressure (`in_flight_per_task` per task), and the training process (Ray's driver)
//! reads each one from the shared-memory object store ([`Handoff::SharedMemory`]).

use serde::Deserialize;

use crate::plan::{Plan, PlanBuilder};
use crate::resources::{Handoff, Host};
use crate::systems::Ctx;

/// Its parameters.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Finished samples each task may leave in the object store before back-pressure
    /// stops it (an assumption: 2, like DataLoader's prefetch).
    pub in_flight_per_task: u32,
}

impl Default for Params {
    fn default() -> Self {
        Params { in_flight_per_task: 2 }
    }
}

/// Its plan.
pub fn plan(ctx: &Ctx<'_>, params: &Params) -> Plan {
    let p = ctx.pipeline;
    let n = p.len();
    let mut b = PlanBuilder::new(p, ctx.res, p.given_order());
    let bytes = b.bytes_after(n - 1);
    let local = ctx.res.local_vcpus;
    let remote = if ctx.remote { ctx.res.remote_vcpus } else { 0 };
    let per = params.in_flight_per_task.max(1);
    let store = b.buffer("object store", (local + remote) * per, bytes);
    b.compute(
        "fused map tasks (local)",
        0..n,
        Host::Local,
        local,
        None,
        store,
        Handoff::InProcess,
        false,
    );
    if remote > 0 {
        let sent = b.buffer("remote object store", remote * per, bytes);
        b.compute(
            "fused map tasks (remote)",
            0..n,
            Host::Remote,
            remote,
            None,
            sent,
            Handoff::InProcess,
            false,
        );
        b.transfer("network to driver", bytes, sent, store);
    }
    let out = b.buffer("output", 1, bytes);
    b.receive(bytes, Handoff::SharedMemory, store, out);
    b.note(format!("fused tasks on {local} local + {remote} remote CPUs"));
    let mut plan = b.finish("ray-data", out, 0.0);
    plan.predicted_sps = plan.bound_sps();
    plan
}
