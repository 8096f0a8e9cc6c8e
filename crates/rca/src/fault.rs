//! Injected faults: one or several root causes, each on one service with a start and a
//! length. The simulator reads them through [`Faults`], checked against a
//! [`System`]; a fault on an unknown service is an error naming the fault and suggesting a
//! name.
//!
//! | kind | what the simulator does while it is active |
//! |---|---|
//! | `cpu_hog {cores}` | a process on each replica takes `cores` of its `c` cores' time: the service's work runs at speed `1 - cores / c` (fair CPU sharing) and the taken time counts in the service's CPU |
//! | `memory_leak {rate}` | each replica's memory grows by `rate` bytes/s; at the memory limit every replica is OOM-killed (its in-flight requests fail), is down for the restart time and comes back with the leak reset; leaked memory is freed when the fault ends |
//! | `network_delay {delay}` | every reply the service sends takes `delay` longer to reach its caller |
//! | `packet_loss {probability}` | each request to the service and each reply from it is lost with this probability; the caller times out and retries |
//! | `disk_hog {slowdown}` | the service's disk I/O takes `slowdown` times longer (only for a service with I/O) |
//! | `misconfiguration {error_rate}` | each request the service handles ends in an error with a probability rising linearly from 0 at the start to `error_rate` at the end |

use serde::{Deserialize, Serialize};
use simcore::SimTime;
use simcore::units::Bandwidth;

use crate::system::{SpecError, System};

/// One injected fault.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// The faulty service.
    pub service: String,
    /// When the fault starts (from the start of the run).
    pub start: SimTime,
    /// How long it lasts.
    pub duration: SimTime,
    /// What it does.
    pub kind: FaultKind,
}

/// What a fault does.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum FaultKind {
    /// A CPU hog taking `cores` cores' worth of time on each replica (0 < cores < cores of
    /// a replica).
    CpuHog {
        /// Cores' worth of CPU time taken.
        cores: f64,
    },
    /// A memory leak of `rate` bytes per second on each replica.
    MemoryLeak {
        /// Bytes per second (e.g. `2MiB/s`).
        rate: Bandwidth,
    },
    /// Added delay on every reply the service sends.
    NetworkDelay {
        /// The added one-way delay.
        delay: SimTime,
    },
    /// Loss of requests to and replies from the service.
    PacketLoss {
        /// Probability in (0, 1] that a message is lost.
        probability: f64,
    },
    /// Slower disk I/O of a storage service.
    DiskHog {
        /// Factor (> 1) on the I/O time.
        slowdown: f64,
    },
    /// A rising error rate.
    Misconfiguration {
        /// The error probability reached at the fault's end, in (0, 1].
        error_rate: f64,
    },
}

impl FaultKind {
    /// The kind's name as written in YAML.
    pub fn name(&self) -> &'static str {
        match self {
            FaultKind::CpuHog { .. } => "cpu_hog",
            FaultKind::MemoryLeak { .. } => "memory_leak",
            FaultKind::NetworkDelay { .. } => "network_delay",
            FaultKind::PacketLoss { .. } => "packet_loss",
            FaultKind::DiskHog { .. } => "disk_hog",
            FaultKind::Misconfiguration { .. } => "misconfiguration",
        }
    }
}

/// A fault resolved against a system.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fault {
    /// Index of the faulty service.
    pub service: usize,
    /// Start.
    pub start: SimTime,
    /// End (exclusive).
    pub end: SimTime,
    /// What it does.
    pub kind: FaultKind,
}

impl Fault {
    /// Whether the fault is active at `t`.
    #[inline]
    pub fn active(&self, t: SimTime) -> bool {
        self.start <= t && t < self.end
    }

    /// Seconds of overlap between the fault and `[a, b)`.
    pub fn overlap_s(&self, a: SimTime, b: SimTime) -> f64 {
        let lo = self.start.max(a);
        let hi = self.end.min(b);
        hi.saturating_sub(lo).as_secs_f64()
    }
}

/// The faults of one run, validated.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Faults {
    faults: Vec<Fault>,
}

fn in_unit(v: f64) -> bool {
    v.is_finite() && v > 0.0 && v <= 1.0
}

impl Faults {
    /// No faults.
    pub fn none() -> Faults {
        Faults::default()
    }

    /// Validates `specs` against `system`; errors name `faults[i]` and its field.
    pub fn new(system: &System, specs: &[FaultSpec]) -> Result<Faults, SpecError> {
        let mut faults = Vec::with_capacity(specs.len());
        for (i, f) in specs.iter().enumerate() {
            let field = format!("faults[{i}]");
            let names = system.services().iter().map(|s| s.name.as_str());
            let service = system.service_index(&f.service).ok_or_else(|| {
                SpecError::unknown_service(format!("{field}.service"), &f.service, names)
            })?;
            let svc = &system.services()[service];
            if f.duration == SimTime::ZERO {
                return Err(SpecError::invalid(
                    format!("{field}.duration"),
                    "must be positive, e.g. 10min",
                ));
            }
            let kf = format!("{field}.kind.{}", f.kind.name());
            let bad =
                |param: &str, msg: String| Err(SpecError::invalid(format!("{kf}.{param}"), msg));
            match f.kind {
                FaultKind::CpuHog { cores } => {
                    if !(cores.is_finite() && cores > 0.0 && cores < f64::from(svc.cores)) {
                        return bad(
                            "cores",
                            format!(
                                "{cores} must be above 0 and below the {} cores of a `{}` replica \
                                 (a hog taking every core would stall the service)",
                                svc.cores, svc.name
                            ),
                        );
                    }
                }
                FaultKind::MemoryLeak { rate } => {
                    if !(rate.0.is_finite() && rate.0 > 0.0) {
                        return bad("rate", "must be a positive rate such as 1MiB/s".into());
                    }
                }
                FaultKind::NetworkDelay { delay } => {
                    if delay == SimTime::ZERO {
                        return bad("delay", "must be positive, e.g. 50ms".into());
                    }
                }
                FaultKind::PacketLoss { probability } => {
                    if !in_unit(probability) {
                        return bad("probability", format!("{probability} must be in (0, 1]"));
                    }
                }
                FaultKind::DiskHog { slowdown } => {
                    if !svc.has_io {
                        return Err(SpecError::invalid(
                            format!("{field}.service"),
                            format!(
                                "`{}` does no disk I/O (no endpoint has `io`), so a disk hog \
                                 cannot slow it; pick a storage service",
                                svc.name
                            ),
                        ));
                    }
                    if !(slowdown.is_finite() && slowdown > 1.0) {
                        return bad("slowdown", format!("{slowdown} must be a factor above 1"));
                    }
                }
                FaultKind::Misconfiguration { error_rate } => {
                    if !in_unit(error_rate) {
                        return bad("error_rate", format!("{error_rate} must be in (0, 1]"));
                    }
                }
            }
            faults.push(Fault {
                service,
                start: f.start,
                end: f.start.saturating_add(f.duration),
                kind: f.kind,
            });
        }
        Ok(Faults { faults })
    }

    /// The faults, in the order given.
    pub fn list(&self) -> &[Fault] {
        &self.faults
    }

    /// Checks that every fault starts before `duration` (the run's length).
    pub fn check_within(&self, duration: SimTime) -> Result<(), SpecError> {
        for (i, f) in self.faults.iter().enumerate() {
            if f.start >= duration {
                return Err(SpecError::invalid(
                    format!("faults[{i}].start"),
                    format!("{} is not before the end of the run ({duration})", f.start),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::system::builtin::builtin;

    fn spec(service: &str, kind: FaultKind) -> FaultSpec {
        FaultSpec {
            service: service.into(),
            start: SimTime::from_secs(60),
            duration: SimTime::from_secs(60),
            kind,
        }
    }

    #[test]
    fn faults_parse_from_yaml() {
        let yaml = "- service: cartservice\n  start: 2h\n  duration: 10min\n  kind: {cpu_hog: {cores: 0.5}}\n\
                    - service: redis-cart\n  start: 3h\n  duration: 5min\n  kind: {memory_leak: {rate: 2MiB/s}}\n";
        let specs: Vec<FaultSpec> = serde_saphyr::from_str(yaml).unwrap();
        assert_eq!(specs[0].kind, FaultKind::CpuHog { cores: 0.5 });
        assert_eq!(specs[1].kind, FaultKind::MemoryLeak { rate: Bandwidth(2.0 * 1024.0 * 1024.0) });
        let sys = builtin("online-boutique").unwrap();
        let f = Faults::new(&sys, &specs).unwrap();
        assert_eq!(f.list()[0].end, SimTime::from_secs(2 * 3600 + 600));
        let bad = "- service: cartservice\n  start: 2h\n  duration: 10min\n  kind: {cpu_hog: {cores: 0.5, typo: 1}}\n";
        assert!(serde_saphyr::from_str::<Vec<FaultSpec>>(bad).is_err());
    }

    #[test]
    fn bad_faults_are_errors() {
        let sys = builtin("online-boutique").unwrap();
        let e =
            Faults::new(&sys, &[spec("cartservce", FaultKind::PacketLoss { probability: 0.1 })])
                .unwrap_err();
        let m = e.to_string();
        assert!(m.contains("faults[0].service") && m.contains("did you mean `cartservice`"), "{m}");
        let e = Faults::new(&sys, &[spec("cartservice", FaultKind::CpuHog { cores: 1.0 })])
            .unwrap_err();
        assert!(e.to_string().contains("kind.cpu_hog.cores"), "{e}");
        let e = Faults::new(&sys, &[spec("frontend", FaultKind::DiskHog { slowdown: 4.0 })])
            .unwrap_err();
        assert!(e.to_string().contains("no disk I/O"), "{e}");
        assert!(
            Faults::new(&sys, &[spec("redis-cart", FaultKind::DiskHog { slowdown: 4.0 })]).is_ok()
        );
        let e =
            Faults::new(&sys, &[spec("frontend", FaultKind::Misconfiguration { error_rate: 1.5 })]);
        assert!(e.is_err());
        let f = Faults::new(
            &sys,
            &[spec("frontend", FaultKind::NetworkDelay { delay: SimTime::from_millis(5) })],
        )
        .unwrap();
        assert!(f.check_within(SimTime::from_secs(60)).is_err());
        assert!(f.check_within(SimTime::from_secs(61)).is_ok());
    }
}
