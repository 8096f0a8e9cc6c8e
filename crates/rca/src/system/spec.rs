//! The YAML form of a microservice system, as a user writes it (serde, unknown fields
//! rejected). [`System::from_spec`](crate::system::System::from_spec) validates it into a
//! [`System`](crate::system::System).
//!
//! ```yaml
//! name: shop
//! network_delay: 0.2ms          # one way, per message
//! call_defaults: {timeout: 1s, retries: 2}
//! services:
//!   - name: frontend
//!     replicas: 2
//!     cores: 2                  # per replica
//!     memory: 128MiB            # resident memory of an idle replica
//!     memory_limit: 512MiB      # past this the replica is OOM-killed and restarts
//!     memory_per_request: 1MiB  # held by each request in flight at the replica
//!     endpoints:
//!       - name: home
//!         cpu: 2ms              # mean CPU work (exponential)
//!         calls:                # steps in sequence; the calls of one step in parallel
//!           - [catalogue.list, {to: cart.get, probability: 0.5}]
//!   - name: catalogue
//!     stores: products (in its own database, modelled as disk I/O)
//!     endpoints:
//!       - {name: list, cpu: 1ms, io: 2ms}
//!   - name: cart
//!     endpoints:
//!       - {name: get, cpu: 0.5ms}
//! requests:
//!   - {name: browse, entry: frontend.home, rate: 20}   # requests per second, daily mean
//! daily_shape: {sinusoid: {amplitude: 0.5, peak: 14h}}
//! ```

use serde::{Deserialize, Serialize};
use simcore::SimTime;
use simcore::units::Bytes;

/// A whole system: its services, the request types users send, and network and call
/// defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SystemSpec {
    /// The system's name.
    pub name: String,
    /// What the system is, in plain language.
    #[serde(default)]
    pub description: String,
    /// Where the architecture comes from (a repository or paper).
    #[serde(default)]
    pub source: String,
    /// One-way network delay of every message (request or reply). Default 0.2 ms (an
    /// assumption: intra-cluster round trips of a few hundred microseconds).
    #[serde(default = "default_network_delay")]
    pub network_delay: SimTime,
    /// Timeout and retries of calls that do not set their own.
    #[serde(default)]
    pub call_defaults: CallDefaults,
    /// How long a user waits for a reply before giving up (no retries). Default 10 s.
    #[serde(default = "default_client_timeout")]
    pub client_timeout: SimTime,
    /// How long an OOM-killed replica is down before it serves again. Default 10 s
    /// (Kubernetes' first CrashLoopBackOff delay).
    #[serde(default = "default_restart_time")]
    pub restart_time: SimTime,
    /// The services, in the order their metrics appear in the telemetry.
    pub services: Vec<ServiceSpec>,
    /// The request types users send.
    pub requests: Vec<RequestTypeSpec>,
    /// How the arrival rate varies over the day (the same shape for every request type).
    #[serde(default)]
    pub daily_shape: DailyShape,
}

fn default_network_delay() -> SimTime {
    SimTime::from_micros(200)
}

fn default_client_timeout() -> SimTime {
    SimTime::from_secs(10)
}

fn default_restart_time() -> SimTime {
    SimTime::from_secs(10)
}

/// Timeout and retries of a call.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallDefaults {
    /// How long a caller waits for one attempt. Default 1 s (an assumption).
    #[serde(default = "default_timeout")]
    pub timeout: SimTime,
    /// Attempts after the first one when an attempt errors or times out. Default 2 (Istio's
    /// default retry policy: 2 retries).
    #[serde(default = "default_retries")]
    pub retries: u32,
}

impl Default for CallDefaults {
    fn default() -> Self {
        CallDefaults { timeout: default_timeout(), retries: default_retries() }
    }
}

fn default_timeout() -> SimTime {
    SimTime::from_secs(1)
}

fn default_retries() -> u32 {
    2
}

/// One service: a deployment of identical replicas.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    /// Unique name: letters, digits, `-` and `_` (metric names are `<service>.<metric>`).
    pub name: String,
    /// What the service does, in plain language.
    #[serde(default)]
    pub description: String,
    /// What it stores ("" for a stateless service).
    #[serde(default)]
    pub stores: String,
    /// Number of replicas (default 1). Each has its own cores and FIFO queue; a caller's
    /// requests are spread over the live replicas round-robin.
    #[serde(default = "one")]
    pub replicas: u32,
    /// CPU cores per replica (default 1): requests are served by at most this many at once.
    #[serde(default = "one")]
    pub cores: u32,
    /// Resident memory of an idle replica.
    pub memory: Bytes,
    /// Memory limit of a replica: past it the replica is OOM-killed.
    pub memory_limit: Bytes,
    /// Memory each request holds while it is in flight at the replica (default 0).
    #[serde(default)]
    pub memory_per_request: Bytes,
    /// The endpoints it handles.
    pub endpoints: Vec<EndpointSpec>,
}

fn one() -> u32 {
    1
}

/// One endpoint (handler) of a service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointSpec {
    /// Name, unique within its service (letters, digits, `-`, `_`).
    pub name: String,
    /// Mean CPU work of one request, on one core (exponentially distributed). An assumption
    /// in every built-in system.
    pub cpu: SimTime,
    /// Mean disk I/O time of one request after its CPU work (exponential; default 0). A
    /// service with I/O is a storage service a disk hog can slow.
    #[serde(default)]
    pub io: SimTime,
    /// The calls it makes after its CPU and I/O work: steps in sequence, the calls of one
    /// step in parallel; the caller waits for every call of a step before the next step.
    #[serde(default)]
    pub calls: Vec<Vec<CallSpec>>,
}

/// A call to another service's endpoint: `service.endpoint`, or the long form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CallSpec {
    /// `service.endpoint` with the defaults.
    Short(String),
    /// The long form.
    Full(CallDetail),
}

/// The long form of a call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallDetail {
    /// `service.endpoint`.
    pub to: String,
    /// How many copies are sent in parallel (default 1), e.g. one per item in a cart.
    #[serde(default = "one")]
    pub count: u32,
    /// Probability that the call is made at all (default 1), e.g. an optional step.
    #[serde(default = "one_f")]
    pub probability: f64,
    /// Timeout of one attempt (default: the system's `call_defaults`).
    #[serde(default)]
    pub timeout: Option<SimTime>,
    /// Retries after a failed attempt (default: the system's `call_defaults`).
    #[serde(default)]
    pub retries: Option<u32>,
}

fn one_f() -> f64 {
    1.0
}

impl CallSpec {
    /// The call in its long form.
    pub fn detail(&self) -> CallDetail {
        match self {
            CallSpec::Short(to) => CallDetail {
                to: to.clone(),
                count: 1,
                probability: 1.0,
                timeout: None,
                retries: None,
            },
            CallSpec::Full(d) => d.clone(),
        }
    }
}

/// A kind of user request: an entry endpoint and a mean arrival rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestTypeSpec {
    /// Unique name.
    pub name: String,
    /// `service.endpoint` the user calls.
    pub entry: String,
    /// Mean arrival rate over the day, requests per second (Poisson; the daily shape
    /// modulates it).
    pub rate: f64,
}

/// The daily shape of the arrival rate: a multiplier of each request type's mean rate with
/// mean 1 over the day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum DailyShape {
    /// A constant rate.
    Flat,
    /// `1 + amplitude * cos(2 pi (t - peak) / 24 h)`: highest at `peak`, lowest 12 hours
    /// later.
    Sinusoid {
        /// Relative swing, in [0, 1).
        amplitude: f64,
        /// Time of day of the peak (e.g. `14h`).
        peak: SimTime,
    },
    /// 24 hourly factors, linearly interpolated between hour midpoints (wrapping at
    /// midnight) and normalised to mean 1.
    Hourly {
        /// One non-negative factor per hour, 00:00-01:00 first.
        factors: Vec<f64>,
    },
}

impl Default for DailyShape {
    /// A sinusoid with amplitude 0.5 peaking at 14:00 (an assumption).
    fn default() -> Self {
        DailyShape::Sinusoid { amplitude: 0.5, peak: SimTime::from_secs(14 * 3600) }
    }
}
