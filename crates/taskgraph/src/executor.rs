//! Runs a task graph on simcore with cluster costs.
//!
//! An op becomes ready when all its dependencies have finished; it then queues on the
//! resources it needs (see [`crate::resources`]) and starts when it heads all their queues.
//! Its duration comes from the cluster's cost models:
//!
//! - compute: the roofline kernel time;
//! - delay: as given;
//! - send, collective, exchange, copy and host work in **analytic** mode (the default): the
//!   closed-form time of the planned transfers, and every link they cross is a first-come,
//!   first-served queue: the link serves the operation's bytes (payload over the protocol's
//!   bandwidth factor) at its bandwidth after the bytes of the operations that reached it
//!   first, and the operation ends when its closed-form time has passed and every link has
//!   served it. No link ever carries more than its bandwidth; a lone operation takes exactly
//!   its closed-form time. Host work queues on its node's DRAM link, as do copies to and from
//!   host memory;
//! - the same in **contention-free** mode, without the queues: every operation as if alone
//!   on the network (an upper bound on performance);
//! - send, collective, exchange, copy and host work in **flow** mode: each phase first waits
//!   its latency, then starts one flow per transfer (payload divided by the protocol's
//!   bandwidth factor) in a max-min fair [`FlowNetwork`]; the phase ends when its last flow
//!   ends. Concurrent operations therefore slow each other down where they share links.

use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use cluster::{
    Cluster, ClusterError, CollectivePlan, CommCost, FlowNetwork, MemoryTier, Network, Route,
    VertexId,
};
use simcore::fast_hash::FastMap;
use simcore::{Model, Scheduler, SimTime, Simulation};

use crate::config::{ExecConfig, NetworkMode};
use crate::cost_cache::{CostCache, OpCost};
use crate::error::GraphError;
use crate::graph::TaskGraph;
use crate::op::{ChainId, ChainStep, GroupId, OpId, OpKind};
use crate::resources::{Layout, NONE, Resource};
use crate::result::{Execution, GpuBusy};

/// What happened, as past-tense facts.
#[derive(Clone, Copy, Debug)]
enum Ev {
    /// The execution started: ops without dependencies become ready.
    Started,
    /// An op finished.
    OpFinished(u32),
    /// The latency of a communication op's current phase elapsed: its flows start.
    PhaseLatencyElapsed(u32),
    /// The set of flows changed: their rates are recomputed (once per instant).
    FlowsChanged,
    /// The earliest flow was due to end under the rates of this epoch (stale if the rates
    /// changed since).
    FlowDue(u64),
}

/// One phase of a flow-mode op: latency, then flows (route, wire bytes).
struct FlowPhase {
    latency: SimTime,
    flows: Vec<(Arc<Route>, f64)>,
}

/// A communication op in flight in flow mode.
struct InFlight {
    phases: Rc<Vec<FlowPhase>>,
    phase: usize,
    outstanding: u32,
    /// It ends no earlier than this (host work's own rate limit).
    min_end: SimTime,
}

type CollKey = (u32, u8, u8, u64);

struct Exec<'g, 'c, 'k> {
    graph: &'g TaskGraph,
    cluster: &'c Cluster,
    net: Network<'c>,
    cfg: ExecConfig,
    layout: Layout,
    res: Vec<Resource>,
    remaining_deps: Vec<u32>,
    acquired: Vec<u32>,
    ready_at: Vec<SimTime>,
    start: Vec<SimTime>,
    end: Vec<SimTime>,
    dep_pred: Vec<u32>,
    blocker: Vec<u32>,
    finished: usize,
    done: Vec<bool>,
    // Cost caches.
    cache: &'k mut CostCache,
    coll_cost: FastMap<CollKey, OpCost>,
    coll_flow: HashMap<CollKey, Rc<Vec<FlowPhase>>>,
    send_flow: HashMap<(u32, u32, u64), Rc<Vec<FlowPhase>>>,
    // Analytic mode: when each link's queue is next free, and (if asked) what it served.
    link_free: Vec<SimTime>,
    link_log: Option<Vec<(u32, u32, SimTime, SimTime)>>,
    // The link list of ops that use none (compute, delay): shared, so costing one allocates
    // nothing.
    no_links: Rc<[(u32, SimTime)]>,
    // Flow mode.
    flows: Option<FlowNetwork>,
    in_flight: HashMap<u32, InFlight>,
    flow_epoch: u64,
    reschedule_pending: bool,
    completed_tags: Vec<u64>,
    error: Option<GraphError>,
    // Chains (fused ops): whether the graph has any, per op its steps' range in `chain_ends`,
    // the steps' end times, per link who used it (a chain's group, or `NOT_CHAIN`), and the
    // first sign that a chain did not run as its steps would have as separate ops.
    has_chains: bool,
    check_links: bool,
    chain_span: Vec<(u32, u32)>,
    chain_ends: Vec<SimTime>,
    /// Per op: a chain's kernel time (the rest of its time is its collectives').
    chain_kernels: Vec<SimTime>,
    /// Per (step list, group): its steps' costs, costed once.
    chain_plans: FastMap<(u32, u32), Rc<[StepCost]>>,
    link_owner: Vec<u32>,
    chain_conflict: Option<String>,
}

/// The cost of one step of a chain.
enum StepCost {
    Kernel(SimTime),
    Collective(OpCost),
}

/// `link_owner` of a link no op used yet.
const NO_OWNER: u32 = u32::MAX;
/// `link_owner` of a link used by ops that are not chains.
const NOT_CHAIN: u32 = u32::MAX - 1;

/// Marks `links` as used by `owner`; false if one was used by another owner before where
/// either is a chain (its steps' link timing could then differ from separate ops').
fn own_links(link_owner: &mut [u32], owner: u32, links: &[(u32, SimTime)]) -> bool {
    let mut ok = true;
    for &(l, _) in links {
        let o = &mut link_owner[l as usize];
        if *o == NO_OWNER {
            *o = owner;
        } else if *o != owner {
            ok = false;
        }
    }
    ok
}

/// When an op of cost `cost` launched `now` ends: its closed-form time and, unless the network
/// is contention-free, every link it uses serving its bytes after what reached the link before
/// (first come, first served); the links' queues advance and, if asked, are logged.
fn queued_end(
    link_free: &mut [SimTime],
    log: &mut Option<Vec<(u32, u32, SimTime, SimTime)>>,
    contention_free: bool,
    op: u32,
    now: SimTime,
    cost: &OpCost,
) -> SimTime {
    let mut end = now + cost.time;
    if contention_free {
        return end;
    }
    for &(l, busy) in cost.links.iter() {
        let free = &mut link_free[l as usize];
        let begin = (*free).max(now);
        *free = begin + busy;
        end = end.max(*free);
        if let Some(log) = log.as_mut() {
            log.push((l, op, begin, *free));
        }
    }
    end
}

fn device_err(graph: &TaskGraph, op: u32, source: ClusterError) -> GraphError {
    GraphError::Device { op: graph.name(OpId(op)).to_string(), source }
}

fn flow_phases(
    plan: &CollectivePlan,
    cost: &CommCost,
    net: &mut Network<'_>,
) -> Result<Vec<FlowPhase>, ClusterError> {
    let topo = net.cluster().topology();
    plan.phases
        .iter()
        .zip(&cost.phase_latency)
        .map(|(p, &latency)| {
            let flows = p
                .transfers
                .iter()
                .map(|t| {
                    let (a, b) = (topo.gpu_vertex(t.src)?, topo.gpu_vertex(t.dst)?);
                    Ok((net.router().route_shared(a, b)?, t.bytes / cost.bandwidth_factor))
                })
                .collect::<Result<Vec<_>, ClusterError>>()?;
            Ok(FlowPhase { latency, flows })
        })
        .chain(
            // A protocol's bus-bandwidth cap beyond the links' time: waited out after the flows.
            (cost.cap_secs > 0.0).then(|| {
                Ok(FlowPhase {
                    latency: SimTime::from_secs_f64_ceil(cost.cap_secs),
                    flows: Vec::new(),
                })
            }),
        )
        .collect()
}

impl<'g, 'c, 'k> Exec<'g, 'c, 'k> {
    fn fail(&mut self, e: GraphError, s: &mut Scheduler<Ev>) {
        if self.error.is_none() {
            self.error = Some(e);
        }
        s.stop();
    }

    /// The DRAM link of `node`'s host (host to memory).
    fn dram_link(&mut self, node: u32) -> Result<(VertexId, VertexId, u32), ClusterError> {
        let topo = self.cluster.topology();
        let (host, dram) = (topo.host_vertex(node)?, topo.host_memory_vertex(node)?);
        let link =
            self.net.router().route(host, dram)?.links.first().copied().ok_or_else(|| {
                ClusterError::Unsupported(format!("node {node} has no link to its memory"))
            })?;
        Ok((host, dram, link.0))
    }

    /// The closed-form cost of an op: its time as if alone, and the seconds each link it uses
    /// is busy with it (compute and delays use none).
    fn analytic_cost(&mut self, op: u32) -> Result<OpCost, ClusterError> {
        let graph = self.graph;
        let none = || Rc::clone(&self.no_links);
        Ok(match *graph.kind(OpId(op)) {
            OpKind::Compute { flops, bytes, dtype, .. } => OpCost {
                time: self.cluster.compute().kernel_time(flops, bytes, dtype)?,
                links: none(),
            },
            OpKind::Delay { duration } => OpCost { time: duration, links: none() },
            OpKind::Copy { from, to, bytes } => {
                let time = self.net.copy_time(from, to, bytes)?;
                let links = if from == to || bytes <= 0.0 {
                    none()
                } else {
                    let topo = self.cluster.topology();
                    let route = self.net.copy_route(from, to)?;
                    route
                        .links
                        .iter()
                        .map(|&l| {
                            (l.0, SimTime::from_secs_f64_ceil(bytes / topo.link(l).bandwidth()))
                        })
                        .collect()
                };
                OpCost { time, links }
            }
            OpKind::HostWork { node, bytes, rate } => {
                let (_, _, link) = self.dram_link(node)?;
                let dram = self.cluster.topology().link(cluster::LinkId(link)).bandwidth();
                let time = SimTime::from_secs_f64_ceil(bytes / rate.min(dram));
                OpCost {
                    time,
                    links: Rc::from(vec![(link, SimTime::from_secs_f64_ceil(bytes / dram))]),
                }
            }
            OpKind::Send { src, dst, bytes } => {
                let net = &mut self.net;
                self.cache
                    .send(src, dst, bytes, || Ok(OpCost::of(&net.send(src, dst, bytes)?.1)))?
            }
            OpKind::Collective { kind, algorithm, group, bytes, .. } => {
                let net = &mut self.net;
                let members = graph.group(group);
                self.cache.collective(kind, algorithm, members, bytes, || {
                    Ok(OpCost::of(&net.collective(kind, algorithm, members, bytes)?.1))
                })?
            }
            OpKind::Exchange { traffic, .. } => {
                OpCost::of(&self.net.all_to_all_v(graph.traffic(traffic))?.1)
            }
            OpKind::Chain { .. } => {
                return Err(ClusterError::Unsupported(
                    "a chain has no single closed-form cost (its steps are costed in turn)".into(),
                ));
            }
        })
    }

    /// Notes that a chain may not have run as its steps would have as separate ops.
    fn conflict(&mut self, why: impl FnOnce() -> String) {
        if self.chain_conflict.is_none() {
            self.chain_conflict = Some(why());
        }
    }

    /// When chain `op` launched `now` ends: its steps one after another, each kernel its
    /// roofline time, each collective costed (and queued on its links) when the step before
    /// it ends. Records the steps' end times.
    fn chain_end(&mut self, op: u32, now: SimTime) -> Result<SimTime, ClusterError> {
        let graph = self.graph;
        let OpKind::Chain { group, dtype, steps, .. } = *graph.kind(OpId(op)) else {
            return Ok(now);
        };
        let plan = match self.chain_plans.get(&(steps.0, group.0)) {
            Some(plan) => Rc::clone(plan),
            None => {
                let plan = self.chain_plan(steps, group, dtype)?;
                self.chain_plans.insert((steps.0, group.0), Rc::clone(&plan));
                plan
            }
        };
        let free = self.cfg.network == NetworkMode::ContentionFree;
        let first = self.chain_ends.len() as u32;
        let mut t = now;
        let mut kernels = SimTime::ZERO;
        for step in plan.iter() {
            t = match step {
                StepCost::Kernel(time) => {
                    kernels += *time;
                    t + *time
                }
                StepCost::Collective(cost) => {
                    if self.check_links && !own_links(&mut self.link_owner, group.0, &cost.links) {
                        let name = graph.name(OpId(op)).to_string();
                        self.conflict(|| {
                            format!("chain `{name}` shares links with other operations")
                        });
                    }
                    queued_end(&mut self.link_free, &mut self.link_log, free, op, t, cost)
                }
            };
            self.chain_ends.push(t);
        }
        self.chain_span[op as usize] = (first, self.chain_ends.len() as u32);
        self.chain_kernels[op as usize] = kernels;
        Ok(t)
    }

    /// The costs of a chain's steps over `group`: kernels' times, collectives' closed forms.
    fn chain_plan(
        &mut self,
        steps: ChainId,
        group: GroupId,
        dtype: cluster::Dtype,
    ) -> Result<Rc<[StepCost]>, ClusterError> {
        let graph = self.graph;
        let members = graph.group(group);
        let mut out = Vec::with_capacity(graph.chain(steps).len());
        for step in graph.chain(steps) {
            out.push(match *step {
                ChainStep::Kernel { flops, bytes, .. } => {
                    StepCost::Kernel(self.cluster.compute().kernel_time(flops, bytes, dtype)?)
                }
                ChainStep::Collective { kind, algorithm, bytes, .. } => {
                    let net = &mut self.net;
                    StepCost::Collective(self.cache.collective(
                        kind,
                        algorithm,
                        members,
                        bytes,
                        || Ok(OpCost::of(&net.collective(kind, algorithm, members, bytes)?.1)),
                    )?)
                }
            });
        }
        Ok(Rc::from(out))
    }

    /// When an op launched `now` ends in analytic mode: its closed-form time, and (unless the
    /// network is contention-free) every link it uses serving its bytes after what reached
    /// the link before (first come, first served); the links' queues advance. This graph's
    /// collectives are costed once per group and size and used in place.
    fn analytic_end(&mut self, op: u32, now: SimTime) -> Result<SimTime, ClusterError> {
        let free = self.cfg.network == NetworkMode::ContentionFree;
        let key = match *self.graph.kind(OpId(op)) {
            // Kernels use no link: their time alone (the most common op, kept short).
            OpKind::Compute { flops, bytes, dtype, .. } => {
                return Ok(now + self.cluster.compute().kernel_time(flops, bytes, dtype)?);
            }
            OpKind::Chain { .. } => return self.chain_end(op, now),
            OpKind::Collective { kind, algorithm, group, bytes, .. } => {
                let key = (group.0, kind as u8, algorithm as u8, bytes.to_bits());
                if let Some(cost) = self.coll_cost.get(&key) {
                    if self.check_links && !own_links(&mut self.link_owner, NOT_CHAIN, &cost.links)
                    {
                        self.chain_conflict.get_or_insert_with(|| {
                            "a chain shares links with other operations".to_string()
                        });
                    }
                    return Ok(queued_end(
                        &mut self.link_free,
                        &mut self.link_log,
                        free,
                        op,
                        now,
                        cost,
                    ));
                }
                Some(key)
            }
            _ => None,
        };
        let cost = self.analytic_cost(op)?;
        if self.check_links && !own_links(&mut self.link_owner, NOT_CHAIN, &cost.links) {
            self.conflict(|| "a chain shares links with other operations".to_string());
        }
        let end = queued_end(&mut self.link_free, &mut self.link_log, free, op, now, &cost);
        if let Some(key) = key {
            self.coll_cost.insert(key, cost);
        }
        Ok(end)
    }

    /// The phases of a communication op in flow mode; `None` for ops that are not flows.
    fn flow_plan(&mut self, op: u32) -> Result<Option<Rc<Vec<FlowPhase>>>, ClusterError> {
        let graph = self.graph;
        Ok(match *graph.kind(OpId(op)) {
            OpKind::Compute { .. } | OpKind::Delay { .. } | OpKind::Chain { .. } => None,
            OpKind::HostWork { node, bytes, .. } => {
                let (host, dram, _) = self.dram_link(node)?;
                let flows = if bytes > 0.0 {
                    vec![(self.net.router().route_shared(host, dram)?, bytes)]
                } else {
                    vec![]
                };
                Some(Rc::new(vec![FlowPhase { latency: SimTime::ZERO, flows }]))
            }
            OpKind::Copy { from, to, bytes } => {
                if from == to {
                    return Ok(None); // inside one GPU's HBM: a streaming kernel
                }
                let launch = self.cluster.compute().launch_overhead();
                let route = self.net.copy_route(from, to)?;
                let latency = launch + route.latency;
                let topo = self.cluster.topology();
                let vertex = |t: MemoryTier| match t {
                    MemoryTier::Hbm(g) => topo.gpu_vertex(g),
                    MemoryTier::Host(n) => topo.host_memory_vertex(n),
                    MemoryTier::Ssd(n) => topo.ssd_vertex(n),
                };
                let flows = if bytes > 0.0 {
                    let (a, b) = (vertex(from)?, vertex(to)?);
                    vec![(self.net.router().route_shared(a, b)?, bytes)]
                } else {
                    vec![]
                };
                Some(Rc::new(vec![FlowPhase { latency, flows }]))
            }
            OpKind::Send { src, dst, bytes } => {
                let key = (src.0, dst.0, bytes.to_bits());
                if let Some(p) = self.send_flow.get(&key) {
                    return Ok(Some(p.clone()));
                }
                let (plan, cost) = self.net.send(src, dst, bytes)?;
                let p = Rc::new(flow_phases(&plan, &cost, &mut self.net)?);
                self.send_flow.insert(key, p.clone());
                Some(p)
            }
            OpKind::Collective { kind, algorithm, group, bytes, .. } => {
                let key = (group.0, kind as u8, algorithm as u8, bytes.to_bits());
                if let Some(p) = self.coll_flow.get(&key) {
                    return Ok(Some(p.clone()));
                }
                let (plan, cost) =
                    self.net.collective(kind, algorithm, graph.group(group), bytes)?;
                let p = Rc::new(flow_phases(&plan, &cost, &mut self.net)?);
                self.coll_flow.insert(key, p.clone());
                Some(p)
            }
            OpKind::Exchange { traffic, .. } => {
                let (plan, cost) = self.net.all_to_all_v(graph.traffic(traffic))?;
                Some(Rc::new(flow_phases(&plan, &cost, &mut self.net)?))
            }
        })
    }

    fn make_ready(&mut self, op: u32, s: &mut Scheduler<Ev>) {
        let now = s.now();
        self.ready_at[op as usize] = now;
        let graph = self.graph;
        let layout = self.layout;
        if layout.needed(graph, OpId(op)) == 0 {
            self.launch(op, s);
            return;
        }
        if self.has_chains {
            self.claim(op);
        }
        layout.for_each(graph, OpId(op), |r| self.res[r as usize].queue.push_back(op));
        layout.for_each(graph, OpId(op), |r| self.try_advance(r, s));
    }

    /// Before `op` queues: notes a conflict if a chain holds or waits for one of its resources
    /// (separate steps might have let `op` in between them), or if `op` is a chain and one of
    /// its communication streams is taken (its first kernel might have started without it);
    /// a chain then claims its resources until it ends.
    fn claim(&mut self, op: u32) {
        let (graph, layout) = (self.graph, self.layout);
        let chain = matches!(graph.kind(OpId(op)), OpKind::Chain { .. });
        let mut waits_for_chain = false;
        let mut comm_taken = false;
        let mut first = true;
        layout.for_each(graph, OpId(op), |r| {
            let res = &self.res[r as usize];
            waits_for_chain |= res.chain_claims > 0;
            // The chain's first resource is its compute stream, the rest communication.
            comm_taken |= chain && !first && (res.busy || res.reserved || !res.queue.is_empty());
            first = false;
        });
        if waits_for_chain || comm_taken {
            let name = graph.name(OpId(op)).to_string();
            self.conflict(|| {
                if waits_for_chain {
                    format!("`{name}` waited for a stream a chain held")
                } else {
                    format!("chain `{name}` waited for a communication stream")
                }
            });
        }
        if chain {
            layout.for_each(graph, OpId(op), |r| self.res[r as usize].chain_claims += 1);
        }
    }

    fn try_advance(&mut self, r: u32, s: &mut Scheduler<Ev>) {
        let res = &mut self.res[r as usize];
        if res.busy || res.reserved {
            return;
        }
        let Some(&head) = res.queue.front() else { return };
        res.reserved = true;
        self.acquired[head as usize] += 1;
        if self.acquired[head as usize] == self.layout.needed(self.graph, OpId(head)) {
            self.launch(head, s);
        }
    }

    fn launch(&mut self, op: u32, s: &mut Scheduler<Ev>) {
        let now = s.now();
        let graph = self.graph;
        let layout = self.layout;
        let mut freed_last = NONE;
        let mut freed_at = SimTime::ZERO;
        let end = &self.end;
        layout.for_each(graph, OpId(op), |r| {
            let res = &mut self.res[r as usize];
            let head = res.queue.pop_front();
            debug_assert_eq!(head, Some(op));
            res.reserved = false;
            res.busy = true;
            if res.last != NONE && end[res.last as usize] >= freed_at {
                freed_at = end[res.last as usize];
                freed_last = res.last;
            }
        });
        self.start[op as usize] = now;
        if now > self.ready_at[op as usize] {
            self.blocker[op as usize] = freed_last;
        }
        let flow_plan = if self.cfg.network == NetworkMode::Flow {
            match self.flow_plan(op) {
                Ok(p) => p,
                Err(e) => return self.fail(device_err(graph, op, e), s),
            }
        } else {
            None
        };
        match flow_plan {
            Some(phases) if phases.is_empty() => {
                s.schedule_in(SimTime::ZERO, Ev::OpFinished(op));
            }
            Some(phases) => {
                let latency = phases[0].latency;
                let min_end = match *graph.kind(OpId(op)) {
                    OpKind::HostWork { bytes, rate, .. } => {
                        now + SimTime::from_secs_f64_ceil(bytes / rate)
                    }
                    _ => now,
                };
                self.in_flight.insert(op, InFlight { phases, phase: 0, outstanding: 0, min_end });
                s.schedule_in(latency, Ev::PhaseLatencyElapsed(op));
            }
            None => match self.analytic_end(op, now) {
                Ok(end) => {
                    s.schedule_at(end, Ev::OpFinished(op));
                }
                Err(e) => self.fail(device_err(graph, op, e), s),
            },
        }
    }

    fn finish(&mut self, op: u32, s: &mut Scheduler<Ev>) {
        let now = s.now();
        self.end[op as usize] = now;
        self.finished += 1;
        self.done[op as usize] = true;
        let graph = self.graph;
        let layout = self.layout;
        let dur = now - self.start[op as usize];
        if let OpKind::Chain { .. } = *graph.kind(OpId(op)) {
            // The compute stream is busy with the kernels, the communication streams with
            // the collectives.
            let kernels = self.chain_kernels[op as usize];
            let colls = dur - kernels;
            let mut first = true;
            layout.for_each(graph, OpId(op), |r| {
                let res = &mut self.res[r as usize];
                res.busy = false;
                res.last = op;
                res.busy_time += if first { kernels } else { colls };
                res.chain_claims -= 1;
                first = false;
            });
        } else {
            layout.for_each(graph, OpId(op), |r| {
                let res = &mut self.res[r as usize];
                res.busy = false;
                res.last = op;
                res.busy_time += dur;
            });
        }
        layout.for_each(graph, OpId(op), |r| self.try_advance(r, s));
        for &next in graph.successors(OpId(op)) {
            let left = &mut self.remaining_deps[next as usize];
            *left -= 1;
            if *left == 0 {
                self.dep_pred[next as usize] = op;
                self.make_ready(next, s);
            }
        }
    }

    fn request_reschedule(&mut self, s: &mut Scheduler<Ev>) {
        if !self.reschedule_pending {
            self.reschedule_pending = true;
            s.schedule_in(SimTime::ZERO, Ev::FlowsChanged);
        }
    }

    fn phase_ready(&mut self, op: u32, s: &mut Scheduler<Ev>) {
        let now = s.now();
        let Some(f) = self.in_flight.get_mut(&op) else { return };
        let phases = f.phases.clone();
        let phase = &phases[f.phase];
        f.outstanding = phase.flows.len() as u32;
        if phase.flows.is_empty() {
            return self.phase_done(op, s);
        }
        let flows = self.flows.as_mut().expect("flow mode has a flow network");
        for (route, bytes) in &phase.flows {
            flows.add(now, &route.links, *bytes, u64::from(op));
        }
        self.request_reschedule(s);
    }

    fn phase_done(&mut self, op: u32, s: &mut Scheduler<Ev>) {
        let Some(f) = self.in_flight.get_mut(&op) else { return };
        f.phase += 1;
        if f.phase < f.phases.len() {
            let latency = f.phases[f.phase].latency;
            s.schedule_in(latency, Ev::PhaseLatencyElapsed(op));
        } else {
            let min_end = self.in_flight.remove(&op).map_or(SimTime::ZERO, |f| f.min_end);
            if s.now() < min_end {
                s.schedule_at(min_end, Ev::OpFinished(op));
            } else {
                self.finish(op, s);
            }
        }
    }
}

impl Model for Exec<'_, '_, '_> {
    type Event = Ev;

    fn handle(&mut self, ev: Ev, s: &mut Scheduler<Ev>) {
        if self.error.is_some() {
            return;
        }
        match ev {
            Ev::Started => {
                for op in 0..self.graph.len() as u32 {
                    if self.remaining_deps[op as usize] == 0 {
                        self.make_ready(op, s);
                    }
                }
            }
            Ev::OpFinished(op) => self.finish(op, s),
            Ev::PhaseLatencyElapsed(op) => self.phase_ready(op, s),
            Ev::FlowsChanged => {
                self.reschedule_pending = false;
                self.flow_epoch += 1;
                let now = s.now();
                if let Some(t) = self.flows.as_mut().and_then(FlowNetwork::next_completion) {
                    s.schedule_at(t.max(now), Ev::FlowDue(self.flow_epoch));
                }
            }
            Ev::FlowDue(epoch) => {
                if epoch != self.flow_epoch {
                    return; // rates changed since this was scheduled
                }
                let now = s.now();
                let mut tags = std::mem::take(&mut self.completed_tags);
                if let Some(flows) = self.flows.as_mut() {
                    flows.take_completed(now, &mut tags);
                }
                for &tag in &tags {
                    let op = tag as u32;
                    let done = match self.in_flight.get_mut(&op) {
                        Some(f) => {
                            f.outstanding -= 1;
                            f.outstanding == 0
                        }
                        None => false,
                    };
                    if done {
                        self.phase_done(op, s);
                    }
                }
                tags.clear();
                self.completed_tags = tags;
                self.request_reschedule(s);
            }
        }
    }
}

/// Checks everything about an op that does not need a simulation: devices exist, numbers are
/// finite and non-negative, streams exist, the GPU supports the dtype.
fn validate(graph: &TaskGraph, cluster: &Cluster, cfg: &ExecConfig) -> Result<(), GraphError> {
    let topo = cluster.topology();
    for op in graph.ops() {
        let name = || graph.name(op).to_string();
        let bad = |message: String| Err(GraphError::InvalidOp { op: name(), message });
        let dev = |source: ClusterError| GraphError::Device { op: name(), source };
        let check_size = |what: &str, x: f64| -> Result<(), GraphError> {
            if x.is_finite() && x >= 0.0 {
                Ok(())
            } else {
                Err(GraphError::InvalidOp {
                    op: name(),
                    message: format!("{what} must be finite and >= 0, got {x}"),
                })
            }
        };
        let tier = |t: MemoryTier| -> Result<(), GraphError> {
            match t {
                MemoryTier::Hbm(g) => topo.gpu_vertex(g).map(|_| ()),
                MemoryTier::Host(n) => topo.host_memory_vertex(n).map(|_| ()),
                MemoryTier::Ssd(n) => topo.ssd_vertex(n).map(|_| ()),
            }
            .map_err(dev)
        };
        match *graph.kind(op) {
            OpKind::Compute { gpu, stream, flops, bytes, dtype } => {
                topo.gpu_vertex(gpu).map_err(dev)?;
                if stream >= cfg.compute_streams.max(1) {
                    return bad(format!(
                        "compute stream {stream} does not exist; the execution has {} per GPU (0..{})",
                        cfg.compute_streams.max(1),
                        cfg.compute_streams.max(1)
                    ));
                }
                check_size("flops", flops)?;
                check_size("bytes", bytes)?;
                cluster.gpu().peak_flops(dtype).map_err(dev)?;
            }
            OpKind::Copy { from, to, bytes } => {
                tier(from)?;
                tier(to)?;
                check_size("bytes", bytes)?;
            }
            OpKind::Send { src, dst, bytes } => {
                topo.gpu_vertex(src).map_err(dev)?;
                topo.gpu_vertex(dst).map_err(dev)?;
                check_size("bytes", bytes)?;
            }
            OpKind::Collective { group, bytes, .. } => {
                let members = graph.group(group);
                if members.is_empty() {
                    return bad("collective group is empty".into());
                }
                for &g in members {
                    topo.gpu_vertex(g).map_err(dev)?;
                }
                if members.windows(2).any(|w| w[0] == w[1]) {
                    return bad("a GPU appears twice in the collective group".into());
                }
                check_size("bytes", bytes)?;
            }
            OpKind::Exchange { traffic, .. } => {
                for &(a, b, bytes) in graph.traffic(traffic) {
                    topo.gpu_vertex(a).map_err(dev)?;
                    topo.gpu_vertex(b).map_err(dev)?;
                    check_size("exchange bytes", bytes)?;
                }
            }
            OpKind::HostWork { node, bytes, rate } => {
                topo.host_vertex(node).map_err(dev)?;
                check_size("bytes", bytes)?;
                if !(rate > 0.0 && rate.is_finite()) {
                    return bad(format!("host work rate must be positive, got {rate}"));
                }
            }
            OpKind::Delay { .. } => {}
            OpKind::Chain { gpu, stream, group, dtype, steps } => {
                if cfg.network == NetworkMode::Flow {
                    return bad("chains (fused passes) run in the analytic or contention-free network mode, not the flow mode".into());
                }
                topo.gpu_vertex(gpu).map_err(dev)?;
                if stream >= cfg.compute_streams.max(1) {
                    return bad(format!(
                        "compute stream {stream} does not exist; the execution has {} per GPU",
                        cfg.compute_streams.max(1)
                    ));
                }
                let members = graph.group(group);
                for &g in members {
                    topo.gpu_vertex(g).map_err(dev)?;
                }
                if members.windows(2).any(|w| w[0] == w[1]) {
                    return bad("a GPU appears twice in the chain's group".into());
                }
                let steps = graph.chain(steps);
                if steps.is_empty() {
                    return bad("a chain has no step".into());
                }
                for step in steps {
                    match *step {
                        ChainStep::Kernel { flops, bytes, .. } => {
                            check_size("flops", flops)?;
                            check_size("bytes", bytes)?;
                        }
                        ChainStep::Collective { bytes, .. } => {
                            if members.is_empty() {
                                return bad("a chain with collectives has an empty group".into());
                            }
                            check_size("bytes", bytes)?;
                        }
                    }
                }
                cluster.gpu().peak_flops(dtype).map_err(dev)?;
            }
        }
    }
    Ok(())
}

/// Executes `graph` on `cluster`.
pub fn execute(
    graph: &TaskGraph,
    cluster: &Cluster,
    cfg: &ExecConfig,
) -> Result<Execution, GraphError> {
    execute_cached(graph, cluster, cfg, &mut CostCache::new())
}

/// Executes `graph` on `cluster`, reusing and filling `cache` (for simulators that execute one
/// graph per iteration on the same cluster).
pub fn execute_cached(
    graph: &TaskGraph,
    cluster: &Cluster,
    cfg: &ExecConfig,
    cache: &mut CostCache,
) -> Result<Execution, GraphError> {
    cache.bind(cluster);
    validate(graph, cluster, cfg)?;
    let n = graph.len();
    let topo = cluster.topology();
    let layout = Layout::new(cfg, graph, topo.gpu_count(), topo.gpus_per_node());
    let mut res = vec![Resource::default(); layout.count(topo.node_count())];
    for r in &mut res {
        r.last = NONE;
    }
    let exec = Exec {
        graph,
        cluster,
        net: cluster.network_with_memo(std::mem::take(&mut cache.routes)),
        cfg: *cfg,
        layout,
        res,
        remaining_deps: graph.ops().map(|op| graph.predecessors(op).len() as u32).collect(),
        acquired: vec![0; n],
        ready_at: vec![SimTime::ZERO; n],
        start: vec![SimTime::ZERO; n],
        end: vec![SimTime::ZERO; n],
        dep_pred: vec![NONE; n],
        blocker: vec![NONE; n],
        finished: 0,
        done: vec![false; n],
        cache,
        coll_cost: FastMap::default(),
        coll_flow: HashMap::new(),
        send_flow: HashMap::new(),
        link_free: vec![SimTime::ZERO; topo.links().len()],
        link_log: cfg.record_link_queues.then(Vec::new),
        no_links: Rc::from(Vec::new()),
        flows: (cfg.network == NetworkMode::Flow).then(|| cluster.flow_network()),
        in_flight: HashMap::new(),
        flow_epoch: 0,
        reschedule_pending: false,
        completed_tags: Vec::new(),
        error: None,
        has_chains: graph.has_chains(),
        check_links: graph.has_chains() && cfg.network == NetworkMode::Analytic,
        chain_span: if graph.has_chains() { vec![(0, 0); n] } else { Vec::new() },
        chain_ends: Vec::new(),
        chain_kernels: if graph.has_chains() { vec![SimTime::ZERO; n] } else { Vec::new() },
        chain_plans: FastMap::default(),
        link_owner: if graph.has_chains() && cfg.network == NetworkMode::Analytic {
            vec![NO_OWNER; topo.links().len()]
        } else {
            Vec::new()
        },
        chain_conflict: None,
    };
    let mut sim = Simulation::new(exec);
    sim.schedule_at(SimTime::ZERO, Ev::Started);
    sim.run();
    let events = sim.events_handled();
    let mut e = sim.into_model();
    let memo = std::mem::replace(&mut e.net, cluster.network()).into_memo();
    e.cache.routes = memo;
    if let Some(err) = e.error {
        return Err(err);
    }
    if e.finished < n {
        let stuck = e.done.iter().position(|d| !d).unwrap_or(0);
        return Err(GraphError::Stalled {
            stalled: n - e.finished,
            example: graph.name(OpId(stuck as u32)).to_string(),
        });
    }
    let makespan = e.end.iter().copied().max().unwrap_or(SimTime::ZERO);
    let mut gpu_busy = vec![GpuBusy::default(); topo.gpu_count() as usize];
    for (r, resource) in e.res.iter().enumerate() {
        match layout.lane(r as u32) {
            crate::resources::Lane::Compute(g, _) => {
                gpu_busy[g.0 as usize].compute += resource.busy_time
            }
            crate::resources::Lane::Comm(g, _) => gpu_busy[g.0 as usize].comm += resource.busy_time,
            crate::resources::Lane::Copy(g, _) => gpu_busy[g.0 as usize].copy += resource.busy_time,
            crate::resources::Lane::Storage(_) => {}
        }
    }
    let critical_pred =
        (0..n).map(|i| if e.blocker[i] != NONE { e.blocker[i] } else { e.dep_pred[i] }).collect();
    let mut exec =
        Execution::new(e.start, e.end, makespan, gpu_busy, critical_pred, events, *cfg, layout);
    exec.link_queue_log = e.link_log.unwrap_or_default();
    exec.chain_span = e.chain_span;
    exec.chain_ends = e.chain_ends;
    exec.chain_kernels = e.chain_kernels;
    exec.chain_conflict = e.chain_conflict;
    Ok(exec)
}
