//! The run loop: a [`Model`] reacts to its own typed events through a [`Scheduler`].

use crate::queue::{EventId, EventQueue};
use crate::time::SimTime;

/// A discrete-event model: state plus a handler for its own event type.
///
/// Events are a plain enum of the model's making (name them as past-tense facts:
/// `TransferCompleted`, `GpuFailed`), stored by value in the queue: no boxing, no downcasts.
pub trait Model {
    /// The events this model schedules and handles.
    type Event;

    /// Reacts to one event at time `sched.now()`, scheduling follow-up events on `sched`.
    fn handle(&mut self, event: Self::Event, sched: &mut Scheduler<Self::Event>);
}

/// The handle a model uses to read the clock and schedule events.
pub struct Scheduler<E> {
    queue: EventQueue<E>,
    stop_requested: bool,
}

impl<E> Scheduler<E> {
    fn new() -> Self {
        Scheduler { queue: EventQueue::new(), stop_requested: false }
    }

    /// The current simulated time.
    #[inline]
    pub fn now(&self) -> SimTime {
        self.queue.now()
    }

    /// Schedules `event` after `delay` (zero means "now, after the events already due now").
    #[inline]
    pub fn schedule_in(&mut self, delay: SimTime, event: E) -> EventId {
        let at = self.queue.now().saturating_add(delay);
        self.queue.push(at, event)
    }

    /// Schedules `event` at absolute time `at`.
    ///
    /// # Panics
    /// If `at` is before now: that is a bug in the model, not a user error.
    #[inline]
    pub fn schedule_at(&mut self, at: SimTime, event: E) -> EventId {
        self.queue.push(at, event)
    }

    /// Schedules a cancellable event after `delay`; see [`Scheduler::cancel`].
    pub fn schedule_cancellable_in(&mut self, delay: SimTime, event: E) -> EventId {
        let at = self.queue.now().saturating_add(delay);
        self.queue.push_cancellable(at, event)
    }

    /// Cancels an event scheduled with [`Scheduler::schedule_cancellable_in`]; returns whether
    /// it was still pending.
    pub fn cancel(&mut self, id: EventId) -> bool {
        self.queue.cancel(id)
    }

    /// Number of pending events.
    pub fn pending(&self) -> usize {
        self.queue.len()
    }

    /// Asks the run loop to return after the current event.
    pub fn stop(&mut self) {
        self.stop_requested = true;
    }
}

/// Why a run loop returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunOutcome {
    /// No events are left.
    Drained,
    /// The time limit of [`Simulation::run_until`] was reached.
    TimeLimit,
    /// The model called [`Scheduler::stop`].
    Stopped,
}

/// A model, its pending events and its clock.
pub struct Simulation<M: Model> {
    model: M,
    sched: Scheduler<M::Event>,
    events_handled: u64,
}

impl<M: Model> Simulation<M> {
    /// A simulation of `model` at time zero with no events.
    pub fn new(model: M) -> Self {
        Simulation { model, sched: Scheduler::new(), events_handled: 0 }
    }

    /// The current simulated time.
    pub fn now(&self) -> SimTime {
        self.sched.now()
    }

    /// The model.
    pub fn model(&self) -> &M {
        &self.model
    }

    /// The model, mutably (between runs).
    pub fn model_mut(&mut self) -> &mut M {
        &mut self.model
    }

    /// The scheduler, to seed initial events.
    pub fn scheduler(&mut self) -> &mut Scheduler<M::Event> {
        &mut self.sched
    }

    /// Schedules `event` at absolute time `at`.
    pub fn schedule_at(&mut self, at: SimTime, event: M::Event) -> EventId {
        self.sched.schedule_at(at, event)
    }

    /// Total events handled so far.
    pub fn events_handled(&self) -> u64 {
        self.events_handled
    }

    /// Handles the next event; returns `false` if there was none.
    #[inline]
    pub fn step(&mut self) -> bool {
        match self.sched.queue.pop() {
            Some(s) => {
                self.model.handle(s.event, &mut self.sched);
                self.events_handled += 1;
                true
            }
            None => false,
        }
    }

    /// Runs until no events are left or the model stops.
    pub fn run(&mut self) -> RunOutcome {
        self.sched.stop_requested = false;
        while let Some(s) = self.sched.queue.pop() {
            self.model.handle(s.event, &mut self.sched);
            self.events_handled += 1;
            if self.sched.stop_requested {
                return RunOutcome::Stopped;
            }
        }
        RunOutcome::Drained
    }

    /// Handles every event due at or before `limit`, then sets the clock to `limit` (if the
    /// model did not stop first). Events after `limit` stay pending for a later run.
    pub fn run_until(&mut self, limit: SimTime) -> RunOutcome {
        self.sched.stop_requested = false;
        loop {
            match self.sched.queue.peek_time() {
                Some(t) if t <= limit => {
                    self.step();
                    if self.sched.stop_requested {
                        return RunOutcome::Stopped;
                    }
                }
                next => {
                    self.sched.queue.advance_to(limit);
                    return if next.is_some() {
                        RunOutcome::TimeLimit
                    } else {
                        RunOutcome::Drained
                    };
                }
            }
        }
    }

    /// Consumes the simulation and returns the model.
    pub fn into_model(self) -> M {
        self.model
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ping-pong between two players, each hit 1 us after the last, 5 rounds.
    struct PingPong {
        log: Vec<(SimTime, u8)>,
    }
    enum Hit {
        By(u8),
    }
    impl Model for PingPong {
        type Event = Hit;
        fn handle(&mut self, event: Hit, sched: &mut Scheduler<Hit>) {
            let Hit::By(p) = event;
            self.log.push((sched.now(), p));
            if self.log.len() < 5 {
                sched.schedule_in(SimTime::from_micros(1), Hit::By(1 - p));
            }
        }
    }

    #[test]
    fn run_drains_in_order() {
        let mut sim = Simulation::new(PingPong { log: vec![] });
        sim.schedule_at(SimTime::ZERO, Hit::By(0));
        assert_eq!(sim.run(), RunOutcome::Drained);
        let log = &sim.model().log;
        assert_eq!(log.len(), 5);
        assert_eq!(log[4], (SimTime::from_micros(4), 0));
        assert_eq!(sim.events_handled(), 5);
    }

    #[test]
    fn run_until_stops_at_limit_and_resumes() {
        let mut sim = Simulation::new(PingPong { log: vec![] });
        sim.schedule_at(SimTime::ZERO, Hit::By(0));
        assert_eq!(sim.run_until(SimTime::from_nanos(2_500)), RunOutcome::TimeLimit);
        assert_eq!(sim.model().log.len(), 3);
        assert_eq!(sim.now(), SimTime::from_nanos(2_500));
        assert_eq!(sim.run(), RunOutcome::Drained);
        assert_eq!(sim.model().log.len(), 5);
    }

    struct Stopper;
    impl Model for Stopper {
        type Event = u32;
        fn handle(&mut self, e: u32, sched: &mut Scheduler<u32>) {
            if e == 2 {
                sched.stop();
            }
        }
    }

    #[test]
    fn stop_returns_early_and_keeps_pending_events() {
        let mut sim = Simulation::new(Stopper);
        for i in 0..5 {
            sim.schedule_at(SimTime::from_nanos(i as u64), i);
        }
        assert_eq!(sim.run(), RunOutcome::Stopped);
        assert_eq!(sim.scheduler().pending(), 2);
        assert_eq!(sim.run(), RunOutcome::Drained);
    }
}
