//! Per-GPU streams and engines as FIFO resources, and which of them each op needs.
//!
//! Resource ids: GPU `g` owns `[g*B, (g+1)*B)` with `B = S + M + C`: compute streams
//! `0..S`, communication streams `S..S+M`, copy engines `S+M..S+M+C`. After all GPUs, one
//! storage engine per node serves copies between host memory and NVMe. A collective or
//! exchange uses, on each member, communication stream `k mod M` where `k` counts the groups
//! that member used before (`TaskGraph::group_ordinals`); sends use stream 0, or with
//! `own_send_stream` a stream `M` of their own. `M = 0` in the config means one stream per
//! group: `M` is then the most groups any GPU uses.
//!
//! An op that needs several resources (a send needs both ends' communication streams, a
//! collective every member's) queues on all of them and starts when it heads every queue:
//! since every queue is ordered by the same global readiness order, no two ops can wait on
//! each other (no deadlock), and a collective starts when its last member is free, as NCCL
//! kernels do.

use std::collections::VecDeque;

use cluster::{GpuId, MemoryTier};
use simcore::SimTime;

use crate::config::ExecConfig;
use crate::graph::TaskGraph;
use crate::op::{OpId, OpKind};

/// Sentinel for "no op".
pub(crate) const NONE: u32 = u32::MAX;

/// One FIFO resource.
#[derive(Clone, Debug, Default)]
pub(crate) struct Resource {
    pub queue: VecDeque<u32>,
    pub busy: bool,
    /// The idle resource is promised to its queue head, which waits for other resources.
    pub reserved: bool,
    /// Last op that ran here.
    pub last: u32,
    pub busy_time: SimTime,
    /// Chain ops queued on or holding this resource (anything else arriving meanwhile could
    /// have slipped between the chain's steps had they been separate ops).
    pub chain_claims: u32,
}

/// What kind of resource an id is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lane {
    /// Compute stream of a GPU.
    Compute(GpuId, u8),
    /// Communication stream of a GPU.
    Comm(GpuId, u8),
    /// Copy engine of a GPU.
    Copy(GpuId, u8),
    /// Storage DMA of a node.
    Storage(u32),
}

/// Resource id arithmetic for one execution.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Layout {
    pub streams: u32,
    pub comms: u32,
    /// Streams of the groups (`comms` less the send stream, if sends have their own).
    pub group_comms: u32,
    /// The communication stream sends use.
    pub send_comm: u32,
    pub engines: u32,
    pub per_gpu: u32,
    pub gpus: u32,
    pub gpus_per_node: u32,
}

impl Layout {
    pub fn new(cfg: &ExecConfig, graph: &TaskGraph, gpus: u32, gpus_per_node: u32) -> Layout {
        let streams = u32::from(cfg.compute_streams.max(1));
        let group_comms = match cfg.comm_streams {
            0 => graph.max_groups_per_gpu().max(1),
            n => u32::from(n),
        };
        let (comms, send_comm) =
            if cfg.own_send_stream { (group_comms + 1, group_comms) } else { (group_comms, 0) };
        let engines = u32::from(cfg.copy_engines.max(1));
        Layout {
            streams,
            comms,
            group_comms,
            send_comm,
            engines,
            per_gpu: streams + comms + engines,
            gpus,
            gpus_per_node,
        }
    }

    pub fn count(&self, nodes: u32) -> usize {
        (self.gpus * self.per_gpu + nodes) as usize
    }

    pub fn compute(&self, g: GpuId, stream: u8) -> u32 {
        g.0 * self.per_gpu + u32::from(stream)
    }

    pub fn comm(&self, g: GpuId, stream: u32) -> u32 {
        g.0 * self.per_gpu + self.streams + stream
    }

    pub fn copy_engine(&self, g: GpuId, to_device: bool) -> u32 {
        let e = if self.engines >= 2 && !to_device { 1 } else { 0 };
        g.0 * self.per_gpu + self.streams + self.comms + e
    }

    pub fn storage(&self, node: u32) -> u32 {
        self.gpus * self.per_gpu + node
    }

    pub fn lane(&self, r: u32) -> Lane {
        if r >= self.gpus * self.per_gpu {
            return Lane::Storage(r - self.gpus * self.per_gpu);
        }
        let (g, off) = (GpuId(r / self.per_gpu), r % self.per_gpu);
        if off < self.streams {
            Lane::Compute(g, off as u8)
        } else if off < self.streams + self.comms {
            Lane::Comm(g, (off - self.streams) as u8)
        } else {
            Lane::Copy(g, (off - self.streams - self.comms) as u8)
        }
    }

    /// Calls `f` with every resource `op` needs (each once).
    #[inline]
    pub fn for_each(&self, graph: &TaskGraph, op: OpId, mut f: impl FnMut(u32)) {
        match *graph.kind(op) {
            OpKind::Compute { gpu, stream, .. } => f(self.compute(gpu, stream)),
            OpKind::Copy { from, to, .. } => match (from, to) {
                (MemoryTier::Hbm(g), _) => f(self.copy_engine(g, false)),
                (_, MemoryTier::Hbm(g)) => f(self.copy_engine(g, true)),
                (MemoryTier::Host(n) | MemoryTier::Ssd(n), _) => f(self.storage(n)),
            },
            OpKind::Send { src, dst, .. } => {
                f(self.comm(src, self.send_comm));
                if dst != src {
                    f(self.comm(dst, self.send_comm));
                }
            }
            OpKind::Collective { group, host_driven: false, .. }
            | OpKind::Exchange { group, host_driven: false, .. } => {
                for (&g, &k) in graph.group(group).iter().zip(graph.group_ordinals(group)) {
                    f(self.comm(g, k % self.group_comms));
                }
            }
            OpKind::Collective { host_driven: true, .. }
            | OpKind::Exchange { host_driven: true, .. } => {}
            OpKind::Delay { .. } | OpKind::HostWork { .. } => {}
            OpKind::Chain { gpu, stream, group, .. } => {
                f(self.compute(gpu, stream));
                for (&g, &k) in graph.group(group).iter().zip(graph.group_ordinals(group)) {
                    f(self.comm(g, k % self.group_comms));
                }
            }
        }
    }

    /// Number of resources `op` needs.
    pub fn needed(&self, graph: &TaskGraph, op: OpId) -> u32 {
        match *graph.kind(op) {
            OpKind::Compute { .. } | OpKind::Copy { .. } => 1,
            OpKind::Send { src, dst, .. } => 1 + u32::from(src != dst),
            OpKind::Collective { group, host_driven: false, .. }
            | OpKind::Exchange { group, host_driven: false, .. } => graph.group(group).len() as u32,
            OpKind::Collective { host_driven: true, .. }
            | OpKind::Exchange { host_driven: true, .. } => 0,
            OpKind::Delay { .. } | OpKind::HostWork { .. } => 0,
            OpKind::Chain { group, .. } => 1 + graph.group(group).len() as u32,
        }
    }
}
