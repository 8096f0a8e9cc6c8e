//! A real plan: stages of operators, each run by its own worker threads, joined by bounded
//! channels. A stage with several operators is fused: a worker applies them one after the
//! other to a sample, with no channel between them.

use super::error::RealError;
use super::op::{RealOp, RealPipeline};

/// Most worker threads a stage may have.
pub const MAX_WORKERS: usize = 1024;
/// Most samples a run may have (the executor keeps a few bytes per sample for its checks).
pub const MAX_SAMPLES: usize = 100_000_000;

/// One stage: operators applied in order by each of `workers` threads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RealStage {
    /// Operator names, in order.
    pub ops: Vec<String>,
    /// Worker threads.
    pub workers: usize,
}

/// A plan of a real run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RealPlan {
    /// Stages in data-flow order; the first starts with the source.
    pub stages: Vec<RealStage>,
    /// Capacity of each channel between stages (and to the consumer), in samples.
    pub channel_capacity: usize,
    /// Samples collated into one batch before the consumer (1: no batching). A batcher
    /// thread copies each batch's samples into one contiguous buffer, as PyTorch's
    /// `default_collate` stacks them.
    pub batch_size: usize,
    /// Samples to push through.
    pub samples: usize,
    /// Seed of the random operators.
    pub seed: u64,
}

/// Default channel capacity: a few samples per worker, like DataLoader's prefetch of 2.
pub const DEFAULT_CAPACITY: usize = 8;

impl RealPlan {
    /// One stage running all of `order` (fused) with `workers` threads: what a DataLoader
    /// with `workers` processes does.
    pub fn fused(order: &[String], workers: usize, samples: usize, seed: u64) -> RealPlan {
        RealPlan {
            stages: vec![RealStage { ops: order.to_vec(), workers }],
            channel_capacity: DEFAULT_CAPACITY,
            batch_size: 1,
            samples,
            seed,
        }
    }

    /// One stage per operator, each with `workers` threads (unfused).
    pub fn unfused(order: &[String], workers: usize, samples: usize, seed: u64) -> RealPlan {
        RealPlan {
            stages: order.iter().map(|op| RealStage { ops: vec![op.clone()], workers }).collect(),
            channel_capacity: DEFAULT_CAPACITY,
            batch_size: 1,
            samples,
            seed,
        }
    }

    /// Worker threads of all stages.
    pub fn threads(&self) -> usize {
        self.stages.iter().map(|s| s.workers).sum()
    }

    /// Checks the plan against `pipeline` and resolves the operator names, stage by stage.
    /// Every operator of the pipeline must appear exactly once, in an order its constraints
    /// allow (see [`RealPipeline::check_order`]).
    pub fn resolve(&self, pipeline: RealPipeline) -> Result<Vec<Vec<RealOp>>, RealError> {
        if self.stages.is_empty() {
            return Err(RealError::Plan("a plan needs at least one stage".into()));
        }
        if self.samples == 0 || self.samples > MAX_SAMPLES {
            return Err(RealError::Plan(format!(
                "samples must be between 1 and {MAX_SAMPLES} (got {})",
                self.samples
            )));
        }
        if self.channel_capacity == 0 {
            return Err(RealError::Plan("channel_capacity must be at least 1".into()));
        }
        if self.batch_size == 0 || self.batch_size > self.samples {
            return Err(RealError::Plan(format!(
                "batch_size must be between 1 and the samples, {} (got {})",
                self.samples, self.batch_size
            )));
        }
        let mut stages = Vec::with_capacity(self.stages.len());
        for (i, stage) in self.stages.iter().enumerate() {
            if stage.ops.is_empty() {
                return Err(RealError::Plan(format!("stage {i} has no operators")));
            }
            if stage.workers == 0 || stage.workers > MAX_WORKERS {
                return Err(RealError::Plan(format!(
                    "stage {i} ({}) must have 1 to {MAX_WORKERS} workers (got {})",
                    stage.ops.join("+"),
                    stage.workers
                )));
            }
            let ops =
                stage.ops.iter().map(|name| pipeline.op(name)).collect::<Result<Vec<_>, _>>()?;
            stages.push(ops);
        }
        let order: Vec<RealOp> = stages.iter().flatten().copied().collect();
        pipeline.check_order(&order)?;
        Ok(stages)
    }
}
