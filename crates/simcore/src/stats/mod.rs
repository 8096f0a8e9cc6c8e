//! Statistics collected during a run: counters, sample summaries, time-weighted averages and
//! histograms with quantiles. All are plain data with deterministic results (no hashing, no
//! parallel reduction order), and all can be merged.

mod counter;
mod histogram;
mod summary;
mod time_weighted;

pub use counter::Counter;
pub use histogram::Histogram;
pub use summary::Summary;
pub use time_weighted::TimeWeighted;
