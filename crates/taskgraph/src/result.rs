//! The outcome of an execution: per-op times, makespan, busy time per GPU, the critical path
//! and a Chrome trace.

use serde_json::{Map, Value};
use simcore::{ChromeTrace, SimTime};

use crate::config::ExecConfig;
use crate::graph::TaskGraph;
use crate::op::{ChainStep, OpId, OpKind};
use crate::resources::{Lane, Layout, NONE};

/// Busy time of one GPU's resources (stream-seconds: two compute streams busy at once count
/// twice).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GpuBusy {
    /// On compute streams.
    pub compute: SimTime,
    /// On the communication streams (sends and collectives; stream-seconds, summed over streams).
    pub comm: SimTime,
    /// On copy engines.
    pub copy: SimTime,
}

/// Timings of every op of one run of a graph.
#[derive(Clone, Debug)]
pub struct Execution {
    start: Vec<SimTime>,
    end: Vec<SimTime>,
    makespan: SimTime,
    gpu_busy: Vec<GpuBusy>,
    critical_pred: Vec<u32>,
    events: u64,
    config: ExecConfig,
    layout: Layout,
    /// With `ExecConfig::record_link_queues`, in analytic mode: `(link id, op, begin, end)` of
    /// every stretch a link's queue spent serving one operation, in the order they were
    /// booked.
    pub(crate) link_queue_log: Vec<(u32, u32, SimTime, SimTime)>,
    /// Per op (empty without chains): its steps' range in `chain_ends`.
    pub(crate) chain_span: Vec<(u32, u32)>,
    /// The end time of every chain step, chain by chain.
    pub(crate) chain_ends: Vec<SimTime>,
    /// Per op (empty without chains): a chain's kernel time.
    pub(crate) chain_kernels: Vec<SimTime>,
    pub(crate) chain_conflict: Option<String>,
}

impl Execution {
    /// What every link's queue served and when (`(link id, op, begin, end)`), if the
    /// execution was asked to record it (`ExecConfig::record_link_queues`, analytic mode).
    pub fn link_queue_log(&self) -> &[(u32, u32, SimTime, SimTime)] {
        &self.link_queue_log
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        start: Vec<SimTime>,
        end: Vec<SimTime>,
        makespan: SimTime,
        gpu_busy: Vec<GpuBusy>,
        critical_pred: Vec<u32>,
        events: u64,
        config: ExecConfig,
        layout: Layout,
    ) -> Self {
        Execution {
            start,
            end,
            makespan,
            gpu_busy,
            critical_pred,
            events,
            config,
            layout,
            link_queue_log: Vec::new(),
            chain_span: Vec::new(),
            chain_ends: Vec::new(),
            chain_kernels: Vec::new(),
            chain_conflict: None,
        }
    }

    /// The end times of chain `op`'s steps, in order (each step starts when the one before it
    /// ended, the first at the chain's start); empty for other ops.
    pub fn chain_step_ends(&self, op: OpId) -> &[SimTime] {
        match self.chain_span.get(op.0 as usize) {
            Some(&(a, b)) => &self.chain_ends[a as usize..b as usize],
            None => &[],
        }
    }

    /// The time chain `op`'s kernels took (its duration less its collectives'); zero for other
    /// ops.
    pub fn chain_kernel_time(&self, op: OpId) -> SimTime {
        self.chain_kernels.get(op.0 as usize).copied().unwrap_or(SimTime::ZERO)
    }

    /// `None` when every chain ran exactly as its steps would have as separate ops in a chain
    /// of dependencies: no other op waited for a stream a chain held, no chain waited for a
    /// communication stream, and (in analytic mode) no chain's collectives shared a link
    /// with another op. Otherwise the first reason found: the timing may then differ from
    /// the unfused graph's.
    pub fn chain_conflict(&self) -> Option<&str> {
        self.chain_conflict.as_deref()
    }

    /// When `op` started.
    pub fn start(&self, op: OpId) -> SimTime {
        self.start[op.0 as usize]
    }

    /// When `op` finished.
    pub fn end(&self, op: OpId) -> SimTime {
        self.end[op.0 as usize]
    }

    /// How long `op` ran.
    pub fn duration(&self, op: OpId) -> SimTime {
        self.end(op) - self.start(op)
    }

    /// When the last op finished.
    pub fn makespan(&self) -> SimTime {
        self.makespan
    }

    /// Busy time of each GPU, by GPU id.
    pub fn gpu_busy(&self) -> &[GpuBusy] {
        &self.gpu_busy
    }

    /// Simulation events handled.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// The settings used.
    pub fn config(&self) -> &ExecConfig {
        &self.config
    }

    /// The chain of ops that determines the makespan, first to last: starting from the op
    /// that finishes last, each step goes to what it waited for, either the dependency that
    /// finished last or, if it then still waited for a stream or engine, the op that held it.
    /// Consecutive ops touch: each starts when the previous one ends.
    pub fn critical_path(&self) -> Vec<OpId> {
        let Some(last) =
            (0..self.end.len()).max_by(|&a, &b| self.end[a].cmp(&self.end[b]).then(b.cmp(&a)))
        else {
            return Vec::new();
        };
        let mut path = vec![OpId(last as u32)];
        let mut cur = last;
        while self.critical_pred[cur] != NONE {
            cur = self.critical_pred[cur] as usize;
            path.push(OpId(cur as u32));
        }
        path.reverse();
        path
    }

    /// The run as a Chrome trace: one process per node, one thread per GPU stream or engine;
    /// collectives appear on every member's communication lane.
    pub fn chrome_trace(&self, graph: &TaskGraph) -> ChromeTrace {
        let mut t = ChromeTrace::new();
        let l = self.layout;
        let gpus_per_node = l.gpus_per_node;
        let nodes = l.gpus.div_ceil(gpus_per_node.max(1));
        let host_pid = nodes;
        for node in 0..nodes {
            t.name_process(node, format!("node {node}"));
        }
        t.name_process(host_pid, "host-side (delays, storage)");
        let lane_tid = |r: u32| -> (u32, u32) {
            match l.lane(r) {
                Lane::Storage(n) => (host_pid, 1 + n),
                _ => (r / l.per_gpu / gpus_per_node, r % (l.per_gpu * gpus_per_node)),
            }
        };
        for r in 0..l.count(nodes) as u32 {
            let (pid, tid) = lane_tid(r);
            let name = match l.lane(r) {
                Lane::Compute(g, s) => format!("gpu{} compute{s}", g.0),
                Lane::Comm(g, s) if l.comms > l.group_comms && u32::from(s) == l.send_comm => {
                    format!("gpu{} p2p", g.0)
                }
                Lane::Comm(g, 0) if l.group_comms == 1 => format!("gpu{} comm", g.0),
                Lane::Comm(g, s) => format!("gpu{} comm{s}", g.0),
                Lane::Copy(g, e) => format!("gpu{} copy{e}", g.0),
                Lane::Storage(n) => format!("node{n} storage"),
            };
            t.name_thread(pid, tid, name);
        }
        t.name_thread(host_pid, 0, "delays, host-driven transfers");
        for op in graph.ops() {
            let kind = graph.kind(op);
            let mut args = Map::new();
            args.insert("op".into(), Value::from(op.0));
            match *kind {
                OpKind::Compute { flops, bytes, dtype, .. } => {
                    args.insert("flops".into(), Value::from(flops));
                    args.insert("bytes".into(), Value::from(bytes));
                    args.insert("dtype".into(), Value::from(dtype.name()));
                }
                OpKind::Copy { bytes, .. } | OpKind::Send { bytes, .. } => {
                    args.insert("bytes".into(), Value::from(bytes));
                }
                OpKind::Collective { kind, algorithm, group, bytes, .. } => {
                    args.insert("collective".into(), Value::from(kind.name()));
                    args.insert("algorithm".into(), Value::from(algorithm.name()));
                    args.insert("ranks".into(), Value::from(graph.group(group).len()));
                    args.insert("bytes".into(), Value::from(bytes));
                }
                OpKind::Exchange { traffic, .. } => {
                    let total: f64 = graph.traffic(traffic).iter().map(|t| t.2).sum();
                    args.insert("bytes".into(), Value::from(total));
                    args.insert("transfers".into(), Value::from(graph.traffic(traffic).len()));
                }
                OpKind::HostWork { node, bytes, .. } => {
                    args.insert("node".into(), Value::from(node));
                    args.insert("bytes".into(), Value::from(bytes));
                }
                OpKind::Delay { .. } => {}
                OpKind::Chain { gpu, stream, group, dtype, steps } => {
                    // Each step on its own lanes: kernels on the compute stream, collectives on
                    // every member's communication stream.
                    let mut begin = self.start(op);
                    let mut comm_lanes = Vec::new();
                    let mut first = true;
                    l.for_each(graph, op, |r| {
                        if !first {
                            comm_lanes.push(lane_tid(r));
                        }
                        first = false;
                    });
                    let compute_lane = lane_tid(l.compute(gpu, stream));
                    let tagged = graph.category(op) != kind.category();
                    for (step, &end) in graph.chain(steps).iter().zip(self.chain_step_ends(op)) {
                        let mut a = args.clone();
                        match *step {
                            ChainStep::Kernel { label, flops, bytes } => {
                                a.insert("flops".into(), Value::from(flops));
                                a.insert("bytes".into(), Value::from(bytes));
                                a.insert("dtype".into(), Value::from(dtype.name()));
                                let cat = if tagged { graph.category(op) } else { "compute" };
                                t.span(label, cat, compute_lane, begin, end - begin, a);
                            }
                            ChainStep::Collective { label, kind, algorithm, bytes } => {
                                a.insert("collective".into(), Value::from(kind.name()));
                                a.insert("algorithm".into(), Value::from(algorithm.name()));
                                a.insert("ranks".into(), Value::from(graph.group(group).len()));
                                a.insert("bytes".into(), Value::from(bytes));
                                for &lane in &comm_lanes {
                                    t.span(
                                        label,
                                        "collective",
                                        lane,
                                        begin,
                                        end - begin,
                                        a.clone(),
                                    );
                                }
                            }
                        }
                        begin = end;
                    }
                    continue;
                }
            }
            let (start, dur) = (self.start(op), self.duration(op));
            let mut lanes = Vec::new();
            l.for_each(graph, op, |r| lanes.push(lane_tid(r)));
            if lanes.is_empty() {
                lanes.push((host_pid, 0));
            }
            for (pid, tid) in lanes {
                t.span(graph.name(op), graph.category(op), (pid, tid), start, dur, args.clone());
            }
        }
        t
    }
}
