//! The row-access model of an embedding table: which rows exist, how popular each is, and what
//! one training batch touches.
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
//!   remainder is below 1e-11 relative, for any `m` up to 1e15 in O(1) time.
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
//!   Laplace continued fraction above (DLMF §7.6, §7.9), about 1e-12 relative.
//!
//! Sums over ranks take the hottest 512 ranks term by term and integrate the rest in
//! `t = ln x` by 8-point Gauss–Legendre on bins at most `ln sqrt 2` wide, plus bin edges at the
//! ranks where `λ(x)` crosses fixed points graded around each bucket edge (width `sqrt(m)`,
//! the Poisson standard deviation there), and the midpoint-rule Euler–Maclaurin end correction
//! `-(g'(U + 1/2) - g'(K + 1/2))/24`. The cost is O(log U) for any `U` up to 1e12; the tests
//! compare with brute-force sums and with sampled batches.
//!
//! ## Production reuse: the locality stats files
//!
//! facebookresearch/dlrm_datasets (MIT) publishes, per batch of Meta's production embedding
//! lookups (all tables of the batch together), the number of lookups, of distinct rows, and
//! two histograms over the 17 power-of-two reuse buckets: the share of distinct rows and the
//! share of lookups whose row was looked up a bucket's number of times. [`LocalityStats`]
//! parses them (blocks named like `fbgemm_t788_bs131072_0.pt`: 788 tables, batch size 131072).
//!
//! [`calibrate`] fits the exponent `a` and the ratio `T/U` of lookups per used row of one
//! *representative table* so that [`Popularity::reuse_histogram`] matches the file's mean
//! histograms (rows and accesses, 34 numbers, least squares). The representative table gets
//! the file's mean lookups per batch divided by the table count in the block names (an
//! assumption; a grid over `T` from 1e4 to 1e9 puts the best fit near this `T` for both
//! files). Measured fits (`report_calibrations` test; deterministic):
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

use simcore::InputError;
use simcore::Zipf;
use std::path::Path;

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

/// Ranks summed term by term before the integral takes over.
const HEAD_RANKS: u64 = 512;

/// Widest integration bin in `t = ln(rank)`.
const T_STEP: f64 = std::f64::consts::LN_2 / 2.0;

/// Below this rate the Poisson bucket shares are summed term by term.
const DIRECT_LAMBDA: f64 = 40.0;

/// Positive nodes and weights of 8-point Gauss–Legendre quadrature on `[-1, 1]` (the roots of
/// the Legendre polynomial `P8` and `2 / ((1 - x^2) P8'(x)^2)`).
const GL_X: [f64; 4] =
    [0.960_289_856_497_536_2, 0.796_666_477_413_626_7, 0.525_532_409_916_329, 0.183_434_642_495_65];
const GL_W: [f64; 4] = [
    0.101_228_536_290_376_26,
    0.222_381_034_453_374_47,
    0.313_706_645_877_887_3,
    0.362_683_783_378_362,
];

/// The bucket of a row looked up `count >= 1` times (`count = 0` also gives bucket 0).
pub fn bucket_of(count: u64) -> usize {
    if count <= 1 { 0 } else { ((64 - (count - 1).leading_zeros()) as usize).min(BUCKETS - 1) }
}

/// Rows used when `distinct_values` distinct values are hashed uniformly into `hash_size` rows:
/// `H(1-(1-1/H)^n)`, computed stably as `-H expm1(n ln1p(-1/H))`. Zero for `H = 0` or
/// `n <= 0` (or NaN); `H` for `n = +inf`.
pub fn used_rows(hash_size: u64, distinct_values: f64) -> f64 {
    if hash_size == 0 || distinct_values.is_nan() || distinct_values <= 0.0 {
        return 0.0;
    }
    let h = hash_size as f64;
    if distinct_values.is_infinite() {
        return h;
    }
    -h * (distinct_values * (-1.0 / h).ln_1p()).exp_m1()
}

/// Generalized harmonic number `H(m, a) = sum_{i=1}^m i^-a` (0 for `m = 0`).
///
/// Exact for `a = 0` and for `m <= 64`; above, the first 15 terms plus the Euler–Maclaurin
/// sum from 16 to `m` (relative error below 1e-11).
pub fn harmonic(m: u64, a: f64) -> f64 {
    const EXACT: u64 = 64;
    const START: u64 = 16;
    if a == 0.0 {
        return m as f64;
    }
    if m <= EXACT {
        return (1..=m).rev().map(|i| pow_neg(i as f64, a)).sum();
    }
    let head: f64 = (1..START).rev().map(|i| pow_neg(i as f64, a)).sum();
    head + euler_maclaurin(START as f64, m as f64, a)
}

/// `x^-a` for `x > 0`.
fn pow_neg(x: f64, a: f64) -> f64 {
    (-a * x.ln()).exp()
}

/// `sum_{i=n}^{m} i^-a` for integers `1 <= n < m`, by Euler–Maclaurin with three Bernoulli
/// terms.
fn euler_maclaurin(n: f64, m: f64, a: f64) -> f64 {
    let l = (m / n).ln();
    let integral = pow_neg(n, a - 1.0) * l * expm1_over_x((1.0 - a) * l);
    let f = |x: f64| pow_neg(x, a);
    // Odd derivatives of x^-a: f' = -a x^-(a+1), f''' = -a(a+1)(a+2) x^-(a+3), f^(5) likewise.
    let d = |x: f64, order: i32| {
        let mut coef = -a;
        for j in 1..order {
            coef *= a + f64::from(j);
        }
        coef * pow_neg(x, a + f64::from(order))
    };
    integral + 0.5 * (f(n) + f(m)) + (d(m, 1) - d(n, 1)) / 12.0 - (d(m, 3) - d(n, 3)) / 720.0
        + (d(m, 5) - d(n, 5)) / 30_240.0
}

/// `(e^z - 1)/z`, 1 at `z = 0`.
fn expm1_over_x(z: f64) -> f64 {
    if z.abs() < 1e-8 { 1.0 + 0.5 * z } else { z.exp_m1() / z }
}

/// A clean exponent: NaN and negatives give 0, large values (and `+inf`) [`MAX_ALPHA`].
fn clean_alpha(alpha: f64) -> f64 {
    if alpha.is_nan() || alpha <= 0.0 { 0.0 } else { alpha.min(MAX_ALPHA) }
}

/// Popularity of a table's rows: Zipf(alpha) over its `used` rows (rank 0 hottest), zero for
/// unused rows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Popularity {
    /// Rows that are ever accessed (at least 1).
    pub used: u64,
    /// Zipf exponent (0 = uniform).
    pub alpha: f64,
}

impl Popularity {
    /// Zipf over `used` rows. `used = 0` is taken as 1; a NaN or negative `alpha` as 0 and one
    /// above [`MAX_ALPHA`] as [`MAX_ALPHA`] (validate user input before).
    pub fn new(used: u64, alpha: f64) -> Popularity {
        Popularity { used: used.max(1), alpha: clean_alpha(alpha) }
    }

    /// The used rows and exponent, cleaned as [`Popularity::new`] does (the fields are public).
    fn parts(&self) -> (u64, f64) {
        (self.used.max(1), clean_alpha(self.alpha))
    }

    /// Share of all accesses that go to the hottest `k` rows (k clamped to `used`):
    /// `H(k, a) / H(U, a)`.
    pub fn hot_share(&self, k: u64) -> f64 {
        let (u, a) = self.parts();
        if k == 0 {
            0.0
        } else if k >= u {
            1.0
        } else {
            (harmonic(k, a) / harmonic(u, a)).min(1.0)
        }
    }

    /// Smallest `k` with `hot_share(k) >= share` (`share` clamped to `[0, 1]`; NaN gives 0).
    pub fn rows_for_share(&self, share: f64) -> u64 {
        if share.is_nan() || share <= 0.0 {
            return 0;
        }
        let share = share.min(1.0);
        let (u, _) = self.parts();
        // Invariant: hot_share(lo) < share <= hot_share(hi).
        let (mut lo, mut hi) = (0u64, u);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if self.hot_share(mid) >= share {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        hi
    }

    /// Expected number of distinct rows touched by `lookups` independent accesses:
    /// `sum_i 1 - exp(-lookups p_i)` (Poisson approximation). 0 for `lookups <= 0`.
    pub fn expected_unique(&self, lookups: f64) -> f64 {
        let (u, a) = self.parts();
        if lookups.is_nan() || lookups <= 0.0 {
            return 0.0;
        }
        if lookups.is_infinite() {
            return u as f64;
        }
        let c = lookups / harmonic(u, a);
        let [s] = self.rank_sum(c, &[], |lam| [-(-lam).exp_m1()]);
        s.clamp(0.0, (u as f64).min(lookups))
    }

    /// Expected reuse histograms of `lookups` accesses in the 17 power-of-two buckets of the
    /// locality stats files: (share of touched rows per bucket, share of accesses per bucket),
    /// each summing to 1. `lookups <= 0` gives everything in bucket 0 (the limit of few
    /// lookups), `+inf` everything in the last bucket.
    pub fn reuse_histogram(&self, lookups: f64) -> ReuseHistogram {
        let (u, a) = self.parts();
        if lookups.is_nan() || lookups <= 0.0 {
            return ReuseHistogram::all_in(0);
        }
        if lookups.is_infinite() {
            return ReuseHistogram::all_in(BUCKETS - 1);
        }
        let c = lookups / harmonic(u, a);
        let s = self.rank_sum(c, &histogram_breaks(), bucket_moments);
        let mut h = ReuseHistogram { rows: [0.0; BUCKETS], accesses: [0.0; BUCKETS] };
        h.rows.copy_from_slice(&s[..BUCKETS]);
        h.accesses.copy_from_slice(&s[BUCKETS..]);
        let (rows, accesses) = (h.rows.iter().sum::<f64>(), h.accesses.iter().sum::<f64>());
        if !(rows > 0.0 && accesses > 0.0) {
            return ReuseHistogram::all_in(0);
        }
        for v in &mut h.rows {
            *v = (*v / rows).max(0.0);
        }
        for v in &mut h.accesses {
            *v = (*v / accesses).max(0.0);
        }
        h
    }

    /// A sampler of row ranks (0 = hottest) using [`simcore::Zipf`].
    pub fn sampler(&self) -> Zipf {
        let (u, a) = self.parts();
        // `parts` guarantees u >= 1 and a finite in [0, MAX_ALPHA], which Zipf accepts.
        Zipf::new(u, a).expect("cleaned Zipf parameters are valid")
    }

    /// `sum_{i=1}^{U} f(c i^-a)` for a smooth vector function `f` of the Poisson rate.
    ///
    /// The hottest [`HEAD_RANKS`] ranks are summed term by term; the rest is the integral over
    /// `x` in `[K + 1/2, U + 1/2]`, taken in `t = ln x` by Gauss–Legendre on bins no wider than
    /// [`T_STEP`], also cut where the rate crosses one of `breaks`, plus the midpoint rule's
    /// Euler–Maclaurin end correction.
    fn rank_sum<const N: usize>(
        &self,
        c: f64,
        breaks: &[f64],
        f: impl Fn(f64) -> [f64; N],
    ) -> [f64; N] {
        let (u, a) = self.parts();
        let rate = |x: f64| c * pow_neg(x, a);
        let head = u.min(HEAD_RANKS);
        let mut acc = [0.0; N];
        for i in (1..=head).rev() {
            add(&mut acc, &f(rate(i as f64)), 1.0);
        }
        if u == head {
            return acc;
        }
        let (t_lo, t_hi) = ((head as f64 + 0.5).ln(), (u as f64 + 0.5).ln());
        let steps = ((t_hi - t_lo) / T_STEP).ceil().max(1.0) as usize;
        let mut cuts: Vec<f64> =
            (0..steps).map(|k| t_lo + (t_hi - t_lo) * k as f64 / steps as f64).collect();
        cuts.push(t_hi);
        if a > 0.0 {
            let lc = c.ln();
            cuts.extend(
                breaks.iter().map(|b| (lc - b.ln()) / a).filter(|t| *t > t_lo && *t < t_hi),
            );
        }
        cuts.sort_by(f64::total_cmp);
        cuts.dedup_by(|x, y| (*x - *y).abs() < 1e-12);
        let mut tail = [0.0; N];
        for w in cuts.windows(2) {
            let (mid, half) = (0.5 * (w[0] + w[1]), 0.5 * (w[1] - w[0]));
            for (x, wt) in GL_X.iter().zip(GL_W) {
                for t in [mid - half * x, mid + half * x] {
                    let xr = t.exp();
                    add(&mut tail, &f(c * (-a * t).exp()), wt * half * xr);
                }
            }
        }
        // Midpoint rule: sum_{i=K+1}^{U} g(i) = integral - (g'(U + 1/2) - g'(K + 1/2)) / 24,
        // with g' by a central difference over one rank.
        let (k, uf) = (head as f64, u as f64);
        let g_at = |x: f64| f(rate(x));
        let (gk0, gk1, gu0, gu1) = (g_at(k), g_at(k + 1.0), g_at(uf), g_at(uf + 1.0));
        for j in 0..N {
            let correction = ((gu1[j] - gu0[j]) - (gk1[j] - gk0[j])) / 24.0;
            acc[j] += tail[j] - correction;
        }
        acc
    }
}

/// `acc += w * v`.
fn add<const N: usize>(acc: &mut [f64; N], v: &[f64; N], w: f64) {
    for (a, b) in acc.iter_mut().zip(v) {
        *a += w * b;
    }
}

/// Poisson rates at which the bucket shares change fast: every `sqrt(λ)/2` up to 64, then
/// points graded by powers of two of the standard deviation around each bucket edge.
fn histogram_breaks() -> Vec<f64> {
    let mut v = Vec::with_capacity(160);
    let mut l: f64 = 1.0;
    while l < 64.0 {
        v.push(l);
        l += (0.5 * l.sqrt()).max(0.5);
    }
    for j in 6..=15 {
        let m = f64::from(1u32 << j);
        let sd = m.sqrt();
        v.push(m);
        let mut d = sd;
        while d < 0.5 * m {
            v.push(m + d);
            d *= 2.0;
        }
        let mut d = sd;
        while d < 0.25 * m {
            v.push(m - d);
            d *= 2.0;
        }
    }
    v.extend([65_536.0, 131_072.0]);
    v
}

/// For a Poisson count `N` with mean `lam`: `P(N in bucket b)` at `b` and
/// `E[N; N in bucket b]` at `BUCKETS + b`.
fn bucket_moments(lam: f64) -> [f64; 2 * BUCKETS] {
    let mut out = [0.0; 2 * BUCKETS];
    if lam.is_nan() || lam <= 0.0 {
        return out;
    }
    if lam < DIRECT_LAMBDA {
        let kmax = (lam + 12.0 * lam.sqrt() + 15.0) as u64;
        let mut p = (-lam).exp();
        for k in 1..=kmax {
            p *= lam / k as f64;
            let b = bucket_of(k);
            out[b] += p;
            out[BUCKETS + b] += k as f64 * p;
        }
        return out;
    }
    // Bucket (l, h]: rows P(N <= h) - P(N <= l); accesses lam (P(N <= h-1) - P(N <= l-1)).
    let f0 = (-lam).exp();
    let mut f_lo = poisson_cdf(1, lam);
    let mut f_lo_1 = f0;
    out[0] = f_lo - f0;
    out[BUCKETS] = lam * f0;
    for b in 1..BUCKETS - 1 {
        let hi = 1u64 << b;
        let (f_hi, f_hi_1) = (poisson_cdf(hi, lam), poisson_cdf(hi - 1, lam));
        out[b] = f_hi - f_lo;
        out[BUCKETS + b] = lam * (f_hi_1 - f_lo_1);
        (f_lo, f_lo_1) = (f_hi, f_hi_1);
    }
    out[BUCKETS - 1] = 1.0 - f_lo;
    out[2 * BUCKETS - 1] = lam * (1.0 - f_lo_1);
    out
}

/// `P(N <= m)` for `N ~ Poisson(lam)`: 0 or 1 beyond 12 standard deviations (+15), an exact
/// sum for `m < 64`, else Temme's expansion of `Q(m + 1, lam)`.
fn poisson_cdf(m: u64, lam: f64) -> f64 {
    let mf = m as f64;
    let reach = 12.0 * lam.sqrt() + 15.0;
    if mf > lam + reach {
        return 1.0;
    }
    if mf < lam - reach {
        return 0.0;
    }
    if m < 64 {
        let mut p = (-lam).exp();
        let mut s = p;
        for k in 1..=m {
            p *= lam / k as f64;
            s += p;
        }
        return s.min(1.0);
    }
    gamma_q_temme(mf + 1.0, lam)
}

/// Regularized upper incomplete gamma `Q(a, x)` for large `a` (here `a >= 65`) by Temme's
/// uniform expansion: `Q = erfc(eta sqrt(a/2))/2 + e^(-a eta^2/2)/sqrt(2 pi a) (c0 + c1/a)`,
/// with `mu = x/a - 1`, `eta = sign(mu) sqrt(2(mu - ln(1 + mu)))`, `c0 = 1/mu - 1/eta`,
/// `c1 = 1/eta^3 - 1/mu^3 - 1/mu^2 - 1/(12 mu)` (DLMF §8.12).
fn gamma_q_temme(a: f64, x: f64) -> f64 {
    let mu = (x - a) / a;
    // s2 = eta^2/mu^2 = 2(mu - ln(1+mu))/mu^2 and t = (s2 - 1)/mu, by series near mu = 0:
    // s2 = sum_{k>=2} 2(-mu)^(k-2)/k.
    let (s2, t) = if mu.abs() < 1e-3 {
        let t = -2.0 / 3.0 + mu * (0.5 + mu * (-0.4 + mu * (1.0 / 3.0 - mu * 2.0 / 7.0)));
        (1.0 + mu * t, t)
    } else {
        let s2 = 2.0 * (mu - mu.ln_1p()) / (mu * mu);
        (s2, (s2 - 1.0) / mu)
    };
    let s = s2.sqrt();
    let eta = mu * s;
    // c0 = (eta - mu)/(mu eta) = (s - 1)/(mu s) = t/(s(s + 1)): no cancellation.
    let c0 = t / (s * (s + 1.0));
    let c1 = if eta.abs() < 0.1 {
        -1.0 / 540.0 - eta / 288.0
    } else {
        1.0 / eta.powi(3) - 1.0 / mu.powi(3) - 1.0 / (mu * mu) - 1.0 / (12.0 * mu)
    };
    let r = (-0.5 * a * eta * eta).exp() / (2.0 * std::f64::consts::PI * a).sqrt() * (c0 + c1 / a);
    (0.5 * erfc(eta * (0.5 * a).sqrt()) + r).clamp(0.0, 1.0)
}

/// The complementary error function: `1 - erf(x)` by the series
/// `erf x = 2/sqrt(pi) e^(-x^2) sum_n 2^n x^(2n+1)/(1·3···(2n+1))` (all terms positive) for
/// `|x| < 2.5`, and the continued fraction `erfc x = e^(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x
/// + (3/2)/(x + ...))))` beyond.
fn erfc(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x < 0.0 {
        return 2.0 - erfc(-x);
    }
    let inv_sqrt_pi = 1.0 / std::f64::consts::PI.sqrt();
    if x < 2.5 {
        let (mut term, mut sum, mut n) = (x, x, 0.0);
        while term > 1e-17 * sum {
            n += 1.0;
            term *= 2.0 * x * x / (2.0 * n + 1.0);
            sum += term;
        }
        return 1.0 - 2.0 * inv_sqrt_pi * (-x * x).exp() * sum;
    }
    let mut v = x;
    for k in (1..=40).rev() {
        v = x + 0.5 * f64::from(k) / v;
    }
    (-x * x).exp() * inv_sqrt_pi / v
}

/// Shares per reuse bucket ([`BUCKET_LABELS`]): of the touched rows and of the accesses.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReuseHistogram {
    /// Share of distinct touched rows whose access count falls in each bucket.
    pub rows: [f64; BUCKETS],
    /// Share of accesses that go to rows of each bucket.
    pub accesses: [f64; BUCKETS],
}

impl ReuseHistogram {
    /// Everything in bucket `b`.
    fn all_in(b: usize) -> ReuseHistogram {
        let mut h = ReuseHistogram { rows: [0.0; BUCKETS], accesses: [0.0; BUCKETS] };
        h.rows[b] = 1.0;
        h.accesses[b] = 1.0;
        h
    }

    /// Root-mean-square difference over the 34 shares.
    pub fn rms_difference(&self, other: &ReuseHistogram) -> f64 {
        let sq: f64 = self
            .rows
            .iter()
            .zip(&other.rows)
            .chain(self.accesses.iter().zip(&other.accesses))
            .map(|(a, b)| (a - b) * (a - b))
            .sum();
        (sq / (2 * BUCKETS) as f64).sqrt()
    }
}

/// One block of a locality stats file.
#[derive(Clone, Debug, PartialEq)]
pub struct LocalityBlock {
    /// The block's name line, e.g. `fbgemm_t788_bs131072_0.pt`.
    pub name: String,
    /// Samples per batch.
    pub batch_size: u64,
    /// Lookups (indices) per batch, all tables together.
    pub lookups: f64,
    /// Distinct rows (over all tables) per batch.
    pub unique_rows: f64,
    /// Mean lookups per distinct row, as printed (1 decimal).
    pub mean_reuse: f64,
    /// The two reuse histograms.
    pub histogram: ReuseHistogram,
}

impl LocalityBlock {
    /// Number of tables from a name like `fbgemm_t788_bs131072_0.pt` (the `t<digits>` part).
    pub fn tables(&self) -> Option<u64> {
        self.name
            .split(['_', '.'])
            .filter_map(|part| part.strip_prefix('t'))
            .find(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|d| d.parse().ok())
            .filter(|t| *t > 0)
    }
}

/// A parsed locality stats file; errors name the file and line ([`InputError::Data`]).
#[derive(Clone, Debug, PartialEq)]
pub struct LocalityStats {
    /// The file, as given.
    pub path: String,
    /// Its blocks, in file order.
    pub blocks: Vec<LocalityBlock>,
}

impl LocalityStats {
    /// Reads and parses a file (line 0 in the error when it cannot be read).
    pub fn read(path: &Path) -> Result<LocalityStats, InputError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| InputError::Data {
            path: shown.clone(),
            line: 0,
            message: format!("cannot read the locality stats file: {e}"),
        })?;
        LocalityStats::parse(&shown, &text)
    }

    /// Parses the text of a locality stats file; `path_for_errors` names it in errors. Blank
    /// lines and lines starting with `#` are skipped.
    pub fn parse(path_for_errors: &str, text: &str) -> Result<LocalityStats, InputError> {
        let mut lines = Lines { path: path_for_errors, lines: text.lines().collect(), next: 0 };
        let mut blocks = Vec::new();
        while lines.skip_blank() {
            blocks.push(parse_block(&mut lines)?);
        }
        if blocks.is_empty() {
            return Err(lines.error(
                lines.lines.len() + 1,
                "no locality blocks: expected a block name line like `fbgemm_t788_bs131072_0.pt`"
                    .to_string(),
            ));
        }
        Ok(LocalityStats { path: path_for_errors.to_string(), blocks })
    }

    /// The mean of the blocks' histograms and figures (name `mean of <n> blocks`).
    pub fn mean(&self) -> LocalityBlock {
        let n = self.blocks.len().max(1) as f64;
        let mut m = LocalityBlock {
            name: format!("mean of {} blocks", self.blocks.len()),
            batch_size: 0,
            lookups: 0.0,
            unique_rows: 0.0,
            mean_reuse: 0.0,
            histogram: ReuseHistogram { rows: [0.0; BUCKETS], accesses: [0.0; BUCKETS] },
        };
        let mut batch = 0.0;
        for b in &self.blocks {
            batch += b.batch_size as f64 / n;
            m.lookups += b.lookups / n;
            m.unique_rows += b.unique_rows / n;
            m.mean_reuse += b.mean_reuse / n;
            for j in 0..BUCKETS {
                m.histogram.rows[j] += b.histogram.rows[j] / n;
                m.histogram.accesses[j] += b.histogram.accesses[j] / n;
            }
        }
        m.batch_size = batch.round() as u64;
        m
    }

    /// Mean lookups per batch of one table: each block's lookups over its table count (from
    /// its name; 1 when the name has none).
    pub fn lookups_per_table(&self) -> f64 {
        let n = self.blocks.len().max(1) as f64;
        self.blocks.iter().map(|b| b.lookups / b.tables().unwrap_or(1) as f64).sum::<f64>() / n
    }
}

/// A cursor over the lines of a file.
struct Lines<'a> {
    path: &'a str,
    lines: Vec<&'a str>,
    next: usize,
}

impl<'a> Lines<'a> {
    /// Skips blank and `#` lines; false at the end of the file.
    fn skip_blank(&mut self) -> bool {
        while let Some(l) = self.lines.get(self.next) {
            let l = l.trim();
            if l.is_empty() || l.starts_with('#') {
                self.next += 1;
            } else {
                return true;
            }
        }
        false
    }

    /// The next non-blank line (1-based number, trimmed text), or an error saying what was
    /// expected at the end of the file.
    fn take(&mut self, what: &str) -> Result<(usize, &'a str), InputError> {
        if !self.skip_blank() {
            return Err(self
                .error(self.lines.len() + 1, format!("unexpected end of file: expected {what}")));
        }
        let i = self.next;
        self.next += 1;
        Ok((i + 1, self.lines[i].trim()))
    }

    fn error(&self, line: usize, message: String) -> InputError {
        InputError::Data { path: self.path.to_string(), line, message }
    }
}

/// One block: name, batch line, three figures, two histograms.
fn parse_block(lines: &mut Lines) -> Result<LocalityBlock, InputError> {
    let (ln, name) = lines.take("a block name line")?;
    if name.contains(':') || name.starts_with(['(', '[']) {
        return Err(lines.error(
            ln,
            format!("expected a block name line like `fbgemm_t788_bs131072_0.pt`, found `{name}`"),
        ));
    }
    let batch_format = "`Locality stats after processing <n> batches of size <b>`";
    let (ln, l) = lines.take(batch_format)?;
    let batch_size = l
        .strip_prefix("Locality stats after processing ")
        .and_then(|rest| rest.split_once(" batches of size "))
        .and_then(|(n, b)| Some((n.trim().parse::<u64>().ok()?, b.trim().parse::<u64>().ok()?)))
        .filter(|(n, b)| *n > 0 && *b > 0)
        .map(|(_, b)| b)
        .ok_or_else(|| lines.error(ln, format!("expected {batch_format}, found `{l}`")))?;
    let lookups = parse_figure(lines, "Avg # of indices:")?;
    let unique_rows = parse_figure(lines, "Avg # of unique cols:")?;
    let (reuse_line, mean_reuse) = parse_figure_at(lines, "Avg col size:")?;
    if unique_rows > 0.0 && (lookups / unique_rows - mean_reuse).abs() > 0.051 + 1e-3 * mean_reuse {
        return Err(lines.error(
            reuse_line,
            format!(
                "mean reuse {mean_reuse} does not match indices / unique cols = {:.3}",
                lookups / unique_rows
            ),
        ));
    }
    let rows = parse_histogram(lines, "Histogram of col sizes:")?;
    let accesses =
        parse_histogram(lines, "Ratio of index distribution at different column sizes:")?;
    Ok(LocalityBlock {
        name: name.to_string(),
        batch_size,
        lookups,
        unique_rows,
        mean_reuse,
        histogram: ReuseHistogram { rows, accesses },
    })
}

/// A `<label> <number>` line with a finite, non-negative number.
fn parse_figure(lines: &mut Lines, label: &str) -> Result<f64, InputError> {
    parse_figure_at(lines, label).map(|(_, v)| v)
}

/// [`parse_figure`], also giving the line number.
fn parse_figure_at(lines: &mut Lines, label: &str) -> Result<(usize, f64), InputError> {
    let (ln, l) = lines.take(&format!("`{label} <number>`"))?;
    let value = l
        .strip_prefix(label)
        .ok_or_else(|| lines.error(ln, format!("expected `{label} <number>`, found `{l}`")))?;
    match value.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok((ln, v)),
        _ => Err(lines.error(
            ln,
            format!("bad number `{}` after `{label}` (expected a number >= 0)", value.trim()),
        )),
    }
}

/// A histogram: its title, 17 `<bucket>: <share>` lines, the bucket-edge list and the
/// cumulative-share list (checked against the shares within 0.01, the files' rounding).
fn parse_histogram(lines: &mut Lines, title: &str) -> Result<[f64; BUCKETS], InputError> {
    let (title_line, l) = lines.take(&format!("`{title}`"))?;
    if l != title {
        return Err(lines.error(title_line, format!("expected `{title}`, found `{l}`")));
    }
    let mut shares = [0.0; BUCKETS];
    for (b, label) in BUCKET_LABELS.iter().enumerate() {
        let (ln, l) = lines.take(&format!("the histogram line `{label}: <share>`"))?;
        let (found, value) = l.rsplit_once(':').unwrap_or((l, ""));
        if found.trim() != *label {
            return Err(lines.error(
                ln,
                format!("expected the histogram line `{label}: <share>`, found `{l}`"),
            ));
        }
        shares[b] = match value.trim().parse::<f64>() {
            Ok(v) if (0.0..=1.0).contains(&v) => v,
            _ => {
                return Err(lines.error(
                    ln,
                    format!("bad share `{}` for bucket {label} (expected 0..1)", value.trim()),
                ));
            }
        };
    }
    let (ln, l) = lines.take("the bucket-edge list `[0, 1, 2, 4, ...]`")?;
    let expected: Vec<f64> =
        std::iter::once(0.0).chain((0..BUCKETS - 1).map(|j| f64::from(1u32 << j))).collect();
    if parse_list(l).as_deref() != Some(expected.as_slice()) {
        return Err(lines.error(
            ln,
            format!("expected the bucket-edge list `[0, 1, 2, 4, ..., 32768]`, found `{l}`"),
        ));
    }
    let (ln, l) = lines.take("the cumulative-share list `['0.000', ...]`")?;
    let cumulative = parse_list(l).filter(|c| c.len() == BUCKETS + 1).ok_or_else(|| {
        lines
            .error(ln, format!("expected a list of {} cumulative shares, found `{l}`", BUCKETS + 1))
    })?;
    let mut running = 0.0;
    for (b, share) in shares.iter().enumerate() {
        running += share;
        if (cumulative[b + 1] - running).abs() > 0.01 {
            return Err(lines.error(
                ln,
                format!(
                    "cumulative share {} at {} does not match the bucket lines ({running:.3})",
                    cumulative[b + 1],
                    BUCKET_LABELS[b]
                ),
            ));
        }
    }
    if (running - 1.0).abs() > 0.02 {
        return Err(
            lines.error(title_line, format!("the shares of `{title}` sum to {running:.3}, not 1"))
        );
    }
    Ok(shares)
}

/// `[1, 2]` or `['0.1', '0.2']` as numbers; None if any item is not a number.
fn parse_list(l: &str) -> Option<Vec<f64>> {
    let inner = l.strip_prefix('[')?.strip_suffix(']')?;
    inner
        .split(',')
        .map(|item| {
            item.trim().trim_matches(['\'', '"']).parse::<f64>().ok().filter(|v| v.is_finite())
        })
        .collect()
}

/// A Zipf exponent fitted to a locality stats file.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Calibration {
    /// Fitted Zipf exponent.
    pub alpha: f64,
    /// Fitted lookups per batch over used rows of the representative table.
    pub lookups_per_used_row: f64,
    /// Root-mean-square difference of the 34 histogram shares at the fit.
    pub rms_error: f64,
    /// Lookups per batch of the representative table the fit assumed
    /// ([`LocalityStats::lookups_per_table`]).
    pub lookups: f64,
}

impl Calibration {
    /// The fitted popularity for a table with `lookups` per batch (used rows
    /// `lookups / lookups_per_used_row`).
    pub fn popularity_for(&self, lookups: f64) -> Popularity {
        let used = (lookups / self.lookups_per_used_row).round();
        let used = if used.is_finite() && used >= 1.0 { used.min(1e15) as u64 } else { 1 };
        Popularity::new(used, self.alpha)
    }
}

/// Fits alpha (and the ratio lookups / used rows of a representative table) so that the
/// expected reuse histograms (both rows and accesses) of [`Popularity::reuse_histogram`] best
/// match the file's mean histograms: least squares over the 34 shares, a grid over
/// `alpha in [0.1, 2.1]` and `lookups/used in [0.1, 1e4]`, then Nelder–Mead (Nelder and Mead,
/// Computer Journal 7(4), 1965) from the best grid point. Deterministic.
pub fn calibrate(stats: &LocalityStats) -> Calibration {
    let target = stats.mean().histogram;
    let lookups = stats.lookups_per_table().max(1.0);
    // Parameters: (alpha, ln(lookups per used row)), kept in a box.
    let max_ln_ratio = lookups.ln();
    let clamp = |p: [f64; 2]| [p[0].clamp(0.0, 4.0), p[1].clamp(-7.0, max_ln_ratio)];
    let error = |p: [f64; 2]| {
        let [alpha, ln_ratio] = clamp(p);
        Calibration { alpha, lookups_per_used_row: ln_ratio.exp(), rms_error: 0.0, lookups }
            .popularity_for(lookups)
            .reuse_histogram(lookups)
            .rms_difference(&target)
    };
    let mut best = ([1.0, 0.0], f64::INFINITY);
    for i in 0..11 {
        for j in 0..6 {
            let p = clamp([0.1 + 0.2 * f64::from(i), (0.1f64).ln() + f64::from(j) * 10f64.ln()]);
            let e = error(p);
            if e < best.1 {
                best = (p, e);
            }
        }
    }
    let (p, e) = nelder_mead(&error, best.0, [0.1, 0.5], 120);
    let [alpha, ln_ratio] = clamp(p);
    Calibration { alpha, lookups_per_used_row: ln_ratio.exp(), rms_error: e, lookups }
}

/// Minimizes `f` from `start` with a simplex of the given steps, for at most `iterations`
/// iterations or until the simplex's values agree to 1e-12.
fn nelder_mead(
    f: &impl Fn([f64; 2]) -> f64,
    start: [f64; 2],
    step: [f64; 2],
    iterations: usize,
) -> ([f64; 2], f64) {
    let mut s: Vec<([f64; 2], f64)> =
        [start, [start[0] + step[0], start[1]], [start[0], start[1] + step[1]]]
            .into_iter()
            .map(|p| (p, f(p)))
            .collect();
    let lerp =
        |a: [f64; 2], b: [f64; 2], t: f64| [a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])];
    for _ in 0..iterations {
        s.sort_by(|a, b| a.1.total_cmp(&b.1));
        if (s[2].1 - s[0].1).abs() < 1e-12 {
            break;
        }
        let centroid = lerp(s[0].0, s[1].0, 0.5);
        let reflect = lerp(centroid, s[2].0, -1.0);
        let fr = f(reflect);
        if fr < s[0].1 {
            let expand = lerp(centroid, s[2].0, -2.0);
            let fe = f(expand);
            s[2] = if fe < fr { (expand, fe) } else { (reflect, fr) };
        } else if fr < s[1].1 {
            s[2] = (reflect, fr);
        } else {
            let contract = if fr < s[2].1 {
                lerp(centroid, reflect, 0.5)
            } else {
                lerp(centroid, s[2].0, 0.5)
            };
            let fc = f(contract);
            if fc < s[2].1.min(fr) {
                s[2] = (contract, fc);
            } else {
                for k in 1..3 {
                    let p = lerp(s[0].0, s[k].0, 0.5);
                    s[k] = (p, f(p));
                }
            }
        }
    }
    s.sort_by(|a, b| a.1.total_cmp(&b.1));
    s[0]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use simcore::RandomStreams;

    fn stats_file(year: u32) -> std::path::PathBuf {
        simcore::data::data_file(format!("recsys/dlrm_{year}_locality_stats.txt")).unwrap()
    }

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * a.abs().max(b.abs()).max(1e-300)
    }

    /// Brute-force `p_i` of a Zipf over `u` ranks.
    fn zipf_pmf(u: u64, a: f64) -> Vec<f64> {
        let w: Vec<f64> = (1..=u).map(|i| (i as f64).powf(-a)).collect();
        let total: f64 = w.iter().rev().sum();
        w.into_iter().map(|x| x / total).collect()
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

    #[test]
    fn used_rows_matches_the_occupancy_formula_on_small_cases() {
        for h in 1..=6u64 {
            for n in 0..=8i32 {
                let exact = h as f64 * (1.0 - (1.0 - 1.0 / h as f64).powi(n));
                let got = used_rows(h, f64::from(n));
                assert!((got - exact).abs() < 1e-12, "H {h} n {n}: {got} vs {exact}");
            }
        }
        assert_eq!(used_rows(0, 10.0), 0.0);
        assert_eq!(used_rows(10, -1.0), 0.0);
        assert_eq!(used_rows(10, f64::NAN), 0.0);
        assert_eq!(used_rows(10, f64::INFINITY), 10.0);
        // Tiny n/H: almost every value gets its own row.
        assert!(close(used_rows(1_000_000_000_000, 1000.0), 1000.0 - 1000.0 * 999.0 / 2e12, 1e-12));
    }

    #[test]
    fn used_rows_is_63_percent_at_n_equal_h() {
        for h in [1_000_000u64, 1_000_000_000, 1_000_000_000_000] {
            let share = used_rows(h, h as f64) / h as f64;
            // 1 - (1 - 1/H)^H = 1 - e^-1 (1 - 1/(2H) + ...).
            let expected = 1.0 - (-1.0f64).exp() * (1.0 - 0.5 / h as f64);
            assert!((share - expected).abs() < 1e-9, "H {h}: {share}");
            assert!((share - 0.632_120_558_8).abs() < 1e-6);
        }
    }

    #[test]
    fn harmonic_numbers_match_brute_force_sums() {
        for a in [0.0, 0.5, 1.0, 1.3, 2.5] {
            let mut sum = 0.0;
            let mut next = 1u64;
            for m in 1..=100_000u64 {
                sum += (m as f64).powf(-a);
                if m == next || m == 65 || m == 100_000 {
                    let h = harmonic(m, a);
                    assert!(close(h, sum, 1e-11), "m {m} a {a}: {h} vs {sum}");
                    next = next * 3 + 1;
                }
            }
        }
        assert_eq!(harmonic(0, 1.0), 0.0);
        // H(1e12, 1) = ln(1e12) + Euler's gamma + 1/(2e12) - ...
        let h = harmonic(1_000_000_000_000, 1.0);
        assert!(close(h, 1e12f64.ln() + 0.577_215_664_901_532_9, 1e-13), "{h}");
    }

    #[test]
    fn hot_share_matches_brute_force_sums() {
        let u = 100_000u64;
        for a in [0.0, 0.5, 1.0, 1.3] {
            let pop = Popularity::new(u, a);
            let p = zipf_pmf(u, a);
            let mut prefix = 0.0;
            let mut last = 0.0;
            let checks = [1u64, 2, 10, 63, 64, 65, 100, 1000, 12_345, 99_999];
            for k in 1..=u {
                prefix += p[k as usize - 1];
                if checks.contains(&k) {
                    let s = pop.hot_share(k);
                    assert!(close(s, prefix, 1e-9), "a {a} k {k}: {s} vs {prefix}");
                    assert!(s > last, "not increasing at k {k}");
                    last = s;
                }
            }
            assert_eq!(pop.hot_share(0), 0.0);
            assert_eq!(pop.hot_share(u), 1.0);
            assert_eq!(pop.hot_share(u + 10), 1.0);
        }
    }

    #[test]
    fn hot_share_is_monotone_and_fast_for_huge_tables() {
        let pop = Popularity::new(1_000_000_000_000, 1.0);
        // hot_share(1) = 1/H(1e12, 1).
        let h = 1e12f64.ln() + 0.577_215_664_901_532_9;
        assert!(close(pop.hot_share(1), 1.0 / h, 1e-12));
        let mut last = 0.0;
        for e in 0..=12 {
            let s = pop.hot_share(10u64.pow(e));
            assert!(s > last && s <= 1.0, "k 1e{e}: {s}");
            last = s;
        }
        // ln(1e6)/ln(1e12) roughly: half of the accesses go to the hottest ~1e6 rows.
        assert!((pop.hot_share(1_000_000) - 0.5).abs() < 0.02);
    }

    #[test]
    fn rows_for_share_inverts_hot_share() {
        for (u, a) in [(100_000u64, 1.0), (1_000, 0.0), (10_000_000_000, 0.8), (1, 1.0)] {
            let pop = Popularity::new(u, a);
            for share in [1e-9, 0.01, 0.2, 0.5, 0.8, 0.99, 1.0] {
                let k = pop.rows_for_share(share);
                assert!(pop.hot_share(k) >= share, "U {u} a {a} share {share}: k {k}");
                assert!(k == 0 || pop.hot_share(k - 1) < share, "U {u} a {a} share {share}: k {k}");
            }
            assert_eq!(pop.rows_for_share(0.0), 0);
            assert_eq!(pop.rows_for_share(f64::NAN), 0);
            assert_eq!(pop.rows_for_share(2.0), pop.rows_for_share(1.0));
        }
        // Uniform: a share s needs ceil(s U) rows.
        assert_eq!(Popularity::new(1_000, 0.0).rows_for_share(0.25), 250);
    }

    #[test]
    fn expected_unique_matches_brute_force_sums() {
        for u in [300u64, 513, 100_000] {
            for a in [0.0, 0.5, 1.0, 1.3, 2.5] {
                let p = zipf_pmf(u, a);
                for lookups in [10.0, 1e3, 1e5, 1e7] {
                    let exact: f64 = p.iter().map(|pi| -(-lookups * pi).exp_m1()).sum();
                    let got = Popularity::new(u, a).expected_unique(lookups);
                    assert!(close(got, exact, 1e-9), "U {u} a {a} T {lookups}: {got} vs {exact}");
                }
            }
        }
        let pop = Popularity::new(1000, 1.0);
        assert_eq!(pop.expected_unique(0.0), 0.0);
        assert_eq!(pop.expected_unique(f64::INFINITY), 1000.0);
    }

    #[test]
    fn expected_unique_has_the_right_derivative() {
        // Che's approximation (cache.rs) differentiates expected_unique numerically: the slope
        // must be sum_i p_i e^(-T p_i).
        let (u, a) = (100_000u64, 0.9);
        let p = zipf_pmf(u, a);
        let pop = Popularity::new(u, a);
        for t in [2e3, 5e4, 1e6] {
            let exact: f64 = p.iter().map(|pi| pi * (-t * pi).exp()).sum();
            let h = t * 1e-4;
            let slope = (pop.expected_unique(t + h) - pop.expected_unique(t - h)) / (2.0 * h);
            assert!(close(slope, exact, 1e-5), "T {t}: {slope} vs {exact}");
        }
    }

    #[test]
    fn expected_unique_matches_sampled_batches() {
        let pop = Popularity::new(10_000, 1.0);
        let z = pop.sampler();
        let mut rng = RandomStreams::new(3).stream("unique");
        let (lookups, batches) = (20_000usize, 10);
        let mut total = 0usize;
        for _ in 0..batches {
            let mut seen = vec![false; 10_000];
            for _ in 0..lookups {
                seen[z.sample(&mut rng) as usize] = true;
            }
            total += seen.iter().filter(|s| **s).count();
        }
        let sampled = total as f64 / batches as f64;
        let expected = pop.expected_unique(lookups as f64);
        assert!((sampled / expected - 1.0).abs() < 0.01, "sampled {sampled} expected {expected}");
    }

    #[test]
    fn sampler_follows_hot_share() {
        let pop = Popularity::new(10_000, 1.1);
        let z = pop.sampler();
        let mut rng = RandomStreams::new(4).stream("hot");
        let n = 100_000;
        let top = (0..n).filter(|_| z.sample(&mut rng) < 100).count() as f64 / n as f64;
        assert!((top - pop.hot_share(100)).abs() < 0.01, "{top} vs {}", pop.hot_share(100));
    }

    /// Brute-force expected histograms with exact Poisson pmfs (in log space).
    fn brute_histogram(u: u64, a: f64, lookups: f64) -> ReuseHistogram {
        let mut s = [0.0; 2 * BUCKETS];
        for p in zipf_pmf(u, a) {
            let lam = lookups * p;
            let mut log_pmf = -lam;
            for k in 1..=(lam + 14.0 * lam.sqrt() + 20.0) as u64 {
                log_pmf += lam.ln() - (k as f64).ln();
                let b = bucket_of(k);
                s[b] += log_pmf.exp();
                s[BUCKETS + b] += k as f64 * log_pmf.exp();
            }
        }
        let (r, acc): (f64, f64) = (s[..BUCKETS].iter().sum(), s[BUCKETS..].iter().sum());
        let mut h = ReuseHistogram { rows: [0.0; BUCKETS], accesses: [0.0; BUCKETS] };
        for b in 0..BUCKETS {
            h.rows[b] = s[b] / r;
            h.accesses[b] = s[BUCKETS + b] / acc;
        }
        h
    }

    #[test]
    fn reuse_histogram_matches_brute_force_poisson_sums() {
        for (u, a, lookups) in [(5_000u64, 1.0, 2e5), (3_000, 0.6, 1e5), (2_000, 1.4, 5e5)] {
            let got = Popularity::new(u, a).reuse_histogram(lookups);
            let exact = brute_histogram(u, a, lookups);
            for b in 0..BUCKETS {
                assert!((got.rows[b] - exact.rows[b]).abs() < 1e-6, "rows[{b}] U {u} a {a}");
                assert!((got.accesses[b] - exact.accesses[b]).abs() < 1e-6, "acc[{b}] U {u} a {a}");
            }
        }
    }

    #[test]
    fn reuse_histogram_matches_sampled_batches() {
        let (u, lookups) = (20_000usize, 200_000usize);
        let pop = Popularity::new(u as u64, 1.1);
        let z = pop.sampler();
        let mut rng = RandomStreams::new(5).stream("batch");
        let mut rows = [0.0; BUCKETS];
        let mut accesses = [0.0; BUCKETS];
        for _ in 0..3 {
            let mut counts = vec![0u64; u];
            for _ in 0..lookups {
                counts[z.sample(&mut rng) as usize] += 1;
            }
            for c in counts.into_iter().filter(|c| *c > 0) {
                rows[bucket_of(c)] += 1.0;
                accesses[bucket_of(c)] += c as f64;
            }
        }
        let (rs, acs): (f64, f64) = (rows.iter().sum(), accesses.iter().sum());
        let model = pop.reuse_histogram(lookups as f64);
        for b in 0..BUCKETS {
            assert!((rows[b] / rs - model.rows[b]).abs() < 0.01, "rows[{b}]");
            assert!((accesses[b] / acs - model.accesses[b]).abs() < 0.02, "accesses[{b}]");
        }
    }

    #[test]
    fn reuse_histogram_limits() {
        let pop = Popularity::new(1_000, 1.0);
        assert_eq!(pop.reuse_histogram(0.0), ReuseHistogram::all_in(0));
        assert_eq!(pop.reuse_histogram(f64::NAN), ReuseHistogram::all_in(0));
        assert_eq!(pop.reuse_histogram(f64::INFINITY), ReuseHistogram::all_in(16));
        // Very few lookups over many rows: almost every touched row is touched once.
        let sparse = Popularity::new(10_000_000_000, 0.5).reuse_histogram(100.0);
        assert!(sparse.rows[0] > 0.99, "{:?}", sparse.rows);
        // A uniform table with 1e9 lookups per row: everything in the last bucket.
        let dense = Popularity::new(1_000, 0.0).reuse_histogram(1e12);
        assert!(dense.rows[16] > 0.999999);
    }

    #[test]
    fn poisson_cdf_and_erfc_match_references() {
        // erfc values (Python math.erfc).
        let refs = [
            (-1.0, 1.842_700_792_949_714_8),
            (0.0, 1.0),
            (0.5, 0.479_500_122_186_953_5),
            (2.0, 0.004_677_734_981_047_266),
            (3.0, 2.209_049_699_858_544e-5),
            (6.0, 2.151_973_671_249_891_3e-17),
        ];
        for (x, e) in refs {
            assert!(close(erfc(x), e, 1e-11), "erfc({x}) = {} vs {e}", erfc(x));
        }
        // Temme against exact sums of the pmf in log space.
        for m in [64u64, 100, 1_000, 32_767] {
            let sd = (m as f64).sqrt();
            for z in [-4.0, -1.5, -0.3, 0.0, 0.4, 2.0, 5.0] {
                let lam = m as f64 + z * sd;
                let mut log_pmf = -lam;
                let mut exact = log_pmf.exp();
                for k in 1..=m {
                    log_pmf += lam.ln() - (k as f64).ln();
                    exact += log_pmf.exp();
                }
                let got = poisson_cdf(m, lam);
                assert!((got - exact).abs() < 1e-7, "m {m} lam {lam}: {got} vs {exact}");
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn model_outputs_are_consistent(
            used in 1u64..1_000_000_000_000,
            alpha in 0.0f64..3.0,
            lookups in 0.0f64..1e11,
        ) {
            let pop = Popularity::new(used, alpha);
            let h = pop.reuse_histogram(lookups);
            let (r, a): (f64, f64) = (h.rows.iter().sum(), h.accesses.iter().sum());
            prop_assert!((r - 1.0).abs() < 1e-9 && (a - 1.0).abs() < 1e-9, "{h:?}");
            prop_assert!(h.rows.iter().chain(&h.accesses).all(|v| v.is_finite() && *v >= 0.0));
            let unique = pop.expected_unique(lookups);
            prop_assert!(unique >= 0.0 && unique <= (used as f64).min(lookups) + 1e-9);
            let k = used / 2;
            // Adjacent ranks of a huge table differ by less than an ulp: allow rounding.
            prop_assert!(pop.hot_share(k) <= pop.hot_share(k + 1) + 1e-15);
            prop_assert!(pop.hot_share(k + 1) >= (k + 1) as f64 / used as f64 - 1e-12);
        }
    }

    #[test]
    fn unclean_fields_do_not_panic() {
        let pop = Popularity::new(0, f64::NAN);
        assert_eq!(pop, Popularity { used: 1, alpha: 0.0 });
        assert_eq!(Popularity::new(5, f64::INFINITY).alpha, MAX_ALPHA);
        let raw = Popularity { used: 0, alpha: -2.0 };
        assert_eq!(raw.hot_share(1), 1.0);
        assert!(close(raw.expected_unique(5.0), -(-5.0f64).exp_m1(), 1e-12));
        assert_eq!(raw.sampler().n(), 1);
        assert!((raw.reuse_histogram(3.0).rows.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn parses_the_2022_file() {
        let s = LocalityStats::read(&stats_file(2022)).unwrap();
        assert_eq!(s.blocks.len(), 16);
        let b = &s.blocks[0];
        assert_eq!(b.name, "fbgemm_t788_bs131072_0.pt");
        assert_eq!(b.batch_size, 131_072);
        assert_eq!(b.lookups, 1_405_163_864.0);
        assert_eq!(b.unique_rows, 110_259_238.0);
        assert_eq!(b.mean_reuse, 12.7);
        assert_eq!(b.histogram.rows[0], 0.342);
        assert_eq!(b.histogram.rows[1], 0.144);
        assert_eq!(b.histogram.accesses[0], 0.027);
        assert_eq!(b.histogram.accesses[16], 0.076);
        assert_eq!(b.tables(), Some(788));
        assert_eq!(s.blocks[15].name, "fbgemm_t788_bs131072_15.pt");
    }

    #[test]
    fn parses_the_2021_file() {
        let s = LocalityStats::read(&stats_file(2021)).unwrap();
        assert_eq!(s.blocks.len(), 17);
        let b = &s.blocks[0];
        assert_eq!(b.name, "fbgemm_t856_bs65536.pt");
        assert_eq!(
            (b.batch_size, b.lookups, b.unique_rows),
            (65_536, 887_017_990.0, 128_435_723.0)
        );
        assert_eq!(b.mean_reuse, 6.9);
        assert_eq!((b.histogram.rows[0], b.histogram.accesses[0]), (0.473, 0.069));
        assert_eq!(b.tables(), Some(856));
        assert_eq!(s.blocks[1].lookups, 468_084_223.0);
    }

    #[test]
    fn mean_averages_the_blocks() {
        let s = LocalityStats::read(&stats_file(2021)).unwrap();
        let m = s.mean();
        assert_eq!(m.name, "mean of 17 blocks");
        assert_eq!(m.batch_size, 65_536);
        let lookups: f64 = s.blocks.iter().map(|b| b.lookups).sum::<f64>() / 17.0;
        assert!(close(m.lookups, lookups, 1e-12));
        let rows0: f64 = s.blocks.iter().map(|b| b.histogram.rows[0]).sum::<f64>() / 17.0;
        assert!(close(m.histogram.rows[0], rows0, 1e-12));
        assert!((m.histogram.rows.iter().sum::<f64>() - 1.0).abs() < 0.01);
        assert!(close(s.lookups_per_table(), lookups / 856.0, 1e-12));
        assert_eq!(LocalityStats { path: "x".into(), blocks: vec![] }.mean().lookups, 0.0);
    }

    /// The first block of the 2022 file (45 lines).
    fn first_block() -> Vec<String> {
        let text = std::fs::read_to_string(stats_file(2022)).unwrap();
        text.lines().take(45).map(str::to_string).collect()
    }

    /// The line of a Data error.
    fn error_line(text: &str) -> usize {
        match LocalityStats::parse("t.txt", text) {
            Err(InputError::Data { path, line, .. }) => {
                assert_eq!(path, "t.txt");
                line
            }
            other => panic!("expected a data error, got {other:?}"),
        }
    }

    #[test]
    fn malformed_text_names_the_line() {
        let block = first_block();
        assert_eq!(LocalityStats::parse("t.txt", &block.join("\n")).unwrap().blocks.len(), 1);
        let edit = |line: usize, new: Option<&str>| {
            let mut b = block.clone();
            match new {
                Some(n) => b[line - 1] = n.to_string(),
                None => {
                    b.remove(line - 1);
                }
            }
            b.join("\n")
        };
        // A bad number.
        assert_eq!(error_line(&edit(3, Some("Avg # of indices: 14x5"))), 3);
        assert_eq!(error_line(&edit(10, Some("(4, 8]: 1.7"))), 10);
        assert_eq!(
            error_line(&edit(2, Some("Locality stats after processing 1 batches of size x"))),
            2
        );
        // A missing histogram line: line 10 then holds the next bucket.
        assert_eq!(error_line(&edit(10, None)), 10);
        // Inconsistent figures and lists.
        assert_eq!(error_line(&edit(5, Some("Avg col size: 20.0"))), 5);
        assert_eq!(error_line(&edit(25, Some(&block[24].replace("'0.342'", "'0.442'")))), 25);
        assert_eq!(error_line(&edit(24, Some("[0, 1, 2]"))), 24);
        // Truncated, empty, comments only.
        assert_eq!(error_line(&block[..20].join("\n")), 21);
        assert_eq!(error_line(""), 1);
        assert_eq!(error_line("# nothing here\n\n"), 3);
        // A second block that breaks later is reported at its own line.
        let two = format!("{}\n\n{}", block.join("\n"), edit(7, Some("(0, 1]: x")));
        assert_eq!(error_line(&two), 46 + 7);
        // A file that cannot be read: line 0.
        match LocalityStats::read(Path::new("/nonexistent/stats.txt")) {
            Err(InputError::Data { line: 0, .. }) => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn calibration_fits_the_2022_histograms() {
        let stats = LocalityStats::read(&stats_file(2022)).unwrap();
        let c = calibrate(&stats);
        assert!((0.85..1.05).contains(&c.alpha), "{c:?}");
        assert!((3.0..15.0).contains(&c.lookups_per_used_row), "{c:?}");
        assert!(c.rms_error < 0.032, "{c:?}");
        assert!(close(c.lookups, 1_405_163_864.0 / 788.0, 0.01), "{c:?}");
        // The reported error is the fit's, and it is a minimum: moving alpha or the ratio
        // makes it worse.
        let target = stats.mean().histogram;
        let at = |alpha: f64, ratio: f64| {
            let cal = Calibration { alpha, lookups_per_used_row: ratio, ..c };
            cal.popularity_for(c.lookups).reuse_histogram(c.lookups).rms_difference(&target)
        };
        assert!(close(at(c.alpha, c.lookups_per_used_row), c.rms_error, 1e-9));
        for (da, fr) in [(0.1, 1.0), (-0.1, 1.0), (0.0, 2.0), (0.0, 0.5)] {
            assert!(at(c.alpha + da, c.lookups_per_used_row * fr) > c.rms_error + 1e-4);
        }
    }

    /// Prints the calibration of both files (the table in the module docs):
    /// `cargo test --release -p embedding report_calibrations -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn report_calibrations() {
        for path in [stats_file(2021), stats_file(2022)] {
            let stats = LocalityStats::read(&path).unwrap();
            let c = calibrate(&stats);
            let pop = c.popularity_for(c.lookups);
            let model = pop.reuse_histogram(c.lookups);
            let mean = stats.mean();
            eprintln!("{}: {c:?}", path.display());
            eprintln!(
                "  mean reuse: file {:.2}, model {:.2}",
                mean.mean_reuse,
                c.lookups / pop.expected_unique(c.lookups)
            );
            for (b, label) in BUCKET_LABELS.iter().enumerate() {
                eprintln!(
                    "  {label:16} rows {:.3} model {:.3}   accesses {:.3} model {:.3}",
                    mean.histogram.rows[b],
                    model.rows[b],
                    mean.histogram.accesses[b],
                    model.accesses[b]
                );
            }
        }
    }
}
