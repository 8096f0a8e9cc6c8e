//! `kind: embedding` — what this simulator offers the experiment runner: DLRM embedding tables sharded over tiered GPU memory: TorchRec's planner and its single-type variants, RecShard, FlexShard, and RecD deduplication as a switch.
//! The metrics, series and matrices declared here are the names `run` emits; the runner checks
//! every run's result against them.

use cluster::Cluster;
use simcore::{Described, Description, InputError, RunResult, Simulator};

use crate::run::Prepared;
use crate::{EmbeddingWorkload, SystemSpec};

/// The embedding simulator, as the experiment runner drives it.
pub struct EmbeddingSimulator;

const SYSTEMS: &[Described] = &[
    Described {
        name: "torchrec",
        unit: "",
        description: "TorchRec's planner: per table every sharding type and kernel ranked by its estimator, greedy/grid/uniform proposers, greedy partitioner, caches scaled up into free HBM; params: cache_load_factor (0.2), scale_up (true), column_block (128), dedup",
    },
    Described {
        name: "table-wise",
        unit: "",
        description: "TorchRec's planner with every table table-wise (whole on one GPU); params: cache_load_factor (0.2), scale_up (true), dedup",
    },
    Described {
        name: "row-wise",
        unit: "",
        description: "TorchRec's planner with every table row-wise (rows over all GPUs, partial sums reduce-scattered); params: cache_load_factor (0.2), scale_up (true), dedup",
    },
    Described {
        name: "column-wise",
        unit: "",
        description: "TorchRec's planner with every table column-wise (column blocks placed greedily); params: column_block (64), cache_load_factor (0.2), scale_up (true), dedup",
    },
    Described {
        name: "data-parallel",
        unit: "",
        description: "TorchRec's planner with every table data-parallel (a replica per GPU, gradients all-reduced); params: dedup",
    },
    Described {
        name: "table-row-wise",
        unit: "",
        description: "TorchRec's planner with every table table-row-wise (rows over the GPUs of one node); params: cache_load_factor (0.2), scale_up (true), dedup",
    },
    Described {
        name: "flexshard",
        unit: "",
        description: "FlexShard: sequence tables' hottest rows on every GPU, next ones once per node, the rest row-wise; pooled tables row-wise; params: dedup",
    },
    Described {
        name: "recshard",
        unit: "",
        description: "RecShard: hottest rows of each table in HBM, the rest in host memory, tables placed to balance the cost; params: rounds (200), dedup",
    },
];

const METRICS: &[Described] = &[
    Described {
        name: "emb_throughput_samples_s",
        unit: "samples/s",
        description: "samples per second through the embedding layer (global batch / mean step time)",
    },
    Described {
        name: "step_time_s",
        unit: "s",
        description: "mean time of one embedding step (forward and backward)",
    },
    Described {
        name: "load_imbalance",
        unit: "",
        description: "max over mean per-GPU lookup and update time, averaged over steps",
    },
    Described {
        name: "slow_tier_accesses",
        unit: "rows/step",
        description: "rows read from host memory per step (lookups served there and cache fills)",
    },
    Described {
        name: "host_bytes",
        unit: "B/step",
        description: "bytes moved between host memory and HBM per step (host lookups and their updates, cache fills and write-backs)",
    },
    Described {
        name: "a2a_time_s",
        unit: "s",
        description: "time of the step's all-to-alls (ids, outputs, gradients)",
    },
    Described {
        name: "sync_time_s",
        unit: "s",
        description: "wall-clock span of the replicas' gradient all-reduces per step",
    },
    Described { name: "hbm_hit_rate", unit: "", description: "share of lookups served from HBM" },
    Described {
        name: "a2a_bytes_global",
        unit: "B/step",
        description: "all-to-all bytes that cross nodes per step (ids, outputs, gradients)",
    },
    Described {
        name: "a2a_bytes_intra",
        unit: "B/step",
        description: "all-to-all bytes between GPUs of one node per step",
    },
    Described {
        name: "hbm_used_bytes",
        unit: "B",
        description: "HBM used by embeddings on the fullest GPU",
    },
];

const SERIES: &[Described] = &[
    Described { name: "step_time_s", unit: "s", description: "time of each simulated step" },
    Described {
        name: "gpu_index",
        unit: "",
        description: "GPU: 0, 1, ... G-1 (x axis of the per-GPU series)",
    },
    Described {
        name: "gpu_time_s",
        unit: "s",
        description: "lookup and update time: per GPU, the mean per step",
    },
    Described { name: "hbm_used_bytes", unit: "B", description: "HBM used by embeddings, per GPU" },
    Described {
        name: "uvm_used_bytes",
        unit: "B",
        description: "host memory used by embeddings, per GPU",
    },
    Described {
        name: "slow_tier_accesses",
        unit: "rows",
        description: "rows read from host memory per step (lookups and cache fills), per GPU",
    },
    Described {
        name: "row_share",
        unit: "",
        description: "share of used rows: row-access curve x, hottest first (60 points)",
    },
    Described {
        name: "lookup_share",
        unit: "",
        description: "share of lookups: row-access curve y, the lookups those rows receive",
    },
];

const DESCRIPTION: Description = Description {
    name: "embedding",
    description: "DLRM embedding tables sharded over HBM and host memory: TorchRec planners, RecShard, FlexShard, RecD",
    systems: SYSTEMS,
    metrics: METRICS,
    series: SERIES,
    matrices: &[],
    headline_metrics: &["emb_throughput_samples_s", "load_imbalance", "slow_tier_accesses"],
};

impl Simulator for EmbeddingSimulator {
    type Env = Cluster;
    type Workload = EmbeddingWorkload;
    type System = SystemSpec;
    type Prepared = Prepared;

    const DESCRIPTION: Description = DESCRIPTION;

    fn prepare(
        cluster: &Cluster,
        workload: &EmbeddingWorkload,
        system: &SystemSpec,
    ) -> Result<Prepared, InputError> {
        crate::run::prepare(cluster, workload, system)
    }

    fn run(
        prepared: &Prepared,
        cluster: &Cluster,
        seed: u64,
        trace: bool,
    ) -> Result<RunResult, InputError> {
        prepared.run(cluster, seed, trace)
    }
}
