//! Execution settings: network mode and per-GPU stream counts.

use serde::{Deserialize, Serialize};

/// How transfers share the network.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NetworkMode {
    /// Every transfer takes its closed-form time as if alone on the network (fast).
    #[default]
    Analytic,
    /// Transfers are flows whose rates are shared max-min fairly on every link (faithful
    /// under contention, slower).
    Flow,
}

/// Settings of one execution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecConfig {
    /// Network mode.
    #[serde(default)]
    pub network: NetworkMode,
    /// Compute streams per GPU (kernels on different streams overlap; on one stream they run
    /// one after another). Default 1.
    #[serde(default = "one")]
    pub compute_streams: u8,
    /// Copy engines per GPU. With two, host-to-device and device-to-host copies run on
    /// separate engines (A100 and H100 have several DMA engines; CUDA exposes at least one
    /// per direction). Default 2.
    #[serde(default = "two")]
    pub copy_engines: u8,
    /// Communication streams per GPU. Every distinct set of GPUs is one group (like one NCCL
    /// communicator per PyTorch process group); on each member a group runs on stream
    /// `k mod comm_streams`, where `k` counts the groups that GPU used before it, so a GPU's
    /// first `comm_streams` groups have streams of their own; sends use stream 0. With 1 (the
    /// default) a GPU's communication ops run in sequence; with more, collectives of
    /// different groups may overlap (PyTorch gives each process group its own NCCL stream),
    /// sharing links only in flow mode. 0 means one stream per group.
    #[serde(default = "one")]
    pub comm_streams: u8,
}

fn one() -> u8 {
    1
}

fn two() -> u8 {
    2
}

impl Default for ExecConfig {
    fn default() -> Self {
        ExecConfig {
            network: NetworkMode::Analytic,
            compute_streams: 1,
            copy_engines: 2,
            comm_streams: 1,
        }
    }
}

impl ExecConfig {
    /// Default settings in flow-level network mode.
    pub fn flow() -> Self {
        ExecConfig { network: NetworkMode::Flow, ..Self::default() }
    }
}
