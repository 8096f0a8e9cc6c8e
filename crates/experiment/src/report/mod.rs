//! Reports: plots (SVG and PNG) declared in the config, an HTML page and a Markdown page.

mod charts;
mod data;
mod font;
mod marks;
mod pages;
mod spec;

pub use data::check_plots;
pub use pages::{Report, write_report};
pub use spec::{PlotSpec, PlotType, ReportSpec, RunFilter};

/// Width and height of every plot, in pixels.
pub const PLOT_SIZE: (u32, u32) = (1024, 640);
