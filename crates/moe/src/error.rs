//! Errors of the MoE simulator: each names the config field at fault.

/// An impossible or inconsistent MoE setting.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MoeError {
    /// A setting that cannot work, with the field (relative to the workload or system).
    #[error("{field}: {message}")]
    Invalid {
        /// Config path of the field, e.g. `workload.slots_per_gpu`.
        field: String,
        /// What is wrong and what would work.
        message: String,
    },
    /// The simulation failed (a bug or an unsupported cluster feature).
    #[error("simulation failed: {0}")]
    Simulation(String),
}

impl MoeError {
    /// An invalid-setting error for `field` (a path under `workload`).
    pub fn invalid(field: &str, message: impl Into<String>) -> MoeError {
        MoeError::Invalid { field: format!("workload.{field}"), message: message.into() }
    }
}
