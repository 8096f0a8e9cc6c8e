//! Fisher's z test of conditional independence for (approximately) linear-Gaussian data, the
//! default test of causal-learn's and pcalg's PC.
//!
//! For variables x, y and a conditioning set S of size k over n samples:
//!
//! 1. the partial correlation r = r(x, y | S) from the correlation matrix R. We use the Schur
//!    complement: with R_SS = L L^T (Cholesky) and w_a = L^{-1} R_Sa,
//!    C_ab = R_ab - w_a . w_b for a, b in {x, y}, and r = C_xy / sqrt(C_xx C_yy). This equals
//!    the textbook -P_xy / sqrt(P_xx P_yy) with P the inverse of R restricted to {x, y} ∪ S,
//!    at the cost of one k x k factorisation instead of a (k+2) x (k+2) inverse;
//! 2. Fisher's transform z = 0.5 sqrt(n - k - 3) ln((1 + r) / (1 - r)) (Fisher 1915; Kalisch
//!    and Bühlmann, JMLR 8, 2007, eq. 3, with the atanh written out);
//! 3. the two-sided p-value p = 2 (1 - Phi(|z|)), with Phi from [`crate::stats::erfc`].
//!
//! Degenerate input, and what happens:
//! - a constant variable: [`FisherZ::new`] fails with [`RcaError::ConstantVariable`];
//! - n <= k + 3: [`RcaError::TooFewSamples`] (the statistic has no degrees of freedom);
//! - R_SS not positive definite, or x or y a linear function of S (residual variance below
//!   1e-10): [`RcaError::SingularCorrelation`] naming the variables (causal-learn raises an
//!   error in the same case);
//! - |r| >= 1 - 1e-12 after rounding: r is clipped to ±(1 - 1e-12), so z is large and the
//!   p-value is (near) zero: perfectly correlated variables are dependent.

use crate::ci::CiTest;
use crate::data::DataMatrix;
use crate::error::RcaError;
use crate::stats::{cholesky_in_place, two_sided_p};

/// |r| is clipped below 1 by this much.
const R_CLIP: f64 = 1e-12;
/// Relative pivot and residual-variance tolerance of the correlation submatrices.
const SINGULAR_TOL: f64 = 1e-10;

/// Fisher-z over a fixed correlation matrix and sample count.
#[derive(Debug, Clone)]
pub struct FisherZ {
    p: usize,
    n: usize,
    corr: Vec<f64>,
    // Scratch space, reused across calls: the k x k factor and the two solved vectors.
    l: Vec<f64>,
    wx: Vec<f64>,
    wy: Vec<f64>,
}

impl FisherZ {
    /// The test on a data matrix (its Pearson correlations, computed once).
    pub fn new(data: &DataMatrix) -> Result<Self, RcaError> {
        let corr = data.correlation()?;
        Ok(Self::build(data.variables(), data.samples(), corr))
    }

    /// The test from a correlation matrix (row-major, `p x p`) and a sample count.
    pub fn from_correlation(corr: Vec<f64>, p: usize, n: usize) -> Result<Self, RcaError> {
        if corr.len() != p * p {
            return Err(RcaError::SizeMismatch {
                what: "correlation matrix",
                found: corr.len(),
                expected: p * p,
            });
        }
        for i in 0..p {
            for j in 0..p {
                let c = corr[i * p + j];
                let ok =
                    c.is_finite() && c.abs() <= 1.0 && (i != j || c == 1.0) && c == corr[j * p + i];
                if !ok {
                    return Err(RcaError::InvalidParameter {
                        name: "correlation",
                        value: format!("[{i}][{j}] = {c}"),
                        expected: "a symmetric matrix with unit diagonal and entries in [-1, 1]",
                    });
                }
            }
        }
        Ok(Self::build(p, n, corr))
    }

    fn build(p: usize, n: usize, corr: Vec<f64>) -> Self {
        FisherZ { p, n, corr, l: Vec::new(), wx: Vec::new(), wy: Vec::new() }
    }

    /// Number of samples.
    pub fn samples(&self) -> usize {
        self.n
    }

    /// The correlation matrix (row-major).
    pub fn correlation(&self) -> &[f64] {
        &self.corr
    }

    fn check(&self, x: usize, y: usize, s: &[usize]) -> Result<(), RcaError> {
        for &i in s.iter().chain([&x, &y]) {
            if i >= self.p {
                return Err(RcaError::OutOfRange { index: i, len: self.p });
            }
        }
        if x == y || s.contains(&x) || s.contains(&y) {
            return Err(RcaError::InvalidParameter {
                name: "ci test",
                value: format!("x = {x}, y = {y}, S = {s:?}"),
                expected: "x != y and neither in the conditioning set",
            });
        }
        Ok(())
    }

    fn singular(x: usize, y: usize, s: &[usize]) -> RcaError {
        let mut variables: Vec<usize> = s.iter().copied().chain([x, y]).collect();
        variables.sort_unstable();
        RcaError::SingularCorrelation { variables }
    }

    /// The partial correlation r(x, y | s).
    pub fn partial_correlation(
        &mut self,
        x: usize,
        y: usize,
        s: &[usize],
    ) -> Result<f64, RcaError> {
        self.check(x, y, s)?;
        let p = self.p;
        let k = s.len();
        let r = |a: usize, b: usize| self.corr[a * p + b];
        if k == 0 {
            return Ok(r(x, y));
        }
        self.l.clear();
        for &a in s {
            self.l.extend(s.iter().map(|&b| r(a, b)));
        }
        if !cholesky_in_place(&mut self.l, k, SINGULAR_TOL) {
            return Err(Self::singular(x, y, s));
        }
        self.wx.clear();
        self.wy.clear();
        self.wx.extend(s.iter().map(|&a| r(a, x)));
        self.wy.extend(s.iter().map(|&a| r(a, y)));
        // Forward substitution L w = R_Sa for both right-hand sides.
        for i in 0..k {
            let (mut sx, mut sy) = (self.wx[i], self.wy[i]);
            let row = &self.l[i * k..i * k + i];
            for (j, &lij) in row.iter().enumerate() {
                sx -= lij * self.wx[j];
                sy -= lij * self.wy[j];
            }
            let d = self.l[i * k + i];
            self.wx[i] = sx / d;
            self.wy[i] = sy / d;
        }
        let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(u, v)| u * v).sum::<f64>();
        let cxx = 1.0 - dot(&self.wx, &self.wx);
        let cyy = 1.0 - dot(&self.wy, &self.wy);
        let cxy = r(x, y) - dot(&self.wx, &self.wy);
        if !(cxx > SINGULAR_TOL && cyy > SINGULAR_TOL) {
            return Err(Self::singular(x, y, s));
        }
        Ok(cxy / (cxx * cyy).sqrt())
    }
}

impl CiTest for FisherZ {
    fn n_vars(&self) -> usize {
        self.p
    }

    fn p_value(&mut self, x: usize, y: usize, s: &[usize]) -> Result<f64, RcaError> {
        self.check(x, y, s)?;
        if self.n <= s.len() + 3 {
            return Err(RcaError::TooFewSamples { samples: self.n, conditioning: s.len() });
        }
        let r = self.partial_correlation(x, y, s)?.clamp(-1.0 + R_CLIP, 1.0 - R_CLIP);
        let dof = (self.n - s.len() - 3) as f64;
        let z = 0.5 * dof.sqrt() * ((1.0 + r) / (1.0 - r)).ln();
        Ok(two_sided_p(z))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn three() -> FisherZ {
        let corr = vec![1.0, 0.5, 0.6, 0.5, 1.0, 0.7, 0.6, 0.7, 1.0];
        FisherZ::from_correlation(corr, 3, 100).unwrap()
    }

    #[test]
    fn matches_a_hand_computation() {
        // r_xy = 0.5, r_xz = 0.6, r_yz = 0.7, n = 100.
        // r(x, y | z) = (r_xy - r_xz r_yz) / sqrt((1 - r_xz^2)(1 - r_yz^2))
        //             = (0.5 - 0.42) / sqrt(0.64 * 0.51) = 0.08 / sqrt(0.3264)
        //             = 0.08 / 0.571314274 = 0.140028008.
        // z = 0.5 sqrt(100 - 1 - 3) ln((1 + r) / (1 - r))
        //   = 0.5 * 9.797958971 * ln(1.140028008 / 0.859971992)
        //   = 0.5 * 9.797958971 * ln(1.325657137) = 0.5 * 9.797958971 * 0.281908289
        //   = 1.381062925.
        // p = 2 (1 - Phi(1.381062925)) = erfc(1.381062925 / sqrt 2) = 0.167259614.
        let mut t = three();
        let r = t.partial_correlation(0, 1, &[2]).unwrap();
        assert!((r - 0.140_028_008).abs() < 1e-9, "{r}");
        let p = t.p_value(0, 1, &[2]).unwrap();
        assert!((p - 0.167_259_614).abs() < 1e-7, "{p}");
        // Unconditional: z = 0.5 sqrt(97) ln(3) = 5.410038105, p = 6.301134e-8.
        let p0 = t.p_value(0, 1, &[]).unwrap();
        assert!(((p0 - 6.301_134e-8) / 6.301_134e-8).abs() < 1e-6, "{p0}");
        // Symmetric in x and y.
        assert_eq!(t.p_value(1, 0, &[2]).unwrap(), p);
    }

    #[test]
    fn data_and_correlation_constructors_agree() {
        // x = (1, 2, 3, 4, 5), y = (2, 1, 4, 3, 6), z = (1, 1, 2, 2, 4), n = 5 > |S| + 3 = 4.
        let d = DataMatrix::from_columns(vec![
            vec![1.0, 2.0, 3.0, 4.0, 5.0],
            vec![2.0, 1.0, 4.0, 3.0, 6.0],
            vec![1.0, 1.0, 2.0, 2.0, 4.0],
        ])
        .unwrap();
        let mut a = FisherZ::new(&d).unwrap();
        let mut b = FisherZ::from_correlation(d.correlation().unwrap(), 3, 5).unwrap();
        assert_eq!(a.p_value(0, 1, &[2]).unwrap(), b.p_value(0, 1, &[2]).unwrap());
        // Gauss-Jordan reference for -P01 / sqrt(P00 P11) on the 3 x 3 inverse.
        let r = d.correlation().unwrap();
        let inv = invert3(&r);
        let want = -inv[1] / (inv[0] * inv[4]).sqrt();
        assert!((a.partial_correlation(0, 1, &[2]).unwrap() - want).abs() < 1e-12);
    }

    /// 3 x 3 inverse by the adjugate, as an independent check.
    fn invert3(m: &[f64]) -> Vec<f64> {
        let c = |i: usize, j: usize| m[i * 3 + j];
        let cof = |i: usize, j: usize| {
            let (r0, r1) = ([1, 0, 0][i], [2, 2, 1][i]);
            let (c0, c1) = ([1, 0, 0][j], [2, 2, 1][j]);
            let s = if (i + j).is_multiple_of(2) { 1.0 } else { -1.0 };
            s * (c(r0, c0) * c(r1, c1) - c(r0, c1) * c(r1, c0))
        };
        let det: f64 = (0..3).map(|j| c(0, j) * cof(0, j)).sum();
        let mut out = vec![0.0; 9];
        for i in 0..3 {
            for j in 0..3 {
                out[j * 3 + i] = cof(i, j) / det;
            }
        }
        out
    }

    #[test]
    fn degenerate_input_is_an_error_or_documented() {
        let mut t = three();
        assert!(matches!(t.p_value(0, 0, &[]), Err(RcaError::InvalidParameter { .. })));
        assert!(matches!(t.p_value(0, 1, &[1]), Err(RcaError::InvalidParameter { .. })));
        assert!(matches!(t.p_value(0, 7, &[]), Err(RcaError::OutOfRange { index: 7, .. })));
        let mut small = FisherZ::from_correlation(three().corr, 3, 4).unwrap();
        assert!(matches!(small.p_value(0, 1, &[2]), Err(RcaError::TooFewSamples { .. })));
        // x and z perfectly correlated: conditioning y on z leaves x with no variance.
        let corr = vec![1.0, 0.5, 1.0, 0.5, 1.0, 0.5, 1.0, 0.5, 1.0];
        let mut sing = FisherZ::from_correlation(corr, 3, 100).unwrap();
        assert!(matches!(
            sing.p_value(0, 1, &[2]),
            Err(RcaError::SingularCorrelation { ref variables }) if variables == &[0, 1, 2]
        ));
        // |r| = 1 without conditioning: clipped, p = 0 (dependent), no panic.
        assert!(sing.p_value(0, 2, &[]).unwrap() < 1e-12);
        let bad = FisherZ::from_correlation(vec![1.0, 2.0, 2.0, 1.0], 2, 10);
        assert!(bad.is_err());
    }

    proptest! {
        /// For any valid 3-variable correlation matrix, the p-value is a probability and the
        /// partial correlation is in [-1, 1].
        #[test]
        fn p_values_are_probabilities(a in -0.9f64..0.9, b in -0.9f64..0.9, c in -0.9f64..0.9,
                                      n in 5usize..10_000) {
            // Only positive definite matrices are correlation matrices.
            prop_assume!(1.0 + 2.0 * a * b * c - a * a - b * b - c * c > 1e-9);
            let corr = vec![1.0, a, b, a, 1.0, c, b, c, 1.0];
            let mut t = FisherZ::from_correlation(corr, 3, n).unwrap();
            match t.p_value(0, 1, &[2]) {
                Ok(p) => prop_assert!((0.0..=1.0).contains(&p)),
                Err(e) => {
                    let singular = matches!(e, RcaError::SingularCorrelation { .. });
                    prop_assert!(singular, "unexpected error {e}");
                }
            }
            if let Ok(r) = t.partial_correlation(0, 1, &[2]) {
                prop_assert!(r.abs() <= 1.0 + 1e-9);
            }
        }
    }
}
