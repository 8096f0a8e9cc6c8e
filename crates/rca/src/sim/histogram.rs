//! A fixed-bucket latency histogram for per-interval quantiles: no allocation after
//! construction, O(1) recording, and a quantile scan over the buckets touched this interval.
//!
//! Buckets are log-linear on integer nanoseconds: a value v < 64 has its own bucket; above,
//! each power of two [2^e, 2^(e+1)) is split into 32 equal buckets (the top 5 bits after the
//! leading one). A quantile is reported as its bucket's midpoint, so its relative error is
//! at most half a bucket over the bucket's lower bound: 2^(e-5) / 2 / 2^e = 1/64 ≈ 1.6%
//! (exact below 64 ns). Values above 2^40 ns (about 18 minutes) share the last bucket.

/// Largest exponent kept.
const MAX_EXP: u32 = 40;
/// Number of buckets: values below 64, then 32 per power of two from 2^6 to 2^40.
pub const BUCKETS: usize = ((MAX_EXP - 4) as usize) * 32 + 32;

/// Counts per bucket for one interval.
#[derive(Debug, Clone)]
pub struct LatencyHistogram {
    counts: Box<[u32]>,
    count: u64,
    lo: usize,
    hi: usize,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        LatencyHistogram::new()
    }
}

#[inline]
fn bucket(ns: u64) -> usize {
    if ns < 64 {
        return ns as usize;
    }
    let e = 63 - ns.leading_zeros();
    if e > MAX_EXP {
        return BUCKETS - 1;
    }
    ((e - 4) as usize) * 32 + ((ns >> (e - 5)) & 31) as usize
}

/// Midpoint of bucket `i`, in nanoseconds.
fn midpoint(i: usize) -> f64 {
    if i < 64 {
        return i as f64;
    }
    let e = (i / 32 + 4) as u32;
    let m = (i % 32) as u64;
    let width = 1u64 << (e - 5);
    ((32 + m) * width) as f64 + width as f64 / 2.0
}

impl LatencyHistogram {
    /// An empty histogram.
    pub fn new() -> Self {
        LatencyHistogram {
            counts: vec![0; BUCKETS].into_boxed_slice(),
            count: 0,
            lo: BUCKETS,
            hi: 0,
        }
    }

    /// Records one latency in nanoseconds.
    #[inline]
    pub fn record(&mut self, ns: u64) {
        let b = bucket(ns);
        self.counts[b] = self.counts[b].saturating_add(1);
        self.count += 1;
        self.lo = self.lo.min(b);
        self.hi = self.hi.max(b);
    }

    /// Values recorded since the last reset.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The `q`-quantiles (nearest rank) of each of `qs` (ascending), in nanoseconds, into
    /// `out`; `None` when empty.
    pub fn quantiles<const N: usize>(&self, qs: [f64; N]) -> Option<[f64; N]> {
        if self.count == 0 {
            return None;
        }
        let mut out = [0.0; N];
        let mut k = 0;
        let mut seen = 0u64;
        let ranks = qs.map(|q| ((q.clamp(0.0, 1.0) * self.count as f64).ceil() as u64).max(1));
        for i in self.lo..=self.hi {
            seen += u64::from(self.counts[i]);
            while k < N && seen >= ranks[k] {
                out[k] = midpoint(i);
                k += 1;
            }
            if k == N {
                break;
            }
        }
        Some(out)
    }

    /// Empties the histogram (only the buckets touched are cleared).
    pub fn reset(&mut self) {
        if self.count > 0 {
            self.counts[self.lo..=self.hi].fill(0);
        }
        self.count = 0;
        self.lo = BUCKETS;
        self.hi = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotone_and_tight() {
        let mut last = 0;
        for ns in (1..200_000u64).chain((1..2000).map(|k| k * 1_000_003)) {
            let b = bucket(ns);
            assert!(b >= last && b < BUCKETS);
            last = b;
            let m = midpoint(b);
            assert!((m - ns as f64).abs() <= ns as f64 / 64.0 + 0.5, "{ns} -> {m}");
        }
        assert_eq!(bucket(u64::MAX), BUCKETS - 1);
    }

    #[test]
    fn quantiles_within_error() {
        let mut h = LatencyHistogram::new();
        for i in 1..=1000u64 {
            h.record(i * 1_000_000);
        }
        let [p50, p99] = h.quantiles([0.5, 0.99]).unwrap();
        assert!((p50 / 500e6 - 1.0).abs() < 1.0 / 64.0, "{p50}");
        assert!((p99 / 990e6 - 1.0).abs() < 1.0 / 64.0, "{p99}");
        h.reset();
        assert_eq!(h.quantiles([0.5]), None);
        h.record(5);
        assert_eq!(h.quantiles([0.5, 0.99]), Some([5.0, 5.0]));
    }
}
