//! Errors of the GNN simulator: each names the config field or data file line at fault.

/// An impossible setting or a malformed data file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GnnError {
    /// A setting that cannot work, with the field and what would.
    #[error("{field}: {message}")]
    Invalid {
        /// Config path of the field, e.g. `workload.graph.nodes`.
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
}

impl GnnError {
    /// An invalid-setting error for `field` (a path under `workload`).
    pub fn invalid(field: &str, message: impl Into<String>) -> GnnError {
        GnnError::Invalid { field: format!("workload.{field}"), message: message.into() }
    }
}
