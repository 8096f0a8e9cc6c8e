//! Operations: what a node of a task graph does and which devices it needs.

use cluster::{Algorithm, CollectiveKind, Dtype, GpuId, MemoryTier};
use simcore::SimTime;

/// Index of an operation in its [`crate::TaskGraph`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OpId(pub u32);

/// Index of an exchange's traffic list in its graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TrafficId(pub u32);

/// Index of a collective group (a set of GPUs) in its graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GroupId(pub u32);

/// What an operation does.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum OpKind {
    /// A kernel on one GPU's compute stream: roofline time of `flops` in `dtype` moving `bytes`
    /// of HBM traffic.
    Compute {
        /// The GPU.
        gpu: GpuId,
        /// Which of the GPU's compute streams (0-based).
        stream: u8,
        /// Floating-point operations.
        flops: f64,
        /// HBM bytes read plus written.
        bytes: f64,
        /// Number format.
        dtype: Dtype,
    },
    /// A copy between memory tiers on a copy engine.
    Copy {
        /// Source tier.
        from: MemoryTier,
        /// Destination tier.
        to: MemoryTier,
        /// Bytes copied.
        bytes: f64,
    },
    /// A point-to-point send on the sender's and receiver's communication streams.
    Send {
        /// Sender.
        src: GpuId,
        /// Receiver.
        dst: GpuId,
        /// Payload bytes.
        bytes: f64,
    },
    /// A collective on the communication stream of every GPU of the group (or, host-driven,
    /// issued by host threads and holding no GPU stream).
    Collective {
        /// Which collective.
        kind: CollectiveKind,
        /// Which algorithm (`Auto` picks the fastest).
        algorithm: Algorithm,
        /// The participating GPUs.
        group: GroupId,
        /// Size in nccl-tests terms (see `cluster::collective`).
        bytes: f64,
        /// Issued by host threads rather than GPU kernels.
        host_driven: bool,
    },
    /// A non-uniform all-to-all ("all-to-all-v", e.g. an MoE token dispatch): every transfer of
    /// the traffic list at once. GPU-driven exchanges (NCCL kernels) occupy the communication
    /// stream of every GPU of the group (the GPUs that send or receive); host-driven ones (RDMA
    /// issued by host threads, e.g. an offloaded optimizer pulling gradients) occupy no GPU
    /// stream.
    Exchange {
        /// The participating GPUs.
        group: GroupId,
        /// The transfers `(src, dst, bytes)`.
        traffic: TrafficId,
        /// Issued by host threads rather than GPU kernels.
        host_driven: bool,
    },
    /// Host (CPU) work bound by the node's memory bandwidth, e.g. an offloaded optimizer step:
    /// `bytes` read and written through node `node`'s DRAM, at most `rate` bytes/s (what the
    /// work's own threads can drive). Concurrent host work and copies to or from host memory
    /// share the DRAM's bandwidth (in the analytic and flow network modes).
    HostWork {
        /// The node whose host does the work.
        node: u32,
        /// DRAM bytes read plus written.
        bytes: f64,
        /// The work's own rate limit, bytes/s.
        rate: f64,
    },
    /// A fixed wait that uses no device (a host-side pause, a timer).
    Delay {
        /// How long.
        duration: SimTime,
    },
}

impl OpKind {
    /// Short category for traces and summaries.
    pub fn category(&self) -> &'static str {
        match self {
            OpKind::Compute { .. } => "compute",
            OpKind::Copy { .. } => "copy",
            OpKind::Send { .. } => "send",
            OpKind::Collective { .. } => "collective",
            OpKind::Exchange { .. } => "exchange",
            OpKind::HostWork { .. } => "host",
            OpKind::Delay { .. } => "delay",
        }
    }
}
