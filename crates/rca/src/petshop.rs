//! The PetShop data set: real telemetry of a cloud application with injected performance
//! issues and their true root causes (M. Hardt, W. R. Orchard, P. Blöbaum, E. Kirschbaum,
//! S. Kasiviswanathan, "The PetShop Dataset — Finding Causes of Performance Issues across
//! Microservices", CLeaR 2024). The files ship in `data/rca/petshop/` (CC-BY-4.0; layout,
//! provenance and what is missing in `data/rca/README.md`).
//!
//! - [`load_scenario`] reads one traffic scenario (`high_traffic`, `low_traffic`,
//!   `temporal_traffic1`, `temporal_traffic2`): the call graph `graph.csv`, the normal-period
//!   metrics `noissue/metrics.csv` when present, and every `train|test/issue_<k>/` with its
//!   `metrics.csv` and `target.json`. Every check names the file, the line and the column
//!   or field, and says what would be valid ([`PetshopError`], built on simcore's
//!   [`InputError::Data`]).
//! - [`incident`] turns one issue into a [`DataMatrix`](crate::DataMatrix) with a normal
//!   and an abnormal window (missing values handled as documented there), and
//!   [`metric_graph`] expands the call graph into a metric-level causal graph.
//! - [`evaluate`] localises every issue with BARO (no graph), the random walk and CIRCA (on
//!   the reversed call graph) and scores node-level AC@1/3/5 and Avg@5 (RCAEval's
//!   definitions, [`crate::score`]). `cargo run --release -p rca --example petshop` prints
//!   the tables; `docs/models/rca.md` ("Real telemetry: PetShop") discusses them.
//! - [`bench`] prepares what `kind: rca` with `benchmark: petshop` needs (a normal period,
//!   the true graph, the component descriptions and the traces' calls per scenario; each
//!   issue as a case), so every graph source — the reversed call graph, PC, Atlas — can be
//!   used on the real telemetry (`configs/rca/petshop.yaml`).
//!
//! ```no_run
//! use rca::petshop::{EvalOptions, data_root, evaluate, load_all};
//!
//! let scenarios = load_all(&data_root()?)?;
//! let issues: usize = scenarios.iter().map(|s| s.issues.len()).sum();
//! assert_eq!(issues, 68);
//! let eval = evaluate(&scenarios, &EvalOptions::default())?;
//! for row in eval.scores.iter().filter(|r| r.group == "all") {
//!     println!("{} on {}: AC@1 {:.2}", row.method, row.graph, row.scores.ac1);
//! }
//! # Ok::<(), rca::petshop::PetshopError>(())
//! ```

pub mod bench;
mod csv;
mod eval;
mod load;

use std::path::PathBuf;

use simcore::InputError;
use simcore::data::DataNotFound;

use crate::error::RcaError;

pub use eval::{
    EvalOptions, Evaluation, IncidentData, IssueRanking, MissingNormal, NormalSource, ScoreRow,
    Scores, evaluate, incident, metric_graph, score_rankings,
};
pub use load::{load_all, load_scenario, read_graph, read_metrics, read_target};

/// What went wrong reading or evaluating the PetShop data.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PetshopError {
    /// A malformed file: `path:line: message` (the message names the column or field and
    /// what would be valid).
    #[error(transparent)]
    Input(#[from] InputError),
    /// The data folder is not where it was looked for.
    #[error(transparent)]
    NotFound(#[from] DataNotFound),
    /// A file or folder that exists but cannot be read.
    #[error("{path}: cannot be read: {message}")]
    Io {
        /// The file or folder.
        path: String,
        /// The operating system's reason.
        message: String,
    },
    /// A localiser or score failed on well-formed data.
    #[error(transparent)]
    Rca(#[from] RcaError),
}

/// The shipped data set's folder: `data/rca/petshop` under the data folder (the workspace's
/// `data/`, or `$MLSIM_DATA_DIR`).
pub fn data_root() -> Result<PathBuf, DataNotFound> {
    simcore::data::data_file("rca/petshop")
}

/// The four scenarios of the shipped data set, in the order the tables print them.
pub const SCENARIOS: [&str; 4] =
    ["low_traffic", "high_traffic", "temporal_traffic1", "temporal_traffic2"];

/// One series of a metrics file: a node's metric and statistic (`PetSite`, `latency`, `p90`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Series {
    /// The component (a node of the call graph).
    pub node: String,
    /// `latency`, `requests` or `availability` in the shipped files.
    pub metric: String,
    /// `Average`, `p50`, `p90`, `p95`, `p99` or `Sum` in the shipped files.
    pub statistic: String,
}

impl Series {
    /// `node|metric|statistic`, the name a series gets in a [`DataMatrix`](crate::DataMatrix)
    /// (node names hold dots, colons and spaces, never `|`).
    pub fn key(&self) -> String {
        format!("{}|{}|{}", self.node, self.metric, self.statistic)
    }
}

/// A metrics file: timestamps and columns with missing values kept as `None`.
#[derive(Debug, Clone, PartialEq)]
pub struct Metrics {
    /// The file it was read from.
    pub path: PathBuf,
    /// Unix time (s) of each row, strictly increasing.
    pub timestamps: Vec<f64>,
    /// The series, in file order (unique).
    pub series: Vec<Series>,
    /// `values[j][t]`: series j at row t; `None` for an empty cell.
    pub values: Vec<Vec<Option<f64>>>,
}

impl Metrics {
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.timestamps.len()
    }

    /// The column of `series`, if present.
    pub fn column_of(&self, series: &Series) -> Option<usize> {
        self.series.iter().position(|s| s == series)
    }

    /// The distinct nodes, in order of first appearance.
    pub fn nodes(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for s in &self.series {
            if !out.contains(&s.node.as_str()) {
                out.push(&s.node);
            }
        }
        out
    }
}

/// A call graph: `calls` holds `(caller, callee)` index pairs into `names`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallGraph {
    /// Node names, in the file's order.
    pub names: Vec<String>,
    /// Calls `(caller, callee)`, in row-major file order.
    pub calls: Vec<(usize, usize)>,
}

impl CallGraph {
    /// The index of `name`.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }
}

/// The symptom of an issue (`target` in `target.json`).
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// The node whose SLO was violated (always `PetSite` in the shipped files).
    pub node: String,
    /// The violated metric (`latency` or `availability`).
    pub metric: String,
    /// Its statistic (`Average`).
    pub agg: String,
    /// When the issue was triggered (unix s).
    pub timestamp: f64,
}

/// The true root cause (`root_cause` in `target.json`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootCause {
    /// The node at fault.
    pub node: String,
    /// The metric at fault (`null`, i.e. `None`, in every shipped issue: node-level truth).
    pub metric: Option<String>,
}

/// Which half of the data set an issue belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Split {
    /// `train/`.
    Train,
    /// `test/`.
    Test,
}

impl Split {
    /// `train` or `test`.
    pub fn as_str(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Test => "test",
        }
    }
}

/// One injected issue.
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    /// `train` or `test`.
    pub split: Split,
    /// k of `issue_<k>`.
    pub id: u32,
    /// The issue's folder.
    pub dir: PathBuf,
    /// Its `metrics.csv`.
    pub metrics: Metrics,
    /// The symptom.
    pub target: Target,
    /// The truth.
    pub root_cause: RootCause,
    /// `metadata.reproducibility.command`, how the fault was injected, if given.
    pub command: Option<String>,
}

impl Issue {
    /// `train/issue_3`.
    pub fn label(&self) -> String {
        format!("{}/issue_{}", self.split.as_str(), self.id)
    }

    /// The first row whose interval starts at or after the trigger time: the abnormal
    /// window is this row and the rest. In the shipped files: rows 3 to 5 of 5 (the trigger
    /// lies inside row 2; row 3 is the one the PetShop authors' own evaluation analyses),
    /// except `temporal_traffic1/train/issue_0`, whose trigger is exactly row 2's start:
    /// rows 2 to 5.
    pub fn first_abnormal_row(&self) -> Option<usize> {
        self.metrics.timestamps.iter().position(|&t| t >= self.target.timestamp)
    }
}

/// One traffic scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// The folder's name (`high_traffic`).
    pub name: String,
    /// The folder.
    pub dir: PathBuf,
    /// `graph.csv`.
    pub graph: CallGraph,
    /// `noissue/metrics.csv`, if the folder has it.
    pub normal: Option<Metrics>,
    /// Every issue, train before test, each by increasing k.
    pub issues: Vec<Issue>,
}
