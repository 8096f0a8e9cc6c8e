//! Errors of the experiment runner. A config error names where the bad value came from (file,
//! line and column; a `--set` argument; a built-in preset), the field, and what is valid.

use std::fmt;
use std::path::PathBuf;

use crate::locations::{Location, LocationMap};
use crate::value_path::Path;

/// Where a config value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A position in a file.
    File {
        /// The file as the user named it.
        file: String,
        /// Line and column (absent if the value has no place in the file).
        at: Option<Location>,
        /// The text of that line, for the caret display.
        line_text: Option<String>,
    },
    /// A `--set PATH=VALUE` argument.
    Set(String),
    /// A `--seeds` argument.
    Seeds(String),
    /// Anything else (a results directory, a merge).
    Other(String),
}

/// A config that cannot be used, with everything needed to fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// Where.
    pub origin: Origin,
    /// The field (config path), if known.
    pub path: Option<String>,
    /// What is wrong and what would be valid.
    pub message: String,
}

impl ConfigError {
    /// An error at `path` of a file, located with `locations`.
    pub fn in_file(
        file: &str,
        text: &str,
        locations: &LocationMap,
        path: &Path,
        message: String,
    ) -> ConfigError {
        let at = locations.locate(path);
        ConfigError {
            origin: Origin::File {
                file: file.to_string(),
                at,
                line_text: at
                    .and_then(|l| text.lines().nth(l.line.saturating_sub(1)).map(str::to_string)),
            },
            path: (!path.0.is_empty()).then(|| path.to_string()),
            message,
        }
    }

    /// An error without a place.
    pub fn other(what: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError { origin: Origin::Other(what.into()), path: None, message: message.into() }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.origin {
            Origin::File { file, at: Some(l), .. } => {
                write!(f, "{file}:{}:{}: ", l.line, l.column)?
            }
            Origin::File { file, at: None, .. } => write!(f, "{file}: ")?,
            Origin::Set(arg) => write!(f, "--set {arg}: ")?,
            Origin::Seeds(arg) => write!(f, "--seeds {arg}: ")?,
            Origin::Other(what) => write!(f, "{what}: ")?,
        }
        if let Some(p) = &self.path {
            write!(f, "{p}: ")?;
        }
        write!(f, "{}", self.message)?;
        if let Origin::File { at: Some(l), line_text: Some(text), .. } = &self.origin {
            let n = l.line.to_string();
            write!(
                f,
                "\n {n} | {text}\n {} | {}^",
                " ".repeat(n.len()),
                " ".repeat(l.column.saturating_sub(1))
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// Everything that can go wrong running an experiment.
#[derive(Debug, thiserror::Error)]
pub enum ExperimentError {
    /// A bad config.
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Some runs failed.
    #[error("{failed} of {total} runs failed; first: run {index} ({label}): {message}")]
    RunsFailed {
        /// How many failed.
        failed: usize,
        /// How many were attempted.
        total: usize,
        /// Index of the first failure.
        index: usize,
        /// Its point and system.
        label: String,
        /// Its error.
        message: String,
    },
    /// A results directory that is not what it should be.
    #[error("{0}")]
    Results(String),
    /// Plotting failed.
    #[error("plot {plot}: {message}")]
    Plot {
        /// Which plot.
        plot: String,
        /// Why.
        message: String,
    },
}

/// Shorthand for I/O errors with their path.
pub(crate) fn io_err(
    path: &std::path::Path,
) -> impl FnOnce(std::io::Error) -> ExperimentError + '_ {
    move |source| ExperimentError::Io { path: path.to_path_buf(), source }
}

/// Adds a "did you mean" hint to serde's "unknown field `x`, expected one of `a`, `b`" and
/// "unknown variant" messages.
pub fn with_suggestion(message: &str) -> String {
    let unknown = ["unknown field `", "unknown variant `"]
        .iter()
        .find_map(|p| message.find(p).map(|i| i + p.len()));
    let Some(start) = unknown else { return message.to_string() };
    let Some(len) = message[start..].find('`') else { return message.to_string() };
    let name = &message[start..start + len];
    let Some(exp) = message.find("expected") else { return message.to_string() };
    let candidates: Vec<&str> = message[exp..].split('`').skip(1).step_by(2).collect();
    let hint = simcore::names::did_you_mean(name, candidates.iter().copied());
    format!("{message}{hint}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_for_unknown_fields_and_variants() {
        let m = with_suggestion("unknown field `nods`, expected one of `name`, `nodes`, `node`");
        assert!(
            m.ends_with("(did you mean `nodes`?)") || m.ends_with("(did you mean `node`?)"),
            "{m}"
        );
        let m =
            with_suggestion("unknown variant `all-reduc`, expected `all-reduce` or `all-gather`");
        assert!(m.ends_with("(did you mean `all-reduce`?)"), "{m}");
        assert_eq!(with_suggestion("invalid type"), "invalid type");
    }

    #[test]
    fn display_has_place_field_and_caret() {
        let text = "a: 1\nb:\n  c: 64MiBB\n";
        let locs = LocationMap::scan(text);
        let e = ConfigError::in_file(
            "x.yaml",
            text,
            &locs,
            &Path::parse("b.c").unwrap(),
            "bad unit".into(),
        );
        assert_eq!(e.to_string(), "x.yaml:3:6: b.c: bad unit\n 3 |   c: 64MiBB\n   |      ^");
    }
}
