//! Flow-level network: concurrent transfers share link bandwidth with max-min fairness.
//!
//! Every active flow follows a fixed route and gets a rate such that no link is over capacity
//! and no flow can go faster without slowing a flow that is no faster than it (max-min
//! fairness; Bertsekas and Gallager, "Data Networks", 2nd ed., section 6.5.2). Rates are found
//! by progressive filling: repeatedly take the link with the smallest fair share (remaining
//! capacity / unfixed flows), fix its unfixed flows at that share, and charge them to every
//! link they cross. Shares only grow as flows are fixed, so a lazy min-heap of links is exact.
//!
//! The network has no clock of its own: the caller advances it to the current simulated time
//! before adding or removing flows, asks for the next completion time, and collects finished
//! flows when that time comes.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use simcore::SimTime;

use crate::topology::{LinkId, Topology};

/// Handle of an active flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowId(u32);

#[derive(Clone, Debug)]
struct Flow {
    links: Vec<u32>,
    remaining: f64,
    rate: f64,
    tag: u64,
    active: bool,
    fixed: bool,
}

/// Link with its current fair share, ordered so `BinaryHeap` pops the smallest share.
#[derive(PartialEq)]
struct Share(f64, u32);
impl Eq for Share {}
impl PartialOrd for Share {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Share {
    fn cmp(&self, other: &Self) -> Ordering {
        other.0.total_cmp(&self.0).then_with(|| other.1.cmp(&self.1))
    }
}

/// Active flows on a set of links with fixed capacities (bytes/s).
#[derive(Clone, Debug)]
pub struct FlowNetwork {
    capacity: Vec<f64>,
    flows: Vec<Flow>,
    free: Vec<u32>,
    /// Active flows per link.
    on_link: Vec<Vec<u32>>,
    /// Links with at least one active flow.
    busy_links: Vec<u32>,
    busy_mark: Vec<bool>,
    last_update: SimTime,
    dirty: bool,
    active: usize,
    // Scratch for rate computation.
    cap_left: Vec<f64>,
    unfixed: Vec<u32>,
}

/// Bytes below which a flow counts as finished (rounding of completion times to whole
/// nanoseconds leaves at most one nanosecond of data).
fn done_threshold(rate: f64) -> f64 {
    rate * 1e-9 + 1e-6
}

impl FlowNetwork {
    /// A network over a topology's links, using each link's payload bandwidth.
    pub fn new(topology: &Topology) -> FlowNetwork {
        FlowNetwork::with_capacities(topology.links().iter().map(|l| l.bandwidth()).collect())
    }

    /// A network over links with the given capacities in bytes/s.
    pub fn with_capacities(capacity: Vec<f64>) -> FlowNetwork {
        let n = capacity.len();
        FlowNetwork {
            capacity,
            flows: Vec::new(),
            free: Vec::new(),
            on_link: vec![Vec::new(); n],
            busy_links: Vec::new(),
            busy_mark: vec![false; n],
            last_update: SimTime::ZERO,
            dirty: false,
            active: 0,
            cap_left: vec![0.0; n],
            unfixed: vec![0; n],
        }
    }

    /// Number of active flows.
    pub fn active(&self) -> usize {
        self.active
    }

    /// Moves every flow forward to `now` at its current rate.
    ///
    /// # Panics
    /// If `now` is earlier than the last update.
    pub fn advance(&mut self, now: SimTime) {
        assert!(now >= self.last_update, "flow network moved back in time");
        if self.dirty {
            // Rates are stale only if flows changed at `last_update`; they have not run yet.
            self.recompute();
        }
        let dt = (now - self.last_update).as_secs_f64();
        if dt > 0.0 {
            for f in self.flows.iter_mut().filter(|f| f.active) {
                f.remaining -= f.rate * dt;
            }
        }
        self.last_update = now;
    }

    /// Starts a flow of `bytes` over `links` at time `now`; `tag` comes back on completion.
    pub fn add(&mut self, now: SimTime, links: &[LinkId], bytes: f64, tag: u64) -> FlowId {
        self.advance(now);
        let flow = Flow {
            links: links.iter().map(|l| l.0).collect(),
            remaining: bytes.max(0.0),
            rate: 0.0,
            tag,
            active: true,
            fixed: false,
        };
        let idx = match self.free.pop() {
            Some(i) => {
                self.flows[i as usize] = flow;
                i
            }
            None => {
                self.flows.push(flow);
                (self.flows.len() - 1) as u32
            }
        };
        for &l in &self.flows[idx as usize].links {
            self.on_link[l as usize].push(idx);
            if !self.busy_mark[l as usize] {
                self.busy_mark[l as usize] = true;
                self.busy_links.push(l);
            }
        }
        self.active += 1;
        self.dirty = true;
        FlowId(idx)
    }

    /// The current rate of a flow in bytes/s (after any pending recomputation).
    pub fn rate(&mut self, id: FlowId) -> f64 {
        if self.dirty {
            self.recompute();
        }
        self.flows[id.0 as usize].rate
    }

    /// When the next flow finishes at current rates, rounded up to a nanosecond.
    pub fn next_completion(&mut self) -> Option<SimTime> {
        if self.dirty {
            self.recompute();
        }
        let mut best: Option<f64> = None;
        for f in self.flows.iter().filter(|f| f.active) {
            let secs = if f.remaining <= done_threshold(f.rate) {
                0.0
            } else if f.rate > 0.0 {
                f.remaining / f.rate
            } else {
                continue; // starved by zero-capacity links: never finishes
            };
            best = Some(best.map_or(secs, |b: f64| b.min(secs)));
        }
        best.map(|s| self.last_update + SimTime::from_secs_f64_ceil(s))
    }

    /// Advances to `now`, removes every finished flow and appends its tag to `out` (in flow
    /// order, so the result is deterministic).
    pub fn take_completed(&mut self, now: SimTime, out: &mut Vec<u64>) {
        self.advance(now);
        for i in 0..self.flows.len() {
            let f = &self.flows[i];
            if f.active && (f.remaining <= done_threshold(f.rate) || f.links.is_empty()) {
                out.push(f.tag);
                self.remove(i as u32);
            }
        }
    }

    fn remove(&mut self, idx: u32) {
        let links = std::mem::take(&mut self.flows[idx as usize].links);
        for &l in &links {
            let list = &mut self.on_link[l as usize];
            if let Some(pos) = list.iter().position(|&x| x == idx) {
                list.swap_remove(pos);
            }
        }
        let f = &mut self.flows[idx as usize];
        f.active = false;
        f.rate = 0.0;
        self.free.push(idx);
        self.active -= 1;
        self.dirty = true;
    }

    /// Max-min fair rates by progressive filling.
    fn recompute(&mut self) {
        self.dirty = false;
        // Drop links that no longer carry flows.
        let (on_link, busy_mark) = (&self.on_link, &mut self.busy_mark);
        self.busy_links.retain(|&l| {
            let keep = !on_link[l as usize].is_empty();
            busy_mark[l as usize] = keep;
            keep
        });
        let mut heap = BinaryHeap::with_capacity(self.busy_links.len());
        for &l in &self.busy_links {
            let n = self.on_link[l as usize].len() as u32;
            self.cap_left[l as usize] = self.capacity[l as usize];
            self.unfixed[l as usize] = n;
            heap.push(Share(self.capacity[l as usize] / f64::from(n), l));
        }
        for f in self.flows.iter_mut().filter(|f| f.active) {
            f.fixed = false;
            if f.links.is_empty() {
                f.rate = f64::INFINITY;
                f.fixed = true;
            }
        }
        while let Some(Share(share, l)) = heap.pop() {
            let li = l as usize;
            let n = self.unfixed[li];
            if n == 0 {
                continue;
            }
            let current = self.cap_left[li].max(0.0) / f64::from(n);
            if current > share {
                heap.push(Share(current, l)); // stale entry: shares only grow
                continue;
            }
            for k in 0..self.on_link[li].len() {
                let fi = self.on_link[li][k] as usize;
                if self.flows[fi].fixed {
                    continue;
                }
                self.flows[fi].fixed = true;
                self.flows[fi].rate = current;
                for &m in &self.flows[fi].links {
                    self.cap_left[m as usize] -= current;
                    self.unfixed[m as usize] -= 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[u32]) -> Vec<LinkId> {
        v.iter().map(|&i| LinkId(i)).collect()
    }

    #[test]
    fn lone_flow_gets_its_bottleneck() {
        let mut net = FlowNetwork::with_capacities(vec![10.0, 4.0]);
        let f = net.add(SimTime::ZERO, &ids(&[0, 1]), 8.0, 7);
        assert_eq!(net.rate(f), 4.0);
        assert_eq!(net.next_completion(), Some(SimTime::from_secs(2)));
        let mut done = vec![];
        net.take_completed(SimTime::from_secs(2), &mut done);
        assert_eq!(done, vec![7]);
        assert_eq!(net.active(), 0);
    }

    #[test]
    fn two_flows_on_one_link_get_half_each() {
        let mut net = FlowNetwork::with_capacities(vec![10.0]);
        let a = net.add(SimTime::ZERO, &ids(&[0]), 10.0, 1);
        let b = net.add(SimTime::ZERO, &ids(&[0]), 20.0, 2);
        assert_eq!((net.rate(a), net.rate(b)), (5.0, 5.0));
        // a finishes at 2 s; then b runs alone at 10 and finishes its last 10 bytes at 3 s.
        let t = net.next_completion().unwrap();
        assert_eq!(t, SimTime::from_secs(2));
        let mut done = vec![];
        net.take_completed(t, &mut done);
        assert_eq!(done, vec![1]);
        assert_eq!(net.rate(b), 10.0);
        assert_eq!(net.next_completion(), Some(SimTime::from_secs(3)));
    }

    #[test]
    fn classic_max_min_example() {
        // Links A (cap 1) and B (cap 2). Flow 0 uses A and B, flow 1 uses A, flow 2 uses B.
        // A is the bottleneck: flows 0 and 1 get 0.5; flow 2 gets the rest of B, 1.5.
        let mut net = FlowNetwork::with_capacities(vec![1.0, 2.0]);
        let f0 = net.add(SimTime::ZERO, &ids(&[0, 1]), 1.0, 0);
        let f1 = net.add(SimTime::ZERO, &ids(&[0]), 1.0, 1);
        let f2 = net.add(SimTime::ZERO, &ids(&[1]), 1.0, 2);
        assert_eq!(net.rate(f0), 0.5);
        assert_eq!(net.rate(f1), 0.5);
        assert_eq!(net.rate(f2), 1.5);
    }

    #[test]
    fn flows_added_later_slow_earlier_ones() {
        let mut net = FlowNetwork::with_capacities(vec![1.0]);
        let a = net.add(SimTime::ZERO, &ids(&[0]), 2.0, 1);
        net.add(SimTime::from_secs(1), &ids(&[0]), 0.5, 2);
        // a has 1 byte left; both at 0.5: the new flow ends at 2 s, a at 3 s.
        assert_eq!(net.rate(a), 0.5);
        assert_eq!(net.next_completion(), Some(SimTime::from_secs(2)));
        let mut done = vec![];
        net.take_completed(SimTime::from_secs(2), &mut done);
        assert_eq!(done, vec![2]);
        assert_eq!(net.next_completion(), Some(SimTime::from_nanos(2_500_000_000)));
    }
}
