//! The ground truth: the metric-level causal DAG implied by the simulator's structure, over
//! the telemetry's metric names, and the root-cause metrics of each injected fault.
//!
//! For every service S (metrics `cpu`, `memory`, `request_rate`, `error_rate`,
//! `latency_p50`, `latency_p99`):
//!
//! - S.request_rate -> S.cpu (each request's CPU work);
//! - S.cpu -> S.latency_p50, S.cpu -> S.latency_p99 (queueing for cores; a CPU hog's
//!   share both raises the CPU metric and slows the work);
//! - S.request_rate -> S.memory and S.latency_p50 -> S.memory, when the service holds
//!   memory per request (requests in flight = rate x time in the service, Little's law);
//! - S.memory -> S.error_rate (an OOM kill fails the requests in flight, and calls during the
//!   restart are refused);
//! - S.latency_p99 -> S.error_rate (an attempt past its timeout counts as an error).
//!
//! For every caller C of a callee S (some endpoint of C calls S):
//!
//! - C.request_rate -> S.request_rate (C's requests fan out to S);
//! - S.latency_p50 -> C.latency_p50, S.latency_p50 -> C.latency_p99, S.latency_p99 ->
//!   C.latency_p99 (C waits for S);
//! - S.error_rate -> C.error_rate (a call that still fails after its retries fails C's
//!   reply) and S.error_rate -> C.latency_p99 (retries lengthen C's tail).
//!
//! Left out, so that the graph stays a DAG: a failed attempt's retry raises S.request_rate
//! (S.error_rate -> S.request_rate would close the loop rate -> cpu -> latency -> error ->
//! rate); an OOM kill's lost CPU work and the restart's effect on latency (memory -> cpu and
//! memory -> latency would close loops through Little's law). Rates flow down the service
//! DAG and latencies and errors up it, so the graph is acyclic whenever the services are
//! (which [`System`] checks).

use crate::error::RcaError;
use crate::fault::{Fault, FaultKind};
use crate::graph::CausalGraph;
use crate::sim::{MetricKind, metric_index, metric_names};
use crate::system::System;

/// The metric-level causal DAG of `system`, over the names of [`metric_names`].
pub fn ground_truth(system: &System) -> Result<CausalGraph, RcaError> {
    use MetricKind::*;
    let mut g = CausalGraph::with_names(metric_names(system));
    let m = metric_index;
    for (s, spec) in system.services().iter().enumerate() {
        g.add_directed(m(s, RequestRate), m(s, Cpu))?;
        g.add_directed(m(s, Cpu), m(s, LatencyP50))?;
        g.add_directed(m(s, Cpu), m(s, LatencyP99))?;
        if spec.memory_per_request > 0.0 {
            g.add_directed(m(s, RequestRate), m(s, Memory))?;
            g.add_directed(m(s, LatencyP50), m(s, Memory))?;
        }
        g.add_directed(m(s, Memory), m(s, ErrorRate))?;
        g.add_directed(m(s, LatencyP99), m(s, ErrorRate))?;
    }
    for (c, s) in system.call_edges() {
        g.add_directed(m(c, RequestRate), m(s, RequestRate))?;
        g.add_directed(m(s, LatencyP50), m(c, LatencyP50))?;
        g.add_directed(m(s, LatencyP50), m(c, LatencyP99))?;
        g.add_directed(m(s, LatencyP99), m(c, LatencyP99))?;
        g.add_directed(m(s, ErrorRate), m(c, ErrorRate))?;
        g.add_directed(m(s, ErrorRate), m(c, LatencyP99))?;
    }
    Ok(g)
}

/// The metrics a fault acts on directly (the intervention's targets), as column indices:
///
/// | fault | root-cause metrics of the faulty service |
/// |---|---|
/// | CPU hog | `cpu` |
/// | memory leak | `memory` |
/// | network delay | `latency_p50`, `latency_p99` |
/// | packet loss | `error_rate`, `latency_p99` (lost messages time out) |
/// | disk hog | `latency_p50`, `latency_p99` |
/// | misconfiguration | `error_rate` |
pub fn root_cause_metrics(fault: &Fault) -> Vec<usize> {
    use MetricKind::*;
    let kinds: &[MetricKind] = match fault.kind {
        FaultKind::CpuHog { .. } => &[Cpu],
        FaultKind::MemoryLeak { .. } => &[Memory],
        FaultKind::NetworkDelay { .. } | FaultKind::DiskHog { .. } => &[LatencyP50, LatencyP99],
        FaultKind::PacketLoss { .. } => &[ErrorRate, LatencyP99],
        FaultKind::Misconfiguration { .. } => &[ErrorRate],
    };
    kinds.iter().map(|&k| metric_index(fault.service, k)).collect()
}

/// The root-cause metric names of a fault.
pub fn root_cause_names(system: &System, fault: &Fault) -> Vec<String> {
    let names = metric_names(system);
    root_cause_metrics(fault).into_iter().map(|i| names[i].clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::system::builtin::{BUILTIN, builtin};

    #[test]
    fn builtin_truths_are_dags() {
        for (name, _) in BUILTIN {
            let sys = builtin(name).unwrap();
            let g = ground_truth(&sys).unwrap();
            assert!(g.is_dag(), "{name}");
            assert_eq!(g.n_nodes(), sys.services().len() * 6);
        }
        let sys = builtin("online-boutique").unwrap();
        let g = ground_truth(&sys).unwrap();
        let i = |n: &str| g.index_of(n).unwrap();
        assert!(g.has_directed(i("cartservice.latency_p99"), i("frontend.latency_p99")));
        assert!(g.has_directed(i("frontend.request_rate"), i("cartservice.request_rate")));
        assert!(g.has_directed(i("redis-cart.error_rate"), i("cartservice.error_rate")));
        assert!(!g.is_adjacent(i("adservice.latency_p99"), i("cartservice.latency_p99")));
    }
}
