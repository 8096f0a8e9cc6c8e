//! Consecutive training iterations of a pipeline job as one task graph.
//!
//! A [`Program`] says which GPU runs which pass of which micro-batch of which stage of which
//! pipeline, in what order, and which GPUs synchronise which gradients. The healthy job
//! ([`Program::healthy`]) puts stage `s` of pipeline `d` on GPU `d * p + s` (a pipeline's
//! stages are neighbours, so on a DGX they share NVLink; the data-parallel peers of a stage are
//! `p` GPUs apart) in the schedule's order; failure policies move or add passes (SlipStream
//! re-routes a failed GPU's passes to its peers, Bamboo's backup runs two stages, Oobleck
//! rebuilds shorter pipelines).
//!
//! The graph: on every GPU its passes in program order (each depends on the previous one).
//! In traces, passes on a GPU's second lane are tagged `moved` and redundant ones
//! `redundant`, so a Gantt chart shows where a policy put the work of a failed GPU.
//! Across stages, by micro-batch: F of stage `s` sends its activations to wherever F of stage
//! `s + 1` runs, which waits for them; B of stage `s + 1` sends the input gradient back and B
//! of stage `s` waits for it (in GPipe and 1F1B, B and W are one backward pass, so the gradient
//! leaves after W); W follows its B. No send when both run on one GPU. After every W of a
//! stage, wherever it ran, the stage's gradient is all-reduced over its sync group (16-bit),
//! then every member steps its optimizer (a memory-bound kernel over its parameters). A GPU in
//! several groups (Oobleck's layer-wise pieces, Bamboo's takeovers) takes part in their
//! all-reduces one at a time (a rank issues its collectives one after another), in the best
//! order a runtime can pick, [`issue_order`]: groups that share no GPU run together.
//!
//! Between iterations: with **synchronous** steps every GPU waits until every stage has
//! stepped (Megatron's global gradient-norm clipping makes this a barrier); with
//! **staggered** steps a GPU starts its next iteration as soon as its own steps are done (the
//! ZB paper's post-validation, which SlipStream's staggered optimizer step builds on). Which
//! one is a workload setting, the same for every policy. Building two or more
//! iterations lets the steady-state period be measured, which is what staggering changes.

use std::collections::{HashMap, HashSet};

use cluster::{Algorithm, CollectiveKind, Dtype, GpuId};
use models::MemoryBound;
use simcore::SimTime;
use simcore::fast_hash::FastMap;
use taskgraph::{ChainId, ChainStep, Execution, OpId, OpKind, TaskGraph, TaskGraphBuilder};

use crate::config::DpReduce;
use crate::schedule::{Pass, Schedule, Step};
use crate::stages::{Segment, TpPlan};
use simcore::InputError;

/// (pipeline, stage, pass, micro-batch).
type TaskKey = (u32, u32, Pass, u32);
/// Where a task ran: its GPU, first op and last op (or an error naming a missing task).
type Lookup<'a> = &'a dyn Fn(u32, u32, Pass, u32) -> Result<(GpuId, OpId, OpId), InputError>;
/// Gradient buckets: bytes and the ops each waits for.
type Buckets = Vec<(f64, Vec<OpId>)>;

/// The work of one stage per micro-batch, and what it holds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StageWork {
    /// FLOPs of F for one micro-batch.
    pub f_flops: f64,
    /// FLOPs of B.
    pub b_flops: f64,
    /// FLOPs of W.
    pub w_flops: f64,
    /// Bytes each pass reads besides its FLOPs (the stage's 16-bit weights).
    pub pass_bytes: f64,
    /// Parameters of the stage (per GPU).
    pub params: f64,
    /// With tensor parallelism, how F and B are cut by the TP collectives; `None` runs each
    /// pass as one kernel.
    pub tp: Option<TpPlan>,
    /// Memory-bound kernels of F (per GPU), run after its matrix multiplications.
    pub f_mem: MemoryBound,
    /// Memory-bound kernels of B (backward and recomputation), run after its matrix
    /// multiplications. W has none.
    pub b_mem: MemoryBound,
}

impl StageWork {
    fn flops(&self, pass: Pass) -> f64 {
        match pass {
            Pass::F => self.f_flops,
            Pass::B => self.b_flops,
            Pass::W => self.w_flops,
        }
    }

    /// The memory-bound kernels of `pass`.
    pub fn memory_bound(&self, pass: Pass) -> MemoryBound {
        match pass {
            Pass::F => self.f_mem,
            Pass::B => self.b_mem,
            Pass::W => MemoryBound::default(),
        }
    }
}

/// One pipeline of the job.
#[derive(Clone, Debug, PartialEq)]
pub struct PipelineDesc {
    /// Work per stage (its length is the pipeline's stage count).
    pub work: Vec<StageWork>,
    /// Micro-batches per iteration.
    pub micro_batches: u32,
}

/// A pass of a micro-batch of a stage of a pipeline, run on some GPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Task {
    /// Pipeline.
    pub pipeline: u32,
    /// Stage within the pipeline.
    pub stage: u32,
    /// Pass.
    pub pass: Pass,
    /// Micro-batch.
    pub micro: u32,
    /// Redundant work nothing depends on (Bamboo's redundant forward of its neighbour).
    pub redundant: bool,
}

impl Task {
    /// A (non-redundant) task of stage `stage` (the step's chunk is not looked at: with
    /// interleaving the caller passes the virtual stage).
    pub fn new(pipeline: u32, stage: u32, step: Step) -> Task {
        Task { pipeline, stage, pass: step.pass, micro: step.micro, redundant: false }
    }
}

/// Gradient synchronisation of one group of stage replicas.
#[derive(Clone, Debug, PartialEq)]
pub struct SyncGroup {
    /// GPUs that all-reduce and then step (each once).
    pub members: Vec<GpuId>,
    /// Parameters synchronised and stepped.
    pub params: f64,
    /// The (pipeline, stage) pairs whose W's must all be done first.
    pub stages: Vec<(u32, u32)>,
}

/// Who runs what, in which order, and who synchronises what.
#[derive(Clone, Debug, PartialEq)]
pub struct Program {
    /// The pipelines.
    pub pipelines: Vec<PipelineDesc>,
    /// Per GPU, its tasks in order. A GPU may appear more than once: each entry is a lane
    /// whose tasks run in order, and the lanes of one GPU share its compute stream, so their
    /// tasks interleave in the order they become ready (a runtime that runs whatever is
    /// ready, as Bamboo's backup does with its two stages).
    pub gpus: Vec<(GpuId, Vec<Task>)>,
    /// Gradient synchronisation groups. A GPU in several groups takes part in their
    /// all-reduces one at a time and steps them in the same order, [`issue_order`].
    pub sync: Vec<SyncGroup>,
    /// Whether B and W are one backward pass (GPipe, 1F1B).
    pub fused_backward: bool,
}

/// The GPU running stage `s` of pipeline `d` with `p` stages in the healthy job.
pub fn gpu_of(d: u32, s: u32, p: u32) -> GpuId {
    GpuId(d * p + s)
}

impl Program {
    /// `pipelines` copies of the schedule with the same work per stage, stage `s` of pipeline
    /// `d` on GPU `d * p + s`, stage `s` synchronised over its `D` replicas.
    ///
    /// With an interleaved schedule (`v = schedule.chunks > 1`) `work` has one entry per
    /// virtual stage (`p v`): chunk `c` of GPU `s` runs virtual stage `c p + s`, so the
    /// pipeline's stages are the virtual stages and consecutive ones sit on consecutive GPUs,
    /// the last GPU handing on to the first. GPU `s` synchronises its `v` chunks as one group.
    pub fn healthy(schedule: &Schedule, pipelines: u32, work: &[StageWork]) -> Program {
        let p = schedule.stages;
        let v = schedule.chunks.max(1);
        let desc = PipelineDesc { work: work.to_vec(), micro_batches: schedule.micro_batches };
        let gpus = (0..pipelines)
            .flat_map(|d| {
                (0..p).map(move |s| {
                    let tasks = schedule.order[s as usize]
                        .iter()
                        .map(|&st| Task::new(d, st.chunk * p + s, st));
                    (gpu_of(d, s, p), tasks.collect())
                })
            })
            .collect();
        let sync = (0..p)
            .map(|s| SyncGroup {
                members: (0..pipelines).map(|d| gpu_of(d, s, p)).collect(),
                params: (0..v)
                    .map(|c| work.get((c * p + s) as usize).map_or(0.0, |w| w.params))
                    .sum(),
                stages: (0..v).flat_map(|c| (0..pipelines).map(move |d| (d, c * p + s))).collect(),
            })
            .collect();
        Program {
            pipelines: vec![desc; pipelines as usize],
            gpus,
            sync,
            fused_backward: schedule.kind.fused_backward(),
        }
    }

    /// The program of pipeline 0 alone: its lanes, its stages in the sync groups, every
    /// group's members unchanged (the other pipelines' GPUs then only take part in the
    /// data-parallel collectives; build it with [`BuildOptions::ghost_members`]). For a
    /// program whose pipeline-0 tasks run on lanes of their own, as the healthy job's do.
    pub fn first_pipeline(&self) -> Program {
        Program {
            pipelines: self.pipelines.iter().take(1).cloned().collect(),
            gpus: self
                .gpus
                .iter()
                .filter(|(_, tasks)| tasks.iter().all(|t| t.pipeline == 0))
                .cloned()
                .collect(),
            sync: self
                .sync
                .iter()
                .map(|k| SyncGroup {
                    members: k.members.clone(),
                    params: k.params,
                    stages: k.stages.iter().copied().filter(|x| x.0 == 0).collect(),
                })
                .collect(),
            fused_backward: self.fused_backward,
        }
    }

    /// The GPU that runs `task` (the first, for tasks run twice).
    pub fn gpu_running(&self, task: &Task) -> Option<GpuId> {
        self.gpus.iter().find(|(_, t)| t.contains(task)).map(|(g, _)| *g)
    }
}

/// The order in which every GPU issues its all-reduces: colour by colour of a greedy colouring
/// of `sync` in program order (a group takes the smallest colour that no earlier group sharing
/// a GPU with it has), program order within a colour. Groups of one colour share no GPU and
/// run at the same time; a staircase of groups (each sharing GPUs with the next, as Oobleck's
/// pieces with a shorter pipeline) takes two rounds instead of one chain. One global order, so
/// no two GPUs wait on each other in opposite orders.
pub fn issue_order(sync: &[SyncGroup]) -> Vec<usize> {
    let mut colours: Vec<usize> = Vec::with_capacity(sync.len());
    for (k, group) in sync.iter().enumerate() {
        let taken: Vec<usize> = (0..k)
            .filter(|&j| sync[j].members.iter().any(|m| group.members.contains(m)))
            .map(|j| colours[j])
            .collect();
        colours.push((0..).find(|c| !taken.contains(c)).unwrap_or(0));
    }
    let mut order: Vec<usize> = (0..sync.len()).collect();
    order.sort_by_key(|&k| colours[k]);
    order
}

/// How to build the graph.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BuildOptions {
    /// Bytes of one micro-batch's activations between stages; 0 makes hand-offs free.
    pub boundary_bytes: f64,
    /// Number format of the passes.
    pub dtype: Dtype,
    /// Gradient bytes per parameter in the all-reduce.
    pub grad_bytes_per_param: f64,
    /// Optimizer memory traffic per parameter; 0 leaves the step out.
    pub optimizer_bytes_per_param: f64,
    /// Staggered (true) or synchronous (false) optimizer steps.
    pub staggered: bool,
    /// Iterations to build (at least 2 to measure a steady-state period).
    pub iterations: u32,
    /// Tensor-parallel degree t: program GPU `k` (a stage replica) is the TP group of GPUs
    /// `k t .. k t + t - 1`; its kernels run on GPU `k t` (the group's GPUs run the same
    /// kernels at the same time), its TP collectives over the group, its sends between the
    /// groups' first GPUs, its gradient all-reduce as `t` concurrent all-reduces (one per TP
    /// rank). 1: program GPUs are GPUs.
    pub tp: u32,
    /// All-reduce of the gradients, or the distributed optimizer: reduce-scatter of the
    /// gradients, each member steps `1 / members` of the parameters, all-gather of the
    /// updated 16-bit weights (nccl-tests sizes: the full buffer for both).
    pub dp_reduce: DpReduce,
    /// Reduce the gradients bucket by bucket, each as soon as the last W of the layers it
    /// covers is done (the stage's last micro-batch's W is cut into one kernel per bucket).
    pub overlap_grad_reduce: bool,
    /// Bytes per gradient bucket (with `overlap_grad_reduce`).
    pub grad_bucket_bytes: f64,
    /// The fixed time of one memory-bound kernel as HBM bytes at the memory-bound rate (see
    /// [`memory_kernel_bytes`]). A pass's memory-bound kernels run as one op of their bytes
    /// plus this for every kernel after the first, so the op takes exactly the time of the
    /// kernels one after another. 0 charges one fixed time per pass.
    pub memory_kernel_bytes: f64,
    /// Sync-group members that run no task take part in the group's data-parallel collectives
    /// only (no optimizer step of theirs is built): the replicas left out of a simulation of
    /// one pipeline ([`crate::config::Replicas::One`]). False: such a member is an error.
    pub ghost_members: bool,
    /// With tensor parallelism, build each pass (its kernels and TP collectives) as one chain
    /// op ([`taskgraph::OpKind::Chain`]) instead of one op per kernel and collective: the
    /// same timing wherever nothing else needs the pass's streams and links meanwhile, which
    /// the execution checks ([`Execution::chain_conflict`]); several times fewer ops. The
    /// last W of a stage cut into gradient buckets stays separate ops.
    pub fuse_passes: bool,
}

/// The fixed time of one memory-bound kernel expressed as bytes: the cluster's compute model
/// times a kernel of `B` bytes and no FLOPs as `L + (m_fix - L) + B / (m_max x HBM bandwidth)`
/// (`docs/models/cluster.md` §2), so each kernel costs `max(L, m_fix)` besides its bytes, the
/// time of `max(L, m_fix) x m_max x HBM bandwidth` bytes.
pub fn memory_kernel_bytes(compute: &cluster::ComputeModel) -> f64 {
    let gpu = compute.gpu();
    let fixed = compute.launch_overhead().max(gpu.memory_access.fixed_time);
    fixed.as_secs_f64() * gpu.memory_access.max_efficiency * gpu.memory_bandwidth.0
}

/// Bytes of the one op that stands for the memory-bound kernels `mem` (see
/// [`BuildOptions::memory_kernel_bytes`]).
pub fn memory_op_bytes(mem: MemoryBound, memory_kernel_bytes: f64) -> f64 {
    mem.bytes + f64::from(mem.kernels.saturating_sub(1)) * memory_kernel_bytes
}

impl Default for BuildOptions {
    /// The run's defaults: free hand-offs, bf16, 16-bit gradients, a 28-byte optimizer step,
    /// synchronous steps, 2 iterations, no tensor parallelism, all-reduce without overlap,
    /// 25 MiB buckets, one fixed time per pass's memory-bound op.
    fn default() -> Self {
        BuildOptions {
            boundary_bytes: 0.0,
            dtype: Dtype::Bf16,
            grad_bytes_per_param: 2.0,
            optimizer_bytes_per_param: 28.0,
            staggered: false,
            iterations: 2,
            tp: 1,
            dp_reduce: DpReduce::AllReduce,
            overlap_grad_reduce: false,
            grad_bucket_bytes: crate::config::DEFAULT_GRAD_BUCKET_BYTES as f64,
            memory_kernel_bytes: 0.0,
            ghost_members: false,
            fuse_passes: false,
        }
    }
}

/// How a pipeline job's graph runs: in network mode `network`, with one communication stream
/// per group on every GPU (its TP group, its data-parallel groups) and the sends between
/// stages on a stream of their own. This is how Megatron-LM runs on PyTorch: every process
/// group (tensor-, pipeline-, data-parallel) is its own NCCL communicator, and PyTorch's NCCL
/// backend gives each communicator its own CUDA stream, so a stage's activation send does not
/// queue behind its TP all-reduces, nor a gradient bucket's all-reduce behind either.
pub fn exec_config(network: taskgraph::NetworkMode) -> taskgraph::ExecConfig {
    taskgraph::ExecConfig {
        network,
        comm_streams: 0,
        own_send_stream: true,
        ..taskgraph::ExecConfig::default()
    }
}

/// Bytes per parameter of the weights the distributed optimizer all-gathers (16-bit).
pub const WEIGHT_BYTES_PER_PARAM: f64 = 2.0;

/// The built graph and the ops needed to read results from its execution.
#[derive(Debug)]
pub struct IterationGraph {
    /// The task graph.
    pub graph: TaskGraph,
    /// Per iteration, per program GPU (in [`Program::gpus`] order): its tasks and their ops.
    pub tasks: Vec<Vec<Vec<(Task, OpId)>>>,
    /// Per iteration, per program GPU: the op after which it may start the next iteration
    /// (its last optimizer step, or its last task when steps are left out).
    pub stepped: Vec<Vec<OpId>>,
    /// Per iteration, per sync group: the all-reduce (`None` for single-member groups).
    pub all_reduce: Vec<Vec<Option<OpId>>>,
    /// Per iteration, per sync group: each member's optimizer step (or update marker).
    pub steps: Vec<Vec<Vec<OpId>>>,
    /// The GPU of each program lane (in [`Program::gpus`] order).
    pub lane_gpus: Vec<GpuId>,
    /// Per iteration, per program GPU, per task: its kernels (one, or with tensor parallelism
    /// the pieces between its TP collectives).
    pub kernels: Vec<Vec<Vec<Vec<OpId>>>>,
    /// Per iteration: every TP collective, in build order.
    pub tp_collectives: Vec<Vec<OpId>>,
    /// Per iteration, per program GPU: its TP collectives.
    pub tp_by_lane: Vec<Vec<Vec<OpId>>>,
    /// Per iteration: every data-parallel collective (all-reduce, reduce-scatter, all-gather;
    /// one per bucket and TP rank) with the program GPUs it involves.
    pub dp_ops: Vec<Vec<(OpId, Vec<GpuId>)>>,
    /// Per iteration: every optimizer step with its program GPU.
    pub optimizer_ops: Vec<Vec<(GpuId, OpId)>>,
}

/// Builds `opts.iterations` iterations of `program`.
pub fn build(program: &Program, opts: &BuildOptions) -> Result<IterationGraph, InputError> {
    let sim_err = |m: String| InputError::Simulation(m);
    let mut g = TaskGraphBuilder::new();
    let n = program.gpus.len();
    let mut out = IterationGraph {
        graph: TaskGraphBuilder::new().build().map_err(|e| sim_err(e.to_string()))?,
        tasks: Vec::new(),
        stepped: Vec::new(),
        all_reduce: Vec::new(),
        steps: Vec::new(),
        lane_gpus: program.gpus.iter().map(|(g, _)| *g).collect(),
        kernels: Vec::new(),
        tp_collectives: Vec::new(),
        tp_by_lane: Vec::new(),
        dp_ops: Vec::new(),
        optimizer_ops: Vec::new(),
    };
    let multi = |k: &SyncGroup| k.members.len() > 1;
    // Stages whose last W is cut into buckets (overlapped reduction over several members).
    let bucketed: HashSet<(u32, u32)> = if opts.overlap_grad_reduce {
        program.sync.iter().filter(|k| multi(k)).flat_map(|k| k.stages.iter().copied()).collect()
    } else {
        HashSet::new()
    };
    let bucket = opts.grad_bucket_bytes.max(1.0);
    let tp = opts.tp.max(1);
    // The first GPU of a program GPU's TP group, and the group.
    let lead = move |gpu: GpuId| GpuId(gpu.0 * tp);
    let tp_group = move |gpu: GpuId| (0..tp).map(|r| GpuId(gpu.0 * tp + r)).collect::<Vec<_>>();
    let mut after: Vec<Option<OpId>> = vec![None; n];
    let order = issue_order(&program.sync);
    for _ in 0..opts.iterations.max(1) {
        // Where each (non-redundant) task ran, and its first and last op.
        let mut at: FastMap<TaskKey, (GpuId, OpId, OpId)> = FastMap::default();
        let mut iter_tasks: Vec<Vec<(Task, OpId)>> =
            program.gpus.iter().map(|(_, t)| Vec::with_capacity(t.len())).collect();
        let mut iter_kernels: Vec<Vec<Vec<OpId>>> =
            program.gpus.iter().map(|(_, t)| Vec::with_capacity(t.len())).collect();
        let mut iter_tp = Vec::new();
        let mut iter_tp_lane: Vec<Vec<OpId>> = vec![Vec::new(); n];
        // The step list of each fused pass: (pipeline, stage, pass, redundant) -> its id.
        let mut chains: FastMap<(u32, u32, Pass, bool), ChainId> = FastMap::default();
        // The bucket kernels of each bucketed stage's last W: (pipeline, stage) -> ops.
        let mut pieces: HashMap<(u32, u32), Vec<OpId>> = HashMap::new();
        // A GPU's second and later lanes run work moved to it (re-routed or taken over).
        let extra: Vec<bool> = (0..n)
            .map(|i| program.gpus[..i].iter().any(|(g2, _)| *g2 == program.gpus[i].0))
            .collect();
        let mut prevs = after.clone();
        let tp_groups: Vec<Vec<GpuId>> = program.gpus.iter().map(|(g, _)| tp_group(*g)).collect();
        // Ops are created task by task across the lanes (the k-th task of every lane, then
        // the (k+1)-th): ops that run at about the same time sit close together, which keeps
        // the executor's per-op state in cache on large jobs.
        let longest = program.gpus.iter().map(|(_, t)| t.len()).max().unwrap_or(0);
        for k in 0..longest {
            for (i, (gpu, tasks)) in program.gpus.iter().enumerate() {
                let Some(t) = tasks.get(k) else { continue };
                let extra_lane = extra[i];
                let mut prev = prevs[i];
                let ops = &mut iter_tasks[i];
                let lane_kernels = &mut iter_kernels[i];
                let lane_tp = &mut iter_tp_lane[i];
                let work = program
                    .pipelines
                    .get(t.pipeline as usize)
                    .and_then(|p| p.work.get(t.stage as usize))
                    .ok_or_else(|| sim_err(format!("task of unknown stage {t:?}")))?;
                let name = match (t.pass, t.redundant) {
                    (Pass::F, false) => "F",
                    (Pass::B, false) => "B",
                    (Pass::W, false) => "W",
                    (_, true) => "redundant F",
                };
                // One kernel, or with tensor parallelism kernels and TP collectives in turn.
                let mut segments = match &work.tp {
                    Some(plan) if tp > 1 && plan.tp > 1 => plan.segments(t.pass, work.w_flops),
                    _ => vec![Segment::Compute(work.flops(t.pass))],
                };
                // The last W of a bucketed stage: one kernel per gradient bucket, the last
                // layers' (the backward's first) parameters first.
                let last_micro = program.pipelines[t.pipeline as usize].micro_batches - 1;
                let split = t.pass == Pass::W
                    && !t.redundant
                    && t.micro == last_micro
                    && bucketed.contains(&(t.pipeline, t.stage));
                if split {
                    segments = bucket_sizes(opts.grad_bytes_per_param * work.params, bucket)
                        .iter()
                        .map(|&(_, frac)| Segment::Compute(work.w_flops * frac))
                        .collect();
                }
                // The pass's memory-bound kernels (LayerNorm, GeLU, dropout, softmax, ...)
                // after its matrix multiplications: one op, serial with them.
                let mem = work.memory_bound(t.pass);
                if mem.kernels > 0 {
                    segments
                        .push(Segment::MemoryBound(memory_op_bytes(mem, opts.memory_kernel_bytes)));
                }
                // The pass reads the stage's weights once: each kernel its share by FLOPs.
                let pass_flops: f64 = segments
                    .iter()
                    .map(|s| if let Segment::Compute(f) = s { *f } else { 0.0 })
                    .sum();
                let fuse = opts.fuse_passes
                    && !split
                    && segments.iter().any(|s| matches!(s, Segment::Collective(_)));
                if fuse {
                    let key = (t.pipeline, t.stage, t.pass, t.redundant);
                    let id = match chains.get(&key) {
                        Some(&id) => id,
                        None => {
                            let steps =
                                chain_steps(&segments, work, t.pass, t.redundant, pass_flops, name);
                            let id = g.chain_steps(steps);
                            chains.insert(key, id);
                            id
                        }
                    };
                    let op = g.chain(name, lead(*gpu), &tp_groups[i], opts.dtype, id);
                    if t.redundant {
                        g.tag(op, "redundant");
                    } else if extra_lane {
                        g.tag(op, "moved");
                    }
                    if let Some(q) = prev {
                        g.depend(q, op);
                    }
                    prevs[i] = Some(op);
                    if !t.redundant {
                        at.insert((t.pipeline, t.stage, t.pass, t.micro), (*gpu, op, op));
                    }
                    ops.push((*t, op));
                    lane_kernels.push(vec![op]);
                    continue;
                }
                let mut kernels = Vec::with_capacity(segments.len().div_ceil(2));
                let (mut first, mut last) = (None, None);
                for seg in segments {
                    let op = match seg {
                        Segment::Compute(flops) => {
                            let bytes = if pass_flops > 0.0 {
                                work.pass_bytes * (flops / pass_flops)
                            } else {
                                work.pass_bytes
                            };
                            let op = g.compute(name, lead(*gpu), flops, bytes, opts.dtype);
                            if t.redundant {
                                g.tag(op, "redundant");
                            } else if extra_lane {
                                g.tag(op, "moved");
                            }
                            kernels.push(op);
                            op
                        }
                        Segment::MemoryBound(bytes) => {
                            let label = match (t.pass, t.redundant) {
                                (_, true) => "redundant F memory-bound",
                                (Pass::B, _) => "B memory-bound",
                                _ => "F memory-bound",
                            };
                            let op = g.compute(label, lead(*gpu), 0.0, bytes, opts.dtype);
                            if t.redundant {
                                g.tag(op, "redundant");
                            } else if extra_lane {
                                g.tag(op, "moved");
                            }
                            kernels.push(op);
                            op
                        }
                        Segment::Collective(kind) => {
                            let bytes = work.tp.map_or(0.0, |p| p.bytes);
                            let label = match kind {
                                CollectiveKind::AllGather => "TP all-gather",
                                CollectiveKind::ReduceScatter => "TP reduce-scatter",
                                _ => "TP all-reduce",
                            };
                            let op =
                                g.collective(label, kind, Algorithm::Auto, &tp_groups[i], bytes);
                            iter_tp.push(op);
                            lane_tp.push(op);
                            op
                        }
                    };
                    if let Some(q) = last.or(prev) {
                        g.depend(q, op);
                    }
                    first.get_or_insert(op);
                    last = Some(op);
                }
                let (Some(first), Some(last)) = (first, last) else {
                    return Err(sim_err(format!("task {t:?} has no op")));
                };
                if split {
                    pieces.insert((t.pipeline, t.stage), kernels.clone());
                }
                prev = Some(last);
                if !t.redundant {
                    at.insert((t.pipeline, t.stage, t.pass, t.micro), (*gpu, first, last));
                }
                ops.push((*t, last));
                lane_kernels.push(kernels);
                prevs[i] = prev;
            }
        }
        // Data dependencies by micro-batch.
        let get = |d: u32, s: u32, pass: Pass, j: u32| -> Result<(GpuId, OpId, OpId), InputError> {
            at.get(&(d, s, pass, j)).copied().ok_or_else(|| {
                sim_err(format!("no GPU runs {pass:?} of micro-batch {j}, stage {s}, pipeline {d}"))
            })
        };
        for (d, pipe) in program.pipelines.iter().enumerate() {
            let d = d as u32;
            let p = pipe.work.len() as u32;
            for s in 0..p {
                for j in 0..pipe.micro_batches {
                    let (gf, _, f) = get(d, s, Pass::F, j)?;
                    let (gh, b0, b) = get(d, s, Pass::B, j)?;
                    let (_, w0, _) = get(d, s, Pass::W, j)?;
                    g.depend(f, b0);
                    g.depend(b, w0);
                    if s + 1 < p {
                        let (gn, f_next, _) = get(d, s + 1, Pass::F, j)?;
                        let back = if program.fused_backward { Pass::W } else { Pass::B };
                        let (gb, _, b_next) = get(d, s + 1, back, j)?;
                        let send = |g: &mut TaskGraphBuilder, name, from, to| {
                            hand_off(g, opts, name, from, to, tp);
                        };
                        send(&mut g, "send activations", (gf, f), (gn, f_next));
                        send(&mut g, "send gradients", (gb, b_next), (gh, b0));
                    }
                }
            }
        }
        // Gradient synchronisation and optimizer steps.
        let mut iter_ar = vec![None; program.sync.len()];
        let mut iter_steps = vec![Vec::new(); program.sync.len()];
        // A GPU may have several entries (lanes of tasks that share its compute stream).
        let mut lanes: HashMap<GpuId, Vec<usize>> = HashMap::new();
        for (i, (gpu, _)) in program.gpus.iter().enumerate() {
            lanes.entry(*gpu).or_default().push(i);
        }
        let mut last_step: HashMap<GpuId, OpId> = HashMap::new();
        // Each GPU's previous data-parallel collective: the next one it takes part in waits for
        // it (one communication stream per GPU).
        let mut last_ar: HashMap<GpuId, OpId> = HashMap::new();
        let mut iter_dp: Vec<(OpId, Vec<GpuId>)> = Vec::new();
        let mut iter_opt: Vec<(GpuId, OpId)> = Vec::new();
        let sharded = opts.dp_reduce == DpReduce::DistributedOptimizer;
        for &k in &order {
            let group = &program.sync[k];
            let mut ws = Vec::new();
            for &(d, s) in &group.stages {
                let m = program.pipelines.get(d as usize).map_or(0, |p| p.micro_batches);
                for j in 0..m {
                    ws.push(get(d, s, Pass::W, j)?.2);
                }
            }
            // The gradient buckets: (bytes, the ops each waits for). One bucket after every W
            // without overlap; with overlap one per bucket of each stage's parameters, the
            // stages of later layers first (their backward ends first).
            let whole = opts.grad_bytes_per_param * group.params;
            let buckets = if multi(group) && opts.overlap_grad_reduce {
                bucket_plan(program, group, &pieces, &get, opts.grad_bytes_per_param, bucket)?
                    .unwrap_or_else(|| vec![(whole, ws.clone())])
            } else {
                vec![(whole, ws.clone())]
            };
            let (kind, label) = if sharded {
                (CollectiveKind::ReduceScatter, "gradient reduce-scatter")
            } else {
                (CollectiveKind::AllReduce, "gradient all-reduce")
            };
            let ranks_of = |r: u32| -> Vec<GpuId> {
                group.members.iter().map(|m| GpuId(m.0 * tp + r)).collect()
            };
            // One collective per bucket and TP rank r, over the r-th GPUs of the members' TP
            // groups.
            let mut ars: Vec<OpId> = Vec::new();
            if multi(group) {
                for (bytes, deps) in &buckets {
                    for r in 0..tp {
                        let ranks = ranks_of(r);
                        let op = g.collective(label, kind, Algorithm::Auto, &ranks, *bytes);
                        g.depend_all(deps, op);
                        for gpu in &ranks {
                            if let Some(prev) = last_ar.insert(*gpu, op) {
                                g.depend(prev, op);
                            }
                        }
                        iter_dp.push((op, group.members.clone()));
                        ars.push(op);
                    }
                }
            }
            let ar = ars.first().copied();
            // With the distributed optimizer each member steps its shard.
            let share =
                if sharded && multi(group) { 1.0 / group.members.len() as f64 } else { 1.0 };
            let mut steps = Vec::with_capacity(group.members.len());
            for gpu in &group.members {
                let entries = match lanes.get(gpu) {
                    Some(entries) => entries,
                    None if opts.ghost_members => continue,
                    None => return Err(sim_err(format!("sync member gpu{} runs no task", gpu.0))),
                };
                let op = if opts.optimizer_bytes_per_param > 0.0 {
                    let op = g.compute(
                        "optimizer step",
                        lead(*gpu),
                        0.0,
                        opts.optimizer_bytes_per_param * group.params * share,
                        opts.dtype,
                    );
                    iter_opt.push((*gpu, op));
                    op
                } else {
                    g.delay("weights updated", SimTime::ZERO)
                };
                if ars.is_empty() {
                    g.depend_all(&ws, op);
                } else {
                    g.depend_all(&ars, op);
                }
                // A GPU's steps, and its next iteration, follow all its own tasks.
                for &i in entries {
                    if let Some(&(_, last)) = iter_tasks[i].last() {
                        g.depend(last, op);
                    }
                }
                if let Some(&prev) = last_step.get(gpu) {
                    g.depend(prev, op);
                }
                last_step.insert(*gpu, op);
                steps.push(op);
            }
            // The distributed optimizer's all-gather of the updated weights, after every
            // member's step; a member's weights are whole again when it is done.
            if sharded && multi(group) {
                let mut ags = Vec::with_capacity(tp as usize);
                for r in 0..tp {
                    let ranks = ranks_of(r);
                    let op = g.collective(
                        "weight all-gather",
                        CollectiveKind::AllGather,
                        Algorithm::Auto,
                        &ranks,
                        WEIGHT_BYTES_PER_PARAM * group.params,
                    );
                    g.depend_all(&steps, op);
                    for gpu in &ranks {
                        if let Some(prev) = last_ar.insert(*gpu, op) {
                            g.depend(prev, op);
                        }
                    }
                    iter_dp.push((op, group.members.clone()));
                    ags.push(op);
                }
                for gpu in &group.members {
                    if opts.ghost_members && !lanes.contains_key(gpu) {
                        continue;
                    }
                    let done = g.delay("weights gathered", SimTime::ZERO);
                    g.depend_all(&ags, done);
                    last_step.insert(*gpu, done);
                }
            }
            iter_ar[k] = ar;
            iter_steps[k] = steps;
        }
        let stepped: Vec<OpId> = (0..n)
            .map(|i| {
                last_step
                    .get(&program.gpus[i].0)
                    .copied()
                    .or_else(|| iter_tasks[i].last().map(|x| x.1))
                    .ok_or_else(|| sim_err("a GPU with no task and no step".into()))
            })
            .collect::<Result<_, _>>()?;
        if opts.staggered {
            for (a, s) in after.iter_mut().zip(&stepped) {
                *a = Some(*s);
            }
        } else {
            let barrier = g.delay("iteration barrier", SimTime::ZERO);
            g.depend_all(&stepped, barrier);
            after = vec![Some(barrier); n];
        }
        out.tasks.push(iter_tasks);
        out.kernels.push(iter_kernels);
        out.tp_collectives.push(iter_tp);
        out.tp_by_lane.push(iter_tp_lane);
        out.dp_ops.push(iter_dp);
        out.optimizer_ops.push(iter_opt);
        out.stepped.push(stepped);
        out.all_reduce.push(iter_ar);
        out.steps.push(iter_steps);
    }
    out.graph = g.build().map_err(|e| sim_err(e.to_string()))?;
    Ok(out)
}

/// A stage's gradient of `bytes` cut into buckets of at most `bucket` bytes, in the order the
/// backward pass produces them: `(bytes, fraction of the whole)` each, at least one.
pub fn bucket_sizes(bytes: f64, bucket: f64) -> Vec<(f64, f64)> {
    if bytes.is_nan() || bucket.is_nan() || bytes <= 0.0 || bucket <= 0.0 {
        return vec![(bytes.max(0.0), 1.0)];
    }
    let n = (bytes / bucket).ceil().max(1.0) as usize;
    (0..n)
        .map(|i| {
            let b = if i + 1 < n { bucket } else { bytes - bucket * (n - 1) as f64 };
            (b, b / bytes)
        })
        .collect()
}

/// The overlapped buckets of `group`: per stage of the group (later virtual stages first), per
/// bucket of its gradient, the bytes and the ops it waits for (that bucket's kernel of the
/// stage's last W in every pipeline of the group, and every earlier W of the stage). `None`
/// when the group's parameters are not its stages' (Oobleck's layer-wise pieces), which then
/// reduce in one piece after every W.
fn bucket_plan(
    program: &Program,
    group: &SyncGroup,
    pieces: &HashMap<(u32, u32), Vec<OpId>>,
    get: Lookup<'_>,
    grad_bytes_per_param: f64,
    bucket: f64,
) -> Result<Option<Buckets>, InputError> {
    let mut stages: Vec<u32> = group.stages.iter().map(|x| x.1).collect();
    stages.sort_unstable_by(|a, b| b.cmp(a));
    stages.dedup();
    let params_of = |s: u32| {
        group
            .stages
            .iter()
            .find(|x| x.1 == s)
            .and_then(|x| program.pipelines.get(x.0 as usize))
            .and_then(|p| p.work.get(s as usize))
            .map_or(0.0, |w| w.params)
    };
    let total: f64 = stages.iter().map(|&s| params_of(s)).sum();
    if (total - group.params).abs() > 1e-9 * group.params.abs().max(1.0) {
        return Ok(None);
    }
    let mut out = Vec::new();
    for &s in &stages {
        let sizes = bucket_sizes(grad_bytes_per_param * params_of(s), bucket);
        let members: Vec<(u32, u32)> = group.stages.iter().copied().filter(|x| x.1 == s).collect();
        for (i, &(bytes, _)) in sizes.iter().enumerate() {
            let mut deps = Vec::new();
            for &(d, st) in &members {
                let m = program.pipelines.get(d as usize).map_or(0, |p| p.micro_batches);
                for j in 0..m.saturating_sub(1) {
                    deps.push(get(d, st, Pass::W, j)?.2);
                }
                match pieces.get(&(d, st)).and_then(|p| p.get(i)) {
                    Some(&op) => deps.push(op),
                    None => return Ok(None),
                }
            }
            out.push((bytes, deps));
        }
    }
    Ok(Some(out))
}

/// The steps of a fused pass: its segments as chain steps (kernels with their share of the
/// pass's weight bytes by FLOPs, as the separate ops have them).
fn chain_steps(
    segments: &[Segment],
    work: &StageWork,
    pass: Pass,
    redundant: bool,
    pass_flops: f64,
    name: &'static str,
) -> Vec<ChainStep> {
    segments
        .iter()
        .map(|seg| match *seg {
            Segment::Compute(flops) => {
                let bytes = if pass_flops > 0.0 {
                    work.pass_bytes * (flops / pass_flops)
                } else {
                    work.pass_bytes
                };
                ChainStep::Kernel { label: name, flops, bytes }
            }
            Segment::MemoryBound(bytes) => {
                let label = match (pass, redundant) {
                    (_, true) => "redundant F memory-bound",
                    (Pass::B, _) => "B memory-bound",
                    _ => "F memory-bound",
                };
                ChainStep::Kernel { label, flops: 0.0, bytes }
            }
            Segment::Collective(kind) => ChainStep::Collective {
                label: match kind {
                    CollectiveKind::AllGather => "TP all-gather",
                    CollectiveKind::ReduceScatter => "TP reduce-scatter",
                    _ => "TP all-reduce",
                },
                kind,
                algorithm: Algorithm::Auto,
                bytes: work.tp.map_or(0.0, |p| p.bytes),
            },
        })
        .collect()
}

/// `to` waits for `from`, through a send when they run on different (program) GPUs and
/// hand-offs cost; with tensor parallelism the send goes between the TP groups' first GPUs.
fn hand_off(
    g: &mut TaskGraphBuilder,
    opts: &BuildOptions,
    name: &str,
    from: (GpuId, OpId),
    to: (GpuId, OpId),
    tp: u32,
) {
    if from.0 != to.0 && opts.boundary_bytes > 0.0 {
        let send = g.send(name, GpuId(from.0.0 * tp), GpuId(to.0.0 * tp), opts.boundary_bytes);
        g.depend(from.1, send);
        g.depend(send, to.1);
    } else {
        g.depend(from.1, to.1);
    }
}

/// Timing of an executed [`IterationGraph`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct IterationTiming {
    /// Steady-state time per iteration: the last iteration's end minus the one before (the
    /// whole makespan with one iteration).
    pub period: SimTime,
    /// Mean over the GPUs that run passes of the time their passes took in the last iteration.
    pub busy: SimTime,
    /// `1 - busy / period`.
    pub bubble_frac: f64,
}

/// Where one program GPU's time went in the last iteration (seconds; they add up to the
/// period): see [`IterationGraph::breakdown`].
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Breakdown {
    /// Its pass kernels (F, B, W, recomputation).
    pub compute_s: f64,
    /// Its TP collectives, where no kernel of its runs.
    pub tp_comm_exposed_s: f64,
    /// Its optimizer steps, where neither of the above runs.
    pub optimizer_s: f64,
    /// Data-parallel collectives it takes part in, where none of the above runs.
    pub dp_comm_exposed_s: f64,
    /// The rest: waiting for other stages (fill, drain, imbalance, sends) and for the
    /// iteration barrier.
    pub bubble_s: f64,
}

/// Sorts and merges intervals into a disjoint union.
fn union(mut v: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    v.retain(|x| x.1 > x.0);
    v.sort_unstable();
    let mut out: Vec<(u64, u64)> = Vec::with_capacity(v.len());
    for (a, b) in v {
        match out.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

fn measure(v: &[(u64, u64)]) -> u64 {
    v.iter().map(|x| x.1 - x.0).sum()
}

impl IterationGraph {
    /// Where program GPU `gpu`'s time went in the last iteration's window (the period: from
    /// the end of the previous iteration to the end of the last). Every instant of the window
    /// goes to the first of these that covers it on that GPU: its pass kernels (compute), its
    /// TP collectives (exposed TP communication), its optimizer steps, a data-parallel
    /// collective of one of its sync groups (exposed DP communication); an instant covered
    /// by none is bubble. Ops of both built iterations count, clipped to the window, so the
    /// five add up to the period exactly (to the nanosecond).
    pub fn breakdown(&self, run: &Execution, gpu: GpuId) -> Breakdown {
        let end_of = |k: usize| -> u64 {
            self.stepped[k].iter().map(|&op| run.end(op).as_nanos()).max().unwrap_or(0)
        };
        let n = self.stepped.len();
        if n == 0 {
            return Breakdown::default();
        }
        let (lo, hi) = if n >= 2 { (end_of(n - 2), end_of(n - 1)) } else { (0, end_of(0)) };
        let iters = n.saturating_sub(2)..n;
        let clip = |op: OpId| -> (u64, u64) {
            let (a, b) = (run.start(op).as_nanos(), run.end(op).as_nanos());
            (a.clamp(lo, hi), b.clamp(lo, hi))
        };
        let lanes: Vec<usize> =
            (0..self.lane_gpus.len()).filter(|&i| self.lane_gpus[i] == gpu).collect();
        let mut compute = Vec::new();
        let mut tp = Vec::new();
        let mut opt = Vec::new();
        let mut dp = Vec::new();
        for k in iters {
            for &i in &lanes {
                if let Some(tasks) = self.kernels.get(k).and_then(|x| x.get(i)) {
                    for &op in tasks.iter().flatten() {
                        self.pass_pieces(run, op, |coll, a, b| {
                            let x = (a.as_nanos().clamp(lo, hi), b.as_nanos().clamp(lo, hi));
                            if coll { tp.push(x) } else { compute.push(x) }
                        });
                    }
                }
                if let Some(ops) = self.tp_by_lane.get(k).and_then(|x| x.get(i)) {
                    tp.extend(ops.iter().map(|&op| clip(op)));
                }
            }
            if let Some(ops) = self.optimizer_ops.get(k) {
                opt.extend(ops.iter().filter(|x| x.0 == gpu).map(|x| clip(x.1)));
            }
            if let Some(ops) = self.dp_ops.get(k) {
                dp.extend(ops.iter().filter(|x| x.1.contains(&gpu)).map(|x| clip(x.0)));
            }
        }
        let mut covered: Vec<(u64, u64)> = Vec::new();
        let mut take = |v: Vec<(u64, u64)>| -> u64 {
            let before = measure(&covered);
            covered.extend(v);
            covered = union(std::mem::take(&mut covered));
            measure(&covered) - before
        };
        let secs = |x: u64| x as f64 * 1e-9;
        let c = take(compute);
        let t = take(tp);
        let o = take(opt);
        let d = take(dp);
        let period = hi - lo;
        Breakdown {
            compute_s: secs(c),
            tp_comm_exposed_s: secs(t),
            optimizer_s: secs(o),
            dp_comm_exposed_s: secs(d),
            bubble_s: secs(period.saturating_sub(c + t + o + d)),
        }
    }

    /// Calls `f(is_collective, start, end)` for each piece of a pass op: the op itself, or
    /// each step of a fused pass (its kernels and its TP collectives).
    fn pass_pieces(&self, run: &Execution, op: OpId, mut f: impl FnMut(bool, SimTime, SimTime)) {
        match *self.graph.kind(op) {
            OpKind::Chain { steps, .. } => {
                let mut begin = run.start(op);
                for (step, &end) in self.graph.chain(steps).iter().zip(run.chain_step_ends(op)) {
                    f(step.is_collective(), begin, end);
                    begin = end;
                }
            }
            _ => f(false, run.start(op), run.end(op)),
        }
    }

    /// Per GPU that runs passes (ascending), the time its passes' kernels took in the last
    /// iteration, summed over its lanes (TP collectives are not busy time).
    pub fn busy_by_gpu(&self, run: &Execution) -> Vec<(GpuId, SimTime)> {
        let last = self.kernels.last().map(Vec::as_slice).unwrap_or(&[]);
        let mut by: Vec<(GpuId, SimTime)> = Vec::new();
        for (lane, tasks) in last.iter().enumerate() {
            let t: u64 = tasks
                .iter()
                .flatten()
                .map(|&op| match self.graph.kind(op) {
                    OpKind::Chain { .. } => run.chain_kernel_time(op).as_nanos(),
                    _ => run.duration(op).as_nanos(),
                })
                .sum();
            let gpu = self.lane_gpus[lane];
            match by.iter_mut().find(|b| b.0 == gpu) {
                Some(b) => b.1 += SimTime::from_nanos(t),
                None => by.push((gpu, SimTime::from_nanos(t))),
            }
        }
        by.sort_by_key(|b| b.0.0);
        by
    }

    /// Reads the timing from an execution of this graph.
    pub fn timing(&self, run: &Execution) -> IterationTiming {
        let end_of = |k: usize| -> SimTime {
            self.stepped[k].iter().map(|&op| run.end(op)).max().unwrap_or(SimTime::ZERO)
        };
        let n = self.stepped.len();
        let period = match n {
            0 => SimTime::ZERO,
            1 => end_of(0),
            _ => end_of(n - 1) - end_of(n - 2),
        };
        let by_gpu = self.busy_by_gpu(run);
        let total: u64 = by_gpu.iter().map(|b| b.1.as_nanos()).sum();
        let busy = SimTime::from_nanos(total / by_gpu.len().max(1) as u64);
        let bubble_frac = if period > SimTime::ZERO {
            1.0 - busy.as_secs_f64() / period.as_secs_f64()
        } else {
            0.0
        };
        IterationTiming { period, busy, bubble_frac }
    }
}
