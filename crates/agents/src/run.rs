//! `prepare` and `run` of `kind: agents`: builds the world of a seed, the LLM service, runs
//! the system's engine, and sets its result beside the baselines (single-thread,
//! parallel-sync, oracle) and the bounds (no-dependency, critical path) of the same world.
//!
//! Baselines of a (workload, cluster, seed) are computed once per process and shared by every
//! system that needs them (a run of `metropolis` needs `single-thread`, `parallel-sync` and
//! `oracle` for its speedups); they are deterministic, so sharing changes no result.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use cluster::Cluster;
use simcore::{InputError, RunResult, SimTime};

use serving::{CachePolicy, EngineConfig, Replicas, RooflineCost, Router, SchedulePolicy, Server};

use crate::config::{AgentsWorkload, SystemSpec, WorldSpec};
use crate::engines::{
    Metropolis, Oracle, ParallelSync, SingleThread, SoloLatency, critical_path, run_no_dependency,
};
use crate::generator::{Span, copy_stream, generate};
use crate::neighbors::Neighbors;
use crate::replay::replay;
use crate::runner::{RunOptions, RunOutcome, request, run};
use crate::smallville::{Persona, Recording, SmallvilleMap, load_demo, personas};
use crate::trace::AgentTrace;

/// A checked workload and system on a cluster.
pub struct Prepared {
    workload: AgentsWorkload,
    system: SystemSpec,
    model: models::TransformerSpec,
    cluster: Arc<Cluster>,
    engine: EngineConfig,
    cache: CachePolicy,
    kv_tokens: u64,
    source: Source,
    /// Key of the baselines' memo: the workload and cluster as text.
    key: String,
}

/// What worlds are built from.
enum Source {
    Generated { map: SmallvilleMap, people: Vec<Persona>, span: Span },
    Recorded { rec: Recording, span: Span },
    Trace(Arc<AgentTrace>),
}

/// Checks `w` and `system` on `cluster`; errors name the field.
pub fn prepare(
    cluster: &Cluster,
    w: &AgentsWorkload,
    system: &SystemSpec,
) -> Result<Prepared, InputError> {
    w.validate()?;
    let model =
        models::resolve(&w.llm.model).map_err(|e| InputError::at("workload.llm.model", e))?;
    let spec = cluster.spec();
    let gpus = u64::from(spec.node.gpus) * u64::from(spec.nodes);
    let want = u64::from(w.llm.replicas) * u64::from(w.llm.tp);
    if want > gpus {
        return Err(InputError::at(
            "workload.llm.replicas",
            format!(
                "{} replicas x tp {} need {want} GPUs; the cluster has {gpus} ({} nodes of {})",
                w.llm.replicas, w.llm.tp, spec.nodes, spec.node.gpus
            ),
        ));
    }
    let cluster = Arc::new(cluster.clone());
    let cost =
        RooflineCost::new(model.clone(), cluster.clone(), w.llm.cost.config(w.llm.dtype, w.llm.tp))
            .map_err(|e| relocate(e, "workload.llm"))?;
    let kv_tokens = cost.kv_pool_tokens().map_err(|e| relocate(e, "workload.llm"))?;
    let context_len = w.llm.engine.context_len.unwrap_or(u64::from(model.seq_len));
    // With step priority the queue is in priority order (fcfs walks it); without, SGLang's
    // default: longest prefix first when the cache is on.
    let schedule = if w.llm.prefix_caching && !w.llm.priority {
        SchedulePolicy::Lpm
    } else {
        SchedulePolicy::Fcfs
    };
    let engine = EngineConfig {
        priority: w.llm.priority,
        ..w.llm.engine.config(kv_tokens, context_len, schedule, 0)
    };
    engine.validate().map_err(|e| relocate(e, "workload.llm"))?;
    let cache =
        if w.llm.prefix_caching { CachePolicy::Radix { page_size: 1 } } else { CachePolicy::None };
    let source = match &w.world {
        WorldSpec::Generated { start_hour, hours, .. } => Source::Generated {
            map: SmallvilleMap::load()?,
            people: personas()?,
            span: Span::of_hours(*start_hour, *hours, "workload.world.hours")?,
        },
        WorldSpec::Recorded { start_hour, hours } => {
            let rec = load_demo()?;
            let span = Span::of_hours(*start_hour, *hours, "workload.world.hours")?;
            Source::Recorded { rec, span }
        }
        WorldSpec::Trace { path } => {
            let file = simcore::data::resolve(std::path::Path::new(path))
                .map_err(|e| InputError::at("workload.world.path", e.to_string()))?;
            let text = std::fs::read_to_string(&file).map_err(|e| {
                InputError::at("workload.world.path", format!("{}: {e}", file.display()))
            })?;
            let t = AgentTrace::read_jsonl(&file.display().to_string(), &text)?;
            t.validate(w.max_vel)
                .map_err(|e| InputError::data(file.display().to_string(), 0, e))?;
            Source::Trace(Arc::new(t))
        }
    };
    let key = format!(
        "{}|{}",
        serde_json::to_string(w).unwrap_or_default(),
        serde_json::to_string(spec).unwrap_or_default()
    );
    Ok(Prepared {
        workload: w.clone(),
        system: system.clone(),
        model,
        cluster,
        engine,
        cache,
        kv_tokens,
        source,
        key,
    })
}

fn relocate(e: InputError, prefix: &str) -> InputError {
    match e {
        InputError::Invalid { field, message } if !field.starts_with("workload") => {
            InputError::Invalid { field: format!("{prefix}.{field}"), message }
        }
        other => other,
    }
}

/// One memoised baseline: its completion time (s), or the error that stopped it.
type Cell = Arc<OnceLock<Result<f64, String>>>;

/// The memo of baselines: key -> completion time (s).
fn memo() -> &'static Mutex<HashMap<String, Cell>> {
    static MEMO: OnceLock<Mutex<HashMap<String, Cell>>> = OnceLock::new();
    MEMO.get_or_init(|| Mutex::new(HashMap::new()))
}

impl Prepared {
    /// The world of `seed`.
    pub fn world(&self, seed: u64) -> Result<Arc<AgentTrace>, InputError> {
        let w = &self.workload;
        let one = |copy: u32| -> AgentTrace {
            let mut rng = copy_stream(seed, copy);
            match &self.source {
                Source::Generated { map, people, span } => {
                    let WorldSpec::Generated { agents, town, .. } = &w.world else {
                        unreachable!("generated source")
                    };
                    generate(
                        (*agents).min(25),
                        town,
                        &w.calls,
                        &w.hourly_calls,
                        w.radius_p,
                        *span,
                        map,
                        people,
                        &mut rng,
                    )
                }
                Source::Recorded { rec, span } => {
                    replay(rec, *span, &w.calls, &w.hourly_calls, &mut rng)
                }
                Source::Trace(t) => (**t).clone(),
            }
        };
        let base = match &self.source {
            Source::Trace(t) if w.copies() <= 1 => return Ok(t.clone()),
            _ => one(0),
        };
        let generated = matches!(self.source, Source::Generated { .. });
        let t = base
            .tile(w.copies(), |k| generated.then(|| one(k)))
            .map_err(|e| InputError::at("workload.tile", e))?;
        Ok(Arc::new(t))
    }

    /// A fresh LLM service.
    fn service(&self, seed: u64) -> Result<Replicas, InputError> {
        let servers = (0..self.workload.llm.replicas)
            .map(|r| {
                let cost = RooflineCost::new(
                    self.model.clone(),
                    self.cluster.clone(),
                    self.workload.llm.cost.config(self.workload.llm.dtype, self.workload.llm.tp),
                )?;
                let engine =
                    EngineConfig { seed: seed.wrapping_add(u64::from(r)), ..self.engine.clone() };
                Server::new(engine, self.cache.build(), Box::new(cost))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Replicas::new(servers, Router::new(self.workload.llm.router)))
    }

    /// Checks every call of `trace` against the server (context length, pool).
    fn check_calls(&self, trace: &AgentTrace) -> Result<(), InputError> {
        let service = self.service(0)?;
        let mut seen = std::collections::HashSet::new();
        for (i, c) in trace.all_calls().iter().enumerate() {
            if seen.insert((c.input_tokens, c.output_tokens)) {
                service
                    .check(&request(c, 0, i as u32, SimTime::ZERO, 0))
                    .map_err(|e| InputError::at("workload.calls", e.to_string()))?;
            }
        }
        Ok(())
    }

    /// Runs engine `system` on `trace`.
    pub fn run_engine(
        &self,
        system: &SystemSpec,
        trace: &AgentTrace,
        seed: u64,
        record: bool,
    ) -> Result<RunOutcome, InputError> {
        let w = &self.workload;
        let service = self.service(seed)?;
        let nb = Neighbors::new(trace, w.radius_p);
        let opts = RunOptions { priority: w.llm.priority, check: Some(&nb), record };
        let n = trace.agents();
        let out = match system {
            SystemSpec::SingleThread => run(trace, SingleThread::default(), service, opts),
            SystemSpec::ParallelSync => run(trace, ParallelSync::default(), service, opts),
            SystemSpec::Metropolis { workers } => {
                run(trace, Metropolis::new(w.radius_p, w.max_vel, *workers, n), service, opts)
            }
            SystemSpec::Oracle => run(trace, Oracle::new(nb.clone(), n), service, opts),
            SystemSpec::NoDependency => run_no_dependency(trace, service, w.llm.priority),
            SystemSpec::CriticalPath => {
                let mut cost = RooflineCost::new(
                    self.model.clone(),
                    self.cluster.clone(),
                    w.llm.cost.config(w.llm.dtype, w.llm.tp),
                )?;
                let mut solo =
                    SoloLatency::new(&mut cost, self.engine.chunked_prefill, w.llm.prefix_caching);
                let cp = critical_path(trace, &nb, &mut solo);
                let calls = trace.all_calls();
                RunOutcome {
                    completion: cp,
                    calls: calls.len() as u64,
                    tokens_in: calls.iter().map(|c| u64::from(c.input_tokens)).sum(),
                    tokens_out: calls.iter().map(|c| u64::from(c.output_tokens)).sum(),
                    ..RunOutcome::default()
                }
            }
        };
        Ok(out)
    }

    /// Completion time (s) of `system` on the world of `seed`, computed once per process.
    fn baseline(
        &self,
        system: &SystemSpec,
        trace: &AgentTrace,
        seed: u64,
        known: Option<f64>,
    ) -> Result<f64, InputError> {
        let key = format!("{}|{}|{seed}", self.key, system.name());
        let cell = {
            let mut m = memo().lock().unwrap_or_else(|e| e.into_inner());
            m.entry(key).or_insert_with(|| Arc::new(OnceLock::new())).clone()
        };
        let r = cell.get_or_init(|| match known {
            Some(v) => Ok(v),
            None => self
                .run_engine(system, trace, seed, false)
                .map(|o| o.completion.as_secs_f64())
                .map_err(|e| e.to_string()),
        });
        r.clone().map_err(|e| InputError::at("workload", e))
    }

    /// One run of the system with `seed`.
    pub fn run(&self, seed: u64) -> Result<RunResult, InputError> {
        let trace = self.world(seed)?;
        self.check_calls(&trace)?;
        let out = self.run_engine(&self.system, &trace, seed, false)?;
        let completion = out.completion.as_secs_f64();
        let own = Some(completion);
        let me = |s: &SystemSpec| if *s == self.system { own } else { None };
        let single =
            self.baseline(&SystemSpec::SingleThread, &trace, seed, me(&SystemSpec::SingleThread))?;
        let sync =
            self.baseline(&SystemSpec::ParallelSync, &trace, seed, me(&SystemSpec::ParallelSync))?;
        let oracle = self.baseline(&SystemSpec::Oracle, &trace, seed, me(&SystemSpec::Oracle))?;
        let no_dep =
            self.baseline(&SystemSpec::NoDependency, &trace, seed, me(&SystemSpec::NoDependency))?;
        let cp =
            self.baseline(&SystemSpec::CriticalPath, &trace, seed, me(&SystemSpec::CriticalPath))?;
        let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
        let mut r = RunResult::new();
        r.metric("completion_s", completion)
            .metric("speedup_vs_single", ratio(single, completion))
            .metric("speedup_vs_sync", ratio(sync, completion))
            .metric("frac_of_oracle", ratio(oracle, completion))
            .metric("critical_path_s", cp)
            .metric("no_dependency_s", no_dep)
            .metric("calls", out.calls as f64)
            .metric("tokens_in", out.tokens_in as f64)
            .metric("tokens_out", out.tokens_out as f64)
            .metric("agents", f64::from(trace.agents()))
            .metric("steps", f64::from(trace.steps()))
            .metric(
                "mean_neighbors",
                Neighbors::new(&trace, self.workload.radius_p).mean_neighbors(&trace),
            )
            .metric("kv_pool_tokens", self.kv_tokens as f64);
        if !matches!(self.system, SystemSpec::CriticalPath) {
            r.metric("mean_outstanding_calls", out.mean_outstanding)
                .metric("gpu_busy_frac", out.gpu_busy_frac)
                .metric("cache_hit_rate", out.cache_hit_rate);
            let max = self.workload.series_points as usize;
            let names = ["time_s", "outstanding_calls", "step_spread"];
            for (name, s) in names.iter().zip(&out.series) {
                r.series_thinned(name, s, max);
            }
        }
        if !matches!(self.system, SystemSpec::CriticalPath | SystemSpec::NoDependency) {
            r.metric("invariant_violations", out.violations as f64);
        }
        Ok(r)
    }
}
