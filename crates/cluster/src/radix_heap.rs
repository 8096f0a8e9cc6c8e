//! A radix heap: a monotone priority queue of `u64` keys (Ahuja, Mehlhorn, Orlin and Tarjan,
//! "Faster algorithms for the shortest path problem", JACM 1990), for Dijkstra's search over
//! integer latencies, where it pops in amortised `O(log C)` bucket moves instead of a binary
//! heap's `O(log n)` comparisons with their cache misses.
//!
//! Monotone: a pushed key must not be smaller than the last popped one (true of Dijkstra's
//! tentative distances). Items are kept in 65 buckets by the highest bit in which their key
//! differs from the last popped key; popping empties bucket 0 (keys equal to the last) first,
//! else redistributes the first non-empty bucket around its minimum.

/// A monotone min-queue of `(key, value)`.
#[derive(Debug)]
pub(crate) struct RadixHeap {
    last: u64,
    len: usize,
    buckets: [Vec<(u64, u32)>; 65],
}

impl RadixHeap {
    /// An empty queue whose keys start at 0.
    pub fn new() -> Self {
        RadixHeap { last: 0, len: 0, buckets: std::array::from_fn(|_| Vec::new()) }
    }

    fn bucket(&self, key: u64) -> usize {
        (64 - (key ^ self.last).leading_zeros()) as usize
    }

    /// Adds `value` with `key` (`key` no smaller than the last popped key).
    pub fn push(&mut self, key: u64, value: u32) {
        debug_assert!(key >= self.last, "radix heap is monotone: {key} < {}", self.last);
        let b = self.bucket(key);
        self.buckets[b].push((key, value));
        self.len += 1;
    }

    /// Removes an item with the smallest key (ties in no particular order).
    pub fn pop(&mut self) -> Option<(u64, u32)> {
        if self.len == 0 {
            return None;
        }
        if self.buckets[0].is_empty() {
            let i = self.buckets.iter().position(|b| !b.is_empty())?;
            let items = std::mem::take(&mut self.buckets[i]);
            self.last = items.iter().map(|&(k, _)| k).min()?;
            for &(k, v) in &items {
                let b = self.bucket(k);
                self.buckets[b].push((k, v));
            }
            // Keep the emptied bucket's allocation for later.
            let mut items = items;
            items.clear();
            if self.buckets[i].is_empty() {
                self.buckets[i] = items;
            }
        }
        self.len -= 1;
        self.buckets[0].pop()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Interleaved monotone pushes and pops come out as a binary heap's would (by key).
        #[test]
        fn pops_in_key_order(steps in proptest::collection::vec((0u64..1000, any::<bool>()), 1..300)) {
            let mut r = RadixHeap::new();
            let mut reference = std::collections::BinaryHeap::new();
            let mut last = 0u64;
            for (i, (delta, pop)) in steps.into_iter().enumerate() {
                if pop {
                    let got = r.pop().map(|(k, _)| k);
                    let want = reference.pop().map(|std::cmp::Reverse(k)| k);
                    prop_assert_eq!(got, want);
                    if let Some(k) = got {
                        last = k;
                    }
                } else {
                    r.push(last + delta, i as u32);
                    reference.push(std::cmp::Reverse(last + delta));
                }
            }
            while let Some(std::cmp::Reverse(k)) = reference.pop() {
                prop_assert_eq!(r.pop().map(|(k, _)| k), Some(k));
            }
            prop_assert_eq!(r.pop(), None);
        }
    }
}
