//! The catalog of real parts: GPUs, NVLink and PCIe generations, NICs, switches, hosts and SSDs,
//! each with its published figures and sources (`data/catalog.yaml`, embedded at build time),
//! plus NCCL's latency constants for the `nccl` communication model.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use simcore::SimTime;
use simcore::units::{Bandwidth, Bytes, FlopRate};

use crate::error::{ClusterError, unknown_name};

/// Numeric formats a kernel can run in; each GPU lists the dense peak rate it reaches in each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dtype {
    /// IEEE double (on tensor cores where the GPU has FP64 tensor cores).
    Fp64,
    /// IEEE single, without tensor cores.
    Fp32,
    /// TensorFloat-32 on tensor cores.
    Tf32,
    /// bfloat16 on tensor cores.
    Bf16,
    /// IEEE half on tensor cores.
    Fp16,
    /// 8-bit floating point on tensor cores.
    Fp8,
    /// 8-bit integer on tensor cores (TOPS).
    Int8,
}

impl Dtype {
    /// Size of one element in bytes.
    pub fn size_bytes(self) -> u64 {
        match self {
            Dtype::Fp64 => 8,
            Dtype::Fp32 | Dtype::Tf32 => 4,
            Dtype::Bf16 | Dtype::Fp16 => 2,
            Dtype::Fp8 | Dtype::Int8 => 1,
        }
    }

    /// Lower-case name as written in config files.
    pub fn name(self) -> &'static str {
        match self {
            Dtype::Fp64 => "fp64",
            Dtype::Fp32 => "fp32",
            Dtype::Tf32 => "tf32",
            Dtype::Bf16 => "bf16",
            Dtype::Fp16 => "fp16",
            Dtype::Fp8 => "fp8",
            Dtype::Int8 => "int8",
        }
    }
}

impl fmt::Display for Dtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A measured "fixed time plus constant rate" fit of kernel time: `t = fixed_time + work /
/// (max_efficiency * peak)`. See docs/models/cluster.md, "Compute".
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KernelFit {
    /// Asymptotic fraction of peak reached by large kernels.
    pub max_efficiency: f64,
    /// GPU-side time of a vanishingly small kernel (includes the launch overhead).
    pub fixed_time: SimTime,
}

/// NVLink attachment of a GPU.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NvlinkPorts {
    /// Catalog key of the NVLink generation.
    pub generation: String,
    /// Number of links per GPU.
    pub links: u32,
}

/// A GPU model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GpuSpec {
    /// Marketing name.
    pub name: String,
    /// Dense peak rate per dtype.
    pub peak: BTreeMap<Dtype, FlopRate>,
    /// Device memory capacity.
    pub memory: Bytes,
    /// Device memory bandwidth.
    pub memory_bandwidth: Bandwidth,
    /// Last-level (L2) cache size.
    pub l2_cache: Bytes,
    /// NVLink ports, if any.
    #[serde(default)]
    pub nvlink: Option<NvlinkPorts>,
    /// PCIe generation key of the host interface.
    pub pcie: String,
    /// Board power.
    pub tdp_watts: f64,
    /// Measured GEMM timing fit.
    pub matmul: KernelFit,
    /// Measured streaming-kernel timing fit.
    pub memory_access: KernelFit,
    /// NCCL's cap on the LL protocol's bus bandwidth inside one node for this GPU generation
    /// (`llMaxBws` in NCCL's tuning model); none: no cap.
    #[serde(default)]
    pub nccl_ll_bus_bandwidth: Option<Bandwidth>,
    /// Source keys (see [`Catalog::sources`]).
    #[serde(default)]
    pub sources: Vec<String>,
    /// What is assumed rather than sourced.
    #[serde(default)]
    pub assumptions: Option<String>,
}

impl GpuSpec {
    /// Dense peak FLOP/s in `dtype`, or an error naming the dtypes this GPU supports.
    pub fn peak_flops(&self, dtype: Dtype) -> Result<f64, ClusterError> {
        self.peak.get(&dtype).map(|r| r.0).ok_or_else(|| {
            let have: Vec<&str> = self.peak.keys().map(|d| d.name()).collect();
            ClusterError::Unsupported(format!(
                "{} has no {dtype} rate; it supports {}",
                self.name,
                have.join(", ")
            ))
        })
    }
}

/// A link technology: NVLink generation or PCIe generation (x16).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkTech {
    /// Line rate of one NVLink, per direction (NVLink only).
    #[serde(default)]
    pub per_link_bandwidth: Option<Bandwidth>,
    /// Line rate of a x16 link, per direction (PCIe only).
    #[serde(default)]
    pub bandwidth: Option<Bandwidth>,
    /// Measured fraction of the line rate that carries payload.
    pub efficiency: f64,
    /// One-way latency of one link traversal.
    pub latency: SimTime,
    /// The NVSwitch of this NVLink generation reduces data in the switch (NVLink SHARP, which
    /// NCCL's NVLS algorithm uses), at this fraction of the link's payload rate; none: it
    /// cannot.
    #[serde(default)]
    pub in_switch_reduction: Option<f64>,
    /// Source keys.
    #[serde(default)]
    pub sources: Vec<String>,
}

/// A network adapter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NicSpec {
    /// Product name.
    pub name: String,
    /// Line rate per direction.
    pub bandwidth: Bandwidth,
    /// Measured achievable fraction of the line rate.
    pub efficiency: f64,
    /// One-way latency NIC to switch port (half of an end-to-end one-way minus the switch).
    pub latency: SimTime,
    /// Source keys.
    #[serde(default)]
    pub sources: Vec<String>,
    /// What is assumed rather than sourced.
    #[serde(default)]
    pub assumptions: Option<String>,
}

/// A network switch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SwitchSpec {
    /// Product name.
    pub name: String,
    /// Port count (radix).
    pub ports: u32,
    /// Line rate of one port, per direction.
    pub port_bandwidth: Bandwidth,
    /// Port-to-port latency.
    pub latency: SimTime,
    /// The switch can reduce data in the network (InfiniBand SHARP).
    #[serde(default)]
    pub in_network_reduction: bool,
    /// Source keys.
    #[serde(default)]
    pub sources: Vec<String>,
    /// What is assumed rather than sourced.
    #[serde(default)]
    pub assumptions: Option<String>,
}

/// A host (CPUs and their DRAM).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostSpec {
    /// Description.
    pub name: String,
    /// DRAM capacity.
    pub memory: Bytes,
    /// Peak DRAM bandwidth of all sockets.
    pub memory_bandwidth: Bandwidth,
    /// Source keys.
    #[serde(default)]
    pub sources: Vec<String>,
    /// What is assumed rather than sourced.
    #[serde(default)]
    pub assumptions: Option<String>,
}

/// An NVMe drive.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SsdSpec {
    /// Description.
    pub name: String,
    /// Sequential read bandwidth.
    pub read_bandwidth: Bandwidth,
    /// Sequential write bandwidth.
    pub write_bandwidth: Bandwidth,
    /// Access latency.
    pub latency: SimTime,
    /// Source keys.
    #[serde(default)]
    pub sources: Vec<String>,
    /// What is assumed rather than sourced.
    #[serde(default)]
    pub assumptions: Option<String>,
}

/// Per-class latencies of one NCCL algorithm and protocol.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassLatency {
    /// Hop over NVLink (through NVSwitch).
    pub nvlink: SimTime,
    /// Hop over PCIe (no NVLink between the GPUs).
    pub pcie: SimTime,
    /// Hop across the network.
    pub network: SimTime,
}

/// Latency constants per NCCL algorithm family.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerAlgorithm<T> {
    /// Ring (also used for point-to-point, all-to-all and hierarchical phases).
    pub ring: T,
    /// Tree.
    pub tree: T,
    /// NVLS (NVLink SHARP); none where the protocol cannot run it.
    #[serde(default = "none", bound(deserialize = "T: Deserialize<'de>"))]
    pub nvls: Option<T>,
    /// CollNet (InfiniBand SHARP); none where the protocol cannot run it.
    #[serde(default = "none", bound(deserialize = "T: Deserialize<'de>"))]
    pub collnet: Option<T>,
}

fn none<T>() -> Option<T> {
    None
}

/// One NCCL protocol (LL, LL128, Simple).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProtocolSpec {
    /// Fraction of link bandwidth that carries data: a ring inside one node that is not an
    /// all-reduce (and the algorithms without a factor of their own below).
    pub bandwidth_factor: f64,
    /// The factor of a ring all-reduce, and of any ring across nodes (NCCL's tuner: LL 1/4
    /// there, 1/3 otherwise). Default: `bandwidth_factor`.
    #[serde(default)]
    pub bandwidth_factor_ring_all_reduce: Option<f64>,
    /// The factor of point-to-point sends and all-to-alls (NCCL runs them outside the
    /// collectives' tuning). Default: `bandwidth_factor`.
    #[serde(default)]
    pub bandwidth_factor_p2p: Option<f64>,
    /// The factor of a tree across nodes. Default: `bandwidth_factor`.
    #[serde(default)]
    pub bandwidth_factor_tree: Option<f64>,
    /// The factor of a tree inside one node. Default: `bandwidth_factor_tree`.
    #[serde(default)]
    pub bandwidth_factor_tree_one_node: Option<f64>,
    /// Threads per channel at most (NCCL's `NCCL_*_MAX_NTHREADS`): with
    /// `thread_threshold`, how NCCL cuts channels and threads for small operations.
    #[serde(default)]
    pub threads: Option<u32>,
    /// Bytes per thread below which NCCL drops a channel (then halves the threads) for ring
    /// and tree operations (`NCCL_*_THREAD_THRESHOLD`).
    #[serde(default)]
    pub thread_threshold: Option<f64>,
    /// A ring's threshold is `thread_threshold` times its ranks (NCCL does this for LL).
    #[serde(default)]
    pub ring_threshold_per_rank: bool,
    /// Inside one node the protocol's bus bandwidth is capped at the GPU's
    /// `nccl_ll_bus_bandwidth` (NCCL's LL protocol).
    #[serde(default)]
    pub capped_by_gpu_ll_bandwidth: bool,
    /// NCCL's static correction of tree all-reduce bandwidth at medium sizes
    /// (`treeCorrectionFactor`): entry `k` multiplies the bandwidth of sizes in
    /// `[64 x 2^k, 64 x 2^(k+1))`; sizes outside the table are not corrected.
    #[serde(default)]
    pub tree_correction: Option<[f64; 23]>,
    /// NCCL's "plateau effect of ring": a ring all-reduce across nodes under this protocol has
    /// its latency multiplied by this (1.4 on Ampere and later).
    #[serde(default)]
    pub ring_plateau_latency_factor: Option<f64>,
    /// Fixed latency per collective.
    pub base: PerAlgorithm<SimTime>,
    /// Latency per sequential hop, by link class.
    pub hop: PerAlgorithm<ClassLatency>,
}

/// NCCL's tuning-model constants.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NcclConstants {
    /// Protocols by name.
    pub protocols: BTreeMap<String, ProtocolSpec>,
    /// Source keys.
    #[serde(default)]
    pub sources: Vec<String>,
}

/// Every known part, by catalog key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    /// GPUs.
    pub gpus: BTreeMap<String, GpuSpec>,
    /// NVLink generations.
    pub nvlink: BTreeMap<String, LinkTech>,
    /// PCIe generations.
    pub pcie: BTreeMap<String, LinkTech>,
    /// Network adapters.
    pub nics: BTreeMap<String, NicSpec>,
    /// Network switches.
    pub switches: BTreeMap<String, SwitchSpec>,
    /// Hosts.
    pub hosts: BTreeMap<String, HostSpec>,
    /// NVMe drives.
    pub ssds: BTreeMap<String, SsdSpec>,
    /// NCCL latency model.
    pub nccl: NcclConstants,
    /// Full citation of every source key.
    pub sources: BTreeMap<String, String>,
}

/// The embedded catalog text.
pub const CATALOG_YAML: &str = include_str!("../data/catalog.yaml");

fn lookup<'a, T>(
    map: &'a BTreeMap<String, T>,
    kind: &'static str,
    key: &str,
) -> Result<&'a T, ClusterError> {
    map.get(key).ok_or_else(|| unknown_name(kind, key, map.keys().map(String::as_str)))
}

impl Catalog {
    /// The built-in catalog (parsed once).
    ///
    /// # Panics
    /// Only if the embedded `data/catalog.yaml` is malformed, which the crate's tests rule out.
    pub fn builtin() -> &'static Catalog {
        static CATALOG: OnceLock<Catalog> = OnceLock::new();
        CATALOG.get_or_init(|| match Catalog::parse(CATALOG_YAML) {
            Ok(c) => c,
            Err(e) => panic!("built-in catalog is malformed: {e}"),
        })
    }

    /// Parses a catalog from YAML.
    pub fn parse(yaml: &str) -> Result<Catalog, ClusterError> {
        serde_saphyr::from_str(yaml)
            .map_err(|e| ClusterError::Parse { origin: "catalog".into(), message: e.to_string() })
    }

    /// A GPU by key.
    pub fn gpu(&self, key: &str) -> Result<&GpuSpec, ClusterError> {
        lookup(&self.gpus, "GPU", key)
    }

    /// An NVLink generation by key.
    pub fn nvlink(&self, key: &str) -> Result<&LinkTech, ClusterError> {
        lookup(&self.nvlink, "NVLink generation", key)
    }

    /// A PCIe generation by key.
    pub fn pcie(&self, key: &str) -> Result<&LinkTech, ClusterError> {
        lookup(&self.pcie, "PCIe generation", key)
    }

    /// A NIC by key.
    pub fn nic(&self, key: &str) -> Result<&NicSpec, ClusterError> {
        lookup(&self.nics, "NIC", key)
    }

    /// A switch by key.
    pub fn switch(&self, key: &str) -> Result<&SwitchSpec, ClusterError> {
        lookup(&self.switches, "switch", key)
    }

    /// A host by key.
    pub fn host(&self, key: &str) -> Result<&HostSpec, ClusterError> {
        lookup(&self.hosts, "host", key)
    }

    /// An SSD by key.
    pub fn ssd(&self, key: &str) -> Result<&SsdSpec, ClusterError> {
        lookup(&self.ssds, "SSD", key)
    }

    /// Every source key referenced by some part, with the part that cites it.
    pub fn source_references(&self) -> Vec<(String, String)> {
        let mut refs = Vec::new();
        let mut add = |part: String, sources: &[String]| {
            for s in sources {
                refs.push((part.clone(), s.clone()));
            }
        };
        self.gpus.iter().for_each(|(k, v)| add(format!("gpus.{k}"), &v.sources));
        self.nvlink.iter().for_each(|(k, v)| add(format!("nvlink.{k}"), &v.sources));
        self.pcie.iter().for_each(|(k, v)| add(format!("pcie.{k}"), &v.sources));
        self.nics.iter().for_each(|(k, v)| add(format!("nics.{k}"), &v.sources));
        self.switches.iter().for_each(|(k, v)| add(format!("switches.{k}"), &v.sources));
        self.hosts.iter().for_each(|(k, v)| add(format!("hosts.{k}"), &v.sources));
        self.ssds.iter().for_each(|(k, v)| add(format!("ssds.{k}"), &v.sources));
        add("nccl".into(), &self.nccl.sources);
        refs
    }

    /// Checks cross-references: NVLink and PCIe keys of GPUs exist, every cited source is
    /// defined, efficiencies are in (0, 1].
    pub fn validate(&self) -> Result<(), ClusterError> {
        for (key, gpu) in &self.gpus {
            if let Some(nv) = &gpu.nvlink {
                self.nvlink(&nv.generation)?;
            }
            self.pcie(&gpu.pcie)?;
            for fit in [gpu.matmul, gpu.memory_access] {
                check_fraction(&format!("gpus.{key}"), fit.max_efficiency)?;
            }
        }
        for (key, t) in self.nvlink.iter().chain(self.pcie.iter()) {
            check_fraction(key, t.efficiency)?;
            if let Some(f) = t.in_switch_reduction {
                check_fraction(&format!("{key}.in_switch_reduction"), f)?;
            }
        }
        for (key, n) in &self.nics {
            check_fraction(&format!("nics.{key}"), n.efficiency)?;
        }
        for (part, source) in self.source_references() {
            if !self.sources.contains_key(&source) {
                return Err(ClusterError::Invalid(format!(
                    "{part} cites source `{source}`, which the catalog's `sources` does not define"
                )));
            }
        }
        Ok(())
    }
}

fn check_fraction(what: &str, x: f64) -> Result<(), ClusterError> {
    if x > 0.0 && x <= 1.0 {
        Ok(())
    } else {
        Err(ClusterError::Invalid(format!("{what}: efficiency {x} must be in (0, 1]")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalog_parses_and_is_consistent() {
        let c = Catalog::builtin();
        c.validate().unwrap();
        assert!(c.gpus.len() >= 6);
        let h100 = c.gpu("h100-sxm5-80gb").unwrap();
        assert_eq!(h100.peak_flops(Dtype::Bf16).unwrap(), 989.5e12);
        assert_eq!(h100.memory.0, 80 << 30);
        assert_eq!(h100.memory_bandwidth.0, 3350e9);
        let a100 = c.gpu("a100-sxm4-40gb").unwrap();
        assert_eq!(a100.l2_cache.0, 40 << 20);
        assert_eq!(c.nic("connectx7-ndr400").unwrap().bandwidth.0, 50e9);
        assert_eq!(c.nccl.protocols.len(), 3);
        // A10G: 70 TFLOP/s dense BF16, 600 GB/s, 23028 MiB as nvidia-smi reports, no NVLink.
        let a10g = c.gpu("a10g").unwrap();
        assert_eq!(a10g.peak_flops(Dtype::Bf16).unwrap(), 70e12);
        assert_eq!(a10g.memory_bandwidth.0, 600e9);
        assert_eq!(a10g.memory.0, 23_028 << 20);
        assert!(a10g.nvlink.is_none() && a10g.pcie == "gen4");
        // L4: 121 TFLOP/s dense BF16 (242 with sparsity), 300 GB/s, 24 GB = 24e9 B as the
        // datasheet states, 48 MiB L2, no NVLink, PCIe Gen4.
        let l4 = c.gpu("l4").unwrap();
        assert_eq!(l4.peak_flops(Dtype::Bf16).unwrap(), 121e12);
        assert_eq!(l4.peak_flops(Dtype::Fp8).unwrap(), 242.5e12);
        assert_eq!(l4.memory_bandwidth.0, 300e9);
        assert_eq!(l4.memory.0, 24_000_000_000);
        assert_eq!(l4.l2_cache.0, 48 << 20);
        assert!(l4.nvlink.is_none() && l4.pcie == "gen4");
        assert_eq!(l4.tdp_watts, 72.0);
    }

    #[test]
    fn missing_dtype_and_unknown_names_are_clear_errors() {
        let c = Catalog::builtin();
        let v100 = c.gpu("v100-sxm2-32gb").unwrap();
        let e = v100.peak_flops(Dtype::Bf16).unwrap_err().to_string();
        assert!(e.contains("no bf16") && e.contains("fp16"), "{e}");
        let e = c.gpu("h100-sxm-80gb").unwrap_err().to_string();
        assert!(e.contains("did you mean `h100-sxm5-80gb`"), "{e}");
    }

    #[test]
    fn nvlink_bandwidth_per_gpu_matches_datasheets() {
        // A100: 600 GB/s both ways = 300 per direction; H100: 900 = 450 per direction.
        let c = Catalog::builtin();
        for (gpu, per_dir) in
            [("a100-sxm4-80gb", 300e9), ("h100-sxm5-80gb", 450e9), ("v100-sxm2-32gb", 150e9)]
        {
            let g = c.gpu(gpu).unwrap();
            let nv = g.nvlink.as_ref().unwrap();
            let tech = c.nvlink(&nv.generation).unwrap();
            assert_eq!(tech.per_link_bandwidth.unwrap().0 * f64::from(nv.links), per_dir, "{gpu}");
        }
    }
}
