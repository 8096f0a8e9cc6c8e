//! `prepare` and `run` of `kind: rca`: generate a run's incidents, build the system's causal
//! graph from the normal period, localise every incident and score the rankings.
//!
//! **Incidents.** `benchmark: circa`: one CIRCA model per run (stream `rca/circa/*` of the
//! run seed) and `cases` cases of it; each case has its own normal period and fault, and
//! the graph is built once, from case 0's normal period (every case shares the model's
//! DAG). `benchmark: system`: one simulation per run — `normal` fault-free time, then
//! `cases` faults one after another, each lasting `fault_duration` and followed by `gap`
//! of recovery — so every incident's normal period is the same first `normal` rows, the
//! graph is built from them, and an incident's abnormal rows are its fault's rows. Each
//! fault's service is drawn uniformly (stream `rca/incidents`; a disk hog only among the
//! services that do disk I/O), its kind is `fault` or, for `random`, drawn uniformly from
//! the six, and its magnitude is fixed per kind ([`FAULT_MAGNITUDES`]).
//!
//! **Missing metrics.** `metrics_missing` drops round(share x metrics) columns (stream
//! `rca/metrics-missing`) before anything sees the data; the true graph is then the truth
//! restricted to the remaining metrics (no paths through the missing ones added).
//!
//! **Scores.** CIRCA is scored per metric (its root causes are metrics); systems per
//! service (a metric ranking becomes a service ranking by each service's best-ranked
//! metric; the truth is the faulty service). AC@k and Avg@5 are RCAEval's (`score.rs`).
//!
//! The telemetry (or CIRCA cases) of a (workload, seed) and the graph of a (workload, seed,
//! source) are computed once per process and shared by every system that uses them: they
//! are deterministic, so sharing changes no result, only the time a sweep takes.

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use simcore::units::Bandwidth;
use simcore::{InputError, RandomStreams, RunResult, SimTime};

use crate::circa::CircaSpec;
use crate::config::{
    BackendChoice, Benchmark, FaultChoice, LocalizerChoice, MissingNormalChoice, RcaSystem,
    RcaWorkload,
};
use crate::data::DataMatrix;
use crate::error::RcaError;
use crate::fault::{FaultKind, FaultSpec, Faults};
use crate::graph::CausalGraph;
use crate::localize::baro::Baro;
use crate::localize::circa_ht::CircaHt;
use crate::localize::random_walk::RandomWalk;
use crate::localize::{Incident, Localizer};
use crate::petshop::bench::{ScenarioGraphInput, graph_input, issue_cases, restrict_by_name};
use crate::petshop::{PetshopError, Scenario, load_scenario};
use crate::score::{RankedCase, ac_at_k, avg_at_k, compare_graphs};
use crate::sim::{METRICS_PER_SERVICE, SimConfig, simulate};
use crate::sources::atlas::{AtlasConfig, AtlasSource, Backend};
use crate::sources::clean::select;
use crate::sources::ground_truth::GroundTruthSource;
use crate::sources::pc::{PcSource, PcSourceConfig};
use crate::sources::{ComponentDocs, GraphSource, SourceError, SourceInput, run_source};
use crate::system::System;
use crate::system::builtin::{BUILTIN, builtin};

/// Each fault kind's magnitude in the system benchmark (per replica of the faulty service):
/// CPU hog 0.8 of its cores; memory leak reaching 0.9 of the room between its memory and
/// its limit at the fault's end (no OOM kill); 50 ms added delay; 20% packet loss; disk
/// I/O 8x slower; a misconfiguration's error rate rising to 0.5.
pub const FAULT_MAGNITUDES: &str = "cpu-hog 0.8 cores-share, memory-leak 0.9 of the room \
    to the limit, network-delay 50ms, packet-loss 0.2, disk-hog 8x, misconfiguration 0.5";

/// Fewest normal rows accepted (Fisher-z and the localisers' baselines need samples).
const MIN_NORMAL_ROWS: u64 = 30;

/// A checked (workload, system), ready to run for any seed.
pub struct Prepared {
    bench: Bench,
    method: Method,
    workload: RcaWorkload,
    /// The workload as JSON: the key of the per-seed data memo.
    data_key: String,
    /// What the simulation depends on, as JSON: the key of the per-seed telemetry memo.
    sim_key: String,
    /// The graph source as JSON: with `data_key` and the seed, the key of the graph memo.
    source_key: String,
}

/// Where incidents come from.
enum Bench {
    Circa(CircaSpec),
    System(Box<SystemBench>),
    Petshop(Box<PetshopBench>),
}

/// PetShop's data folder and the scenarios a run localises.
struct PetshopBench {
    /// The data folder, as the memo key of what is derived from it.
    root: String,
    /// The loaded scenarios (all four, shared by every run of the process).
    data: Arc<Vec<Scenario>>,
    /// Indices into `data` of the scenarios this workload selects.
    selected: Vec<usize>,
    missing: MissingNormalChoice,
}

/// A system benchmark's system, documentation and fault plan.
struct SystemBench {
    system: System,
    docs: ComponentDocs,
    normal: SimTime,
    interval: SimTime,
    duration: SimTime,
    gap: SimTime,
    fault: FaultChoice,
    /// Services that do disk I/O (disk-hog targets).
    io: Vec<usize>,
}

/// The graph source and the localiser.
struct Method {
    source: SourceChoice,
    localizer: Option<LocalizerChoice>,
}

enum SourceChoice {
    GroundTruth,
    Pc(PcSource, PcSourceConfig),
    Atlas(AtlasConfig),
    None,
}

/// One incident of a run.
struct Case {
    /// Index into [`RunData::matrices`].
    matrix: usize,
    normal: Range<usize>,
    abnormal: Range<usize>,
    /// True root causes as scoring units (metrics for CIRCA, services for systems).
    truth: Vec<usize>,
}

/// A run's data: its matrices (kept columns only), incidents and truth.
struct RunData {
    matrices: Vec<DataMatrix>,
    /// Rows of `matrices[0]` the graph is built from.
    graph_rows: Range<usize>,
    cases: Vec<Case>,
    /// The true graph over the kept columns.
    truth: CausalGraph,
    /// Scoring unit of each kept column.
    unit_of: Vec<usize>,
    /// Metric columns before dropping.
    metrics_total: usize,
}

/// A system benchmark's simulation: full telemetry and the injected faults.
struct SimulatedRun {
    data: DataMatrix,
    faults: Faults,
}

/// A graph and the wall-clock seconds it took.
struct BuiltGraph {
    graph: CausalGraph,
    time_s: f64,
    /// What a reader of the scores must know (stable text, not per-run counts).
    caveats: Vec<String>,
}

type Memo<T> = Mutex<HashMap<String, Arc<OnceLock<Result<Arc<T>, InputError>>>>>;

static TELEMETRY: OnceLock<Memo<SimulatedRun>> = OnceLock::new();
static DATA: OnceLock<Memo<RunData>> = OnceLock::new();
static GRAPHS: OnceLock<Memo<BuiltGraph>> = OnceLock::new();
static PETSHOP: OnceLock<Memo<Vec<Scenario>>> = OnceLock::new();
static PETSHOP_INPUT: OnceLock<Memo<ScenarioGraphInput>> = OnceLock::new();

/// `make()` once per `key` in this process; concurrent callers of one key wait for the
/// first.
fn memo<T>(
    table: &'static OnceLock<Memo<T>>,
    key: String,
    make: impl FnOnce() -> Result<T, InputError>,
) -> Result<Arc<T>, InputError> {
    let cell = {
        let mut map = table
            .get_or_init(Default::default)
            .lock()
            .map_err(|_| InputError::Simulation("rca memo lock poisoned".into()))?;
        map.entry(key).or_default().clone()
    };
    cell.get_or_init(|| make().map(Arc::new)).clone()
}

fn sim_error(e: impl std::fmt::Display) -> InputError {
    InputError::Simulation(e.to_string())
}

fn source_error(e: SourceError) -> InputError {
    match e {
        SourceError::Config { field, message } => {
            InputError::at(format!("params.{field}"), message)
        }
        other => InputError::Simulation(other.to_string()),
    }
}

/// Reads `workload.system`: a built-in name, else a spec file.
fn load_system(name: &str) -> Result<System, InputError> {
    let field = "workload.system";
    if BUILTIN.iter().any(|(n, _)| *n == name) {
        return builtin(name).map_err(|e| InputError::at(field, e.to_string()));
    }
    let looks_like_path = name.contains('/') || name.ends_with(".yaml") || name.ends_with(".yml");
    if !looks_like_path {
        let names: Vec<&str> = BUILTIN.iter().map(|(n, _)| *n).collect();
        return Err(InputError::at(
            field,
            format!(
                "unknown built-in system `{name}`{}; valid: {}, or the path of a spec file",
                simcore::names::did_you_mean(name, names.iter().copied()),
                names.join(", ")
            ),
        ));
    }
    let path = simcore::data::resolve(Path::new(name))
        .map_err(|e| InputError::at(field, e.to_string()))?;
    let text = std::fs::read_to_string(&path)
        .map_err(|e| InputError::data(path.display().to_string(), 0, e.to_string()))?;
    System::from_yaml(&text, &path.display().to_string())
        .map_err(|e| InputError::at(field, e.to_string()))
}

/// Reads `workload.data` (default: the shipped data set) once per process and selects
/// `workload.scenario`. A malformed file is an error `file:line: message`.
fn petshop_bench(workload: &RcaWorkload) -> Result<PetshopBench, InputError> {
    let root = match &workload.data {
        Some(d) => simcore::data::resolve(Path::new(d))
            .map_err(|e| InputError::at("workload.data", e.to_string()))?,
        None => crate::petshop::data_root()
            .map_err(|e| InputError::at("workload.data", e.to_string()))?,
    };
    let key = root.display().to_string();
    let data = memo(&PETSHOP, key, || {
        let mut out = Vec::new();
        for name in crate::petshop::SCENARIOS {
            let dir = root.join(name);
            if !dir.join("graph.csv").is_file() {
                return Err(InputError::at(
                    "workload.data",
                    format!(
                        "{}: no {name}/graph.csv; expected the PetShop data set's folder \
                         (scenarios {})",
                        root.display(),
                        crate::petshop::SCENARIOS.join(", ")
                    ),
                ));
            }
            out.push(load_scenario(&dir).map_err(petshop_error)?);
        }
        Ok(out)
    })?;
    let selected = match workload.scenario.as_deref() {
        None | Some("all") => (0..data.len()).collect(),
        Some(name) => data.iter().position(|s| s.name == name).into_iter().collect(),
    };
    Ok(PetshopBench {
        root: root.display().to_string(),
        data,
        selected,
        missing: workload.missing_normal.unwrap_or_default(),
    })
}

fn petshop_error(e: PetshopError) -> InputError {
    match e {
        PetshopError::Input(i) => i,
        other => InputError::Simulation(other.to_string()),
    }
}

/// A whole number of intervals, at least `min` of them.
fn rows_of(field: &str, t: SimTime, interval: SimTime, min: u64) -> Result<u64, InputError> {
    let (a, b) = (t.as_nanos(), interval.as_nanos());
    if a % b != 0 || a / b < min {
        return Err(InputError::at(
            format!("workload.{field}"),
            format!("{t} must be a whole number of intervals ({interval}), at least {min} of them"),
        ));
    }
    Ok(a / b)
}

/// Checks `workload` and `system`; errors name the field.
pub fn prepare(workload: &RcaWorkload, system: &RcaSystem) -> Result<Prepared, InputError> {
    workload.validate()?;
    let bench = match workload.benchmark {
        Benchmark::Circa => {
            let spec = CircaSpec {
                nodes: workload.nodes.unwrap_or(50),
                edges: workload.edges.unwrap_or(100),
                ..CircaSpec::default()
            };
            spec.validate().map_err(|e| match e {
                RcaError::InvalidParameter { name, value, expected } => InputError::at(
                    format!("workload.{name}"),
                    format!("{value} is invalid: expected {expected}"),
                ),
                other => InputError::at("workload", other.to_string()),
            })?;
            Bench::Circa(spec)
        }
        Benchmark::System => {
            let sys = load_system(workload.system.as_deref().unwrap_or_default())?;
            let interval = workload.interval.unwrap_or(SimTime::from_secs(60));
            if interval == SimTime::ZERO {
                return Err(InputError::at("workload.interval", "must be positive, e.g. 1min"));
            }
            let normal = workload.normal.unwrap_or(SimTime::from_secs(12 * 3600));
            let duration = workload.fault_duration.unwrap_or(SimTime::from_secs(600));
            let gap = workload.gap.unwrap_or(SimTime::from_secs(1200));
            rows_of("normal", normal, interval, MIN_NORMAL_ROWS)?;
            rows_of("fault_duration", duration, interval, 1)?;
            rows_of("gap", gap, interval, 0)?;
            let io: Vec<usize> =
                (0..sys.services().len()).filter(|&s| sys.services()[s].has_io).collect();
            let fault = workload.fault.unwrap_or(FaultChoice::Random);
            if fault == FaultChoice::DiskHog && io.is_empty() {
                return Err(InputError::at(
                    "workload.fault",
                    format!("`{}` has no service that does disk I/O to slow down", sys.name()),
                ));
            }
            let docs = ComponentDocs::for_system(&sys, None)
                .map_err(|e| InputError::at("workload.system", e.to_string()))?;
            Bench::System(Box::new(SystemBench {
                system: sys,
                docs,
                normal,
                interval,
                duration,
                gap,
                fault,
                io,
            }))
        }
        Benchmark::Petshop => Bench::Petshop(Box::new(petshop_bench(workload)?)),
    };
    let (source, localizer) = match system {
        RcaSystem::GroundTruth { localizer } => (SourceChoice::GroundTruth, Some(*localizer)),
        RcaSystem::Pc { localizer, alpha, max_depth } => {
            let config = PcSourceConfig { alpha: *alpha, max_depth: *max_depth };
            let pc = PcSource::new(config.clone()).map_err(source_error)?;
            (SourceChoice::Pc(pc, config), Some(*localizer))
        }
        RcaSystem::Atlas { localizer, backend, llm, refine, alpha, add_alpha, typed_additions } => {
            let backend = match (backend, llm) {
                (BackendChoice::Rules, None) => Backend::Rules,
                (BackendChoice::Rules, Some(_)) => {
                    return Err(InputError::at(
                        "params.llm",
                        "applies to `backend: llm` only; remove it or set `backend: llm`",
                    ));
                }
                (BackendChoice::Llm, Some(c)) => Backend::Llm(c.clone()),
                (BackendChoice::Llm, None) => {
                    return Err(InputError::at(
                        "params.llm",
                        "missing: `backend: llm` needs `llm: { url, model }` (and optionally \
                         api_key_env, cache_dir, timeout_s, offline)",
                    ));
                }
            };
            let config = AtlasConfig {
                backend,
                coverage: workload.doc_coverage,
                misstate: workload.doc_misstate,
                seed: 0,
                refine: *refine,
                alpha: *alpha,
                add_alpha: *add_alpha,
                typed_additions: *typed_additions,
            };
            AtlasSource::new(config.clone()).map_err(source_error)?;
            (SourceChoice::Atlas(config), Some(*localizer))
        }
        RcaSystem::Baro {} => (SourceChoice::None, None),
    };
    // The documentation knobs change Atlas's graph, not the data: leave them out of the
    // data key (so every coverage shares one simulation) and put them in Atlas's graph key.
    let data_key = serde_json::to_string(&RcaWorkload {
        doc_coverage: 1.0,
        doc_misstate: 0.0,
        ..workload.clone()
    })
    .map_err(sim_error)?;
    let sim_key = serde_json::to_string(&RcaWorkload {
        metrics_missing: 0.0,
        doc_coverage: 1.0,
        doc_misstate: 0.0,
        fault: workload.fault.or(Some(FaultChoice::Random)),
        ..workload.clone()
    })
    .map_err(sim_error)?;
    let source_key = match system {
        RcaSystem::GroundTruth { .. } => "ground-truth".to_string(),
        RcaSystem::Pc { alpha, max_depth, .. } => format!("pc {alpha} {max_depth:?}"),
        RcaSystem::Atlas { .. } => {
            let mut v = serde_json::to_value(system).map_err(sim_error)?;
            if let Some(m) = v.as_object_mut() {
                m.remove("localizer");
            }
            format!("{v} coverage {} misstate {}", workload.doc_coverage, workload.doc_misstate)
        }
        RcaSystem::Baro {} => "none".to_string(),
    };
    Ok(Prepared {
        bench,
        method: Method { source, localizer },
        workload: workload.clone(),
        data_key,
        sim_key,
        source_key,
    })
}

/// The kept columns of `n` after dropping round(share x n) with the run's stream.
fn kept_columns(n: usize, share: f64, streams: &RandomStreams) -> Result<Vec<usize>, InputError> {
    let drop = (share * n as f64).round() as usize;
    if n.saturating_sub(drop) < 2 {
        return Err(InputError::at(
            "workload.metrics_missing",
            format!("{share} leaves fewer than 2 of the {n} metrics"),
        ));
    }
    let mut order: Vec<usize> = (0..n).collect();
    streams.stream("rca/metrics-missing").shuffle(&mut order);
    let mut kept = order[drop..].to_vec();
    kept.sort_unstable();
    Ok(kept)
}

/// `graph` restricted to `kept` (edges among kept nodes only), renamed after `names`.
fn restrict(
    graph: &CausalGraph,
    kept: &[usize],
    names: &[String],
) -> Result<CausalGraph, RcaError> {
    let mut g = CausalGraph::with_names(names.to_vec());
    for (a, &fa) in kept.iter().enumerate() {
        for (b, &fb) in kept.iter().enumerate() {
            if graph.has_directed(fa, fb) {
                g.add_directed(a, b)?;
            }
        }
    }
    Ok(g)
}

impl Prepared {
    fn circa_data(&self, spec: &CircaSpec, seed: u64) -> Result<RunData, InputError> {
        let streams = RandomStreams::new(seed);
        let model = spec.generate_model(&streams).map_err(sim_error)?;
        let kept = kept_columns(spec.nodes, self.workload.metrics_missing, &streams)?;
        let mut matrices = Vec::with_capacity(self.workload.cases());
        let mut cases = Vec::with_capacity(self.workload.cases());
        for i in 0..self.workload.cases() {
            let case = model.generate_case(&streams, i as u64).map_err(sim_error)?;
            matrices.push(select(&case.data, &kept).map_err(sim_error)?);
            cases.push(Case {
                matrix: i,
                normal: case.normal.clone(),
                abnormal: case.abnormal.clone(),
                truth: case.root_causes.clone(),
            });
        }
        let graph_rows = cases.first().map_or(0..0, |c| c.normal.clone());
        let names = matrices.first().map(|m| m.names().to_vec()).unwrap_or_default();
        let truth = restrict(&model.dag, &kept, &names).map_err(sim_error)?;
        Ok(RunData { matrices, graph_rows, cases, truth, unit_of: kept, metrics_total: spec.nodes })
    }

    fn simulate_run(&self, b: &SystemBench, seed: u64) -> Result<SimulatedRun, InputError> {
        let streams = RandomStreams::new(seed);
        let sys = &b.system;
        let n_services = sys.services().len();
        let mut rng = streams.stream("rca/incidents");
        let period = b.duration.saturating_add(b.gap);
        let mut specs = Vec::with_capacity(self.workload.cases());
        for i in 0..self.workload.cases() {
            let choice = match b.fault {
                FaultChoice::Random => {
                    let pool: Vec<FaultChoice> = FaultChoice::CONCRETE
                        .into_iter()
                        .filter(|k| *k != FaultChoice::DiskHog || !b.io.is_empty())
                        .collect();
                    pool[rng.below(pool.len() as u64) as usize]
                }
                k => k,
            };
            let service = if choice == FaultChoice::DiskHog {
                b.io[rng.below(b.io.len() as u64) as usize]
            } else {
                rng.below(n_services as u64) as usize
            };
            let svc = &sys.services()[service];
            let kind = match choice {
                FaultChoice::CpuHog => FaultKind::CpuHog { cores: 0.8 * f64::from(svc.cores) },
                FaultChoice::MemoryLeak => FaultKind::MemoryLeak {
                    rate: Bandwidth(
                        0.9 * (svc.memory_limit - svc.memory) / b.duration.as_secs_f64(),
                    ),
                },
                FaultChoice::NetworkDelay => {
                    FaultKind::NetworkDelay { delay: SimTime::from_millis(50) }
                }
                FaultChoice::PacketLoss => FaultKind::PacketLoss { probability: 0.2 },
                FaultChoice::DiskHog => FaultKind::DiskHog { slowdown: 8.0 },
                FaultChoice::Misconfiguration | FaultChoice::Random => {
                    FaultKind::Misconfiguration { error_rate: 0.5 }
                }
            };
            let start = SimTime::from_nanos(
                b.normal.as_nanos().saturating_add(period.as_nanos().saturating_mul(i as u64)),
            );
            specs.push(FaultSpec { service: svc.name.clone(), start, duration: b.duration, kind });
        }
        let faults = Faults::new(sys, &specs)
            .map_err(|e| InputError::at("workload.fault", e.to_string()))?;
        let total = SimTime::from_nanos(
            b.normal
                .as_nanos()
                .saturating_add(period.as_nanos().saturating_mul(self.workload.cases() as u64)),
        );
        let config =
            SimConfig { duration: total, interval: b.interval, seed, ..SimConfig::default() };
        let telemetry = simulate(sys, &faults, &config).map_err(|e| {
            InputError::at("workload", format!("the simulation could not run: {e}"))
        })?;
        Ok(SimulatedRun { data: telemetry.data, faults })
    }

    fn system_data(&self, b: &SystemBench, seed: u64) -> Result<RunData, InputError> {
        let sim =
            memo(&TELEMETRY, format!("{seed} {}", self.sim_key), || self.simulate_run(b, seed))?;
        let (sys, faults) = (&b.system, &sim.faults);
        let streams = RandomStreams::new(seed);
        let n = sim.data.variables();
        let kept = kept_columns(n, self.workload.metrics_missing, &streams)?;
        let data = select(&sim.data, &kept).map_err(sim_error)?;
        let step = b.interval.as_nanos();
        let normal_rows = (b.normal.as_nanos() / step) as usize;
        let cases = faults
            .list()
            .iter()
            .map(|f| {
                let start = (f.start.as_nanos() / step) as usize;
                let end = (f.end.as_nanos() / step) as usize;
                Case {
                    matrix: 0,
                    normal: 0..normal_rows,
                    abnormal: start..end,
                    truth: vec![f.service],
                }
            })
            .collect();
        let full_truth = GroundTruthSource
            .build(&SourceInput { system: sys, docs: &b.docs, normal: &data })
            .map_err(source_error)?;
        let unit_of = kept.iter().map(|&j| j / METRICS_PER_SERVICE).collect();
        Ok(RunData {
            matrices: vec![data],
            graph_rows: 0..normal_rows,
            cases,
            truth: full_truth.graph,
            unit_of,
            metrics_total: n,
        })
    }

    fn build_graph(&self, data: &RunData, seed: u64) -> Result<BuiltGraph, InputError> {
        let normal = data.matrices[0].rows(data.graph_rows.clone()).map_err(sim_error)?;
        let start = Instant::now();
        let (graph, caveats) = match (&self.method.source, &self.bench) {
            (SourceChoice::GroundTruth, _) => (data.truth.clone(), Vec::new()),
            (SourceChoice::Pc(pc, _), _) => {
                let out = pc.discover(&normal).map_err(source_error)?;
                let caveats = if out.dropped.is_empty() {
                    Vec::new()
                } else {
                    vec![
                        "pc: metrics constant or linearly dependent in the normal period \
                         cannot be tested and are isolated nodes of its graph"
                            .to_string(),
                    ]
                };
                (out.graph, caveats)
            }
            (SourceChoice::Atlas(config), Bench::System(b)) => {
                let source = AtlasSource::new(AtlasConfig { seed, ..config.clone() })
                    .map_err(source_error)?;
                let out = run_source(
                    &source,
                    &SourceInput { system: &b.system, docs: &b.docs, normal: &normal },
                )
                .map_err(source_error)?;
                // Only the warning about missing description files is a caveat; the others
                // (a described metric not in the telemetry, ...) follow from missing metrics.
                let caveats = out
                    .warnings
                    .into_iter()
                    .filter(|w| w.starts_with("no description files"))
                    .map(|w| format!("atlas: {w}"))
                    .collect();
                (out.graph, caveats)
            }
            (SourceChoice::Atlas(_), Bench::Circa(_) | Bench::Petshop(_))
            | (SourceChoice::None, _) => {
                (CausalGraph::with_names(normal.names().to_vec()), Vec::new())
            }
        };
        Ok(BuiltGraph { graph, time_s: start.elapsed().as_secs_f64(), caveats })
    }

    /// One run with `seed`.
    pub fn run(&self, seed: u64) -> Result<RunResult, InputError> {
        if let Bench::Petshop(b) = &self.bench {
            return self.run_petshop(b, seed);
        }
        let data_key = format!("{seed} {}", self.data_key);
        let data = memo(&DATA, data_key.clone(), || match &self.bench {
            Bench::Circa(spec) => self.circa_data(spec, seed),
            Bench::System(b) => self.system_data(b, seed),
            Bench::Petshop(_) => Err(InputError::Simulation("petshop runs elsewhere".into())),
        })?;
        let mut r = RunResult::new();
        r.metric("incidents", data.cases.len() as f64);
        r.metric("metrics_used", data.unit_of.len() as f64);
        r.metric("metrics_dropped", (data.metrics_total - data.unit_of.len()) as f64);
        if matches!((&self.method.source, &self.bench), (SourceChoice::Atlas(_), Bench::Circa(_))) {
            r.caveat(
                "atlas needs component descriptions and CIRCA's generated metrics have none: \
                 no scores for atlas on benchmark circa",
            );
            return Ok(r);
        }
        let graph = match self.method.localizer {
            Some(_) => {
                let key = format!("{data_key} | {}", self.source_key);
                Some(memo(&GRAPHS, key, || self.build_graph(&data, seed))?)
            }
            None => None,
        };
        let localizer: Box<dyn Localizer> = match self.method.localizer {
            Some(LocalizerChoice::RandomWalk) => Box::new(RandomWalk::default()),
            Some(LocalizerChoice::Circa) => Box::new(CircaHt::default()),
            None => Box::new(Baro),
        };
        let start = Instant::now();
        let mut ranked = Vec::with_capacity(data.cases.len());
        for case in &data.cases {
            let incident = Incident::new(
                &data.matrices[case.matrix],
                case.normal.clone(),
                case.abnormal.clone(),
            )
            .map_err(sim_error)?;
            let ranking =
                localizer.rank(&incident, graph.as_deref().map(|g| &g.graph)).map_err(sim_error)?;
            let mut units: Vec<usize> = Vec::new();
            for node in ranking.nodes() {
                let u = data.unit_of[node];
                if !units.contains(&u) {
                    units.push(u);
                }
            }
            ranked.push(RankedCase { ranking: units, truth: case.truth.clone() });
        }
        let localize_s = start.elapsed().as_secs_f64();
        for (name, k) in [("ac_at_1", 1), ("ac_at_3", 3), ("ac_at_5", 5)] {
            r.metric(name, ac_at_k(&ranked, k).map_err(sim_error)?);
        }
        r.metric("avg_at_5", avg_at_k(&ranked, 5).map_err(sim_error)?);
        r.timings.insert("localize_time_s".into(), localize_s);
        if let Some(g) = &graph {
            let s = compare_graphs(&g.graph, &data.truth).map_err(sim_error)?;
            r.metric("edge_f1", s.edges.f1);
            r.metric("skeleton_f1", s.skeleton.f1);
            r.metric("shd", s.shd as f64);
            r.metric("graph_edges", g.graph.n_edges() as f64);
            r.timings.insert("graph_time_s".into(), g.time_s);
            for c in &g.caveats {
                r.caveat(c);
            }
        }
        Ok(r)
    }
}

/// Lowest number of normal rows at which PC and Atlas's refinement run with no depth cap.
const PETSHOP_FEW_ROWS: usize = 60;

impl Prepared {
    /// The graph of one PetShop scenario from this run's source.
    fn petshop_graph(
        &self,
        input: &ScenarioGraphInput,
        seed: u64,
    ) -> Result<BuiltGraph, InputError> {
        let normal = &input.normal;
        let n = normal.samples();
        let few = n < PETSHOP_FEW_ROWS;
        let few_caveat = format!(
            "{}: no noissue/metrics.csv, so the data-driven steps read the {n} rows before \
             the triggers of its issues",
            input.scenario
        );
        let start = Instant::now();
        let (graph, caveats) = match &self.method.source {
            SourceChoice::GroundTruth => (input.truth.clone(), Vec::new()),
            SourceChoice::Pc(pc, config) => {
                // Fisher-z needs n > |S| + 3: cap the depth on a short normal period.
                let capped;
                let pc = if few {
                    let cap = n.saturating_sub(4);
                    let depth = config.max_depth.map_or(cap, |d| d.min(cap));
                    capped = PcSource::new(PcSourceConfig {
                        alpha: config.alpha,
                        max_depth: Some(depth),
                    })
                    .map_err(source_error)?;
                    &capped
                } else {
                    pc
                };
                let out = pc.discover(normal).map_err(source_error)?;
                let mut caveats = Vec::new();
                if !out.dropped.is_empty() {
                    caveats.push(
                        "pc: metrics constant or linearly dependent in the normal period \
                         cannot be tested and are isolated nodes of its graph"
                            .to_string(),
                    );
                }
                if few {
                    caveats.push(format!("pc: {few_caveat}; its depth is capped at {}", n - 4));
                }
                (out.graph, caveats)
            }
            SourceChoice::Atlas(config) => {
                let source = AtlasSource::new(AtlasConfig { seed, ..config.clone() })
                    .map_err(source_error)?;
                let out =
                    source.build_with(&input.docs, &input.calls, normal).map_err(source_error)?;
                let mut caveats: Vec<String> = out
                    .warnings
                    .into_iter()
                    .filter(|w| w.starts_with("no description file"))
                    .map(|w| format!("atlas: {w}"))
                    .collect();
                if few && config.refine {
                    caveats.push(format!(
                        "atlas: {few_caveat}; its refinement has little power there"
                    ));
                }
                (out.graph, caveats)
            }
            SourceChoice::None => (CausalGraph::with_names(normal.names().to_vec()), Vec::new()),
        };
        Ok(BuiltGraph { graph, time_s: start.elapsed().as_secs_f64(), caveats })
    }

    /// One run of `benchmark: petshop`: every issue of the selected scenarios, localised on
    /// the scenario's graph restricted to the issue's series, scored per component.
    fn run_petshop(&self, b: &PetshopBench, seed: u64) -> Result<RunResult, InputError> {
        let mut r = RunResult::new();
        let localizer: Box<dyn Localizer> = match self.method.localizer {
            Some(LocalizerChoice::RandomWalk) => Box::new(RandomWalk::default()),
            Some(LocalizerChoice::Circa) => Box::new(CircaHt::default()),
            None => Box::new(Baro),
        };
        let mut ranked: Vec<(String, RankedCase)> = Vec::new();
        let mut graphs: Vec<Arc<BuiltGraph>> = Vec::new();
        let mut graph_scores = Vec::new();
        let mut metrics_used = 0usize;
        let mut localize_s = 0.0;
        for &si in &b.selected {
            let sc = &b.data[si];
            if sc.normal.is_none() && b.missing == MissingNormalChoice::Skip {
                r.caveat(&format!(
                    "{}: no noissue/metrics.csv; its issues are skipped (missing_normal: skip)",
                    sc.name
                ));
                continue;
            }
            let key = format!("{} {}", b.root, sc.name);
            let input =
                memo(&PETSHOP_INPUT, key.clone(), || graph_input(sc).map_err(petshop_error))?;
            metrics_used += input.normal.variables();
            let graph = match self.method.localizer {
                Some(_) => {
                    let gkey = format!("petshop {key} {seed} | {}", self.source_key);
                    let g = memo(&GRAPHS, gkey, || self.petshop_graph(&input, seed))?;
                    let s = compare_graphs(&g.graph, &input.truth).map_err(sim_error)?;
                    graph_scores.push((s.edges.f1, s.skeleton.f1, s.shd as f64));
                    graphs.push(g.clone());
                    Some(g)
                }
                None => None,
            };
            let (cases, skipped) = issue_cases(sc).map_err(petshop_error)?;
            for why in skipped {
                r.caveat(&format!("skipped {why}"));
            }
            let start = Instant::now();
            for case in &cases {
                let g = match &graph {
                    Some(g) => {
                        Some(restrict_by_name(&g.graph, case.data.names()).map_err(petshop_error)?)
                    }
                    None => None,
                };
                let window = Incident::new(&case.data, case.normal.clone(), case.abnormal.clone())
                    .map_err(sim_error)?;
                let ranking = localizer.rank(&window, g.as_ref()).map_err(sim_error)?;
                let mut nodes: Vec<&str> = Vec::new();
                for i in ranking.nodes() {
                    let node = case.node_of[i].as_str();
                    if !nodes.contains(&node) {
                        nodes.push(node);
                    }
                }
                let n = nodes.len();
                let rank = nodes.iter().position(|x| *x == case.root_cause).unwrap_or(n);
                ranked.push((
                    case.target_metric.clone(),
                    RankedCase { ranking: (0..n).collect(), truth: vec![rank] },
                ));
            }
            localize_s += start.elapsed().as_secs_f64();
        }
        r.metric("incidents", ranked.len() as f64);
        r.metric("metrics_used", metrics_used as f64);
        r.metric("metrics_dropped", 0.0);
        if ranked.is_empty() {
            r.caveat("no issue to localise");
            return Ok(r);
        }
        let all: Vec<RankedCase> = ranked.iter().map(|(_, c)| c.clone()).collect();
        for (name, k) in [("ac_at_1", 1), ("ac_at_3", 3), ("ac_at_5", 5)] {
            r.metric(name, ac_at_k(&all, k).map_err(sim_error)?);
        }
        r.metric("avg_at_5", avg_at_k(&all, 5).map_err(sim_error)?);
        for symptom in ["latency", "availability"] {
            let sel: Vec<RankedCase> =
                ranked.iter().filter(|(m, _)| m == symptom).map(|(_, c)| c.clone()).collect();
            if sel.is_empty() {
                continue;
            }
            for k in [1, 3] {
                r.metric(&format!("ac_at_{k}_{symptom}"), ac_at_k(&sel, k).map_err(sim_error)?);
            }
        }
        r.timings.insert("localize_time_s".into(), localize_s);
        if !graph_scores.is_empty() {
            let m = graph_scores.len() as f64;
            let mean = |f: fn(&(f64, f64, f64)) -> f64| graph_scores.iter().map(f).sum::<f64>() / m;
            r.metric("edge_f1", mean(|s| s.0));
            r.metric("skeleton_f1", mean(|s| s.1));
            r.metric("shd", mean(|s| s.2));
            let edges = graphs.iter().map(|g| g.graph.n_edges() as f64).sum::<f64>() / m;
            r.metric("graph_edges", edges);
            r.timings.insert("graph_time_s".into(), graphs.iter().map(|g| g.time_s).sum());
            let mut seen: Vec<&String> = Vec::new();
            for c in graphs.iter().flat_map(|g| g.caveats.iter()) {
                if !seen.contains(&c) {
                    seen.push(c);
                    r.caveat(c);
                }
            }
        }
        Ok(r)
    }
}
