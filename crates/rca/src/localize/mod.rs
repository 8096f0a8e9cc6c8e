//! Fault localisation: given the metrics around an incident, split into a normal period and an
//! abnormal one (and a causal graph, for the methods that walk one), rank the metrics by how
//! likely each is a root cause. One file per method, all behind [`Localizer`]:
//!
//! - [`random_walk`]: personalised PageRank over the anomalous subgraph (MicroRCA-style);
//! - [`circa_ht`]: CIRCA's regression-based hypothesis testing with descendant adjustment;
//! - [`baro`]: BARO's graph-free robust anomaly score (median / IQR of the normal period).
//!
//! Rankings are total orders over all metrics, ties broken by a documented secondary key and
//! finally by the smaller index, so the same input always gives the same ranking.

pub mod baro;
pub mod circa_ht;
pub mod random_walk;

use std::ops::Range;

use crate::data::DataMatrix;
use crate::error::RcaError;
use crate::graph::CausalGraph;
use crate::stats::mean_std;

/// The data of one incident and its normal / abnormal split.
#[derive(Debug, Clone)]
pub struct Incident<'a> {
    data: &'a DataMatrix,
    normal: Range<usize>,
    abnormal: Range<usize>,
}

impl<'a> Incident<'a> {
    /// An incident over `data`: `normal` rows are the reference, `abnormal` rows the
    /// incident (both non-empty and inside the data; they may touch but should not overlap
    /// for the scores to mean anything, which is not enforced).
    pub fn new(
        data: &'a DataMatrix,
        normal: Range<usize>,
        abnormal: Range<usize>,
    ) -> Result<Self, RcaError> {
        let n = data.samples();
        if normal.is_empty() || abnormal.is_empty() || normal.end > n || abnormal.end > n {
            return Err(RcaError::InvalidWindow { normal, abnormal, samples: n });
        }
        Ok(Incident { data, normal, abnormal })
    }

    /// The whole data matrix.
    pub fn data(&self) -> &'a DataMatrix {
        self.data
    }

    /// Number of metrics.
    pub fn variables(&self) -> usize {
        self.data.variables()
    }

    /// The normal rows.
    pub fn normal(&self) -> Range<usize> {
        self.normal.clone()
    }

    /// The abnormal rows.
    pub fn abnormal(&self) -> Range<usize> {
        self.abnormal.clone()
    }

    /// Metric `j` over the normal period.
    pub fn normal_values(&self, j: usize) -> Result<&'a [f64], RcaError> {
        Ok(&self.data.column(j)?[self.normal.clone()])
    }

    /// Metric `j` over the abnormal period.
    pub fn abnormal_values(&self, j: usize) -> Result<&'a [f64], RcaError> {
        Ok(&self.data.column(j)?[self.abnormal.clone()])
    }

    /// The n-sigma anomaly score of metric `j`: max over the abnormal period of
    /// |x - mean| / std, with the mean and population std of the normal period (CIRCA's
    /// `NSigmaScorer`); a zero std is replaced by 1 (as scikit-learn's `StandardScaler`).
    pub fn nsigma(&self, j: usize) -> Result<f64, RcaError> {
        let (mean, std) = mean_std(self.normal_values(j)?);
        Ok(max_abs_z(self.abnormal_values(j)?, mean, std))
    }

    /// Checks that `graph` has one node per metric.
    pub fn check_graph(&self, graph: &CausalGraph) -> Result<(), RcaError> {
        if graph.n_nodes() != self.variables() {
            return Err(RcaError::SizeMismatch {
                what: "causal graph",
                found: graph.n_nodes(),
                expected: self.variables(),
            });
        }
        Ok(())
    }
}

/// max |x - center| / scale over `xs`, a zero (or non-positive) scale read as 1.
pub fn max_abs_z(xs: &[f64], center: f64, scale: f64) -> f64 {
    let scale = if scale > 0.0 { scale } else { 1.0 };
    xs.iter().map(|x| ((x - center) / scale).abs()).fold(0.0, f64::max)
}

/// One ranked metric.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ranked {
    /// The metric's index.
    pub node: usize,
    /// The method's score (its meaning is the method's; higher ranks first).
    pub score: f64,
}

/// Metrics ordered from most to least likely root cause.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Ranking {
    entries: Vec<Ranked>,
}

impl Ranking {
    /// A ranking in the given order.
    pub fn from_ordered(entries: Vec<Ranked>) -> Self {
        Ranking { entries }
    }

    /// Ranks `(node, score)` by score, highest first, ties by the smaller index.
    pub fn by_score(scores: impl IntoIterator<Item = (usize, f64)>) -> Self {
        let mut entries: Vec<Ranked> =
            scores.into_iter().map(|(node, score)| Ranked { node, score }).collect();
        entries.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.node.cmp(&b.node)));
        Ranking { entries }
    }

    /// The entries, best first.
    pub fn entries(&self) -> &[Ranked] {
        &self.entries
    }

    /// The metric indices, best first.
    pub fn nodes(&self) -> Vec<usize> {
        self.entries.iter().map(|e| e.node).collect()
    }

    /// Number of ranked metrics.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is ranked.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The 0-based rank of `node`, if ranked.
    pub fn position(&self, node: usize) -> Option<usize> {
        self.entries.iter().position(|e| e.node == node)
    }
}

/// A root-cause localisation method.
pub trait Localizer {
    /// The method's name in results (`random-walk`, `circa`, `baro`).
    fn name(&self) -> &'static str;

    /// Whether [`Localizer::rank`] needs a graph.
    fn needs_graph(&self) -> bool;

    /// Ranks every metric of `incident`; graph-based methods fail with
    /// [`RcaError::MissingGraph`] without one.
    fn rank(
        &self,
        incident: &Incident<'_>,
        graph: Option<&CausalGraph>,
    ) -> Result<Ranking, RcaError>;
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::circa::{CircaCase, CircaModel, CircaSpec};
    use simcore::RandomStreams;

    /// Easy CIRCA cases: a small sparse graph, so the fault is unambiguous.
    pub(crate) fn easy_cases(count: u64) -> (CircaModel, Vec<CircaCase>) {
        let spec = CircaSpec { nodes: 20, edges: 30, ..CircaSpec::default() };
        let s = RandomStreams::new(2024);
        let m = spec.generate_model(&s).unwrap();
        let cases = (0..count).map(|i| m.generate_case(&s, i).unwrap()).collect();
        (m, cases)
    }

    /// Share of cases whose top-ranked metric is a true root cause.
    pub(crate) fn top1(loc: &dyn Localizer, with_graph: bool, count: u64) -> f64 {
        let (m, cases) = easy_cases(count);
        let mut hits = 0;
        for c in &cases {
            let inc = Incident::new(&c.data, c.normal.clone(), c.fault.clone()).unwrap();
            let r = loc.rank(&inc, with_graph.then_some(&m.dag)).unwrap();
            assert_eq!(r.len(), 20);
            hits += usize::from(c.root_causes.contains(&r.nodes()[0]));
        }
        hits as f64 / cases.len() as f64
    }

    #[test]
    fn incidents_validate_their_windows() {
        let d = DataMatrix::from_columns(vec![vec![1.0, 2.0, 3.0, 10.0]]).unwrap();
        assert!(Incident::new(&d, 0..3, 3..5).is_err());
        assert!(Incident::new(&d, 0..0, 3..4).is_err());
        let inc = Incident::new(&d, 0..3, 3..4).unwrap();
        // mean 2, population std sqrt(2/3) = 0.8165: (10 - 2) / 0.8165 = 9.798.
        assert!((inc.nsigma(0).unwrap() - 8.0 / (2.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert!(inc.nsigma(1).is_err());
        assert!(inc.check_graph(&CausalGraph::empty(2)).is_err());
    }

    #[test]
    fn rankings_sort_by_score_then_index() {
        let r = Ranking::by_score([(0, 1.0), (1, 3.0), (2, 1.0), (3, 2.0)]);
        assert_eq!(r.nodes(), vec![1, 3, 0, 2]);
        assert_eq!(r.position(0), Some(2));
        assert_eq!(r.position(9), None);
        assert!(!r.is_empty());
    }
}
