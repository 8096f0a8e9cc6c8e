//! The `rules` backend of Atlas's synthesis step: offline and deterministic, it reads the
//! same description files an LLM would and applies written-down domain rules.
//!
//! **Reading.** From each file ([`super::docs`]):
//! - each Metrics bullet gives a metric (its backticked name; a bare name is taken as the
//!   component's own) and its *role*, from the name (`cpu`, `mem`, `error`/`availability`,
//!   `p99`/`tail`, `latency`/`p50`/`duration`, `request_rate`/`throughput`/`requests`)
//!   or, failing that, from the bullet's words; a memory bullet that says memory grows
//!   with the requests "in flight" marks per-request memory;
//! - each Interactions bullet that says "called by" names the component's callers; one
//!   that says "calls", "depends on", "reads from", "writes to", "sends" or "queries"
//!   names its callees; one that says "retries" marks the component as retrying failed
//!   calls. Component names are matched as whole words against the system's services.
//!
//! **Rules** (a rule fires only when both metrics are documented with those roles):
//!
//! | id | edge | rationale |
//! |---|---|---|
//! | L1 | load -> cpu | every request costs CPU time |
//! | L2 | cpu -> latency, cpu -> tail | busy cores make requests queue |
//! | L3 | load -> memory, latency -> memory | memory held per request in flight: rate x time in service (Little's law); only when the memory bullet says "in flight" |
//! | L4 | memory -> errors | past its limit a container is OOM-killed and its requests fail |
//! | L5 | tail -> errors | a request past its timeout counts as an error |
//! | C1 | caller load -> callee load | each request fans out to the callees |
//! | C2 | callee latency -> caller latency and tail; callee tail -> caller tail | a caller waits for its calls |
//! | C3 | callee errors -> caller errors | a call that still fails fails the caller's reply |
//! | C4 | callee errors -> caller tail | retries lengthen the caller's tail; only when the caller's file says it retries |
//!
//! The rules are textbook mechanisms of request-serving systems; the simulator happens to
//! implement the same ones, so on complete and correct documentation the rules backend
//! reproduces the true graph. Its errors come from what the documentation leaves out or
//! gets wrong (the coverage knob).

use std::collections::{BTreeMap, BTreeSet};

use crate::sources::atlas::LocalPiece;
use crate::sources::atlas::docs::{ComponentDocs, SectionKind, mentioned};

/// What a metric measures, as far as the rules care.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Requests per second (load).
    Load,
    /// CPU utilisation.
    Cpu,
    /// Memory in use.
    Memory,
    /// Errors (or unavailability).
    Errors,
    /// Median (typical) latency.
    Latency,
    /// Tail latency.
    Tail,
}

impl Role {
    /// The order effects flow in within one component (load, cpu, latency, tail, memory,
    /// errors): every local rule points forward in it.
    pub fn rank(self) -> u8 {
        match self {
            Role::Load => 0,
            Role::Cpu => 1,
            Role::Latency => 2,
            Role::Tail => 3,
            Role::Memory => 4,
            Role::Errors => 5,
        }
    }
}

/// The role a metric's name implies (the part after the last `.`).
pub fn role_of_name(name: &str) -> Option<Role> {
    let s = name.rsplit('.').next().unwrap_or(name).to_ascii_lowercase();
    let has = |k: &[&str]| k.iter().any(|w| s.contains(w));
    if has(&["cpu"]) {
        Some(Role::Cpu)
    } else if has(&["mem"]) {
        Some(Role::Memory)
    } else if has(&["error", "availability", "fail"]) {
        Some(Role::Errors)
    } else if has(&["p99", "p95", "p999", "tail"]) {
        Some(Role::Tail)
    } else if has(&["latency", "p50", "median", "duration", "response_time"]) {
        Some(Role::Latency)
    } else if has(&["request", "rps", "qps", "throughput", "rate"]) {
        Some(Role::Load)
    } else {
        None
    }
}

/// The role a metric's description implies (first match in the order below).
pub fn role_of_text(text: &str) -> Option<Role> {
    let s = text.to_ascii_lowercase();
    let has = |k: &[&str]| k.iter().any(|w| s.contains(w));
    if has(&["cpu", "processor"]) {
        Some(Role::Cpu)
    } else if has(&["memory"]) {
        Some(Role::Memory)
    } else if has(&["99th", "tail"]) {
        Some(Role::Tail)
    } else if has(&["median", "latency", "response time"]) {
        Some(Role::Latency)
    } else if has(&["error", "fail"]) {
        Some(Role::Errors)
    } else if has(&["requests per second", "request rate", "throughput"]) {
        Some(Role::Load)
    } else {
        None
    }
}

/// Everything the rules read from the whole documentation.
#[derive(Debug, Clone, Default)]
pub struct Knowledge {
    /// Documented metrics and their roles.
    pub roles: BTreeMap<String, Role>,
    /// Components whose memory grows with requests in flight.
    pub in_flight: BTreeSet<String>,
    /// Components that retry failed calls.
    pub retries: BTreeSet<String>,
    /// Per component, the callees and callers its own file states.
    pub stated: BTreeMap<String, (Vec<String>, Vec<String>)>,
    /// What could not be read.
    pub warnings: Vec<String>,
}

const CALLEE_VERBS: &[&str] =
    &["calls ", "depends on", "reads from", "writes to", "sends ", "queries "];

/// Reads every file of `docs` (`metrics`: the telemetry's names).
pub fn read_knowledge(docs: &ComponentDocs, metrics: &[String]) -> Knowledge {
    let names: Vec<&str> = docs.docs().iter().map(|d| d.component.as_str()).collect();
    let mut k = Knowledge::default();
    for doc in docs.docs() {
        let me = doc.component.as_str();
        let mut callees = Vec::new();
        let mut callers = Vec::new();
        for st in doc.statements() {
            let lower = st.text.to_ascii_lowercase();
            match st.section {
                SectionKind::Metrics => {
                    let Some(raw) = st.text.split('`').nth(1).filter(|_| st.text.contains('`'))
                    else {
                        k.warnings.push(format!(
                            "{}: metric bullet `{}` names no metric in backticks",
                            doc.origin, st.text
                        ));
                        continue;
                    };
                    let full =
                        if raw.contains('.') { raw.to_string() } else { format!("{me}.{raw}") };
                    if !metrics.contains(&full) {
                        k.warnings.push(format!(
                            "{}: metric `{full}` is not in the telemetry; ignored",
                            doc.origin
                        ));
                        continue;
                    }
                    let desc = st.text.splitn(3, '`').nth(2).unwrap_or("");
                    let Some(role) = role_of_name(&full).or_else(|| role_of_text(desc)) else {
                        k.warnings.push(format!(
                            "{}: cannot tell what `{full}` measures; no rule uses it",
                            doc.origin
                        ));
                        continue;
                    };
                    if role == Role::Memory && lower.contains("in flight") {
                        k.in_flight.insert(me.to_string());
                    }
                    k.roles.entry(full).or_insert(role);
                }
                SectionKind::Interactions => {
                    if lower.contains("retries") && !lower.contains("no retries") {
                        k.retries.insert(me.to_string());
                    }
                    let others: Vec<String> = mentioned(&st.text, names.iter().copied())
                        .into_iter()
                        .filter(|n| n != me)
                        .collect();
                    if lower.contains("called by") {
                        callers.extend(others);
                    } else if CALLEE_VERBS.iter().any(|v| lower.contains(v)) {
                        callees.extend(others);
                    }
                }
            }
        }
        callees.sort();
        callees.dedup();
        callers.sort();
        callers.dedup();
        k.stated.insert(me.to_string(), (callees, callers));
    }
    k
}

impl Knowledge {
    fn with_role<'a>(&'a self, component: &'a str, role: Role) -> impl Iterator<Item = &'a str> {
        let prefix_len = component.len();
        self.roles
            .iter()
            .filter(move |(n, r)| {
                **r == role
                    && n.len() > prefix_len
                    && n.starts_with(component)
                    && n.as_bytes()[prefix_len] == b'.'
            })
            .map(|(n, _)| n.as_str())
    }

    fn link(&self, out: &mut Vec<(String, String)>, a: (&str, Role), b: (&str, Role)) {
        for x in self.with_role(a.0, a.1) {
            for y in self.with_role(b.0, b.1) {
                if x != y {
                    out.push((x.to_string(), y.to_string()));
                }
            }
        }
    }

    /// The edges of the call `caller -> callee` (rules C1-C4).
    fn call_edges(&self, out: &mut Vec<(String, String)>, caller: &str, callee: &str) {
        use Role::*;
        self.link(out, (caller, Load), (callee, Load));
        self.link(out, (callee, Latency), (caller, Latency));
        self.link(out, (callee, Latency), (caller, Tail));
        self.link(out, (callee, Tail), (caller, Tail));
        self.link(out, (callee, Errors), (caller, Errors));
        if self.retries.contains(caller) {
            self.link(out, (callee, Errors), (caller, Tail));
        }
    }

    /// Component `me`'s local piece: rules L1-L5 on its metrics, C1-C4 towards every
    /// component its file says it calls or is called by.
    pub fn piece(&self, me: &str) -> LocalPiece {
        use Role::*;
        let mut edges = Vec::new();
        self.link(&mut edges, (me, Load), (me, Cpu));
        self.link(&mut edges, (me, Cpu), (me, Latency));
        self.link(&mut edges, (me, Cpu), (me, Tail));
        if self.in_flight.contains(me) {
            self.link(&mut edges, (me, Load), (me, Memory));
            self.link(&mut edges, (me, Latency), (me, Memory));
        }
        self.link(&mut edges, (me, Memory), (me, Errors));
        self.link(&mut edges, (me, Tail), (me, Errors));
        if let Some((callees, callers)) = self.stated.get(me) {
            for s in callees {
                self.call_edges(&mut edges, me, s);
            }
            for c in callers {
                self.call_edges(&mut edges, c, me);
            }
        }
        edges.sort();
        edges.dedup();
        LocalPiece { component: me.to_string(), edges, warnings: Vec::new() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_from_names_and_words() {
        assert_eq!(role_of_name("a.error_rate"), Some(Role::Errors));
        assert_eq!(role_of_name("a.request_rate"), Some(Role::Load));
        assert_eq!(role_of_name("a.latency_p99"), Some(Role::Tail));
        assert_eq!(role_of_name("a.latency_p50"), Some(Role::Latency));
        assert_eq!(role_of_name("a.memory"), Some(Role::Memory));
        assert_eq!(role_of_name("a.x1"), None);
        assert_eq!(role_of_text("the 99th-percentile response time"), Some(Role::Tail));
        assert_eq!(role_of_text("requests per second it receives"), Some(Role::Load));
    }
}
