//! A data matrix: samples (time points) x variables (metrics), stored by column, every value
//! finite. Causal discovery, the generators and the localisers all read this one type.

use crate::error::RcaError;

/// Samples x variables, column-major, with optional variable names.
#[derive(Debug, Clone, PartialEq)]
pub struct DataMatrix {
    samples: usize,
    variables: usize,
    /// Column `j` is `values[j * samples..(j + 1) * samples]`.
    values: Vec<f64>,
    names: Vec<String>,
}

impl DataMatrix {
    /// A matrix from its columns (one per variable, all the same length). Variables are
    /// named `x0`, `x1`, ...
    pub fn from_columns(columns: Vec<Vec<f64>>) -> Result<Self, RcaError> {
        let variables = columns.len();
        let samples = columns.first().map_or(0, Vec::len);
        if variables == 0 || samples == 0 {
            return Err(RcaError::EmptyData { samples, variables });
        }
        let mut values = Vec::with_capacity(samples * variables);
        for (j, col) in columns.into_iter().enumerate() {
            if col.len() != samples {
                return Err(RcaError::Ragged { variable: j, found: col.len(), expected: samples });
            }
            values.extend(col);
        }
        Self::from_column_major(samples, variables, values)
    }

    /// A matrix from its rows (one per sample, all the same length).
    pub fn from_rows(rows: &[Vec<f64>]) -> Result<Self, RcaError> {
        let samples = rows.len();
        let variables = rows.first().map_or(0, Vec::len);
        if variables == 0 || samples == 0 {
            return Err(RcaError::EmptyData { samples, variables });
        }
        let mut values = vec![0.0; samples * variables];
        for (t, row) in rows.iter().enumerate() {
            if row.len() != variables {
                // For row input the "variable" field names the offending row.
                return Err(RcaError::Ragged {
                    variable: t,
                    found: row.len(),
                    expected: variables,
                });
            }
            for (j, &v) in row.iter().enumerate() {
                values[j * samples + t] = v;
            }
        }
        Self::from_column_major(samples, variables, values)
    }

    /// A matrix from column-major values (`values.len() == samples * variables`).
    pub fn from_column_major(
        samples: usize,
        variables: usize,
        values: Vec<f64>,
    ) -> Result<Self, RcaError> {
        if variables == 0 || samples == 0 {
            return Err(RcaError::EmptyData { samples, variables });
        }
        if values.len() != samples * variables {
            return Err(RcaError::Ragged {
                variable: values.len() / samples,
                found: values.len() % samples,
                expected: samples,
            });
        }
        if let Some(k) = values.iter().position(|v| !v.is_finite()) {
            return Err(RcaError::NonFinite {
                sample: k % samples,
                variable: k / samples,
                value: values[k],
            });
        }
        let names = (0..variables).map(|j| format!("x{j}")).collect();
        Ok(DataMatrix { samples, variables, values, names })
    }

    /// The same matrix with the given variable names.
    pub fn with_names(mut self, names: Vec<String>) -> Result<Self, RcaError> {
        if names.len() != self.variables {
            return Err(RcaError::NameCount { names: names.len(), variables: self.variables });
        }
        self.names = names;
        Ok(self)
    }

    /// Number of samples (rows).
    pub fn samples(&self) -> usize {
        self.samples
    }

    /// Number of variables (columns).
    pub fn variables(&self) -> usize {
        self.variables
    }

    /// The variable names.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Column `j`, or an error if out of range.
    pub fn column(&self, j: usize) -> Result<&[f64], RcaError> {
        if j >= self.variables {
            return Err(RcaError::OutOfRange { index: j, len: self.variables });
        }
        Ok(&self.values[j * self.samples..(j + 1) * self.samples])
    }

    /// All columns in order.
    pub fn columns(&self) -> impl Iterator<Item = &[f64]> {
        self.values.chunks_exact(self.samples)
    }

    /// The rows `range` as a new matrix (same names).
    pub fn rows(&self, range: std::ops::Range<usize>) -> Result<Self, RcaError> {
        if range.start >= range.end || range.end > self.samples {
            return Err(RcaError::InvalidWindow {
                normal: range.clone(),
                abnormal: range,
                samples: self.samples,
            });
        }
        let mut values = Vec::with_capacity(range.len() * self.variables);
        for col in self.columns() {
            values.extend_from_slice(&col[range.clone()]);
        }
        Ok(DataMatrix {
            samples: range.len(),
            variables: self.variables,
            values,
            names: self.names.clone(),
        })
    }

    /// The Pearson correlation matrix (row-major, `variables x variables`), or an error
    /// naming the first constant variable.
    pub fn correlation(&self) -> Result<Vec<f64>, RcaError> {
        let (n, p) = (self.samples, self.variables);
        // Centred, unit-norm columns: the correlation is then a dot product.
        let mut z = Vec::with_capacity(n * p);
        for (j, col) in self.columns().enumerate() {
            let mean = col.iter().sum::<f64>() / n as f64;
            let ss: f64 = col.iter().map(|v| (v - mean) * (v - mean)).sum();
            // A column whose spread is at rounding level relative to its mean is constant.
            let scale = mean.abs().max(f64::MIN_POSITIVE);
            if ss <= 0.0 || ss.sqrt() <= 1e-13 * scale * (n as f64).sqrt() {
                return Err(RcaError::ConstantVariable { variable: j, samples: n });
            }
            let inv = 1.0 / ss.sqrt();
            z.extend(col.iter().map(|v| (v - mean) * inv));
        }
        let mut r = vec![0.0; p * p];
        for i in 0..p {
            r[i * p + i] = 1.0;
            let zi = &z[i * n..(i + 1) * n];
            for j in (i + 1)..p {
                let zj = &z[j * n..(j + 1) * n];
                let c = zi.iter().zip(zj).map(|(a, b)| a * b).sum::<f64>().clamp(-1.0, 1.0);
                r[i * p + j] = c;
                r[j * p + i] = c;
            }
        }
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_and_columns_agree() {
        let a = DataMatrix::from_rows(&[vec![1.0, 2.0], vec![3.0, 4.0], vec![5.0, 7.0]]).unwrap();
        let b = DataMatrix::from_columns(vec![vec![1.0, 3.0, 5.0], vec![2.0, 4.0, 7.0]]).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.column(1).unwrap(), &[2.0, 4.0, 7.0]);
        assert_eq!(a.rows(1..3).unwrap().column(0).unwrap(), &[3.0, 5.0]);
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(matches!(DataMatrix::from_columns(vec![]), Err(RcaError::EmptyData { .. })));
        assert!(matches!(
            DataMatrix::from_columns(vec![vec![1.0, 2.0], vec![1.0]]),
            Err(RcaError::Ragged { variable: 1, found: 1, expected: 2 })
        ));
        assert!(matches!(
            DataMatrix::from_columns(vec![vec![1.0, f64::NAN]]),
            Err(RcaError::NonFinite { sample: 1, variable: 0, .. })
        ));
        let m = DataMatrix::from_columns(vec![vec![1.0, 2.0], vec![4.0, 4.0]]).unwrap();
        assert!(matches!(m.correlation(), Err(RcaError::ConstantVariable { variable: 1, .. })));
        assert!(m.column(2).is_err());
        assert!(m.rows(1..1).is_err());
        assert!(m.clone().with_names(vec!["a".into()]).is_err());
    }

    #[test]
    fn correlation_of_a_hand_case() {
        // x = (1, 2, 3), y = (1, 3, 2): centred (-1, 0, 1) and (-1, 1, 0); r = 1 / 2.
        let m = DataMatrix::from_columns(vec![vec![1.0, 2.0, 3.0], vec![1.0, 3.0, 2.0]]).unwrap();
        let r = m.correlation().unwrap();
        assert!((r[1] - 0.5).abs() < 1e-15 && (r[2] - 0.5).abs() < 1e-15);
        assert_eq!((r[0], r[3]), (1.0, 1.0));
    }
}
