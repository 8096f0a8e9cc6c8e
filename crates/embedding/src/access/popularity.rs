//! The row-popularity model of one table: the rows used by hashing (occupancy), the Zipf
//! [`Popularity`] of the used rows with its hot shares, expected distinct rows and sampler, and
//! the expected [`ReuseHistogram`] of a batch by Poisson rank sums (head term by term, tail by
//! Gauss–Legendre in `ln(rank)`).

use super::special::{harmonic, poisson_cdf, pow_neg};
use super::{BUCKETS, MAX_ALPHA, bucket_of};
use simcore::Zipf;

/// Ranks summed term by term before the integral takes over.
const HEAD_RANKS: u64 = 512;

/// Widest integration bin in `t = ln(rank)`.
const T_STEP: f64 = std::f64::consts::LN_2 / 2.0;

/// The quadrature of [`Popularity::unique_and_slope`]: fewer head ranks and bins twice as
/// wide, enough for its smooth integrands (a test holds it to 1e-8 of
/// [`Popularity::expected_unique`]) at a quarter of the cost; cache curves call it often.
const FAST: (u64, f64) = (32, std::f64::consts::LN_2);

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

    /// Expected distinct rows of `lookups` accesses and their slope in `lookups`:
    /// `(sum_i 1 - exp(-T p_i), sum_i p_i exp(-T p_i))` with `T = lookups`. The slope is the
    /// probability that the next access touches a new row, the LRU miss rate of Che's
    /// approximation at characteristic time `T` (`crate::cache`). `(0, 1)` for `lookups <= 0`.
    /// Summed with a coarser quadrature than [`Popularity::expected_unique`] (to about 1e-8).
    pub fn unique_and_slope(&self, lookups: f64) -> (f64, f64) {
        let (u, a) = self.parts();
        if lookups.is_nan() || lookups <= 0.0 {
            return (0.0, 1.0);
        }
        if lookups.is_infinite() {
            return (u as f64, 0.0);
        }
        let c = lookups / harmonic(u, a);
        let [s, d] = self.rank_sum_with(FAST, c, &[], |lam| [-(-lam).exp_m1(), lam * (-lam).exp()]);
        (s.clamp(0.0, (u as f64).min(lookups)), (d / lookups).clamp(0.0, 1.0))
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
        self.rank_sum_with((HEAD_RANKS, T_STEP), c, breaks, f)
    }

    /// [`Popularity::rank_sum`] with `(head ranks, widest bin)` given.
    fn rank_sum_with<const N: usize>(
        &self,
        (head_ranks, t_step): (u64, f64),
        c: f64,
        breaks: &[f64],
        f: impl Fn(f64) -> [f64; N],
    ) -> [f64; N] {
        let (u, a) = self.parts();
        let rate = |x: f64| c * pow_neg(x, a);
        let head = u.min(head_ranks);
        let mut acc = [0.0; N];
        for i in (1..=head).rev() {
            add(&mut acc, &f(rate(i as f64)), 1.0);
        }
        if u == head {
            return acc;
        }
        let (t_lo, t_hi) = ((head as f64 + 0.5).ln(), (u as f64 + 0.5).ln());
        let steps = ((t_hi - t_lo) / t_step).ceil().max(1.0) as usize;
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

/// Shares per reuse bucket ([`BUCKET_LABELS`](super::BUCKET_LABELS)): of the touched rows and of
/// the accesses.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::tests::close;
    use proptest::prelude::*;
    use simcore::RandomStreams;

    /// Brute-force `p_i` of a Zipf over `u` ranks.
    fn zipf_pmf(u: u64, a: f64) -> Vec<f64> {
        let w: Vec<f64> = (1..=u).map(|i| (i as f64).powf(-a)).collect();
        let total: f64 = w.iter().rev().sum();
        w.into_iter().map(|x| x / total).collect()
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
    fn the_fast_unique_sum_agrees_with_the_fine_one() {
        for (u, a) in [(2_000u64, 0.7), (1_000_000, 0.943), (100_000_000, 1.1), (50_000, 0.0)] {
            let pop = Popularity::new(u, a);
            for t in [1.0, 1e3, 1e5, 1e7, 1e9, 1e11] {
                let (fast, slope) = pop.unique_and_slope(t);
                let fine = pop.expected_unique(t);
                assert!(close(fast, fine, 1e-8), "U {u} a {a} T {t}: {fast} vs {fine}");
                // The slope is the derivative.
                let h = t * 1e-4;
                let d = (pop.expected_unique(t + h) - pop.expected_unique(t - h)) / (2.0 * h);
                assert!((slope - d).abs() < 1e-6 + 1e-4 * d, "U {u} a {a} T {t}: {slope} vs {d}");
            }
        }
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
}
