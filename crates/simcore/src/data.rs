//! Where data files are found: the repository's `data/` folder and paths written in configs.
//!
//! mlsim ships the data its tests, configs and defaults need in `data/` at the workspace root
//! (see `data/README.md` for each file's source and licence). The tools find it from the
//! workspace root this build came from, so a command works from any working directory;
//! `MLSIM_DATA_DIR` points them at another copy (a binary moved to another machine).
//!
//! A relative path written in a config (`data_dir: data/planetoid`) is looked up under the
//! workspace root first, then under the working directory, so the same config gives the same
//! result wherever it is run from; absolute paths are used as they are. When nothing is found,
//! the error names every path that was tried.

use std::path::{Path, PathBuf};

/// The environment variable that overrides the data folder.
pub const DATA_DIR_ENV: &str = "MLSIM_DATA_DIR";

/// A data file or folder that is not where it was looked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} not found{}; {}", given.display(), tried_text(tried, given), hint)]
pub struct DataNotFound {
    /// The path as given (or the data-folder entry asked for).
    pub given: PathBuf,
    /// Every place that was looked at, in order.
    pub tried: Vec<PathBuf>,
    /// What to do about it.
    pub hint: String,
}

fn tried_text(tried: &[PathBuf], given: &Path) -> String {
    if tried.len() == 1 && tried[0] == given {
        return String::new();
    }
    let list: Vec<String> = tried.iter().map(|p| p.display().to_string()).collect();
    format!(" (looked for {})", list.join(" and "))
}

/// The root of the workspace this build came from (where `Cargo.toml` and `data/` are).
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    // crates/simcore -> crates -> the workspace root.
    manifest.parent().and_then(Path::parent).unwrap_or(manifest).to_path_buf()
}

/// The data folder: `$MLSIM_DATA_DIR` if set, else `data/` at the workspace root.
pub fn data_dir() -> PathBuf {
    match std::env::var_os(DATA_DIR_ENV) {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => workspace_root().join("data"),
    }
}

/// An entry of the data folder (`data_file("planetoid")`), which must exist.
pub fn data_file(entry: impl AsRef<Path>) -> Result<PathBuf, DataNotFound> {
    let entry = entry.as_ref();
    let path = data_dir().join(entry);
    if path.exists() {
        Ok(path)
    } else {
        Err(DataNotFound {
            given: path.clone(),
            tried: vec![path],
            hint: format!(
                "the data shipped with mlsim lives in data/ at the workspace root (see data/README.md); set {DATA_DIR_ENV} to use a copy elsewhere"
            ),
        })
    }
}

/// A path from a config: absolute as it is; relative under the workspace root, else under the
/// working directory. Errors name every path tried.
pub fn resolve(path: &Path) -> Result<PathBuf, DataNotFound> {
    let mut tried = Vec::new();
    if path.is_absolute() {
        tried.push(path.to_path_buf());
    } else {
        tried.push(workspace_root().join(path));
        let cwd = std::env::current_dir().map(|d| d.join(path)).unwrap_or(path.to_path_buf());
        if !tried.contains(&cwd) {
            tried.push(cwd);
        }
    }
    match tried.iter().find(|p| p.exists()) {
        Some(p) => Ok(p.clone()),
        None => Err(DataNotFound {
            given: path.to_path_buf(),
            tried,
            hint:
                "relative paths are read from the workspace root, then from the working directory"
                    .into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workspace_root_holds_the_data_folder() {
        assert!(workspace_root().join("Cargo.toml").is_file());
        assert!(data_file("README.md").unwrap().is_file());
    }

    #[test]
    fn relative_paths_resolve_from_the_workspace_root_whatever_the_working_directory() {
        let p = resolve(Path::new("data/README.md")).unwrap();
        assert_eq!(p, workspace_root().join("data/README.md"));
        let abs = workspace_root().join("Cargo.toml");
        assert_eq!(resolve(&abs).unwrap(), abs);
    }

    #[test]
    fn missing_files_name_every_path_tried() {
        let e = resolve(Path::new("data/no-such-file.txt")).unwrap_err();
        let text = e.to_string();
        assert!(text.starts_with("data/no-such-file.txt not found"), "{text}");
        assert!(
            text.contains(&workspace_root().join("data/no-such-file.txt").display().to_string())
        );
        assert!(!e.tried.is_empty());
        let e = data_file("no-such-folder").unwrap_err().to_string();
        assert!(e.contains("no-such-folder not found") && e.contains("data/README.md"), "{e}");
    }
}
