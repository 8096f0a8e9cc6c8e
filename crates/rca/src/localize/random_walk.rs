//! The random-walk baseline: personalised PageRank over the anomalous subgraph, walking from
//! effects back to their causes. This is the family of MicroRCA (L. Wu, J. Tordsson,
//! E. Elmroth, O. Kao, "MicroRCA: Root Cause Localization of Performance Issues in
//! Microservices", NOMS 2020: anomalous subgraph + personalised PageRank), CloudRanger and
//! MicroCause (random walks from the anomalous front-end towards causes), and of RCAEval's
//! "PC + PageRank" baselines. What we implement, exactly:
//!
//! 1. Anomaly scores s_i: the n-sigma score ([`Incident::nsigma`]).
//! 2. The anomalous subgraph: metrics with s_i > `threshold` (3) and the graph's edges among
//!    them. If no metric passes, all metrics are used.
//! 3. The walk goes from a metric to its possible causes inside the subgraph: its parents and
//!    its undirected neighbours (an undirected edge of a CPDAG may point either way), each
//!    with equal probability. Personalisation v_i = s_i / sum s over the subgraph (uniform if
//!    the sum is 0). A metric with no cause in the subgraph (dangling) jumps by v.
//! 4. Personalised PageRank (Page, Brin, Motwani, Winograd 1999; Haveliwala 2002):
//!    pi = (1 - d) v + d (P^T pi + (sum of dangling pi) v), with d = 0.85, iterated from
//!    pi = v until the L1 change is below 1e-12 (at most 1,000 iterations).
//! 5. The ranking: subgraph metrics by pi (ties by higher s, then smaller index), then the
//!    others by s. A ranked entry's score is pi (0 outside the subgraph).

use crate::error::RcaError;
use crate::graph::CausalGraph;
use crate::localize::{Incident, Localizer, Ranked, Ranking};

/// Personalised PageRank over the anomalous subgraph.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RandomWalk {
    /// Damping factor d: the probability of following an edge rather than restarting (0.85).
    pub damping: f64,
    /// n-sigma score above which a metric is in the anomalous subgraph (3).
    pub threshold: f64,
    /// Iteration cap (1,000).
    pub max_iter: usize,
    /// L1 convergence tolerance (1e-12).
    pub tol: f64,
}

impl Default for RandomWalk {
    fn default() -> Self {
        RandomWalk { damping: 0.85, threshold: 3.0, max_iter: 1000, tol: 1e-12 }
    }
}

impl RandomWalk {
    /// Personalised PageRank where `causes[i]` lists the nodes a walker at `i` may move to
    /// (indices into the same arrays) and `v` is the restart distribution (sums to 1).
    pub fn pagerank(&self, causes: &[Vec<usize>], v: &[f64]) -> Vec<f64> {
        let k = v.len();
        let d = self.damping;
        let mut pi = v.to_vec();
        let mut next = vec![0.0; k];
        for _ in 0..self.max_iter {
            let dangling: f64 = (0..k).filter(|&i| causes[i].is_empty()).map(|i| pi[i]).sum();
            for (j, x) in next.iter_mut().enumerate() {
                *x = (1.0 - d) * v[j] + d * dangling * v[j];
            }
            for (i, cs) in causes.iter().enumerate() {
                if cs.is_empty() {
                    continue;
                }
                let share = d * pi[i] / cs.len() as f64;
                for &c in cs {
                    next[c] += share;
                }
            }
            let change: f64 = pi.iter().zip(&next).map(|(a, b)| (a - b).abs()).sum();
            std::mem::swap(&mut pi, &mut next);
            if change < self.tol {
                break;
            }
        }
        pi
    }
}

impl Localizer for RandomWalk {
    fn name(&self) -> &'static str {
        "random-walk"
    }

    fn needs_graph(&self) -> bool {
        true
    }

    fn rank(
        &self,
        incident: &Incident<'_>,
        graph: Option<&CausalGraph>,
    ) -> Result<Ranking, RcaError> {
        let graph = graph.ok_or(RcaError::MissingGraph("random-walk"))?;
        incident.check_graph(graph)?;
        if !(self.damping >= 0.0 && self.damping < 1.0) {
            return Err(RcaError::InvalidParameter {
                name: "damping",
                value: self.damping.to_string(),
                expected: "a probability in [0, 1)",
            });
        }
        let n = incident.variables();
        let s = (0..n).map(|j| incident.nsigma(j)).collect::<Result<Vec<f64>, _>>()?;
        let mut members: Vec<usize> = (0..n).filter(|&j| s[j] > self.threshold).collect();
        if members.is_empty() {
            members = (0..n).collect();
        }
        let mut local = vec![usize::MAX; n];
        for (k, &j) in members.iter().enumerate() {
            local[j] = k;
        }
        let causes: Vec<Vec<usize>> = members
            .iter()
            .map(|&j| {
                let mut cs = graph.parents(j);
                cs.extend(graph.undirected_neighbors(j));
                cs.sort_unstable();
                cs.into_iter().filter(|&c| local[c] != usize::MAX).map(|c| local[c]).collect()
            })
            .collect();
        let total: f64 = members.iter().map(|&j| s[j]).sum();
        let v: Vec<f64> = if total > 0.0 {
            members.iter().map(|&j| s[j] / total).collect()
        } else {
            vec![1.0 / members.len() as f64; members.len()]
        };
        let pi = self.pagerank(&causes, &v);

        let mut inside: Vec<(usize, f64)> = members.iter().map(|&j| (j, pi[local[j]])).collect();
        inside.sort_by(|a, b| {
            b.1.total_cmp(&a.1).then(s[b.0].total_cmp(&s[a.0])).then(a.0.cmp(&b.0))
        });
        let mut outside: Vec<usize> = (0..n).filter(|&j| local[j] == usize::MAX).collect();
        outside.sort_by(|&a, &b| s[b].total_cmp(&s[a]).then(a.cmp(&b)));
        let entries = inside
            .into_iter()
            .map(|(node, score)| Ranked { node, score })
            .chain(outside.into_iter().map(|node| Ranked { node, score: 0.0 }))
            .collect();
        Ok(Ranking::from_ordered(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::localize::tests::top1;

    #[test]
    fn pagerank_of_a_chain_by_hand() {
        // Walk 0 -> 1 (0's cause is 1), 1 dangling; v = (1/2, 1/2), d = 0.85.
        // pi1 = 0.15 v1 + 0.85 (pi0 + pi1 v1) and pi0 = 0.15 v0 + 0.85 pi1 v0, with
        // pi0 + pi1 = 1: pi0 = 0.075 + 0.425 pi1, pi1 = 1 - pi0 gives
        // pi0 = 0.5 / 1.425 = 0.350877, pi1 = 0.649123.
        let rw = RandomWalk::default();
        let pi = rw.pagerank(&[vec![1], vec![]], &[0.5, 0.5]);
        assert!((pi[0] - 0.5 / 1.425).abs() < 1e-10, "{pi:?}");
        assert!((pi.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn needs_a_graph_and_a_valid_damping() {
        let (m, cases) = crate::localize::tests::easy_cases(1);
        let c = &cases[0];
        let inc = Incident::new(&c.data, c.normal.clone(), c.fault.clone()).unwrap();
        assert_eq!(
            RandomWalk::default().rank(&inc, None),
            Err(RcaError::MissingGraph("random-walk"))
        );
        let bad = RandomWalk { damping: 1.0, ..RandomWalk::default() };
        assert!(bad.rank(&inc, Some(&m.dag)).is_err());
        let r = RandomWalk::default().rank(&inc, Some(&m.dag)).unwrap();
        let mut nodes = r.nodes();
        nodes.sort_unstable();
        assert_eq!(nodes, (0..20).collect::<Vec<_>>(), "a permutation of all metrics");
    }

    #[test]
    fn ranks_the_injected_root_cause_first_on_easy_cases() {
        let acc = top1(&RandomWalk::default(), true, 20);
        assert!(acc >= 0.5, "random walk top-1 on easy CIRCA cases with the true graph: {acc}");
    }
}
