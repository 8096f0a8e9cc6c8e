//! `kind: gnn` — what this simulator offers the experiment runner: GNN mini-batching: random, Cluster-GCN and COMM-RAND batches, simulated epoch time (sampling, copies, kernels, an L2 model of the feature gathers), and real GraphSAGE accuracy.
//! The metrics, series and matrices declared here are the names `run` emits; the runner checks
//! every run's result against them.

use cluster::Cluster;
use simcore::{Described, Description, InputError, RunResult, Simulator};

use crate::run::Prepared;
use crate::{GnnWorkload, SystemSpec};

/// The gnn simulator, as the experiment runner drives it.
pub struct GnnSimulator;

const SYSTEMS: &[Described] = &[
    Described {
        name: "random",
        unit: "",
        description: "random batches: shuffled training nodes cut into batches (PyG/DGL default)",
    },
    Described {
        name: "cluster-gcn",
        unit: "",
        description: "Cluster-GCN: q random METIS parts per batch, computed on the subgraph they induce; params: parts (1500), parts_per_batch (20)",
    },
    Described {
        name: "comm-rand",
        unit: "",
        description: "COMM-RAND: community-ordered batches with a random share alpha, community-contiguous feature rows; params: alpha, bias (0)",
    },
];

const METRICS: &[Described] = &[
    Described {
        name: "epoch_time_s",
        unit: "s",
        description: "simulated time of one training epoch: sampling on the CPU, copies to the GPU, kernels and launches, as they overlap",
    },
    Described {
        name: "speedup_vs_random",
        unit: "x",
        description: "speedup over random batches: random batching's epoch time over this policy's, same graph and seed",
    },
    Described {
        name: "gpu_time_s",
        unit: "s",
        description: "GPU stream time of one epoch: gather, layers, optimizer and kernel launches",
    },
    Described {
        name: "gpu_speedup_vs_random",
        unit: "x",
        description: "random batching's GPU time over this policy's (the GPU alone, as if sampling and copies were free)",
    },
    Described {
        name: "sampling_time_s",
        unit: "s",
        description: "CPU time of the loader per epoch: neighbour sampling (Cluster-GCN: collecting induced subgraphs) and, for host features, gathering rows; summed over batches",
    },
    Described {
        name: "copy_time_s",
        unit: "s",
        description: "time of the host-to-device copies per epoch, summed",
    },
    Described {
        name: "l2_hit_rate",
        unit: "",
        description: "share of feature-gather cache-line reads served by L2 (near or far partition; 0 for host features)",
    },
    Described {
        name: "gather_bytes",
        unit: "B/epoch",
        description: "feature bytes gathered per epoch (sampled nodes x row bytes)",
    },
    Described {
        name: "h2d_bytes",
        unit: "B/epoch",
        description: "bytes copied host to device per epoch (indices; feature rows for host features)",
    },
    Described {
        name: "unique_nodes_per_batch",
        unit: "nodes",
        description: "mean unique sampled nodes per batch",
    },
    Described {
        name: "sampled_edges_per_batch",
        unit: "edges",
        description: "mean sampled edges per batch (Cluster-GCN: edges of the induced subgraph, both directions)",
    },
    Described { name: "batches_per_epoch", unit: "", description: "batches in one epoch" },
    Described {
        name: "test_accuracy",
        unit: "",
        description: "test accuracy at the epoch of best validation accuracy (trained runs)",
    },
    Described {
        name: "best_val_accuracy",
        unit: "",
        description: "best validation accuracy over the epochs (trained runs)",
    },
    Described {
        name: "epochs_to_target",
        unit: "epochs",
        description: "first epoch whose validation accuracy reaches workload.target_accuracy (absent if never)",
    },
    Described {
        name: "time_to_target_s",
        unit: "s",
        description: "time to target accuracy: epochs_to_target x epoch_time_s (absent if never reached)",
    },
];

const SERIES: &[Described] = &[
    Described {
        name: "unique_nodes",
        unit: "nodes",
        description: "unique sampled nodes of each batch of the first timed epoch",
    },
    Described {
        name: "batch_l2_hit_rate",
        unit: "",
        description: "L2 hit rate of each batch of the first timed epoch",
    },
    Described {
        name: "epoch",
        unit: "",
        description: "epoch: 1, 2, ... (x of the accuracy series)",
    },
    Described {
        name: "test_accuracy_by_epoch",
        unit: "",
        description: "test accuracy after each training epoch",
    },
    Described {
        name: "val_accuracy_by_epoch",
        unit: "",
        description: "validation accuracy after each training epoch",
    },
];

const DESCRIPTION: Description = Description {
    name: "gnn",
    description: "GNN mini-batching: random, Cluster-GCN and COMM-RAND batches; simulated epoch time (sampling, copies, kernels, L2), real GraphSAGE accuracy",
    systems: SYSTEMS,
    metrics: METRICS,
    series: SERIES,
    matrices: &[],
    headline_metrics: &["epoch_time_s", "speedup_vs_random", "l2_hit_rate", "test_accuracy"],
};

impl Simulator for GnnSimulator {
    type Env = Cluster;
    type Workload = GnnWorkload;
    type System = SystemSpec;
    type Prepared = Prepared;

    const DESCRIPTION: Description = DESCRIPTION;

    fn prepare(
        cluster: &Cluster,
        workload: &GnnWorkload,
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
