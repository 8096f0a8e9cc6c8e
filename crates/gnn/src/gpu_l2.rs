//! The GPU's L2 as the epoch model sees it: the exact shared LRU of [`crate::l2`], or a
//! realistic one that is split into partitions and flushed by the other kernels' traffic.
//!
//! - **Exact LRU** (`l2: exact-lru`): one fully associative LRU of the whole L2 over the
//!   feature gathers alone — the upper bound on hits at a given size.
//! - **Realistic** (`l2: realistic`, the default):
//!   - *Partitions.* NVIDIA's A100 whitepaper: "The L2 cache is divided into two partitions to
//!     enable higher bandwidth and lower latency memory access. Each L2 partition localizes and
//!     caches data for memory accesses from SMs in the GPCs directly connected to the
//!     partition." How far data reaches an SM is not published (Nsight Compute counts it as
//!     "L2 fabric" traffic). Our assumption: each line has a *home* partition (rows
//!     interleaved over partitions, `row mod P`); an SM reads through its own partition; a
//!     line found only in the far (home) partition is a *far hit* — slower by
//!     `l2_far_hit_cost` near hits — and is copied into the near partition; a miss fills the
//!     home partition and, from a far SM, the near one too. Lines read from both sides are
//!     therefore held twice, so the capacity the gathers see lies between one partition and
//!     the whole L2. Each row read comes from a uniformly chosen partition's SMs (a gather
//!     kernel spreads its thread blocks over all SMs); the choice is a fixed hash of the read's
//!     index, so runs reproduce.
//!   - *Flushes.* Between two batches' gathers the batch's other kernels write their buffers
//!     through L2 — the gathered feature copy, the layers' activations and gradients, the
//!     weights, gradients and AdamW states — and evict feature rows. The epoch model passes the
//!     footprint of those buffers ([`GpuL2::other_traffic`]); each partition receives an equal
//!     share. The buffers are the same addresses every step (PyTorch's caching allocator
//!     reuses them), so the same placeholder lines are touched each time: a footprint that
//!     fits stays resident and only moves to the front.
//!
//! With one partition and no other traffic the realistic model is the exact LRU (a test).

use serde::{Deserialize, Serialize};

use crate::l2::L2Cache;

/// Which L2 model an epoch uses (the workload's `l2`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum L2Model {
    /// One fully associative LRU over the gathers alone.
    ExactLru,
    /// Partitioned, with far hits and duplication, and flushed by the other kernels.
    Realistic,
}

/// The L2 model and the realistic model's settings.
#[derive(Clone, Debug, PartialEq)]
pub struct L2Spec {
    /// Exact or realistic.
    pub model: L2Model,
    /// Partitions of the realistic model (A100 and H100: 2).
    pub partitions: u32,
    /// Time of a far hit in near hits (realistic model).
    pub far_hit_cost: f64,
    /// Scale of the other kernels' footprint that passes through L2 between gathers
    /// (realistic model; 1 = every buffer once, 0 = none).
    pub other_traffic: f64,
}

impl L2Spec {
    /// The exact shared LRU.
    pub fn exact() -> L2Spec {
        L2Spec { model: L2Model::ExactLru, partitions: 1, far_hit_cost: 1.0, other_traffic: 0.0 }
    }
}

/// Line reads of the gathers, by where they were served.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct L2Stats {
    /// Served by the reading SM's own partition.
    pub near_hits: u64,
    /// Served by the other (home) partition.
    pub far_hits: u64,
    /// Served by memory.
    pub misses: u64,
}

impl L2Stats {
    /// Near and far hits.
    pub fn hits(&self) -> u64 {
        self.near_hits + self.far_hits
    }

    /// Hits over all line reads (0 without reads).
    pub fn hit_rate(&self) -> f64 {
        let n = self.hits() + self.misses;
        if n == 0 { 0.0 } else { self.hits() as f64 / n as f64 }
    }

    /// The reads since `before`.
    pub fn since(&self, before: &L2Stats) -> L2Stats {
        L2Stats {
            near_hits: self.near_hits - before.near_hits,
            far_hits: self.far_hits - before.far_hits,
            misses: self.misses - before.misses,
        }
    }

    /// Sum of two counts.
    pub fn plus(&self, o: &L2Stats) -> L2Stats {
        L2Stats {
            near_hits: self.near_hits + o.near_hits,
            far_hits: self.far_hits + o.far_hits,
            misses: self.misses + o.misses,
        }
    }
}

/// Where one unit read was served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Served {
    Near,
    Far,
    Memory,
}

/// The L2 of one GPU over an epoch's feature reads.
#[derive(Clone, Debug)]
pub struct GpuL2 {
    parts: Vec<L2Cache>,
    line_bytes: u64,
    unit_lines: u64,
    /// First placeholder unit of the other kernels' buffers (after every feature unit).
    other_base: u64,
    /// Scale of the other kernels' footprint (0 in the exact model).
    other_scale: f64,
    reads: u64,
    /// Counts so far.
    pub stats: L2Stats,
}

/// SplitMix64's finaliser: a fixed, well-mixed hash.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl GpuL2 {
    /// An L2 of `capacity` bytes in lines of `line_bytes`, read in rows of `row_bytes` from a
    /// table of `table_rows` rows, modelled as `spec` says.
    pub fn new(
        capacity: u64,
        line_bytes: u64,
        row_bytes: u64,
        table_rows: u64,
        spec: &L2Spec,
    ) -> GpuL2 {
        let p = match spec.model {
            L2Model::ExactLru => 1,
            L2Model::Realistic => u64::from(spec.partitions.max(1)),
        };
        let parts: Vec<L2Cache> =
            (0..p).map(|_| L2Cache::new(capacity / p, line_bytes, row_bytes)).collect();
        let unit_lines = parts[0].lines_per_unit();
        let (first, count) = parts[0].row_units(table_rows);
        GpuL2 {
            parts,
            line_bytes: line_bytes.max(1),
            unit_lines,
            other_base: first + count.max(1),
            other_scale: match spec.model {
                L2Model::ExactLru => 0.0,
                L2Model::Realistic => spec.other_traffic.max(0.0),
            },
            reads: 0,
            stats: L2Stats::default(),
        }
    }

    /// Partitions modelled.
    pub fn partitions(&self) -> usize {
        self.parts.len()
    }

    /// Reads `unit` from the SMs of partition `side`: the home partition is `unit mod P`.
    pub(crate) fn access(&mut self, unit: u64, side: usize) -> Served {
        let home = (unit % self.parts.len() as u64) as usize;
        if side == home {
            return if self.parts[home].access(unit) { Served::Near } else { Served::Memory };
        }
        // Through the near partition: a copy there is a near hit; otherwise the line is now
        // copied there, and comes from the home partition (far) or memory (filling home too).
        if self.parts[side].access(unit) {
            return Served::Near;
        }
        let far = self.parts[home].holds(unit);
        self.parts[home].access(unit);
        if far { Served::Far } else { Served::Memory }
    }

    /// Reads feature row `row` from the SMs of one partition (a fixed hash of the read's index).
    pub fn read_row(&mut self, row: u64) {
        let (first, count) = self.parts[0].row_units(row);
        self.reads += 1;
        let side = (mix(self.reads) % self.parts.len() as u64) as usize;
        for unit in first..first + count {
            let lines = self.unit_lines;
            match self.access(unit, side) {
                Served::Near => self.stats.near_hits += lines,
                Served::Far => self.stats.far_hits += lines,
                Served::Memory => self.stats.misses += lines,
            }
        }
    }

    /// The other kernels' buffers, `bytes` in all, pass through L2 (realistic model only,
    /// scaled by `other_traffic`): each partition touches its share of the same placeholder
    /// lines every time.
    pub fn other_traffic(&mut self, bytes: f64) {
        let bytes = bytes * self.other_scale;
        if bytes.is_nan() || bytes <= 0.0 {
            return;
        }
        let p = self.parts.len() as f64;
        let unit_bytes = (self.unit_lines * self.line_bytes) as f64;
        for part in &mut self.parts {
            let units = ((bytes / p / unit_bytes).ceil() as u64).min(part.capacity_units() as u64);
            for j in 0..units {
                part.access(self.other_base + j);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::l2::CacheStats;

    fn realistic(partitions: u32, other_traffic: f64) -> L2Spec {
        L2Spec { model: L2Model::Realistic, partitions, far_hit_cost: 2.0, other_traffic }
    }

    #[test]
    fn two_partitions_by_hand() {
        // Two partitions of two 128-byte rows each; row r's home is r mod 2.
        let mut c = GpuL2::new(512, 128, 128, 8, &realistic(2, 1.0));
        let reads = [
            // (row, side): what happens, partitions after (least recent first)
            (0, 0), // home side, miss: P0 [0]
            (0, 1), // far side: not in P1, found in P0 -> far hit; P1 [0], P0 [0]
            (0, 1), // P1 holds the copy -> near hit
            (2, 0), // miss: P0 [0 2]
            (4, 1), // far side, in neither -> miss; P1 [0 4]; P0 [0 2 4] evicts 0 -> [2 4]
            (0, 0), // home P0 lost it -> miss although P1 holds a copy; P0 [4 0]
            (0, 1), // P1's copy -> near hit
        ];
        let got: Vec<Served> = reads.iter().map(|&(r, s)| c.access(r, s)).collect();
        use Served::*;
        assert_eq!(got, [Memory, Far, Near, Memory, Memory, Memory, Near]);
    }

    #[test]
    fn other_traffic_evicts_the_least_recent_rows_and_reuses_its_lines() {
        // One partition of four 128-byte rows. Rows 0..4, then two rows' worth of other
        // buffers: LRU order [2 3 x0 x1]. Reading 3, 2 hits; 1 and 0 miss (evicting x0, x1).
        let run = |flushes: usize| {
            let mut c = GpuL2::new(512, 128, 128, 16, &realistic(1, 1.0));
            for r in 0..4 {
                c.read_row(r);
            }
            for _ in 0..flushes {
                c.other_traffic(256.0);
            }
            for r in [3, 2, 1, 0] {
                c.read_row(r);
            }
            c.stats
        };
        assert_eq!(run(1), L2Stats { near_hits: 2, far_hits: 0, misses: 6 });
        // The buffers are the same lines each step: passing twice evicts no more.
        assert_eq!(run(2), run(1));
        // More than the cache: everything goes.
        let mut c = GpuL2::new(512, 128, 128, 16, &realistic(1, 1.0));
        (0..4).for_each(|r| c.read_row(r));
        c.other_traffic(1e9);
        (0..4).for_each(|r| c.read_row(r));
        assert_eq!(c.stats.misses, 8);
        // The exact model ignores other traffic.
        let mut c = GpuL2::new(512, 128, 128, 16, &L2Spec::exact());
        (0..4).for_each(|r| c.read_row(r));
        c.other_traffic(1e9);
        (0..4).for_each(|r| c.read_row(r));
        assert_eq!(c.stats.near_hits, 4);
    }

    proptest::proptest! {
        #[test]
        fn one_partition_without_other_traffic_is_the_exact_lru(
            lines in 1u64..40,
            row_lines in 1u64..5,
            straddle in proptest::bool::ANY,
            rows in proptest::collection::vec(0u64..30, 0..300),
        ) {
            let row_bytes = row_lines * 128 + if straddle { 64 } else { 0 };
            let mut exact = L2Cache::new(lines * 128, 128, row_bytes);
            let mut ours = GpuL2::new(lines * 128, 128, row_bytes, 30, &realistic(1, 0.0));
            let mut named = GpuL2::new(lines * 128, 128, row_bytes, 30, &L2Spec::exact());
            for &r in &rows {
                exact.read_row(r);
                ours.read_row(r);
                named.read_row(r);
            }
            let want = exact.stats;
            for s in [ours.stats, named.stats] {
                proptest::prop_assert_eq!(
                    CacheStats { hits: s.hits(), misses: s.misses }, want
                );
                proptest::prop_assert_eq!(s.far_hits, 0);
            }
        }

    }
}
