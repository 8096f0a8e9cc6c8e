//! A plan given stage by stage (operator names and workers per stage), as the real executor
//! runs it, turned into a simulated plan: every stage's workers are threads of one process on
//! the training host (no hand-off cost, no interpreter lock: the real operators are Rust),
//! joined by buffers of the channels' capacity, a batcher copying each sample into its batch
//! when batching, the consumer as fast as possible. This is how
//! the simulator predicts a real run (`mlsim datapipe run` without `--real`).

use simcore::InputError;

use crate::pipeline::Pipeline;
use crate::plan::{Plan, PlanBuilder};
use crate::resources::{Handoff, Host, Resources};

/// One stage: operator names in order, and its worker threads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StageSpec {
    /// Operator names (as the profile names them).
    pub ops: Vec<String>,
    /// Worker threads.
    pub workers: u32,
}

/// The simulated plan of `stages` over `p`'s operators, with buffers of `capacity` samples;
/// with `batch_size` > 1 a batcher thread copies every sample once into its batch.
pub fn plan_from_stages(
    p: &Pipeline,
    stages: &[StageSpec],
    capacity: u32,
    batch_size: u32,
    res: &Resources,
) -> Result<Plan, InputError> {
    let mut order = Vec::new();
    for s in stages {
        if s.workers == 0 {
            return Err(InputError::at("workers", "a stage needs at least one worker"));
        }
        for name in &s.ops {
            let i = p.ops.iter().position(|o| &o.name == name).ok_or_else(|| {
                let names: Vec<&str> = p.ops.iter().map(|o| o.name.as_str()).collect();
                InputError::at(
                    "order",
                    format!("the profile has no operator `{name}`; it has: {}", names.join(", ")),
                )
            })?;
            if order.contains(&i) {
                return Err(InputError::at("order", format!("`{name}` appears twice")));
            }
            order.push(i);
        }
    }
    if order.len() != p.ops.len() {
        return Err(InputError::at(
            "order",
            format!("the plan runs {} of the profile's {} operators", order.len(), p.ops.len()),
        ));
    }
    if !crate::order::is_valid(p, &order) {
        return Err(InputError::at("order", "the order breaks the profile's constraints"));
    }
    let mut b = PlanBuilder::new(p, res, order);
    let mut input = None;
    let mut pos = 0;
    for (k, s) in stages.iter().enumerate() {
        let out_bytes = b.bytes_after(pos + s.ops.len() - 1);
        let out = b.buffer(&format!("channel {k}"), capacity.max(1), out_bytes);
        let st = b.compute(
            &s.ops.join("+"),
            pos..pos + s.ops.len(),
            Host::Local,
            s.workers,
            input,
            out,
            Handoff::InProcess,
            false,
        );
        b.set_thread_group(st, 0);
        input = Some(out);
        pos += s.ops.len();
    }
    let mut out = input.unwrap_or(0);
    if batch_size > 1 {
        let bytes = b.bytes_after(pos - 1);
        let batches = b.buffer("batches", capacity.max(1) * batch_size, bytes);
        b.collate(bytes, out, batches);
        out = batches;
    }
    let mut plan = b.finish("real-plan", out, 0.0);
    plan.predicted_sps = plan.bound_sps();
    Ok(plan)
}
