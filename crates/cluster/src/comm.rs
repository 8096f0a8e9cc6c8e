//! The communication cost model: latency from a protocol table, bandwidth from the most loaded
//! link.
//!
//! For a plan with phases `P` under protocol `p`:
//!
//! `T_p = base_p + sum over phases of ( sum over link classes c of hops_c * hop_p(c)
//!        + max over links l of load_l / (bandwidth_l * factor_p) )`
//!
//! where `load_l` is the payload of the phase's transfers routed over `l`. Under the `nccl`
//! model `base`, `hop` and `factor` come from NCCL's tuning tables (LL, LL128, Simple) and the
//! fastest protocol wins, as NCCL's tuner chooses; under the `textbook` model there is one
//! protocol with `base = 0`, `factor = 1` and `hop(c)` = the largest physical route latency of
//! the phase's class-`c` transfers plus a per-message overhead: the alpha-beta model.

use simcore::SimTime;

use crate::catalog::{Catalog, ProtocolSpec};
use crate::collective::{Algorithm, CollectiveKind, CollectivePlan, HopCounts, LatencyFamily};
use crate::error::ClusterError;
use crate::routing::Router;
use crate::spec::CommModelSpec;
use crate::topology::{LinkClass, LinkId};

/// Latency model in use.
#[derive(Clone, Debug)]
pub enum CommModel {
    /// NCCL's protocols, named.
    Nccl(Vec<(String, ProtocolSpec)>),
    /// Alpha-beta with physical latencies plus a per-message overhead.
    Textbook {
        /// Added to every hop.
        per_message: SimTime,
    },
}

/// The cost of one planned operation under the chosen protocol.
#[derive(Clone, Debug, PartialEq)]
pub struct CommCost {
    /// Total time.
    pub time: SimTime,
    /// Protocol name (`ll`, `ll128`, `simple` or `textbook`).
    pub protocol: String,
    /// Fraction of link bandwidth that carries payload under that protocol.
    pub bandwidth_factor: f64,
    /// Latency paid before each phase's data moves (the base latency is in phase 0's).
    pub phase_latency: Vec<SimTime>,
    /// Bandwidth term of each phase, seconds, already divided by the protocol factor.
    pub phase_transfer_secs: Vec<f64>,
    /// Seconds each link the operation uses is busy carrying its payload (load over bandwidth,
    /// summed over phases, divided by the protocol factor), by link id: what a congestion-aware
    /// network charges the link's queue.
    pub link_busy_secs: Vec<(LinkId, f64)>,
    /// Seconds the protocol's bus-bandwidth cap added to the last phase's bandwidth term
    /// beyond what the links need (NCCL's LL cap); a flow-level run waits them out after the
    /// flows.
    pub cap_secs: f64,
}

/// Scratch space for per-link loads, reused across evaluations.
#[derive(Clone, Debug, Default)]
pub struct LinkLoads {
    load: Vec<f64>,
    touched: Vec<LinkId>,
    /// Busy seconds per link summed over an evaluation's phases.
    busy: Vec<f64>,
    busy_touched: Vec<LinkId>,
}

/// What one phase costs before a protocol is applied.
struct PhaseCost {
    hops: HopCounts,
    /// Largest physical route latency per class: nvlink, pcie, network.
    route_latency: [SimTime; 3],
    /// max over links of load / bandwidth, seconds, at full bandwidth.
    transfer_secs: f64,
}

/// NCCL's ring channels across nodes for the plateau rule's size threshold (one per NIC on the
/// modelled DGX systems).
const RING_PLATEAU_CHANNELS: f64 = 8.0;

/// NCCL's tree correction for an operation of `bytes` (1 outside the table).
fn tree_correction(table: &[f64], bytes: f64) -> f64 {
    let units = (bytes / 64.0).floor();
    if units < 1.0 {
        return 1.0;
    }
    let k = units.log2().floor() as usize;
    table.get(k).copied().unwrap_or(1.0)
}

/// The share of a communicator's `channels` x threads that NCCL runs a ring or tree operation
/// of `plan.bytes` on under protocol `p` (`enqueue.cc`: while the bytes are fewer than
/// channels x threads x threshold, drop a channel, and at one channel halve the threads while
/// they stay a multiple of 128). 1 when the protocol has no thread figures.
fn channel_share(p: &ProtocolSpec, plan: &CollectivePlan, channels: u32) -> f64 {
    let (Some(max_threads), Some(threshold)) = (p.threads, p.thread_threshold) else {
        return 1.0;
    };
    let threshold = if p.ring_threshold_per_rank && plan.family == LatencyFamily::Ring {
        threshold * plan.ranks as f64
    } else {
        threshold
    };
    let (mut nc, mut nt) = (channels.max(1), max_threads.max(1));
    while plan.bytes < f64::from(nc) * f64::from(nt) * threshold {
        if nc >= 2 {
            nc -= 1;
        } else if nt % 128 == 0 {
            nt /= 2;
        } else {
            break;
        }
    }
    f64::from(nc) * f64::from(nt) / (f64::from(channels.max(1)) * f64::from(max_threads.max(1)))
}

/// Whether every transfer of the plan stays inside one node (no network hop).
fn single_node(plan: &CollectivePlan) -> bool {
    plan.phases.iter().all(|p| p.hops.network == 0)
}

fn class_slot(c: LinkClass) -> usize {
    match c {
        LinkClass::Nvlink => 0,
        LinkClass::Network => 2,
        LinkClass::Pcie | LinkClass::Storage | LinkClass::Memory => 1,
    }
}

impl CommModel {
    /// The model a spec asks for.
    pub fn from_spec(spec: &CommModelSpec, catalog: &Catalog) -> CommModel {
        match spec {
            CommModelSpec::Nccl => CommModel::Nccl(
                catalog.nccl.protocols.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            ),
            CommModelSpec::Textbook { per_message } => {
                CommModel::Textbook { per_message: *per_message }
            }
        }
    }

    fn phase_cost(
        plan_phase: &crate::collective::Phase,
        router: &mut Router<'_>,
        loads: &mut LinkLoads,
    ) -> Result<PhaseCost, ClusterError> {
        let topo = router.topology();
        if loads.load.len() < topo.links().len() {
            loads.load.resize(topo.links().len(), 0.0);
            loads.busy.resize(topo.links().len(), 0.0);
        }
        let mut route_latency = [SimTime::ZERO; 3];
        for t in &plan_phase.transfers {
            let (a, b) = (topo.gpu_vertex(t.src)?, topo.gpu_vertex(t.dst)?);
            let route = router.route(a, b)?;
            let slot = class_slot(route.class);
            route_latency[slot] = route_latency[slot].max(route.latency);
            for &l in &route.links {
                let x = &mut loads.load[l.0 as usize];
                if *x == 0.0 {
                    loads.touched.push(l);
                }
                *x += t.bytes;
            }
        }
        let mut transfer_secs: f64 = 0.0;
        for &l in &loads.touched {
            let x = &mut loads.load[l.0 as usize];
            let secs = *x / topo.link(l).bandwidth();
            transfer_secs = transfer_secs.max(secs);
            *x = 0.0;
            let busy = &mut loads.busy[l.0 as usize];
            if *busy == 0.0 {
                loads.busy_touched.push(l);
            }
            *busy += secs;
        }
        loads.touched.clear();
        Ok(PhaseCost { hops: plan_phase.hops, route_latency, transfer_secs })
    }

    /// Costs a plan: the fastest protocol's total time and its per-phase breakdown.
    pub fn evaluate(
        &self,
        plan: &CollectivePlan,
        router: &mut Router<'_>,
        loads: &mut LinkLoads,
    ) -> Result<CommCost, ClusterError> {
        let phases: Result<Vec<PhaseCost>, ClusterError> =
            plan.phases.iter().map(|p| Self::phase_cost(p, router, loads)).collect();
        // Per-link busy time at full bandwidth, in link order; the scratch is cleared even on
        // an error.
        let mut busy: Vec<(LinkId, f64)> =
            loads.busy_touched.iter().map(|&l| (l, loads.busy[l.0 as usize])).collect();
        for &l in &loads.busy_touched {
            loads.busy[l.0 as usize] = 0.0;
        }
        loads.busy_touched.clear();
        busy.sort_by_key(|&(l, _)| l.0);
        let phases = phases?;
        if phases.is_empty() {
            return Ok(CommCost {
                time: SimTime::ZERO,
                protocol: "none".into(),
                bandwidth_factor: 1.0,
                phase_latency: vec![],
                phase_transfer_secs: vec![],
                link_busy_secs: vec![],
                cap_secs: 0.0,
            });
        }
        let caps = router.topology().capabilities();
        let mut cost = self.choose(plan, &phases, caps.ll_max_bus_bandwidth, caps.nccl_channels)?;
        let factor = cost.bandwidth_factor;
        cost.link_busy_secs = busy.into_iter().map(|(l, s)| (l, s / factor)).collect();
        Ok(cost)
    }

    /// The fastest protocol's cost of costed phases.
    fn choose(
        &self,
        plan: &CollectivePlan,
        phases: &[PhaseCost],
        ll_cap: Option<f64>,
        channels: Option<u32>,
    ) -> Result<CommCost, ClusterError> {
        match self {
            CommModel::Textbook { per_message } => {
                let lat: Vec<SimTime> = phases
                    .iter()
                    .map(|p| {
                        let h = p.hops;
                        let per = |slot: usize| p.route_latency[slot] + *per_message;
                        let ns = u64::from(h.nvlink) * per(0).as_nanos()
                            + u64::from(h.pcie) * per(1).as_nanos()
                            + u64::from(h.network) * per(2).as_nanos();
                        SimTime::from_nanos(ns)
                    })
                    .collect();
                Ok(Self::assemble("textbook", 1.0, SimTime::ZERO, lat, phases, 0.0))
            }
            CommModel::Nccl(protocols) => {
                let mut best: Option<CommCost> = None;
                for (name, p) in protocols {
                    let (base, hop) = match plan.family {
                        LatencyFamily::Ring => (p.base.ring, p.hop.ring),
                        LatencyFamily::Tree => (p.base.tree, p.hop.tree),
                        LatencyFamily::Nvls => match (p.base.nvls, p.hop.nvls) {
                            (Some(b), Some(h)) => (b, h),
                            // The protocol cannot run this algorithm.
                            _ => continue,
                        },
                        LatencyFamily::CollNet => match (p.base.collnet, p.hop.collnet) {
                            (Some(b), Some(h)) => (b, h),
                            _ => continue,
                        },
                    };
                    let one_node = single_node(plan);
                    // NCCL caps LL's bus bandwidth inside a node (llMaxBw): the bandwidth
                    // term is at least the bus bytes over the cap.
                    let mut floor = match ll_cap {
                        Some(c) if p.capped_by_gpu_ll_bandwidth && one_node => plan.bus_bytes / c,
                        _ => 0.0,
                    };
                    let lat: Vec<SimTime> = phases
                        .iter()
                        .map(|ph| {
                            let h = ph.hops;
                            SimTime::from_nanos(
                                u64::from(h.nvlink) * hop.nvlink.as_nanos()
                                    + u64::from(h.pcie) * hop.pcie.as_nanos()
                                    + u64::from(h.network) * hop.network.as_nanos(),
                            )
                        })
                        .collect();
                    // The protocol's share of the link by algorithm, as NCCL's tuner counts
                    // it.
                    let direct = plan.algorithm == Algorithm::Direct;
                    let mut factor = match plan.family {
                        // Sends and all-to-alls are point-to-point operations in NCCL, outside
                        // the collectives' tuning.
                        _ if direct => p.bandwidth_factor_p2p.unwrap_or(p.bandwidth_factor),
                        LatencyFamily::Ring
                            if plan.kind == CollectiveKind::AllReduce || !one_node =>
                        {
                            p.bandwidth_factor_ring_all_reduce.unwrap_or(p.bandwidth_factor)
                        }
                        LatencyFamily::Tree => {
                            let tree = p.bandwidth_factor_tree.unwrap_or(p.bandwidth_factor);
                            if one_node {
                                p.bandwidth_factor_tree_one_node.unwrap_or(tree)
                            } else {
                                tree
                            }
                        }
                        _ => p.bandwidth_factor,
                    };
                    // NCCL's corrections to its own model: trees at medium sizes, and the
                    // ring's latency plateau across nodes.
                    let mut lat = lat;
                    if plan.kind == CollectiveKind::AllReduce {
                        if plan.family == LatencyFamily::Tree {
                            factor *=
                                p.tree_correction.map_or(1.0, |t| tree_correction(&t, plan.bytes));
                        }
                        if plan.family == LatencyFamily::Ring
                            && !single_node(plan)
                            && let Some(f) = p.ring_plateau_latency_factor
                            && plan.bytes / (RING_PLATEAU_CHANNELS * plan.ranks as f64) >= 64.0
                        {
                            for (i, l) in lat.iter_mut().enumerate() {
                                let with_base = if i == 0 { *l + base } else { *l };
                                let scaled =
                                    SimTime::from_secs_f64_ceil(with_base.as_secs_f64() * f);
                                *l = if i == 0 { scaled.saturating_sub(base) } else { scaled };
                            }
                        }
                    }
                    // Small operations run on fewer channels (and threads) than the
                    // communicator has: the bandwidth term (with the corrections above) grows by
                    // what they leave idle.
                    if one_node
                        && !direct
                        && let Some(n) = channels
                        && matches!(plan.family, LatencyFamily::Ring | LatencyFamily::Tree)
                    {
                        let share = channel_share(p, plan, n);
                        if share < 1.0 {
                            let full: f64 =
                                phases.iter().map(|ph| ph.transfer_secs).sum::<f64>() / factor;
                            floor = floor.max(full / share);
                        }
                    }
                    let cost = Self::assemble(name, factor, base, lat, phases, floor);
                    if best.as_ref().is_none_or(|b| cost.time < b.time) {
                        best = Some(cost);
                    }
                }
                best.ok_or_else(|| {
                    ClusterError::Unsupported(format!(
                        "no protocol of the nccl model runs {} (its latency table has no entry for it)",
                        plan.algorithm
                    ))
                })
            }
        }
    }

    /// The cost of `phases` under one protocol; `floor` is the least the bandwidth terms add
    /// up to (the last phase takes up any shortfall).
    fn assemble(
        name: &str,
        factor: f64,
        base: SimTime,
        mut lat: Vec<SimTime>,
        phases: &[PhaseCost],
        floor: f64,
    ) -> CommCost {
        lat[0] += base;
        let mut secs: Vec<f64> = phases.iter().map(|p| p.transfer_secs / factor).collect();
        let sum: f64 = secs.iter().sum();
        let mut cap_secs = 0.0;
        if let Some(last) = secs.last_mut()
            && sum < floor
        {
            cap_secs = floor - sum;
            *last += cap_secs;
        }
        let total = lat.iter().map(|l| l.as_secs_f64()).sum::<f64>() + secs.iter().sum::<f64>();
        CommCost {
            time: SimTime::from_secs_f64_ceil(total),
            protocol: name.to_string(),
            bandwidth_factor: factor,
            phase_latency: lat,
            phase_transfer_secs: secs,
            link_busy_secs: Vec::new(),
            cap_secs,
        }
    }
}
