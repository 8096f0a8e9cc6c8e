//! # rca — causal graphs and root-cause localisation
//!
//! When a service's latency rises, an operator wants the metric that *caused* it, not the
//! hundred that moved with it. Root-cause analysis (RCA) methods rank the metrics by how
//! likely each is the origin of the fault, most of them walking a causal graph between the
//! metrics. This crate holds the causal core the rest of the RCA study builds on:
//!
//! - [`data`]: a samples x variables [`DataMatrix`]; [`graph`]: a metric-level
//!   [`CausalGraph`] with directed and undirected edges (a PDAG / CPDAG);
//! - [`ci`]: the [`CiTest`] interface, and [`fisher_z`]: Fisher's z test of partial
//!   correlation, the default of causal-learn and pcalg;
//! - [`pc`]: the PC-stable search (Colombo and Maathuis 2014), which calls any [`CiTest`],
//!   orients v-structures and finishes with [`meek`]'s rules R1-R4 (Meek 1995);
//! - [`circa`]: CIRCA's linear structural-model benchmark generator (Li et al., KDD 2022):
//!   a random DAG with the SLI as its only sink, normal data and an injected fault, with the
//!   true graph and root causes known exactly;
//! - [`localize`] (one file per method, one [`Localizer`] trait): a personalised random walk
//!   over the anomalous subgraph, CIRCA's regression-based hypothesis testing with
//!   descendant adjustment, and BARO's graph-free robust anomaly ranking;
//! - [`score`]: RCAEval's AC@k and Avg@k, and edge F1, skeleton F1 and SHD between graphs;
//! - [`stats`]: erfc, the normal CDF, quantiles and small least-squares solves;
//! - [`system`]: microservice systems (a YAML spec, validated into a [`system::System`]) and
//!   the built-in Online Boutique, Sock Shop and Train Ticket; [`sim`]: their simulator on
//!   simcore's engine, producing per-service metrics (CPU, memory, request rate, error
//!   rate, latency p50/p99) as a [`DataMatrix`]; [`fault`]: injected faults (CPU hog, memory
//!   leak, network delay, packet loss, disk hog, misconfiguration); [`truth`]: the
//!   metric-level causal DAG the simulator implies and each fault's root-cause metrics;
//! - [`config`], [`run`], [`simulator`]: `kind: rca` for the experiment runner — incidents
//!   from CIRCA's generator, a simulated system or the PetShop data set, a graph from one
//!   source, a localiser, RCAEval's scores ([`RcaSimulator`]; `configs/rca/atlas-headline.yaml`,
//!   `configs/rca/petshop.yaml`).
//!
//! Everything is deterministic: the same data gives the same graph and ranking, and the
//! generator draws from `simcore`'s named random streams. Nothing panics on user data: bad
//! input is an [`RcaError`]. Formulas, sources and assumptions: `docs/models/rca.md`.
//!
//! ## Example
//!
//! ```
//! use rca::circa::CircaSpec;
//! use rca::localize::{Incident, Localizer, circa_ht::CircaHt};
//! use rca::pc::{PcOptions, pc};
//! use rca::fisher_z::FisherZ;
//! use simcore::RandomStreams;
//!
//! // A CIRCA case: 20 metrics, 40 edges, metric 0 the SLI, a fault on 1 or more metrics.
//! let spec = CircaSpec { nodes: 20, edges: 40, ..CircaSpec::default() };
//! let streams = RandomStreams::new(7);
//! let model = spec.generate_model(&streams)?;
//! let case = model.generate_case(&streams, 0)?;
//!
//! // Discover a graph from the normal period with PC-stable and Fisher-z at alpha 0.05.
//! let normal = case.data.rows(case.normal.clone())?;
//! let mut test = FisherZ::new(&normal)?;
//! let found = pc(&mut test, &PcOptions::default())?;
//! assert_eq!(found.graph.n_nodes(), 20);
//!
//! // Localise on the true graph with CIRCA's hypothesis testing.
//! let incident = Incident::new(&case.data, case.normal.clone(), case.abnormal.clone())?;
//! let ranking = CircaHt::default().rank(&incident, Some(&model.dag))?;
//! assert_eq!(ranking.len(), 20);
//! # Ok::<(), rca::RcaError>(())
//! ```
//!
//! ## Example: telemetry and ground truth of a microservice system
//!
//! ```
//! use rca::fault::{FaultKind, FaultSpec, Faults};
//! use rca::sim::{SimConfig, simulate};
//! use rca::system::builtin::builtin;
//! use rca::truth::{ground_truth, root_cause_names};
//! use simcore::SimTime;
//!
//! let system = builtin("online-boutique")?;
//! let faults = Faults::new(&system, &[FaultSpec {
//!     service: "cartservice".into(),
//!     start: SimTime::from_secs(600),
//!     duration: SimTime::from_secs(300),
//!     kind: FaultKind::CpuHog { cores: 0.5 },
//! }])?;
//! let config = SimConfig { duration: SimTime::from_secs(1200), seed: 1, ..SimConfig::default() };
//! let telemetry = simulate(&system, &faults, &config)?;
//! assert_eq!(telemetry.data.samples(), 20); // one row per minute
//! assert_eq!(telemetry.summary.unfinished, 0);
//! let truth = ground_truth(&system).expect("a DAG over the same names");
//! assert_eq!(truth.names(), telemetry.data.names());
//! assert_eq!(root_cause_names(&system, &faults.list()[0]), ["cartservice.cpu"]);
//! # Ok::<(), rca::system::SpecError>(())
//! ```

pub mod ci;
pub mod circa;
pub mod config;
pub mod data;
pub mod error;
pub mod fault;
pub mod fisher_z;
pub mod graph;
pub mod localize;
pub mod meek;
pub mod pc;
pub mod petshop;
pub mod run;
pub mod score;
pub mod sim;
pub mod simulator;
pub mod sources;
pub mod stats;
pub mod system;
pub mod truth;

pub use ci::CiTest;
pub use data::DataMatrix;
pub use error::RcaError;
pub use graph::{CausalGraph, Edge, Mark};
pub use localize::{Incident, Localizer, Ranking};
pub use simulator::RcaSimulator;
