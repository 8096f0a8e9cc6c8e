//! The pending-event set: a binary heap ordered by (time, insertion sequence), with a FIFO fast
//! path for events scheduled at the current time and optional cancellation.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashSet, VecDeque};

use crate::time::SimTime;

/// Identifies one scheduled event, for [`EventQueue::cancel`].
///
/// It is the event's insertion sequence number, unique within one queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventId(u64);

/// An event popped from the queue with the time it was scheduled for.
#[derive(Debug, Clone, PartialEq)]
pub struct Scheduled<E> {
    /// When the event happens.
    pub time: SimTime,
    /// Which scheduling call produced it.
    pub id: EventId,
    /// The model's payload.
    pub event: E,
}

struct HeapEntry<E> {
    time: SimTime,
    seq: u64,
    event: E,
}

impl<E> PartialEq for HeapEntry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.time == other.time && self.seq == other.seq
    }
}
impl<E> Eq for HeapEntry<E> {}
impl<E> PartialOrd for HeapEntry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for HeapEntry<E> {
    /// Reversed, so that `BinaryHeap` (a max-heap) pops the earliest (time, seq) first.
    fn cmp(&self, other: &Self) -> Ordering {
        other.time.cmp(&self.time).then_with(|| other.seq.cmp(&self.seq))
    }
}

/// Pending events of one simulation, popped in (time, insertion order).
///
/// Events for the current time go to a FIFO instead of the heap. This is exact: every heap
/// entry due now was inserted before time reached "now", so it precedes every FIFO entry in
/// insertion order, and the pop rule "heap entries due now first, then the FIFO, then the heap"
/// yields precisely (time, sequence) order.
///
/// Cancellation costs nothing unless used: only events scheduled with
/// [`EventQueue::push_cancellable`] can be cancelled, and the lookups happen only while such
/// events exist.
pub struct EventQueue<E> {
    heap: BinaryHeap<HeapEntry<E>>,
    now_fifo: VecDeque<(u64, E)>,
    now: SimTime,
    next_seq: u64,
    cancellable: HashSet<u64>,
    cancelled: HashSet<u64>,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    /// An empty queue at time zero.
    pub fn new() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            now_fifo: VecDeque::new(),
            now: SimTime::ZERO,
            next_seq: 0,
            cancellable: HashSet::new(),
            cancelled: HashSet::new(),
        }
    }

    /// An empty queue with room for `capacity` pending events before it reallocates.
    pub fn with_capacity(capacity: usize) -> Self {
        let mut q = Self::new();
        q.heap.reserve(capacity);
        q
    }

    /// The current time: the time of the last popped event (or of the last [`Self::advance_to`]).
    #[inline]
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Number of pending events, not counting cancelled ones.
    pub fn len(&self) -> usize {
        self.heap.len() + self.now_fifo.len() - self.cancelled.len()
    }

    /// Whether no event is pending.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Schedules `event` at `time`.
    ///
    /// # Panics
    /// If `time` is before [`Self::now`]: scheduling into the past is a bug in the model.
    #[inline]
    pub fn push(&mut self, time: SimTime, event: E) -> EventId {
        assert!(time >= self.now, "event scheduled in the past: {time} < now {}", self.now);
        let seq = self.next_seq;
        self.next_seq += 1;
        if time == self.now {
            self.now_fifo.push_back((seq, event));
        } else {
            self.heap.push(HeapEntry { time, seq, event });
        }
        EventId(seq)
    }

    /// Like [`Self::push`], but the event can later be removed with [`Self::cancel`].
    pub fn push_cancellable(&mut self, time: SimTime, event: E) -> EventId {
        let id = self.push(time, event);
        self.cancellable.insert(id.0);
        id
    }

    /// Cancels a pending event scheduled with [`Self::push_cancellable`].
    ///
    /// Returns `true` if the event was pending and is now cancelled, `false` if it had already
    /// happened, was already cancelled, or was not scheduled as cancellable.
    pub fn cancel(&mut self, id: EventId) -> bool {
        if self.cancellable.remove(&id.0) {
            self.cancelled.insert(id.0);
            true
        } else {
            false
        }
    }

    /// The time of the next pending event, if any.
    pub fn peek_time(&mut self) -> Option<SimTime> {
        self.drop_cancelled_heads();
        if let Some(top) = self.heap.peek()
            && (top.time == self.now || self.now_fifo.is_empty())
        {
            return Some(top.time);
        }
        if self.now_fifo.is_empty() { None } else { Some(self.now) }
    }

    /// Removes and returns the next event, advancing the current time to it.
    #[inline]
    pub fn pop(&mut self) -> Option<Scheduled<E>> {
        loop {
            let (time, seq, event) = self.pop_raw()?;
            if !self.cancellable.is_empty() {
                self.cancellable.remove(&seq);
            }
            if !self.cancelled.is_empty() && self.cancelled.remove(&seq) {
                continue;
            }
            self.now = time;
            return Some(Scheduled { time, id: EventId(seq), event });
        }
    }

    /// Moves the current time forward to `time` without popping anything.
    ///
    /// # Panics
    /// If an event is pending before `time` (it would then be in the past).
    pub fn advance_to(&mut self, time: SimTime) {
        if time <= self.now {
            return;
        }
        if let Some(next) = self.peek_time() {
            assert!(next >= time, "advance_to({time}) would skip an event pending at {next}");
        }
        self.now = time;
    }

    #[inline]
    fn pop_raw(&mut self) -> Option<(SimTime, u64, E)> {
        // Heap entries due now precede every FIFO entry (see the type's docs).
        if let Some(top) = self.heap.peek()
            && (top.time == self.now || self.now_fifo.is_empty())
        {
            let e = self.heap.pop()?;
            return Some((e.time, e.seq, e.event));
        }
        let (seq, event) = self.now_fifo.pop_front()?;
        Some((self.now, seq, event))
    }

    fn drop_cancelled_heads(&mut self) {
        while !self.cancelled.is_empty() {
            let head_seq = match self.heap.peek() {
                Some(top) if top.time == self.now || self.now_fifo.is_empty() => top.seq,
                _ => match self.now_fifo.front() {
                    Some((seq, _)) => *seq,
                    None => return,
                },
            };
            if !self.cancelled.contains(&head_seq) {
                return;
            }
            // The head is cancelled: discard it without moving time.
            let saved_now = self.now;
            let _ = self.pop_raw();
            self.cancelled.remove(&head_seq);
            self.now = saved_now;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ns: u64) -> SimTime {
        SimTime::from_nanos(ns)
    }

    #[test]
    fn pops_in_time_then_insertion_order() {
        let mut q = EventQueue::new();
        q.push(t(5), "a");
        q.push(t(3), "b");
        q.push(t(5), "c");
        q.push(t(3), "d");
        let order: Vec<_> = std::iter::from_fn(|| q.pop().map(|s| s.event)).collect();
        assert_eq!(order, ["b", "d", "a", "c"]);
        assert_eq!(q.now(), t(5));
    }

    #[test]
    fn fifo_fast_path_keeps_insertion_order_with_heap_entries_due_now() {
        let mut q = EventQueue::new();
        q.push(t(5), 1); // seq 0
        q.push(t(5), 2); // seq 1
        assert_eq!(q.pop().unwrap().event, 1); // now = 5
        q.push(t(5), 3); // due now: FIFO, seq 2 comes after the heap's seq 1
        q.push(t(7), 4);
        q.push(t(5), 5);
        let order: Vec<_> = std::iter::from_fn(|| q.pop().map(|s| s.event)).collect();
        assert_eq!(order, [2, 3, 5, 4]);
    }

    #[test]
    fn cancellation_removes_only_pending_cancellable_events() {
        let mut q = EventQueue::new();
        let a = q.push_cancellable(t(1), 'a');
        let b = q.push_cancellable(t(2), 'b');
        let c = q.push(t(3), 'c');
        assert_eq!(q.len(), 3);
        assert!(q.cancel(b));
        assert!(!q.cancel(b), "second cancel is a no-op");
        assert!(!q.cancel(c), "not cancellable");
        assert_eq!(q.len(), 2);
        assert_eq!(q.pop().unwrap().event, 'a');
        assert!(!q.cancel(a), "already happened");
        assert_eq!(q.peek_time(), Some(t(3)));
        assert_eq!(q.pop().unwrap().event, 'c');
        assert!(q.pop().is_none());
        assert!(q.is_empty());
    }

    #[test]
    fn cancelled_head_does_not_move_time() {
        let mut q = EventQueue::new();
        let a = q.push_cancellable(t(10), 'a');
        q.push(t(20), 'b');
        q.cancel(a);
        assert_eq!(q.peek_time(), Some(t(20)));
        assert_eq!(q.now(), SimTime::ZERO);
        q.advance_to(t(15));
        assert_eq!(q.pop().unwrap().time, t(20));
    }

    #[test]
    #[should_panic(expected = "in the past")]
    fn scheduling_in_the_past_panics() {
        let mut q = EventQueue::new();
        q.push(t(10), ());
        q.pop();
        q.push(t(5), ());
    }
}
