//! One module per subcommand.

pub mod agents_trace;
pub mod collective;
pub mod datapipe;
pub mod list;
pub mod run;
pub mod step;
