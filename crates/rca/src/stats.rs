//! Small numerical helpers: the complementary error function and the normal distribution,
//! moments, quantiles, and least squares on a few regressors.
//!
//! `erfc` is the Chebyshev-fitted approximation of Press, Teukolsky, Vetterling and Flannery,
//! *Numerical Recipes in C*, 2nd ed. (1992), section 6.2 (`erfcc`): with t = 1 / (1 + |x|/2),
//! erfc(|x|) = t exp(-x^2 - 1.26551223 + t (1.00002368 + t (0.37409196 + t (0.09678418 +
//! t (-0.18628806 + t (0.27886807 + t (-1.13520398 + t (1.48851587 + t (-0.82215223 +
//! t 0.17087277))))))))), and erfc(-x) = 2 - erfc(x). Its fractional error is below 1.2e-7
//! everywhere, so a p-value is exact to about seven significant digits: only a p-value within
//! 1e-7 (relative) of alpha could be decided differently from scipy's.

/// The complementary error function, fractional error below 1.2e-7 (Numerical Recipes'
/// `erfcc`, see the module docs).
pub fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let ans = t * (-z * z + poly).exp();
    if x >= 0.0 { ans } else { 2.0 - ans }
}

/// The standard normal CDF, Phi(x) = erfc(-x / sqrt 2) / 2.
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

/// The two-sided p-value of a standard normal statistic: 2 (1 - Phi(|z|)) = erfc(|z| / sqrt 2).
pub fn two_sided_p(z: f64) -> f64 {
    erfc(z.abs() / std::f64::consts::SQRT_2).min(1.0)
}

/// Mean and population standard deviation (divisor n, as numpy's and scikit-learn's
/// `StandardScaler`). An empty slice gives (0, 0).
pub fn mean_std(xs: &[f64]) -> (f64, f64) {
    if xs.is_empty() {
        return (0.0, 0.0);
    }
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    (mean, var.sqrt())
}

/// The `q`-quantile (0 <= q <= 1) with linear interpolation between order statistics
/// (numpy's default, "type 7" of Hyndman and Fan 1996). An empty slice gives 0.
pub fn quantile(xs: &[f64], q: f64) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let h = (v.len() - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(v.len() - 1);
    v[lo] + (h - lo as f64) * (v[hi] - v[lo])
}

/// Solves the symmetric positive definite system `a x = b` (`a` row-major `n x n`) in place
/// by Cholesky decomposition; `a` is overwritten by its factor and `b` by the solution.
/// Returns `false` (and leaves garbage) when a pivot is not positive beyond `tol` relative
/// to the diagonal, i.e. the matrix is (numerically) singular.
pub fn cholesky_solve(a: &mut [f64], b: &mut [f64], n: usize, tol: f64) -> bool {
    if !cholesky_in_place(a, n, tol) {
        return false;
    }
    // Forward: L y = b.
    for i in 0..n {
        let mut s = b[i];
        for k in 0..i {
            s -= a[i * n + k] * b[k];
        }
        b[i] = s / a[i * n + i];
    }
    // Backward: L^T x = y.
    for i in (0..n).rev() {
        let mut s = b[i];
        for k in (i + 1)..n {
            s -= a[k * n + i] * b[k];
        }
        b[i] = s / a[i * n + i];
    }
    true
}

/// Overwrites the lower triangle of `a` (row-major, `n x n`, symmetric) with its Cholesky
/// factor L (a = L L^T). Returns `false` when a pivot `d` satisfies `d <= tol * a_ii`.
pub fn cholesky_in_place(a: &mut [f64], n: usize, tol: f64) -> bool {
    for j in 0..n {
        let mut d = a[j * n + j];
        for k in 0..j {
            d -= a[j * n + k] * a[j * n + k];
        }
        if d.is_nan() || d <= tol * a[j * n + j].abs().max(f64::MIN_POSITIVE) {
            return false;
        }
        let d = d.sqrt();
        a[j * n + j] = d;
        for i in (j + 1)..n {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= a[i * n + k] * a[j * n + k];
            }
            a[i * n + j] = s / d;
        }
    }
    true
}

/// Ordinary least squares with an intercept: the coefficients `[b0, b1, .., bp]` of
/// `y ~ b0 + sum_j b_j x_j` over the given regressor columns (each `y.len()` long), from the
/// normal equations solved by Cholesky. A singular design (collinear regressors) is solved
/// with a ridge of 1e-8 times the mean diagonal instead, which picks the minimum-norm-like
/// solution and keeps the fitted values; `None` only if even that fails (non-finite data).
pub fn ols(y: &[f64], xs: &[&[f64]]) -> Option<Vec<f64>> {
    let p = xs.len() + 1;
    let n = y.len();
    // Centre the regressors for conditioning; the intercept is recovered afterwards.
    let (my, _) = mean_std(y);
    let means: Vec<f64> = xs.iter().map(|x| mean_std(x).0).collect();
    let q = p - 1;
    let mut a = vec![0.0; q * q];
    let mut b = vec![0.0; q];
    for i in 0..q {
        for j in i..q {
            let s: f64 = (0..n).map(|t| (xs[i][t] - means[i]) * (xs[j][t] - means[j])).sum::<f64>();
            a[i * q + j] = s;
            a[j * q + i] = s;
        }
        b[i] = (0..n).map(|t| (xs[i][t] - means[i]) * (y[t] - my)).sum::<f64>();
    }
    let mut coef = if q == 0 {
        Vec::new()
    } else {
        let (mut a1, mut b1) = (a.clone(), b.clone());
        if cholesky_solve(&mut a1, &mut b1, q, 1e-12) {
            b1
        } else {
            let ridge = 1e-8 * (0..q).map(|i| a[i * q + i]).sum::<f64>() / q as f64;
            let ridge = if ridge > 0.0 { ridge } else { 1e-8 };
            for i in 0..q {
                a[i * q + i] += ridge;
            }
            if !cholesky_solve(&mut a, &mut b, q, 0.0) {
                return None;
            }
            b
        }
    };
    let b0 = my - coef.iter().zip(&means).map(|(c, m)| c * m).sum::<f64>();
    coef.insert(0, b0);
    coef.iter().all(|c| c.is_finite()).then_some(coef)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erfc_matches_reference_values() {
        // Reference values (Abramowitz and Stegun, table 7.1, and mpmath to 16 digits).
        let cases = [
            (0.0, 1.0),
            (0.5, 0.479_500_122_186_953_5),
            (1.0, 0.157_299_207_050_285_1),
            (2.0, 0.004_677_734_981_047_266),
            (3.0, 2.209_049_699_858_544e-5),
            (-1.0, 1.842_700_792_949_715),
        ];
        for (x, want) in cases {
            let got = erfc(x);
            assert!(((got - want) / want).abs() < 1.2e-7, "erfc({x}) = {got}, want {want}");
        }
        // Phi(1.959964) = 0.975: the two-sided 5% point.
        assert!((two_sided_p(1.959_963_985) - 0.05).abs() < 1e-8);
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-7);
    }

    #[test]
    fn quantiles_interpolate_like_numpy() {
        let xs = [4.0, 1.0, 3.0, 2.0];
        assert_eq!(quantile(&xs, 0.5), 2.5);
        assert_eq!(quantile(&xs, 0.25), 1.75);
        assert_eq!(quantile(&xs, 0.75), 3.25);
        assert_eq!(quantile(&[], 0.5), 0.0);
    }

    #[test]
    fn ols_recovers_a_plane_and_survives_collinearity() {
        let x1: Vec<f64> = (0..50).map(|t| (t as f64 * 0.7).sin()).collect();
        let x2: Vec<f64> = (0..50).map(|t| (t as f64 * 1.3).cos()).collect();
        let y: Vec<f64> = (0..50).map(|t| 2.0 + 3.0 * x1[t] - 0.5 * x2[t]).collect();
        let c = ols(&y, &[&x1, &x2]).unwrap();
        assert!((c[0] - 2.0).abs() < 1e-9 && (c[1] - 3.0).abs() < 1e-9);
        assert!((c[2] + 0.5).abs() < 1e-9);
        // Duplicated regressor: still a fit whose predictions match.
        let c = ols(&y, &[&x1, &x1, &x2]).unwrap();
        let pred = c[0] + (c[1] + c[2]) * x1[7] + c[3] * x2[7];
        assert!((pred - y[7]).abs() < 1e-5);
        assert_eq!(ols(&y, &[]).unwrap().len(), 1);
    }

    #[test]
    fn cholesky_solves_and_detects_singularity() {
        let mut a = vec![4.0, 2.0, 2.0, 3.0];
        let mut b = vec![2.0, 1.0];
        assert!(cholesky_solve(&mut a, &mut b, 2, 1e-12));
        // [4 2; 2 3] x = [2 1]: x = (0.5, 0).
        assert!((b[0] - 0.5).abs() < 1e-15 && b[1].abs() < 1e-15);
        let mut s = vec![1.0, 1.0, 1.0, 1.0];
        assert!(!cholesky_in_place(&mut s, 2, 1e-12));
    }
}
