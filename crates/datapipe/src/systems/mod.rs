//! The systems that run input pipelines, one file each. Each makes its own decisions (order,
//! parallelism, placement, fusion, buffers, cache) from what it would know in practice, and
//! returns a [`Plan`] with its own prediction of its throughput; the simulator then runs the
//! plan.

pub mod autotune;
pub mod cedar;
pub mod pecan;
pub mod ray_data;
pub mod tf_data;
pub mod tf_data_service;
pub mod torch_dataloader;
pub mod unoptimized;

use simcore::InputError;

use crate::pipeline::Pipeline;
use crate::plan::PlanBuilder;
use crate::resources::{Handoff, Host, Resources};

/// What every system sees.
#[derive(Clone, Copy, Debug)]
pub struct Ctx<'a> {
    /// The pipeline as given.
    pub pipeline: &'a Pipeline,
    /// The machines.
    pub res: &'a Resources,
    /// Whether remote workers may be used (`workload.mode: remote`).
    pub remote: bool,
    /// Epochs to run.
    pub epochs: u32,
    /// Samples per epoch.
    pub samples: u64,
}

impl Ctx<'_> {
    /// An error unless remote workers are there to use.
    pub fn require_remote(&self, system: &str) -> Result<(), InputError> {
        if !self.remote {
            return Err(InputError::at(
                "system",
                format!("{system} runs on remote workers; set workload.mode: remote"),
            ));
        }
        if self.res.remote_vcpus == 0 {
            return Err(InputError::invalid(
                "resources.remote_vcpus",
                format!("{system} needs remote workers; remote_vcpus is 0"),
            ));
        }
        Ok(())
    }
}

/// One stage per operator at positions `range` of the builder's order, with `parallelism`
/// threads each on `host`, all in process `group` (no hand-off cost between them; they share
/// its interpreter lock), each followed by a buffer of `buffers[i]` samples. Returns the last
/// buffer. The first stage reads the data set.
pub fn per_op_stages(
    b: &mut PlanBuilder<'_>,
    range: std::ops::Range<usize>,
    host: Host,
    parallelism: &[u32],
    buffers: &[u32],
    group: u32,
    prefix: &str,
) -> Option<usize> {
    let mut input = None;
    for (k, pos) in range.clone().enumerate() {
        let name = b.pipeline().ops[b_order_op(b, pos)].name.clone();
        let out = b.buffer(&format!("{prefix}after {name}"), buffers[k], b.bytes_after(pos));
        let s = b.compute(
            &format!("{prefix}{name}"),
            pos..pos + 1,
            host,
            parallelism[k],
            input,
            out,
            Handoff::InProcess,
            true,
        );
        b.set_thread_group(s, group);
        input = Some(out);
    }
    input
}

fn b_order_op(b: &PlanBuilder<'_>, pos: usize) -> usize {
    b.costs()[pos].op
}

/// Half the host's memory: tf.data AUTOTUNE's RAM budget.
pub fn ram_budget(res: &Resources, host: Host) -> f64 {
    res.memory_bytes(host) / 2.0
}
