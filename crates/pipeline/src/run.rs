//! A run: validate the workload against the cluster, then simulate the training horizon with
//! the chosen policy and report throughput, losses and the iteration's shape.

use std::collections::HashMap;

use cluster::Cluster;
use simcore::{RunResult, SimTime};
use taskgraph::{CostCache, ExecConfig, Execution, execute_cached};

use crate::config::{PipelineWorkload, Recompute, Replicas, StepMode, SystemSpec};
use crate::failures::{FailureSpec, JobShape, Scope};
use crate::horizon::{Checkpointing, Evaluate, simulate};
use crate::iteration::{Breakdown, BuildOptions, IterationGraph, IterationTiming, Program, build};
use crate::policies::{self, RestartCost};
use crate::policy::{JobModel, Policy};
use crate::schedule::Schedule;
use crate::stages::Parallelism;
use simcore::InputError;

/// Windows of the throughput-over-time series.
pub const WINDOWS: usize = 200;
/// Bytes per parameter in a checkpoint: fp32 master weights and two fp32 Adam moments.
pub const CHECKPOINT_BYTES_PER_PARAM: f64 = 12.0;
/// Optimizer-step memory traffic per parameter: read the 16-bit gradient (2), read and write
/// the fp32 master weight and moments (24), write the 16-bit weight (2).
pub const OPTIMIZER_BYTES_PER_PARAM: f64 = 28.0;
/// Gradient bytes per parameter in the data-parallel all-reduce (16-bit).
pub const GRAD_BYTES_PER_PARAM: f64 = 2.0;

/// A validated run.
pub struct Prepared {
    job: JobModel,
    workload: PipelineWorkload,
    system: SystemSpec,
    costs: RestartCost,
    ckpt: Checkpointing,
    boundary_bytes: f64,
}

/// Checks a workload and system against a cluster; every error names its field.
pub fn prepare(
    cluster: &Cluster,
    w: &PipelineWorkload,
    system: &SystemSpec,
) -> Result<Prepared, InputError> {
    let model = crate::config::resolve_model(&w.model)?;
    if model.layers == 0 || model.hidden == 0 || model.heads == 0 || model.seq_len == 0 {
        return Err(InputError::invalid(
            "model",
            "layers, hidden, heads and seq_len must be at least 1",
        ));
    }
    if w.stages == 0 {
        return Err(InputError::invalid("stages", "must be at least 1"));
    }
    if w.stages > model.layers {
        return Err(InputError::invalid(
            "stages",
            format!(
                "{} stages but the model has {} layers (at most one stage per layer)",
                w.stages, model.layers
            ),
        ));
    }
    if w.micro_batches == 0 {
        return Err(InputError::invalid("micro_batches", "must be at least 1"));
    }
    if w.micro_batch_size == 0 {
        return Err(InputError::invalid("micro_batch_size", "must be at least 1"));
    }
    let v = w.interleave;
    if v == 0 {
        return Err(InputError::invalid("interleave", "must be at least 1 (1: no interleaving)"));
    }
    if v > 1 {
        if u64::from(w.stages) * u64::from(v) > u64::from(model.layers) {
            return Err(InputError::invalid(
                "interleave",
                format!(
                    "{} stages x interleave {v} = {} model chunks but the model has {} layers (at most one chunk per layer): use interleave <= {}",
                    w.stages,
                    u64::from(w.stages) * u64::from(v),
                    model.layers,
                    (model.layers / w.stages.max(1)).max(1)
                ),
            ));
        }
        if !matches!(system, SystemSpec::CheckpointRestart | SystemSpec::SpareServers { .. }) {
            return Err(InputError::invalid(
                "interleave",
                format!(
                    "interleave = {v} is modelled for the plain job only (systems checkpoint-restart and spare-servers); {} re-plans stages and has no interleaved form here: set interleave: 1",
                    system.name()
                ),
            ));
        }
        if w.failures.is_some() {
            return Err(InputError::invalid(
                "failures",
                format!(
                    "failures with interleave = {v} are not modelled yet: set interleave: 1 or leave failures out"
                ),
            ));
        }
    }
    if w.replicas == Replicas::One {
        if !matches!(system, SystemSpec::CheckpointRestart | SystemSpec::SpareServers { .. }) {
            return Err(InputError::invalid(
                "replicas",
                format!(
                    "replicas: one is for the plain job only (systems checkpoint-restart and spare-servers); {} changes the pipelines: set replicas: all",
                    system.name()
                ),
            ));
        }
        if w.failures.is_some() {
            return Err(InputError::invalid(
                "replicas",
                "replicas: one simulates the job without failures only: set replicas: all or leave failures out",
            ));
        }
    }
    if w.grad_bucket_bytes.0 == 0 {
        return Err(InputError::invalid(
            "grad_bucket_bytes",
            "must be positive (default 25MiB, PyTorch DDP's bucket_cap_mb)",
        ));
    }
    if w.stages > 64 {
        return Err(InputError::invalid(
            "stages",
            format!("{} stages: at most 64 are supported", w.stages),
        ));
    }
    let gpus = cluster.gpu_count();
    let per_node = cluster.spec().node.gpus.max(1);
    let tp = w.tp;
    validate_tp(&model, w, per_node)?;
    let pipelines = match w.pipelines {
        Some(0) => return Err(InputError::invalid("pipelines", "must be at least 1")),
        Some(d) => d,
        None => gpus / (w.stages * tp),
    };
    let need_gpus = u64::from(pipelines.max(1)) * u64::from(w.stages) * u64::from(tp);
    if pipelines == 0 || need_gpus > u64::from(gpus) {
        let fit = gpus / (w.stages * tp);
        let nodes = need_gpus.div_ceil(u64::from(per_node));
        let what = if tp == 1 {
            format!(
                "{} pipelines x {} stages need {need_gpus} GPUs; the cluster has {gpus}",
                pipelines.max(1),
                w.stages
            )
        } else {
            format!(
                "tp {tp} x {} stages x {} pipelines = {need_gpus} GPUs; the cluster has {gpus}",
                w.stages,
                pipelines.max(1)
            )
        };
        let hint = if fit > 0 {
            format!("at most {fit} pipelines fit, or set cluster.nodes to {nodes}")
        } else {
            format!("not one pipeline fits: set cluster.nodes to at least {nodes}")
        };
        return Err(InputError::invalid(
            if w.pipelines.is_some() { "pipelines" } else { "stages" },
            format!("{what} ({hint})"),
        ));
    }
    if tp > 1 && w.failures.is_some() {
        return Err(InputError::invalid(
            "failures",
            format!(
                "failures with tp = {tp} are not modelled yet (the failure policies place whole stages on single GPUs): set tp: 1 or leave failures out"
            ),
        ));
    }
    if !(w.state_bytes_per_param.is_finite() && w.state_bytes_per_param >= 0.0) {
        return Err(InputError::invalid(
            "state_bytes_per_param",
            format!(
                "{} must be a finite number >= 0 (16 for mixed-precision Adam, 18 with fp32 gradients)",
                w.state_bytes_per_param
            ),
        ));
    }
    cluster.gpu().peak_flops(w.dtype).map_err(|e| InputError::invalid("dtype", e.to_string()))?;
    let schedule = Schedule::build_interleaved(w.schedule, w.stages, w.micro_batches, v)?;
    let par = Parallelism {
        tp,
        sp: w.sp,
        recompute: w.recompute,
        split: w.split,
        interleave: v,
        memory_bound: w.memory_bound_ops,
    };
    let staggered = match w.optimizer_step {
        StepMode::Auto => w.schedule.staggered_by_default(),
        StepMode::Synchronous => false,
        StepMode::Staggered => true,
    };
    // Failure policies see a stage replica (a TP group of t GPUs) as one "GPU".
    let shape = JobShape { stages: w.stages, pipelines, gpus_per_node: (per_node / tp).max(1) };
    let mut job = JobModel {
        shape,
        schedule,
        work: Vec::new(),
        model: model.clone(),
        micro_batch_size: w.micro_batch_size,
        staggered,
        hbm_bytes: cluster.gpu().memory.0 as f64,
        par,
        state_bytes_per_param: w.state_bytes_per_param,
        dp_reduce: w.dp_reduce,
    };
    job.work = job.stage_works(w.stages);
    let work = job.work.clone();
    let need = job.peak_gpu_bytes(w.stages, w.micro_batches);
    if need > job.hbm_bytes {
        let gib = 2f64.powi(30);
        let fits = alternatives_that_fit(&job, per_node, w.tp_across_nodes, w.micro_batches);
        return Err(InputError::invalid(
            "stages",
            format!(
                "{} on {} stages{} needs {:.1} GiB on its fullest GPU ({} B/parameter plus {} activations{}), the {} has {:.1} GiB: {:.1} GiB too much; {}",
                if model.name.is_empty() { "the model" } else { model.name.as_str() },
                w.stages,
                if tp > 1 { format!(" x tp {tp}") } else { String::new() },
                need / gib,
                w.state_bytes_per_param,
                w.schedule.name(),
                match w.recompute {
                    Recompute::None => "",
                    Recompute::Selective => ", selective recomputation",
                    Recompute::Full => ", full recomputation",
                },
                cluster.gpu().name,
                job.hbm_bytes / gib,
                (need - job.hbm_bytes) / gib,
                if fits.is_empty() {
                    "use more stages or a smaller micro_batch_size".to_string()
                } else {
                    format!("these would fit: {}", fits.join("; "))
                }
            ),
        ));
    }
    if let Some(f) = &w.failures {
        f.validate(&shape)?;
    }
    if let SystemSpec::SpareServers { spares } = system
        && *spares == 0
    {
        return Err(InputError::Invalid {
            field: "params.spares".into(),
            message:
                "must be at least 1 spare node (checkpoint-restart is the policy without spares)"
                    .into(),
        });
    }
    // Checkpoint size per node: every GPU's stage state (GPU g holds 1/t of stage replica g/t,
    // of each of its chunks with interleaving).
    let node_bytes = (0..per_node.min(pipelines * w.stages * tp))
        .map(|g| {
            let s = (g / tp) % w.stages;
            (0..v).map(|c| work[(c * w.stages + s) as usize].params).sum::<f64>()
                * CHECKPOINT_BYTES_PER_PARAM
        })
        .sum::<f64>();
    let (read, write) = match w.checkpoint.bandwidth {
        Some(b) if b.0 > 0.0 => (b.0, b.0),
        Some(b) => {
            return Err(InputError::invalid(
                "checkpoint.bandwidth",
                format!("{b} must be positive"),
            ));
        }
        None => {
            let n = &cluster.spec().node;
            let ssd =
                n.ssd.as_deref().and_then(|k| cluster.catalog().ssd(k).ok()).filter(|_| n.ssds > 0);
            match ssd {
                Some(s) => (
                    s.read_bandwidth.0 * f64::from(n.ssds),
                    s.write_bandwidth.0 * f64::from(n.ssds),
                ),
                None => {
                    return Err(InputError::invalid(
                        "checkpoint.bandwidth",
                        "the cluster's nodes have no NVMe drive: set the checkpoint bandwidth (e.g. 2GB/s)",
                    ));
                }
            }
        }
    };
    let load = SimTime::from_secs_f64(node_bytes / read);
    let save = SimTime::from_secs_f64(node_bytes / write);
    let interval = match (w.checkpoint.interval, &w.failures) {
        (Some(i), _) if i > SimTime::ZERO => i,
        (Some(_), _) => {
            return Err(InputError::invalid("checkpoint.interval", "must be positive"));
        }
        (None, Some(FailureSpec::Process { mtbf, per, .. })) => {
            // Young (1974): the interval that minimises lost work is sqrt(2 * save * MTBF).
            let population = match per {
                Scope::Cluster => 1.0,
                Scope::Node => f64::from(shape.nodes()),
                Scope::Gpu => f64::from(shape.gpus()),
            };
            let job_mtbf = mtbf.as_secs_f64() / population;
            SimTime::from_secs_f64((2.0 * save.as_secs_f64() * job_mtbf).sqrt().max(1.0))
        }
        (None, _) => SimTime::from_secs(3600),
    };
    // With t > 1 each TP rank sends its 1/t of the boundary activations to its peer of the next
    // stage (Narayanan et al. SC'21's scatter/gather; natural with sequence parallelism).
    let boundary_bytes = model.boundary_bytes(w.micro_batch_size) / f64::from(tp);
    Ok(Prepared {
        job,
        workload: w.clone(),
        system: system.clone(),
        costs: RestartCost { restart_and_load: w.restart + load },
        ckpt: Checkpointing { interval, save },
        boundary_bytes,
    })
}

/// Checks `tp` against the model and the node: at least 1, dividing the attention heads and
/// the FFN width, and (unless `tp_across_nodes`) dividing the GPUs of a node so that a TP group
/// is consecutive GPUs of one node.
fn validate_tp(
    model: &models::TransformerSpec,
    w: &PipelineWorkload,
    per_node: u32,
) -> Result<(), InputError> {
    let tp = w.tp;
    let valid = |limit: u32| -> String {
        let v: Vec<String> = (1..=limit)
            .filter(|t| {
                model.heads.is_multiple_of(*t) && (w.tp_across_nodes || per_node.is_multiple_of(*t))
            })
            .map(|t| t.to_string())
            .collect();
        v.join(", ")
    };
    let limit = if w.tp_across_nodes { model.heads } else { per_node.min(model.heads) };
    if tp == 0 {
        return Err(InputError::invalid(
            "tp",
            format!("must be at least 1; valid: {}", valid(limit)),
        ));
    }
    if !model.heads.is_multiple_of(tp) {
        return Err(InputError::invalid(
            "tp",
            format!(
                "tp = {tp} must divide the model's {} attention heads (each GPU holds whole heads); valid: {}",
                model.heads,
                valid(limit)
            ),
        ));
    }
    let ffn = model.ffn_width();
    if ffn.fract() != 0.0 || !(ffn as u64).is_multiple_of(u64::from(tp)) {
        return Err(InputError::invalid(
            "tp",
            format!("tp = {tp} must divide the model's FFN width {ffn}; valid: {}", valid(limit)),
        ));
    }
    if !w.tp_across_nodes && !per_node.is_multiple_of(tp) {
        return Err(InputError::invalid(
            "tp",
            format!(
                "a TP group of {tp} GPUs would span nodes of {per_node} GPUs (its all-reduces would leave NVLink): use a tp that divides {per_node} ({}) or set tp_across_nodes: true",
                valid(limit)
            ),
        ));
    }
    Ok(())
}

/// Changes of one knob that would make `job` fit its GPUs' memory, described for an error:
/// recomputation, a larger `tp` (within a node unless allowed), more stages.
fn alternatives_that_fit(
    job: &JobModel,
    per_node: u32,
    across_nodes: bool,
    micro_batches: u32,
) -> Vec<String> {
    let gib = 2f64.powi(30);
    let p = job.shape.stages;
    let mut out = Vec::new();
    let try_with = |par: Parallelism, stages: u32| -> f64 {
        let mut j = job.clone();
        j.par = par;
        j.peak_gpu_bytes(stages, micro_batches)
    };
    for (r, name) in [(Recompute::Selective, "selective"), (Recompute::Full, "full")] {
        if job.par.recompute != r && job.par.recompute != Recompute::Full {
            let need = try_with(Parallelism { recompute: r, ..job.par }, p);
            if need <= job.hbm_bytes {
                out.push(format!("recompute: {name} ({:.1} GiB)", need / gib));
                break;
            }
        }
    }
    let mut t = job.par.tp * 2;
    while t <= if across_nodes { job.model.heads } else { per_node } {
        if job.model.heads.is_multiple_of(t) && (across_nodes || per_node.is_multiple_of(t)) {
            let need = try_with(Parallelism { tp: t, ..job.par }, p);
            if need <= job.hbm_bytes {
                out.push(format!("tp: {t} ({:.1} GiB)", need / gib));
                break;
            }
        }
        t *= 2;
    }
    let mut stages = p + 1;
    while stages <= job.model.layers.min(64) {
        let need = try_with(job.par, stages);
        if need <= job.hbm_bytes {
            out.push(format!("stages: {stages} ({:.1} GiB)", need / gib));
            break;
        }
        stages += 1;
    }
    out
}

/// Iteration times per config key, on one cluster.
struct Evaluator<'c> {
    cluster: &'c Cluster,
    opts: BuildOptions,
    exec: ExecConfig,
    cache: HashMap<Vec<u32>, IterationTiming>,
    costs: CostCache,
    /// The first program evaluated (the healthy reference), kept so that any later evaluation
    /// of the same program (same content and step mode, under whichever key: the policy's own
    /// healthy iteration, the per-stage bubbles) reuses its graph and execution instead of
    /// building and executing it again.
    kept: Option<Kept>,
    /// The first failure pattern's program, kept for the trace.
    trace_key: Option<Vec<u32>>,
    trace: Option<simcore::ChromeTrace>,
    want_trace: bool,
    /// Iterations built for a program with synchronous steps: 1 unless a trace may be taken
    /// (see [`Evaluator::execute`]).
    sync_iterations: u32,
}

/// An evaluated program with its timing and (until released) its graph and execution.
struct Kept {
    program: Program,
    staggered: bool,
    timing: IterationTiming,
    iteration: Option<(IterationGraph, Execution)>,
}

impl Kept {
    fn matches(&self, program: &Program, staggered: bool) -> bool {
        self.staggered == staggered && self.program == *program
    }
}

impl Evaluator<'_> {
    /// Builds and executes the iteration graph of `program`.
    ///
    /// With synchronous steps one iteration is built (unless a trace is wanted, which shows
    /// two, or the network is the flow model, whose flow slots carry over and order ties):
    /// every GPU waits at the barrier, so when the second iteration starts every op of
    /// the first has ended and every link queue has drained, and the second is the first
    /// shifted by the first's length, op for op and event for event (costs do not depend on
    /// the time, ties break in the same relative order). Its period, busy times and breakdown
    /// are therefore the first's, to the nanosecond, at half the work. Staggered steps
    /// overlap iterations and need two.
    ///
    /// With tensor parallelism (outside the flow network) each pass is first built as one
    /// chain op (`BuildOptions::fuse_passes`); if the execution finds that anything needed a
    /// pass's streams or links while it ran (`Execution::chain_conflict`), where separate ops
    /// could have timed differently, the program is built and executed again with separate
    /// ops. Either way the result is that of separate ops.
    fn execute(
        &mut self,
        program: &Program,
        staggered: bool,
    ) -> Result<(IterationGraph, Execution), InputError> {
        let iterations = if staggered { self.opts.iterations } else { self.sync_iterations };
        let fuse = self.opts.tp > 1 && self.exec.network != taskgraph::NetworkMode::Flow;
        let (it, run) = self.build_and_run(
            program,
            BuildOptions { staggered, iterations, fuse_passes: fuse, ..self.opts },
        )?;
        if run.chain_conflict().is_none() {
            return Ok((it, run));
        }
        drop((it, run));
        self.build_and_run(
            program,
            BuildOptions { staggered, iterations, fuse_passes: false, ..self.opts },
        )
    }

    fn build_and_run(
        &mut self,
        program: &Program,
        opts: BuildOptions,
    ) -> Result<(IterationGraph, Execution), InputError> {
        let it = if opts.ghost_members {
            build(&program.first_pipeline(), &opts)?
        } else {
            build(program, &opts)?
        };
        let run = execute_cached(&it.graph, self.cluster, &self.exec, &mut self.costs)
            .map_err(|e| InputError::Simulation(e.to_string()))?;
        Ok((it, run))
    }

    fn timing(
        &mut self,
        policy: &dyn Policy,
        job: &JobModel,
        key: &[u32],
        failed: &[bool],
    ) -> Result<IterationTiming, InputError> {
        if let Some(t) = self.cache.get(key) {
            return Ok(*t);
        }
        let (program, staggered) = policy.program(job, failed)?;
        let has_failures = failed.iter().any(|&f| f);
        let take_trace =
            self.want_trace && (self.trace.is_none() || (has_failures && self.trace_key.is_none()));
        let t = match self.kept.as_ref().filter(|k| k.matches(&program, staggered)) {
            Some(k) => {
                let t = k.timing;
                if take_trace {
                    let kept = k.iteration.as_ref().map(|(it, run)| run.chrome_trace(&it.graph));
                    let trace = match kept {
                        Some(trace) => trace,
                        None => {
                            let (it, run) = self.execute(&program, staggered)?;
                            run.chrome_trace(&it.graph)
                        }
                    };
                    self.trace = Some(trace);
                }
                t
            }
            None => {
                let (it, run) = self.execute(&program, staggered)?;
                let t = it.timing(&run);
                if take_trace {
                    self.trace = Some(run.chrome_trace(&it.graph));
                }
                if self.kept.is_none() {
                    self.kept =
                        Some(Kept { program, staggered, timing: t, iteration: Some((it, run)) });
                }
                t
            }
        };
        if take_trace && has_failures {
            self.trace_key = Some(key.to_vec());
        }
        self.cache.insert(key.to_vec(), t);
        Ok(t)
    }

    /// Drops the kept graph and execution (their timing stays) unless a trace may still be
    /// taken from them.
    fn release(&mut self) {
        if !self.want_trace
            && let Some(k) = &mut self.kept
        {
            k.iteration = None;
        }
    }

    /// Per stage, the mean over its GPUs of their idle fraction in the policy's iteration with
    /// `failed` GPUs (from the kept execution when the program is the one kept, else computed
    /// afresh), and the time breakdown of the first pipeline's critical stage: of pipeline 0's
    /// GPUs, the one whose kernels and TP collectives take longest
    /// ([`crate::iteration::IterationGraph::breakdown`]).
    fn stage_bubbles(
        &mut self,
        policy: &dyn Policy,
        job: &JobModel,
        failed: &[bool],
    ) -> Result<(Vec<f64>, Breakdown), InputError> {
        let (program, staggered) = policy.program(job, failed)?;
        if let Some(Kept { iteration: Some((it, run)), .. }) =
            self.kept.as_ref().filter(|k| k.matches(&program, staggered))
        {
            return Ok(bubbles_of(job, it, run));
        }
        let (it, run) = self.execute(&program, staggered)?;
        Ok(bubbles_of(job, &it, &run))
    }
}

/// [`Evaluator::stage_bubbles`] of an executed iteration.
fn bubbles_of(job: &JobModel, it: &IterationGraph, run: &Execution) -> (Vec<f64>, Breakdown) {
    let period = it.timing(run).period.as_secs_f64().max(1e-12);
    let p = job.shape.stages as usize;
    let mut critical = Breakdown::default();
    let mut seen = HashMap::new();
    for gpu in &it.lane_gpus {
        if job.coords(gpu.0).0 != 0 || seen.insert(gpu.0, ()).is_some() {
            continue;
        }
        let b = it.breakdown(run, *gpu);
        if b.compute_s + b.tp_comm_exposed_s > critical.compute_s + critical.tp_comm_exposed_s {
            critical = b;
        }
    }
    let mut sum = vec![0.0; p];
    let mut count = vec![0u32; p];
    for (gpu, busy) in it.busy_by_gpu(run) {
        let s = job.coords(gpu.0).1 as usize;
        if s < p {
            sum[s] += 1.0 - busy.as_secs_f64() / period;
            count[s] += 1;
        }
    }
    let bubbles =
        sum.iter().zip(&count).map(|(x, &n)| if n > 0 { x / f64::from(n) } else { 0.0 }).collect();
    (bubbles, critical)
}

impl Evaluate for Evaluator<'_> {
    fn period(
        &mut self,
        policy: &dyn Policy,
        job: &JobModel,
        key: &[u32],
        failed: &[bool],
    ) -> Result<SimTime, InputError> {
        Ok(self.timing(policy, job, key, failed)?.period)
    }
}

impl Prepared {
    /// The job as policies see it.
    pub fn job(&self) -> &JobModel {
        &self.job
    }

    /// Simulates the horizon with `seed`; keeps the trace of one iteration (the first failure
    /// pattern's, else the healthy one) when `trace` is set.
    pub fn run(&self, cluster: &Cluster, seed: u64, trace: bool) -> Result<RunResult, InputError> {
        let w = &self.workload;
        let job = &self.job;
        let events = match &w.failures {
            Some(f) => f.events(&job.shape, w.duration, seed)?,
            None => Vec::new(),
        };
        let mut policy = policies::build(&self.system, self.costs, job.shape.gpus_per_node);
        let mut eval = Evaluator {
            cluster,
            opts: BuildOptions {
                boundary_bytes: self.boundary_bytes,
                dtype: w.dtype,
                grad_bytes_per_param: GRAD_BYTES_PER_PARAM,
                optimizer_bytes_per_param: OPTIMIZER_BYTES_PER_PARAM,
                staggered: job.staggered,
                iterations: 2,
                tp: job.par.tp,
                dp_reduce: w.dp_reduce,
                overlap_grad_reduce: w.overlap_grad_reduce,
                grad_bucket_bytes: w.grad_bucket_bytes.0 as f64,
                memory_kernel_bytes: crate::iteration::memory_kernel_bytes(cluster.compute()),
                ghost_members: w.replicas == Replicas::One,
                // Chosen per execution (Evaluator::execute).
                fuse_passes: false,
            },
            exec: crate::iteration::exec_config(w.network),
            cache: HashMap::new(),
            costs: CostCache::new(),
            kept: None,
            trace_key: None,
            trace: None,
            want_trace: false,
            // The flow network keeps state between iterations (its flow slots, which order
            // ties) that a shift in time need not reproduce: two iterations there.
            sync_iterations: if trace || w.network == taskgraph::NetworkMode::Flow { 2 } else { 1 },
        };
        // The plain schedule without failures: the reference throughput.
        let healthy = policies::checkpoint_restart::CheckpointRestart::new(self.costs);
        let gpus = job.shape.gpus() as usize;
        let none = vec![false; gpus];
        let plain = eval.timing(&healthy, job, &[u32::MAX], &none)?;
        eval.want_trace = trace;
        // The policy's own iteration without failures (Bamboo's redundancy and placement; the
        // others run the plain program, with the workload's schedule and step mode).
        let own = match policy.config(job, &none) {
            crate::policy::Config::Run { key, .. } => {
                eval.timing(policy.as_ref(), job, &key, &none)?
            }
            crate::policy::Config::Down => plain,
        };
        let (stage_bubbles, breakdown) = match policy.config(job, &none) {
            crate::policy::Config::Run { .. } => eval.stage_bubbles(policy.as_ref(), job, &none)?,
            crate::policy::Config::Down => (Vec::new(), Breakdown::default()),
        };
        eval.release();
        let out =
            simulate(job, policy.as_mut(), &events, w.duration, self.ckpt, &mut eval, WINDOWS)?;
        let secs = w.duration.as_secs_f64().max(1e-9);
        let throughput = out.samples / secs;
        let healthy_throughput = job.samples_per_iteration() / plain.period.as_secs_f64();
        let memory = job
            .stage_memory(job.shape.stages, job.schedule.micro_batches)
            .ok_or_else(|| InputError::Simulation("the schedule cannot be built".into()))?;
        let act_by_stage: Vec<f64> = memory.iter().map(|m| m.1).collect();
        let mem_by_stage: Vec<f64> = memory.iter().map(|m| m.0 + m.1).collect();
        let peak_act = act_by_stage.iter().copied().fold(0.0, f64::max);
        let peak_mem = mem_by_stage.iter().copied().fold(0.0, f64::max);
        let all_gpus = f64::from(job.shape.gpus()) * f64::from(job.par.tp);
        let step = own.period.as_secs_f64().max(1e-12);
        let (model_flops, counted_flops) = job.iteration_flops();
        let peak = cluster
            .gpu()
            .peak_flops(w.dtype)
            .map_err(|e| InputError::invalid("dtype", e.to_string()))?;
        let mut r = RunResult::new();
        r.metric("throughput_samples_s", throughput)
            .metric("throughput_vs_healthy", throughput / healthy_throughput)
            .metric("iter_time_s", own.period.as_secs_f64())
            .metric("bubble_frac", own.bubble_frac)
            .metric("peak_act_bytes", peak_act)
            .metric("restarts", f64::from(out.restarts))
            .metric("lost_work_s", out.lost_work.as_secs_f64())
            .metric(
                "spare_gpu_hours",
                out.spare_gpu_seconds * f64::from(job.par.tp.max(1)) / 3600.0,
            )
            .metric("checkpoint_interval_s", self.ckpt.interval.as_secs_f64())
            .metric("tflops_per_gpu", counted_flops / step / all_gpus / 1e12)
            .metric("mfu", model_flops / step / all_gpus / peak)
            .metric("peak_mem_bytes", peak_mem)
            .metric("compute_s", breakdown.compute_s)
            .metric("tp_comm_exposed_s", breakdown.tp_comm_exposed_s)
            .metric("bubble_s", breakdown.bubble_s)
            .metric("dp_comm_exposed_s", breakdown.dp_comm_exposed_s)
            .metric("optimizer_s", breakdown.optimizer_s);
        let last = out.by_failures.iter().rposition(|s| s.0 > 0.0).unwrap_or(0);
        let window_h = secs / 3600.0 / WINDOWS as f64;
        r.series("time_h", (1..=WINDOWS).map(|k| k as f64 * window_h).collect())
            .series("throughput_samples_s", out.throughput_series)
            .series("failed_gpus", out.failed_series)
            .series("peak_act_bytes_by_stage", act_by_stage)
            .series("peak_mem_bytes_by_stage", mem_by_stage)
            .series("bubble_frac_by_stage", stage_bubbles)
            .series(
                "iter_time_by_failures_s",
                out.by_failures[..=last].iter().map(|s| s.1).collect(),
            );
        if trace {
            r.trace = eval.trace.take();
        }
        Ok(r)
    }
}
