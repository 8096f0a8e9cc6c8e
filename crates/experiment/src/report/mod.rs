//! Reports: plots (SVG and PNG) declared in the config, an HTML page and a Markdown page. Each
//! plot type is one file under `plots/` behind the `PlotKind` interface of `plot.rs`; `lines.rs`
//! is the figure the line and series plots share, `axes.rs` and `marks.rs` what every figure
//! shares.

mod axes;
mod font;
mod lines;
mod marks;
mod pages;
mod plot;
mod plots;
mod spec;

pub use pages::{Report, write_report};
pub use plot::check_plots;
pub use spec::{PlotSpec, PlotType, ReportSpec, RunFilter};

/// Width and height of every plot, in pixels.
pub const PLOT_SIZE: (u32, u32) = (1024, 640);
