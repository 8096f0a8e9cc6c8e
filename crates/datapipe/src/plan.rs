//! A plan: what a system decided to run — the operator order, stages (each a group of
//! operators with a number of workers on one host, or a network transfer, or the main
//! process receiving items), bounded buffers between them, and the system's own prediction
//! of its throughput. The simulator runs plans; it never decides anything itself except
//! what a plan's run-time controller asks for.

use crate::pipeline::{OpCost, Pipeline};
use crate::resources::{Handoff, Host, Resources};

/// What a stage does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StageKind {
    /// Runs operators on a host's CPUs, one sample per worker at a time.
    Compute(Host),
    /// Sends samples over the network between the host and the remote workers.
    Transfer,
    /// The training process receives samples from other processes (deserialises, copies).
    Receive,
    /// Reads cached samples from local disk.
    CacheRead,
}

/// One stage.
#[derive(Clone, Debug, PartialEq)]
pub struct Stage {
    /// Name in results.
    pub name: String,
    /// What it does.
    pub kind: StageKind,
    /// Operators (indices into the pipeline's), in run order; empty for non-compute stages.
    pub ops: Vec<usize>,
    /// Parallel workers (threads or processes, or 1 for a link or the main process).
    pub workers: u32,
    /// Seconds one worker spends on one sample (operators, the receive cost of an input that
    /// crossed a process boundary, a cache write, and the slowdown when a host has more
    /// workers than vCPUs).
    pub service_s: f64,
    /// CPU seconds per sample (operators and receiving; for the busy fractions).
    pub cpu_s: f64,
    /// Of `cpu_s`, the seconds that hold Python's interpreter lock.
    pub gil_s: f64,
    /// Threads of one process share its interpreter lock: stages with the same group are
    /// threads of one process (`None`: each worker is its own process).
    pub thread_group: Option<u32>,
    /// Buffer it takes samples from (`None`: the data set).
    pub input: Option<usize>,
    /// Buffer it puts samples into.
    pub output: usize,
    /// Whether a run-time controller may change its workers.
    pub scalable: bool,
}

impl Stage {
    /// The host whose CPUs the stage uses (a transfer uses none).
    pub fn host(&self) -> Option<Host> {
        match self.kind {
            StageKind::Compute(h) => Some(h),
            StageKind::Receive | StageKind::CacheRead => Some(Host::Local),
            StageKind::Transfer => None,
        }
    }

    /// Samples/s the stage can do with all workers busy.
    pub fn capacity_sps(&self) -> f64 {
        if self.service_s <= 0.0 { f64::INFINITY } else { self.workers as f64 / self.service_s }
    }
}

/// A bounded buffer between stages.
#[derive(Clone, Debug, PartialEq)]
pub struct Buffer {
    /// Name in results.
    pub name: String,
    /// Most samples it holds (>= 1).
    pub capacity: u32,
    /// Bytes of one sample in it.
    pub item_bytes: f64,
}

/// cedar's run-time controller (every `interval_s`, scale the stage in front of the emptiest
/// buffer up by one worker while throughput rises by more than `min_gain`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Controller {
    /// Seconds between decisions (cedar: 3).
    pub interval_s: f64,
    /// Relative throughput gain that keeps a scale-up (cedar: 0.01).
    pub min_gain: f64,
    /// The output buffer's mean occupancy below which the pipeline is the bottleneck
    /// (cedar: 50 of its 100-item prefetch buffer).
    pub low_water: f64,
}

/// A plan ready to simulate.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// The system that made it.
    pub system: String,
    /// Operator order (indices into the pipeline's operators).
    pub order: Vec<usize>,
    /// Stages; a stage's input buffer is written only by stages listed before it.
    pub stages: Vec<Stage>,
    /// Buffers; each is read by at most one stage (or the trainer).
    pub buffers: Vec<Buffer>,
    /// The buffer the trainer takes samples from.
    pub output: usize,
    /// The system's own prediction of its throughput, samples/s.
    pub predicted_sps: f64,
    /// A run-time controller, if the system has one.
    pub controller: Option<Controller>,
    /// The plan for epochs after the first when the system caches (reads a cache instead of
    /// running the operators before the cache point).
    pub cached: Option<Box<Plan>>,
    /// Bytes per sample that go over the network.
    pub network_bytes_per_sample: f64,
    /// Bytes per sample written to the cache in the first epoch.
    pub cache_bytes_per_sample: f64,
    /// Operators (in the plan's order) whose output the cache holds: later epochs start after
    /// them (0: no cache).
    pub cache_ops: usize,
    /// What the system decided, in words (order, placement, fusion, cache).
    pub notes: Vec<String>,
}

impl Plan {
    /// Upper bound on throughput: each stage's capacity, limited by what flows into it.
    pub fn bound_sps(&self) -> f64 {
        let mut inflow = vec![0.0f64; self.buffers.len()];
        for s in &self.stages {
            let available = match s.input {
                None => f64::INFINITY,
                Some(b) => inflow[b],
            };
            inflow[s.output] += s.capacity_sps().min(available);
        }
        inflow[self.output]
    }

    /// Workers placed on `host` (compute, receive and cache-read stages).
    pub fn workers_on(&self, host: Host) -> u32 {
        self.stages.iter().filter(|s| s.host() == Some(host)).map(|s| s.workers).sum()
    }
}

/// Builds a plan from an operator order: stage service times follow from the operators'
/// costs at the sizes the order gives them.
pub struct PlanBuilder<'a> {
    res: &'a Resources,
    pipeline: &'a Pipeline,
    order: Vec<usize>,
    costs: Vec<OpCost>,
    stages: Vec<Stage>,
    buffers: Vec<Buffer>,
    network_bytes: f64,
    notes: Vec<String>,
}

impl<'a> PlanBuilder<'a> {
    /// A builder for `order` of `pipeline`.
    pub fn new(pipeline: &'a Pipeline, res: &'a Resources, order: Vec<usize>) -> Self {
        let costs = pipeline.costs(&order);
        PlanBuilder {
            res,
            pipeline,
            order,
            costs,
            stages: Vec::new(),
            buffers: Vec::new(),
            network_bytes: 0.0,
            notes: Vec::new(),
        }
    }

    /// Costs and sizes by position in the order.
    pub fn costs(&self) -> &[OpCost] {
        &self.costs
    }

    /// The pipeline.
    pub fn pipeline(&self) -> &Pipeline {
        self.pipeline
    }

    /// Adds a note.
    pub fn note(&mut self, text: String) {
        self.notes.push(text);
    }

    /// A buffer of `capacity` samples of `item_bytes`.
    pub fn buffer(&mut self, name: &str, capacity: u32, item_bytes: f64) -> usize {
        self.buffers.push(Buffer { name: name.to_string(), capacity: capacity.max(1), item_bytes });
        self.buffers.len() - 1
    }

    /// Bytes out of the operator at `pos` in the order (the source's output for `pos` 0).
    pub fn bytes_after(&self, pos: usize) -> f64 {
        self.costs[pos].out_bytes
    }

    /// A compute stage running the operators at positions `range` of the order with
    /// `workers` on `host`; its input arrives over `handoff` (each worker pays the receive
    /// cost of the input bytes).
    #[allow(clippy::too_many_arguments)]
    pub fn compute(
        &mut self,
        name: &str,
        range: std::ops::Range<usize>,
        host: Host,
        workers: u32,
        input: Option<usize>,
        output: usize,
        handoff: Handoff,
        scalable: bool,
    ) -> usize {
        let cpu: f64 = self.costs[range.clone()].iter().map(|c| c.cost_s).sum();
        let gil: f64 = self.costs[range.clone()]
            .iter()
            .filter(|c| self.pipeline.ops[c.op].gil)
            .map(|c| c.cost_s)
            .sum();
        let in_bytes = self.costs.get(range.start).map_or(0.0, |c| c.in_bytes);
        let recv = self.res.handoff_s(handoff, in_bytes);
        self.stages.push(Stage {
            name: name.to_string(),
            kind: StageKind::Compute(host),
            ops: range.map(|k| self.order[k]).collect(),
            workers: workers.max(1),
            service_s: cpu + recv,
            cpu_s: cpu + recv,
            gil_s: gil,
            thread_group: None,
            input,
            output,
            scalable,
        });
        self.stages.len() - 1
    }

    /// A stage of one worker that runs no operator (a link, the trainer's receive, a batcher,
    /// a disk): `service_s` per sample, of which `cpu_s` on its host's CPU.
    fn single(
        &mut self,
        name: &str,
        kind: StageKind,
        service_s: f64,
        cpu_s: f64,
        input: Option<usize>,
        output: usize,
    ) -> usize {
        self.stages.push(Stage {
            name: name.to_string(),
            kind,
            ops: Vec::new(),
            workers: 1,
            service_s,
            cpu_s,
            gil_s: 0.0,
            thread_group: None,
            input,
            output,
            scalable: false,
        });
        self.stages.len() - 1
    }

    /// A network transfer of `bytes` per sample (one link, one sample at a time).
    pub fn transfer(&mut self, name: &str, bytes: f64, input: usize, output: usize) -> usize {
        self.network_bytes += bytes;
        let t = bytes / self.res.network_bytes_per_s();
        self.single(name, StageKind::Transfer, t, 0.0, Some(input), output)
    }

    /// The training process receiving `bytes` per sample from other processes over `handoff`.
    pub fn receive(&mut self, bytes: f64, handoff: Handoff, input: usize, output: usize) -> usize {
        let t = self.res.handoff_s(handoff, bytes);
        self.single("main receive", StageKind::Receive, t, t, Some(input), output)
    }

    /// A batcher thread collating samples of `bytes` into batches: one copy per byte at the
    /// shared-memory (memory copy) rate, on the training host.
    pub fn collate(&mut self, bytes: f64, input: usize, output: usize) -> usize {
        let t = bytes / self.res.shm_bytes_per_s;
        self.single("collate", StageKind::Receive, t, t, Some(input), output)
    }

    /// Reading cached samples of `bytes` from local disk at `read_s_per_byte`.
    pub fn cache_read(&mut self, bytes: f64, read_s_per_byte: f64, output: usize) -> usize {
        let t = bytes * read_s_per_byte;
        self.single("cache read", StageKind::CacheRead, t, 0.0, None, output)
    }

    /// Makes a stage's workers threads of process `group` (see [`Stage::thread_group`]).
    pub fn set_thread_group(&mut self, stage: usize, group: u32) {
        self.stages[stage].thread_group = Some(group);
    }

    /// Adds `extra_s` per sample to a stage (a cache write after its last operator).
    pub fn add_service(&mut self, stage: usize, extra_s: f64) {
        self.stages[stage].service_s += extra_s;
    }

    /// The finished plan. A host whose stages would need more CPU than it has, at the flow
    /// the plan allows, slows every worker on it down by demand / vCPUs (processor sharing at
    /// steady state), so that no plan uses more CPU than it has.
    pub fn finish(self, system: &str, output: usize, predicted_sps: f64) -> Plan {
        let mut plan = Plan {
            system: system.to_string(),
            order: self.order,
            stages: self.stages,
            buffers: self.buffers,
            output,
            predicted_sps,
            controller: None,
            cached: None,
            network_bytes_per_sample: self.network_bytes,
            cache_bytes_per_sample: 0.0,
            cache_ops: 0,
            notes: self.notes,
        };
        share_cpus(&mut plan, self.res);
        plan
    }
}

/// Each stage's flow (samples/s) when the plan runs at its bound.
pub fn stage_flows(plan: &Plan) -> Vec<f64> {
    let mut inflow = vec![0.0f64; plan.buffers.len()];
    let mut flows = Vec::with_capacity(plan.stages.len());
    for s in &plan.stages {
        let available = match s.input {
            None => f64::INFINITY,
            Some(b) => inflow[b],
        };
        let f = s.capacity_sps().min(available);
        inflow[s.output] += f;
        flows.push(f);
    }
    // A finite trainer-side limit propagates back: every stage carries at most the output.
    let out = inflow[plan.output];
    flows.iter().map(|f| f.min(out)).collect()
}

/// Applies the interpreter-lock and processor-sharing slowdowns (see
/// [`PlanBuilder::finish`]): threads of one process can hold its interpreter lock one at a
/// time, so their lock-holding work per second is at most 1; then each host's demand is at
/// most its vCPUs.
pub fn share_cpus(plan: &mut Plan, res: &Resources) {
    let groups: std::collections::BTreeSet<u32> =
        plan.stages.iter().filter_map(|s| s.thread_group).collect();
    for g in groups {
        let flows = stage_flows(plan);
        let demand: f64 = plan
            .stages
            .iter()
            .zip(&flows)
            .filter(|(s, _)| s.thread_group == Some(g))
            .map(|(s, f)| s.gil_s * f)
            .sum();
        if demand > 1.0 + 1e-9 {
            for s in plan.stages.iter_mut().filter(|s| s.thread_group == Some(g)) {
                s.service_s *= demand;
            }
            plan.notes.push(format!(
                "threads of one process need its interpreter lock {demand:.2}x the time there is: each runs {demand:.2}x slower"
            ));
        }
    }
    for host in [Host::Local, Host::Remote] {
        let v = res.vcpus(host).max(1) as f64;
        // Slowing a host's stages can let more flow reach its other stages (from another
        // host's branch), so repeat until the demand fits.
        let mut total = 1.0;
        for _ in 0..64 {
            let flows = stage_flows(plan);
            let demand: f64 = plan
                .stages
                .iter()
                .zip(&flows)
                .filter(|(s, _)| s.host() == Some(host))
                .map(|(s, f)| s.cpu_s * f)
                .sum();
            if demand <= v * (1.0 + 1e-9) {
                break;
            }
            let slow = demand / v * (1.0 + 1e-12);
            total *= slow;
            for s in plan.stages.iter_mut().filter(|s| s.host() == Some(host)) {
                s.service_s *= slow;
            }
        }
        if total > 1.0 {
            plan.notes.push(format!(
                "the {} host's stages need {:.2}x its {v} vCPUs at full speed: each runs {total:.2}x slower",
                if host == Host::Local { "training" } else { "remote" },
                total
            ));
        }
    }
}
