//! `torch-dataloader`: PyTorch's DataLoader. `num_workers` processes each run the whole
//! pipeline on their own samples in the given order; each keeps up to `prefetch_factor`
//! batches ready (PyTorch's default 2); the training process receives every sample from them
//! through shared memory (PyTorch moves worker tensors there; [`Handoff::SharedMemory`]). With 0
//! workers the pipeline runs inside the training process. cedar's setup: 8 workers on the
//! 8-vCPU host.

use serde::Deserialize;

use crate::plan::{Plan, PlanBuilder};
use crate::resources::{Handoff, Host};
use crate::systems::Ctx;

/// Its parameters.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Worker processes (default: the host's vCPUs, as in cedar's setup).
    pub num_workers: Option<u32>,
    /// Batches each worker keeps ready (PyTorch's default: 2).
    pub prefetch_factor: u32,
    /// Samples per batch (cedar's runs: 1).
    pub batch_size: u32,
}

impl Default for Params {
    fn default() -> Self {
        Params { num_workers: None, prefetch_factor: 2, batch_size: 1 }
    }
}

/// Its plan.
pub fn plan(ctx: &Ctx<'_>, params: &Params) -> Plan {
    let p = ctx.pipeline;
    let n = p.len();
    let workers = params.num_workers.unwrap_or(ctx.res.local_vcpus);
    let mut b = PlanBuilder::new(p, ctx.res, p.given_order());
    let bytes = b.bytes_after(n - 1);
    if workers == 0 {
        let out = b.buffer("output", 1, bytes);
        b.compute(
            "pipeline (in the training process)",
            0..n,
            Host::Local,
            1,
            None,
            out,
            Handoff::InProcess,
            false,
        );
        let predicted = 1.0 / p.total_cost(&p.given_order());
        b.note("num_workers 0: the training process runs the pipeline".into());
        return b.finish("torch-dataloader", out, predicted);
    }
    let ready = b.buffer(
        "worker queues",
        workers * params.prefetch_factor.max(1) * params.batch_size.max(1),
        bytes,
    );
    b.compute("workers", 0..n, Host::Local, workers, None, ready, Handoff::InProcess, false);
    let out = b.buffer("output", params.batch_size.max(1), bytes);
    b.receive(bytes, Handoff::SharedMemory, ready, out);
    b.note(format!(
        "{workers} worker processes, prefetch_factor {}, batch {}",
        params.prefetch_factor, params.batch_size
    ));
    let mut plan = b.finish("torch-dataloader", out, 0.0);
    plan.predicted_sps = plan.bound_sps();
    plan
}
