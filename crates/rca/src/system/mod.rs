//! Microservice systems under test: what a user writes ([`spec`]), its validated form
//! ([`System`]), the daily arrival shape ([`shape`]) and the built-in systems ([`builtin`]:
//! Online Boutique, Sock Shop, Train Ticket), each a YAML file in the crate's `systems/`
//! folder written from the public architecture.
//!
//! A system is a DAG of services. A service has replicas, each with `cores` CPU cores, a
//! FIFO queue, idle memory, a memory limit and memory per in-flight request. An endpoint
//! does CPU work, then disk I/O, then its calls: steps in sequence, the calls of one step in
//! parallel, each with a timeout and retries. Request types enter at an endpoint with a
//! Poisson rate modulated by the daily shape. The simulator is in [`crate::sim`].

pub mod builtin;
mod compiled;
pub mod error;
pub mod shape;
pub mod spec;

pub use compiled::{Call, Endpoint, MAX_RETRIES, RequestType, Service, System};
pub use error::SpecError;
pub use spec::{
    CallDefaults, CallDetail, CallSpec, DailyShape, EndpointSpec, RequestTypeSpec, ServiceSpec,
    SystemSpec,
};
