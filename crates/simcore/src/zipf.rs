//! A Zipf sampler over ranks `0..n`: `P(k) ∝ (k + 1)^-alpha`, rank 0 the most popular.
//!
//! The method is rejection-inversion (W. Hörmann and G. Derflinger, "Rejection-inversion to
//! generate variates from monotone discrete distributions", ACM TOMACS 6(3), 1996). It needs
//! no table, so it costs O(1) time and memory per sample for any `n` up to 2^53, and it is
//! exact (the accepted values have exactly the Zipf probabilities, up to floating point).
//!
//! ## The method
//!
//! Number the values `k = 1..=n` with weights `h(k) = k^-a` (the returned rank is `k - 1`).
//! Extend `h(x) = x^-a` to real `x >= 1/2` and take its increasing antiderivative
//!
//! ```text
//! G(x) = (x^(1-a) - 1) / (1 - a)          (= ln x when a = 1)
//! G^-1(y) = (1 + (1 - a) y)^(1 / (1 - a))  (= e^y when a = 1)
//! ```
//!
//! Because `h` is convex, the area under it over `[k - 1/2, k + 1/2]` is at least `h(k)`
//! (Hermite–Hadamard inequality). So `h` on `[b, n + 1/2]` is a hat for the discrete weights:
//!
//! 1. draw `Y` uniform on `[G(b), G(n + 1/2)]` and set `X = G^-1(Y)` (inversion: `X` has
//!    density `∝ h` on `[b, n + 1/2]`);
//! 2. let `K = round(X)`;
//! 3. accept `K` if `Y >= G(K + 1/2) - h(K)`, i.e. if `X` lies in the right part of
//!    `[K - 1/2, K + 1/2]` whose area under `h` is exactly `h(K)`; otherwise start again.
//!
//! Each `K` is accepted with probability proportional to the area `h(K)`, which is the Zipf
//! law. The left end `b` is chosen with `G(3/2) - G(b) = h(1) = 1`, so the hat's part for
//! `K = 1` is exactly `h(1)` and the most popular value is never rejected; the acceptance
//! rate is above 90% for the exponents seen in practice.
//!
//! `G` and `G^-1` are evaluated as `ln(x) E((1 - a) ln x)` and `exp(y L((1 - a) y))` with
//! `E(z) = (e^z - 1)/z` and `L(z) = ln(1 + z)/z`, which are smooth through `a = 1`
//! (no special case, no cancellation near it). For `a = 0` every candidate is accepted and the
//! sampler is uniform.

use crate::StreamRng;

/// Zipf distribution over ranks `0..n` with exponent `alpha`: `P(k) ∝ (k + 1)^-alpha`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Zipf {
    n: u64,
    alpha: f64,
    /// `G(b)`: the lower end of the hat's integral range.
    g_lo: f64,
    /// `G(n + 1/2)`: the upper end.
    g_hi: f64,
}

impl Zipf {
    /// Zipf over `n >= 1` ranks with a finite exponent `alpha >= 0` (`alpha = 0` is uniform).
    pub fn new(n: u64, alpha: f64) -> Result<Zipf, String> {
        if n == 0 {
            return Err("Zipf needs n >= 1 ranks, got 0".to_string());
        }
        if !alpha.is_finite() || alpha < 0.0 {
            return Err(format!("Zipf exponent must be finite and >= 0, got {alpha}"));
        }
        let mut z = Zipf { n, alpha, g_lo: 0.0, g_hi: 0.0 };
        z.g_lo = z.g(1.5) - 1.0;
        z.g_hi = z.g(n as f64 + 0.5);
        Ok(z)
    }

    /// Number of ranks.
    pub fn n(&self) -> u64 {
        self.n
    }

    /// The exponent.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }

    /// A rank in `0..n` (0 = most popular).
    pub fn sample(&self, rng: &mut StreamRng) -> u64 {
        loop {
            let y = self.g_hi + rng.next_f64() * (self.g_lo - self.g_hi);
            let x = self.g_inv(y);
            // Saturating cast: NaN -> 0 and +inf -> u64::MAX, both clamped into 1..=n.
            let k = ((x + 0.5).floor() as u64).clamp(1, self.n);
            let kf = k as f64;
            if y >= self.g(kf + 0.5) - self.h(kf) {
                return k - 1;
            }
        }
    }

    /// The weight `h(x) = x^-alpha`.
    fn h(&self, x: f64) -> f64 {
        (-self.alpha * x.ln()).exp()
    }

    /// `G(x) = (x^(1-alpha) - 1)/(1 - alpha)`, the antiderivative of `h` with `G(1) = 0`.
    fn g(&self, x: f64) -> f64 {
        let lx = x.ln();
        lx * expm1_over_x((1.0 - self.alpha) * lx)
    }

    /// The inverse of `G`.
    fn g_inv(&self, y: f64) -> f64 {
        (y * ln1p_over_x((1.0 - self.alpha) * y)).exp()
    }
}

/// `(e^z - 1)/z`, equal to 1 at `z = 0`.
fn expm1_over_x(z: f64) -> f64 {
    if z.abs() < 1e-8 { 1.0 + 0.5 * z } else { z.exp_m1() / z }
}

/// `ln(1 + z)/z`, equal to 1 at `z = 0`.
fn ln1p_over_x(z: f64) -> f64 {
    if z.abs() < 1e-8 { 1.0 - 0.5 * z } else { z.ln_1p() / z }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RandomStreams;
    use proptest::prelude::*;

    /// Exact pmf of ranks `0..top` (and the rest lumped) for small `n`, by brute-force sums.
    fn exact_pmf(n: u64, alpha: f64, top: usize) -> Vec<f64> {
        let w = |k: u64| (k as f64).powf(-alpha);
        let total: f64 = (1..=n).rev().map(w).sum();
        let mut p: Vec<f64> = (1..=top as u64).map(|k| w(k) / total).collect();
        let rest = 1.0 - p.iter().sum::<f64>();
        p.push(rest.max(0.0));
        p
    }

    /// Pearson chi-square of `samples` draws against `pmf` (last cell = all other ranks).
    fn chi_square(z: &Zipf, pmf: &[f64], samples: usize, seed: u64) -> f64 {
        let top = pmf.len() - 1;
        let mut counts = vec![0u64; pmf.len()];
        let mut rng = RandomStreams::new(seed).stream("zipf-test");
        for _ in 0..samples {
            let r = z.sample(&mut rng) as usize;
            counts[r.min(top)] += 1;
        }
        let mut chi = 0.0;
        for (c, p) in counts.iter().zip(pmf) {
            let e = p * samples as f64;
            if e > 0.0 {
                chi += (*c as f64 - e).powi(2) / e;
            } else {
                assert_eq!(*c, 0, "a rank with zero probability was drawn");
            }
        }
        chi
    }

    #[test]
    fn frequencies_match_the_exact_pmf() {
        let cases: [(u64, f64); 8] = [
            (1, 1.0),
            (10, 0.0),
            (1_000, 0.0),
            (1_000, 0.5),
            (1_000, 1.0),
            (200_000, 1.0),
            (100, 1.2),
            (50_000, 1.2),
        ];
        for (n, alpha) in cases {
            let top = (n as usize - 1).min(20);
            let pmf = exact_pmf(n, alpha, top);
            let df = (pmf.iter().filter(|p| **p > 0.0).count() - 1).max(1) as f64;
            let chi = chi_square(&Zipf::new(n, alpha).unwrap(), &pmf, 100_000, 11);
            // chi-square with df degrees of freedom: mean df, sd sqrt(2 df); 6 sd + 10 leaves
            // a false-alarm chance below 1e-6, while a rank off by one scores in the thousands.
            let limit = df + 6.0 * (2.0 * df).sqrt() + 10.0;
            assert!(chi < limit, "n {n} alpha {alpha}: chi2 {chi:.1} >= {limit:.1} (df {df})");
        }
    }

    #[test]
    fn a_wrong_exponent_is_detected() {
        // The test above has power: samples of alpha 1.0 fail against the pmf of alpha 1.05.
        let pmf = exact_pmf(1_000, 1.05, 20);
        let chi = chi_square(&Zipf::new(1_000, 1.0).unwrap(), &pmf, 100_000, 11);
        assert!(chi > 100.0, "chi2 {chi}");
    }

    #[test]
    fn single_rank_always_gives_zero() {
        let z = Zipf::new(1, 1.3).unwrap();
        let mut rng = RandomStreams::new(1).stream("one");
        assert!((0..1000).all(|_| z.sample(&mut rng) == 0));
    }

    #[test]
    fn huge_n_matches_the_harmonic_number() {
        // n = 1e12, alpha = 1.2: P(rank 0) = 1/H(n, 1.2), with H from exact terms up to 1e5
        // and the Euler–Maclaurin tail (integral, endpoint half-weights, first derivative term).
        let (n, a) = (1e12_f64, 1.2);
        let m = 100_000u64;
        let head: f64 = (1..m).rev().map(|k| (k as f64).powf(-a)).sum();
        let f = |x: f64| x.powf(-a);
        let df = |x: f64| -a * x.powf(-a - 1.0);
        let mf = m as f64;
        let tail = (mf.powf(1.0 - a) - n.powf(1.0 - a)) / (a - 1.0)
            + 0.5 * (f(mf) + f(n))
            + (df(n) - df(mf)) / 12.0;
        let p0 = 1.0 / (head + tail);
        let z = Zipf::new(1_000_000_000_000, a).unwrap();
        let mut rng = RandomStreams::new(5).stream("huge");
        let draws = 200_000;
        let mut zeros = 0u32;
        for _ in 0..draws {
            let r = z.sample(&mut rng);
            assert!(r < 1_000_000_000_000);
            zeros += u32::from(r == 0);
        }
        let freq = f64::from(zeros) / f64::from(draws);
        let sd = (p0 * (1.0 - p0) / f64::from(draws)).sqrt();
        assert!((freq - p0).abs() < 5.0 * sd, "freq {freq} p0 {p0} sd {sd}");
    }

    #[test]
    fn uniform_over_huge_n_has_the_right_mean() {
        let n = 1_000_000_000_000u64;
        let z = Zipf::new(n, 0.0).unwrap();
        let mut rng = RandomStreams::new(9).stream("uniform");
        let draws = 20_000;
        let mean = (0..draws).map(|_| z.sample(&mut rng) as f64).sum::<f64>() / draws as f64;
        // sd of the mean: n / sqrt(12 draws) = 2.0e-3 n; allow 5 sd.
        assert!((mean / n as f64 - 0.5).abs() < 0.01, "mean/n {}", mean / n as f64);
    }

    #[test]
    fn same_seed_same_ranks() {
        let z = Zipf::new(1_000_000, 0.9).unwrap();
        let draw = |seed: u64| {
            let mut rng = RandomStreams::new(seed).stream("det");
            (0..100).map(|_| z.sample(&mut rng)).collect::<Vec<_>>()
        };
        assert_eq!(draw(3), draw(3));
        assert_ne!(draw(3), draw(4));
    }

    #[test]
    fn invalid_parameters_are_rejected() {
        assert!(Zipf::new(0, 1.0).is_err());
        assert!(Zipf::new(10, -0.1).is_err());
        assert!(Zipf::new(10, f64::NAN).is_err());
        assert!(Zipf::new(10, f64::INFINITY).is_err());
        let z = Zipf::new(10, 0.0).unwrap();
        assert_eq!((z.n(), z.alpha()), (10, 0.0));
    }

    proptest! {
        #[test]
        fn samples_are_below_n(n in 1u64..=1_000_000_000_000, alpha in 0.0f64..4.0, seed: u64) {
            let z = Zipf::new(n, alpha).unwrap();
            let mut rng = RandomStreams::new(seed).stream("prop");
            for _ in 0..50 {
                prop_assert!(z.sample(&mut rng) < n);
            }
        }
    }
}
