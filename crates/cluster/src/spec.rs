//! Cluster specs and presets: what a cluster is made of, as YAML data.
//!
//! A spec names catalog parts for one node, a node count and a fabric. Presets are specs that
//! ship with mlsim (`presets/*.yaml`); a user's file can be a full spec, and hypothetical parts
//! can be added under `parts:` (same shape as the catalog) and referred to by name.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use simcore::SimTime;

use crate::catalog::{Catalog, GpuSpec, HostSpec, NicSpec, SsdSpec, SwitchSpec};
use crate::compute::EfficiencyCurve;
use crate::error::{ClusterError, unknown_name};

/// How the GPUs inside one node talk to each other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IntraConnect {
    /// Every GPU's NVLinks go to an NVSwitch fabric (DGX/HGX).
    Nvswitch,
    /// GPUs only meet through PCIe and the host.
    Pcie,
    /// One GPU per node: nothing to connect.
    None,
}

/// The shape of the network between nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FabricTopology {
    /// Two-level leaf-spine Clos; NICs fill leaves in node order.
    FatTree,
    /// NIC i of every node on the leaves of rail i (NVIDIA's DGX SuperPOD layout), rails joined
    /// by a spine layer.
    RailOptimized,
}

/// One node's parts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSpec {
    /// GPU key.
    pub gpu: String,
    /// GPUs per node.
    pub gpus: u32,
    /// Intra-node GPU interconnect.
    pub intra: IntraConnect,
    /// Host key.
    pub host: String,
    /// NIC key.
    pub nic: String,
    /// NICs per node; each serves `gpus / nics` GPUs.
    pub nics: u32,
    /// SSD key, if the node has local NVMe.
    #[serde(default)]
    pub ssd: Option<String>,
    /// Number of SSDs (striped as one volume).
    #[serde(default)]
    pub ssds: u32,
}

/// The inter-node network.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FabricSpec {
    /// Layout.
    pub topology: FabricTopology,
    /// Switch key (all switches are of this model).
    pub switch: String,
    /// Leaf down-link to up-link bandwidth ratio; 1 is non-blocking.
    #[serde(default = "one")]
    pub oversubscription: f64,
    /// In-network reduction (InfiniBand SHARP) is enabled: all-reduce may use the `sharp`
    /// algorithm. The switch model must support it.
    #[serde(default)]
    pub sharp: bool,
}

fn one() -> f64 {
    1.0
}

/// Which latency model communication uses (see docs/models/cluster.md, "Communication").
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, tag = "model")]
pub enum CommModelSpec {
    /// NCCL's tuning model: protocols LL, LL128 and Simple with their base and per-hop
    /// latencies; the fastest protocol is chosen per operation, as NCCL does.
    #[default]
    Nccl,
    /// The textbook alpha-beta model: alpha is the physical path latency of a hop plus a fixed
    /// per-message overhead, beta is the link bandwidth; one protocol at full bandwidth.
    Textbook {
        /// Software overhead added to every hop.
        #[serde(default)]
        per_message: SimTime,
    },
}

/// Compute-model settings that are not properties of a GPU.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComputeSettings {
    /// Host-side launch overhead per kernel; the part of a GPU's measured fixed kernel time
    /// that CUDA graphs or stream overlap cannot hide. Default 2 us: the measured floor of a
    /// tiny same-GPU cudaMemcpy on A100 and H100 (p2pBandwidthLatencyTest, 1.96-2.96 us).
    #[serde(default = "default_launch_overhead")]
    pub launch_overhead: SimTime,
    /// Matmul efficiency curve: the GPU's measured fit (default) or a table.
    #[serde(default)]
    pub matmul_efficiency: EfficiencyCurve,
}

fn default_launch_overhead() -> SimTime {
    SimTime::from_micros(2)
}

impl Default for ComputeSettings {
    fn default() -> Self {
        ComputeSettings {
            launch_overhead: default_launch_overhead(),
            matmul_efficiency: EfficiencyCurve::Measured,
        }
    }
}

/// Extra parts defined inside a spec, for hypothetical hardware.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtraParts {
    /// GPUs.
    #[serde(default)]
    pub gpus: BTreeMap<String, GpuSpec>,
    /// NICs.
    #[serde(default)]
    pub nics: BTreeMap<String, NicSpec>,
    /// Switches.
    #[serde(default)]
    pub switches: BTreeMap<String, SwitchSpec>,
    /// Hosts.
    #[serde(default)]
    pub hosts: BTreeMap<String, HostSpec>,
    /// SSDs.
    #[serde(default)]
    pub ssds: BTreeMap<String, SsdSpec>,
}

/// A whole cluster: `nodes` identical nodes on one fabric.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterSpec {
    /// Short name (a preset's name, or the user's).
    pub name: String,
    /// One line of description.
    #[serde(default)]
    pub description: String,
    /// The parts of every node.
    pub node: NodeSpec,
    /// The network between nodes.
    pub fabric: FabricSpec,
    /// Number of nodes.
    pub nodes: u32,
    /// Communication latency model.
    #[serde(default)]
    pub comm: CommModelSpec,
    /// Compute settings.
    #[serde(default)]
    pub compute: ComputeSettings,
    /// Hypothetical parts, added to the catalog for this cluster.
    #[serde(default)]
    pub parts: ExtraParts,
    /// Relative completion tolerance of the flow-level network (flow mode only): when flows
    /// end, every flow whose remaining time is at most this share of its time so far ends
    /// with them (`FlowNetwork::set_tolerance`). Default 0.001; 0 is exact; larger values
    /// trade accuracy for speed at scale (docs/models/cluster.md section 6 gives the error).
    #[serde(default = "default_flow_tolerance")]
    pub flow_tolerance: f64,
}

fn default_flow_tolerance() -> f64 {
    crate::flow::DEFAULT_TOLERANCE
}

/// The presets shipped with mlsim: (name, YAML text).
pub const PRESETS: &[(&str, &str)] = &[
    ("cloud-a100-100g", include_str!("../presets/cloud-a100-100g.yaml")),
    ("dgx-a100", include_str!("../presets/dgx-a100.yaml")),
    ("dgx-h100", include_str!("../presets/dgx-h100.yaml")),
    ("g5-xlarge", include_str!("../presets/g5-xlarge.yaml")),
    ("g5-12xlarge", include_str!("../presets/g5-12xlarge.yaml")),
    ("g5-48xlarge", include_str!("../presets/g5-48xlarge.yaml")),
    ("g6-xlarge", include_str!("../presets/g6-xlarge.yaml")),
    ("g6-12xlarge", include_str!("../presets/g6-12xlarge.yaml")),
    ("g6-48xlarge", include_str!("../presets/g6-48xlarge.yaml")),
];

impl ClusterSpec {
    /// Parses a spec from YAML; `origin` names the source in error messages.
    pub fn from_yaml(yaml: &str, origin: &str) -> Result<ClusterSpec, ClusterError> {
        let spec: ClusterSpec = serde_saphyr::from_str(yaml).map_err(|e| ClusterError::Parse {
            origin: origin.to_string(),
            message: e.to_string(),
        })?;
        Ok(spec)
    }

    /// Reads a spec from a YAML file.
    pub fn from_file(path: &Path) -> Result<ClusterSpec, ClusterError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ClusterError::Io { path: path.to_path_buf(), source })?;
        ClusterSpec::from_yaml(&text, &path.display().to_string())
    }

    /// A built-in preset by name.
    pub fn preset(name: &str) -> Result<ClusterSpec, ClusterError> {
        let (_, yaml) = PRESETS
            .iter()
            .find(|(n, _)| *n == name)
            .ok_or_else(|| unknown_name("preset", name, PRESETS.iter().map(|(n, _)| *n)))?;
        ClusterSpec::from_yaml(yaml, &format!("built-in preset {name}"))
    }

    /// This spec scaled to `nodes` nodes.
    pub fn with_nodes(mut self, nodes: u32) -> ClusterSpec {
        self.nodes = nodes;
        self
    }

    /// The catalog this spec resolves names against: the built-in one plus `parts`.
    pub fn catalog(&self) -> Catalog {
        let mut c = Catalog::builtin().clone();
        c.gpus.extend(self.parts.gpus.clone());
        c.nics.extend(self.parts.nics.clone());
        c.switches.extend(self.parts.switches.clone());
        c.hosts.extend(self.parts.hosts.clone());
        c.ssds.extend(self.parts.ssds.clone());
        c
    }

    /// Total GPUs.
    pub fn total_gpus(&self) -> u64 {
        u64::from(self.nodes) * u64::from(self.node.gpus)
    }

    /// Checks numbers and names; the error says which field is wrong and what is valid.
    pub fn validate(&self, catalog: &Catalog) -> Result<(), ClusterError> {
        let bad = |m: String| Err(ClusterError::Invalid(format!("{}: {m}", self.name)));
        if self.nodes == 0 {
            return bad("nodes must be at least 1".into());
        }
        let n = &self.node;
        if n.gpus == 0 {
            return bad("node.gpus must be at least 1".into());
        }
        if n.nics == 0 || !n.gpus.is_multiple_of(n.nics) {
            return bad(format!(
                "node.nics = {} must be at least 1 and divide node.gpus = {} (each NIC serves the same number of GPUs)",
                n.nics, n.gpus
            ));
        }
        if n.intra == IntraConnect::None && n.gpus > 1 {
            return bad(format!(
                "node.intra is `none` but node.gpus = {}; use nvswitch or pcie",
                n.gpus
            ));
        }
        let gpu = catalog.gpu(&n.gpu)?;
        if n.intra == IntraConnect::Nvswitch && gpu.nvlink.is_none() {
            return bad(format!(
                "node.intra is `nvswitch` but {} has no NVLink; use pcie",
                gpu.name
            ));
        }
        catalog.pcie(&gpu.pcie)?;
        catalog.host(&n.host)?;
        catalog.nic(&n.nic)?;
        match (&n.ssd, n.ssds) {
            (Some(key), c) if c > 0 => {
                catalog.ssd(key)?;
            }
            (Some(_), _) => return bad("node.ssd is set but node.ssds is 0".into()),
            (None, c) if c > 0 => return bad("node.ssds > 0 needs node.ssd".into()),
            _ => {}
        }
        let sw = catalog.switch(&self.fabric.switch)?;
        if sw.ports < 2 {
            return bad(format!("switch {} needs at least 2 ports", sw.name));
        }
        if !(self.fabric.oversubscription >= 1.0 && self.fabric.oversubscription.is_finite()) {
            return bad(format!(
                "fabric.oversubscription = {} must be a finite number >= 1 (1 = non-blocking)",
                self.fabric.oversubscription
            ));
        }
        if self.fabric.sharp && !sw.in_network_reduction {
            let capable: Vec<&str> = catalog
                .switches
                .iter()
                .filter(|(_, s)| s.in_network_reduction)
                .map(|(k, _)| k.as_str())
                .collect();
            return bad(format!(
                "fabric.sharp is true but switch {} has no in-network reduction (SHARP); switches with it: {}",
                self.fabric.switch,
                capable.join(", ")
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_parses_and_validates() {
        for (name, _) in PRESETS {
            let spec = ClusterSpec::preset(name).unwrap();
            assert_eq!(&spec.name, name);
            spec.validate(&spec.catalog()).unwrap();
        }
    }

    #[test]
    fn g5_presets_are_a10g_nodes_on_pcie() {
        for (name, gpus) in [("g5-xlarge", 1), ("g5-12xlarge", 4), ("g5-48xlarge", 8)] {
            let spec = ClusterSpec::preset(name).unwrap();
            assert_eq!((spec.node.gpu.as_str(), spec.node.gpus), ("a10g", gpus), "{name}");
            assert_ne!(spec.node.intra, IntraConnect::Nvswitch, "{name}");
        }
        let mut spec = ClusterSpec::preset("g5-12xlarge").unwrap();
        spec.node.intra = IntraConnect::Nvswitch;
        let e = spec.validate(&spec.catalog()).unwrap_err().to_string();
        assert!(e.contains("A10G") && e.contains("no NVLink"), "{e}");
        let e = ClusterSpec::preset("g5-12x").unwrap_err().to_string();
        assert!(e.contains("did you mean `g5-12xlarge`"), "{e}");
    }

    #[test]
    fn g6_presets_are_l4_nodes_on_pcie() {
        for (name, gpus) in [("g6-xlarge", 1), ("g6-12xlarge", 4), ("g6-48xlarge", 8)] {
            let spec = ClusterSpec::preset(name).unwrap();
            assert_eq!((spec.node.gpu.as_str(), spec.node.gpus), ("l4", gpus), "{name}");
            assert_ne!(spec.node.intra, IntraConnect::Nvswitch, "{name}");
            spec.validate(&spec.catalog()).unwrap();
        }
        let mut spec = ClusterSpec::preset("g6-48xlarge").unwrap();
        spec.node.intra = IntraConnect::Nvswitch;
        let e = spec.validate(&spec.catalog()).unwrap_err().to_string();
        assert!(e.contains("L4") && e.contains("no NVLink"), "{e}");
        let e = ClusterSpec::preset("g6-12x").unwrap_err().to_string();
        assert!(e.contains("did you mean `g6-12xlarge`"), "{e}");
    }

    #[test]
    fn unknown_preset_suggests_nearest() {
        let e = ClusterSpec::preset("dgx-h10").unwrap_err().to_string();
        assert!(e.contains("did you mean `dgx-h100`"), "{e}");
    }

    #[test]
    fn parse_errors_name_origin_line_and_field() {
        let yaml = "name: x\nnode:\n  gpu: a100-sxm4-80gb\n  gpuz: 8\n";
        let e = ClusterSpec::from_yaml(yaml, "my.yaml").unwrap_err().to_string();
        assert!(e.starts_with("my.yaml:"), "{e}");
        assert!(e.contains("line 4") && e.contains("gpuz"), "{e}");
    }

    #[test]
    fn invalid_numbers_are_reported() {
        let mut spec = ClusterSpec::preset("dgx-h100").unwrap();
        spec.node.nics = 3;
        let e = spec.validate(&spec.catalog()).unwrap_err().to_string();
        assert!(e.contains("node.nics = 3"), "{e}");
        let mut spec = ClusterSpec::preset("dgx-h100").unwrap();
        spec.node.gpu = "l4".into();
        let e = spec.validate(&spec.catalog()).unwrap_err().to_string();
        assert!(e.contains("no NVLink"), "{e}");
    }

    #[test]
    fn extra_parts_extend_the_catalog() {
        let yaml = r#"
name: future
node: { gpu: h100x2, gpus: 8, intra: nvswitch, host: dgx-h100-host, nic: connectx7-ndr400, nics: 8 }
fabric: { topology: rail-optimized, switch: quantum2-ndr }
nodes: 2
parts:
  gpus:
    h100x2:
      name: H100 with twice the HBM bandwidth
      peak: { bf16: 989.5TFLOPS }
      memory: 80GiB
      memory_bandwidth: 6.7TB/s
      l2_cache: 50MiB
      nvlink: { generation: nvlink4, links: 18 }
      pcie: gen5
      tdp_watts: 700
      matmul: { max_efficiency: 0.8, fixed_time: 6.5us }
      memory_access: { max_efficiency: 0.85, fixed_time: 5.9us }
"#;
        let spec = ClusterSpec::from_yaml(yaml, "future.yaml").unwrap();
        let cat = spec.catalog();
        spec.validate(&cat).unwrap();
        assert_eq!(cat.gpu("h100x2").unwrap().memory_bandwidth.0, 6.7e12);
    }
}
