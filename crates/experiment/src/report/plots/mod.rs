//! The plot types, one file each (see `plot.rs` for the interface they implement).

pub mod bars;
pub mod cdf;
pub mod gantt;
pub mod heatmap;
pub mod line;
pub mod series;
