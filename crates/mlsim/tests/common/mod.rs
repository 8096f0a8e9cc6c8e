//! Running the built `mlsim` binary from the workspace root, as a user would.

use std::process::{Command, Output};

/// Runs `mlsim` with `args` from the workspace root.
pub fn mlsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mlsim"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .output()
        .expect("mlsim runs")
}

/// Standard output and standard error as text.
pub fn text_of(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}
