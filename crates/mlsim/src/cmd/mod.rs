//! One module per subcommand.

pub mod collective;
pub mod list;
pub mod run;
