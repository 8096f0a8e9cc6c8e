//! Errors of the embedding simulator: each names the config field or data file line at fault.

/// An impossible setting or a malformed data file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EmbeddingError {
    /// A setting that cannot work, with the field and what would.
    #[error("{field}: {message}")]
    Invalid {
        /// Config path of the field, e.g. `workload.tables`, or `params.x` for a system param.
        field: String,
        /// What is wrong and what would work.
        message: String,
    },
    /// A data file that cannot be read or parsed.
    #[error("{path}:{line}: {message}")]
    Data {
        /// The file.
        path: String,
        /// 1-based line (0 when the file cannot be read at all).
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The simulation failed (a bug or an unsupported cluster feature).
    #[error("simulation failed: {0}")]
    Simulation(String),
}

impl EmbeddingError {
    /// An invalid-setting error for `field` (a path under `workload`).
    pub fn invalid(field: &str, message: impl Into<String>) -> EmbeddingError {
        EmbeddingError::Invalid { field: format!("workload.{field}"), message: message.into() }
    }
}
