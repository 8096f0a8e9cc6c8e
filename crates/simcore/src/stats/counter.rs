//! A monotone event counter.

use serde::{Deserialize, Serialize};

/// Counts occurrences (events handled, tokens dropped, restarts).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counter {
    value: u64,
}

impl Counter {
    /// A counter at zero.
    pub fn new() -> Self {
        Counter::default()
    }

    /// Adds one.
    #[inline]
    pub fn inc(&mut self) {
        self.value += 1;
    }

    /// Adds `n`.
    #[inline]
    pub fn add(&mut self, n: u64) {
        self.value += n;
    }

    /// The count.
    pub fn value(&self) -> u64 {
        self.value
    }

    /// Adds another counter's count to this one.
    pub fn merge(&mut self, other: &Counter) {
        self.value += other.value;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_merges() {
        let mut a = Counter::new();
        a.inc();
        a.add(4);
        let mut b = Counter::new();
        b.inc();
        a.merge(&b);
        assert_eq!(a.value(), 6);
    }
}
