//! An LRU model of a GPU's L2 cache over the feature-gather stream: the cache holds
//! `capacity / line` lines of `line` bytes (128-byte lines on A100 and H100: NVIDIA's CUDA C++
//! Best Practices Guide, "Memory Optimizations"), fully associative with least-recently-used
//! replacement (an assumption: the real L2 is set-associative, hashed, and split in two
//! partitions; full associativity gives the upper bound on hits for a given size). Reading a
//! feature row of `row_bytes` bytes starting at `row * row_bytes` touches every line it
//! overlaps; each touch is a hit or a miss.
//!
//! The implementation is an exact LRU over units: a dense array of each unit's last use and a
//! queue of uses with lazy deletion, so each access costs amortised O(1). When rows are whole
//! lines (`row_bytes` a multiple of the line) a unit is a row: a row's lines are always
//! touched together, so they sit together in the LRU order, and only the least recent row can
//! be partly resident — and touching it then evicts its own remaining lines before reaching
//! them (all misses). Row-level LRU with `floor(lines / lines_per_row)` rows therefore gives
//! exactly the hits and misses of line-level LRU (a property test checks it), at a fraction of
//! the cost. Rows that straddle lines are modelled line by line.

use std::collections::VecDeque;

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

/// A fully associative LRU cache of lines, read row by row.
#[derive(Clone, Debug)]
pub struct L2Cache {
    /// Capacity in units.
    units: usize,
    line_bytes: u64,
    row_bytes: u64,
    /// Lines per unit: a row's lines when rows are whole lines, else 1.
    unit_lines: u64,
    /// Last use of each unit (0: not resident).
    last: Vec<u64>,
    resident: usize,
    queue: VecDeque<(u64, u64)>,
    clock: u64,
    /// Counts so far.
    pub stats: CacheStats,
}

impl L2Cache {
    /// A cache of `capacity` bytes in lines of `line_bytes` (at least one line), read in rows
    /// of `row_bytes` (row `r` starts at byte `r * row_bytes`).
    pub fn new(capacity: u64, line_bytes: u64, row_bytes: u64) -> L2Cache {
        let line_bytes = line_bytes.max(1);
        let lines = (capacity / line_bytes).max(1);
        let unit_lines = if row_bytes > 0 && row_bytes.is_multiple_of(line_bytes) {
            row_bytes / line_bytes
        } else {
            1
        };
        let units = (lines / unit_lines) as usize;
        L2Cache {
            units,
            line_bytes,
            row_bytes,
            unit_lines,
            last: Vec::new(),
            resident: 0,
            queue: VecDeque::with_capacity(units.min(1 << 20) * 2),
            clock: 0,
            stats: CacheStats::default(),
        }
    }

    /// Touches one unit; true on a hit.
    fn touch(&mut self, unit: u64) -> bool {
        self.clock += 1;
        let i = unit as usize;
        if i >= self.last.len() {
            self.last.resize(i + 1, 0);
        }
        let hit = self.last[i] != 0;
        self.last[i] = self.clock;
        if self.units == 0 {
            // Not even one row fits: nothing stays.
            self.last[i] = 0;
            return false;
        }
        self.queue.push_back((unit, self.clock));
        if !hit {
            self.resident += 1;
            // Evict least recently used units beyond capacity (skipping stale queue entries).
            while self.resident > self.units {
                let Some((old, at)) = self.queue.pop_front() else { break };
                if self.last[old as usize] == at {
                    self.last[old as usize] = 0;
                    self.resident -= 1;
                }
            }
        }
        // Keep the queue from growing without bound on hit-heavy streams.
        if self.queue.len() > 4 * self.units + 64 {
            let last = &self.last;
            self.queue.retain(|&(u, at)| last[u as usize] == at);
        }
        hit
    }

    /// Reads row `row`.
    pub fn read_row(&mut self, row: u64) {
        if self.row_bytes == 0 {
            return;
        }
        if self.unit_lines > 1 || self.row_bytes == self.line_bytes {
            let hit = self.touch(row);
            let counter = if hit { &mut self.stats.hits } else { &mut self.stats.misses };
            *counter += self.unit_lines;
            return;
        }
        let start = row * self.row_bytes;
        let end = start + self.row_bytes - 1;
        for line in start / self.line_bytes..=end / self.line_bytes {
            if self.touch(line) {
                self.stats.hits += 1;
            } else {
                self.stats.misses += 1;
            }
        }
    }

    /// Lines per row when rows are whole lines (the row-level path), else 1.
    pub fn lines_per_unit(&self) -> u64 {
        self.unit_lines
    }

    /// Capacity in units (rows on the row-level path, else lines).
    pub fn capacity_units(&self) -> usize {
        self.units
    }

    /// The units row `row` occupies: `(first, count)` — the row itself on the row-level path,
    /// else the lines it overlaps (empty for zero-byte rows).
    pub fn row_units(&self, row: u64) -> (u64, u64) {
        if self.row_bytes == 0 {
            return (0, 0);
        }
        if self.unit_lines > 1 || self.row_bytes == self.line_bytes {
            return (row, 1);
        }
        let start = row * self.row_bytes;
        let end = start + self.row_bytes - 1;
        (start / self.line_bytes, end / self.line_bytes - start / self.line_bytes + 1)
    }

    /// Touches `unit` (a row or a line, as [`L2Cache::row_units`] numbers them) without
    /// counting it; true if it was resident. The caller keeps its own counts.
    pub fn access(&mut self, unit: u64) -> bool {
        self.touch(unit)
    }

    /// Whether `unit` is resident (its recency is not changed).
    pub fn holds(&self, unit: u64) -> bool {
        self.last.get(unit as usize).is_some_and(|&t| t != 0)
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
        let mut c = L2Cache::new(256, 128, 128);
        for r in [0, 1, 0, 2, 1, 0] {
            c.read_row(r);
        }
        assert_eq!(c.stats, CacheStats { hits: 1, misses: 5 });
        // Rows of 192 B straddle lines: row 0 = lines 0-1, row 1 = lines 1-2.
        let mut c = L2Cache::new(1024, 128, 192);
        c.read_row(0);
        c.read_row(1);
        c.read_row(0);
        // lines: 0 m, 1 m | 1 h, 2 m | 0 h, 1 h.
        assert_eq!(c.stats, CacheStats { hits: 3, misses: 3 });
        assert!((c.stats.hit_rate() - 0.5).abs() < 1e-12);
    }

    #[test]
    fn a_working_set_that_fits_only_misses_once() {
        let mut c = L2Cache::new(64 * 128, 128, 128);
        for _ in 0..10 {
            for r in 0..64 {
                c.read_row(r);
            }
        }
        assert_eq!(c.stats, CacheStats { hits: 576, misses: 64 });
        // One line more than fits, cycled: LRU misses every time.
        let mut c = L2Cache::new(64 * 128, 128, 128);
        for _ in 0..10 {
            for r in 0..65 {
                c.read_row(r);
            }
        }
        assert_eq!(c.stats.hits, 0);
    }

    /// Line-level LRU by brute force: the resident lines in recency order.
    fn reference(capacity_lines: usize, line: u64, row_bytes: u64, rows: &[u64]) -> CacheStats {
        let mut stack: Vec<u64> = Vec::new();
        let mut stats = CacheStats::default();
        for &r in rows {
            let (start, end) = (r * row_bytes, r * row_bytes + row_bytes - 1);
            for l in start / line..=end / line {
                if let Some(i) = stack.iter().position(|&x| x == l) {
                    stack.remove(i);
                    stats.hits += 1;
                } else {
                    stats.misses += 1;
                    if stack.len() == capacity_lines {
                        stack.remove(0);
                    }
                }
                stack.push(l);
            }
        }
        stats
    }

    proptest::proptest! {
        #[test]
        fn matches_brute_force_line_lru(
            lines in 1usize..40,
            row_lines in 1u64..5,
            straddle in proptest::bool::ANY,
            rows in proptest::collection::vec(0u64..30, 0..300),
        ) {
            // Whole-line rows take the row-level path; straddling ones the line path.
            let row_bytes = row_lines * 128 + if straddle { 64 } else { 0 };
            let mut c = L2Cache::new(lines as u64 * 128, 128, row_bytes);
            for &r in &rows {
                c.read_row(r);
            }
            proptest::prop_assert_eq!(c.stats, reference(lines, 128, row_bytes, &rows));
        }
    }
}
