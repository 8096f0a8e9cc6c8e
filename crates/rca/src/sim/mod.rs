//! The microservice simulator: a [`System`] under [`Faults`], run on simcore's event engine,
//! producing the telemetry an operator would see.
//!
//! **Model.** Users send requests of each type as a Poisson process whose rate follows the
//! system's daily shape (thinning, Lewis and Shedler 1979). A request or call travels to its
//! service in `network_delay`, goes to the next live replica round-robin and waits in that
//! replica's FIFO queue until one of its `cores` is free (per-replica queues, not one shared
//! queue); then it does its CPU work (exponential, mean `cpu` of the endpoint, slowed by a
//! CPU hog), frees the core, does its disk I/O (exponential, mean `io`, slowed by a disk
//! hog; disks are not a queue), then its calls: steps in sequence, the calls of one step in
//! parallel, the caller waiting (without holding a core) for all of them. A failed call
//! (error reply or timeout) is retried at once up to its `retries`; a call that still fails
//! makes the caller's reply an error, but the caller still runs its remaining steps (so
//! errors never change downstream request rates). Replies travel back in `network_delay`
//! (plus a network-delay fault's delay). A caller that times out stops waiting; the callee
//! finishes its work anyway and its late reply is dropped.
//!
//! **Metrics**, per service and interval (the columns `<service>.<metric>`, see
//! [`MetricKind`]): CPU utilisation of its cores (work started in the interval plus a CPU
//! hog's time, over cores x replicas x interval); memory per replica in MiB at the interval's
//! end (idle memory + leak + memory per request x requests in flight, mean over replicas);
//! request rate (attempts sent to it per second, retries included); error rate (share of the
//! attempts that ended in the interval with an error or a timeout); latency p50 and p99 in ms
//! of those attempts as their callers see them (send to reply; a timeout counts as the
//! timeout), from a fixed-bucket histogram within 1.6% ([`histogram`]); an interval without
//! completed attempts repeats the last latency quantiles. These are client-side figures, as a
//! service mesh's proxies report them.
//!
//! After the last interval no new user requests arrive and the run drains: every request
//! completes, fails or times out ([`RunSummary`] has the counts).

pub mod histogram;
mod model;

use serde::{Deserialize, Serialize};
use simcore::{RandomStreams, SimTime, Simulation};

use crate::data::DataMatrix;
use crate::fault::Faults;
use crate::sim::model::Micro;
use crate::system::{SpecError, System};

/// The metrics of each service, in column order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetricKind {
    /// CPU utilisation of the service's cores, in [0, 1] (more during an overloaded CPU hog).
    Cpu,
    /// Memory per replica, MiB.
    Memory,
    /// Attempts sent to the service per second.
    RequestRate,
    /// Share of attempts ending in an error or timeout.
    ErrorRate,
    /// Median latency, ms.
    LatencyP50,
    /// 99th-percentile latency, ms.
    LatencyP99,
}

/// Metrics per service.
pub const METRICS_PER_SERVICE: usize = 6;

impl MetricKind {
    /// All kinds, in column order.
    pub const ALL: [MetricKind; METRICS_PER_SERVICE] = [
        MetricKind::Cpu,
        MetricKind::Memory,
        MetricKind::RequestRate,
        MetricKind::ErrorRate,
        MetricKind::LatencyP50,
        MetricKind::LatencyP99,
    ];

    /// The suffix of the metric's name.
    pub fn suffix(self) -> &'static str {
        match self {
            MetricKind::Cpu => "cpu",
            MetricKind::Memory => "memory",
            MetricKind::RequestRate => "request_rate",
            MetricKind::ErrorRate => "error_rate",
            MetricKind::LatencyP50 => "latency_p50",
            MetricKind::LatencyP99 => "latency_p99",
        }
    }

    /// Position among a service's metrics.
    pub fn offset(self) -> usize {
        self as usize
    }
}

/// The column of `service`'s `kind` metric.
pub fn metric_index(service: usize, kind: MetricKind) -> usize {
    service * METRICS_PER_SERVICE + kind.offset()
}

/// Every metric name of `system`, in column order: `<service>.<suffix>`.
pub fn metric_names(system: &System) -> Vec<String> {
    system
        .services()
        .iter()
        .flat_map(|s| MetricKind::ALL.iter().map(move |k| format!("{}.{}", s.name, k.suffix())))
        .collect()
}

/// How to run a simulation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimConfig {
    /// Simulated time during which users send requests (default 24 h).
    #[serde(default = "default_duration")]
    pub duration: SimTime,
    /// Metrics interval (default 1 min); the telemetry has `duration / interval` rows.
    #[serde(default = "default_interval")]
    pub interval: SimTime,
    /// Run seed.
    #[serde(default)]
    pub seed: u64,
    /// Factor on every request type's rate (default 1).
    #[serde(default = "one")]
    pub rate_scale: f64,
    /// Time of day at the start of the run (default midnight).
    #[serde(default)]
    pub start_time_of_day: SimTime,
}

fn default_duration() -> SimTime {
    SimTime::from_secs(86_400)
}

fn default_interval() -> SimTime {
    SimTime::from_secs(60)
}

fn one() -> f64 {
    1.0
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            duration: default_duration(),
            interval: default_interval(),
            seed: 0,
            rate_scale: 1.0,
            start_time_of_day: SimTime::ZERO,
        }
    }
}

/// Outcomes of one request type's user requests.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RequestSummary {
    /// Request type.
    pub name: String,
    /// Requests sent.
    pub sent: u64,
    /// Answered without error.
    pub ok: u64,
    /// Answered with an error.
    pub errors: u64,
    /// Timed out at the user.
    pub timeouts: u64,
}

/// A service's totals over the whole run, drain included.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ServiceSummary {
    /// Service.
    pub name: String,
    /// Attempts sent to it (retries included).
    pub attempts: u64,
    /// Attempts answered without error.
    pub ok: u64,
    /// Attempts answered with an error.
    pub errors: u64,
    /// Attempts that timed out at the caller.
    pub timeouts: u64,
    /// Retries sent after a failed attempt.
    pub retries: u64,
    /// Requests to it and replies from it lost to packet loss.
    pub lost: u64,
    /// OOM kills (all replicas at once).
    pub ooms: u64,
    /// Sum of the latencies of the attempts answered without error, seconds.
    pub ok_latency_s: f64,
    /// CPU work done, core-seconds.
    pub cpu_work_s: f64,
}

/// Counts of a whole run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RunSummary {
    /// Per request type.
    pub requests: Vec<RequestSummary>,
    /// Per service.
    pub services: Vec<ServiceSummary>,
    /// Events handled.
    pub events: u64,
    /// Jobs still allocated at the end (0: everything completed, failed or timed out).
    pub unfinished: usize,
    /// Most jobs alive at once (slab size).
    pub peak_jobs: usize,
}

/// The output of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Telemetry {
    /// One row per interval, one column per metric (`<service>.<metric>`).
    pub data: DataMatrix,
    /// End of each row's interval, seconds from the start of the run.
    pub timestamps: Vec<f64>,
    /// Counts.
    pub summary: RunSummary,
}

/// Runs `system` under `faults` for `config.duration`.
pub fn simulate(
    system: &System,
    faults: &Faults,
    config: &SimConfig,
) -> Result<Telemetry, SpecError> {
    if config.interval == SimTime::ZERO {
        return Err(SpecError::invalid("interval", "must be positive, e.g. 1min"));
    }
    let rows = (config.duration.as_nanos() / config.interval.as_nanos()) as usize;
    if rows == 0 {
        return Err(SpecError::invalid(
            "duration",
            format!("{} is shorter than one interval ({})", config.duration, config.interval),
        ));
    }
    let cells = rows.saturating_mul(system.services().len() * METRICS_PER_SERVICE);
    if cells > 200_000_000 {
        return Err(SpecError::invalid(
            "interval",
            format!(
                "{rows} rows x {} metrics is too much telemetry; use a longer interval",
                system.services().len() * METRICS_PER_SERVICE
            ),
        ));
    }
    if !(config.rate_scale.is_finite() && config.rate_scale > 0.0) {
        return Err(SpecError::invalid(
            "rate_scale",
            format!("{} must be positive", config.rate_scale),
        ));
    }
    faults.check_within(config.duration)?;
    let streams = RandomStreams::new(config.seed);
    let model = Micro::new(
        system,
        faults,
        &streams,
        config.duration,
        config.interval,
        rows,
        config.rate_scale,
        config.start_time_of_day.as_secs_f64(),
    );
    let mut sim = Simulation::new(model);
    for (at, ev) in sim.model_mut().initial_events() {
        sim.schedule_at(at, ev);
    }
    sim.run();
    let events = sim.events_handled();
    let model = sim.into_model();
    let names = metric_names(system);
    let summary = RunSummary {
        requests: model.requests.clone(),
        services: model.service_totals(),
        events,
        unfinished: model.live_jobs(),
        peak_jobs: model.max_jobs,
    };
    let data = DataMatrix::from_column_major(rows, names.len(), model.values)
        .and_then(|d| d.with_names(names))
        .map_err(|e| {
            SpecError::invalid("simulation", format!("metrics could not be assembled: {e}"))
        })?;
    let step = config.interval.as_nanos();
    let timestamps = (1..=rows as u64).map(|k| (k * step) as f64 / 1e9).collect();
    Ok(Telemetry { data, timestamps, summary })
}
