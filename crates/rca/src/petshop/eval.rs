//! Localising the PetShop issues: one incident per issue, the metric-level graph from the
//! call graph, three localisers, node-level scores.
//!
//! **Windows.** The normal period is the scenario's `noissue/metrics.csv` (589 rows of 5
//! minutes in the shipped high- and low-traffic scenarios). The abnormal period is the
//! issue's rows whose interval starts at or after `target.timestamp` (rows 3 to 5 of the 5
//! in 67 shipped issues, whose trigger lies inside row 2; rows 2 to 5 in
//! `temporal_traffic1/train/issue_0`, triggered exactly at row 2's start). The issue's
//! earlier rows belong to neither window. A scenario without `noissue/metrics.csv` (the two
//! temporal ones here) either uses the issue's own rows before the abnormal window as the
//! normal period (2 rows, the second of which holds the first minutes after the trigger; 1
//! row for the issue above) —
//! [`MissingNormal::PreIncidentRows`], the default, reported as
//! [`NormalSource::PreIncidentRows`] — or is skipped ([`MissingNormal::Skip`]).
//!
//! **Series.** With a `noissue` file, the series are those of the issue file that the
//! `noissue` file also has (in high traffic, 5 nodes x 7 series appear only in the issue
//! files and are dropped: there is no normal behaviour to compare them with). A series is
//! also dropped when it has no value at all in the normal window or none in the abnormal
//! window.
//!
//! **Missing values.** The normal rows and then the issue's rows form one series per
//! metric; an empty cell takes the last value before it (forward fill), and empty cells
//! before the first value take that first value (backward fill). So a gap inside the
//! abnormal window repeats the last observed value instead of inventing an anomaly.
//!
//! **Metric-level graph** ([`metric_graph`]). PetShop's ground truth is the reversed call
//! graph at node level: a callee's problem propagates to its callers. Per call
//! caller -> callee and for every metric except `requests`, the callee's series causes the
//! caller's series of the same metric and statistic (`latency p90` -> `latency p90`,
//! `availability` -> `availability`). Requests flow the other way: the caller's `requests`
//! drive the callee's (load travels down the call graph). Inside a node, `requests` causes
//! each of its other series (load drives latency and availability). The call graphs are
//! acyclic, so this graph is a DAG; two nodes that call each other would get undirected
//! edges between their series.
//!
//! **Scores.** Each method ranks metrics; a node's rank is that of its first metric in the
//! ranking (nodes without a kept series are unranked and never hit). AC@k and Avg@k are
//! RCAEval's ([`crate::score`]) over one true node per issue. Every node is a candidate,
//! including the symptom's node `PetSite` (which is never the root cause).

use std::collections::HashMap;
use std::ops::Range;

use crate::data::DataMatrix;
use crate::error::RcaError;
use crate::graph::CausalGraph;
use crate::localize::baro::Baro;
use crate::localize::circa_ht::CircaHt;
use crate::localize::random_walk::RandomWalk;
use crate::localize::{Incident, Localizer};
use crate::score::{RankedCase, ac_at_k, avg_at_k};

use super::{CallGraph, Issue, PetshopError, Scenario, Series};

/// What to do with a scenario that has no `noissue/metrics.csv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissingNormal {
    /// Use the issue's rows before the abnormal window as the normal period.
    #[default]
    PreIncidentRows,
    /// Leave the scenario's issues out (listed in [`Evaluation::skipped`]).
    Skip,
}

/// Where an incident's normal period came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NormalSource {
    /// The scenario's `noissue/metrics.csv`.
    NoIssue,
    /// The issue file's own rows before the abnormal window.
    PreIncidentRows,
}

impl NormalSource {
    /// `noissue` or `pre-incident`.
    pub fn as_str(self) -> &'static str {
        match self {
            NormalSource::NoIssue => "noissue",
            NormalSource::PreIncidentRows => "pre-incident",
        }
    }
}

/// Options of [`evaluate`].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct EvalOptions {
    /// Scenarios without normal-period metrics.
    pub missing_normal: MissingNormal,
    /// The random walk's parameters (defaults: d = 0.85, 3-sigma subgraph).
    pub random_walk: RandomWalk,
    /// CIRCA's parameters (defaults: descendant adjustment at 3).
    pub circa: CircaHt,
}

/// One issue as a localiser sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentData {
    /// Normal rows, then the issue's rows; one column per kept series, gaps filled.
    pub data: DataMatrix,
    /// The kept series, by column.
    pub series: Vec<Series>,
    /// The normal rows.
    pub normal: Range<usize>,
    /// The abnormal rows.
    pub abnormal: Range<usize>,
    /// Where the normal rows came from.
    pub source: NormalSource,
    /// The issue file's series that were dropped (no normal counterpart, or no value in one
    /// of the windows).
    pub dropped: Vec<Series>,
}

pub(super) fn fill(col: &[Option<f64>]) -> Vec<f64> {
    let first = col.iter().flatten().next().copied().unwrap_or(0.0);
    let mut last = first;
    col.iter()
        .map(|v| {
            if let Some(x) = v {
                last = *x;
            }
            last
        })
        .collect()
}

/// The incident of `issue` in `scenario` (see the module docs for the windows, the kept
/// series and the filling of missing values).
pub fn incident(scenario: &Scenario, issue: &Issue) -> Result<IncidentData, PetshopError> {
    let rows = issue.metrics.rows();
    let first = issue.first_abnormal_row().unwrap_or(rows);
    let mut cols: Vec<(Series, Vec<Option<f64>>)> = Vec::new();
    let mut dropped = Vec::new();
    let (normal, abnormal, source) = match &scenario.normal {
        Some(nm) => {
            for (j, s) in issue.metrics.series.iter().enumerate() {
                match (nm.column_of(s), issue.metrics.values.get(j)) {
                    (Some(k), Some(v)) => {
                        let mut c = nm.values.get(k).cloned().unwrap_or_default();
                        c.extend_from_slice(v);
                        cols.push((s.clone(), c));
                    }
                    _ => dropped.push(s.clone()),
                }
            }
            let n = nm.rows();
            (0..n, n + first..n + rows, NormalSource::NoIssue)
        }
        None => {
            for (s, v) in issue.metrics.series.iter().zip(&issue.metrics.values) {
                cols.push((s.clone(), v.clone()));
            }
            (0..first, first..rows, NormalSource::PreIncidentRows)
        }
    };
    let total = abnormal.end;
    if normal.is_empty() || abnormal.is_empty() {
        return Err(RcaError::InvalidWindow { normal, abnormal, samples: total }.into());
    }
    let mut series = Vec::new();
    let mut columns = Vec::new();
    for (s, c) in cols {
        let seen =
            |r: &Range<usize>| c.get(r.clone()).is_some_and(|w| w.iter().any(Option::is_some));
        if c.len() == total && seen(&normal) && seen(&abnormal) {
            columns.push(fill(&c));
            series.push(s);
        } else {
            dropped.push(s);
        }
    }
    let names = series.iter().map(Series::key).collect();
    let data = DataMatrix::from_columns(columns)?.with_names(names)?;
    Ok(IncidentData { data, series, normal, abnormal, source, dropped })
}

fn add_edge(g: &mut CausalGraph, a: usize, b: usize) -> Result<(), RcaError> {
    if g.has_directed(b, a) || g.has_undirected(a, b) {
        g.add_undirected(a, b)
    } else {
        g.add_directed(a, b)
    }
}

/// The metric-level causal graph over `series` implied by the call graph (see the module
/// docs): callee -> caller for every metric but `requests`, caller -> callee for
/// `requests`, and a node's `requests` -> its other series. Series of nodes outside the
/// call graph get no edges.
pub fn metric_graph(graph: &CallGraph, series: &[Series]) -> Result<CausalGraph, RcaError> {
    let mut g = CausalGraph::with_names(series.iter().map(Series::key).collect());
    let mut by_node: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, s) in series.iter().enumerate() {
        by_node.entry(s.node.as_str()).or_default().push(i);
    }
    let none = Vec::new();
    for &(caller, callee) in &graph.calls {
        let (Some(a), Some(b)) = (graph.names.get(caller), graph.names.get(callee)) else {
            continue;
        };
        let ours = by_node.get(a.as_str()).unwrap_or(&none);
        let theirs = by_node.get(b.as_str()).unwrap_or(&none);
        for &i in theirs {
            for &j in ours {
                let (si, sj) = (&series[i], &series[j]);
                if si.metric != sj.metric || si.statistic != sj.statistic {
                    continue;
                }
                if si.metric == "requests" {
                    add_edge(&mut g, j, i)?;
                } else {
                    add_edge(&mut g, i, j)?;
                }
            }
        }
    }
    for members in by_node.values() {
        for &r in members.iter().filter(|&&r| series[r].metric == "requests") {
            for &x in members.iter().filter(|&&x| series[x].metric != "requests") {
                add_edge(&mut g, r, x)?;
            }
        }
    }
    Ok(g)
}

/// One issue localised by one method.
#[derive(Debug, Clone, PartialEq)]
pub struct IssueRanking {
    /// The scenario's name.
    pub scenario: String,
    /// `train/issue_3`.
    pub issue: String,
    /// The symptom's metric (`latency` or `availability`).
    pub target_metric: String,
    /// The true root-cause node.
    pub root_cause: String,
    /// `baro`, `random-walk` or `circa`.
    pub method: &'static str,
    /// `none` or `call-graph-reversed`.
    pub graph: &'static str,
    /// Where the normal period came from.
    pub normal: NormalSource,
    /// Series ranked.
    pub metrics: usize,
    /// Series of the issue file left out.
    pub dropped: usize,
    /// Nodes, most likely root cause first (by their best-ranked series).
    pub nodes: Vec<String>,
    /// 0-based rank of the true node, if ranked.
    pub rank: Option<usize>,
}

/// Node-level scores over a set of issues.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scores {
    /// Number of issues.
    pub cases: usize,
    /// AC@1.
    pub ac1: f64,
    /// AC@3.
    pub ac3: f64,
    /// AC@5.
    pub ac5: f64,
    /// Avg@5 = mean of AC@1..AC@5.
    pub avg5: f64,
}

/// Scores of one method over one group of issues.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreRow {
    /// A scenario's name, or `all`.
    pub group: String,
    /// The method.
    pub method: &'static str,
    /// The graph it used.
    pub graph: &'static str,
    /// The scores.
    pub scores: Scores,
}

/// The result of [`evaluate`].
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// One entry per issue and method, in scenario, issue, method order.
    pub rankings: Vec<IssueRanking>,
    /// Per scenario and method, then `all` per method.
    pub scores: Vec<ScoreRow>,
    /// Issues left out (`scenario/train/issue_k: reason`): those of scenarios without
    /// normal-period metrics under [`MissingNormal::Skip`], and, under
    /// [`MissingNormal::PreIncidentRows`], any whose first row is already abnormal.
    pub skipped: Vec<String>,
}

/// RCAEval's AC@1/3/5 and Avg@5 over `rankings` (one true node each).
pub fn score_rankings<'a>(
    rankings: impl IntoIterator<Item = &'a IssueRanking>,
) -> Result<Scores, PetshopError> {
    let cases: Vec<RankedCase> = rankings
        .into_iter()
        .map(|r| {
            let n = r.nodes.len();
            // The truth is position `rank`, or n (outside the ranking) when unranked.
            RankedCase { ranking: (0..n).collect(), truth: vec![r.rank.unwrap_or(n)] }
        })
        .collect();
    Ok(Scores {
        cases: cases.len(),
        ac1: ac_at_k(&cases, 1)?,
        ac3: ac_at_k(&cases, 3)?,
        ac5: ac_at_k(&cases, 5)?,
        avg5: avg_at_k(&cases, 5)?,
    })
}

/// Nodes in order of their first series in `ranking`.
pub(crate) fn node_order(ranking: &[usize], series: &[Series]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for &i in ranking {
        if let Some(s) = series.get(i)
            && !out.contains(&s.node)
        {
            out.push(s.node.clone());
        }
    }
    out
}

/// Localises every issue of `scenarios` with BARO (no graph), the random walk and CIRCA
/// (both on [`metric_graph`] of the scenario's call graph) and scores them per scenario and
/// over all issues.
pub fn evaluate(scenarios: &[Scenario], options: &EvalOptions) -> Result<Evaluation, PetshopError> {
    let methods: [(&dyn Localizer, &'static str); 3] = [
        (&Baro, "none"),
        (&options.random_walk, "call-graph-reversed"),
        (&options.circa, "call-graph-reversed"),
    ];
    let mut rankings = Vec::new();
    let mut skipped = Vec::new();
    for sc in scenarios {
        if sc.normal.is_none() && options.missing_normal == MissingNormal::Skip {
            skipped.extend(
                sc.issues
                    .iter()
                    .map(|i| format!("{}/{}: no noissue/metrics.csv", sc.name, i.label())),
            );
            continue;
        }
        for issue in &sc.issues {
            if sc.normal.is_none() && issue.first_abnormal_row() == Some(0) {
                let why = "no noissue/metrics.csv and no row before the trigger";
                skipped.push(format!("{}/{}: {why}", sc.name, issue.label()));
                continue;
            }
            let inc = incident(sc, issue)?;
            let graph = metric_graph(&sc.graph, &inc.series)?;
            let window = Incident::new(&inc.data, inc.normal.clone(), inc.abnormal.clone())?;
            for (method, graph_name) in methods {
                let g = method.needs_graph().then_some(&graph);
                let ranking = method.rank(&window, g)?;
                let nodes = node_order(&ranking.nodes(), &inc.series);
                let rank = nodes.iter().position(|n| *n == issue.root_cause.node);
                rankings.push(IssueRanking {
                    scenario: sc.name.clone(),
                    issue: issue.label(),
                    target_metric: issue.target.metric.clone(),
                    root_cause: issue.root_cause.node.clone(),
                    method: method.name(),
                    graph: graph_name,
                    normal: inc.source,
                    metrics: inc.series.len(),
                    dropped: inc.dropped.len(),
                    nodes,
                    rank,
                });
            }
        }
    }
    let mut scores = Vec::new();
    let mut groups: Vec<String> = Vec::new();
    for r in &rankings {
        if !groups.contains(&r.scenario) {
            groups.push(r.scenario.clone());
        }
    }
    groups.push("all".into());
    for group in &groups {
        for (method, graph_name) in methods {
            let name = method.name();
            let sel: Vec<&IssueRanking> = rankings
                .iter()
                .filter(|r| r.method == name && (group == "all" || r.scenario == *group))
                .collect();
            if sel.is_empty() {
                continue;
            }
            scores.push(ScoreRow {
                group: group.clone(),
                method: name,
                graph: graph_name,
                scores: score_rankings(sel)?,
            });
        }
    }
    Ok(Evaluation { rankings, scores, skipped })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(node: &str, metric: &str, stat: &str) -> Series {
        Series { node: node.into(), metric: metric.into(), statistic: stat.into() }
    }

    #[test]
    fn the_metric_graph_reverses_calls_except_for_requests() {
        // front -> back.
        let cg = CallGraph { names: vec!["front".into(), "back".into()], calls: vec![(0, 1)] };
        let series = [
            s("front", "latency", "p90"),
            s("front", "requests", "Sum"),
            s("back", "latency", "p90"),
            s("back", "requests", "Sum"),
            s("back", "latency", "p50"),
        ];
        let g = metric_graph(&cg, &series).unwrap();
        assert!(g.has_directed(2, 0), "back latency p90 -> front latency p90");
        assert!(g.has_directed(1, 3), "front requests -> back requests");
        assert!(g.has_directed(1, 0) && g.has_directed(3, 2) && g.has_directed(3, 4));
        assert!(!g.is_adjacent(4, 0), "different statistics are not joined");
        assert_eq!(g.n_edges(), 5);
        assert!(g.is_dag());
    }

    #[test]
    fn gaps_are_filled_forward_then_backward() {
        assert_eq!(fill(&[None, Some(2.0), None, Some(5.0), None]), [2.0, 2.0, 2.0, 5.0, 5.0]);
        assert_eq!(fill(&[None, None]), [0.0, 0.0]);
    }

    #[test]
    fn scores_follow_the_rank_of_the_true_node() {
        let mk = |rank| IssueRanking {
            scenario: "x".into(),
            issue: "test/issue_0".into(),
            target_metric: "latency".into(),
            root_cause: "a".into(),
            method: "baro",
            graph: "none",
            normal: NormalSource::NoIssue,
            metrics: 1,
            dropped: 0,
            nodes: vec!["a".into(), "b".into(), "c".into(), "d".into()],
            rank,
        };
        let r = [mk(Some(0)), mk(Some(2)), mk(None), mk(Some(3))];
        let sc = score_rankings(&r).unwrap();
        assert_eq!((sc.cases, sc.ac1, sc.ac3, sc.ac5), (4, 0.25, 0.5, 0.75));
        // AC@1..5 = 0.25, 0.25, 0.5, 0.75, 0.75.
        assert!((sc.avg5 - 0.5).abs() < 1e-12);
    }
}
