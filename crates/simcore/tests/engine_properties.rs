//! Invariants of the run loop under random workloads: time never goes backwards, events at one
//! instant come out in insertion order, and equal inputs give identical histories.

use proptest::prelude::*;
use simcore::{EventId, Model, RandomStreams, Scheduler, SimTime, Simulation, StreamRng};

/// Each event records itself and schedules 0-2 children at random delays (often zero, to hit
/// the FIFO path), sometimes cancelling one of its earlier children.
struct Random {
    rng: StreamRng,
    budget: u32,
    history: Vec<(SimTime, u64)>,
    cancellable: Vec<EventId>,
    next_label: u64,
}

impl Model for Random {
    type Event = u64;
    fn handle(&mut self, label: u64, s: &mut Scheduler<u64>) {
        if let Some(&(last, _)) = self.history.last() {
            assert!(s.now() >= last, "time went backwards: {} after {}", s.now(), last);
        }
        self.history.push((s.now(), label));
        for _ in 0..self.rng.below(3) {
            if self.budget == 0 {
                return;
            }
            self.budget -= 1;
            let delay = match self.rng.below(3) {
                0 => SimTime::ZERO,
                1 => SimTime::from_nanos(self.rng.below(5)),
                _ => SimTime::from_nanos(self.rng.below(1_000)),
            };
            self.next_label += 1;
            if self.rng.below(4) == 0 {
                let id = s.schedule_cancellable_in(delay, self.next_label);
                self.cancellable.push(id);
            } else {
                s.schedule_in(delay, self.next_label);
            }
            if self.rng.below(8) == 0
                && let Some(id) = self.cancellable.pop()
            {
                s.cancel(id);
            }
        }
    }
}

fn run(seed: u64, roots: usize, budget: u32) -> Vec<(SimTime, u64)> {
    let rng = RandomStreams::new(seed).stream("events");
    let model = Random { rng, budget, history: vec![], cancellable: vec![], next_label: 1_000_000 };
    let mut sim = Simulation::new(model);
    for i in 0..roots {
        sim.schedule_at(SimTime::from_nanos((i as u64 * 7) % 13), i as u64);
    }
    sim.run();
    sim.into_model().history
}

proptest! {
    #[test]
    fn time_is_monotone_and_runs_are_deterministic(seed in any::<u64>(), roots in 1usize..20, budget in 0u32..2_000) {
        let a = run(seed, roots, budget);
        let b = run(seed, roots, budget);
        prop_assert_eq!(&a, &b);
        prop_assert!(a.windows(2).all(|w| w[0].0 <= w[1].0));
    }

    /// Against a reference: sort (time, insertion index) of all scheduled events.
    #[test]
    fn pop_order_is_time_then_insertion(times in prop::collection::vec(0u64..50, 1..300)) {
        let mut q = simcore::EventQueue::new();
        for (i, &t) in times.iter().enumerate() {
            q.push(SimTime::from_nanos(t), i);
        }
        let mut expected: Vec<(u64, usize)> = times.iter().enumerate().map(|(i, &t)| (t, i)).collect();
        expected.sort();
        let got: Vec<(u64, usize)> = std::iter::from_fn(|| q.pop().map(|s| (s.time.as_nanos(), s.event))).collect();
        prop_assert_eq!(got, expected);
    }
}
