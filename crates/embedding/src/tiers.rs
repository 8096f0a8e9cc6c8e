//! Memory tiers per GPU and the bandwidths planners use: HBM, and UVM (host DRAM read over
//! PCIe), with capacities and bandwidths from the cluster catalog; and the GPU-to-GPU
//! bandwidths inside a node and across nodes from the topology's routes.
//!
//! Row gathers from UVM are random reads of a few hundred bytes over PCIe; TorchRec's planner
//! models their kernel bandwidth as a tenth of the HBM-to-DDR bandwidth (its `fused_uvm`
//! kernel: `HBM_TO_DDR_MEM_BW / 10`); `uvm_efficiency` (default 0.1) is that factor. The
//! embedding budget in HBM (`hbm`) defaults to 75% of the GPU's memory (assumption: the rest
//! holds the dense model, activations and buffers); the UVM budget to the node's DRAM split
//! evenly over its GPUs.

use cluster::{Algorithm, Cluster, CollectiveKind, GpuId, MemoryTier};
use serde::{Deserialize, Serialize};
use simcore::units::Bytes;

use simcore::InputError;

/// The `memory:` of a workload.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemorySpec {
    /// HBM per GPU available to embeddings (default: 75% of the GPU's memory).
    #[serde(default)]
    pub hbm: Option<Bytes>,
    /// Host memory per GPU available to embeddings (default: node DRAM / GPUs per node).
    #[serde(default)]
    pub uvm: Option<Bytes>,
    /// Share of PCIe bandwidth random row gathers from host memory achieve (default 0.1).
    #[serde(default)]
    pub uvm_efficiency: Option<f64>,
    /// Share of HBM bandwidth row gathers achieve (default: 1, TorchRec's `fused` kernel).
    #[serde(default)]
    pub hbm_efficiency: Option<f64>,
}

/// Capacities and bandwidths of one GPU's tiers and of the links between GPUs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tiers {
    /// GPUs in the job.
    pub gpus: u32,
    /// GPUs per node.
    pub gpus_per_node: u32,
    /// HBM bytes per GPU for embeddings.
    pub hbm_capacity: f64,
    /// Host bytes per GPU for embeddings.
    pub uvm_capacity: f64,
    /// HBM bandwidth of row gathers, bytes/s.
    pub hbm_bw: f64,
    /// Share of HBM bandwidth row gathers achieve.
    pub hbm_efficiency: f64,
    /// Host-to-GPU bandwidth of row gathers, bytes/s (PCIe route x efficiency).
    pub uvm_bw: f64,
    /// GPU-to-GPU bandwidth inside a node, bytes/s.
    pub intra_bw: f64,
    /// GPU-to-GPU bandwidth across nodes, bytes/s (intra if one node).
    pub inter_bw: f64,
    /// All-reduce over all GPUs as (latency s, bytes/s), fitted to the collective model at
    /// 1 KiB and 256 MiB.
    pub allreduce_all: (f64, f64),
    /// All-reduce over one GPU per node, the same way (`(0, inf)` with one node).
    pub allreduce_nodes: (f64, f64),
}

impl Tiers {
    /// The tiers of `cluster` under `spec`.
    pub fn new(cluster: &Cluster, spec: &MemorySpec) -> Result<Tiers, InputError> {
        let gpu = cluster.gpu();
        let node = &cluster.spec().node;
        let per_node = node.gpus.max(1);
        let host = cluster
            .catalog()
            .host(&node.host)
            .map_err(|e| InputError::Simulation(e.to_string()))?;
        let field = |f: &str| format!("memory.{f}");
        let hbm_capacity = match spec.hbm {
            Some(b) if b.0 == 0 => {
                return Err(InputError::invalid(&field("hbm"), "must be positive"));
            }
            Some(b) if b.0 > gpu.memory.0 => {
                return Err(InputError::invalid(
                    &field("hbm"),
                    format!("{b} is more than the {}'s {}", gpu.name, gpu.memory),
                ));
            }
            Some(b) => b.0 as f64,
            None => 0.75 * gpu.memory.0 as f64,
        };
        let uvm_capacity = match spec.uvm {
            Some(b) => b.0 as f64,
            None => host.memory.0 as f64 / f64::from(per_node),
        };
        let eff = |v: Option<f64>, d: f64, name: &str| match v {
            None => Ok(d),
            Some(x) if x > 0.0 && x <= 1.0 => Ok(x),
            Some(x) => Err(InputError::invalid(&field(name), format!("{x} is not in (0, 1]"))),
        };
        let uvm_eff = eff(spec.uvm_efficiency, 0.1, "uvm_efficiency")?;
        let hbm_eff = eff(spec.hbm_efficiency, 1.0, "hbm_efficiency")?;
        let sim = |e: cluster::ClusterError| InputError::Simulation(e.to_string());
        let mut net = cluster.network();
        let pcie = net.copy_route(MemoryTier::Host(0), MemoryTier::Hbm(GpuId(0))).map_err(sim)?;
        let pcie_bw = pcie.bandwidth;
        let gpus = cluster.gpu_count();
        let bw = |net: &mut cluster::Network<'_>, a: u32, b: u32| -> Result<f64, InputError> {
            let (va, vb) = {
                let t = net.cluster().topology();
                (t.gpu_vertex(GpuId(a)).map_err(sim)?, t.gpu_vertex(GpuId(b)).map_err(sim)?)
            };
            Ok(net.router().route(va, vb).map_err(sim)?.bandwidth)
        };
        let intra_bw =
            if per_node > 1 && gpus > 1 { bw(&mut net, 0, 1)? } else { gpu.memory_bandwidth.0 };
        let inter_bw = if gpus > per_node { bw(&mut net, 0, per_node)? } else { intra_bw };
        let fit = |net: &mut cluster::Network<'_>,
                   group: &[GpuId]|
         -> Result<(f64, f64), InputError> {
            if group.len() < 2 {
                return Ok((0.0, f64::INFINITY));
            }
            let time = |net: &mut cluster::Network<'_>, bytes: f64| -> Result<f64, InputError> {
                Ok(net
                    .collective(CollectiveKind::AllReduce, Algorithm::Auto, group, bytes)
                    .map_err(sim)?
                    .1
                    .time
                    .as_secs_f64())
            };
            let (small, large) = (1024.0, 256.0 * 1024.0 * 1024.0);
            let (ts, tl) = (time(net, small)?, time(net, large)?);
            let bw = (large - small) / (tl - ts).max(1e-12);
            Ok(((ts - small / bw).max(0.0), bw))
        };
        let all: Vec<GpuId> = (0..gpus).map(GpuId).collect();
        let one_per_node: Vec<GpuId> =
            (0..gpus.div_ceil(per_node)).map(|n| GpuId(n * per_node)).collect();
        let allreduce_all = fit(&mut net, &all)?;
        let allreduce_nodes = fit(&mut net, &one_per_node)?;
        Ok(Tiers {
            gpus,
            gpus_per_node: per_node,
            hbm_capacity,
            uvm_capacity,
            hbm_bw: gpu.memory_bandwidth.0 * hbm_eff,
            hbm_efficiency: hbm_eff,
            uvm_bw: pcie_bw * uvm_eff,
            intra_bw,
            inter_bw,
            allreduce_all,
            allreduce_nodes,
        })
    }

    /// Node of a GPU.
    pub fn node_of(&self, gpu: u32) -> u32 {
        gpu / self.gpus_per_node
    }

    /// Nodes in the job.
    pub fn nodes(&self) -> u32 {
        self.gpus.div_ceil(self.gpus_per_node)
    }
}
