//! `kind: agents` — what this simulator offers the experiment runner: a generative-agents
//! world whose LLM calls are scheduled by one of the engines and served by the serving
//! crate's simulated LLM server.

use cluster::Cluster;
use simcore::{Described, Description, InputError, RunResult, Simulator};

use crate::config::{AgentsWorkload, SystemSpec};
use crate::run::{Prepared, prepare};

/// The agents simulator, as the experiment runner drives it.
pub struct AgentsSimulator;

const SYSTEMS: &[Described] = &[
    Described {
        name: "single-thread",
        unit: "",
        description: "one agent-step at a time, step by step and agent by agent",
    },
    Described {
        name: "parallel-sync",
        unit: "",
        description: "all agents run a step concurrently, then a global barrier",
    },
    Described {
        name: "metropolis",
        unit: "",
        description: "AI Metropolis: out-of-order steps under the coupled and blocked rules, clusters of coupled agents, a ready queue by step; params: workers (clusters in flight, 0 = no bound)",
    },
    Described {
        name: "oracle",
        unit: "",
        description: "dependencies mined from the trace: an agent waits only for the agents actually in perception range",
    },
    Described {
        name: "no-dependency",
        unit: "",
        description: "every call sent at time 0 (a bound: the GPUs' throughput)",
    },
    Described {
        name: "critical-path",
        unit: "",
        description: "the longest chain of dependent calls at solo latency (a bound; computed, not simulated)",
    },
];

const METRICS: &[Described] = &[
    Described {
        name: "completion_s",
        unit: "s",
        description: "completion time: wall time to simulate the span",
    },
    Described {
        name: "speedup_vs_single",
        unit: "x",
        description: "speedup over single-thread: its completion time / this one's, same world",
    },
    Described {
        name: "speedup_vs_sync",
        unit: "x",
        description: "speedup over parallel-sync: its completion time / this one's, same world",
    },
    Described {
        name: "frac_of_oracle",
        unit: "",
        description: "fraction of the oracle: the oracle's completion time / this one's",
    },
    Described {
        name: "critical_path_s",
        unit: "s",
        description: "critical path: longest chain of dependent calls at solo latency (a bound)",
    },
    Described {
        name: "no_dependency_s",
        unit: "s",
        description: "no-dependency time: every call sent at once (a bound)",
    },
    Described {
        name: "mean_outstanding_calls",
        unit: "calls",
        description: "mean outstanding calls: calls sent and not answered, time-weighted",
    },
    Described {
        name: "gpu_busy_frac",
        unit: "",
        description: "GPU busy share: replica time spent running iterations",
    },
    Described {
        name: "cache_hit_rate",
        unit: "",
        description: "cache hit rate: prompt tokens not prefilled / prompt tokens (0 without prefix caching)",
    },
    Described { name: "calls", unit: "", description: "LLM calls in the span" },
    Described { name: "tokens_in", unit: "tokens", description: "prompt tokens of all calls" },
    Described { name: "tokens_out", unit: "tokens", description: "output tokens of all calls" },
    Described { name: "agents", unit: "", description: "agents in the world (copies included)" },
    Described { name: "steps", unit: "", description: "steps in the span" },
    Described {
        name: "mean_neighbors",
        unit: "agents",
        description: "mean neighbours: other agents within perception range, per agent-step",
    },
    Described { name: "kv_pool_tokens", unit: "tokens", description: "KV pool of one replica" },
    Described {
        name: "invariant_violations",
        unit: "",
        description: "steps started before an agent in perception range reached their time (must be 0)",
    },
];

const SERIES: &[Described] = &[
    Described { name: "time_s", unit: "s", description: "wall time of each sample" },
    Described {
        name: "outstanding_calls",
        unit: "calls",
        description: "outstanding calls over time",
    },
    Described {
        name: "step_spread",
        unit: "steps",
        description: "spread of agents' steps: most minus fewest committed",
    },
];

const DESCRIPTION: Description = Description {
    name: "agents",
    description: "LLM multi-agent worlds (generative agents): single-thread, lock-step and AI Metropolis's out-of-order engine on the simulated LLM server",
    systems: SYSTEMS,
    metrics: METRICS,
    series: SERIES,
    matrices: &[],
    headline_metrics: &[
        "completion_s",
        "speedup_vs_sync",
        "frac_of_oracle",
        "mean_outstanding_calls",
    ],
};

impl Simulator for AgentsSimulator {
    type Env = Cluster;
    type Workload = AgentsWorkload;
    type System = SystemSpec;
    type Prepared = Prepared;

    const DESCRIPTION: Description = DESCRIPTION;

    fn prepare(
        cluster: &Cluster,
        workload: &AgentsWorkload,
        system: &SystemSpec,
    ) -> Result<Prepared, InputError> {
        prepare(cluster, workload, system)
    }

    fn run(
        prepared: &Prepared,
        _cluster: &Cluster,
        seed: u64,
        _trace: bool,
    ) -> Result<RunResult, InputError> {
        prepared.run(seed)
    }
}
