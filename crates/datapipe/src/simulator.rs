//! `kind: datapipe` — what this crate offers the experiment runner: a pipeline (a preset
//! from cedar's profiles or one's own), the machines, and the systems that plan its
//! execution; the simulator runs each plan.
//!
//! The simulator needs no cluster, so its environment is `()`.

use simcore::{Described, Description, InputError, RunResult, Simulator};

use crate::config::{DatapipeSystem, DatapipeWorkload};
use crate::run::{Prepared, prepare};

/// The input-pipeline simulator, as the experiment runner drives it.
pub struct DatapipeSimulator;

const SYSTEMS: &[Described] = &[
    Described {
        name: "unoptimized",
        unit: "",
        description: "the pipeline as written: one process, given order",
    },
    Described {
        name: "torch-dataloader",
        unit: "",
        description: "PyTorch DataLoader: num_workers processes each running the whole pipeline, prefetch_factor 2; params: num_workers, prefetch_factor, batch_size",
    },
    Described {
        name: "tf-data",
        unit: "",
        description: "tf.data AUTOTUNE in the training process: M/M/1/K buffer model, hill-climbing over parallelism and buffers under the CPU and half-RAM budgets",
    },
    Described {
        name: "tf-data-service",
        unit: "",
        description: "tf.data service: AUTOTUNE-d pipeline on the remote workers, samples over the network (remote mode)",
    },
    Described {
        name: "ray-data",
        unit: "",
        description: "Ray Data: fused map tasks on every CPU (remote ones too in remote mode), object-store back-pressure; params: in_flight_per_task",
    },
    Described {
        name: "pecan",
        unit: "",
        description: "Pecan: AutoOrder (size-reducing operators first) and AutoPlacement (local and remote tf.data workers)",
    },
    Described {
        name: "cedar",
        unit: "",
        description: "cedar: reordering, caching, offloading (Amdahl), fusion, prefetch and the run-time controller; params: parallelism, reorder, offload, fusion, cache, controller",
    },
];

const METRICS: &[Described] = &[
    Described {
        name: "throughput_samples_s",
        unit: "samples/s",
        description: "throughput: samples delivered per second, all epochs",
    },
    Described {
        name: "epoch_time_s",
        unit: "s",
        description: "epoch time: mean seconds per epoch",
    },
    Described {
        name: "speedup_vs_unoptimized",
        unit: "x",
        description: "speedup over unoptimized: throughput / the one-process given-order pipeline's",
    },
    Described {
        name: "cpu_busy_frac",
        unit: "",
        description: "training-host CPU busy: CPU seconds used / (vCPUs x time)",
    },
    Described {
        name: "remote_cpu_busy_frac",
        unit: "",
        description: "remote CPU busy: CPU seconds used / (remote vCPUs x time)",
    },
    Described {
        name: "network_bytes",
        unit: "B",
        description: "network bytes: between the host and the remote workers",
    },
    Described {
        name: "cache_bytes",
        unit: "B",
        description: "cache bytes: written to the local disk cache",
    },
    Described {
        name: "buffer_bytes_peak",
        unit: "B",
        description: "peak buffer bytes: samples waiting in buffers or held by blocked workers",
    },
    Described {
        name: "predicted_throughput_samples_s",
        unit: "samples/s",
        description: "predicted throughput: the system's own model of its plan (cedar's cost model, AUTOTUNE's; the plan's bound for the others)",
    },
    Described {
        name: "bound_throughput_samples_s",
        unit: "samples/s",
        description: "bound: the plan's slowest stage capacity (after CPU sharing)",
    },
    Described {
        name: "cache_ops",
        unit: "",
        description: "cached operators: how many operators' work the cache replaces after the first epoch (0: no cache)",
    },
    Described {
        name: "local_workers",
        unit: "",
        description: "local workers: on the training host, as planned",
    },
    Described { name: "remote_workers", unit: "", description: "remote workers: as planned" },
];

const SERIES: &[Described] = &[
    Described { name: "epoch_time_series_s", unit: "s", description: "epoch times: one per epoch" },
    Described {
        name: "time_s",
        unit: "s",
        description: "time: of each series point since the run began",
    },
    Described {
        name: "throughput_series",
        unit: "samples/s",
        description: "throughput over time: since the previous point",
    },
    Described {
        name: "output_buffer_series",
        unit: "samples",
        description: "output buffer: samples ready for the trainer at each point",
    },
    Described {
        name: "buffer_bytes_series",
        unit: "B",
        description: "buffer memory over time: bytes in buffers and held by blocked workers at each point",
    },
    Described {
        name: "stage_busy_frac",
        unit: "",
        description: "stage utilisation: busy share of each stage's workers, in the plan's stage order (uncached epochs)",
    },
];

const DESCRIPTION: Description = Description {
    name: "datapipe",
    description: "ML input data pipelines: cedar's profiled pipelines run by DataLoader, tf.data, tf.data service, Ray Data, Pecan and cedar on local and remote CPUs",
    systems: SYSTEMS,
    metrics: METRICS,
    series: SERIES,
    matrices: &[],
    headline_metrics: &[
        "throughput_samples_s",
        "speedup_vs_unoptimized",
        "predicted_throughput_samples_s",
        "cpu_busy_frac",
    ],
};

impl Simulator for DatapipeSimulator {
    type Env = ();
    type Workload = DatapipeWorkload;
    type System = DatapipeSystem;
    type Prepared = Prepared;

    const DESCRIPTION: Description = DESCRIPTION;

    fn prepare(
        _env: &(),
        workload: &DatapipeWorkload,
        system: &DatapipeSystem,
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
        assert_eq!(names, DatapipeSystem::NAMES);
        assert_eq!(DatapipeSystem::all_defaults().len(), DatapipeSystem::NAMES.len());
    }
}
