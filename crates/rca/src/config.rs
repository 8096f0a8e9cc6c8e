//! The `kind: rca` workload and system entry, as a config file writes them.
//!
//! ```yaml
//! workload:
//!   benchmark: system          # or circa, or petshop
//!   system: online-boutique    # system only: a built-in name or a spec file path
//!   fault: random              # system only: cpu-hog | memory-leak | ... | random
//!   cases: 20                  # incidents per run
//!   normal: 12h                # system only: fault-free period the graph is built from
//!   interval: 1min             # system only: metrics interval
//!   metrics_missing: 0.1       # share of metric columns dropped (seeded per run)
//!   doc_coverage: 0.8          # atlas: share of the documentation's statements kept
//!   scenario: low_traffic      # petshop only: all (default) or one traffic scenario
//!   data: data/rca/petshop     # petshop only: the data folder (default: the shipped one)
//!   missing_normal: pre-incident  # petshop only: or skip (scenarios without noissue/)
//! systems:
//!   - { name: atlas-circa, system: atlas, params: { localizer: circa, backend: rules } }
//!   - { name: pc-walk, system: pc, params: { alpha: 0.05, localizer: random-walk } }
//!   - { name: truth-circa, system: ground-truth, params: { localizer: circa } }
//!   - name: baro
//! ```
//!
//! Every check names its field (`workload.x`, `params.x`); see [`RcaWorkload::validate`].

use serde::{Deserialize, Serialize};
use simcore::{InputError, SimTime};

use crate::sources::atlas::llm::LlmConfig;

/// Which benchmark family the incidents come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Benchmark {
    /// CIRCA's linear structural-model generator: metric-level truth, scored per metric.
    Circa,
    /// A simulated microservice system under injected faults: scored per service.
    System,
    /// The PetShop data set's real telemetry and 68 issues: scored per component.
    Petshop,
}

/// PetShop: what to do with a scenario that has no `noissue/metrics.csv`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MissingNormalChoice {
    /// Each issue's rows before its trigger are its normal period; the graph's normal
    /// period is those rows of every issue of the scenario.
    #[default]
    PreIncident,
    /// Leave the scenario's issues out.
    Skip,
}

/// The PetShop scenarios `workload.scenario` accepts besides `all`.
pub const PETSHOP_SCENARIOS: [&str; 4] = crate::petshop::SCENARIOS;

/// The fault injected in each incident of a system benchmark.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultChoice {
    /// CPU hog.
    CpuHog,
    /// Memory leak.
    MemoryLeak,
    /// Added network delay.
    NetworkDelay,
    /// Packet loss.
    PacketLoss,
    /// Disk hog (storage services only).
    DiskHog,
    /// A rising error rate.
    Misconfiguration,
    /// One of the six drawn per incident.
    Random,
}

impl FaultChoice {
    /// The six concrete kinds, in a fixed order (the draw of `random` indexes it).
    pub const CONCRETE: [FaultChoice; 6] = [
        FaultChoice::CpuHog,
        FaultChoice::MemoryLeak,
        FaultChoice::NetworkDelay,
        FaultChoice::PacketLoss,
        FaultChoice::DiskHog,
        FaultChoice::Misconfiguration,
    ];
}

/// The `workload:` section of `kind: rca`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RcaWorkload {
    /// `circa` or `system`.
    pub benchmark: Benchmark,
    /// CIRCA: metrics (default 50; node 0 is the SLI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodes: Option<usize>,
    /// CIRCA: edges (default 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edges: Option<usize>,
    /// System: a built-in name (`online-boutique`, `sock-shop`, `train-ticket`) or the path
    /// of a spec file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// System: the fault of every incident (default `random`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<FaultChoice>,
    /// Incidents per run (default 20; not for `petshop`, whose incidents are its issues).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cases: Option<usize>,
    /// System: the fault-free period at the start of the run (default 12h).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normal: Option<SimTime>,
    /// System: metrics interval (default 1min).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<SimTime>,
    /// System: how long each fault lasts (default 10min).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault_duration: Option<SimTime>,
    /// System: fault-free time after each fault before the next (default 20min).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gap: Option<SimTime>,
    /// Share of the metric columns dropped before anything sees the data (default 0).
    #[serde(default)]
    pub metrics_missing: f64,
    /// Atlas: share of the documentation's statements kept (default 1).
    #[serde(default = "one")]
    pub doc_coverage: f64,
    /// Atlas: share of the statements misstated (default 0).
    #[serde(default)]
    pub doc_misstate: f64,
    /// PetShop: `all` (default) or one scenario (`low_traffic`, `high_traffic`,
    /// `temporal_traffic1`, `temporal_traffic2`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario: Option<String>,
    /// PetShop: the data folder (default: the shipped `data/rca/petshop`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// PetShop: scenarios without `noissue/metrics.csv` (default `pre-incident`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing_normal: Option<MissingNormalChoice>,
}

/// Incidents per run when `cases` is not set.
pub const DEFAULT_CASES: usize = 20;

fn one() -> f64 {
    1.0
}

/// Largest `cases` accepted (a guard against typos that would run for hours).
pub const MAX_CASES: usize = 10_000;

impl RcaWorkload {
    /// Incidents per run (circa and system benchmarks).
    pub fn cases(&self) -> usize {
        self.cases.unwrap_or(DEFAULT_CASES)
    }

    /// Checks every field; errors name `workload.<field>`.
    pub fn validate(&self) -> Result<(), InputError> {
        let only = |field: &str, set: bool, bench: &str| -> Result<(), InputError> {
            if set {
                return Err(InputError::at(
                    format!("workload.{field}"),
                    format!("applies to `benchmark: {bench}` only; remove it"),
                ));
            }
            Ok(())
        };
        if self.benchmark != Benchmark::Petshop {
            only("scenario", self.scenario.is_some(), "petshop")?;
            only("data", self.data.is_some(), "petshop")?;
            only("missing_normal", self.missing_normal.is_some(), "petshop")?;
        }
        match self.benchmark {
            Benchmark::Circa => {
                only("system", self.system.is_some(), "system")?;
                only("fault", self.fault.is_some(), "system")?;
                only("normal", self.normal.is_some(), "system")?;
                only("interval", self.interval.is_some(), "system")?;
                only("fault_duration", self.fault_duration.is_some(), "system")?;
                only("gap", self.gap.is_some(), "system")?;
            }
            Benchmark::System => {
                only("nodes", self.nodes.is_some(), "circa")?;
                only("edges", self.edges.is_some(), "circa")?;
                if self.system.is_none() {
                    return Err(InputError::at(
                        "workload.system",
                        "missing: name a built-in system (online-boutique, sock-shop, \
                         train-ticket) or a spec file",
                    ));
                }
            }
            Benchmark::Petshop => {
                let not_here = |field: &str, set: bool| -> Result<(), InputError> {
                    if set {
                        return Err(InputError::at(
                            format!("workload.{field}"),
                            "does not apply to `benchmark: petshop` (its incidents are the data \
                             set's issues); remove it",
                        ));
                    }
                    Ok(())
                };
                not_here("nodes", self.nodes.is_some())?;
                not_here("edges", self.edges.is_some())?;
                not_here("system", self.system.is_some())?;
                not_here("fault", self.fault.is_some())?;
                not_here("cases", self.cases.is_some())?;
                not_here("normal", self.normal.is_some())?;
                not_here("interval", self.interval.is_some())?;
                not_here("fault_duration", self.fault_duration.is_some())?;
                not_here("gap", self.gap.is_some())?;
                not_here("metrics_missing", self.metrics_missing != 0.0)?;
                if let Some(sc) = &self.scenario
                    && sc != "all"
                    && !PETSHOP_SCENARIOS.contains(&sc.as_str())
                {
                    return Err(InputError::at(
                        "workload.scenario",
                        format!(
                            "unknown scenario `{sc}`{}; valid: all, {}",
                            simcore::names::did_you_mean(sc, PETSHOP_SCENARIOS.iter().copied()),
                            PETSHOP_SCENARIOS.join(", ")
                        ),
                    ));
                }
            }
        }
        let cases = self.cases();
        if cases == 0 || cases > MAX_CASES {
            return Err(InputError::at(
                "workload.cases",
                format!("{cases} must be between 1 and {MAX_CASES}"),
            ));
        }
        if !(0.0..1.0).contains(&self.metrics_missing) {
            return Err(InputError::at(
                "workload.metrics_missing",
                format!("{} is not a share in [0, 1)", self.metrics_missing),
            ));
        }
        for (field, v) in [("doc_coverage", self.doc_coverage), ("doc_misstate", self.doc_misstate)]
        {
            if !(0.0..=1.0).contains(&v) {
                return Err(InputError::at(
                    format!("workload.{field}"),
                    format!("{v} is not a share in [0, 1]"),
                ));
            }
        }
        Ok(())
    }
}

/// Which localiser a graph-based system uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LocalizerChoice {
    /// Personalised PageRank over the anomalous subgraph.
    RandomWalk,
    /// CIRCA's regression-based hypothesis testing with descendant adjustment.
    #[default]
    Circa,
}

/// Atlas's synthesis backend, by name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BackendChoice {
    /// Offline rules over the descriptions.
    #[default]
    Rules,
    /// An OpenAI-compatible endpoint (set `llm:`).
    Llm,
}

/// A system entry of `kind: rca`: a graph source and a localiser, or the graph-free BARO.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "system", rename_all = "kebab-case", deny_unknown_fields)]
pub enum RcaSystem {
    /// The true graph.
    GroundTruth {
        /// Localiser (default `circa`).
        #[serde(default)]
        localizer: LocalizerChoice,
    },
    /// PC-stable with Fisher-z on the normal period.
    Pc {
        /// Localiser (default `circa`).
        #[serde(default)]
        localizer: LocalizerChoice,
        /// Significance level (default 0.05).
        #[serde(default = "default_alpha")]
        alpha: f64,
        /// Largest conditioning set (default: none).
        #[serde(default)]
        max_depth: Option<usize>,
    },
    /// Atlas: documentation-driven synthesis, composition, refinement (system and petshop
    /// benchmarks).
    Atlas {
        /// Localiser (default `circa`).
        #[serde(default)]
        localizer: LocalizerChoice,
        /// `rules` (default) or `llm`.
        #[serde(default)]
        backend: BackendChoice,
        /// The `llm` backend's endpoint, model, key variable and cache.
        #[serde(default)]
        llm: Option<LlmConfig>,
        /// Run the data-driven refinement (default true).
        #[serde(default = "yes")]
        refine: bool,
        /// Pruning level (default 0.05).
        #[serde(default = "default_alpha")]
        alpha: f64,
        /// Addition level (default 0.001).
        #[serde(default = "default_add_alpha")]
        add_alpha: f64,
        /// Limit additions to the rules' edge kinds (default true).
        #[serde(default = "yes")]
        typed_additions: bool,
    },
    /// BARO: graph-free robust anomaly ranking.
    Baro {},
}

fn default_alpha() -> f64 {
    0.05
}

fn default_add_alpha() -> f64 {
    1e-3
}

fn yes() -> bool {
    true
}

impl RcaSystem {
    /// The system names configs use.
    pub const NAMES: [&'static str; 4] = ["ground-truth", "pc", "atlas", "baro"];
}
