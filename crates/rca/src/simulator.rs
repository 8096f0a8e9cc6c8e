//! `kind: rca` — what this crate offers the experiment runner: incidents from CIRCA's
//! generator, a simulated microservice system or the PetShop data set, a causal graph from one source (the true
//! graph, PC, Atlas) or none (BARO), a localiser, and RCAEval's scores.
//!
//! The simulator needs no hardware, so its environment is `()`: the runner still reads a
//! config's `cluster:` section if it has one (kinds with environment `()` need none) and passes
//! nothing of it here.

use simcore::{Described, Description, InputError, RunResult, Simulator};

use crate::config::{RcaSystem, RcaWorkload};
use crate::run::{Prepared, prepare};

/// The RCA simulator, as the experiment runner drives it.
pub struct RcaSimulator;

const SYSTEMS: &[Described] = &[
    Described {
        name: "ground-truth",
        unit: "",
        description: "the true causal graph (the simulator's, CIRCA's DAG, or PetShop's reversed call graph) with a localiser; params: localizer (circa | random-walk)",
    },
    Described {
        name: "pc",
        unit: "",
        description: "PC-stable with Fisher-z on the normal period, Meek's rules; params: alpha (0.05), max_depth, localizer",
    },
    Described {
        name: "atlas",
        unit: "",
        description: "Atlas: per-component synthesis from description files, composition, refinement with CI tests (system and petshop benchmarks); params: backend (rules | llm), llm, refine, alpha, add_alpha, typed_additions, localizer",
    },
    Described {
        name: "baro",
        unit: "",
        description: "BARO's graph-free robust anomaly ranking (median and IQR of the normal period)",
    },
];

const METRICS: &[Described] = &[
    Described {
        name: "ac_at_1",
        unit: "",
        description: "AC@1: share of incidents whose root cause ranks first (per service on systems and PetShop, per metric on CIRCA)",
    },
    Described {
        name: "ac_at_3",
        unit: "",
        description: "AC@3: share of incidents whose root cause is in the top 3 (per service on systems and PetShop, per metric on CIRCA)",
    },
    Described {
        name: "ac_at_5",
        unit: "",
        description: "AC@5: share of incidents whose root cause is in the top 5 (per service on systems and PetShop, per metric on CIRCA)",
    },
    Described { name: "avg_at_5", unit: "", description: "Avg@5: mean of AC@1 to AC@5" },
    Described {
        name: "ac_at_1_latency",
        unit: "",
        description: "PetShop: AC@1 over the issues whose symptom is PetSite's latency",
    },
    Described {
        name: "ac_at_3_latency",
        unit: "",
        description: "PetShop: AC@3 over the issues whose symptom is PetSite's latency",
    },
    Described {
        name: "ac_at_1_availability",
        unit: "",
        description: "PetShop: AC@1 over the issues whose symptom is PetSite's availability",
    },
    Described {
        name: "ac_at_3_availability",
        unit: "",
        description: "PetShop: AC@3 over the issues whose symptom is PetSite's availability",
    },
    Described {
        name: "edge_f1",
        unit: "",
        description: "edge F1: arc-level F1 of the graph against the true graph (graph sources only; PetShop: mean over its scenarios)",
    },
    Described {
        name: "skeleton_f1",
        unit: "",
        description: "skeleton F1: adjacency F1 against the true graph (graph sources only)",
    },
    Described {
        name: "shd",
        unit: "",
        description: "SHD: structural Hamming distance to the true graph (graph sources only)",
    },
    Described {
        name: "graph_edges",
        unit: "",
        description: "edges in the graph used (graph sources only)",
    },
    Described {
        name: "incidents",
        unit: "",
        description: "incidents localised (0 for atlas on CIRCA, which has no descriptions)",
    },
    Described {
        name: "metrics_used",
        unit: "",
        description: "metrics used: metric columns left after dropping the missing ones",
    },
    Described {
        name: "metrics_dropped",
        unit: "",
        description: "metrics dropped: workload.metrics_missing of the columns",
    },
];

const DESCRIPTION: Description = Description {
    name: "rca",
    description: "root-cause analysis: CIRCA's linear benchmark, simulated microservices under faults, or PetShop's real telemetry; causal graphs (true, PC, Atlas) or none (BARO); random-walk and CIRCA localisers; AC@k, Avg@5, graph F1 and SHD",
    systems: SYSTEMS,
    metrics: METRICS,
    series: &[],
    matrices: &[],
    headline_metrics: &["ac_at_1", "ac_at_3", "avg_at_5", "edge_f1"],
};

impl Simulator for RcaSimulator {
    type Env = ();
    type Workload = RcaWorkload;
    type System = RcaSystem;
    type Prepared = Prepared;

    const DESCRIPTION: Description = DESCRIPTION;

    fn prepare(
        _env: &(),
        workload: &RcaWorkload,
        system: &RcaSystem,
    ) -> Result<Prepared, InputError> {
        prepare(workload, system)
    }

    fn run(
        prepared: &Prepared,
        _env: &(),
        seed: u64,
        _trace: bool,
    ) -> Result<RunResult, InputError> {
        prepared.run(seed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn systems_match_the_config_names() {
        let names: Vec<&str> = SYSTEMS.iter().map(|d| d.name).collect();
        assert_eq!(names, RcaSystem::NAMES);
    }
}
