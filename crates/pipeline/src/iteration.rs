//! Consecutive training iterations of `D` pipelines as one task graph.
//!
//! GPU `d * p + s` runs stage `s` of pipeline `d` (a pipeline's stages are neighbours, so on a
//! DGX they share NVLink; the data-parallel peers of a stage are `p` GPUs apart). On every GPU
//! the schedule's passes run in its order (each pass depends on the previous one: the order is
//! the schedule's, not whatever becomes ready first). Across stages: stage `s`'s F of a
//! micro-batch sends its activations to stage `s + 1`, whose F waits for them; stage `s + 1`'s B
//! sends the input gradient back, and stage `s`'s B waits for it; W follows its B (in GPipe and
//! 1F1B, B and W are one backward pass, so the gradient leaves after W). After its
//! last pass, every stage all-reduces its weight gradients with the same stage of the other
//! pipelines (16-bit), then steps its optimizer (a memory-bound kernel over its parameters).
//!
//! Between iterations: with **synchronous** steps every GPU waits until every stage has
//! stepped (Megatron's global gradient-norm clipping makes this a barrier); with
//! **staggered** steps a stage starts its next iteration as soon as its own step is done (the
//! ZB paper's post-validation; SlipStream's staggered optimizer step). Building two or more
//! iterations lets the steady-state period be measured, which is what staggering changes.

use cluster::{Algorithm, CollectiveKind, Dtype, GpuId};
use simcore::SimTime;
use taskgraph::{Execution, OpId, TaskGraph, TaskGraphBuilder};

use crate::error::PipelineError;
use crate::schedule::{Pass, Schedule};

/// The work of one stage per micro-batch, and what it holds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StageWork {
    /// FLOPs of F for one micro-batch.
    pub f_flops: f64,
    /// FLOPs of B.
    pub b_flops: f64,
    /// FLOPs of W.
    pub w_flops: f64,
    /// Bytes each pass reads besides its FLOPs (the stage's 16-bit weights).
    pub pass_bytes: f64,
    /// Parameters of the stage.
    pub params: f64,
}

/// What to build.
#[derive(Clone, Debug)]
pub struct IterationSpec<'a> {
    /// The per-stage order.
    pub schedule: &'a Schedule,
    /// Data-parallel pipelines D.
    pub pipelines: u32,
    /// Work per stage (`p` entries).
    pub stages: &'a [StageWork],
    /// Bytes of one micro-batch's activations between stages; 0 makes the hand-offs free (no
    /// send ops).
    pub boundary_bytes: f64,
    /// Number format of the passes.
    pub dtype: Dtype,
    /// Gradient bytes per parameter in the data-parallel all-reduce.
    pub grad_bytes_per_param: f64,
    /// Memory traffic of the optimizer step per parameter; 0 leaves the step out.
    pub optimizer_bytes_per_param: f64,
    /// Staggered (true) or synchronous (false) optimizer steps.
    pub staggered: bool,
    /// Iterations to build (at least 2 to measure a steady-state period).
    pub iterations: u32,
}

/// The built graph and the ops needed to read results from its execution.
#[derive(Debug)]
pub struct IterationGraph {
    /// The task graph.
    pub graph: TaskGraph,
    /// Per iteration, per GPU (`d * p + s`): its passes in schedule order.
    pub passes: Vec<Vec<Vec<(Pass, u32, OpId)>>>,
    /// Per iteration, per GPU: the op after which its weights are updated for the next
    /// iteration (its optimizer step, or its last pass when the step is left out).
    pub stepped: Vec<Vec<OpId>>,
    /// Per iteration, per stage: the data-parallel all-reduce (`None` with one pipeline).
    pub all_reduce: Vec<Vec<Option<OpId>>>,
}

/// The GPU running stage `s` of pipeline `d` with `p` stages.
pub fn gpu_of(d: u32, s: u32, p: u32) -> GpuId {
    GpuId(d * p + s)
}

/// Builds the graph.
pub fn build(spec: &IterationSpec<'_>) -> Result<IterationGraph, PipelineError> {
    let sched = spec.schedule;
    let (p, m, dp) = (sched.stages, sched.micro_batches, spec.pipelines);
    if spec.stages.len() != p as usize {
        return Err(PipelineError::Simulation(format!(
            "{} stage costs for {p} stages",
            spec.stages.len()
        )));
    }
    let gpus = (p * dp) as usize;
    let fused = sched.kind.fused_backward();
    let mut g = TaskGraphBuilder::new();
    let mut passes: Vec<Vec<Vec<(Pass, u32, OpId)>>> = Vec::new();
    let mut stepped: Vec<Vec<OpId>> = Vec::new();
    let mut all_reduce: Vec<Vec<Option<OpId>>> = Vec::new();
    // The op each GPU's next pass must follow (program order across iterations).
    let mut after: Vec<Option<OpId>> = vec![None; gpus];
    for _ in 0..spec.iterations.max(1) {
        // Index of every pass: [gpu][pass][micro].
        let mut at =
            vec![
                [vec![None::<OpId>; m as usize], vec![None; m as usize], vec![None; m as usize]];
                gpus
            ];
        let mut iter_passes = vec![Vec::with_capacity(3 * m as usize); gpus];
        for d in 0..dp {
            for s in 0..p {
                let gi = gpu_of(d, s, p);
                let w = &spec.stages[s as usize];
                let mut prev = after[gi.0 as usize];
                for step in &sched.order[s as usize] {
                    let (name, flops) = match step.pass {
                        Pass::F => ("F", w.f_flops),
                        Pass::B => ("B", w.b_flops),
                        Pass::W => ("W", w.w_flops),
                    };
                    let op = g.compute(name, gi, flops, w.pass_bytes, spec.dtype);
                    if let Some(q) = prev {
                        g.depend(q, op);
                    }
                    prev = Some(op);
                    at[gi.0 as usize][pass_index(step.pass)][step.micro as usize] = Some(op);
                    iter_passes[gi.0 as usize].push((step.pass, step.micro, op));
                }
            }
        }
        // Hand-offs between stages, and W after its B.
        for d in 0..dp {
            for s in 0..p {
                let here = gpu_of(d, s, p);
                let hi = here.0 as usize;
                for j in 0..m as usize {
                    let (f, b, w) =
                        (op_at(&at, hi, 0, j)?, op_at(&at, hi, 1, j)?, op_at(&at, hi, 2, j)?);
                    g.depend(f, b);
                    g.depend(b, w);
                    if s + 1 < p {
                        let next = gpu_of(d, s + 1, p);
                        let ni = next.0 as usize;
                        let f_next = op_at(&at, ni, 0, j)?;
                        // The end of the next stage's backward for this micro-batch.
                        let b_next = op_at(&at, ni, if fused { 2 } else { 1 }, j)?;
                        if spec.boundary_bytes > 0.0 {
                            let act = g.send("send activations", here, next, spec.boundary_bytes);
                            g.depend(f, act);
                            g.depend(act, f_next);
                            let grad = g.send("send gradients", next, here, spec.boundary_bytes);
                            g.depend(b_next, grad);
                            g.depend(grad, b);
                        } else {
                            g.depend(f, f_next);
                            g.depend(b_next, b);
                        }
                    }
                }
            }
        }
        // Gradient all-reduce and optimizer step per stage.
        let mut iter_stepped = vec![OpId(0); gpus];
        let mut iter_ar = vec![None; p as usize];
        for s in 0..p {
            let members: Vec<GpuId> = (0..dp).map(|d| gpu_of(d, s, p)).collect();
            let last: Vec<OpId> = members
                .iter()
                .map(|gi| iter_passes[gi.0 as usize].last().map(|x| x.2))
                .collect::<Option<_>>()
                .ok_or_else(|| PipelineError::Simulation("a stage without passes".into()))?;
            let w = &spec.stages[s as usize];
            let ar = if dp > 1 {
                let op = g.collective(
                    "gradient all-reduce",
                    CollectiveKind::AllReduce,
                    Algorithm::Auto,
                    &members,
                    spec.grad_bytes_per_param * w.params,
                );
                g.depend_all(&last, op);
                iter_ar[s as usize] = Some(op);
                Some(op)
            } else {
                None
            };
            for (k, gi) in members.iter().enumerate() {
                let done = if spec.optimizer_bytes_per_param > 0.0 {
                    let step = g.compute(
                        "optimizer step",
                        *gi,
                        0.0,
                        spec.optimizer_bytes_per_param * w.params,
                        spec.dtype,
                    );
                    g.depend(last[k], step);
                    if let Some(a) = ar {
                        g.depend(a, step);
                    }
                    step
                } else {
                    match ar {
                        // The update cannot come before the all-reduce: a zero-length marker.
                        Some(a) => {
                            let mark = g.delay("weights updated", SimTime::ZERO);
                            g.depend(a, mark);
                            g.depend(last[k], mark);
                            mark
                        }
                        None => last[k],
                    }
                };
                iter_stepped[gi.0 as usize] = done;
            }
        }
        if spec.staggered {
            for (i, a) in after.iter_mut().enumerate() {
                *a = Some(iter_stepped[i]);
            }
        } else {
            let barrier = g.delay("iteration barrier", SimTime::ZERO);
            g.depend_all(&iter_stepped, barrier);
            after = vec![Some(barrier); gpus];
        }
        passes.push(iter_passes);
        stepped.push(iter_stepped);
        all_reduce.push(iter_ar);
    }
    let graph = g.build().map_err(|e| PipelineError::Simulation(e.to_string()))?;
    Ok(IterationGraph { graph, passes, stepped, all_reduce })
}

fn pass_index(p: Pass) -> usize {
    match p {
        Pass::F => 0,
        Pass::B => 1,
        Pass::W => 2,
    }
}

fn op_at(
    at: &[[Vec<Option<OpId>>; 3]],
    gpu: usize,
    pass: usize,
    j: usize,
) -> Result<OpId, PipelineError> {
    at[gpu][pass][j].ok_or_else(|| {
        PipelineError::Simulation(format!("schedule misses a pass of micro-batch {j}"))
    })
}

/// Timing of an executed [`IterationGraph`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct IterationTiming {
    /// Steady-state time per iteration: the last iteration's end minus the one before (the
    /// whole makespan with one iteration).
    pub period: SimTime,
    /// Mean over GPUs of the time its F, B and W passes took in the last iteration.
    pub busy: SimTime,
    /// `1 - busy / period`.
    pub bubble_frac: f64,
}

impl IterationGraph {
    /// Reads the timing from an execution of this graph.
    pub fn timing(&self, run: &Execution) -> IterationTiming {
        let end_of = |k: usize| -> SimTime {
            self.stepped[k].iter().map(|&op| run.end(op)).max().unwrap_or(SimTime::ZERO)
        };
        let n = self.stepped.len();
        let period = if n >= 2 { end_of(n - 1) - end_of(n - 2) } else { end_of(0) };
        let last = &self.passes[n - 1];
        let total: u64 = last
            .iter()
            .map(|gpu| gpu.iter().map(|&(_, _, op)| run.duration(op).as_nanos()).sum::<u64>())
            .sum();
        let busy = SimTime::from_nanos(total / last.len().max(1) as u64);
        let bubble_frac = if period > SimTime::ZERO {
            1.0 - busy.as_secs_f64() / period.as_secs_f64()
        } else {
            0.0
        };
        IterationTiming { period, busy, bubble_frac }
    }
}
