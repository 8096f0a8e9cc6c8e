//! Flow-level network: concurrent transfers share link bandwidth with max-min fairness.
//!
//! Every active flow follows a fixed route and gets a rate such that no link is over capacity
//! and no flow can go faster without slowing a flow that is no faster than it (max-min
//! fairness; Bertsekas and Gallager, "Data Networks", 2nd ed., section 6.5.2). Rates are found
//! by progressive filling: repeatedly take the link with the smallest fair share (remaining
//! capacity / unfixed flows), fix its unfixed flows at that share, and charge them to every
//! link they cross. Shares only grow as flows are fixed, so a lazy min-heap of links is exact.
//!
//! Only the connected component of links and flows touched by a change is recomputed: flows
//! that share no link, directly or through other flows, keep their rates. Each flow's remaining
//! bytes are settled only when its rate changes, and completion times sit in a heap with lazy
//! invalidation, so an event costs time in the size of the affected component, not of the
//! whole network.
//!
//! Completions in a burst are settled together: when flows finish, every flow whose remaining
//! time at the current rates is at most [`DEFAULT_TOLERANCE`] (0.1%) of its time so far finishes
//! with them ([`FlowNetwork::set_tolerance`]; 0 is exact). A large collective's flows end in a
//! burst spread by tiny rate differences (a 512-GPU all-to-all: 445 distinct end times within
//! 0.3 ms), and each distinct end would otherwise recompute the rates of the whole component.
//! The error: such a flow's last bytes (at most 0.1% of its duration's worth) count as
//! delivered when the batch ends, so its completion is early by at most 0.1% of its duration,
//! and the flows that gain its bandwidth gain it that much earlier (on random cases every
//! completion stays within 0.1% of the makespan of its exact time; tested with 0.2%). Rates
//! themselves stay max-min fair and within every link's capacity.
//!
//! The network has no clock of its own: the caller advances it to the current simulated time
//! before adding or removing flows, asks for the next completion time, and collects finished
//! flows when that time comes.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use simcore::SimTime;

use crate::topology::{LinkId, Topology};

/// Handle of an active flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowId(u32);

#[derive(Clone, Debug)]
struct Flow {
    /// Its links: `arena[off..off + len]`.
    off: u32,
    len: u32,
    /// Bytes left at time `since`.
    remaining: f64,
    since: SimTime,
    rate: f64,
    /// When it started.
    start: SimTime,
    /// Bumped whenever the completion time changes; stale heap entries carry old versions.
    version: u32,
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
    /// Every flow's links, one run each (see `Flow::off`); runs of removed flows are garbage
    /// until the arena is compacted.
    arena: Vec<u32>,
    garbage: usize,
    now: SimTime,
    active: usize,
    /// Links whose set of flows changed since the last rate computation.
    dirty_links: Vec<u32>,
    /// (completion time, flow, version), earliest first.
    completions: BinaryHeap<Reverse<(SimTime, u32, u32)>>,
    // Scratch for component discovery and rate computation.
    stamp: u32,
    link_stamp: Vec<u32>,
    flow_stamp: Vec<u32>,
    comp_links: Vec<u32>,
    comp_flows: Vec<u32>,
    cap_left: Vec<f64>,
    unfixed: Vec<u32>,
    /// Relative completion tolerance (see [`FlowNetwork::set_tolerance`]).
    tolerance: f64,
}

/// Default relative completion tolerance ([`FlowNetwork::set_tolerance`]).
pub const DEFAULT_TOLERANCE: f64 = 1e-3;

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
            arena: Vec::new(),
            garbage: 0,
            now: SimTime::ZERO,
            active: 0,
            dirty_links: Vec::new(),
            completions: BinaryHeap::new(),
            stamp: 0,
            link_stamp: vec![0; n],
            flow_stamp: Vec::new(),
            comp_links: Vec::new(),
            comp_flows: Vec::new(),
            cap_left: vec![0.0; n],
            unfixed: vec![0; n],
            tolerance: DEFAULT_TOLERANCE,
        }
    }

    /// Sets the relative completion tolerance: when flows finish, every other flow whose
    /// remaining time at current rates is at most `tolerance` times its time so far finishes
    /// with them, so a burst of nearly simultaneous completions costs one rate update instead
    /// of one each. 0 is exact max-min progressive filling at every completion.
    ///
    /// # Panics
    /// If `tolerance` is negative or not finite.
    pub fn set_tolerance(&mut self, tolerance: f64) {
        assert!(tolerance.is_finite() && tolerance >= 0.0, "flow tolerance must be >= 0");
        self.tolerance = tolerance;
    }

    /// Number of active flows.
    pub fn active(&self) -> usize {
        self.active
    }

    /// Moves the network's clock to `now`. Rates changed by earlier additions or removals are
    /// fixed first, at the time of the change.
    ///
    /// # Panics
    /// If `now` is earlier than the current time.
    pub fn advance(&mut self, now: SimTime) {
        assert!(now >= self.now, "flow network moved back in time");
        if now > self.now {
            self.recompute();
            self.now = now;
        }
    }

    /// Starts a flow of `bytes` over `links` at time `now`; `tag` comes back on completion.
    pub fn add(&mut self, now: SimTime, links: &[LinkId], bytes: f64, tag: u64) -> FlowId {
        self.advance(now);
        let off = self.arena.len() as u32;
        self.arena.extend(links.iter().map(|l| l.0));
        let flow = Flow {
            off,
            len: links.len() as u32,
            remaining: bytes.max(0.0),
            since: now,
            rate: 0.0,
            start: now,
            version: 0,
            tag,
            active: true,
            fixed: false,
        };
        let idx = match self.free.pop() {
            Some(i) => {
                let version = self.flows[i as usize].version.wrapping_add(1);
                self.flows[i as usize] = Flow { version, ..flow };
                i
            }
            None => {
                self.flows.push(flow);
                self.flow_stamp.push(0);
                (self.flows.len() - 1) as u32
            }
        };
        let f = &self.flows[idx as usize];
        if f.len == 0 {
            // Nothing to cross: done at once.
            self.completions.push(Reverse((now, idx, f.version)));
        }
        for &l in &self.arena[f.off as usize..(f.off + f.len) as usize] {
            self.on_link[l as usize].push(idx);
            self.dirty_links.push(l);
        }
        self.active += 1;
        FlowId(idx)
    }

    /// The current rate of a flow in bytes/s.
    pub fn rate(&mut self, id: FlowId) -> f64 {
        self.recompute();
        self.flows[id.0 as usize].rate
    }

    fn is_current(&self, flow: u32, version: u32) -> bool {
        let f = &self.flows[flow as usize];
        f.active && f.version == version
    }

    /// When the next flow finishes at current rates, rounded up to a nanosecond.
    pub fn next_completion(&mut self) -> Option<SimTime> {
        self.recompute();
        while let Some(&Reverse((t, flow, version))) = self.completions.peek() {
            if self.is_current(flow, version) {
                return Some(t);
            }
            self.completions.pop();
        }
        None
    }

    /// Advances to `now`, removes every flow that has finished by then and appends its tag to
    /// `out` (in completion-time, then flow order: deterministic).
    pub fn take_completed(&mut self, now: SimTime, out: &mut Vec<u64>) {
        self.advance(now);
        self.recompute();
        while let Some(&Reverse((t, flow, version))) = self.completions.peek() {
            if !self.is_current(flow, version) {
                self.completions.pop();
                continue;
            }
            if t > now {
                // Nearly done: finishes with this batch (module docs, the tolerance).
                let f = &self.flows[flow as usize];
                let left = (t - now).as_secs_f64();
                if left > self.tolerance * (now - f.start).as_secs_f64() {
                    break;
                }
            }
            self.completions.pop();
            out.push(self.flows[flow as usize].tag);
            self.remove(flow);
        }
    }

    fn remove(&mut self, idx: u32) {
        let (off, len) = (self.flows[idx as usize].off as usize, self.flows[idx as usize].len);
        for &l in &self.arena[off..off + len as usize] {
            let list = &mut self.on_link[l as usize];
            if let Some(pos) = list.iter().position(|&x| x == idx) {
                list.swap_remove(pos);
            }
            self.dirty_links.push(l);
        }
        self.flows[idx as usize].len = 0;
        self.garbage += len as usize;
        let f = &mut self.flows[idx as usize];
        f.active = false;
        f.rate = 0.0;
        f.version = f.version.wrapping_add(1);
        self.free.push(idx);
        self.active -= 1;
        if self.garbage > (1 << 16) && 2 * self.garbage > self.arena.len() {
            self.compact();
        }
    }

    /// Drops removed flows' runs from the arena.
    fn compact(&mut self) {
        let mut arena = Vec::with_capacity(self.arena.len() - self.garbage);
        for f in &mut self.flows {
            if f.active {
                let off = arena.len() as u32;
                arena.extend_from_slice(&self.arena[f.off as usize..(f.off + f.len) as usize]);
                f.off = off;
            }
        }
        self.arena = arena;
        self.garbage = 0;
    }

    /// Recomputes max-min fair rates on the component reachable from the dirty links.
    fn recompute(&mut self) {
        if self.dirty_links.is_empty() {
            return;
        }
        self.stamp = self.stamp.wrapping_add(1);
        let stamp = self.stamp;
        self.comp_links.clear();
        self.comp_flows.clear();
        let mut dirty = std::mem::take(&mut self.dirty_links);
        for &l in &dirty {
            if self.link_stamp[l as usize] != stamp {
                self.link_stamp[l as usize] = stamp;
                self.comp_links.push(l);
            }
        }
        dirty.clear();
        self.dirty_links = dirty;
        // Breadth-first over link -> flows -> links.
        let mut i = 0;
        while i < self.comp_links.len() {
            let l = self.comp_links[i] as usize;
            for &f in &self.on_link[l] {
                if self.flow_stamp[f as usize] != stamp {
                    self.flow_stamp[f as usize] = stamp;
                    self.comp_flows.push(f);
                    let fl = &self.flows[f as usize];
                    for &m in &self.arena[fl.off as usize..(fl.off + fl.len) as usize] {
                        if self.link_stamp[m as usize] != stamp {
                            self.link_stamp[m as usize] = stamp;
                            self.comp_links.push(m);
                        }
                    }
                }
            }
            i += 1;
        }
        // Settle progress at the old rates and unfix.
        let now = self.now;
        for &f in &self.comp_flows {
            let flow = &mut self.flows[f as usize];
            flow.remaining -= flow.rate * (now - flow.since).as_secs_f64();
            flow.since = now;
            flow.fixed = false;
        }
        let old_rates: Vec<f64> =
            self.comp_flows.iter().map(|&f| self.flows[f as usize].rate).collect();
        let mut heap = BinaryHeap::with_capacity(self.comp_links.len());
        for &l in &self.comp_links {
            let n = self.on_link[l as usize].len() as u32;
            self.cap_left[l as usize] = self.capacity[l as usize];
            self.unfixed[l as usize] = n;
            if n > 0 {
                heap.push(Share(self.capacity[l as usize] / f64::from(n), l));
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
                let fl = &self.flows[fi];
                for &m in &self.arena[fl.off as usize..(fl.off + fl.len) as usize] {
                    self.cap_left[m as usize] -= current;
                    self.unfixed[m as usize] -= 1;
                }
            }
        }
        // New completion times for flows whose rate changed.
        for (k, &f) in self.comp_flows.iter().enumerate() {
            let flow = &mut self.flows[f as usize];
            if flow.rate.to_bits() == old_rates[k].to_bits() {
                continue;
            }
            flow.version = flow.version.wrapping_add(1);
            if flow.rate > 0.0 {
                let secs = if flow.remaining <= done_threshold(flow.rate) {
                    0.0
                } else {
                    flow.remaining / flow.rate
                };
                let t = now + SimTime::from_secs_f64_ceil(secs);
                self.completions.push(Reverse((t, f, flow.version)));
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

    #[test]
    fn a_burst_of_nearly_simultaneous_ends_settles_in_one_batch() {
        // Two flows on separate links end 1 us apart after about 1 s: with the default
        // tolerance both finish at the first end; exact, they finish apart.
        for (tol, batches) in [(DEFAULT_TOLERANCE, 1), (0.0, 2)] {
            let mut net = FlowNetwork::with_capacities(vec![1e9, 1e9]);
            net.set_tolerance(tol);
            net.add(SimTime::ZERO, &ids(&[0]), 1e9, 1);
            net.add(SimTime::ZERO, &ids(&[1]), 1e9 + 1e3, 2);
            let mut n = 0;
            let mut done = vec![];
            while let Some(t) = net.next_completion() {
                net.take_completed(t, &mut done);
                n += 1;
            }
            assert_eq!((n, done.len()), (batches, 2), "tolerance {tol}");
        }
    }

    #[test]
    fn the_link_arena_compacts_and_later_flows_see_the_right_links() {
        // 40,000 two-link flows end together: their 80,000 arena entries become garbage and
        // the arena is compacted while flows on other links stay active.
        let mut net = FlowNetwork::with_capacities(vec![4e4, 1.0, 2.0, 1.0]);
        let keep = net.add(SimTime::ZERO, &ids(&[2, 3]), 10.0, 9);
        for i in 0..40_000 {
            net.add(SimTime::ZERO, &ids(&[0, 1]), 1e-5, i);
        }
        let t = net.next_completion().unwrap();
        let mut done = vec![];
        net.take_completed(t, &mut done);
        assert_eq!(done.len(), 40_000);
        assert!(net.arena.len() < 80_000, "compacted: {}", net.arena.len());
        assert_eq!(net.rate(keep), 1.0);
        let late = net.add(t, &ids(&[1, 2]), 1.0, 10);
        assert_eq!((net.rate(keep), net.rate(late)), (1.0, 1.0));
    }

    use proptest::prelude::*;

    /// Runs flows `(start s, links, bytes)` to the end; returns each one's completion (s).
    fn run(caps: &[f64], flows: &[CaseFlow], tol: f64) -> Vec<f64> {
        let mut net = FlowNetwork::with_capacities(caps.to_vec());
        net.set_tolerance(tol);
        let mut order: Vec<usize> = (0..flows.len()).collect();
        order.sort_by(|&a, &b| flows[a].0.total_cmp(&flows[b].0));
        let mut end = vec![f64::NAN; flows.len()];
        let mut next = 0;
        let mut done = vec![];
        loop {
            let add_at = order.get(next).map(|&i| SimTime::from_secs_f64_ceil(flows[i].0));
            let due = net.next_completion();
            match (add_at, due) {
                (Some(a), d) if d.is_none_or(|d| a <= d) => {
                    let i = order[next];
                    net.add(a, &ids(&flows[i].1), flows[i].2, i as u64);
                    next += 1;
                }
                (_, Some(d)) => {
                    done.clear();
                    net.take_completed(d, &mut done);
                    for &tag in &done {
                        end[tag as usize] = d.as_secs_f64();
                    }
                }
                _ => break,
            }
        }
        end
    }

    /// A flow of a test case: start (s), links, bytes.
    type CaseFlow = (f64, Vec<u32>, f64);

    fn cases() -> impl Strategy<Value = (Vec<f64>, Vec<CaseFlow>)> {
        (2usize..6)
            .prop_flat_map(|links| {
                (
                    proptest::collection::vec(1.0f64..10.0, links),
                    proptest::collection::vec(
                        (
                            0.0f64..3.0,
                            proptest::collection::btree_set(0..links as u32, 1..=links),
                            0.5f64..20.0,
                        ),
                        1..25,
                    ),
                )
            })
            .prop_map(|(caps, flows)| {
                (caps, flows.into_iter().map(|(s, l, b)| (s, l.into_iter().collect(), b)).collect())
            })
    }

    proptest! {
        /// The tolerance moves completions by a bounded amount: on random cases every flow
        /// ends within 0.2% of the makespan of its exact end (0.1% was never exceeded in 256
        /// cases; the bound leaves room for flows that inherit early-freed bandwidth).
        #[test]
        fn the_tolerance_error_is_small((caps, flows) in cases()) {
            let exact = run(&caps, &flows, 0.0);
            let approx = run(&caps, &flows, DEFAULT_TOLERANCE);
            let span = exact.iter().copied().fold(0.0, f64::max);
            for (e, a) in exact.iter().zip(&approx) {
                prop_assert!((e - a).abs() <= 0.002 * span + 1e-8, "exact {e} approx {a} span {span}");
            }
        }
    }
}
