//! `kind: datapipe` runs: the system makes its plan once (`prepare`), the simulator runs it
//! for each seed, epoch after epoch (a caching system's later epochs run its cached plan).

use simcore::{InputError, RandomStreams, RunResult};

use crate::config::{DatapipeSystem, DatapipeWorkload, Mode};
use crate::pipeline::Pipeline;
use crate::plan::Plan;
use crate::resources::{Host, Resources};
use crate::sim::{SimOptions, run_epoch};
use crate::spec::read_pipeline;
use crate::systems::{self, Ctx};

/// A (workload, system) ready to run.
pub struct Prepared {
    pipeline: Pipeline,
    res: Resources,
    plan: Plan,
    opts: SimOptions,
    epochs: u32,
}

/// The plan `system` makes for `ctx`.
pub fn plan_for(ctx: &Ctx<'_>, system: &DatapipeSystem) -> Result<Plan, InputError> {
    Ok(match system {
        DatapipeSystem::Unoptimized => systems::unoptimized::plan(ctx),
        DatapipeSystem::TorchDataloader(p) => systems::torch_dataloader::plan(ctx, p),
        DatapipeSystem::TfData => systems::tf_data::plan(ctx),
        DatapipeSystem::TfDataService => systems::tf_data_service::plan(ctx)?,
        DatapipeSystem::RayData(p) => systems::ray_data::plan(ctx, p),
        DatapipeSystem::Pecan => systems::pecan::plan(ctx),
        DatapipeSystem::Cedar(p) => systems::cedar::plan(ctx, p),
    })
}

/// Checks the inputs and makes the system's plan.
pub fn prepare(w: &DatapipeWorkload, system: &DatapipeSystem) -> Result<Prepared, InputError> {
    w.validate()?;
    let pipeline = read_pipeline(&w.pipeline)?;
    let ctx = Ctx {
        pipeline: &pipeline,
        res: &w.resources,
        remote: w.mode == Mode::Remote,
        epochs: w.epochs,
        samples: w.samples,
    };
    let plan = plan_for(&ctx, system)?;
    let opts =
        SimOptions { samples: w.samples, service_cv: w.service_cv, series_points: w.series_points };
    Ok(Prepared { res: w.resources.clone(), pipeline, plan, opts, epochs: w.epochs })
}

impl Prepared {
    /// The plan.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The pipeline.
    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    /// One run.
    pub fn run(&self, seed: u64) -> Result<RunResult, InputError> {
        let streams = RandomStreams::new(seed);
        let mut total = 0.0;
        let mut epoch_times = Vec::new();
        let mut cpu = [0.0f64; 2];
        let mut peak = 0.0f64;
        let mut network = 0.0;
        let mut cache = 0.0;
        let mut times = Vec::new();
        let mut rates = Vec::new();
        let mut occupancy = Vec::new();
        let mut held = Vec::new();
        // Busy fraction of each stage of the plan (first epoch's plan), over all epochs it ran.
        let mut stage_busy = vec![0.0f64; self.plan.stages.len()];
        let mut busy_time = 0.0f64;
        let mut workers: Vec<u32> = self.plan.stages.iter().map(|s| s.workers).collect();
        for e in 0..self.epochs {
            let plan = match (&self.plan.cached, e) {
                (Some(c), e) if e > 0 => c.as_ref(),
                _ => &self.plan,
            };
            if e == 1 && self.plan.cached.is_some() {
                workers = plan.stages.iter().map(|s| s.workers).collect();
            }
            let epoch_streams =
                RandomStreams::new(streams.stream("datapipe.epoch").next_u64() ^ e as u64);
            let out = run_epoch(plan, &self.res, &workers, &self.opts, &epoch_streams);
            workers = out.workers.clone();
            for (t, r, o, h) in &out.series {
                times.push(total + t);
                rates.push(*r);
                occupancy.push(*o);
                held.push(*h);
            }
            if std::ptr::eq(plan, &self.plan) {
                for (k, s) in plan.stages.iter().enumerate() {
                    stage_busy[k] += out.busy_s[k] / f64::from(s.workers.max(1));
                }
                busy_time += out.time_s;
            }
            total += out.time_s;
            epoch_times.push(out.time_s);
            cpu[0] += out.cpu_s[0];
            cpu[1] += out.cpu_s[1];
            peak = peak.max(out.buffer_bytes_peak);
            network += plan.network_bytes_per_sample * self.opts.samples as f64;
            cache += plan.cache_bytes_per_sample * self.opts.samples as f64;
        }
        let samples = self.opts.samples as f64 * self.epochs as f64;
        let throughput = if total > 0.0 { samples / total } else { 0.0 };
        let mut unopt = 1.0 / self.pipeline.total_cost(&self.pipeline.given_order());
        if let Some(c) = self.res.consumer_sps {
            unopt = unopt.min(c);
        }
        let busy = |h: Host| {
            let v = self.res.vcpus(h) as f64;
            if v > 0.0 && total > 0.0 { cpu[h as usize] / (v * total) } else { 0.0 }
        };
        let mut r = RunResult::new();
        r.metric("throughput_samples_s", throughput)
            .metric("epoch_time_s", total / self.epochs as f64)
            .metric("speedup_vs_unoptimized", throughput / unopt)
            .metric("cpu_busy_frac", busy(Host::Local))
            .metric("remote_cpu_busy_frac", busy(Host::Remote))
            .metric("network_bytes", network)
            .metric("cache_bytes", cache)
            .metric("buffer_bytes_peak", peak)
            .metric("predicted_throughput_samples_s", self.plan.predicted_sps)
            .metric("bound_throughput_samples_s", self.plan.bound_sps())
            .metric("cache_ops", self.plan.cache_ops as f64)
            .metric("local_workers", self.plan.workers_on(Host::Local) as f64)
            .metric("remote_workers", self.plan.workers_on(Host::Remote) as f64);
        r.series("epoch_time_series_s", epoch_times);
        r.series("time_s", times);
        r.series("throughput_series", rates);
        r.series("output_buffer_series", occupancy);
        r.series("buffer_bytes_series", held);
        r.series(
            "stage_busy_frac",
            stage_busy.iter().map(|b| if busy_time > 0.0 { b / busy_time } else { 0.0 }).collect(),
        );
        Ok(r)
    }
}
