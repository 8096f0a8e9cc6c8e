//! A run: validate the workload against the cluster, plan the sharding, then simulate the
//! training steps and report throughput, balance, slow-tier accesses, traffic and memory.

use std::time::Instant;

use cluster::Cluster;
use simcore::{RandomStreams, RunResult, SimTime};
use taskgraph::{CostCache, ExecConfig, execute_cached};

use crate::config::{AlphaSpec, EmbeddingWorkload, SystemSpec};
use crate::estimator::EstimatorHw;
use crate::plan::{Plan, StepLoad};
use crate::recd;
use crate::systems::{self, PlanCtx};
use crate::tables::{Table, derive};
use crate::tiers::Tiers;
use simcore::InputError;

/// Zipf exponent of row popularity when neither the workload nor a table gives one:
/// [`crate::access::calibrate`] on Meta's 2022 production locality statistics
/// (facebookresearch/dlrm_datasets; docs/models/embedding.md), rounded.
pub const DEFAULT_ALPHA: f64 = 0.943;

/// Points of the model's row-access curve: (share of all used rows, share of all lookups
/// they receive), hottest rows first over every table together; rows are ranked by their
/// lookups per step `a_j p_j(r)` (Zipf per table), on a log-spaced grid of thresholds.
pub fn access_curve(tables: &[Table], batch: f64, points: usize) -> (Vec<f64>, Vec<f64>) {
    let rates: Vec<(f64, f64)> = tables
        .iter()
        .map(|t| (batch * t.spec.lookups_per_sample(), t.popularity.hot_share(1)))
        .collect();
    let total_rows: f64 = tables.iter().map(|t| t.used as f64).sum();
    let total_lookups: f64 = rates.iter().map(|r| r.0).sum();
    let hottest = rates.iter().map(|r| r.0 * r.1).fold(0.0, f64::max);
    let coldest = tables
        .iter()
        .zip(&rates)
        .map(|(t, r)| r.0 * r.1 * (t.used as f64).powf(-t.popularity.alpha))
        .fold(f64::INFINITY, f64::min);
    let (hi, lo) =
        (hottest.max(1e-300).ln(), coldest.max(1e-300).ln().min(hottest.max(1e-300).ln() - 1.0));
    let mut xs = Vec::with_capacity(points);
    let mut ys = Vec::with_capacity(points);
    for i in 0..points {
        let q = (hi + (lo - hi) * i as f64 / (points.max(2) - 1) as f64).exp();
        let (mut rows, mut lookups) = (0.0, 0.0);
        for (t, &(a, p1)) in tables.iter().zip(&rates) {
            let alpha = t.popularity.alpha;
            let k = if a * p1 < q {
                0
            } else if alpha <= 1e-12 {
                t.used
            } else {
                ((q / (a * p1)).powf(-1.0 / alpha).floor() as u64).min(t.used)
            };
            rows += k as f64;
            lookups += a * t.popularity.hot_share(k);
        }
        xs.push(rows / total_rows.max(1.0));
        ys.push(lookups / total_lookups.max(1e-300));
    }
    (xs, ys)
}

/// A planned run.
pub struct Prepared {
    workload: EmbeddingWorkload,
    tables: Vec<Table>,
    tiers: Tiers,
    plan: Plan,
    load: StepLoad,
    uvm_efficiency: f64,
    transfers: crate::step::CacheTransfers,
    plan_time: f64,
}

/// Checks the workload, plans `system` on `cluster`; errors name their field.
pub fn prepare(
    cluster: &Cluster,
    w: &EmbeddingWorkload,
    system: &SystemSpec,
) -> Result<Prepared, InputError> {
    let specs = w.tables.specs()?;
    if w.batch == 0 {
        return Err(InputError::invalid("batch", "must be at least 1"));
    }
    if !matches!(w.element_bytes, 1 | 2 | 4 | 8) {
        return Err(InputError::invalid(
            "element_bytes",
            format!("{} is not 1, 2, 4 or 8 (int8, fp16/bf16, fp32, fp64)", w.element_bytes),
        ));
    }
    if w.steps == 0 {
        return Err(InputError::invalid("steps", "must be at least 1"));
    }
    let alpha = match &w.alpha {
        None => DEFAULT_ALPHA,
        Some(AlphaSpec::Value(a)) => *a,
        Some(AlphaSpec::Fit { locality_stats }) => {
            let field = "alpha.locality_stats";
            let path = simcore::data::resolve(locality_stats)
                .map_err(|e| InputError::invalid(field, e.to_string()))?;
            let stats = crate::access::LocalityStats::read(&path)
                .map_err(|e| InputError::invalid(field, e.to_string()))?;
            crate::access::calibrate(&stats).alpha
        }
    };
    if !(alpha >= 0.0 && alpha.is_finite()) {
        return Err(InputError::invalid("alpha", format!("{alpha} must be >= 0")));
    }
    let tiers = Tiers::new(cluster, &w.memory)?;
    if w.batch < u64::from(tiers.gpus) {
        return Err(InputError::invalid(
            "batch",
            format!("{} samples cannot be split over {} GPUs", w.batch, tiers.gpus),
        ));
    }
    let session_share = w.sessions.map(|s| s.session_share);
    let mut tables = derive(&specs, alpha, w.element_bytes, false);
    if let Some(share) = session_share {
        for (j, t) in tables.iter_mut().enumerate() {
            if t.spec.session_level.is_none() {
                t.session_level = recd::session_level_by_share(j, share);
            }
        }
    }
    let batch = w.batch as f64;
    // Each trainer deduplicates its own share of the batch.
    let per_trainer = batch / f64::from(tiers.gpus);
    let scales = recd::scales(&tables, per_trainer, w.sessions.as_ref(), system.dedup())?;
    let uvm_efficiency = w.memory.uvm_efficiency.unwrap_or(0.1);
    let transfer_efficiency = match w.cache.transfer_efficiency {
        None => uvm_efficiency,
        Some(x) if x > 0.0 && x <= 1.0 => x,
        Some(x) => {
            return Err(InputError::invalid(
                "cache.transfer_efficiency",
                format!("{x} is not in (0, 1]"),
            ));
        }
    };
    let transfers =
        crate::step::CacheTransfers { prefetch: w.cache.prefetch, efficiency: transfer_efficiency };
    let ctx = PlanCtx {
        tables: &tables,
        tiers: &tiers,
        hw: EstimatorHw::new(&tiers, uvm_efficiency, batch, w.element_bytes, w.cache.prefetch),
        batch,
        elem: w.element_bytes,
        scales: &scales,
        cache: w.cache,
    };
    let started = Instant::now();
    let plan = systems::plan(system, &ctx)?;
    let plan_time = started.elapsed().as_secs_f64();
    plan.check(&tables, &tiers)?;
    let load = plan.load(&tables, &tiers, batch, w.element_bytes, &scales);
    Ok(Prepared {
        workload: w.clone(),
        tables,
        tiers,
        plan,
        load,
        uvm_efficiency,
        transfers,
        plan_time,
    })
}

impl Prepared {
    /// The plan.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The tables as planned.
    pub fn tables(&self) -> &[Table] {
        &self.tables
    }

    /// The tiers.
    pub fn tiers(&self) -> &Tiers {
        &self.tiers
    }

    /// The mean step's work.
    pub fn load(&self) -> &StepLoad {
        &self.load
    }

    /// Wall-clock seconds the planner took (not part of the deterministic results).
    pub fn plan_time_s(&self) -> f64 {
        self.plan_time
    }

    /// Simulates the steps with `seed`; keeps the first step's trace when `trace` is set.
    pub fn run(&self, cluster: &Cluster, seed: u64, trace: bool) -> Result<RunResult, InputError> {
        let w = &self.workload;
        let g = self.tiers.gpus as usize;
        let mut rng = RandomStreams::new(seed).stream("batches");
        let exec = ExecConfig { network: w.network, ..ExecConfig::default() };
        let mut costs = CostCache::new();
        let mut total = SimTime::ZERO;
        let mut step_times = Vec::with_capacity(w.steps as usize);
        let mut gpu_time = vec![0.0f64; g];
        let mut imbalance_sum = 0.0;
        let mut a2a_time = 0.0;
        let mut sync_time = 0.0;
        let mut kept_trace = None;
        for step in 0..w.steps {
            let sg = crate::step::build(
                &self.load,
                &self.tiers,
                self.uvm_efficiency,
                self.transfers,
                &mut rng,
            )?;
            let run = execute_cached(&sg.graph, cluster, &exec, &mut costs)
                .map_err(|e| InputError::Simulation(e.to_string()))?;
            let t = run.makespan();
            total += t;
            step_times.push(t.as_secs_f64());
            let per: Vec<f64> = sg
                .gpu_ops
                .iter()
                .map(|ops| ops.iter().map(|&o| run.duration(o).as_secs_f64()).sum())
                .collect();
            a2a_time += sg.exchanges.iter().map(|&o| run.duration(o).as_secs_f64()).sum::<f64>();
            // Replica all-reduces: the wall-clock span from the first start to the last end
            // (disjoint groups run at the same time).
            if let (Some(a), Some(z)) = (
                sg.syncs.iter().map(|&o| run.start(o)).min(),
                sg.syncs.iter().map(|&o| run.end(o)).max(),
            ) {
                sync_time += (z - a).as_secs_f64();
            }
            let mean = per.iter().sum::<f64>() / g as f64;
            let max = per.iter().copied().fold(0.0, f64::max);
            imbalance_sum += if mean > 0.0 { max / mean } else { 1.0 };
            for (a, b) in gpu_time.iter_mut().zip(&per) {
                *a += b;
            }
            if trace && step == 0 {
                kept_trace = Some(run.chrome_trace(&sg.graph));
            }
        }
        let steps = f64::from(w.steps);
        let step_time = total.as_secs_f64() / steps;
        let (ids_global, ids_intra) = StepLoad::split_by_node(&self.load.ids, &self.tiers);
        let (out_global, out_intra) = StepLoad::split_by_node(&self.load.outputs, &self.tiers);
        let mut r = RunResult::new();
        r.metric("emb_throughput_samples_s", w.batch as f64 / step_time.max(1e-12))
            .metric("step_time_s", step_time)
            .metric("load_imbalance", imbalance_sum / steps)
            .metric("a2a_time_s", a2a_time / steps)
            .metric("sync_time_s", sync_time / steps)
            .metric("slow_tier_accesses", self.load.uvm_accesses.iter().sum())
            .metric("a2a_bytes_global", ids_global + 2.0 * out_global)
            .metric("a2a_bytes_intra", ids_intra + 2.0 * out_intra)
            .metric("hbm_used_bytes", self.load.hbm_used.iter().copied().fold(0.0, f64::max))
            .metric("host_bytes", self.load.host_bytes())
            .metric(
                "hbm_hit_rate",
                1.0 - self.load.uvm_accesses.iter().sum::<f64>()
                    / self.load.lookups.iter().sum::<f64>().max(1e-300),
            );
        r.series("gpu_index", (0..g).map(|i| i as f64).collect())
            .series("step_time_s", step_times)
            .series("gpu_time_s", gpu_time.iter().map(|x| x / steps).collect())
            .series("hbm_used_bytes", self.load.hbm_used.clone())
            .series("uvm_used_bytes", self.load.uvm_used.clone())
            .series("slow_tier_accesses", self.load.uvm_accesses.clone());
        let (rows, lookups) = access_curve(&self.tables, w.batch as f64, 60);
        r.series("row_share", rows).series("lookup_share", lookups);
        r.trace = kept_trace;
        r.timings.insert("plan_time_s".into(), self.plan_time);
        Ok(r)
    }
}
