//! The one error type every simulator reports about its input: a config field that cannot
//! work (with its path, so the experiment runner can point at the file, line and column), a
//! data file line that cannot be read, or a simulation that failed.

/// What went wrong with a simulator's input, or inside the simulation.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InputError {
    /// A setting that cannot work, with the field and what would.
    #[error("{field}: {message}")]
    Invalid {
        /// Config path of the field: `workload.stages`, `workload.graph.nodes`, or
        /// `params.parts` for a parameter of the system entry (`system` for its name).
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

impl InputError {
    /// An invalid-setting error for `field`, a path under `workload` (`"stages"` ->
    /// `workload.stages`).
    pub fn invalid(field: &str, message: impl Into<String>) -> InputError {
        InputError::Invalid { field: format!("workload.{field}"), message: message.into() }
    }

    /// An invalid-setting error for `field` written as a full config path (`params.parts`,
    /// `workload.alpha.locality_stats`).
    pub fn at(field: impl Into<String>, message: impl Into<String>) -> InputError {
        InputError::Invalid { field: field.into(), message: message.into() }
    }

    /// A malformed line of a data file.
    pub fn data(path: impl Into<String>, line: usize, message: impl Into<String>) -> InputError {
        InputError::Data { path: path.into(), line, message: message.into() }
    }

    /// The config field at fault, if the error names one.
    pub fn field(&self) -> Option<&str> {
        match self {
            InputError::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_their_field_or_line() {
        let e = InputError::invalid("stages", "must be at least 1");
        assert_eq!(e.to_string(), "workload.stages: must be at least 1");
        assert_eq!(e.field(), Some("workload.stages"));
        let e = InputError::at("params.parts", "too many");
        assert_eq!(e.field(), Some("params.parts"));
        let e = InputError::data("cora.edges.tsv", 3, "not a number");
        assert_eq!(e.to_string(), "cora.edges.tsv:3: not a number");
        assert_eq!(e.field(), None);
    }
}
