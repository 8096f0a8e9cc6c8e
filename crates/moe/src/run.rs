//! A training run: iterations until the convergence model reaches the target.
//!
//! Each iteration: draw the routed tokens per layer and class, let the system place the
//! experts (and migrate), compute capacity, drops and token traffic, build the iteration's task
//! graph, execute it on the cluster, and add `1 - beta * dropped` to the progress.

use cluster::Cluster;
use simcore::{RunResult, SimTime};
use taskgraph::{CostCache, ExecConfig, execute_cached};

use crate::config::{MoeWorkload, SystemSpec};
use crate::dispatch::{LayerDispatch, dispatch};
use crate::iteration::{IterationInput, build};
use crate::memory;
use crate::model::MoeModel;
use crate::routing::LoadSource;
use crate::systems;
use simcore::InputError;

/// Rows kept of per-iteration matrices (the per-GPU load heatmap), evenly subsampled.
const MAX_MATRIX_ROWS: usize = 200;

/// A validated run.
pub struct Prepared {
    model: MoeModel,
    workload: MoeWorkload,
    system: SystemSpec,
    gpus: u32,
    gpus_per_node: u32,
    host_rate: f64,
    memory: memory::MemoryUse,
}

/// Checks a workload and system against a cluster; every error names its field.
pub fn prepare(
    cluster: &Cluster,
    w: &MoeWorkload,
    system: &SystemSpec,
) -> Result<Prepared, InputError> {
    let model = crate::config::resolve_model(&w.model, w.moe_every)?;
    if model.base.layers == 0 || model.base.hidden == 0 || model.base.heads == 0 {
        return Err(InputError::invalid("model", "layers, hidden and heads must be at least 1"));
    }
    if model.moe_layers() == 0 {
        return Err(InputError::invalid(
            "moe_every",
            format!("the model has no MoE layer (moe_every = {})", model.moe_every),
        ));
    }
    w.routing.validate()?;
    w.convergence.validate()?;
    system.validate()?;
    let gpus = cluster.gpu_count();
    if w.experts == 0 {
        return Err(InputError::invalid("experts", "need at least 1 expert class"));
    }
    if w.top_k == 0 || w.top_k > w.experts {
        return Err(InputError::invalid(
            "top_k",
            format!("{} must be in 1..={} (the number of expert classes)", w.top_k, w.experts),
        ));
    }
    if w.slots_per_gpu == 0 {
        return Err(InputError::invalid("slots_per_gpu", "need at least 1 slot per GPU"));
    }
    if u64::from(w.slots_per_gpu) * u64::from(gpus) < u64::from(w.experts) {
        return Err(InputError::invalid(
            "slots_per_gpu",
            format!(
                "{} slots x {gpus} GPUs = {} slots cannot hold {} expert classes (each needs a replica)",
                w.slots_per_gpu,
                w.slots_per_gpu * gpus,
                w.experts
            ),
        ));
    }
    if !(w.capacity_factor > 0.0 && w.capacity_factor.is_finite()) {
        return Err(InputError::invalid(
            "capacity_factor",
            format!("{} must be a number > 0", w.capacity_factor),
        ));
    }
    if w.seq_len == 0 || w.global_batch == 0 {
        return Err(InputError::invalid(
            "global_batch",
            "seq_len and global_batch must be at least 1",
        ));
    }
    if w.comm_streams == Some(0) {
        return Err(InputError::invalid(
            "comm_streams",
            "must be at least 1 (leave it out for one stream per group)",
        ));
    }
    if w.max_iterations == 0 {
        return Err(InputError::invalid("max_iterations", "must be at least 1"));
    }
    cluster.gpu().peak_flops(w.dtype).map_err(|e| InputError::invalid("dtype", e.to_string()))?;
    let host_rate = match w.host_adam_rate {
        Some(r) if r.0 > 0.0 => r.0,
        Some(r) => {
            return Err(InputError::invalid("host_adam_rate", format!("{r} must be positive")));
        }
        None => cluster
            .catalog()
            .host(&cluster.spec().node.host)
            .map(|h| h.memory_bandwidth.0)
            .unwrap_or(100e9),
    };
    let tokens_per_gpu = f64::from(w.global_batch) * f64::from(w.seq_len) / f64::from(gpus);
    let layout = systems::build(system, 1, w.experts as usize, gpus, w.slots_per_gpu).optimizer();
    let mem = memory::peak(
        &model,
        w.experts,
        w.slots_per_gpu,
        gpus,
        tokens_per_gpu,
        w.seq_len,
        w.dtype.size_bytes() as f64,
        layout,
        matches!(system, SystemSpec::Flexmoe { .. }),
    );
    let hbm = cluster.gpu().memory.0 as f64;
    if mem.hbm > hbm {
        return Err(InputError::invalid(
            "model",
            format!(
                "{} with {} slots per GPU needs {:.1} GiB of device memory per GPU, more than the {:.0} GiB of {} (fewer slots, a smaller model or batch, or more GPUs)",
                model.base.name,
                w.slots_per_gpu,
                mem.hbm / 1073741824.0,
                hbm / 1073741824.0,
                cluster.gpu().name
            ),
        ));
    }
    let host_mem = cluster
        .catalog()
        .host(&cluster.spec().node.host)
        .map(|h| h.memory.0 as f64)
        .unwrap_or(f64::INFINITY);
    let per_node = f64::from(cluster.spec().node.gpus);
    if mem.host * per_node > host_mem {
        return Err(InputError::invalid(
            "model",
            format!(
                "the offloaded optimizer state needs {:.1} GiB of host memory per node, more than the {:.0} GiB available",
                mem.host * per_node / 1073741824.0,
                host_mem / 1073741824.0
            ),
        ));
    }
    Ok(Prepared {
        model,
        workload: w.clone(),
        system: system.clone(),
        gpus,
        gpus_per_node: cluster.spec().node.gpus,
        host_rate,
        memory: mem,
    })
}

impl Prepared {
    /// The resolved model.
    pub fn model(&self) -> &MoeModel {
        &self.model
    }

    /// Runs with `seed` until the target (or `max_iterations`); keeps the trace of iteration 1
    /// when `trace` is set.
    pub fn run(&self, cluster: &Cluster, seed: u64, trace: bool) -> Result<RunResult, InputError> {
        let w = &self.workload;
        let layers = self.model.moe_layers() as usize;
        let classes = w.experts as usize;
        let mut load = match &w.routing.trace {
            Some(path) => LoadSource::from_csv(path, layers, classes)?,
            None => LoadSource::generated(&w.routing, layers, classes, seed),
        };
        let mut system = systems::build(&self.system, layers, classes, self.gpus, w.slots_per_gpu);
        let tokens = f64::from(w.global_batch) * f64::from(w.seq_len);
        let routed_tokens = tokens * f64::from(w.top_k);
        let slots_total = f64::from(self.gpus * w.slots_per_gpu);
        let capacity = if system.unlimited_capacity() {
            f64::INFINITY
        } else {
            w.capacity_factor * routed_tokens / slots_total
        };
        let cfg = ExecConfig {
            network: w.network,
            comm_streams: w.comm_streams.unwrap_or(0),
            ..ExecConfig::default()
        };
        let target = w.convergence.target_iterations;
        let mut progress = 0.0;
        let mut elapsed = SimTime::ZERO;
        let mut rebalance = SimTime::ZERO;
        let (mut dropped_total, mut routed_total) = (0.0, 0.0);
        let mut iter_times = Vec::new();
        let mut drops = Vec::new();
        let mut progress_series = Vec::new();
        let mut elapsed_series = Vec::new();
        let mut gpu_load: Vec<Vec<f64>> = Vec::new();
        let mut previous: Option<Vec<Vec<f64>>> = None;
        let mut result = RunResult::new();
        let mut reached = false;
        let mut costs = CostCache::new();
        let mut iterations = 0u64;
        for t in 0..w.max_iterations {
            let routed = load.next(routed_tokens);
            let moves = system.prepare(t, previous.as_deref());
            system.observe(&routed, capacity);
            let dispatches: Vec<LayerDispatch> = (0..layers)
                .map(|l| {
                    dispatch(&routed[l], system.placement(l), capacity, self.gpus_per_node as usize)
                })
                .collect();
            let d: f64 = dispatches.iter().map(|x| x.dropped.iter().sum::<f64>()).sum();
            let r: f64 = dispatches.iter().map(|x| x.routed.iter().sum::<f64>()).sum();
            let frac = if r > 0.0 { d / r } else { 0.0 };
            dropped_total += d;
            routed_total += r;
            let placements: Vec<&crate::placement::Placement> =
                (0..layers).map(|l| system.placement(l)).collect();
            let input = IterationInput {
                model: &self.model,
                experts: w.experts,
                gpus: self.gpus,
                gpus_per_node: self.gpus_per_node,
                tokens_per_gpu: tokens / f64::from(self.gpus),
                seq: w.seq_len,
                dtype_bytes: w.dtype.size_bytes() as f64,
                dtype: w.dtype,
                placements: &placements,
                dispatches: &dispatches,
                optimizer: system.optimizer(),
                moves: &moves,
                host_rate: self.host_rate,
            };
            let it = build(&input).map_err(|e| InputError::Simulation(e.to_string()))?;
            let exec = execute_cached(&it.graph, cluster, &cfg, &mut costs)
                .map_err(|e| InputError::Simulation(e.to_string()))?;
            let time = exec.makespan();
            if trace && t == 1.min(w.max_iterations - 1) {
                result.trace = Some(exec.chrome_trace(&it.graph));
            }
            let migration =
                it.migrations.iter().map(|&op| exec.end(op)).max().unwrap_or(SimTime::ZERO);
            rebalance += migration;
            elapsed += time;
            progress += w.convergence.progress(frac);
            iterations = t + 1;
            iter_times.push(time.as_secs_f64());
            drops.push(frac);
            progress_series.push((progress / target).min(1.0));
            elapsed_series.push(elapsed.as_secs_f64());
            let mut per_gpu = vec![0.0; self.gpus as usize];
            for x in &dispatches {
                for (g, v) in x.gpu_tokens.iter().enumerate() {
                    per_gpu[g] += v;
                }
            }
            gpu_load.push(per_gpu);
            previous = Some(routed);
            if progress >= target {
                reached = true;
                break;
            }
        }
        let step = gpu_load.len().div_ceil(MAX_MATRIX_ROWS).max(1);
        let heat: Vec<Vec<f64>> = gpu_load.iter().step_by(step).cloned().collect();
        let total = elapsed.as_secs_f64();
        result
            .metric("time_to_target_s", total)
            .metric("iterations_to_target", iterations as f64)
            .metric("reached_target", if reached { 1.0 } else { 0.0 })
            .metric("iter_time_s", total / iterations.max(1) as f64)
            .metric(
                "tokens_dropped_frac",
                if routed_total > 0.0 { dropped_total / routed_total } else { 0.0 },
            )
            .metric(
                "rebalance_time_frac",
                if total > 0.0 { rebalance.as_secs_f64() / total } else { 0.0 },
            )
            .metric("peak_hbm_bytes", self.memory.hbm)
            .metric("peak_host_bytes", self.memory.host * f64::from(self.gpus_per_node))
            .series("iter_time_s", iter_times)
            .series("dropped_frac", drops)
            .series("progress", progress_series)
            .series("elapsed_s", elapsed_series)
            .matrix("gpu_load", heat);
        Ok(result)
    }
}
