//! An LRU model of a GPU's L2 cache over the feature-gather stream: the cache holds
//! `capacity / line` lines of `line` bytes (128-byte lines on A100 and H100: NVIDIA's CUDA C++
//! Best Practices Guide, "Memory Optimizations"), fully associative with least-recently-used
//! replacement (an assumption: the real L2 is set-associative, hashed, and split in two
//! partitions; full associativity gives the upper bound on hits for a given size). Reading a
//! feature row of `row_bytes` bytes starting at `row * row_bytes` touches every line it
//! overlaps; each touch is a hit or a miss.
//!
//! The implementation is an exact LRU: a map from line to its last use, and a queue of uses
//! with lazy deletion, so each access costs amortised O(1).

use std::collections::{HashMap, VecDeque};

/// Hits and misses of a gather stream.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Line accesses found in the cache.
    pub hits: u64,
    /// Line accesses that went to HBM.
    pub misses: u64,
}

impl CacheStats {
    /// Hits over all accesses (0 without accesses).
    pub fn hit_rate(&self) -> f64 {
        let n = self.hits + self.misses;
        if n == 0 { 0.0 } else { self.hits as f64 / n as f64 }
    }
}

/// A fully associative LRU cache of lines.
#[derive(Clone, Debug)]
pub struct L2Cache {
    lines: usize,
    line_bytes: u64,
    last: HashMap<u64, u64>,
    queue: VecDeque<(u64, u64)>,
    clock: u64,
    /// Counts so far.
    pub stats: CacheStats,
}

impl L2Cache {
    /// A cache of `capacity` bytes in lines of `line_bytes` (at least one line).
    pub fn new(capacity: u64, line_bytes: u64) -> L2Cache {
        let line_bytes = line_bytes.max(1);
        let lines = (capacity / line_bytes).max(1) as usize;
        L2Cache {
            lines,
            line_bytes,
            last: HashMap::with_capacity(lines * 2),
            queue: VecDeque::with_capacity(lines * 2),
            clock: 0,
            stats: CacheStats::default(),
        }
    }

    /// Touches one line; true on a hit.
    pub fn touch(&mut self, line: u64) -> bool {
        self.clock += 1;
        let hit = self.last.insert(line, self.clock).is_some();
        self.queue.push_back((line, self.clock));
        if hit {
            self.stats.hits += 1;
        } else {
            self.stats.misses += 1;
            // Evict least recently used lines beyond capacity (skipping stale queue entries).
            while self.last.len() > self.lines {
                let Some((old, at)) = self.queue.pop_front() else { break };
                if self.last.get(&old) == Some(&at) {
                    self.last.remove(&old);
                }
            }
        }
        // Keep the queue from growing without bound on hit-heavy streams.
        if self.queue.len() > 4 * self.lines + 64 {
            let last = &self.last;
            self.queue.retain(|(l, at)| last.get(l) == Some(at));
        }
        hit
    }

    /// Reads row `row` of a table of `row_bytes`-byte rows.
    pub fn read_row(&mut self, row: u64, row_bytes: u64) {
        if row_bytes == 0 {
            return;
        }
        let start = row * row_bytes;
        let end = start + row_bytes - 1;
        for line in start / self.line_bytes..=end / self.line_bytes {
            self.touch(line);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_stream() {
        // Two lines of 128 B. Rows of 128 B: 0 1 0 2 1 0.
        // 0 miss [0]; 1 miss [0 1]; 0 hit [1 0]; 2 miss, evict 1 [0 2]; 1 miss, evict 0 [2 1];
        // 0 miss, evict 2 [1 0]: 1 hit, 5 misses.
        let mut c = L2Cache::new(256, 128);
        for r in [0, 1, 0, 2, 1, 0] {
            c.read_row(r, 128);
        }
        assert_eq!(c.stats, CacheStats { hits: 1, misses: 5 });
        // Rows of 192 B straddle lines: row 0 = lines 0-1, row 1 = lines 1-2.
        let mut c = L2Cache::new(1024, 128);
        c.read_row(0, 192);
        c.read_row(1, 192);
        c.read_row(0, 192);
        // lines: 0 m, 1 m | 1 h, 2 m | 0 h, 1 h.
        assert_eq!(c.stats, CacheStats { hits: 3, misses: 3 });
        assert!((c.stats.hit_rate() - 0.5).abs() < 1e-12);
    }

    #[test]
    fn a_working_set_that_fits_only_misses_once() {
        let mut c = L2Cache::new(64 * 128, 128);
        for _ in 0..10 {
            for r in 0..64 {
                c.read_row(r, 128);
            }
        }
        assert_eq!(c.stats, CacheStats { hits: 576, misses: 64 });
        // One line more than fits, cycled: LRU misses every time.
        let mut c = L2Cache::new(64 * 128, 128);
        for _ in 0..10 {
            for r in 0..65 {
                c.read_row(r, 128);
            }
        }
        assert_eq!(c.stats.hits, 0);
    }
}
