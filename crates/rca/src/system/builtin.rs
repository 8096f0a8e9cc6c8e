//! The built-in systems, from their public architectures (services, whom each calls, what
//! each stores). Per-endpoint CPU and I/O costs, replicas, memory and rates are our
//! assumptions, set in the YAML files and documented in `docs/models/rca.md`.
//!
//! - `online-boutique`: Google's microservices-demo (GoogleCloudPlatform/microservices-demo):
//!   11 services including redis-cart; request mix from its Locust load generator's tasks.
//! - `sock-shop`: Weaveworks' Sock Shop (microservices-demo/microservices-demo): 14 services
//!   including the databases, RabbitMQ and queue-master.
//! - `train-ticket`: FudanSE's Train Ticket (FudanSELab/train-ticket): 28 of its ~41
//!   services covering search, booking, payment, cancellation, collection, food and
//!   consignment; each service's MongoDB is modelled as the service's own disk I/O.

use crate::system::compiled::System;
use crate::system::error::SpecError;

/// (name, YAML text) of each built-in system.
pub const BUILTIN: &[(&str, &str)] = &[
    ("online-boutique", include_str!("../../systems/online-boutique.yaml")),
    ("sock-shop", include_str!("../../systems/sock-shop.yaml")),
    ("train-ticket", include_str!("../../systems/train-ticket.yaml")),
];

/// The built-in system called `name`.
pub fn builtin(name: &str) -> Result<System, SpecError> {
    let names = || BUILTIN.iter().map(|(n, _)| *n);
    let (_, yaml) =
        BUILTIN.iter().find(|(n, _)| *n == name).ok_or_else(|| SpecError::UnknownBuiltin {
            name: name.to_string(),
            hint: simcore::names::did_you_mean(name, names()),
            known: names().collect::<Vec<_>>().join(", "),
        })?;
    System::from_yaml(yaml, &format!("built-in system {name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_validates() {
        for (name, _) in BUILTIN {
            let s = builtin(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(s.name(), *name);
            assert!(s.services().iter().all(|x| !x.name.is_empty()));
        }
        assert_eq!(builtin("online-boutique").unwrap().services().len(), 11);
        assert!(builtin("sock-shp").unwrap_err().to_string().contains("did you mean `sock-shop`"));
    }
}
