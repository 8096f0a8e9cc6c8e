//! The classic "hold" benchmark for pending-event sets (Vaucher and Duval, CACM 1975; Jones,
//! CACM 1986): keep N events pending; each handled event schedules one more at
//! now + Exp(mean 1 us). Reported as events per second, beside a bare
//! `std::collections::BinaryHeap` loop doing the same work, the physical reference.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use simcore::{Model, RandomStreams, Scheduler, SimTime, Simulation, StreamRng};

const EVENTS_PER_ITER: u64 = 100_000;

struct Hold {
    rng: StreamRng,
    remaining: u64,
}

#[derive(Clone, Copy)]
struct Tick;

impl Model for Hold {
    type Event = Tick;
    #[inline]
    fn handle(&mut self, _: Tick, s: &mut Scheduler<Tick>) {
        self.remaining -= 1;
        if self.remaining > 0 {
            let dt = (self.rng.exp(1000.0) as u64).max(1);
            s.schedule_in(SimTime::from_nanos(dt), Tick);
        }
    }
}

fn simcore_hold(pending: usize) -> Simulation<Hold> {
    let mut rng = RandomStreams::new(1).stream("hold");
    let mut starts = Vec::with_capacity(pending);
    for _ in 0..pending {
        starts.push(SimTime::from_nanos((rng.exp(1000.0) as u64).max(1)));
    }
    let mut sim = Simulation::new(Hold { rng, remaining: u64::MAX });
    for t in starts {
        sim.schedule_at(t, Tick);
    }
    sim
}

/// The bare reference: a `BinaryHeap` of (time, sequence) keys, nothing else.
fn bare_hold(pending: usize) -> (BinaryHeap<Reverse<(u64, u64)>>, StreamRng, u64) {
    let mut rng = RandomStreams::new(1).stream("hold");
    let mut heap = BinaryHeap::with_capacity(pending);
    let mut seq = 0;
    for _ in 0..pending {
        heap.push(Reverse(((rng.exp(1000.0) as u64).max(1), seq)));
        seq += 1;
    }
    (heap, rng, seq)
}

fn hold(c: &mut Criterion) {
    let mut group = c.benchmark_group("hold");
    group.throughput(Throughput::Elements(EVENTS_PER_ITER));
    for pending in [16usize, 1_000, 100_000] {
        group.bench_with_input(BenchmarkId::new("simcore", pending), &pending, |b, &p| {
            let mut sim = simcore_hold(p);
            b.iter(|| {
                for _ in 0..EVENTS_PER_ITER {
                    sim.step();
                }
            });
        });
        group.bench_with_input(BenchmarkId::new("bare_binary_heap", pending), &pending, |b, &p| {
            let (mut heap, mut rng, mut seq) = bare_hold(p);
            b.iter(|| {
                for _ in 0..EVENTS_PER_ITER {
                    let Reverse((t, _)) = heap.pop().unwrap();
                    let dt = (rng.exp(1000.0) as u64).max(1);
                    heap.push(Reverse((t + dt, seq)));
                    seq += 1;
                }
            });
        });
    }
    group.finish();
}

criterion_group!(benches, hold);
criterion_main!(benches);
