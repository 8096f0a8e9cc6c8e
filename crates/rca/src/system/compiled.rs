//! A validated system: services, endpoints, call steps and request types resolved to
//! indices, so the simulator does no name look-ups and no allocation per request.
//!
//! Validation (each error names its field, with service and endpoint names): non-empty,
//! unique names of allowed characters; replicas and cores >= 1; memory below its limit;
//! CPU work > 0; every call's `service.endpoint` resolves (an unknown service, or an endpoint
//! the callee has no handler for, is an error with a suggestion); count >= 1, probability in
//! (0, 1], timeout > 0, at most 10 retries; no cycle among services; every request entry
//! resolves with a positive finite rate; every endpoint is reachable from some entry.

use std::ops::Range;

use simcore::SimTime;

use crate::system::error::SpecError;
use crate::system::shape::Shape;
use crate::system::spec::{CallSpec, SystemSpec};

/// Most retries a call may have.
pub const MAX_RETRIES: u32 = 10;

/// A service, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    /// Its name.
    pub name: String,
    /// Replicas.
    pub replicas: u32,
    /// Cores per replica.
    pub cores: u32,
    /// Idle resident memory of a replica, bytes.
    pub memory: f64,
    /// Memory limit of a replica, bytes.
    pub memory_limit: f64,
    /// Memory per in-flight request, bytes.
    pub memory_per_request: f64,
    /// Its endpoints, indices into [`System::endpoints`].
    pub endpoints: Range<usize>,
    /// Whether any endpoint does disk I/O.
    pub has_io: bool,
    /// The services it calls (with probability > 0), sorted, each once.
    pub callees: Vec<usize>,
}

/// An endpoint, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    /// The service that handles it.
    pub service: usize,
    /// Its name.
    pub name: String,
    /// Mean CPU work, seconds.
    pub cpu_s: f64,
    /// Mean disk I/O time, seconds.
    pub io_s: f64,
    /// Its steps, indices into [`System::steps`].
    pub steps: Range<usize>,
}

/// One call of a step, resolved.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Call {
    /// The callee service.
    pub service: usize,
    /// The callee endpoint (index into [`System::endpoints`]).
    pub endpoint: usize,
    /// Parallel copies.
    pub count: u32,
    /// Probability the call is made.
    pub probability: f64,
    /// Timeout of one attempt.
    pub timeout: SimTime,
    /// Retries after a failed attempt.
    pub retries: u32,
}

/// A request type, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestType {
    /// Its name.
    pub name: String,
    /// Entry endpoint.
    pub endpoint: usize,
    /// Mean rate, requests per second.
    pub rate: f64,
}

/// A validated system, ready to simulate.
#[derive(Debug, Clone, PartialEq)]
pub struct System {
    spec: SystemSpec,
    services: Vec<Service>,
    endpoints: Vec<Endpoint>,
    /// Step `i` is `calls[steps[i].clone()]`.
    steps: Vec<Range<usize>>,
    calls: Vec<Call>,
    requests: Vec<RequestType>,
    shape: Shape,
}

fn check_name(field: &str, name: &str) -> Result<(), SpecError> {
    let ok =
        !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(SpecError::invalid(
            field,
            format!("`{name}` is not a valid name: use letters, digits, `-` and `_` only"),
        ))
    }
}

impl System {
    /// Parses YAML text into a spec and validates it; `origin` names the text in errors.
    pub fn from_yaml(yaml: &str, origin: &str) -> Result<System, SpecError> {
        let spec: SystemSpec = serde_saphyr::from_str(yaml)
            .map_err(|e| SpecError::Parse { origin: origin.to_string(), message: e.to_string() })?;
        System::from_spec(spec)
    }

    /// Validates a spec.
    pub fn from_spec(spec: SystemSpec) -> Result<System, SpecError> {
        if spec.name.trim().is_empty() {
            return Err(SpecError::invalid("name", "the system needs a name"));
        }
        if spec.client_timeout == SimTime::ZERO {
            return Err(SpecError::invalid("client_timeout", "must be positive, e.g. 10s"));
        }
        if spec.call_defaults.timeout == SimTime::ZERO {
            return Err(SpecError::invalid("call_defaults.timeout", "must be positive, e.g. 1s"));
        }
        if spec.call_defaults.retries > MAX_RETRIES {
            return Err(SpecError::invalid(
                "call_defaults.retries",
                format!("{} retries; at most {MAX_RETRIES}", spec.call_defaults.retries),
            ));
        }
        if spec.services.is_empty() {
            return Err(SpecError::invalid("services", "the system needs at least one service"));
        }
        if spec.requests.is_empty() {
            return Err(SpecError::invalid(
                "requests",
                "the system needs at least one request type",
            ));
        }
        let shape = Shape::new(&spec.daily_shape)?;

        // Services and endpoints.
        let mut services = Vec::with_capacity(spec.services.len());
        let mut endpoints = Vec::new();
        for (si, s) in spec.services.iter().enumerate() {
            let f = format!("services[{si}].name");
            check_name(&f, &s.name)?;
            if spec.services[..si].iter().any(|o| o.name == s.name) {
                return Err(SpecError::Duplicate {
                    field: "services".into(),
                    name: s.name.clone(),
                });
            }
            let sf = format!("services.{}", s.name);
            if s.replicas == 0 {
                return Err(SpecError::invalid(format!("{sf}.replicas"), "must be at least 1"));
            }
            if s.cores == 0 {
                return Err(SpecError::invalid(format!("{sf}.cores"), "must be at least 1"));
            }
            if s.memory.0 == 0 || s.memory.0 >= s.memory_limit.0 {
                return Err(SpecError::invalid(
                    format!("{sf}.memory_limit"),
                    format!(
                        "the limit {} must be above the idle memory {} (which must be > 0)",
                        s.memory_limit, s.memory
                    ),
                ));
            }
            if s.endpoints.is_empty() {
                return Err(SpecError::invalid(
                    format!("{sf}.endpoints"),
                    "a service needs at least one endpoint",
                ));
            }
            let first = endpoints.len();
            for (ei, e) in s.endpoints.iter().enumerate() {
                check_name(&format!("{sf}.endpoints[{ei}].name"), &e.name)?;
                if s.endpoints[..ei].iter().any(|o| o.name == e.name) {
                    return Err(SpecError::Duplicate {
                        field: format!("{sf}.endpoints"),
                        name: e.name.clone(),
                    });
                }
                if e.cpu == SimTime::ZERO {
                    return Err(SpecError::invalid(
                        format!("{sf}.endpoints.{}.cpu", e.name),
                        "CPU work must be positive, e.g. 1ms",
                    ));
                }
                endpoints.push(Endpoint {
                    service: si,
                    name: e.name.clone(),
                    cpu_s: e.cpu.as_secs_f64(),
                    io_s: e.io.as_secs_f64(),
                    steps: 0..0,
                });
            }
            services.push(Service {
                name: s.name.clone(),
                replicas: s.replicas,
                cores: s.cores,
                memory: s.memory.0 as f64,
                memory_limit: s.memory_limit.0 as f64,
                memory_per_request: s.memory_per_request.0 as f64,
                endpoints: first..endpoints.len(),
                has_io: s.endpoints.iter().any(|e| e.io > SimTime::ZERO),
                callees: Vec::new(),
            });
        }

        let mut sys = System {
            spec: spec.clone(),
            services,
            endpoints,
            steps: Vec::new(),
            calls: Vec::new(),
            requests: Vec::new(),
            shape,
        };

        // Calls.
        for (si, s) in spec.services.iter().enumerate() {
            for (ei, e) in s.endpoints.iter().enumerate() {
                let gi = sys.services[si].endpoints.start + ei;
                let first_step = sys.steps.len();
                for (k, step) in e.calls.iter().enumerate() {
                    let first_call = sys.calls.len();
                    for (j, c) in step.iter().enumerate() {
                        let field =
                            format!("services.{}.endpoints.{}.calls[{k}][{j}]", s.name, e.name);
                        let call = sys.resolve_call(&field, c, &spec)?;
                        sys.calls.push(call);
                    }
                    if sys.calls.len() == first_call {
                        return Err(SpecError::invalid(
                            format!("services.{}.endpoints.{}.calls[{k}]", s.name, e.name),
                            "an empty step: a step needs at least one call",
                        ));
                    }
                    sys.steps.push(first_call..sys.calls.len());
                }
                sys.endpoints[gi].steps = first_step..sys.steps.len();
            }
        }
        for si in 0..sys.services.len() {
            let mut callees: Vec<usize> = sys.services[si]
                .endpoints
                .clone()
                .flat_map(|e| sys.endpoints[e].steps.clone())
                .flat_map(|st| sys.steps[st].clone())
                .map(|c| sys.calls[c].service)
                .collect();
            callees.sort_unstable();
            callees.dedup();
            sys.services[si].callees = callees;
        }
        sys.check_acyclic()?;

        // Request types.
        for (ri, r) in spec.requests.iter().enumerate() {
            check_name(&format!("requests[{ri}].name"), &r.name)?;
            if spec.requests[..ri].iter().any(|o| o.name == r.name) {
                return Err(SpecError::Duplicate {
                    field: "requests".into(),
                    name: r.name.clone(),
                });
            }
            let field = format!("requests.{}.entry", r.name);
            let (_, endpoint) = sys.resolve_target(&field, &r.entry)?;
            if !(r.rate.is_finite() && r.rate > 0.0) {
                return Err(SpecError::invalid(
                    format!("requests.{}.rate", r.name),
                    format!("{} must be a positive number of requests per second", r.rate),
                ));
            }
            sys.requests.push(RequestType { name: r.name.clone(), endpoint, rate: r.rate });
        }
        sys.check_reachable()?;
        Ok(sys)
    }

    /// `service.endpoint` -> (service, global endpoint index).
    fn resolve_target(&self, field: &str, target: &str) -> Result<(usize, usize), SpecError> {
        let Some((svc, ep)) = target.split_once('.') else {
            return Err(SpecError::invalid(
                field,
                format!("`{target}` is not of the form `service.endpoint`"),
            ));
        };
        let names = || self.services.iter().map(|s| s.name.as_str());
        let si = self
            .services
            .iter()
            .position(|s| s.name == svc)
            .ok_or_else(|| SpecError::unknown_service(field, svc, names()))?;
        let range = self.services[si].endpoints.clone();
        let eps = || self.endpoints[range.clone()].iter().map(|e| e.name.as_str());
        let ei = eps().position(|e| e == ep).ok_or_else(|| SpecError::UnknownEndpoint {
            field: field.to_string(),
            service: svc.to_string(),
            endpoint: ep.to_string(),
            hint: simcore::names::did_you_mean(ep, eps()),
            known: eps().collect::<Vec<_>>().join(", "),
        })?;
        Ok((si, range.start + ei))
    }

    fn resolve_call(
        &self,
        field: &str,
        c: &CallSpec,
        spec: &SystemSpec,
    ) -> Result<Call, SpecError> {
        let d = c.detail();
        let (service, endpoint) = self.resolve_target(field, &d.to)?;
        if d.count == 0 {
            return Err(SpecError::invalid(format!("{field}.count"), "must be at least 1"));
        }
        if !(d.probability.is_finite() && d.probability > 0.0 && d.probability <= 1.0) {
            return Err(SpecError::invalid(
                format!("{field}.probability"),
                format!("{} must be in (0, 1]", d.probability),
            ));
        }
        let timeout = d.timeout.unwrap_or(spec.call_defaults.timeout);
        if timeout == SimTime::ZERO {
            return Err(SpecError::invalid(
                format!("{field}.timeout"),
                "must be positive, e.g. 500ms",
            ));
        }
        let retries = d.retries.unwrap_or(spec.call_defaults.retries);
        if retries > MAX_RETRIES {
            return Err(SpecError::invalid(
                format!("{field}.retries"),
                format!("{retries} retries; at most {MAX_RETRIES}"),
            ));
        }
        Ok(Call { service, endpoint, count: d.count, probability: d.probability, timeout, retries })
    }

    /// Depth-first search over services; a back edge is a cycle, reported as a path.
    fn check_acyclic(&self) -> Result<(), SpecError> {
        let n = self.services.len();
        // 0 unvisited, 1 on the stack, 2 done.
        let mut state = vec![0u8; n];
        let mut stack: Vec<(usize, usize)> = Vec::new();
        for root in 0..n {
            if state[root] != 0 {
                continue;
            }
            state[root] = 1;
            stack.push((root, 0));
            while let Some(&mut (v, ref mut next)) = stack.last_mut() {
                if let Some(&w) = self.services[v].callees.get(*next) {
                    *next += 1;
                    match state[w] {
                        0 => {
                            state[w] = 1;
                            stack.push((w, 0));
                        }
                        1 => {
                            let from = stack.iter().position(|&(u, _)| u == w).unwrap_or(0);
                            let mut path: Vec<String> = stack[from..]
                                .iter()
                                .map(|&(u, _)| self.services[u].name.clone())
                                .collect();
                            path.push(self.services[w].name.clone());
                            return Err(SpecError::Cycle { path });
                        }
                        _ => {}
                    }
                } else {
                    state[v] = 2;
                    stack.pop();
                }
            }
        }
        Ok(())
    }

    fn check_reachable(&self) -> Result<(), SpecError> {
        let mut seen = vec![false; self.endpoints.len()];
        let mut stack: Vec<usize> = self.requests.iter().map(|r| r.endpoint).collect();
        while let Some(e) = stack.pop() {
            if std::mem::replace(&mut seen[e], true) {
                continue;
            }
            for st in self.endpoints[e].steps.clone() {
                for c in &self.calls[self.steps[st].clone()] {
                    stack.push(c.endpoint);
                }
            }
        }
        if let Some(e) = seen.iter().position(|s| !s) {
            let ep = &self.endpoints[e];
            return Err(SpecError::Unreachable {
                service: self.services[ep.service].name.clone(),
                endpoint: ep.name.clone(),
            });
        }
        Ok(())
    }

    /// The spec it was built from.
    pub fn spec(&self) -> &SystemSpec {
        &self.spec
    }

    /// The system's name.
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// The services, in telemetry order.
    pub fn services(&self) -> &[Service] {
        &self.services
    }

    /// The index of the service called `name`.
    pub fn service_index(&self, name: &str) -> Option<usize> {
        self.services.iter().position(|s| s.name == name)
    }

    /// Every endpoint, grouped by service.
    pub fn endpoints(&self) -> &[Endpoint] {
        &self.endpoints
    }

    /// The calls of step `step` (an index in an endpoint's `steps`).
    pub fn step_calls(&self, step: usize) -> &[Call] {
        self.steps.get(step).map_or(&[], |r| &self.calls[r.clone()])
    }

    /// The global indices of step `step`'s calls (see [`System::call`]).
    pub fn step_range(&self, step: usize) -> Range<usize> {
        self.steps.get(step).cloned().unwrap_or(0..0)
    }

    /// Call `i` by global index.
    pub fn call(&self, i: usize) -> &Call {
        &self.calls[i]
    }

    /// The request types.
    pub fn requests(&self) -> &[RequestType] {
        &self.requests
    }

    /// The compiled daily shape.
    pub fn shape(&self) -> &Shape {
        &self.shape
    }

    /// One-way network delay of a message.
    pub fn network_delay(&self) -> SimTime {
        self.spec.network_delay
    }

    /// A user's timeout.
    pub fn client_timeout(&self) -> SimTime {
        self.spec.client_timeout
    }

    /// Down time of an OOM-killed replica.
    pub fn restart_time(&self) -> SimTime {
        self.spec.restart_time
    }

    /// Every (caller, callee) pair of services, sorted, each once.
    pub fn call_edges(&self) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        for (i, s) in self.services.iter().enumerate() {
            out.extend(s.callees.iter().map(|&c| (i, c)));
        }
        out
    }

    /// The services in an order where every caller comes before its callees.
    pub fn topological_services(&self) -> Vec<usize> {
        let n = self.services.len();
        let mut indeg = vec![0usize; n];
        for s in &self.services {
            for &c in &s.callees {
                indeg[c] += 1;
            }
        }
        let mut ready: Vec<usize> = (0..n).filter(|&v| indeg[v] == 0).collect();
        ready.reverse();
        let mut order = Vec::with_capacity(n);
        while let Some(v) = ready.pop() {
            order.push(v);
            for &c in self.services[v].callees.iter().rev() {
                indeg[c] -= 1;
                if indeg[c] == 0 {
                    ready.push(c);
                }
            }
        }
        order
    }
}
