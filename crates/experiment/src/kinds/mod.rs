//! Built-in experiment kinds. Domain crates add theirs to [`crate::kind::kinds`].

pub mod collective;
