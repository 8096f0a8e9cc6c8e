//! CIRCA's localiser (Li et al., KDD 2022, section 4): regression-based hypothesis testing
//! (RHT) on the causal graph, then descendant adjustment (DA).
//!
//! **RHT.** A fault is an intervention on a metric's own mechanism, so a root cause deviates
//! from what its parents predict, while a metric that only inherits the fault does not. For
//! each metric i with (directed) parents P(i) in the graph, fit x_i = b0 + sum_{j in P(i)}
//! b_j x_j + e by least squares over the normal period; residuals r_t = x_{i,t} - fit_t
//! have mean m_i and population std s_i over the normal period; the anomaly score is
//! z_i = max over the abnormal period of |r_t - m_i| / s_i (a zero s_i read as 1). A metric
//! without parents is scored on its own values (the n-sigma score). We use CIRCA's defaults:
//! a linear regressor, no lagged parents (`tau_max = 0`) and the maximum as aggregator.
//! Undirected edges (a CPDAG from PC) are not parents here: only `->` edges count.
//!
//! **DA.** A root cause whose children are anomalous too is more credible than an anomaly
//! whose children are calm. For each metric v, collect the scores of its children; for a
//! child below the threshold, also collect what that child collected (so the search passes
//! through calm metrics to anomalous descendants). If z_v >= threshold and v collected
//! anything, its score becomes z_v + max(collected). The ranking is by that score, then by
//! topological generation (upstream first), then by z, then by index: CIRCA's sort key.
//! The threshold is ours to set: CIRCA's code defaults it to 0, its experiments tune it; we
//! default to 3 (the usual 3-sigma anomaly line), with which a calm parent of the root cause
//! cannot overtake it by adding the root cause's score.
//!
//! Metrics on a directed cycle (possible in a PDAG from noisy PC) get the last generation
//! and collect only their direct children's scores.

use crate::error::RcaError;
use crate::graph::CausalGraph;
use crate::localize::{Incident, Localizer, Ranked, Ranking, max_abs_z};
use crate::stats::{mean_std, ols};

/// CIRCA's RHT + DA localiser.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CircaHt {
    /// Descendant-adjustment threshold on z (3).
    pub threshold: f64,
    /// Whether to apply descendant adjustment (true).
    pub adjust: bool,
}

impl Default for CircaHt {
    fn default() -> Self {
        CircaHt { threshold: 3.0, adjust: true }
    }
}

impl CircaHt {
    /// The RHT score z_i of every metric.
    pub fn rht_scores(incident: &Incident<'_>, graph: &CausalGraph) -> Result<Vec<f64>, RcaError> {
        incident.check_graph(graph)?;
        let (normal, abnormal) = (incident.normal(), incident.abnormal());
        let mut z = Vec::with_capacity(incident.variables());
        for i in 0..incident.variables() {
            let parents = graph.parents(i);
            let y = incident.data().column(i)?;
            if parents.is_empty() {
                z.push(incident.nsigma(i)?);
                continue;
            }
            let cols = parents
                .iter()
                .map(|&p| incident.data().column(p))
                .collect::<Result<Vec<_>, _>>()?;
            let train: Vec<&[f64]> = cols.iter().map(|c| &c[normal.clone()]).collect();
            let Some(coef) = ols(&y[normal.clone()], &train) else {
                // Only non-finite sums get here; DataMatrix rules them out. Score as no fit.
                z.push(incident.nsigma(i)?);
                continue;
            };
            let resid = |t: usize| {
                y[t] - coef[0] - cols.iter().zip(&coef[1..]).map(|(c, b)| b * c[t]).sum::<f64>()
            };
            let train_r: Vec<f64> = normal.clone().map(resid).collect();
            let test_r: Vec<f64> = abnormal.clone().map(resid).collect();
            let (m, s) = mean_std(&train_r);
            z.push(max_abs_z(&test_r, m, s));
        }
        Ok(z)
    }
}

impl Localizer for CircaHt {
    fn name(&self) -> &'static str {
        "circa"
    }

    fn needs_graph(&self) -> bool {
        true
    }

    fn rank(
        &self,
        incident: &Incident<'_>,
        graph: Option<&CausalGraph>,
    ) -> Result<Ranking, RcaError> {
        let graph = graph.ok_or(RcaError::MissingGraph("circa"))?;
        let z = Self::rht_scores(incident, graph)?;
        let n = z.len();
        let generation = graph.generations().1;
        let score =
            if self.adjust { descendant_adjustment(&z, graph, self.threshold) } else { z.clone() };
        let mut idx: Vec<usize> = (0..n).collect();
        idx.sort_by(|&a, &b| {
            score[b]
                .total_cmp(&score[a])
                .then(generation[a].cmp(&generation[b]))
                .then(z[b].total_cmp(&z[a]))
                .then(a.cmp(&b))
        });
        Ok(Ranking::from_ordered(
            idx.into_iter().map(|node| Ranked { node, score: score[node] }).collect(),
        ))
    }
}

/// CIRCA's descendant adjustment of the scores `z` over `graph` (see the module docs): the
/// adjusted score of v is z_v + max(collected_v) when z_v >= `threshold` and v collected
/// anything, else z_v.
pub fn descendant_adjustment(z: &[f64], graph: &CausalGraph, threshold: f64) -> Vec<f64> {
    let n = z.len().min(graph.n_nodes());
    let (order, generation) = graph.generations();
    // collected[v]: max over what v collects (None: nothing); children first.
    let mut collected: Vec<Option<f64>> = vec![None; n];
    let mut done = vec![false; n];
    let on_cycle = (0..n).filter(|v| generation[*v] == usize::MAX);
    for v in order.iter().rev().copied().filter(|&v| v < n).chain(on_cycle) {
        let mut best: Option<f64> = None;
        for c in graph.children(v).into_iter().filter(|&c| c < n) {
            let mut m = z[c];
            if z[c] < threshold
                && done[c]
                && let Some(below) = collected[c]
            {
                m = m.max(below);
            }
            best = Some(best.map_or(m, |b| b.max(m)));
        }
        collected[v] = best;
        done[v] = true;
    }
    let mut score = z.to_vec();
    for v in 0..n {
        if z[v] >= threshold
            && let Some(extra) = collected[v]
        {
            score[v] += extra;
        }
    }
    score
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::DataMatrix;
    use crate::localize::tests::top1;
    use simcore::RandomStreams;

    /// Chain 2 -> 1 -> 0 (0 the SLI). A fault on 1 shifts 1 and, through it, 0; the
    /// regression of 0 on 1 explains 0's shift, so only 1's residual is anomalous.
    fn chain_incident() -> (DataMatrix, CausalGraph) {
        let mut rng = RandomStreams::new(1).stream("rca/test/chain");
        let n = 400;
        let (mut x2, mut x1, mut x0) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        for t in 0..n {
            let fault = if t >= 390 { 8.0 } else { 0.0 };
            x2[t] = rng.normal();
            x1[t] = 0.9 * x2[t] + rng.normal() + fault;
            x0[t] = 1.1 * x1[t] + rng.normal();
        }
        let d = DataMatrix::from_columns(vec![x0, x1, x2]).unwrap();
        let g = CausalGraph::from_directed_edges(3, &[(2, 1), (1, 0)]).unwrap();
        (d, g)
    }

    #[test]
    fn rht_singles_out_the_intervened_metric() {
        let (d, g) = chain_incident();
        let inc = Incident::new(&d, 0..390, 390..400).unwrap();
        let z = CircaHt::rht_scores(&inc, &g).unwrap();
        assert!(z[1] > 5.0 && z[0] < 4.5 && z[2] < 4.5, "{z:?}");
        let r = CircaHt::default().rank(&inc, Some(&g)).unwrap();
        assert_eq!(r.nodes()[0], 1);
        // Without a graph it refuses; with a wrong-sized graph too.
        assert_eq!(CircaHt::default().rank(&inc, None), Err(RcaError::MissingGraph("circa")));
        assert!(CircaHt::default().rank(&inc, Some(&CausalGraph::empty(2))).is_err());
    }

    #[test]
    fn descendant_adjustment_by_hand() {
        // 4 -> 3 -> 2 -> 1 -> 0, and 5 -> 0; z = (3.5, 1.0, 6.0, 2.0, 4.0, 0.5), threshold 3.
        // Collected, children first:
        //   0: nothing;  1: {z0 = 3.5};  2: {z1 = 1.0, and since 1 < 3 its 3.5} -> 3.5;
        //   3: {z2 = 6.0} (2 >= 3: no pass-through) -> 6.0;  4: {z3 = 2.0, pass 6.0} -> 6.0;
        //   5: {z0 = 3.5}.
        // Adjusted (only z >= 3): 0: 3.5 (nothing collected); 2: 6.0 + 3.5 = 9.5;
        //   4: 4.0 + 6.0 = 10.0; 1, 3, 5 keep 1.0, 2.0, 0.5.
        let g =
            CausalGraph::from_directed_edges(6, &[(4, 3), (3, 2), (2, 1), (1, 0), (5, 0)]).unwrap();
        let z = [3.5, 1.0, 6.0, 2.0, 4.0, 0.5];
        let s = descendant_adjustment(&z, &g, 3.0);
        assert_eq!(s, vec![3.5, 1.0, 9.5, 2.0, 10.0, 0.5]);
        // Threshold 0: every node is adjusted and nothing passes through.
        // 1: 1 + 3.5; 2: 6 + 1; 3: 2 + 6; 4: 4 + 2; 5: 0.5 + 3.5.
        let s0 = descendant_adjustment(&z, &g, 0.0);
        assert_eq!(s0, vec![3.5, 4.5, 7.0, 8.0, 6.0, 4.0]);
    }

    #[test]
    fn ranks_the_injected_root_cause_first_on_easy_cases() {
        let acc = top1(&CircaHt::default(), true, 20);
        assert!(acc >= 0.7, "CIRCA top-1 on easy CIRCA cases with the true graph: {acc}");
    }
}
