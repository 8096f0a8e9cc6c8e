//! `tf-data-service`: tf.data service. The whole pipeline runs on the remote workers with
//! AUTOTUNE (CPU budget: the remote vCPUs; RAM: half the remote memory), in the given order;
//! the trainer's client fetches finished samples over the network. The client is C++ in the
//! training process and receives tensors without Python serialisation, so no receive cost is
//! charged beyond the network (an assumption, in docs/models/datapipe.md). Without remote
//! workers (`workload.mode: local`) the service's worker runs on the training host, a
//! separate process whose samples the trainer's client copies in ([`Handoff::SharedMemory`]).

use simcore::InputError;

use crate::plan::{Plan, PlanBuilder};
use crate::resources::{Handoff, Host};
use crate::systems::Ctx;
use crate::systems::tf_data::tuned_stages;

/// Samples the client buffers (an assumption: the same 100 as cedar's prefetch buffer).
pub const CLIENT_BUFFER: u32 = 100;

/// Its plan.
pub fn plan(ctx: &Ctx<'_>) -> Result<Plan, InputError> {
    let n = ctx.pipeline.len();
    let mut b = PlanBuilder::new(ctx.pipeline, ctx.res, ctx.pipeline.given_order());
    if !(ctx.remote && ctx.res.remote_vcpus > 0) {
        let (last, predicted) = tuned_stages(&mut b, ctx, Host::Local, "local worker ");
        let bytes = b.bytes_after(n - 1);
        let out = b.buffer("client buffer", CLIENT_BUFFER, bytes);
        b.receive(bytes, Handoff::SharedMemory, last, out);
        let recv = 1.0 / ctx.res.handoff_s(Handoff::SharedMemory, bytes);
        return Ok(b.finish("tf-data-service", out, predicted.min(recv)));
    }
    let (last, predicted) = tuned_stages(&mut b, ctx, Host::Remote, "remote ");
    let bytes = b.bytes_after(n - 1);
    let out = b.buffer("client buffer", CLIENT_BUFFER, bytes);
    b.transfer("network to trainer", bytes, last, out);
    let net = ctx.res.network_bytes_per_s() / bytes;
    Ok(b.finish("tf-data-service", out, predicted.min(net)))
}
