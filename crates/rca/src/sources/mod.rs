//! Graph sources: where the causal graph a localiser walks comes from.
//!
//! Every source implements one trait, [`GraphSource`]: given the system (its spec and its
//! components' descriptions) and the telemetry of a normal period (a [`DataMatrix`] whose
//! columns are named `service.metric`), it returns a [`CausalGraph`] over exactly the
//! telemetry's metrics, in the telemetry's column order, with the wall-clock time it took
//! and what it had to leave out. One file per source:
//!
//! - [`ground_truth`]: the simulator's own metric graph ([`crate::truth`]), restricted to
//!   the telemetry's metrics;
//! - [`pc`]: PC-stable with Fisher-z tests on the telemetry ([`crate::pc`]), after dropping
//!   the constant and linearly dependent metrics Fisher-z cannot test ([`clean`]);
//! - [`atlas`]: Atlas's documentation-driven graph — one synthesis step per component from
//!   its description file (an offline `rules` backend or an OpenAI-compatible `llm`
//!   backend), the local pieces composed into one graph, then a data-driven refinement
//!   with conditional-independence tests — with a documentation-coverage knob.
//!
//! [`SourceConfig`] is the serde form a config file names a source by (`kind:
//! ground-truth | pc | atlas`). Formulas, rules and assumptions: `docs/models/rca.md`,
//! section 9.

pub mod atlas;
pub mod clean;
pub mod ground_truth;
pub mod pc;

use std::time::Instant;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::data::DataMatrix;
use crate::error::RcaError;
use crate::graph::CausalGraph;
use crate::system::System;

pub use atlas::docs::{ComponentDoc, ComponentDocs};
pub use clean::{DropReason, DroppedMetric};

/// What a graph source is given.
#[derive(Debug, Clone, Copy)]
pub struct SourceInput<'a> {
    /// The system under test (its services, their spec descriptions and call graph).
    pub system: &'a System,
    /// The components' description files (see [`ComponentDocs`]).
    pub docs: &'a ComponentDocs,
    /// Telemetry of a normal (fault-free) period; columns named `service.metric`.
    pub normal: &'a DataMatrix,
}

/// What a graph source returns.
#[derive(Debug, Clone)]
pub struct SourceOutput {
    /// The graph, over exactly `input.normal`'s metric names in their order.
    pub graph: CausalGraph,
    /// Wall-clock seconds the source took (the only non-deterministic field).
    pub time_s: f64,
    /// Metrics the data-driven part could not test (constant or linearly dependent); in
    /// `pc` they come back as isolated nodes.
    pub dropped: Vec<DroppedMetric>,
    /// Things the user should know (a missing description file, an answer's bad edge, ...).
    pub warnings: Vec<String>,
    /// Source-specific counts.
    pub details: SourceDetails,
}

/// Source-specific counts of a [`SourceOutput`].
#[derive(Debug, Clone, PartialEq)]
pub enum SourceDetails {
    /// Nothing more to say.
    None,
    /// PC's search statistics.
    Pc {
        /// Conditional-independence tests run.
        tests: usize,
        /// Largest conditioning-set size tested.
        max_level: usize,
    },
    /// Atlas's synthesis, composition and refinement.
    Atlas(Box<atlas::AtlasReport>),
}

/// Something a graph source could not do.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SourceError {
    /// An error of the causal core (graph, data, Fisher-z).
    #[error(transparent)]
    Rca(#[from] RcaError),
    /// A telemetry column the system does not know.
    #[error(
        "telemetry: metric `{name}` (column {column}) is not a metric of system `{system}`; \
         names are `<service>.<metric>`{hint}"
    )]
    UnknownMetric {
        /// The column's name.
        name: String,
        /// Its index.
        column: usize,
        /// The system.
        system: String,
        /// A "did you mean" suffix, possibly empty.
        hint: String,
    },
    /// A description file that cannot be read or used.
    #[error("{file}: {message}")]
    Docs {
        /// The file (or folder).
        file: String,
        /// What is wrong.
        message: String,
    },
    /// A configuration value out of range.
    #[error("graph source config: field `{field}`: {message}")]
    Config {
        /// The field.
        field: String,
        /// What would be valid.
        message: String,
    },
    /// The `llm` backend's endpoint failed or answered something unusable.
    #[error("llm backend ({url}), component `{component}`: {message}")]
    Llm {
        /// The endpoint.
        url: String,
        /// The component whose synthesis failed.
        component: String,
        /// What happened.
        message: String,
    },
    /// The answer cache could not be read or written.
    #[error("llm cache {path}: {message}")]
    Cache {
        /// The cache file or folder.
        path: String,
        /// What happened.
        message: String,
    },
}

/// A source of causal graphs over a system's telemetry.
pub trait GraphSource {
    /// The source's name as a config names it (`ground-truth`, `pc`, `atlas`).
    fn name(&self) -> &'static str;

    /// The graph over `input.normal`'s metrics. Implementations fill everything but
    /// `time_s`; [`run_source`] measures it.
    fn build(&self, input: &SourceInput<'_>) -> Result<SourceOutput, SourceError>;
}

/// Runs `source` and records its wall-clock time in `time_s`.
pub fn run_source(
    source: &dyn GraphSource,
    input: &SourceInput<'_>,
) -> Result<SourceOutput, SourceError> {
    let start = Instant::now();
    let mut out = source.build(input)?;
    out.time_s = start.elapsed().as_secs_f64();
    Ok(out)
}

/// A graph source as a config file names it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum SourceConfig {
    /// The simulator's true graph.
    GroundTruth,
    /// PC-stable with Fisher-z.
    Pc(pc::PcSourceConfig),
    /// Atlas.
    Atlas(atlas::AtlasConfig),
}

impl SourceConfig {
    /// The source this config describes (checking its fields).
    pub fn build(&self) -> Result<Box<dyn GraphSource>, SourceError> {
        Ok(match self {
            SourceConfig::GroundTruth => Box::new(ground_truth::GroundTruthSource),
            SourceConfig::Pc(c) => Box::new(pc::PcSource::new(c.clone())?),
            SourceConfig::Atlas(c) => Box::new(atlas::AtlasSource::new(c.clone())?),
        })
    }
}

/// For each telemetry column, the index of the same metric in `full` (the system's metric
/// names); an unknown name is an error naming the column.
pub(crate) fn map_columns(
    system: &System,
    full: &[String],
    data: &DataMatrix,
) -> Result<Vec<usize>, SourceError> {
    let mut out = Vec::with_capacity(data.variables());
    for (column, name) in data.names().iter().enumerate() {
        match full.iter().position(|n| n == name) {
            Some(i) => out.push(i),
            None => {
                return Err(SourceError::UnknownMetric {
                    name: name.clone(),
                    column,
                    system: system.name().to_string(),
                    hint: simcore::names::did_you_mean(name, full.iter().map(String::as_str)),
                });
            }
        }
    }
    Ok(out)
}

/// An empty graph over the telemetry's names.
pub(crate) fn empty_over(data: &DataMatrix) -> CausalGraph {
    CausalGraph::with_names(data.names().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_names_each_source() {
        let yaml = "kind: pc\nalpha: 0.01\n";
        let c: SourceConfig = serde_saphyr::from_str(yaml).unwrap();
        assert_eq!(c, SourceConfig::Pc(pc::PcSourceConfig { alpha: 0.01, max_depth: None }));
        let c: SourceConfig = serde_saphyr::from_str("kind: ground-truth\n").unwrap();
        assert_eq!(c.build().unwrap().name(), "ground-truth");
        let c: SourceConfig =
            serde_saphyr::from_str("kind: atlas\nbackend: {kind: rules}\ncoverage: 0.5\n").unwrap();
        assert_eq!(c.build().unwrap().name(), "atlas");
        assert!(serde_saphyr::from_str::<SourceConfig>("kind: pc\nalfa: 0.1\n").is_err());
        let bad = SourceConfig::Pc(pc::PcSourceConfig { alpha: 1.5, max_depth: None });
        assert!(bad.build().err().unwrap().to_string().contains("alpha"));
    }
}
