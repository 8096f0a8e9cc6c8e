//! A log-linear histogram of non-negative values with bounded relative error quantiles.

use serde::{Deserialize, Serialize};

/// Histogram with buckets that are linear inside each power of two ("HDR"-style, after Gil
/// Tene's HdrHistogram): with `b` sub-bucket bits every bucket spans at most a factor
/// `1 + 2^-b` and a quantile is reported within a relative error of `2^-(b+1)`.
///
/// The bucket of a positive value is read straight off its IEEE-754 bits (exponent and the top
/// `b` mantissa bits), which is exact and monotone. Count, sum, min and max are exact.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    sub_bucket_bits: u32,
    /// Bucket key of `counts[0]`.
    first_key: u64,
    counts: Vec<u64>,
    zeros: u64,
    count: u64,
    sum: f64,
    min: f64,
    max: f64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram::new(7)
    }
}

impl Histogram {
    /// An empty histogram with `sub_bucket_bits` bits of mantissa resolution (1..=16).
    /// 7 bits give quantiles within 0.4%.
    ///
    /// # Panics
    /// If `sub_bucket_bits` is outside 1..=16.
    pub fn new(sub_bucket_bits: u32) -> Self {
        assert!((1..=16).contains(&sub_bucket_bits), "sub_bucket_bits must be in 1..=16");
        Histogram {
            sub_bucket_bits,
            first_key: 0,
            counts: Vec::new(),
            zeros: 0,
            count: 0,
            sum: 0.0,
            min: 0.0,
            max: 0.0,
        }
    }

    /// The relative error bound of [`Histogram::quantile`].
    pub fn relative_error(&self) -> f64 {
        0.5f64.powi(self.sub_bucket_bits as i32 + 1)
    }

    fn key(&self, x: f64) -> u64 {
        x.to_bits() >> (52 - self.sub_bucket_bits)
    }

    fn bucket_bounds(&self, key: u64) -> (f64, f64) {
        let shift = 52 - self.sub_bucket_bits;
        (f64::from_bits(key << shift), f64::from_bits((key + 1) << shift))
    }

    /// Records one value.
    ///
    /// # Panics
    /// If `x` is negative, NaN or infinite: these are bugs in the model that produced them.
    pub fn record(&mut self, x: f64) {
        self.record_n(x, 1);
    }

    /// Records `n` copies of one value.
    pub fn record_n(&mut self, x: f64, n: u64) {
        assert!(x.is_finite() && x >= 0.0, "histogram values must be finite and >= 0, got {x}");
        if n == 0 {
            return;
        }
        if self.count == 0 {
            self.min = x;
            self.max = x;
        } else {
            self.min = self.min.min(x);
            self.max = self.max.max(x);
        }
        self.count += n;
        self.sum += x * n as f64;
        if x == 0.0 {
            self.zeros += n;
        } else {
            self.add_to_bucket(self.key(x), n);
        }
    }

    fn add_to_bucket(&mut self, key: u64, n: u64) {
        if self.counts.is_empty() {
            self.first_key = key;
            self.counts.push(0);
        } else if key < self.first_key {
            let grow = (self.first_key - key) as usize;
            self.counts.splice(0..0, std::iter::repeat_n(0, grow));
            self.first_key = key;
        } else if key >= self.first_key + self.counts.len() as u64 {
            self.counts.resize((key - self.first_key + 1) as usize, 0);
        }
        self.counts[(key - self.first_key) as usize] += n;
    }

    /// Number of recorded values.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Mean of the recorded values (0 when empty).
    pub fn mean(&self) -> f64 {
        if self.count == 0 { 0.0 } else { self.sum / self.count as f64 }
    }

    /// Smallest recorded value (0 when empty).
    pub fn min(&self) -> f64 {
        self.min
    }

    /// Largest recorded value (0 when empty).
    pub fn max(&self) -> f64 {
        self.max
    }

    /// The `q`-quantile (0 <= q <= 1) by the nearest-rank definition, within
    /// [`Histogram::relative_error`] of the exact sample quantile; `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        let q = q.clamp(0.0, 1.0);
        let rank = ((q * self.count as f64).ceil() as u64).max(1);
        if rank == 1 {
            return Some(self.min);
        }
        if rank == self.count {
            return Some(self.max);
        }
        let mut seen = self.zeros;
        if seen >= rank {
            return Some(0.0);
        }
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                let (lo, hi) = self.bucket_bounds(self.first_key + i as u64);
                return Some((0.5 * (lo + hi)).clamp(self.min, self.max));
            }
        }
        Some(self.max)
    }

    /// `(upper bound, cumulative fraction)` points of the empirical CDF, one per non-empty
    /// bucket, for plotting.
    pub fn cdf(&self) -> Vec<(f64, f64)> {
        let mut out = Vec::new();
        if self.count == 0 {
            return out;
        }
        let total = self.count as f64;
        let mut seen = self.zeros;
        if self.zeros > 0 {
            out.push((0.0, seen as f64 / total));
        }
        for (i, &c) in self.counts.iter().enumerate() {
            if c > 0 {
                seen += c;
                let (_, hi) = self.bucket_bounds(self.first_key + i as u64);
                out.push((hi.min(self.max), seen as f64 / total));
            }
        }
        out
    }

    /// Adds every value of `other` (which must use the same resolution).
    ///
    /// # Panics
    /// If the resolutions differ.
    pub fn merge(&mut self, other: &Histogram) {
        assert_eq!(self.sub_bucket_bits, other.sub_bucket_bits, "histogram resolutions differ");
        if other.count == 0 {
            return;
        }
        if self.count == 0 {
            self.min = other.min;
            self.max = other.max;
        } else {
            self.min = self.min.min(other.min);
            self.max = self.max.max(other.max);
        }
        self.count += other.count;
        self.sum += other.sum;
        self.zeros += other.zeros;
        for (i, &c) in other.counts.iter().enumerate() {
            if c > 0 {
                self.add_to_bucket(other.first_key + i as u64, c);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn exact_quantile(xs: &mut [f64], q: f64) -> f64 {
        xs.sort_by(f64::total_cmp);
        let rank = ((q * xs.len() as f64).ceil() as usize).max(1);
        xs[rank - 1]
    }

    #[test]
    fn small_exact_cases() {
        let mut h = Histogram::new(7);
        for x in [1.0, 2.0, 3.0, 4.0] {
            h.record(x);
        }
        assert_eq!(h.count(), 4);
        assert_eq!(h.mean(), 2.5);
        assert_eq!(h.quantile(0.0), Some(1.0));
        assert_eq!(h.quantile(1.0), Some(4.0));
        // Values that are powers of two or small integers fall on bucket lower bounds.
        let q50 = h.quantile(0.5).unwrap();
        assert!((q50 - 2.0).abs() <= 2.0 * h.relative_error());
        assert_eq!(Histogram::new(7).quantile(0.5), None);
    }

    #[test]
    fn zeros_are_counted() {
        let mut h = Histogram::new(4);
        h.record_n(0.0, 3);
        h.record(5.0);
        assert_eq!(h.quantile(0.5), Some(0.0));
        assert_eq!(h.quantile(1.0), Some(5.0));
        assert_eq!(h.cdf().first(), Some(&(0.0, 0.75)));
    }

    #[test]
    #[should_panic(expected = "finite and >= 0")]
    fn negative_values_are_rejected() {
        Histogram::new(7).record(-1.0);
    }

    proptest! {
        #[test]
        fn quantiles_within_relative_error(
            xs in prop::collection::vec(1e-9f64..1e6, 1..400),
            q in 0.0f64..=1.0,
            bits in 3u32..10,
        ) {
            let mut h = Histogram::new(bits);
            xs.iter().for_each(|&x| h.record(x));
            let mut sorted = xs.clone();
            let exact = exact_quantile(&mut sorted, q);
            let got = h.quantile(q).unwrap();
            prop_assert!((got - exact).abs() <= exact * 2.0 * h.relative_error() + 1e-300,
                "q={q} got={got} exact={exact}");
        }

        #[test]
        fn merge_equals_recording_everything(
            a in prop::collection::vec(0.0f64..1e3, 0..100),
            b in prop::collection::vec(0.0f64..1e3, 0..100),
        ) {
            let mut ha = Histogram::new(6);
            a.iter().for_each(|&x| ha.record(x));
            let mut hb = Histogram::new(6);
            b.iter().for_each(|&x| hb.record(x));
            let mut all = Histogram::new(6);
            a.iter().chain(b.iter()).for_each(|&x| all.record(x));
            ha.merge(&hb);
            prop_assert_eq!(ha.count(), all.count());
            prop_assert!((ha.mean() - all.mean()).abs() <= 1e-9 * all.mean().abs().max(1.0));
            prop_assert_eq!(ha.min(), all.min());
            prop_assert_eq!(ha.max(), all.max());
            for q in [0.1, 0.5, 0.9, 0.99] {
                prop_assert_eq!(ha.quantile(q), all.quantile(q));
            }
        }
    }
}
