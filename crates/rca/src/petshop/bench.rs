//! PetShop as a `kind: rca` workload (`benchmark: petshop`): what a graph source needs per
//! traffic scenario (a normal period, the true graph, the components' descriptions and the
//! traces' calls) and what a localiser needs per issue.
//!
//! **Names.** A graph source reads metric names `<component>.<metric>` (Atlas tells a
//! component from its metric at the last `.`, and a metric's role from its name), so every
//! series `node|metric|statistic` is named `<node>.<metric>_<statistic>` here:
//! `PetSite.latency_p90`, `PetSite.requests_Sum`, `PetSite.availability_Average`.
//!
//! **The graph's normal period, per scenario.** With `noissue/metrics.csv`: its 589 rows and
//! every series it has with at least one value (gaps filled as [`super::incident`] fills
//! them). Without it (the two temporal scenarios here): the rows before the trigger of
//! every issue of the scenario, one issue after another (15 or 16 rows), over the series
//! every issue file has. So one graph is built per scenario and source, and each issue's
//! graph is that graph restricted to the issue's series (an issue keeps a subset of them:
//! [`super::incident`] drops series without a value in one of its windows).
//!
//! **Truth.** [`super::metric_graph`] of the scenario's call graph (the data set's own
//! ground truth, the reversed call graph, expanded to the series as documented there).
//!
//! **Descriptions.** One Markdown file per component, `crates/rca/systems/petshop/components/`
//! (compiled in); the file name is the node name with characters a file name cannot hold
//! replaced, the component is the file's `# <node>` heading. The files cover the 44 nodes
//! of the four scenarios' call graphs; each scenario reads those of its own nodes.

use std::collections::HashMap;

use crate::data::DataMatrix;
use crate::graph::CausalGraph;
use crate::sources::atlas::builtin_docs::petshop_component_docs;
use crate::sources::{ComponentDoc, ComponentDocs, SourceError};

use super::eval::fill;
use super::{NormalSource, PetshopError, Scenario, Series, incident, metric_graph};

/// A series' metric name as the graph sources read it: `<node>.<metric>_<statistic>`.
pub fn metric_name(s: &Series) -> String {
    format!("{}.{}_{}", s.node, s.metric, s.statistic)
}

/// The compiled-in description files (`crates/rca/systems/petshop/components/`), each
/// component named by its file's heading.
pub fn component_docs() -> Vec<ComponentDoc> {
    petshop_component_docs()
        .iter()
        .map(|(file, text)| {
            let heading = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            let component = heading.strip_prefix("# ").unwrap_or(heading).trim().to_string();
            ComponentDoc {
                component,
                origin: format!("built-in petshop/components/{file}"),
                text: (*text).to_string(),
            }
        })
        .collect()
}

/// What the graph sources get for one scenario.
#[derive(Debug, Clone)]
pub struct ScenarioGraphInput {
    /// The scenario's name.
    pub scenario: String,
    /// The normal period the data-driven steps read, columns named by [`metric_name`].
    pub normal: DataMatrix,
    /// Where its rows came from.
    pub source: NormalSource,
    /// The true graph over `normal`'s columns ([`metric_graph`]).
    pub truth: CausalGraph,
    /// The descriptions of the scenario's nodes, in call-graph order.
    pub docs: ComponentDocs,
    /// The call graph's (caller, callee) pairs, by name.
    pub calls: Vec<(String, String)>,
}

/// The graph input of `scenario` (see the module docs).
pub fn graph_input(scenario: &Scenario) -> Result<ScenarioGraphInput, PetshopError> {
    let (series, columns, source): (Vec<Series>, Vec<Vec<Option<f64>>>, NormalSource) =
        match &scenario.normal {
            Some(nm) => (nm.series.clone(), nm.values.clone(), NormalSource::NoIssue),
            None => {
                let Some(first) = scenario.issues.first() else {
                    return Err(PetshopError::Input(simcore::InputError::data(
                        scenario.dir.display().to_string(),
                        0,
                        "the scenario has no noissue/metrics.csv and no issue: there is no \
                         normal period to build a graph from",
                    )));
                };
                let series: Vec<Series> = first
                    .metrics
                    .series
                    .iter()
                    .filter(|s| scenario.issues.iter().all(|i| i.metrics.column_of(s).is_some()))
                    .cloned()
                    .collect();
                let mut columns = vec![Vec::new(); series.len()];
                for issue in &scenario.issues {
                    let rows = issue.first_abnormal_row().unwrap_or(issue.metrics.rows());
                    for (s, col) in series.iter().zip(columns.iter_mut()) {
                        if let Some(v) =
                            issue.metrics.column_of(s).and_then(|k| issue.metrics.values.get(k))
                        {
                            col.extend_from_slice(&v[..rows.min(v.len())]);
                        }
                    }
                }
                (series, columns, NormalSource::PreIncidentRows)
            }
        };
    let mut kept = Vec::new();
    let mut filled = Vec::new();
    for (s, c) in series.into_iter().zip(columns) {
        if c.iter().any(Option::is_some) {
            filled.push(fill(&c));
            kept.push(s);
        }
    }
    let names: Vec<String> = kept.iter().map(metric_name).collect();
    let normal = DataMatrix::from_columns(filled)?.with_names(names.clone())?;
    let mut truth = metric_graph(&scenario.graph, &kept)?;
    truth.set_names(names)?;
    let nodes: Vec<&str> = scenario.graph.names.iter().map(String::as_str).collect();
    let docs = ComponentDocs::for_components("petshop", &nodes, component_docs())
        .map_err(|e| source_to_petshop(&e))?;
    let calls = scenario
        .graph
        .calls
        .iter()
        .map(|&(a, b)| (scenario.graph.names[a].clone(), scenario.graph.names[b].clone()))
        .collect();
    Ok(ScenarioGraphInput { scenario: scenario.name.clone(), normal, source, truth, docs, calls })
}

fn source_to_petshop(e: &SourceError) -> PetshopError {
    PetshopError::Input(simcore::InputError::Simulation(e.to_string()))
}

/// One issue as a `kind: rca` run localises it.
#[derive(Debug, Clone)]
pub struct IssueCase {
    /// `train/issue_3`.
    pub label: String,
    /// The symptom's metric (`latency` or `availability`).
    pub target_metric: String,
    /// Normal rows, then the issue's rows; columns named by [`metric_name`].
    pub data: DataMatrix,
    /// The normal rows.
    pub normal: std::ops::Range<usize>,
    /// The abnormal rows.
    pub abnormal: std::ops::Range<usize>,
    /// The node of each column.
    pub node_of: Vec<String>,
    /// The true root-cause node.
    pub root_cause: String,
}

/// The issues of `scenario` as cases; issues of a scenario without a `noissue` file whose
/// first row is already abnormal are left out (`skipped`, with the reason).
pub fn issue_cases(scenario: &Scenario) -> Result<(Vec<IssueCase>, Vec<String>), PetshopError> {
    let mut cases = Vec::new();
    let mut skipped = Vec::new();
    for issue in &scenario.issues {
        if scenario.normal.is_none() && issue.first_abnormal_row() == Some(0) {
            skipped.push(format!(
                "{}/{}: no noissue/metrics.csv and no row before the trigger",
                scenario.name,
                issue.label()
            ));
            continue;
        }
        let inc = incident(scenario, issue)?;
        let names = inc.series.iter().map(metric_name).collect();
        cases.push(IssueCase {
            label: issue.label(),
            target_metric: issue.target.metric.clone(),
            data: inc.data.with_names(names)?,
            normal: inc.normal,
            abnormal: inc.abnormal,
            node_of: inc.series.iter().map(|s| s.node.clone()).collect(),
            root_cause: issue.root_cause.node.clone(),
        });
    }
    Ok((cases, skipped))
}

/// `graph` restricted to `names` (edges among them, by name; a name the graph lacks is an
/// isolated node).
pub fn restrict_by_name(
    graph: &CausalGraph,
    names: &[String],
) -> Result<CausalGraph, PetshopError> {
    let index: HashMap<&str, usize> =
        graph.names().iter().enumerate().map(|(i, n)| (n.as_str(), i)).collect();
    let at: Vec<Option<usize>> = names.iter().map(|n| index.get(n.as_str()).copied()).collect();
    let mut g = CausalGraph::with_names(names.to_vec());
    for (a, fa) in at.iter().enumerate() {
        let Some(fa) = *fa else { continue };
        for (b, fb) in at.iter().enumerate().skip(a + 1) {
            let Some(fb) = *fb else { continue };
            if graph.has_undirected(fa, fb) {
                g.add_undirected(a, b)?;
            } else if graph.has_directed(fa, fb) {
                g.add_directed(a, b)?;
            } else if graph.has_directed(fb, fa) {
                g.add_directed(b, a)?;
            }
        }
    }
    Ok(g)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_node_of_every_scenario_has_a_description() {
        let docs = component_docs();
        let mut names: Vec<&str> = docs.iter().map(|d| d.component.as_str()).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len(), "two files describe one node");
        let root = super::super::data_root().unwrap();
        for sc in super::super::SCENARIOS {
            let graph = super::super::read_graph(&root.join(sc).join("graph.csv")).unwrap();
            let nodes: Vec<&str> = graph.names.iter().map(String::as_str).collect();
            let d = ComponentDocs::for_components("petshop", &nodes, docs.clone()).unwrap();
            assert!(d.warnings.is_empty(), "{sc}: {:?}", d.warnings);
        }
    }

    #[test]
    fn restriction_keeps_edges_by_name() {
        let names: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        let mut g = CausalGraph::with_names(names);
        g.add_directed(2, 0).unwrap();
        g.add_undirected(0, 1).unwrap();
        let r = restrict_by_name(&g, &["c".into(), "a".into(), "z".into()]).unwrap();
        assert!(r.has_directed(0, 1) && r.n_edges() == 1);
    }
}
