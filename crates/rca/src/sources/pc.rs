//! The `pc` source: data-driven discovery with PC-stable, Fisher-z tests and Meek's rules
//! ([`crate::pc`]) on the normal period's telemetry, with causal-learn's defaults
//! (alpha 0.05, no depth limit) unless the config says otherwise.
//!
//! Fisher-z is undefined for constant and linearly dependent metrics, so they are dropped
//! first ([`crate::sources::clean`]) and come back as isolated nodes, listed in
//! [`SourceOutput::dropped`]. Should PC still meet a singular correlation submatrix (a
//! near-dependence the greedy check let through), the highest-indexed variable it names is
//! dropped as linearly dependent and the search rerun.

use serde::{Deserialize, Serialize};

use crate::data::DataMatrix;
use crate::error::RcaError;
use crate::fisher_z::FisherZ;
use crate::pc::{PcOptions, pc};
use crate::sources::clean::{DropReason, DroppedMetric, clean, select};
use crate::sources::{
    GraphSource, SourceDetails, SourceError, SourceInput, SourceOutput, empty_over,
};

/// The `pc` source's config fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PcSourceConfig {
    /// Significance level of the Fisher-z tests (default 0.05).
    #[serde(default = "default_alpha")]
    pub alpha: f64,
    /// Largest conditioning-set size (default: none).
    #[serde(default)]
    pub max_depth: Option<usize>,
}

fn default_alpha() -> f64 {
    0.05
}

impl Default for PcSourceConfig {
    fn default() -> Self {
        PcSourceConfig { alpha: default_alpha(), max_depth: None }
    }
}

/// PC-stable with Fisher-z as a graph source.
#[derive(Debug, Clone)]
pub struct PcSource {
    config: PcSourceConfig,
}

impl PcSource {
    /// Checks the config.
    pub fn new(config: PcSourceConfig) -> Result<Self, SourceError> {
        if !(config.alpha > 0.0 && config.alpha < 1.0) {
            return Err(SourceError::Config {
                field: "alpha".into(),
                message: format!("{} is not a significance level in (0, 1)", config.alpha),
            });
        }
        Ok(PcSource { config })
    }
}

impl GraphSource for PcSource {
    fn name(&self) -> &'static str {
        "pc"
    }

    fn build(&self, input: &SourceInput<'_>) -> Result<SourceOutput, SourceError> {
        self.discover(input.normal)
    }
}

impl PcSource {
    /// The graph over `data`'s columns, from the data alone (PC needs no system or
    /// documentation, so this also serves data without a system, such as CIRCA's).
    pub fn discover(&self, data: &DataMatrix) -> Result<SourceOutput, SourceError> {
        let cleaned = clean(data)?;
        let mut dropped = cleaned.dropped;
        let mut kept = cleaned.kept;
        let options =
            PcOptions { alpha: self.config.alpha, max_depth: self.config.max_depth, orient: true };
        let mut g = empty_over(data);
        let mut details = SourceDetails::Pc { tests: 0, max_level: 0 };
        while kept.len() >= 2 {
            let sub = select(data, &kept)?;
            let mut test = FisherZ::new(&sub)?;
            match pc(&mut test, &options) {
                Ok(found) => {
                    for e in found.graph.edges() {
                        match e {
                            crate::graph::Edge::Directed { from, to } => {
                                g.add_directed(kept[from], kept[to])?
                            }
                            crate::graph::Edge::Undirected { a, b } => {
                                g.add_undirected(kept[a], kept[b])?
                            }
                        }
                    }
                    details = SourceDetails::Pc { tests: found.tests, max_level: found.max_level };
                    break;
                }
                Err(RcaError::SingularCorrelation { variables }) => {
                    let Some(&worst) = variables.iter().max() else { break };
                    let column = kept.remove(worst);
                    dropped.push(DroppedMetric {
                        name: data.names()[column].clone(),
                        column,
                        reason: DropReason::LinearlyDependent,
                    });
                }
                Err(e) => return Err(e.into()),
            }
        }
        dropped.sort_by_key(|d| d.column);
        let warnings = dropped
            .iter()
            .map(|d| {
                format!("pc: metric `{}` left out ({:?}); it is an isolated node", d.name, d.reason)
            })
            .collect();
        Ok(SourceOutput { graph: g, time_s: 0.0, dropped, warnings, details })
    }
}
