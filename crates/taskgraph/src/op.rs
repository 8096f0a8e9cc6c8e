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

/// Index of a chain's step list in its graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChainId(pub u32);

/// One step of an [`OpKind::Chain`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ChainStep {
    /// A kernel on the chain's compute stream (roofline time, as [`OpKind::Compute`]).
    Kernel {
        /// Trace label.
        label: &'static str,
        /// Floating-point operations.
        flops: f64,
        /// HBM bytes read plus written.
        bytes: f64,
    },
    /// A GPU-driven collective over the chain's group (as [`OpKind::Collective`]).
    Collective {
        /// Trace label.
        label: &'static str,
        /// Which collective.
        kind: CollectiveKind,
        /// Which algorithm.
        algorithm: Algorithm,
        /// Size in nccl-tests terms.
        bytes: f64,
    },
}

impl ChainStep {
    /// Whether the step is a collective.
    pub fn is_collective(&self) -> bool {
        matches!(self, ChainStep::Collective { .. })
    }

    /// Its trace label.
    pub fn label(&self) -> &'static str {
        match self {
            ChainStep::Kernel { label, .. } | ChainStep::Collective { label, .. } => label,
        }
    }
}

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
    /// Kernels and collectives that run strictly one after another as one op (a pass of a
    /// tensor-parallel stage: its kernels on the lead GPU, its TP collectives over the
    /// group): it holds `gpu`'s compute stream and every member's communication stream of
    /// `group` from its start to its end, and takes the sum of its steps' times, each costed
    /// (and, in analytic mode, queued on its links) when the one before it ends. This is the
    /// same timing as the steps as separate ops in a chain of dependencies whenever nothing
    /// else needs those streams or links while the chain runs; the execution checks that and
    /// reports where it did not hold ([`crate::Execution::chain_conflict`]). Analytic and
    /// contention-free network modes only.
    Chain {
        /// The GPU whose compute stream runs the kernels.
        gpu: GpuId,
        /// Which of its compute streams.
        stream: u8,
        /// The GPUs of the collectives.
        group: GroupId,
        /// Number format of the kernels.
        dtype: Dtype,
        /// The steps, in order.
        steps: ChainId,
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
            OpKind::Chain { .. } => "chain",
        }
    }
}
