//! Scores: RCAEval's localisation accuracy (L. Pham, H. Zhang, H. Ha, F. Salim, X. Zhang,
//! "RCAEval: A Benchmark for Root Cause Analysis of Microservice Systems with Telemetry
//! Data", WWW 2025 companion) and graph accuracy against a true graph.
//!
//! **AC@k** is the share of cases whose true root cause is among the top k. RCAEval's cases
//! have one root cause each; for several (CIRCA's generator injects Poisson(1) + 1), we use
//! the PR@k form of MicroRCA, RCD and the LEMMA-RCA benchmark:
//! AC@k = (1/|A|) sum_a |top_k(a) ∩ V_a| / min(k, |V_a|), which is RCAEval's indicator
//! when |V_a| = 1, and gives a case full credit when its top k holds as many true causes as
//! fit (CIRCA's own code divides by |V_a| instead, which caps AC@1 at 1/|V_a|).
//! **Avg@k** = (1/k) sum_{j=1..k} AC@j.
//!
//! **Graph scores.** Each graph is read as a set of arcs: `a -> b` gives (a, b), and an
//! undirected `a - b` gives both (a, b) and (b, a), as when a CPDAG is compared through its
//! adjacency matrix (so an undirected estimate of a true `a -> b` earns one true positive
//! and one false positive). Edge precision = |E ∩ T| / |E|, recall = |E ∩ T| / |T|,
//! F1 = 2PR / (P + R). The skeleton scores do the same with unordered pairs. SHD (structural
//! Hamming distance, Tsamardinos, Brown and Aliferis 2006, for PDAGs) counts the node pairs
//! whose edge differs in any way: missing, extra, or with different marks (a reversal or a
//! directed-vs-undirected difference counts once). Conventions for empty sets: precision
//! with nothing predicted is 1, recall with nothing true is 1, F1 with P + R = 0 is 0.

use crate::error::RcaError;
use crate::graph::CausalGraph;

/// One scored case: a ranking (best first) and the true root causes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RankedCase {
    /// Metrics, most likely root cause first.
    pub ranking: Vec<usize>,
    /// The true root causes.
    pub truth: Vec<usize>,
}

fn check(cases: &[RankedCase], k: usize) -> Result<(), RcaError> {
    if cases.is_empty() {
        return Err(RcaError::NoCases);
    }
    if k == 0 {
        return Err(RcaError::InvalidParameter {
            name: "k",
            value: "0".into(),
            expected: "k >= 1",
        });
    }
    if let Some(i) = cases.iter().position(|c| c.truth.is_empty()) {
        return Err(RcaError::EmptyTruth(i));
    }
    Ok(())
}

fn hit(case: &RankedCase, k: usize) -> f64 {
    let mut truth = case.truth.clone();
    truth.sort_unstable();
    truth.dedup();
    // Distinct true causes in the top k (a ranking that repeats a metric earns it once).
    let top = &case.ranking[..k.min(case.ranking.len())];
    let found = truth.iter().filter(|t| top.contains(t)).count();
    found as f64 / k.min(truth.len()) as f64
}

/// AC@k over the cases (see the module docs).
pub fn ac_at_k(cases: &[RankedCase], k: usize) -> Result<f64, RcaError> {
    check(cases, k)?;
    Ok(cases.iter().map(|c| hit(c, k)).sum::<f64>() / cases.len() as f64)
}

/// Avg@k = mean of AC@1 .. AC@k.
pub fn avg_at_k(cases: &[RankedCase], k: usize) -> Result<f64, RcaError> {
    check(cases, k)?;
    let mut sum = 0.0;
    for j in 1..=k {
        sum += ac_at_k(cases, j)?;
    }
    Ok(sum / k as f64)
}

/// Precision, recall and F1 of one edge set against another.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prf {
    /// True positives / predicted.
    pub precision: f64,
    /// True positives / true.
    pub recall: f64,
    /// Harmonic mean of the two.
    pub f1: f64,
}

impl Prf {
    fn new(tp: usize, predicted: usize, truth: usize) -> Self {
        let precision = if predicted == 0 { 1.0 } else { tp as f64 / predicted as f64 };
        let recall = if truth == 0 { 1.0 } else { tp as f64 / truth as f64 };
        let f1 = if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        };
        Prf { precision, recall, f1 }
    }
}

/// An estimated graph scored against the true one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GraphScores {
    /// Arc-level (directed) precision, recall, F1.
    pub edges: Prf,
    /// Skeleton (adjacency) precision, recall, F1.
    pub skeleton: Prf,
    /// Structural Hamming distance.
    pub shd: usize,
}

/// Scores `estimate` against `truth` (same number of nodes, matched by index).
pub fn compare_graphs(
    estimate: &CausalGraph,
    truth: &CausalGraph,
) -> Result<GraphScores, RcaError> {
    let n = truth.n_nodes();
    if estimate.n_nodes() != n {
        return Err(RcaError::SizeMismatch {
            what: "estimated graph",
            found: estimate.n_nodes(),
            expected: n,
        });
    }
    let arc = |g: &CausalGraph, a: usize, b: usize| {
        matches!(g.mark(a, b), crate::graph::Mark::Out | crate::graph::Mark::Undirected)
    };
    let (mut tp, mut pe, mut pt) = (0, 0, 0);
    let (mut stp, mut spe, mut spt) = (0, 0, 0);
    let mut shd = 0;
    for a in 0..n {
        for b in 0..n {
            if a == b {
                continue;
            }
            let (e, t) = (arc(estimate, a, b), arc(truth, a, b));
            pe += usize::from(e);
            pt += usize::from(t);
            tp += usize::from(e && t);
            if a < b {
                let (e, t) = (estimate.is_adjacent(a, b), truth.is_adjacent(a, b));
                spe += usize::from(e);
                spt += usize::from(t);
                stp += usize::from(e && t);
                shd += usize::from(estimate.mark(a, b) != truth.mark(a, b));
            }
        }
    }
    Ok(GraphScores { edges: Prf::new(tp, pe, pt), skeleton: Prf::new(stp, spe, spt), shd })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn case(ranking: &[usize], truth: &[usize]) -> RankedCase {
        RankedCase { ranking: ranking.to_vec(), truth: truth.to_vec() }
    }

    #[test]
    fn ac_and_avg_on_a_hand_made_ranking() {
        // Four cases, one root cause each, found at ranks 1, 2, 4 and never (in top 5).
        let cases = [
            case(&[7, 1, 2, 3, 4], &[7]),
            case(&[1, 7, 2, 3, 4], &[7]),
            case(&[1, 2, 3, 7, 4], &[7]),
            case(&[1, 2, 3, 4, 5, 7], &[7]),
        ];
        // AC@1 = 1/4, AC@2 = 2/4, AC@3 = 2/4, AC@4 = 3/4, AC@5 = 3/4.
        let ac: Vec<f64> = (1..=5).map(|k| ac_at_k(&cases, k).unwrap()).collect();
        assert_eq!(ac, vec![0.25, 0.5, 0.5, 0.75, 0.75]);
        // Avg@3 = (0.25 + 0.5 + 0.5) / 3 = 0.416667; Avg@5 = 2.75 / 5 = 0.55.
        assert!((avg_at_k(&cases, 3).unwrap() - 1.25 / 3.0).abs() < 1e-15);
        assert!((avg_at_k(&cases, 5).unwrap() - 0.55).abs() < 1e-15);
    }

    #[test]
    fn several_root_causes_use_min_k_truth() {
        // Truth {3, 5}; ranking 3, 9, 5: AC@1 = 1/min(1,2) = 1, AC@2 = 1/2, AC@3 = 2/2.
        let c = [case(&[3, 9, 5], &[3, 5])];
        assert_eq!(ac_at_k(&c, 1).unwrap(), 1.0);
        assert_eq!(ac_at_k(&c, 2).unwrap(), 0.5);
        assert_eq!(ac_at_k(&c, 3).unwrap(), 1.0);
    }

    #[test]
    fn bad_score_input_is_an_error() {
        assert_eq!(ac_at_k(&[], 1), Err(RcaError::NoCases));
        assert_eq!(ac_at_k(&[case(&[1], &[])], 1), Err(RcaError::EmptyTruth(0)));
        assert!(avg_at_k(&[case(&[1], &[1])], 0).is_err());
        let r = compare_graphs(&CausalGraph::empty(2), &CausalGraph::empty(3));
        assert!(r.is_err());
    }

    #[test]
    fn graph_scores_on_hand_graphs() {
        // Truth: 0 -> 1, 1 -> 2, 2 -> 3. Estimate: 0 -> 1 (right), 2 -> 1 (reversed),
        // 2 - 3 (undirected), 0 -> 3 (extra).
        let truth = CausalGraph::from_directed_edges(4, &[(0, 1), (1, 2), (2, 3)]).unwrap();
        let mut est = CausalGraph::from_directed_edges(4, &[(0, 1), (2, 1), (0, 3)]).unwrap();
        est.add_undirected(2, 3).unwrap();
        let s = compare_graphs(&est, &truth).unwrap();
        // Arcs: estimate {01, 21, 03, 23, 32} (5), truth {01, 12, 23} (3), common {01, 23}.
        // P = 2/5, R = 2/3, F1 = 2 (0.4)(0.6667) / 1.0667 = 0.5.
        assert!((s.edges.precision - 0.4).abs() < 1e-15);
        assert!((s.edges.recall - 2.0 / 3.0).abs() < 1e-15);
        assert!((s.edges.f1 - 0.5).abs() < 1e-15);
        // Skeleton: estimate {01, 12, 23, 03}, truth {01, 12, 23}: P = 3/4, R = 1, F1 = 6/7.
        assert!((s.skeleton.f1 - 6.0 / 7.0).abs() < 1e-15);
        // SHD: 1-2 reversed, 2-3 undirected vs directed, 0-3 extra: 3.
        assert_eq!(s.shd, 3);
        // A graph against itself.
        let me = compare_graphs(&truth, &truth).unwrap();
        assert_eq!((me.edges.f1, me.skeleton.f1, me.shd), (1.0, 1.0, 0));
        // Empty vs empty: perfect by convention; empty vs truth: F1 0.
        let e = CausalGraph::empty(4);
        assert_eq!(compare_graphs(&e, &e).unwrap().edges.f1, 1.0);
        let miss = compare_graphs(&e, &truth).unwrap();
        assert_eq!((miss.edges.f1, miss.shd), (0.0, 3));
    }

    proptest! {
        /// AC@k never decreases in k, and Avg@k <= AC@k; both lie in [0, 1].
        #[test]
        fn ac_is_monotone(rank in proptest::collection::vec(0usize..8, 1..8),
                          truth in proptest::collection::vec(0usize..8, 1..3)) {
            let c = [RankedCase { ranking: rank, truth }];
            let mut last = 0.0;
            for k in 1..=8 {
                let a = ac_at_k(&c, k).unwrap();
                prop_assert!((0.0..=1.0).contains(&a));
                if c[0].truth.len() == 1 { prop_assert!(a >= last); }
                last = a;
                prop_assert!(avg_at_k(&c, k).unwrap() <= 1.0);
            }
        }

        /// SHD is symmetric and zero exactly on equal graphs.
        #[test]
        fn shd_is_a_distance(edges_a in proptest::collection::vec((0usize..5, 0usize..5), 0..8),
                             edges_b in proptest::collection::vec((0usize..5, 0usize..5), 0..8)) {
            let build = |es: &[(usize, usize)]| {
                let mut g = CausalGraph::empty(5);
                for &(a, b) in es { if a != b { g.add_directed(a, b).unwrap(); } }
                g
            };
            let (a, b) = (build(&edges_a), build(&edges_b));
            let ab = compare_graphs(&a, &b).unwrap().shd;
            prop_assert_eq!(ab, compare_graphs(&b, &a).unwrap().shd);
            prop_assert_eq!(ab == 0, a == b);
        }
    }
}
