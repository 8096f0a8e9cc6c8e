//! The `kind: datapipe` workload and system entry, as a config file writes them.
//!
//! ```yaml
//! workload:
//!   pipeline: cv-torch          # a preset (`mlsim list`), or a mapping (below)
//!   mode: local                 # local | remote (remote workers may be used)
//!   samples: 20000              # per epoch
//!   epochs: 1
//!   service_cv: 0.0             # variability of per-sample operator time (log-normal CV)
//!   resources: { local_vcpus: 8, remote_vcpus: 32, network_gbps: 16, consumer_sps: 500 }
//! systems:
//!   - system: unoptimized
//!   - { system: torch-dataloader, params: { num_workers: 8 } }
//!   - system: tf-data
//!   - system: tf-data-service
//!   - system: ray-data
//!   - system: pecan
//!   - { system: cedar, params: { fusion: false } }
//! ```
//!
//! A pipeline of one's own is written inline (`pipeline: {name, ops: [...]}`, see
//! [`crate::spec`]) or read from a profile file in cedar's format (`pipeline: {profile:
//! path/to/ops.tsv, name: its profile, runs: path/to/runs.tsv}`).

use serde::Deserialize;
use serde_json::Value;
use simcore::InputError;

use crate::resources::Resources;
use crate::systems::{cedar, ray_data, torch_dataloader};

/// Where the remote workers are.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// The training host only.
    #[default]
    Local,
    /// The training host and the remote workers.
    Remote,
}

/// The `workload:` section.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DatapipeWorkload {
    /// A preset name or a pipeline mapping ([`crate::spec`]).
    pub pipeline: Value,
    /// Local or remote.
    #[serde(default)]
    pub mode: Mode,
    /// Samples per epoch (default 20,000).
    #[serde(default = "default_samples")]
    pub samples: u64,
    /// Epochs (default 1).
    #[serde(default = "default_epochs")]
    pub epochs: u32,
    /// Coefficient of variation of operator time per sample (default 0: the profiled mean).
    #[serde(default)]
    pub service_cv: f64,
    /// Points in the throughput and buffer series (default 100).
    #[serde(default = "default_points")]
    pub series_points: usize,
    /// The machines.
    #[serde(default)]
    pub resources: Resources,
}

fn default_samples() -> u64 {
    20_000
}
fn default_epochs() -> u32 {
    1
}
fn default_points() -> usize {
    100
}

impl DatapipeWorkload {
    /// Checks every field but the pipeline (read by [`crate::spec::read_pipeline`]).
    pub fn validate(&self) -> Result<(), InputError> {
        if self.samples == 0 {
            return Err(InputError::invalid("samples", "must be at least 1"));
        }
        if self.epochs == 0 {
            return Err(InputError::invalid("epochs", "must be at least 1"));
        }
        if !(self.service_cv.is_finite() && (0.0..=10.0).contains(&self.service_cv)) {
            return Err(InputError::invalid("service_cv", "must be between 0 and 10"));
        }
        if self.series_points == 0 {
            return Err(InputError::invalid("series_points", "must be at least 1"));
        }
        self.resources.validate()
    }
}

/// A system entry.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(tag = "system", rename_all = "kebab-case", deny_unknown_fields)]
pub enum DatapipeSystem {
    /// One process, given order.
    Unoptimized,
    /// PyTorch DataLoader.
    TorchDataloader(torch_dataloader::Params),
    /// tf.data with AUTOTUNE.
    TfData,
    /// tf.data service on the remote workers.
    TfDataService,
    /// Ray Data's streaming executor.
    RayData(ray_data::Params),
    /// Pecan's AutoOrder and AutoPlacement.
    Pecan,
    /// cedar's optimizer and controller.
    Cedar(cedar::Params),
}

impl DatapipeSystem {
    /// The names, in the order of the declaration.
    pub const NAMES: &[&str] = &[
        "unoptimized",
        "torch-dataloader",
        "tf-data",
        "tf-data-service",
        "ray-data",
        "pecan",
        "cedar",
    ];

    /// Every system with its default parameters, in the order of [`Self::NAMES`].
    pub fn all_defaults() -> Vec<DatapipeSystem> {
        vec![
            DatapipeSystem::Unoptimized,
            DatapipeSystem::TorchDataloader(Default::default()),
            DatapipeSystem::TfData,
            DatapipeSystem::TfDataService,
            DatapipeSystem::RayData(Default::default()),
            DatapipeSystem::Pecan,
            DatapipeSystem::Cedar(Default::default()),
        ]
    }
}
