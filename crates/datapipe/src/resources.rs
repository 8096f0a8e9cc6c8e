//! The machines a pipeline runs on: the training host's CPUs and memory, remote CPU workers,
//! the network between them, the cost of moving an item between processes, the local disk
//! for caches, and the consumer (the trainer).
//!
//! Defaults are cedar's evaluation setup (Zhao et al., VLDB'24 artifact): a GCP
//! n2-standard-8 training host (8 vCPUs, 32 GB) and one n2-standard-32 remote node
//! (32 vCPUs, 128 GB); GCP's documented egress limit for N2 machines is 2 Gbit/s per vCPU up
//! to 32 Gbit/s, so the host can send 16 Gbit/s and the remote node 32 Gbit/s, and we take
//! the smaller, 16 Gbit/s, for the link between them (an assumption: ingress limits are not
//! published). Handing a sample to another process costs the receiving process CPU time per
//! byte ([`Handoff`]): pickled through a pipe at `pickle_bytes_per_s` (9e7 B/s, the output
//! rate above which cedar's artifact keeps a single local worker because the main process
//! cannot take more), or through shared memory at `shm_bytes_per_s` (5e9 B/s, one memory
//! copy on one core: an assumption, as PyTorch's DataLoader moves tensors into shared
//! memory and Ray's object store is shared memory).

use serde::Deserialize;
use simcore::InputError;

/// How a sample reaches another process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handoff {
    /// Same process (threads, or the same worker): free.
    InProcess,
    /// Pickled through a pipe or socket (Python multiprocessing, cedar's pools).
    Pickle,
    /// Through shared memory (DataLoader's tensors, Ray's object store, tf.data service's
    /// client copying tensors).
    SharedMemory,
}

/// Where an operator's workers run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Host {
    /// The training host.
    Local,
    /// The remote CPU node(s).
    Remote,
}

/// Resources, as configured (`workload.resources`).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Resources {
    /// vCPUs of the training host (n2-standard-8: 8).
    pub local_vcpus: u32,
    /// Memory of the training host, GB (n2-standard-8: 32).
    pub local_memory_gb: f64,
    /// vCPUs of the remote workers, all nodes together (one n2-standard-32: 32); 0 = none.
    pub remote_vcpus: u32,
    /// Memory of the remote workers, GB (n2-standard-32: 128).
    pub remote_memory_gb: f64,
    /// Bandwidth between the host and the remote workers, Gbit/s, each way (16).
    pub network_gbps: f64,
    /// Bytes per second one process can receive pickled from another (deserialisation on the
    /// receiving CPU): 9e7, cedar's serialisation bound.
    pub pickle_bytes_per_s: f64,
    /// Bytes per second one process can receive through shared memory (one copy): 5e9.
    pub shm_bytes_per_s: f64,
    /// Seconds the receiving process spends per sample handed over from another process,
    /// whatever its size (queue and message overheads): 0 by default. cedar's profiled
    /// one-operator offload runs suggest up to 1.65e-4, which may be round-trip latency rather
    /// than CPU time (docs/models/datapipe.md, section 3).
    pub handoff_item_s: f64,
    /// Local disk read cost for a cache, seconds per byte: overrides the pipeline profile's
    /// measured figure; without either, 8e-9 (cedar's profiled default: 125 MB/s).
    pub disk_read_s_per_byte: Option<f64>,
    /// Local disk write cost, seconds per byte: overrides the profile's; default 2.5e-8.
    pub disk_write_s_per_byte: Option<f64>,
    /// Local disk space for caches, GB (n2-standard-8's default boot disk: 100 GB).
    pub disk_gb: f64,
    /// The trainer's step rate in samples/s; absent = as fast as the pipeline delivers.
    pub consumer_sps: Option<f64>,
}

impl Default for Resources {
    fn default() -> Self {
        Resources {
            local_vcpus: 8,
            local_memory_gb: 32.0,
            remote_vcpus: 32,
            remote_memory_gb: 128.0,
            network_gbps: 16.0,
            pickle_bytes_per_s: 9e7,
            shm_bytes_per_s: 5e9,
            handoff_item_s: 0.0,
            disk_read_s_per_byte: None,
            disk_write_s_per_byte: None,
            disk_gb: 100.0,
            consumer_sps: None,
        }
    }
}

impl Resources {
    /// Checks every field.
    pub fn validate(&self) -> Result<(), InputError> {
        let f = |name: &str, msg: &str| {
            InputError::invalid(&format!("resources.{name}"), msg.to_string())
        };
        if self.local_vcpus == 0 {
            return Err(f("local_vcpus", "the training host needs at least 1 vCPU"));
        }
        for (name, v) in [
            ("local_memory_gb", self.local_memory_gb),
            ("network_gbps", self.network_gbps),
            ("pickle_bytes_per_s", self.pickle_bytes_per_s),
            ("shm_bytes_per_s", self.shm_bytes_per_s),
            ("disk_read_s_per_byte", self.disk_read_s_per_byte.unwrap_or(8e-9)),
            ("disk_write_s_per_byte", self.disk_write_s_per_byte.unwrap_or(2.5e-8)),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(f(name, "must be a finite number > 0"));
            }
        }
        for (name, v) in [
            ("remote_memory_gb", self.remote_memory_gb),
            ("disk_gb", self.disk_gb),
            ("handoff_item_s", self.handoff_item_s),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(f(name, "must be a finite number >= 0"));
            }
        }
        if let Some(c) = self.consumer_sps
            && !(c.is_finite() && c > 0.0)
        {
            return Err(f(
                "consumer_sps",
                "must be > 0 samples/s (leave it out for an unlimited consumer)",
            ));
        }
        Ok(())
    }

    /// Disk read cost for `p`'s cache, s/B: this config's, else the profile's, else 8e-9.
    pub fn disk_read(&self, p: &crate::pipeline::Pipeline) -> f64 {
        self.disk_read_s_per_byte.or(p.disk_read_s_per_byte).unwrap_or(8e-9)
    }

    /// Disk write cost for `p`'s cache, s/B: this config's, else the profile's, else 2.5e-8.
    pub fn disk_write(&self, p: &crate::pipeline::Pipeline) -> f64 {
        self.disk_write_s_per_byte.or(p.disk_write_s_per_byte).unwrap_or(2.5e-8)
    }

    /// vCPUs of a host.
    pub fn vcpus(&self, host: Host) -> u32 {
        match host {
            Host::Local => self.local_vcpus,
            Host::Remote => self.remote_vcpus,
        }
    }

    /// Memory of a host in bytes.
    pub fn memory_bytes(&self, host: Host) -> f64 {
        match host {
            Host::Local => self.local_memory_gb * 1e9,
            Host::Remote => self.remote_memory_gb * 1e9,
        }
    }

    /// CPU seconds the receiving process spends per byte handed over `h`.
    pub fn handoff_s_per_byte(&self, h: Handoff) -> f64 {
        match h {
            Handoff::InProcess => 0.0,
            Handoff::Pickle => 1.0 / self.pickle_bytes_per_s,
            Handoff::SharedMemory => 1.0 / self.shm_bytes_per_s,
        }
    }

    /// CPU seconds the receiving process spends on one sample of `bytes` handed over `h`.
    pub fn handoff_s(&self, h: Handoff, bytes: f64) -> f64 {
        match h {
            Handoff::InProcess => 0.0,
            _ => self.handoff_item_s + bytes * self.handoff_s_per_byte(h),
        }
    }

    /// Network bandwidth, bytes/s.
    pub fn network_bytes_per_s(&self) -> f64 {
        self.network_gbps * 1e9 / 8.0
    }
}
