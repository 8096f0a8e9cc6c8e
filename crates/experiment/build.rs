//! Records the git revision the binary was built from (MLSIM_GIT_REVISION), or "unknown".
//! A build outside a git checkout (CI builds a copy of the tracked files) may set
//! MLSIM_GIT_REVISION in its environment instead.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=MLSIM_GIT_REVISION");
    if let Ok(rev) = std::env::var("MLSIM_GIT_REVISION")
        && !rev.trim().is_empty()
    {
        println!("cargo:rustc-env=MLSIM_GIT_REVISION={}", rev.trim());
        return;
    }
    let rev = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=MLSIM_GIT_REVISION={rev}");
    // Rebuild when HEAD moves (paths relative to this crate).
    for p in ["../../.git/HEAD", "../../.git/refs/heads"] {
        if std::path::Path::new(p).exists() {
            println!("cargo:rerun-if-changed={p}");
        }
    }
}
