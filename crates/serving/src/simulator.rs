//! `kind: serving` — what this simulator offers the experiment runner: an LLM server (or
//! data-parallel replicas of it behind a router) serving a workload of LLM calls, with KV-cache
//! reuse by SGLang's RadixAttention, vLLM's prefix blocks, or none.
//!
//! [`prepare`] resolves the model, prices it on the cluster's GPU ([`RooflineCost`]), sizes
//! the KV pool, builds the engine settings and generates the workload once (seed 0) to check
//! every call against the engine; [`Prepared::run`] generates the calls for the run's seed
//! and serves them with [`drive`]. The metrics, series and units declared here are the names
//! `run` emits; the runner checks every run's result against them.

use std::sync::Arc;

use cluster::Cluster;
use simcore::{Described, Description, InputError, RunResult, Simulator};

use crate::config::EngineConfig;
use crate::cost::RooflineCost;
use crate::driver::drive;
use crate::router::Router;
use crate::workload::{Arrivals, Call, WorkloadSpec};
use crate::workload_config::{ServingWorkload, SystemSpec};
use crate::{CachePolicy, Request, Server};

/// The serving simulator, as the experiment runner drives it.
pub struct ServingSimulator;

const SYSTEMS: &[Described] = &[
    Described {
        name: "radix",
        unit: "",
        description: "SGLang RadixAttention: token-granular radix tree, LRU leaf eviction; params: schedule (default lpm, longest prefix match first), page_size (1), admission (default the workload's)",
    },
    Described {
        name: "prefix-blocks",
        unit: "",
        description: "vLLM automatic prefix caching: hash-chained full blocks, LRU free queue; params: schedule (default fcfs), block_size (16), admission (default the workload's; `vllm` for vLLM's watermark)",
    },
    Described {
        name: "none",
        unit: "",
        description: "no KV reuse across requests; params: schedule (default fcfs), admission. Every system runs the same engine, admission and cost model unless a param changes it",
    },
];

const METRICS: &[Described] = &[
    Described {
        name: "throughput_req_s",
        unit: "req/s",
        description: "request throughput: finished requests per second (first arrival to last finish)",
    },
    Described {
        name: "throughput_tok_s",
        unit: "tok/s",
        description: "output token throughput: output tokens per second",
    },
    Described {
        name: "throughput_programs_s",
        unit: "programs/s",
        description: "program throughput: finished programs (chats, trees, agents, prompt groups) per second",
    },
    Described {
        name: "cache_hit_rate",
        unit: "",
        description: "cache hit rate: prompt tokens reused from the cache at first admission / prompt tokens",
    },
    Described {
        name: "optimal_hit_rate",
        unit: "",
        description: "optimal hit rate: the offline bound (every distinct prefix computed once; tokens decoded earlier are free)",
    },
    Described { name: "ttft_p50_s", unit: "s", description: "median time to first token" },
    Described { name: "ttft_p99_s", unit: "s", description: "99th percentile time to first token" },
    Described {
        name: "tpot_s",
        unit: "s",
        description: "time per output token after the first, mean over requests",
    },
    Described {
        name: "e2e_p50_s",
        unit: "s",
        description: "median request latency (arrival to finish)",
    },
    Described {
        name: "e2e_p99_s",
        unit: "s",
        description: "99th percentile request latency (arrival to finish)",
    },
    Described {
        name: "mean_batch_tokens",
        unit: "tokens",
        description: "tokens per iteration: prefill chunk tokens plus one per decode, mean",
    },
    Described {
        name: "preemptions",
        unit: "",
        description: "running requests retracted for memory",
    },
    Described {
        name: "kv_used_frac",
        unit: "",
        description: "KV pool in use (cache and running requests), time-weighted mean over replicas",
    },
    Described { name: "requests", unit: "", description: "requests served" },
    Described { name: "kv_pool_tokens", unit: "tokens", description: "KV pool of one replica" },
    Described {
        name: "makespan_s",
        unit: "s",
        description: "simulated time to serve every request",
    },
];

const SERIES: &[Described] = &[
    Described { name: "time_s", unit: "s", description: "simulated time of each sample" },
    Described {
        name: "queue_len",
        unit: "requests",
        description: "waiting requests over all replicas",
    },
    Described { name: "kv_used_frac", unit: "", description: "KV pool in use, mean over replicas" },
    Described {
        name: "running",
        unit: "requests",
        description: "running requests over all replicas",
    },
    Described {
        name: "ttft_s",
        unit: "s",
        description: "time to first token of each request (finishing order)",
    },
    Described {
        name: "e2e_s",
        unit: "s",
        description: "latency of each request, arrival to finish (finishing order)",
    },
];

const DESCRIPTION: Description = Description {
    name: "serving",
    description: "LLM serving with KV-cache reuse: RadixAttention vs prefix blocks vs none, continuous batching on the roofline cost model, replicas behind a router",
    systems: SYSTEMS,
    metrics: METRICS,
    series: SERIES,
    matrices: &[],
    headline_metrics: &["throughput_req_s", "cache_hit_rate", "optimal_hit_rate", "ttft_p50_s"],
};

/// A checked (workload, system) on a cluster, ready to run for any seed.
pub struct Prepared {
    workload: ServingWorkload,
    requests: WorkloadSpec,
    system: SystemSpec,
    model: models::TransformerSpec,
    cluster: Arc<Cluster>,
    cache: CachePolicy,
    engine: EngineConfig,
    arrivals: Arrivals,
    kv_tokens: u64,
}

/// Points an error's field into the config: engine and cost settings, the model and the
/// dtype live under `workload`.
fn locate(e: InputError) -> InputError {
    match e {
        InputError::Invalid { field, message } => {
            let field = if field.starts_with("params.")
                || field == "system"
                || field.starts_with("workload")
            {
                field
            } else if field == "cost.dtype" {
                "workload.dtype".into()
            } else if field == "cost.tp" {
                "workload.tp".into()
            } else {
                format!("workload.{field}")
            };
            InputError::Invalid { field, message }
        }
        other => other,
    }
}

/// Checks a workload and system against a cluster; every error names its field.
pub fn prepare(
    cluster: &Cluster,
    w: &ServingWorkload,
    system: &SystemSpec,
) -> Result<Prepared, InputError> {
    prepare_inner(cluster, w, system).map_err(locate)
}

fn prepare_inner(
    cluster: &Cluster,
    w: &ServingWorkload,
    system: &SystemSpec,
) -> Result<Prepared, InputError> {
    let model = models::resolve(&w.model).map_err(|e| InputError::at("model", e))?;
    let requests = w.resolve_requests()?.clone();
    requests.validate()?;
    for (name, spec) in &w.workloads {
        spec.validate().map_err(|e| match e {
            InputError::Invalid { field, message } => InputError::Invalid {
                field: field.replacen(
                    "workload.requests",
                    &format!("workload.workloads.{name}"),
                    1,
                ),
                message,
            },
            other => other,
        })?;
    }
    let cache = system.cache()?;
    system.schedule()?;
    if w.replicas == 0 {
        return Err(InputError::at("replicas", "at least one replica is needed"));
    }
    let spec = cluster.spec();
    let gpus = u64::from(spec.node.gpus) * u64::from(spec.nodes);
    let want = u64::from(w.replicas) * u64::from(w.tp);
    if want > gpus {
        return Err(InputError::at(
            "replicas",
            format!(
                "{} replicas x tp {} need {want} GPUs; the cluster has {gpus} ({} nodes of {})",
                w.replicas, w.tp, spec.nodes, spec.node.gpus
            ),
        ));
    }
    let cluster = Arc::new(cluster.clone());
    let cost = RooflineCost::new(model.clone(), cluster.clone(), w.cost_config())?;
    let kv_tokens = cost.kv_pool_tokens()?;
    let context_len = w.engine.context_len.unwrap_or(u64::from(model.seq_len));
    let engine = system.engine_config(w, kv_tokens, context_len, 0)?;
    engine.validate()?;
    let arrivals = w.arrivals.arrivals()?;
    let prepared = Prepared {
        workload: w.clone(),
        requests,
        system: system.clone(),
        model,
        cluster,
        cache,
        engine,
        arrivals,
        kv_tokens,
    };
    // Generate once to check the requests (sizes, context, pool) before any run.
    let calls = prepared.calls(0)?;
    let server = prepared.server(0)?;
    for c in &calls {
        let req = Request::new(c.id, simcore::SimTime::ZERO, c.prompt.clone(), c.output_tokens, 0);
        server.check(&req).map_err(|e| InputError::at("workload.requests", e.to_string()))?;
    }
    Ok(prepared)
}

impl Prepared {
    /// The system.
    pub fn system(&self) -> &SystemSpec {
        &self.system
    }

    /// The calls of seed `seed`.
    pub fn calls(&self, seed: u64) -> Result<Vec<Call>, InputError> {
        self.requests.calls(seed, &self.arrivals)
    }

    /// A new replica with an empty cache.
    fn server(&self, seed: u64) -> Result<Server, InputError> {
        let cost = RooflineCost::new(
            self.model.clone(),
            self.cluster.clone(),
            self.workload.cost_config(),
        )?;
        let engine = EngineConfig { seed, ..self.engine.clone() };
        Server::new(engine, self.cache.build(), Box::new(cost))
    }

    /// Serves the workload of `seed`.
    pub fn run(&self, seed: u64) -> Result<RunResult, InputError> {
        let calls = self.calls(seed)?;
        let servers = (0..self.workload.replicas)
            .map(|r| self.server(seed.wrapping_add(u64::from(r))))
            .collect::<Result<Vec<_>, _>>()?;
        let run = drive(servers, Router::new(self.workload.router), calls)?;
        let mut r = run.to_run_result(self.workload.series_points as usize);
        r.metric("requests", run.completions.len() as f64)
            .metric("kv_pool_tokens", self.kv_tokens as f64)
            .metric("makespan_s", run.end.as_secs_f64());
        Ok(r)
    }
}

impl Simulator for ServingSimulator {
    type Env = Cluster;
    type Workload = ServingWorkload;
    type System = SystemSpec;
    type Prepared = Prepared;

    const DESCRIPTION: Description = DESCRIPTION;

    fn prepare(
        cluster: &Cluster,
        workload: &ServingWorkload,
        system: &SystemSpec,
    ) -> Result<Prepared, InputError> {
        prepare(cluster, workload, system)
    }

    fn run(
        prepared: &Prepared,
        _cluster: &Cluster,
        seed: u64,
        _trace: bool,
    ) -> Result<RunResult, InputError> {
        prepared.run(seed)
    }
}
