//! `kind: collective` — the collective benchmark: one collective over a group of GPUs, timed
//! per algorithm (the systems), as nccl-tests does, with optional per-GPU arrival skew so that
//! seeds matter (stragglers delay a collective until the last member arrives).

use cluster::{Algorithm, Cluster, CollectiveKind, GpuId};
use serde::Deserialize;
use simcore::units::Bytes;
use simcore::{Described, Description, InputError, RandomStreams, RunResult, SimTime, Simulator};
use taskgraph::{ExecConfig, NetworkMode, TaskGraphBuilder, execute};

/// The collective benchmark.
pub struct CollectiveBench;

/// The `workload:` section.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workload {
    /// Which collective.
    op: CollectiveKind,
    /// Size in nccl-tests terms.
    bytes: Bytes,
    /// GPUs taking part: the first N of the cluster (default: all).
    #[serde(default)]
    gpus: Option<u32>,
    /// Network model.
    #[serde(default)]
    network: NetworkMode,
    /// Mean of each GPU's exponential arrival delay (0: all arrive together).
    #[serde(default)]
    skew: SimTime,
}

/// A system entry: the algorithm, without parameters.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(tag = "system", rename_all = "kebab-case", deny_unknown_fields)]
pub enum SystemSpec {
    /// Ring (chain for broadcast).
    Ring {},
    /// Double binary tree.
    Tree {},
    /// Intra-node rings, then per-rail inter-node rings.
    Hierarchical {},
    /// Every pair at once.
    Direct {},
    /// NVLink SHARP inside one node (H100/H200 NVSwitch).
    Nvls {},
    /// InfiniBand SHARP across nodes (`fabric: {sharp: true}` in the cluster section).
    Sharp {},
    /// The fastest under the analytic model.
    Auto {},
}

const SYSTEMS: &[Described] = &[
    Described {
        name: "ring",
        unit: "",
        description: "ring (chain for broadcast), one rail-aligned channel per NIC",
    },
    Described {
        name: "tree",
        unit: "",
        description: "NCCL-style double binary tree (all-reduce, broadcast)",
    },
    Described {
        name: "hierarchical",
        unit: "",
        description: "intra-node rings then per-rail inter-node rings (all-reduce, all-gather, reduce-scatter)",
    },
    Described {
        name: "direct",
        unit: "",
        description: "every pair exchanges at once (all-to-all)",
    },
    Described {
        name: "nvls",
        unit: "",
        description: "NVLink SHARP: the NVSwitch reduces and multicasts (all-reduce inside one H100/H200 node)",
    },
    Described {
        name: "sharp",
        unit: "",
        description: "InfiniBand SHARP: switches reduce across nodes (all-reduce; cluster fabric.sharp: true)",
    },
    Described {
        name: "auto",
        unit: "",
        description: "the fastest of NCCL's algorithms the hardware can run, under the analytic model",
    },
];

const METRICS: &[Described] = &[
    Described {
        name: "time_s",
        unit: "s",
        description: "collective time: from the first GPU ready to the collective's end, including skew",
    },
    Described {
        name: "algbw_gbs",
        unit: "GB/s",
        description: "algorithm bandwidth: bytes / time_s",
    },
    Described {
        name: "busbw_gbs",
        unit: "GB/s",
        description: "bus bandwidth: algbw times nccl-tests' bus factor (2(n-1)/n for all-reduce)",
    },
    Described { name: "skew_s", unit: "s", description: "arrival time of the last GPU" },
];

const SERIES: &[Described] = &[Described {
    name: "link_utilization",
    unit: "",
    description: "link utilisation: per link carrying traffic, the busy fraction of the collective's duration (samples for a CDF)",
}];

const MATRICES: &[Described] = &[Described {
    name: "traffic_gb",
    unit: "GB",
    description: "traffic: payload sent from GPU i (row) to GPU j (column)",
}];

impl SystemSpec {
    fn algorithm(self) -> Algorithm {
        match self {
            SystemSpec::Ring {} => Algorithm::Ring,
            SystemSpec::Tree {} => Algorithm::Tree,
            SystemSpec::Hierarchical {} => Algorithm::Hierarchical,
            SystemSpec::Direct {} => Algorithm::Direct,
            SystemSpec::Nvls {} => Algorithm::Nvls,
            SystemSpec::Sharp {} => Algorithm::Sharp,
            SystemSpec::Auto {} => Algorithm::Auto,
        }
    }
}

/// One collective ready to time.
pub struct Prepared {
    workload: Workload,
    algorithm: Algorithm,
    group: Vec<GpuId>,
}

const DESCRIPTION: Description = Description {
    name: "collective",
    description: "one collective timed per algorithm, like nccl-tests (built in; exercises the runner end to end)",
    systems: SYSTEMS,
    metrics: METRICS,
    series: SERIES,
    matrices: MATRICES,
    headline_metrics: &["time_s", "busbw_gbs"],
};

impl Simulator for CollectiveBench {
    type Env = Cluster;
    type Workload = Workload;
    type System = SystemSpec;
    type Prepared = Prepared;

    const DESCRIPTION: Description = DESCRIPTION;

    fn prepare(
        cluster: &Cluster,
        workload: &Workload,
        system: &SystemSpec,
    ) -> Result<Prepared, InputError> {
        let algorithm = system.algorithm();
        let total = cluster.gpu_count();
        let n = workload.gpus.unwrap_or(total);
        if n == 0 || n > total {
            return Err(InputError::invalid(
                "gpus",
                format!("{n} GPUs requested; the cluster has {total} (1..={total})"),
            ));
        }
        let group: Vec<GpuId> = (0..n).map(GpuId).collect();
        // Plan once now so that an algorithm that cannot do this op fails at validation.
        let mut net = cluster.network();
        net.collective(workload.op, algorithm, &group, workload.bytes.0 as f64)
            .map_err(|e| InputError::at("system", e.to_string()))?;
        Ok(Prepared { workload: workload.clone(), algorithm, group })
    }

    fn run(
        p: &Prepared,
        cluster: &Cluster,
        seed: u64,
        trace: bool,
    ) -> Result<RunResult, InputError> {
        p.run(cluster, seed, trace).map_err(InputError::Simulation)
    }
}

impl Prepared {
    fn run(&self, cluster: &Cluster, seed: u64, trace: bool) -> Result<RunResult, String> {
        let w = &self.workload;
        let bytes = w.bytes.0 as f64;
        let n = self.group.len();
        let mut net = cluster.network();
        let (plan, cost) =
            net.collective(w.op, self.algorithm, &self.group, bytes).map_err(|e| e.to_string())?;
        let streams = RandomStreams::new(seed);
        let skews: Vec<SimTime> = self
            .group
            .iter()
            .map(|g| {
                if w.skew == SimTime::ZERO {
                    SimTime::ZERO
                } else {
                    SimTime::from_secs_f64(
                        streams
                            .indexed_stream("arrival-skew", u64::from(g.0))
                            .exp(w.skew.as_secs_f64()),
                    )
                }
            })
            .collect();
        let max_skew = skews.iter().copied().max().unwrap_or(SimTime::ZERO);
        let mut result = RunResult::new();
        let time = if w.network == NetworkMode::Analytic && !trace {
            max_skew + cost.time
        } else {
            let mut b = TaskGraphBuilder::new();
            let coll = b.collective(w.op.name(), w.op, plan.algorithm, &self.group, bytes);
            for (g, &s) in self.group.iter().zip(&skews) {
                let d = b.delay(&format!("gpu{} arrives", g.0), s);
                b.depend(d, coll);
            }
            let graph = b.build().map_err(|e| e.to_string())?;
            let cfg = ExecConfig { network: w.network, ..ExecConfig::default() };
            let exec = execute(&graph, cluster, &cfg).map_err(|e| e.to_string())?;
            if trace {
                result.trace = Some(exec.chrome_trace(&graph));
            }
            exec.makespan()
        };
        let secs = time.as_secs_f64();
        let algbw = if secs > 0.0 { bytes / secs / 1e9 } else { 0.0 };
        result
            .metric("time_s", secs)
            .metric("algbw_gbs", algbw)
            .metric("busbw_gbs", algbw * w.op.bus_factor(n))
            .metric("skew_s", max_skew.as_secs_f64());
        // Link loads and the traffic matrix of the plan (payload bytes).
        let topo = cluster.topology();
        let position = |g: GpuId| g.0 as usize;
        let mut traffic = vec![vec![0.0; n]; n];
        let mut load = vec![0.0; topo.links().len()];
        let mut busy = vec![0.0; topo.links().len()];
        for phase in &plan.phases {
            for t in &phase.transfers {
                traffic[position(t.src)][position(t.dst)] += t.bytes / 1e9;
                let (a, b) = (
                    topo.gpu_vertex(t.src).map_err(|e| e.to_string())?,
                    topo.gpu_vertex(t.dst).map_err(|e| e.to_string())?,
                );
                for l in &net.router().route(a, b).map_err(|e| e.to_string())?.links {
                    load[l.0 as usize] += t.bytes / cost.bandwidth_factor;
                }
            }
        }
        let coll_secs = cost.time.as_secs_f64();
        for (i, l) in topo.links().iter().enumerate() {
            if load[i] > 0.0 && coll_secs > 0.0 {
                busy[i] = (load[i] / l.bandwidth() / coll_secs).min(1.0);
            }
        }
        result.series("link_utilization", busy.into_iter().filter(|&u| u > 0.0).collect());
        result.matrix("traffic_gb", traffic);
        Ok(result)
    }
}
