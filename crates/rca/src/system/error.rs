//! What is wrong with a system spec, a fault list or a simulation config: every message names
//! the field (with service and endpoint names, not just indices) and what would be valid.

use thiserror::Error;

/// A spec, fault or simulation-config error.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SpecError {
    /// The YAML text does not parse into the spec's shape (unknown field, wrong type, ...).
    #[error("{origin}: {message}")]
    Parse {
        /// Where the text came from (a file name, or `built-in system online-boutique`).
        origin: String,
        /// The parser's message, with its line and column.
        message: String,
    },
    /// A value that cannot work.
    #[error("{field}: {message}")]
    Invalid {
        /// The field, e.g. `services.cartservice.replicas`.
        field: String,
        /// What is wrong and what would be valid.
        message: String,
    },
    /// A name defined twice.
    #[error("{field}: `{name}` is defined twice; names must be unique")]
    Duplicate {
        /// The list, e.g. `services` or `services.frontend.endpoints`.
        field: String,
        /// The repeated name.
        name: String,
    },
    /// A call (or a fault, or a request type's entry) naming a service that does not exist.
    #[error("{field}: unknown service `{name}`{hint}; the services are: {known}")]
    UnknownService {
        /// The field holding the name.
        field: String,
        /// The name as written.
        name: String,
        /// " (did you mean `x`?)" or "".
        hint: String,
        /// The defined services, comma-separated.
        known: String,
    },
    /// A call to an endpoint the callee does not handle.
    #[error(
        "{field}: service `{service}` has no handler for endpoint `{endpoint}`{hint}; its \
         endpoints are: {known}"
    )]
    UnknownEndpoint {
        /// The field holding the call.
        field: String,
        /// The callee.
        service: String,
        /// The endpoint as written.
        endpoint: String,
        /// " (did you mean `x`?)" or "".
        hint: String,
        /// The callee's endpoints, comma-separated.
        known: String,
    },
    /// Services that call each other in a loop (at service level: the metric-level ground
    /// truth must be a DAG, so a service may not reach itself through its calls).
    #[error(
        "services: the call graph has a cycle: {}; synchronous calls must form a DAG of \
         services (a service may not reach itself through its calls)",
        path.join(" -> ")
    )]
    Cycle {
        /// The services on the cycle, the first repeated at the end.
        path: Vec<String>,
    },
    /// An endpoint no request type reaches: its service's metrics would be constant.
    #[error(
        "services.{service}.endpoints.{endpoint}: no request type reaches this endpoint (no \
         entry and no call with probability > 0 leads to it); remove it or call it"
    )]
    Unreachable {
        /// The service.
        service: String,
        /// The endpoint.
        endpoint: String,
    },
    /// A built-in system name that does not exist.
    #[error("unknown built-in system `{name}`{hint}; the built-in systems are: {known}")]
    UnknownBuiltin {
        /// The name as written.
        name: String,
        /// " (did you mean `x`?)" or "".
        hint: String,
        /// The built-in names, comma-separated.
        known: String,
    },
}

impl SpecError {
    /// An [`SpecError::Invalid`] for `field`.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> SpecError {
        SpecError::Invalid { field: field.into(), message: message.into() }
    }

    /// An [`SpecError::UnknownService`] with a suggestion from `known`.
    pub(crate) fn unknown_service<'a>(
        field: impl Into<String>,
        name: &str,
        known: impl Iterator<Item = &'a str> + Clone,
    ) -> SpecError {
        SpecError::UnknownService {
            field: field.into(),
            name: name.to_string(),
            hint: simcore::names::did_you_mean(name, known.clone()),
            known: known.collect::<Vec<_>>().join(", "),
        }
    }
}

impl From<SpecError> for simcore::InputError {
    /// The runner's error type: field errors keep their field, parse errors their origin.
    fn from(e: SpecError) -> simcore::InputError {
        match e {
            SpecError::Invalid { field, message } => simcore::InputError::at(field, message),
            other => simcore::InputError::at("system", other.to_string()),
        }
    }
}
