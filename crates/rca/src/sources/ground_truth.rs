//! The `ground-truth` source: the metric-level DAG the simulator implies
//! ([`crate::truth::ground_truth`]), restricted to the telemetry's metrics and laid out in
//! the telemetry's column order. With the full telemetry of a built-in system it is exactly
//! the truth graph; with a subset (some metrics missing) it keeps the edges among the
//! metrics that remain (it does not add the paths through the missing ones).

use crate::sim::metric_names;
use crate::sources::{
    GraphSource, SourceDetails, SourceError, SourceInput, SourceOutput, empty_over, map_columns,
};
use crate::truth::ground_truth;

/// The true graph as a source.
#[derive(Debug, Clone, Copy, Default)]
pub struct GroundTruthSource;

impl GraphSource for GroundTruthSource {
    fn name(&self) -> &'static str {
        "ground-truth"
    }

    fn build(&self, input: &SourceInput<'_>) -> Result<SourceOutput, SourceError> {
        let full = metric_names(input.system);
        let map = map_columns(input.system, &full, input.normal)?;
        let truth = ground_truth(input.system)?;
        let mut g = empty_over(input.normal);
        for (a, &fa) in map.iter().enumerate() {
            for (b, &fb) in map.iter().enumerate() {
                if truth.has_directed(fa, fb) {
                    g.add_directed(a, b)?;
                }
            }
        }
        Ok(SourceOutput {
            graph: g,
            time_s: 0.0,
            dropped: Vec::new(),
            warnings: Vec::new(),
            details: SourceDetails::None,
        })
    }
}
