//! Preparing telemetry for Fisher-z: the test is undefined for a constant metric (zero
//! variance) and for a metric that is a linear function of others (a singular correlation
//! matrix), and causal-learn's test fails on both too. Real telemetry has both: the error
//! rate of a fault-free period is constantly 0, and a derived metric (a sum of others) is
//! exactly collinear. [`clean`] drops them and says which, so a source can report them
//! and return them as isolated nodes.
//!
//! 1. **Constant**: a column whose standard deviation is at most 1e-9 of its mean's
//!    magnitude (or exactly 0). This is a stricter test than the one
//!    [`DataMatrix::correlation`] applies (1e-13), so no kept column trips it.
//! 2. **Linearly dependent**: a greedy pivoted Cholesky factorisation of the remaining
//!    columns' correlation matrix, in column order: a column whose residual variance given
//!    the columns kept before it is below 1e-8 is dropped (it is, to that precision, a
//!    linear function of them). Earlier columns win, so the result depends only on the
//!    column order.

use crate::data::DataMatrix;
use crate::error::RcaError;

/// Relative standard deviation below which a column is constant.
const CONSTANT_TOL: f64 = 1e-9;
/// Residual variance (of a unit-variance column) below which it is linearly dependent.
const DEPENDENT_TOL: f64 = 1e-8;

/// Why a metric was left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// It does not vary over the period.
    Constant,
    /// It is a linear function of metrics kept before it.
    LinearlyDependent,
}

/// A metric left out of a data-driven step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DroppedMetric {
    /// Its name.
    pub name: String,
    /// Its column in the original data.
    pub column: usize,
    /// Why.
    pub reason: DropReason,
}

/// The testable part of a data matrix.
#[derive(Debug, Clone)]
pub struct Cleaned {
    /// The kept columns (original indices, increasing).
    pub kept: Vec<usize>,
    /// The dropped ones.
    pub dropped: Vec<DroppedMetric>,
    /// The kept columns as a matrix (`None` when fewer than two remain).
    pub data: Option<DataMatrix>,
}

impl Cleaned {
    /// The position of original column `j` among the kept ones.
    pub fn position(&self, j: usize) -> Option<usize> {
        self.kept.binary_search(&j).ok()
    }
}

fn is_constant(col: &[f64]) -> bool {
    let n = col.len() as f64;
    let mean = col.iter().sum::<f64>() / n;
    let ss: f64 = col.iter().map(|v| (v - mean) * (v - mean)).sum();
    let sd = (ss / n).sqrt();
    ss <= 0.0 || sd <= CONSTANT_TOL * mean.abs()
}

/// Drops constant and linearly dependent columns (see the module docs).
pub fn clean(data: &DataMatrix) -> Result<Cleaned, RcaError> {
    let names = data.names();
    let mut dropped = Vec::new();
    let mut varying = Vec::new();
    for (j, col) in data.columns().enumerate() {
        if is_constant(col) {
            dropped.push(DroppedMetric {
                name: names[j].clone(),
                column: j,
                reason: DropReason::Constant,
            });
        } else {
            varying.push(j);
        }
    }
    let kept = if varying.len() >= 2 {
        let sub = select(data, &varying)?;
        let r = sub.correlation()?;
        let p = varying.len();
        // Rows of the Cholesky factor of the kept columns, by position in `kept_pos`.
        let mut factor: Vec<Vec<f64>> = Vec::new();
        let mut kept_pos: Vec<usize> = Vec::new();
        for a in 0..p {
            let mut row = Vec::with_capacity(kept_pos.len());
            for (i, &b) in kept_pos.iter().enumerate() {
                let dot: f64 = row.iter().zip(&factor[i]).map(|(x, y)| x * y).sum();
                row.push((r[a * p + b] - dot) / factor[i][i]);
            }
            let d = 1.0 - row.iter().map(|x| x * x).sum::<f64>();
            if d < DEPENDENT_TOL {
                dropped.push(DroppedMetric {
                    name: names[varying[a]].clone(),
                    column: varying[a],
                    reason: DropReason::LinearlyDependent,
                });
                continue;
            }
            row.push(d.sqrt());
            factor.push(row);
            kept_pos.push(a);
        }
        kept_pos.iter().map(|&a| varying[a]).collect()
    } else {
        varying
    };
    dropped.sort_by_key(|d| d.column);
    let data = if kept.len() >= 2 { Some(select(data, &kept)?) } else { None };
    Ok(Cleaned { kept, dropped, data })
}

/// The columns `cols` of `data`, with their names.
pub fn select(data: &DataMatrix, cols: &[usize]) -> Result<DataMatrix, RcaError> {
    let mut columns = Vec::with_capacity(cols.len());
    let mut names = Vec::with_capacity(cols.len());
    for &j in cols {
        columns.push(data.column(j)?.to_vec());
        names.push(data.names()[j].clone());
    }
    DataMatrix::from_columns(columns)?.with_names(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_constant_and_dependent_columns() {
        let a = vec![1.0, 2.0, 3.0, 5.0, 4.0];
        let b = vec![2.0, 1.0, 0.0, 1.0, 3.0];
        let c = vec![7.0; 5];
        let d: Vec<f64> = a.iter().zip(&b).map(|(x, y)| 2.0 * x - y + 1.0).collect();
        let m = DataMatrix::from_columns(vec![a, c, b, d])
            .unwrap()
            .with_names(vec!["a".into(), "c".into(), "b".into(), "d".into()])
            .unwrap();
        let out = clean(&m).unwrap();
        assert_eq!(out.kept, vec![0, 2]);
        assert_eq!(
            out.dropped,
            vec![
                DroppedMetric { name: "c".into(), column: 1, reason: DropReason::Constant },
                DroppedMetric {
                    name: "d".into(),
                    column: 3,
                    reason: DropReason::LinearlyDependent
                },
            ]
        );
        assert_eq!(out.data.as_ref().unwrap().names(), ["a", "b"]);
        assert_eq!(out.position(2), Some(1));
        assert_eq!(out.position(3), None);
    }
}
