//! The special functions of the row-access model: generalized harmonic numbers (exact head
//! plus Euler–Maclaurin tail), `x^-a`, `(e^z - 1)/z`, and the Poisson CDF by exact sums or
//! Temme's uniform expansion of the incomplete gamma function with its `erfc`.

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
pub(super) fn pow_neg(x: f64, a: f64) -> f64 {
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

/// `P(N <= m)` for `N ~ Poisson(lam)`: 0 or 1 beyond 12 standard deviations (+15), an exact
/// sum for `m < 64`, else Temme's expansion of `Q(m + 1, lam)`.
pub(super) fn poisson_cdf(m: u64, lam: f64) -> f64 {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::tests::close;

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
}
