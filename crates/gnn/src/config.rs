//! The `workload` section of a `kind: gnn` config: which graph, how its communities are found,
//! the GraphSAGE model and its sampling, training, and the L2 model's assumptions. Every
//! default is named and sourced in docs/models/gnn.md.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::generate::GraphSpec;
use simcore::InputError;

/// Where communities come from (COMM-RAND's grouping and feature layout).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CommunityMethod {
    /// Louvain modularity optimisation ([`crate::communities::louvain`]).
    Louvain,
    /// METIS k-way parts ([`crate::partition::metis_kway`]), `community_parts` of them.
    Metis,
    /// The generator's planted communities (generated graphs only).
    Planted,
}

/// A GNN workload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GnnWorkload {
    /// A Planetoid data set: `cora`, `citeseer` or `pubmed` (give this or `graph`).
    #[serde(default)]
    pub dataset: Option<String>,
    /// Directory of the Planetoid files (default: `data/planetoid` of the repository; a
    /// relative path is read from the workspace root, then from the working directory).
    #[serde(default)]
    pub data_dir: Option<PathBuf>,
    /// A generated graph (give this or `dataset`).
    #[serde(default)]
    pub graph: Option<GraphSpec>,
    /// Seed of the generated graph (default 1; the run's seed drives batches and training).
    #[serde(default = "graph_seed")]
    pub graph_seed: u64,
    /// Share of a generated graph's nodes that are training roots (default 0.1).
    #[serde(default = "train_share")]
    pub train_share: f64,
    /// Input feature width; required where the graph has no features (PubMed's 500 TF-IDF
    /// words, a generated graph's chosen width), otherwise the data set's.
    #[serde(default)]
    pub features: Option<u32>,
    /// Bytes per feature value (default 4, fp32).
    #[serde(default = "feature_bytes")]
    pub feature_bytes: u32,
    /// Output classes of a graph without labels (default 47, ogbn-products'); otherwise the
    /// data set's.
    #[serde(default)]
    pub classes: Option<u32>,
    /// Hidden width (default 128).
    #[serde(default = "hidden")]
    pub hidden: u32,
    /// Neighbour fanouts per layer, roots outwards (default [25, 10], GraphSAGE's).
    #[serde(default = "fanouts")]
    pub fanouts: Vec<u32>,
    /// Roots per batch (default 512, GraphSAGE's).
    #[serde(default = "batch")]
    pub batch: u32,
    /// Community detection for COMM-RAND (default louvain).
    #[serde(default = "communities")]
    pub communities: CommunityMethod,
    /// METIS parts when `communities: metis` (default: one per 200 nodes).
    #[serde(default)]
    pub community_parts: Option<u32>,
    /// Simulated epochs whose times are averaged (default 1).
    #[serde(default = "timed_epochs")]
    pub timed_epochs: u32,
    /// Whether to train the model for accuracy (default: where the data set has features and
    /// labels; a generated graph trains on contextual-SBM labels and features when `true`).
    #[serde(default)]
    pub train: Option<bool>,
    /// Class signal over noise of a generated graph's synthetic features (default 1,
    /// [`crate::synthetic`]).
    #[serde(default = "feature_signal")]
    pub feature_signal: f64,
    /// Training epochs (default 30).
    #[serde(default = "epochs")]
    pub epochs: u32,
    /// Validation accuracy that counts as reached (default 0.75) for `epochs_to_target`.
    #[serde(default = "target_accuracy")]
    pub target_accuracy: f64,
    /// Learning rate (default 0.01).
    #[serde(default = "lr")]
    pub lr: f64,
    /// AdamW's decoupled weight decay (default 5e-4).
    #[serde(default = "weight_decay")]
    pub weight_decay: f64,
    /// L2 cache line in bytes (default 128, A100/H100).
    #[serde(default = "line_bytes")]
    pub line_bytes: u64,
    /// L2 over HBM bandwidth (default 3, an assumption; see docs/models/gnn.md).
    #[serde(default = "l2_speedup")]
    pub l2_speedup: f64,
}

fn graph_seed() -> u64 {
    1
}
fn train_share() -> f64 {
    0.1
}
fn feature_bytes() -> u32 {
    4
}
fn hidden() -> u32 {
    128
}
fn fanouts() -> Vec<u32> {
    vec![25, 10]
}
fn batch() -> u32 {
    512
}
fn communities() -> CommunityMethod {
    CommunityMethod::Louvain
}
fn timed_epochs() -> u32 {
    1
}
fn feature_signal() -> f64 {
    1.0
}
fn epochs() -> u32 {
    30
}
fn target_accuracy() -> f64 {
    0.75
}
fn lr() -> f64 {
    0.01
}
fn weight_decay() -> f64 {
    5e-4
}
fn line_bytes() -> u64 {
    128
}
fn l2_speedup() -> f64 {
    3.0
}

/// The Planetoid data sets shipped in the repository's `data/planetoid`.
pub const DATASETS: &[&str] = &["cora", "citeseer", "pubmed"];

impl GnnWorkload {
    /// Training roots of a generated graph of `nodes` nodes: `train_share` of them, at least 1.
    pub fn generated_roots(&self, nodes: u32) -> u32 {
        ((f64::from(nodes) * self.train_share).round() as u32).clamp(1, nodes.max(1))
    }

    /// Checks what can be checked without loading data; errors name `workload.*`.
    pub fn validate(&self) -> Result<(), InputError> {
        match (&self.dataset, &self.graph) {
            (Some(_), Some(_)) => {
                return Err(InputError::invalid(
                    "graph",
                    "give either `dataset` (a Planetoid data set) or `graph` (a generator), not both",
                ));
            }
            (None, None) => {
                return Err(InputError::invalid(
                    "dataset",
                    format!(
                        "missing: give `dataset` ({}) or `graph` (model: sbm or lfr)",
                        DATASETS.join(", ")
                    ),
                ));
            }
            (Some(d), None) if !DATASETS.contains(&d.as_str()) => {
                return Err(InputError::invalid(
                    "dataset",
                    format!("unknown data set `{d}`; valid: {}", DATASETS.join(", ")),
                ));
            }
            (None, Some(g)) => g.validate("graph")?,
            _ => {}
        }
        crate::sampling::check_fanouts(&self.fanouts)?;
        let positive = |field: &str, v: u64| {
            if v == 0 { Err(InputError::invalid(field, "must be at least 1")) } else { Ok(()) }
        };
        positive("batch", u64::from(self.batch))?;
        positive("hidden", u64::from(self.hidden))?;
        positive("feature_bytes", u64::from(self.feature_bytes))?;
        positive("timed_epochs", u64::from(self.timed_epochs))?;
        positive("epochs", u64::from(self.epochs))?;
        positive("line_bytes", self.line_bytes)?;
        if let Some(f) = self.features {
            positive("features", u64::from(f))?;
        }
        if let Some(c) = self.classes {
            positive("classes", u64::from(c))?;
        }
        if let Some(p) = self.community_parts {
            positive("community_parts", u64::from(p))?;
        }
        if !(self.train_share > 0.0 && self.train_share <= 1.0) {
            return Err(InputError::invalid(
                "train_share",
                format!("{} is not in (0, 1]", self.train_share),
            ));
        }
        if !(0.0..=1.0).contains(&self.target_accuracy) {
            return Err(InputError::invalid(
                "target_accuracy",
                format!("{} is not in [0, 1]", self.target_accuracy),
            ));
        }
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return Err(InputError::invalid("lr", format!("{} must be positive", self.lr)));
        }
        if !(self.weight_decay >= 0.0 && self.weight_decay.is_finite()) {
            return Err(InputError::invalid("weight_decay", "must be 0 or more"));
        }
        if !(self.feature_signal >= 0.0 && self.feature_signal.is_finite()) {
            return Err(InputError::invalid("feature_signal", "must be 0 or more"));
        }
        if !(self.l2_speedup >= 1.0 && self.l2_speedup.is_finite()) {
            return Err(InputError::invalid(
                "l2_speedup",
                format!("{} must be at least 1 (L2 is not slower than HBM)", self.l2_speedup),
            ));
        }
        if self.communities == CommunityMethod::Planted && self.graph.is_none() {
            return Err(InputError::invalid(
                "communities",
                "planted communities exist only for generated graphs; use louvain or metis",
            ));
        }
        if self.train == Some(true) && self.fanouts.len() != 2 {
            return Err(InputError::invalid(
                "fanouts",
                "the trained GraphSAGE has 2 layers: give 2 fanouts, or train: false",
            ));
        }
        Ok(())
    }
}
