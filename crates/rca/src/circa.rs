//! CIRCA's linear structural-model benchmark (M. Li, Z. Li, K. Yin, X. Nie, W. Zhang, K. Sui,
//! D. Pei, "Causal Inference-Based Root Cause Analysis for Online Service Systems with
//! Intervention Recognition", KDD 2022, section 5.1 "simulation study"). Here the true graph
//! and the root causes are known exactly, so graph sources and localisers can be scored
//! without a simulator.
//!
//! **The graph.** A random DAG over `nodes` metrics with exactly `edges` edges in which node
//! 0, the service level indicator (SLI), is the only sink: first every node `j >= 1` gets one
//! edge `j -> i` to a uniformly drawn `i < j` (so every node reaches node 0, and only node 0
//! has no child); then edges `j -> i` with `j` uniform in `1..nodes` and `i` uniform in
//! `0..j` are added until the count is reached (repeats redrawn). Weights are uniform on
//! [-2, -0.5] ∪ [0.5, 2] (each half with probability 1/2). The paper's sizes are (50, 100),
//! (100, 500) and (500, 5000) ([`CircaSpec::PAPER_SIZES`]).
//!
//! **The data.** With `A[i][j]` the weight of edge `j -> i` (row = effect, column = cause),
//! each time step solves the structural equations x_t = A x_t + u_t, with
//! u_t = beta x_{t-1} + sigma ∘ e_t, e_t ~ N(0, I), beta = 0.1 and sigma_i ~ Exp(1) drawn per
//! node and case. Since A is nilpotent (a DAG), x_t = (I - A)^{-1} u_t = W u_t with
//! W = sum_{k=0}^{n-1} A^k: this is the paper's x_t = W (0.1 x_{t-1} + e_t sigma). We do not
//! form W: causes have larger indices than effects, so x_t is found by substitution from
//! node n-1 down to node 0 in O(nodes + edges) per step. The first u uses x_{-1} drawn as
//! sigma ∘ N(0, I).
//!
//! **The fault.** After `normal_len` = 1,440 normal points, Poisson(1) + 1 root causes
//! (at most `nodes`) are drawn without replacement, each with a magnitude a_c ~ Exp(1). The
//! fault adds a to e for `fault_len` = 2 points: u_t = beta x_{t-1} + sigma ∘ (e_t + a). The
//! magnitudes are doubled until one trial step (from the last normal point with a fresh e)
//! moves the SLI by more than `tau` = 3 standard deviations of its normal period. Then come
//! `abnormal_len - fault_len` = 8 more normal steps (10 abnormal points in all).
//!
//! **Output.** Every column is standardised with the mean and (population) standard
//! deviation of its normal period and rounded to 3 decimals, as CIRCA stores its cases.
//!
//! Randomness: the graph from stream `rca/circa/graph`, case `i` from the indexed stream
//! `rca/circa/case` (index `i`) of `simcore`'s [`RandomStreams`]: a seed gives byte-identical
//! output, and cases are independent of how many others are generated.

use std::ops::Range;

use simcore::{RandomStreams, StreamRng};

use crate::data::DataMatrix;
use crate::error::RcaError;
use crate::graph::CausalGraph;

/// Doublings of the fault magnitude tried before giving up (2^60 times the first draw).
const MAX_DOUBLINGS: u32 = 60;

/// The generator's parameters; the defaults are the paper's, with its smallest graph.
#[derive(Debug, Clone, PartialEq)]
pub struct CircaSpec {
    /// Number of metrics (node 0 is the SLI).
    pub nodes: usize,
    /// Number of edges, between `nodes - 1` and `nodes (nodes - 1) / 2`.
    pub edges: usize,
    /// Normal points before the fault (1,440: a day of minutes).
    pub normal_len: usize,
    /// Abnormal points from the fault's start (10).
    pub abnormal_len: usize,
    /// Points the fault lasts (2), at most `abnormal_len`.
    pub fault_len: usize,
    /// Weight of the previous step, beta (0.1).
    pub beta: f64,
    /// The SLI must move by more than `tau` normal standard deviations (3).
    pub tau: f64,
}

impl Default for CircaSpec {
    fn default() -> Self {
        CircaSpec {
            nodes: 50,
            edges: 100,
            normal_len: 1440,
            abnormal_len: 10,
            fault_len: 2,
            beta: 0.1,
            tau: 3.0,
        }
    }
}

/// A weighted DAG of the benchmark.
#[derive(Debug, Clone, PartialEq)]
pub struct CircaModel {
    /// The parameters it was made with.
    pub spec: CircaSpec,
    /// The true causal graph (edges cause -> effect).
    pub dag: CausalGraph,
    /// For each node, its parents and the edge weights, parents in index order.
    pub parents: Vec<Vec<(usize, f64)>>,
}

/// One generated incident.
#[derive(Debug, Clone, PartialEq)]
pub struct CircaCase {
    /// `normal_len + abnormal_len` samples x `nodes` metrics, standardised.
    pub data: DataMatrix,
    /// The true root causes, ascending.
    pub root_causes: Vec<usize>,
    /// The fault magnitudes a_c (after doubling), in the order of `root_causes`.
    pub magnitudes: Vec<f64>,
    /// The per-node noise scales sigma_i.
    pub sigmas: Vec<f64>,
    /// The normal period, `0..normal_len`.
    pub normal: Range<usize>,
    /// The abnormal period, from the fault's start to the end.
    pub abnormal: Range<usize>,
    /// The points where the fault is injected.
    pub fault: Range<usize>,
}

impl CircaSpec {
    /// The paper's (nodes, edges) sizes.
    pub const PAPER_SIZES: [(usize, usize); 3] = [(50, 100), (100, 500), (500, 5000)];

    fn invalid(name: &'static str, value: String, expected: &'static str) -> RcaError {
        RcaError::InvalidParameter { name, value, expected }
    }

    /// Checks the parameters.
    pub fn validate(&self) -> Result<(), RcaError> {
        let n = self.nodes;
        if n < 2 {
            return Err(Self::invalid("nodes", n.to_string(), "at least 2"));
        }
        let max_edges = n * (n - 1) / 2;
        if self.edges < n - 1 || self.edges > max_edges {
            return Err(Self::invalid(
                "edges",
                self.edges.to_string(),
                "between nodes - 1 (connected) and nodes (nodes - 1) / 2 (complete)",
            ));
        }
        if self.normal_len < 2 {
            return Err(Self::invalid("normal_len", self.normal_len.to_string(), "at least 2"));
        }
        if self.fault_len == 0 || self.fault_len > self.abnormal_len {
            return Err(Self::invalid(
                "fault_len",
                self.fault_len.to_string(),
                "between 1 and abnormal_len",
            ));
        }
        if !self.beta.is_finite() {
            return Err(Self::invalid("beta", self.beta.to_string(), "a finite number"));
        }
        if !(self.tau.is_finite() && self.tau >= 0.0) {
            return Err(Self::invalid("tau", self.tau.to_string(), "a finite number >= 0"));
        }
        Ok(())
    }

    /// Draws the weighted DAG (stream `rca/circa/graph`).
    pub fn generate_model(&self, streams: &RandomStreams) -> Result<CircaModel, RcaError> {
        self.validate()?;
        let n = self.nodes;
        let mut rng = streams.stream("rca/circa/graph");
        let mut weight: Vec<Option<f64>> = vec![None; n * n]; // [effect * n + cause]
        for cause in 1..n {
            let effect = rng.below(cause as u64) as usize;
            weight[effect * n + cause] = Some(draw_weight(&mut rng));
        }
        let mut left = self.edges - (n - 1);
        while left > 0 {
            let cause = 1 + rng.below(n as u64 - 1) as usize;
            let effect = rng.below(cause as u64) as usize;
            if weight[effect * n + cause].is_none() {
                weight[effect * n + cause] = Some(draw_weight(&mut rng));
                left -= 1;
            }
        }
        let mut dag = CausalGraph::empty(n);
        let mut parents = vec![Vec::new(); n];
        for effect in 0..n {
            for cause in 0..n {
                if let Some(w) = weight[effect * n + cause] {
                    dag.add_directed(cause, effect)?;
                    parents[effect].push((cause, w));
                }
            }
        }
        let mut names = vec!["sli".to_string()];
        names.extend((1..n).map(|i| format!("x{i}")));
        dag.set_names(names)?;
        Ok(CircaModel { spec: self.clone(), dag, parents })
    }
}

/// Uniform on [-2, -0.5] ∪ [0.5, 2].
fn draw_weight(rng: &mut StreamRng) -> f64 {
    let magnitude = 0.5 + 1.5 * rng.next_f64();
    if rng.next_f64() < 0.5 { -magnitude } else { magnitude }
}

/// Poisson(1) by Knuth's product-of-uniforms method (Knuth, TAOCP vol. 2, 3.4.1).
fn poisson1(rng: &mut StreamRng) -> usize {
    let limit = (-1.0f64).exp();
    let mut k = 0;
    let mut p = rng.next_f64();
    while p > limit {
        k += 1;
        p *= rng.next_f64();
    }
    k
}

impl CircaModel {
    /// x = (I - A)^{-1} u by substitution from the last node down (causes have larger
    /// indices than their effects); `x` is overwritten.
    fn solve(&self, u: &[f64], x: &mut [f64]) {
        for i in (0..u.len()).rev() {
            let mut v = u[i];
            for &(j, w) in &self.parents[i] {
                v += w * x[j];
            }
            x[i] = v;
        }
    }

    /// Draws case `index` (stream `rca/circa/case`, index `index`).
    pub fn generate_case(
        &self,
        streams: &RandomStreams,
        index: u64,
    ) -> Result<CircaCase, RcaError> {
        let spec = &self.spec;
        let n = spec.nodes;
        let total = spec.normal_len + spec.abnormal_len;
        let mut rng = streams.indexed_stream("rca/circa/case", index);
        let sigmas: Vec<f64> = (0..n).map(|_| rng.exp(1.0)).collect();
        let mut rows: Vec<Vec<f64>> = Vec::with_capacity(total);
        let mut x: Vec<f64> = sigmas.iter().map(|s| s * rng.normal()).collect();
        let mut u = vec![0.0; n];
        let mut next = vec![0.0; n];
        let mut step = |x: &mut Vec<f64>, rng: &mut StreamRng, fault: Option<&[f64]>| {
            for i in 0..n {
                let a = fault.map_or(0.0, |f| f[i]);
                u[i] = spec.beta * x[i] + sigmas[i] * (rng.normal() + a);
            }
            self.solve(&u, &mut next);
            x.copy_from_slice(&next);
        };
        for _ in 0..spec.normal_len {
            step(&mut x, &mut rng, None);
            rows.push(x.clone());
        }
        let sli: Vec<f64> = rows.iter().map(|r| r[0]).collect();
        let (sli_mean, sli_std) = crate::stats::mean_std(&sli);

        // Root causes: Poisson(1) + 1 of them, without replacement (partial Fisher-Yates).
        let k = (poisson1(&mut rng) + 1).min(n);
        let mut order: Vec<usize> = (0..n).collect();
        for i in 0..k {
            let j = i + rng.below((n - i) as u64) as usize;
            order.swap(i, j);
        }
        let causes = order[..k].to_vec();
        let mut alpha: Vec<f64> = (0..k).map(|_| rng.exp(1.0)).collect();
        let eps: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
        let mut fault = vec![0.0; n];
        let mut trial_u = vec![0.0; n];
        let mut trial_x = vec![0.0; n];
        let mut doublings = 0;
        loop {
            for (c, a) in causes.iter().zip(&alpha) {
                fault[*c] = *a;
            }
            for i in 0..n {
                trial_u[i] = spec.beta * x[i] + sigmas[i] * (eps[i] + fault[i]);
            }
            self.solve(&trial_u, &mut trial_x);
            if (trial_x[0] - sli_mean).abs() > spec.tau * sli_std {
                break;
            }
            if doublings == MAX_DOUBLINGS || !trial_x[0].is_finite() {
                let mut causes = causes.clone();
                causes.sort_unstable();
                return Err(RcaError::FaultTooWeak { causes, tau: spec.tau, doublings });
            }
            alpha.iter_mut().for_each(|a| *a *= 2.0);
            doublings += 1;
        }
        for _ in 0..spec.fault_len {
            step(&mut x, &mut rng, Some(&fault));
            rows.push(x.clone());
        }
        for _ in spec.fault_len..spec.abnormal_len {
            step(&mut x, &mut rng, None);
            rows.push(x.clone());
        }

        // Standardise by the normal period; round to 3 decimals.
        let mut values = vec![0.0; total * n];
        for j in 0..n {
            let col: Vec<f64> = rows[..spec.normal_len].iter().map(|r| r[j]).collect();
            let (mean, std) = crate::stats::mean_std(&col);
            let scale = if std > 0.0 { std } else { 1.0 };
            for (t, r) in rows.iter().enumerate() {
                values[j * total + t] = ((r[j] - mean) / scale * 1000.0).round() / 1000.0;
            }
        }
        let data = DataMatrix::from_column_major(total, n, values)?
            .with_names(self.dag.names().to_vec())?;
        let mut pairs: Vec<(usize, f64)> = causes.into_iter().zip(alpha).collect();
        pairs.sort_unstable_by_key(|p| p.0);
        let start = spec.normal_len;
        Ok(CircaCase {
            data,
            root_causes: pairs.iter().map(|p| p.0).collect(),
            magnitudes: pairs.iter().map(|p| p.1).collect(),
            sigmas,
            normal: 0..start,
            abnormal: start..total,
            fault: start..start + spec.fault_len,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check_dag(spec: &CircaSpec, seed: u64) {
        let m = spec.generate_model(&RandomStreams::new(seed)).unwrap();
        let g = &m.dag;
        assert!(g.is_dag(), "acyclic");
        assert_eq!(g.n_edges(), spec.edges);
        assert_eq!(g.sinks(), vec![0], "node 0 is the only sink");
        // Every node reaches the SLI.
        assert_eq!(g.ancestors(0).len(), spec.nodes - 1);
        for (i, ps) in m.parents.iter().enumerate() {
            for &(j, w) in ps {
                assert!(j > i && (0.5..=2.0).contains(&w.abs()), "edge {j} -> {i}: {w}");
            }
        }
    }

    #[test]
    fn the_papers_graphs_have_the_sli_as_only_sink() {
        for (nodes, edges) in CircaSpec::PAPER_SIZES {
            check_dag(&CircaSpec { nodes, edges, ..CircaSpec::default() }, 1);
        }
    }

    proptest! {
        #[test]
        fn any_valid_size_gives_a_single_sink_dag(nodes in 2usize..30, extra in 0.0f64..1.0,
                                                   seed in 0u64..1000) {
            let max = nodes * (nodes - 1) / 2;
            let edges = nodes - 1 + ((max - (nodes - 1)) as f64 * extra) as usize;
            check_dag(&CircaSpec { nodes, edges, ..CircaSpec::default() }, seed);
        }
    }

    #[test]
    fn cases_have_the_papers_shape_and_are_reproducible() {
        let spec = CircaSpec::default();
        let s = RandomStreams::new(5);
        let m = spec.generate_model(&s).unwrap();
        let c = m.generate_case(&s, 3).unwrap();
        assert_eq!((c.data.samples(), c.data.variables()), (1450, 50));
        assert_eq!(
            (c.normal.clone(), c.abnormal.clone(), c.fault.clone()),
            (0..1440, 1440..1450, 1440..1442)
        );
        assert!(!c.root_causes.is_empty() && c.root_causes.windows(2).all(|w| w[0] < w[1]));
        // Standardised normal period: mean 0, std 1 up to the 3-decimal rounding.
        let sli = &c.data.column(0).unwrap()[..1440];
        let (mean, std) = crate::stats::mean_std(sli);
        assert!(mean.abs() < 1e-3 && (std - 1.0).abs() < 1e-3);
        // Byte-identical for the same seed and index; different for another index.
        let again = spec.generate_model(&s).unwrap().generate_case(&s, 3).unwrap();
        let bits =
            |c: &CircaCase| c.data.columns().flatten().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&c), bits(&again));
        assert_eq!(c, again);
        assert_ne!(bits(&c), bits(&m.generate_case(&s, 4).unwrap()));
    }

    #[test]
    fn the_fault_moves_the_sli() {
        // The magnitude is calibrated on one trial step with its own noise, so the real fault
        // window need not cross 3 sigma every time; it should in most cases.
        let spec = CircaSpec { nodes: 20, edges: 30, ..CircaSpec::default() };
        let s = RandomStreams::new(9);
        let m = spec.generate_model(&s).unwrap();
        let mut moved = 0;
        for i in 0..40 {
            let c = m.generate_case(&s, i).unwrap();
            assert!(c.magnitudes.iter().all(|&a| a > 0.0));
            // Standardised data: the SLI's normal period has mean 0 and std 1.
            let sli = c.data.column(0).unwrap();
            moved += usize::from(c.fault.clone().any(|t| sli[t].abs() > 3.0));
        }
        assert!(moved >= 32, "SLI beyond 3 sigma in {moved} of 40 cases");
    }

    #[test]
    fn bad_specs_are_errors() {
        let s = RandomStreams::new(1);
        for spec in [
            CircaSpec { nodes: 1, edges: 0, ..CircaSpec::default() },
            CircaSpec { nodes: 10, edges: 8, ..CircaSpec::default() },
            CircaSpec { nodes: 10, edges: 46, ..CircaSpec::default() },
            CircaSpec { fault_len: 11, ..CircaSpec::default() },
            CircaSpec { fault_len: 0, ..CircaSpec::default() },
            CircaSpec { tau: f64::NAN, ..CircaSpec::default() },
        ] {
            assert!(matches!(spec.generate_model(&s), Err(RcaError::InvalidParameter { .. })));
        }
    }
}
