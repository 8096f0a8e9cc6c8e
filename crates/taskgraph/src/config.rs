//! Execution settings: network mode and per-GPU stream counts.

use serde::{Deserialize, Serialize};

/// How transfers share the network (and host work the host's memory).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NetworkMode {
    /// Congestion-aware closed form (the default): an operation takes its closed-form time,
    /// and every link it uses (NVLink, PCIe, NIC, switch port, host DRAM) is a first-come,
    /// first-served queue that serves the operation's bytes at the link's bandwidth, so
    /// concurrent operations never push a link above its capacity. Fast; FIFO rather than
    /// fair sharing.
    #[default]
    Analytic,
    /// Every operation takes its closed-form time as if alone on the network: concurrent
    /// transfers each get whole links. An upper bound on performance, labelled so in results.
    ContentionFree,
    /// Transfers are flows whose rates are shared max-min fairly on every link (exact sharing
    /// under contention, slower).
    Flow,
}

impl NetworkMode {
    /// What results must say when they were produced in this mode, if anything.
    pub fn caveat(self) -> Option<&'static str> {
        match self {
            NetworkMode::ContentionFree => Some(
                "network: contention-free — concurrent transfers each use whole links, so times are an upper bound on performance (lower bounds on time)",
            ),
            _ => None,
        }
    }
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
    /// first `comm_streams` groups have streams of their own; sends use stream 0 (or their own
    /// stream, [`ExecConfig::own_send_stream`]). With 1 (the default) a GPU's communication
    /// ops run in sequence; with more, collectives of different groups may overlap (PyTorch
    /// gives each process group its own NCCL stream), sharing links (first come, first served
    /// in analytic mode, max-min fair in flow mode). 0 means one stream per group.
    #[serde(default = "one")]
    pub comm_streams: u8,
    /// Point-to-point sends get a communication stream of their own on every GPU, after the
    /// groups' streams (as a pipeline's sends have their own communicator, and so their own
    /// NCCL stream, in PyTorch), instead of sharing stream 0 with the first group's
    /// collectives. Default false.
    #[serde(default)]
    pub own_send_stream: bool,
    /// Keep, in analytic mode, what every link's queue served and when
    /// ([`crate::Execution::link_queue_log`]): for tests and inspection; off by default.
    #[serde(default)]
    pub record_link_queues: bool,
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
            own_send_stream: false,
            record_link_queues: false,
        }
    }
}

impl ExecConfig {
    /// Default settings in flow-level network mode.
    pub fn flow() -> Self {
        ExecConfig { network: NetworkMode::Flow, ..Self::default() }
    }
}
