//! BARO's root-cause ranking (L. Pham, H. Ha, H. Zhang, "BARO: Robust Root Cause Analysis for
//! Microservices via Multivariate Bayesian Online Change Point Detection", FSE 2024): after a
//! change point splits the data, each metric is scored by how far its abnormal values lie
//! from its normal ones in robust units, and metrics are ranked by that score. No graph.
//!
//! score_j = max over the abnormal period of |x - median_j| / IQR_j, with the median and the
//! interquartile range (75th minus 25th percentile, linearly interpolated) of metric j over
//! the normal period: scikit-learn's `RobustScaler`, which BARO's scorer uses, followed by
//! the maximum absolute value. An IQR of zero is replaced by 1 (`RobustScaler`'s rule for
//! a zero scale). We take the normal / abnormal split as given (the incident's windows);
//! BARO's own Bayesian online change-point detection, which finds that split, is not built.
//! Ties: smaller index first.

use crate::error::RcaError;
use crate::graph::CausalGraph;
use crate::localize::{Incident, Localizer, Ranking, max_abs_z};
use crate::stats::quantile;

/// BARO's robust anomaly ranking.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Baro;

impl Baro {
    /// The robust score of metric `j`.
    pub fn score(incident: &Incident<'_>, j: usize) -> Result<f64, RcaError> {
        let normal = incident.normal_values(j)?;
        let median = quantile(normal, 0.5);
        let iqr = quantile(normal, 0.75) - quantile(normal, 0.25);
        Ok(max_abs_z(incident.abnormal_values(j)?, median, iqr))
    }
}

impl Localizer for Baro {
    fn name(&self) -> &'static str {
        "baro"
    }

    fn needs_graph(&self) -> bool {
        false
    }

    fn rank(
        &self,
        incident: &Incident<'_>,
        _graph: Option<&CausalGraph>,
    ) -> Result<Ranking, RcaError> {
        let scores = (0..incident.variables())
            .map(|j| Ok((j, Self::score(incident, j)?)))
            .collect::<Result<Vec<_>, RcaError>>()?;
        Ok(Ranking::by_score(scores))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::DataMatrix;
    use crate::localize::tests::top1;

    #[test]
    fn hand_case() {
        // Normal (1, 2, 3, 4, 100): median 3, IQR 4 - 2 = 2 (the outlier barely matters).
        // Abnormal 9: |9 - 3| / 2 = 3. The second metric is constant (IQR 0 -> 1): |5-5| = 0.
        let d = DataMatrix::from_columns(vec![
            vec![1.0, 2.0, 3.0, 4.0, 100.0, 9.0],
            vec![5.0, 5.0, 5.0, 5.0, 5.0, 5.0],
        ])
        .unwrap();
        let inc = Incident::new(&d, 0..5, 5..6).unwrap();
        assert_eq!(Baro::score(&inc, 0).unwrap(), 3.0);
        assert_eq!(Baro::score(&inc, 1).unwrap(), 0.0);
        assert_eq!(Baro.rank(&inc, None).unwrap().nodes(), vec![0, 1]);
    }

    #[test]
    fn ranks_the_injected_root_cause_first_on_easy_cases() {
        // Direction test: most of the time, far above chance (1/20).
        let acc = top1(&Baro, false, 20);
        assert!(acc >= 0.5, "BARO top-1 on easy CIRCA cases: {acc}");
    }
}
