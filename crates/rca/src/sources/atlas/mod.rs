//! The `atlas` source, after Atlas ("Cloud Atlas", arXiv 2407.08694): a causal graph
//! synthesised per component from its documentation, composed, and refined with telemetry.
//!
//! 1. **Documentation** ([`docs`]): one Markdown description per component; the
//!    **coverage knob** ([`coverage`]) first leaves out and misstates a seeded share of the
//!    stated interactions and metrics.
//! 2. **Synthesis**, one step per component, proposing edges among its metrics and towards
//!    the components its description says it interacts with: the offline [`rules`] backend
//!    or the [`llm`] backend (an OpenAI-compatible endpoint, answers cached).
//! 3. **Composition**: the union of the local pieces; an edge proposed in both directions
//!    (by two components, or by one) becomes undirected and is reported as a conflict.
//! 4. **Refinement** ([`mod@refine`]): each proposed edge is tested with Fisher-z given the
//!    effect's other proposed parents (pruned when independent), and edges the data
//!    strongly support between metrics of interacting components are added.
//!
//! The report ([`AtlasReport`]) keeps the composed graph before refinement, so the effect
//! of each step can be scored.

pub(crate) mod builtin_docs;
pub mod coverage;
pub mod docs;
pub mod llm;
pub mod refine;
pub mod rules;
pub mod sha256;

use std::collections::BTreeSet;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::graph::CausalGraph;
use crate::sources::atlas::coverage::{CoverageReport, apply_coverage};
use crate::sources::atlas::docs::mentioned;
use crate::sources::atlas::llm::{LlmBackend, LlmConfig};
use crate::sources::atlas::refine::{RefineReport, refine};
use crate::sources::atlas::rules::read_knowledge;
use crate::sources::clean::clean;
use crate::sources::{
    ComponentDocs, GraphSource, SourceDetails, SourceError, SourceInput, SourceOutput,
};

/// One component's proposed edges (metric names, cause first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalPiece {
    /// The component.
    pub component: String,
    /// Proposed (cause, effect) pairs.
    pub edges: Vec<(String, String)>,
    /// What was left out of its answer, and why.
    pub warnings: Vec<String>,
}

/// Which synthesis backend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Backend {
    /// Offline domain rules over the descriptions ([`rules`]).
    #[default]
    Rules,
    /// An OpenAI-compatible chat endpoint ([`llm`]).
    Llm(LlmConfig),
}

/// The `atlas` source's config fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AtlasConfig {
    /// Synthesis backend (default `{kind: rules}`).
    #[serde(default)]
    pub backend: Backend,
    /// Share of the stated interactions and metrics kept (default 1).
    #[serde(default = "one")]
    pub coverage: f64,
    /// Share misstated (default 0).
    #[serde(default)]
    pub misstate: f64,
    /// Seed of the coverage knob's draws (default 0).
    #[serde(default)]
    pub seed: u64,
    /// Whether to run the data-driven refinement (default true).
    #[serde(default = "yes")]
    pub refine: bool,
    /// Level at which a proposed edge found independent is pruned (default 0.05).
    #[serde(default = "default_alpha")]
    pub alpha: f64,
    /// Level below which an undocumented edge is added (default 0.001).
    #[serde(default = "default_add_alpha")]
    pub add_alpha: f64,
    /// Whether additions are limited to the kinds of edge the domain rules know (default
    /// true); `false` adds any strongly supported pair, oriented by the rules' flow.
    #[serde(default = "yes")]
    pub typed_additions: bool,
}

fn one() -> f64 {
    1.0
}
fn yes() -> bool {
    true
}
fn default_alpha() -> f64 {
    0.05
}
fn default_add_alpha() -> f64 {
    1e-3
}

impl Default for AtlasConfig {
    fn default() -> Self {
        AtlasConfig {
            backend: Backend::Rules,
            coverage: 1.0,
            misstate: 0.0,
            seed: 0,
            refine: true,
            alpha: default_alpha(),
            add_alpha: default_add_alpha(),
            typed_additions: true,
        }
    }
}

/// What Atlas did, step by step.
#[derive(Debug, Clone, PartialEq)]
pub struct AtlasReport {
    /// The coverage knob's edits.
    pub coverage: CoverageReport,
    /// Edges proposed per component (before composition), in service order.
    pub pieces: Vec<(String, usize)>,
    /// Pairs proposed in both directions (made undirected).
    pub conflicts: Vec<(String, String)>,
    /// The composed graph, before refinement.
    pub proposed: CausalGraph,
    /// The refinement's edits (`None` when it is off).
    pub refine: Option<RefineReport>,
    /// Seconds spent in synthesis (requests included) and in refinement.
    pub synthesis_s: f64,
    /// Seconds spent in refinement.
    pub refine_s: f64,
}

/// Atlas as a graph source.
#[derive(Debug, Clone)]
pub struct AtlasSource {
    config: AtlasConfig,
    llm: Option<LlmBackend>,
}

impl AtlasSource {
    /// Checks the config.
    pub fn new(config: AtlasConfig) -> Result<Self, SourceError> {
        for (field, v) in [("coverage", config.coverage), ("misstate", config.misstate)] {
            if !(0.0..=1.0).contains(&v) {
                return Err(SourceError::Config {
                    field: field.into(),
                    message: format!("{v} is not a share in [0, 1]"),
                });
            }
        }
        for (field, v) in [("alpha", config.alpha), ("add_alpha", config.add_alpha)] {
            if !(v > 0.0 && v < 1.0) {
                return Err(SourceError::Config {
                    field: field.into(),
                    message: format!("{v} is not a significance level in (0, 1)"),
                });
            }
        }
        let llm = match &config.backend {
            Backend::Rules => None,
            Backend::Llm(c) => Some(LlmBackend::new(c.clone())?),
        };
        Ok(AtlasSource { config, llm })
    }

    /// The same source, its `llm` backend reading the API key through `env` (tests).
    pub fn with_env(mut self, env: llm::EnvLookup) -> Self {
        self.llm = self.llm.map(|b| b.with_env(env));
        self
    }
}

/// The union of `pieces` over `names`; pairs proposed both ways become undirected.
pub fn compose(
    names: &[String],
    pieces: &[LocalPiece],
) -> Result<(CausalGraph, Vec<(String, String)>), SourceError> {
    let mut g = CausalGraph::with_names(names.to_vec());
    let mut wanted: BTreeSet<(usize, usize)> = BTreeSet::new();
    for p in pieces {
        for (c, e) in &p.edges {
            if let (Some(a), Some(b)) = (g.index_of(c), g.index_of(e))
                && a != b
            {
                wanted.insert((a, b));
            }
        }
    }
    let mut conflicts = Vec::new();
    for &(a, b) in &wanted {
        if wanted.contains(&(b, a)) {
            if a < b {
                g.add_undirected(a, b)?;
                conflicts.push((names[a].clone(), names[b].clone()));
            }
        } else {
            g.add_directed(a, b)?;
        }
    }
    Ok((g, conflicts))
}

impl GraphSource for AtlasSource {
    fn name(&self) -> &'static str {
        "atlas"
    }

    fn build(&self, input: &SourceInput<'_>) -> Result<SourceOutput, SourceError> {
        let system = input.system;
        let calls: Vec<(String, String)> = system
            .call_edges()
            .into_iter()
            .map(|(c, s)| (system.services()[c].name.clone(), system.services()[s].name.clone()))
            .collect();
        self.build_with(input.docs, &calls, input.normal)
    }
}

impl AtlasSource {
    /// The graph over `normal`'s metrics (named `<component>.<metric>`) from `docs` and the
    /// traces' (caller, callee) component pairs `calls`, for a system that has no simulator
    /// spec (PetShop's real telemetry); [`GraphSource::build`] calls it with the spec's
    /// call graph. `time_s` is left 0.
    pub fn build_with(
        &self,
        docs: &ComponentDocs,
        calls: &[(String, String)],
        normal: &crate::data::DataMatrix,
    ) -> Result<SourceOutput, SourceError> {
        let c = &self.config;
        let names = normal.names().to_vec();
        let start = Instant::now();
        let (docs, cov) = apply_coverage(docs, &names, c.coverage, c.misstate, c.seed)?;
        let mut warnings = docs.warnings.clone();
        let mut pieces = Vec::with_capacity(docs.docs().len());
        match &self.llm {
            None => {
                let k = read_knowledge(&docs, &names);
                warnings.extend(k.warnings.iter().cloned());
                pieces.extend(docs.docs().iter().map(|d| k.piece(&d.component)));
            }
            Some(llm) => {
                let components: Vec<&str> =
                    docs.docs().iter().map(|d| d.component.as_str()).collect();
                let metrics_of = |comp: &str| -> Vec<String> {
                    names
                        .iter()
                        .filter(|n| n.rsplit_once('.').is_some_and(|(c, _)| c == comp))
                        .cloned()
                        .collect()
                };
                for d in docs.docs() {
                    let partners: Vec<(String, Vec<String>)> =
                        mentioned(&d.text, components.iter().copied())
                            .into_iter()
                            .filter(|p| *p != d.component)
                            .map(|p| {
                                let m = metrics_of(&p);
                                (p, m)
                            })
                            .collect();
                    let piece = llm.piece(d, &metrics_of(&d.component), &partners)?;
                    warnings.extend(piece.warnings.iter().cloned());
                    pieces.push(piece);
                }
            }
        }
        let (proposed, conflicts) = compose(&names, &pieces)?;
        for (a, b) in &conflicts {
            warnings.push(format!("atlas: `{a}` and `{b}` proposed both ways; left undirected"));
        }
        let synthesis_s = start.elapsed().as_secs_f64();
        let start = Instant::now();
        let (graph, refine_report, dropped) = if c.refine {
            let (g, r) = refine(&proposed, normal, calls, c.alpha, c.add_alpha, c.typed_additions)?;
            (g, Some(r), clean(normal)?.dropped)
        } else {
            (proposed.clone(), None, Vec::new())
        };
        let report = AtlasReport {
            coverage: cov,
            pieces: pieces.iter().map(|p| (p.component.clone(), p.edges.len())).collect(),
            conflicts,
            proposed,
            refine: refine_report,
            synthesis_s,
            refine_s: start.elapsed().as_secs_f64(),
        };
        Ok(SourceOutput {
            graph,
            time_s: 0.0,
            dropped,
            warnings,
            details: SourceDetails::Atlas(Box::new(report)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::DataMatrix;
    use crate::sim::metric_names;
    use crate::sources::ComponentDocs;
    use crate::system::builtin::{BUILTIN, builtin};
    use crate::truth::ground_truth;

    /// On complete, correct documentation the rules reproduce the simulator's graph: the
    /// built-in description files state every interaction and metric.
    #[test]
    fn builtin_docs_are_complete() {
        for (name, _) in BUILTIN {
            let sys = builtin(name).unwrap();
            let Some(docs) = ComponentDocs::builtin(&sys).unwrap() else { continue };
            assert!(docs.warnings.is_empty(), "{name}: {:?}", docs.warnings);
            let names = metric_names(&sys);
            let cols = (0..names.len()).map(|j| vec![j as f64, 1.0, (j * j) as f64]).collect();
            let data = DataMatrix::from_columns(cols).unwrap().with_names(names).unwrap();
            let input = SourceInput { system: &sys, docs: &docs, normal: &data };
            let config = AtlasConfig { refine: false, ..AtlasConfig::default() };
            let out = AtlasSource::new(config).unwrap().build(&input).unwrap();
            assert!(out.warnings.is_empty(), "{name}: {:?}", out.warnings);
            let truth = ground_truth(&sys).unwrap();
            let (got, want) = (out.graph.edges(), truth.edges());
            let show = |es: Vec<&crate::graph::Edge>| -> Vec<String> {
                es.iter()
                    .map(|e| match e {
                        crate::graph::Edge::Directed { from, to } => {
                            format!("{} -> {}", truth.names()[*from], truth.names()[*to])
                        }
                        crate::graph::Edge::Undirected { a, b } => {
                            format!("{} - {}", truth.names()[*a], truth.names()[*b])
                        }
                    })
                    .collect()
            };
            let extra = show(got.iter().filter(|e| !want.contains(e)).collect());
            let missing = show(want.iter().filter(|e| !got.contains(e)).collect());
            assert!(
                extra.is_empty() && missing.is_empty(),
                "{name}: extra {extra:?}, missing {missing:?}"
            );
        }
    }

    #[test]
    fn composition_makes_conflicts_undirected() {
        let names: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        let piece = |e: &[(&str, &str)]| LocalPiece {
            component: "x".into(),
            edges: e.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect(),
            warnings: Vec::new(),
        };
        let (g, conflicts) =
            compose(&names, &[piece(&[("a", "b"), ("b", "c")]), piece(&[("b", "a")])]).unwrap();
        assert!(g.has_undirected(0, 1) && g.has_directed(1, 2));
        assert_eq!(conflicts, vec![("a".to_string(), "b".to_string())]);
        assert!(AtlasSource::new(AtlasConfig { coverage: 1.5, ..AtlasConfig::default() }).is_err());
    }
}
