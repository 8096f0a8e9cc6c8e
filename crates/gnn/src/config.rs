//! The `workload` section of a `kind: gnn` config: which graph, how its communities are found,
//! the GraphSAGE model and its sampling, training, the training step's costs (sampling on the
//! CPU, copies to the GPU, kernel launches, where the features live) and the L2 model. Every
//! default is named and sourced in docs/models/gnn.md.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::generate::GraphSpec;
pub use crate::gpu_l2::L2Model;
use simcore::InputError;
use simcore::units::Bandwidth;

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

/// Where the input features live, and so how a batch's rows reach the GPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FeatureStore {
    /// In GPU memory: a gather kernel reads the rows from HBM through L2.
    Gpu,
    /// In host memory: the loader gathers the rows on the CPU into a pinned buffer and copies
    /// it over PCIe (PyG's and DGL's default when the table stays on the CPU).
    Host,
    /// In pinned host memory mapped into the GPU (UVA / zero-copy): a gather kernel reads the
    /// rows over PCIe; L2 keeps what it read.
    Uvm,
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
    /// The L2 model: `realistic` (default: two partitions, flushed by the other kernels) or
    /// `exact-lru` (one shared LRU over the gathers alone).
    #[serde(default = "l2")]
    pub l2: L2Model,
    /// L2 partitions of the realistic model (default 2: A100 and H100 whitepapers).
    #[serde(default = "l2_partitions")]
    pub l2_partitions: u32,
    /// Time of a hit in the far partition, in near hits (default 2, an assumption).
    #[serde(default = "l2_far_hit_cost")]
    pub l2_far_hit_cost: f64,
    /// Scale of the other kernels' buffers that pass through L2 between two gathers
    /// (default 1: each buffer once; 0: none).
    #[serde(default = "l2_other_traffic")]
    pub l2_other_traffic: f64,
    /// Where the features live: `gpu` (default), `host` or `uvm`.
    #[serde(default = "feature_store")]
    pub feature_store: FeatureStore,
    /// CPU time of neighbour sampling per sampled edge, in nanoseconds; default measured on
    /// our sampler (docs/models/gnn.md).
    #[serde(default = "sample_edge_ns")]
    pub sample_edge_ns: f64,
    /// CPU time per adjacency entry scanned to collect a Cluster-GCN batch's induced
    /// subgraph, in nanoseconds; default measured on our scan (docs/models/gnn.md).
    #[serde(default = "scan_edge_ns")]
    pub scan_edge_ns: f64,
    /// Rate at which one loader process gathers feature rows into a pinned buffer
    /// (`feature_store: host`); default measured on this machine (docs/models/gnn.md).
    #[serde(default = "host_gather_bandwidth")]
    pub host_gather_bandwidth: Bandwidth,
    /// DataLoader worker processes that sample ahead of the GPU (default 0, PyTorch's: the
    /// training loop samples each batch after the previous step, no overlap).
    #[serde(default)]
    pub loader_workers: u32,
    /// Batches each worker may prepare ahead (default 2, PyTorch's `prefetch_factor`).
    #[serde(default = "prefetch_factor")]
    pub prefetch_factor: u32,
    /// GPU kernels per layer and training step, forward and backward (default 18: our count
    /// of a 2-layer PyG SAGEConv-mean step is 16 kernels for the input layer and 21 for the
    /// output layer, 37 in all; docs/models/gnn.md lists them).
    #[serde(default = "kernels_per_layer")]
    pub kernels_per_layer: u32,
    /// Further kernels per step (default 14, an enumeration: cross-entropy forward and
    /// backward, 6; PyTorch's multi-tensor AdamW, 8).
    #[serde(default = "step_kernels")]
    pub step_kernels: u32,
    /// Bytes of each index the loader copies to the GPU with a batch (default 8, int64).
    #[serde(default = "index_bytes")]
    pub index_bytes: u32,
}

fn graph_seed() -> u64 {
    1
}
fn train_share() -> f64 {
    0.1
}
pub(crate) fn feature_bytes() -> u32 {
    4
}
pub(crate) fn hidden() -> u32 {
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
pub(crate) fn line_bytes() -> u64 {
    128
}
pub(crate) fn l2_speedup() -> f64 {
    3.0
}
pub(crate) fn l2() -> L2Model {
    L2Model::Realistic
}
pub(crate) fn l2_partitions() -> u32 {
    2
}
pub(crate) fn l2_far_hit_cost() -> f64 {
    2.0
}
pub(crate) fn l2_other_traffic() -> f64 {
    1.0
}
pub(crate) fn feature_store() -> FeatureStore {
    FeatureStore::Gpu
}
/// CPU time per sampled edge of our sampler (`crate::sampling`), measured by
/// `cargo bench -p gnn --bench gnn`: one epoch of random batches (1,024 roots, fanouts
/// [15, 10], 16.1M sampled edges) on the headline's 1M-node graph, on-CPU time of one core of
/// this project's 2-core Xeon (Sapphire Rapids) VM, best of 3: 55 ns (docs/models/gnn.md).
pub const MEASURED_SAMPLE_EDGE_NS: f64 = 55.0;
/// One core gathering that epoch's 512-byte rows (7.0 GB) from a 512 MB table into a buffer,
/// the same bench and machine: 4.0 GB/s on-CPU, best of 3.
pub const MEASURED_HOST_GATHER_BANDWIDTH: f64 = 4.0e9;
pub(crate) fn sample_edge_ns() -> f64 {
    MEASURED_SAMPLE_EDGE_NS
}
/// CPU time per adjacency entry of our induced-subgraph scan (`crate::sampling::BatchSampler::
/// induced`), the same bench and machine: one epoch of Cluster-GCN-style batches of 20 of the
/// 1M-node graph's communities (32 batches, 24.2M adjacency entries, each scanned once),
/// on-CPU, best of 3: 2.1 ns (a sequential scan with one part lookup per entry, 26x cheaper
/// than a sampled edge).
pub const MEASURED_SCAN_EDGE_NS: f64 = 2.1;
pub(crate) fn scan_edge_ns() -> f64 {
    MEASURED_SCAN_EDGE_NS
}
pub(crate) fn host_gather_bandwidth() -> Bandwidth {
    Bandwidth(MEASURED_HOST_GATHER_BANDWIDTH)
}
pub(crate) fn prefetch_factor() -> u32 {
    2
}
pub(crate) fn kernels_per_layer() -> u32 {
    18
}
pub(crate) fn step_kernels() -> u32 {
    14
}
pub(crate) fn index_bytes() -> u32 {
    8
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
        positive("l2_partitions", u64::from(self.l2_partitions))?;
        if self.l2_partitions > 64 {
            return Err(InputError::invalid(
                "l2_partitions",
                format!(
                    "{} partitions: give at most 64 (A100 and H100 have 2)",
                    self.l2_partitions
                ),
            ));
        }
        positive("prefetch_factor", u64::from(self.prefetch_factor))?;
        positive("kernels_per_layer", u64::from(self.kernels_per_layer))?;
        positive("step_kernels", u64::from(self.step_kernels))?;
        if !(self.l2_far_hit_cost >= 1.0 && self.l2_far_hit_cost.is_finite()) {
            return Err(InputError::invalid(
                "l2_far_hit_cost",
                format!(
                    "{} must be at least 1 (a far hit is no faster than a near one)",
                    self.l2_far_hit_cost
                ),
            ));
        }
        for (field, v) in [
            ("l2_other_traffic", self.l2_other_traffic),
            ("sample_edge_ns", self.sample_edge_ns),
            ("scan_edge_ns", self.scan_edge_ns),
        ] {
            if !(v >= 0.0 && v.is_finite()) {
                return Err(InputError::invalid(field, format!("{v} must be 0 or more")));
            }
        }
        if !(self.host_gather_bandwidth.0 > 0.0 && self.host_gather_bandwidth.0.is_finite()) {
            return Err(InputError::invalid(
                "host_gather_bandwidth",
                "must be positive, e.g. 5GB/s",
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
