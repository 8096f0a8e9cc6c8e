//! Kinds built into the runner (the simulator crates' kinds are registered in `kind::kinds`).

pub mod collective;
