//! The row-access model of an embedding table: which rows exist, how popular each is, and what
//! one training batch touches.
//!
//! The model lives in one file per job, and everything public is re-exported here:
//!
//! - `access/popularity.rs`: used rows by occupancy ([`used_rows`]), the Zipf [`Popularity`]
//!   of the used rows with its rank sums, and the expected [`ReuseHistogram`] of a batch;
//! - `access/special.rs`: the special functions behind them ([`harmonic`] numbers by
//!   Euler–Maclaurin, the Poisson CDF, Temme's incomplete-gamma expansion, `erfc`);
//! - `access/stats_file.rs`: the parser of the production locality stats files
//!   ([`LocalityStats`], [`LocalityBlock`]);
//! - `access/calibration.rs`: the fit of the model to those files ([`calibrate`],
//!   [`Calibration`]) by Nelder–Mead.
//!
//! This file keeps what they share: the reuse buckets ([`BUCKETS`], [`BUCKET_LABELS`],
//! [`bucket_of`]) and the largest exponent [`MAX_ALPHA`].
//!
//! ## Used rows (birthday paradox)
//!
//! A table has `H` rows (its hash size). If `n` distinct raw feature values are hashed
//! uniformly and independently into them, the expected number of rows that receive at least one
//! value is the classical occupancy expectation
//!
//! ```text
//! used(H, n) = H (1 - (1 - 1/H)^n) ≈ H (1 - e^(-n/H))      (63.2% of H at n = H)
//! ```
//!
//! (W. Feller, *An Introduction to Probability Theory and Its Applications*, vol. 1, ch. II.5,
//! occupancy problems), computed as `-H expm1(n ln1p(-1/H))` so that it stays exact for
//! `H` up to 1e12 and tiny `n/H`. Uniform hashing is an assumption (a good hash makes it true).
//! The model of this and the next section is in `access/popularity.rs`.
//!
//! ## Popularity (assumption: Zipf)
//!
//! The `U` used rows are ranked by popularity and rank `i = 1..U` is accessed with probability
//! `p_i = i^-a / H(U, a)`, where `H(m, a) = sum_{i=1}^m i^-a` is the generalized harmonic
//! number. Zipf popularity is an *assumption* of this model; the evidence for it is the fit to
//! Meta's production reuse histograms below. Unused rows are never accessed.
//!
//! - Hot share: the hottest `k` rows receive `H(k, a) / H(U, a)` of all accesses.
//!   `H(m, a)` is an exact sum for `m <= 64`; above, the first 15 terms are summed and the rest
//!   by the Euler–Maclaurin formula (DLMF §2.10) with the integral, the endpoint half-weights
//!   and the Bernoulli terms `B2/2!`, `B4/4!`, `B6/6!` of the derivatives of `x^-a`; the
//!   remainder is below 1e-11 relative, for any `m` up to 1e15 in O(1) time
//!   (`access/special.rs`).
//! - Expected distinct rows of `T` independent accesses, with the Poisson approximation of
//!   the binomial count of each row (Le Cam's theorem): `E[unique] = sum_i (1 - e^(-T p_i))`.
//!   This is also the left side of Che's LRU approximation (see `cache.rs`).
//! - Reuse histogram of one batch of `T` accesses: the count of row `i` is `Poisson(λ_i)` with
//!   `λ_i = T p_i`. With the buckets of the locality stats files (`(0, 1]`, `(1, 2]`, `(2, 4]`,
//!   ..., `(16384, 32768]`, `(32768+`), the expected share of touched rows in bucket `(l, h]`
//!   is `sum_i P(l < N_i <= h) / E[unique]` and the share of accesses is
//!   `sum_i E[N_i; l < N_i <= h] / T = sum_i λ_i P(l <= N_i' <= h - 1) / T` (the size-biased
//!   Poisson is `1 + Poisson`). Poisson CDFs are exact sums for `m < 64` and otherwise
//!   `P(N <= m) = Q(m + 1, λ)` (DLMF §8.4) by Temme's uniform asymptotic expansion with
//!   the terms `c0` and `c1` (N. M. Temme, SIAM J. Math. Anal. 10, 1979; DLMF §8.12), accurate
//!   to about 5e-8 at `m = 64` and better above; `erfc` is its power series below 2.5 and its
//!   Laplace continued fraction above (DLMF §7.6, §7.9), about 1e-12 relative (all in
//!   `access/special.rs`).
//!
//! Sums over ranks take the hottest 512 ranks term by term and integrate the rest in
//! `t = ln x` by 8-point Gauss–Legendre on bins at most `ln sqrt 2` wide, plus bin edges at the
//! ranks where `λ(x)` crosses fixed points graded around each bucket edge (width `sqrt(m)`,
//! the Poisson standard deviation there), and the midpoint-rule Euler–Maclaurin end correction
//! `-(g'(U + 1/2) - g'(K + 1/2))/24`. The cost is O(log U) for any `U` up to 1e12; the tests
//! in `access/popularity.rs` compare with brute-force sums and with sampled batches.
//!
//! ## Production reuse: the locality stats files
//!
//! facebookresearch/dlrm_datasets (MIT) publishes, per batch of Meta's production embedding
//! lookups (all tables of the batch together), the number of lookups, of distinct rows, and
//! two histograms over the 17 power-of-two reuse buckets: the share of distinct rows and the
//! share of lookups whose row was looked up a bucket's number of times. [`LocalityStats`]
//! parses them (blocks named like `fbgemm_t788_bs131072_0.pt`: 788 tables, batch size 131072;
//! `access/stats_file.rs`).
//!
//! [`calibrate`] fits the exponent `a` and the ratio `T/U` of lookups per used row of one
//! *representative table* so that [`Popularity::reuse_histogram`] matches the file's mean
//! histograms (rows and accesses, 34 numbers, least squares). The representative table gets
//! the file's mean lookups per batch divided by the table count in the block names (an
//! assumption; a grid over `T` from 1e4 to 1e9 puts the best fit near this `T` for both
//! files). Measured fits (`report_calibrations` test in `access/calibration.rs`;
//! deterministic):
//!
//! | file | tables | `T` per table | fitted `a` | `T/U` | rms error | mean reuse file / model |
//! | --- | --- | --- | --- | --- | --- | --- |
//! | dlrm_2021 (17 blocks) | 856 | 575,729 | 0.941 | 4.66 | 0.0180 | 7.56 / 6.84 |
//! | dlrm_2022 (16 blocks) | 788 | 1,783,561 | 0.943 | 7.14 | 0.0284 | 12.70 / 9.10 |
//!
//! The rms error is over the 34 shares (the file prints each with 3 decimals). The fit is
//! good for the hottest and coldest buckets but has a systematic shape error: a single Zipf
//! table with independent (Poisson) lookups puts too many rows in the `(1, 2]` and `(2, 4]`
//! buckets (2022: 0.23 and 0.21 against 0.14 and 0.15) and too few in `(8, 16]` to
//! `(32, 64]` (0.06, 0.03, 0.01 against 0.11, 0.07, 0.03), so it underestimates the mean
//! reuse. Fitting the rows or
//! the accesses histogram alone does not remove it (rms 0.011–0.016 per histogram), so the
//! gap is structural: the files mix hundreds of tables of different sizes, and lookups within
//! a batch are burstier than independent draws. Treat the fitted `a` as the best single-table
//! summary of these traces, not as a measured property of any one table.

mod calibration;
mod popularity;
mod special;
mod stats_file;

pub use calibration::{Calibration, calibrate};
pub use popularity::{Popularity, ReuseHistogram, used_rows};
pub use special::harmonic;
pub use stats_file::{LocalityBlock, LocalityStats};

/// Number of reuse buckets in the locality stats files.
pub const BUCKETS: usize = 17;

/// The buckets as the locality stats files print them: `(lo, hi]` counts, the last open.
pub const BUCKET_LABELS: [&str; BUCKETS] = [
    "(0, 1]",
    "(1, 2]",
    "(2, 4]",
    "(4, 8]",
    "(8, 16]",
    "(16, 32]",
    "(32, 64]",
    "(64, 128]",
    "(128, 256]",
    "(256, 512]",
    "(512, 1024]",
    "(1024, 2048]",
    "(2048, 4096]",
    "(4096, 8192]",
    "(8192, 16384]",
    "(16384, 32768]",
    "(32768+",
];

/// Largest exponent kept by [`Popularity`]: beyond it rank 0 has all the mass to double
/// precision (`2^-64 < 1e-19`).
pub const MAX_ALPHA: f64 = 64.0;

/// The bucket of a row looked up `count >= 1` times (`count = 0` also gives bucket 0).
pub fn bucket_of(count: u64) -> usize {
    if count <= 1 { 0 } else { ((64 - (count - 1).leading_zeros()) as usize).min(BUCKETS - 1) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A locality stats file of `data/recsys` (shared by the parser and calibration tests).
    pub(super) fn stats_file(year: u32) -> std::path::PathBuf {
        simcore::data::data_file(format!("recsys/dlrm_{year}_locality_stats.txt")).unwrap()
    }

    /// `a` and `b` agree to `rel` relative (shared by the tests of all the submodules).
    pub(super) fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * a.abs().max(b.abs()).max(1e-300)
    }

    #[test]
    fn bucket_of_follows_the_file_buckets() {
        let cases = [(0, 0), (1, 0), (2, 1), (3, 2), (4, 2), (5, 3), (8, 3), (9, 4)];
        for (count, bucket) in cases {
            assert_eq!(bucket_of(count), bucket, "count {count}");
        }
        assert_eq!(bucket_of(32_768), 15);
        assert_eq!(bucket_of(32_769), 16);
        assert_eq!(bucket_of(u64::MAX), 16);
    }
}
