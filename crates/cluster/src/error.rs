//! Errors of the cluster crate: unknown parts, invalid specs, impossible collectives.

use std::path::PathBuf;

/// Everything that can go wrong building or querying a cluster.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// A catalog or preset name that does not exist.
    #[error("unknown {kind} `{name}`{suggestion}; known: {known}")]
    UnknownName {
        /// What was looked up ("GPU", "preset", ...).
        kind: &'static str,
        /// The name as given.
        name: String,
        /// A "did you mean" hint or empty.
        suggestion: String,
        /// The valid names, comma-separated.
        known: String,
    },
    /// A YAML file or string that does not parse as a cluster spec.
    #[error("{origin}: {message}")]
    Parse {
        /// File path or "built-in preset x".
        origin: String,
        /// The parser's message (with line and column).
        message: String,
    },
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A spec that parses but describes something impossible.
    #[error("invalid cluster spec: {0}")]
    Invalid(String),
    /// A request that the cluster cannot serve (a GPU index out of range, a dtype the GPU lacks).
    #[error("{0}")]
    Unsupported(String),
}

/// Builds an [`ClusterError::UnknownName`] with a suggestion from `known`.
pub(crate) fn unknown_name<'a, I>(kind: &'static str, name: &str, known: I) -> ClusterError
where
    I: IntoIterator<Item = &'a str> + Clone,
{
    ClusterError::UnknownName {
        kind,
        name: name.to_string(),
        suggestion: simcore::names::did_you_mean(name, known.clone()),
        known: known.into_iter().collect::<Vec<_>>().join(", "),
    }
}
