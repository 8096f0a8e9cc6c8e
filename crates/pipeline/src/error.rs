//! Errors of the pipeline simulator: each names the config field at fault.

/// An impossible or inconsistent pipeline setting.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PipelineError {
    /// A setting that cannot work, with the field and what would.
    #[error("{field}: {message}")]
    Invalid {
        /// Config path of the field, e.g. `workload.stages`.
        field: String,
        /// What is wrong and what would work.
        message: String,
    },
    /// The simulation failed (a bug or an unsupported cluster feature).
    #[error("simulation failed: {0}")]
    Simulation(String),
}

impl PipelineError {
    /// An invalid-setting error for `field` (a path under `workload`).
    pub fn invalid(field: &str, message: impl Into<String>) -> PipelineError {
        PipelineError::Invalid { field: format!("workload.{field}"), message: message.into() }
    }
}
