//! When GPUs fail and come back: a seeded failure/repair process, a fixed set of failed GPUs,
//! or a recorded trace.
//!
//! The process draws the time to the next failure from an exponential distribution with mean
//! `mtbf`, either for the whole job (`per: cluster`, the Oobleck paper's setting: one failure
//! every `mtbf` on average somewhere in the job), per node or per GPU; a failure takes out one
//! GPU, or a whole node with `unit: node`. A failed unit comes back after `repair` (fixed) and
//! can fail again. A trace file lists `time,event,node[,gpu]` rows (`event` = `fail` or
//! `recover`, time in seconds or with a unit); its nodes are checked against the job.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use simcore::{RandomStreams, SimTime};

use simcore::InputError;

/// Which failures happen.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FailureSpec {
    /// `k` GPUs fail at time 0 and stay failed: the steady state under `k` failures.
    Concurrent {
        /// Number of failed GPUs.
        concurrent: u32,
        /// How the failed GPUs are chosen.
        #[serde(default)]
        placement: Placement,
    },
    /// A failure/repair process.
    Process {
        /// Mean time between failures (of the scope `per`).
        mtbf: SimTime,
        /// What `mtbf` is the mean time between failures of.
        #[serde(default)]
        per: Scope,
        /// What one failure takes out.
        #[serde(default)]
        unit: Unit,
        /// Time until a failed unit is back.
        repair: SimTime,
    },
    /// A recorded trace.
    Trace {
        /// CSV file: `time,event,node[,gpu]`.
        trace: PathBuf,
    },
}

/// How the GPUs of a `concurrent` failure set are placed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Placement {
    /// Uniformly at random among the job's GPUs (seeded), at most `D - 1` per stage so that
    /// every stage keeps a live copy.
    #[default]
    Random,
    /// Round-robin over stages: stage 0 of pipeline 0, stage 1 of pipeline 1, ... (spread).
    Spread,
}

/// The population an MTBF refers to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    /// The whole job.
    #[default]
    Cluster,
    /// Each node.
    Node,
    /// Each GPU.
    Gpu,
}

/// What a failure takes out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Unit {
    /// One GPU.
    #[default]
    Gpu,
    /// A whole node.
    Node,
}

/// A failure or a recovery of a set of GPUs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailureEvent {
    /// When.
    pub time: SimTime,
    /// Failed (true) or back (false).
    pub fail: bool,
    /// The GPUs (job-wide index `d * p + s`).
    pub gpus: Vec<u32>,
}

/// The job's shape as failures see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JobShape {
    /// Stages p.
    pub stages: u32,
    /// Pipelines D.
    pub pipelines: u32,
    /// GPUs per node.
    pub gpus_per_node: u32,
}

impl JobShape {
    /// GPUs of the job.
    pub fn gpus(&self) -> u32 {
        self.stages * self.pipelines
    }

    /// Nodes the job occupies.
    pub fn nodes(&self) -> u32 {
        self.gpus().div_ceil(self.gpus_per_node.max(1))
    }

    fn node_gpus(&self, node: u32) -> Vec<u32> {
        let g = self.gpus_per_node.max(1);
        (node * g..((node + 1) * g).min(self.gpus())).collect()
    }
}

impl FailureSpec {
    /// Checks the settings against the job.
    pub fn validate(&self, job: &JobShape) -> Result<(), InputError> {
        match self {
            FailureSpec::Concurrent { concurrent, .. } => {
                let max = job.stages * job.pipelines.saturating_sub(1);
                if *concurrent > job.gpus() {
                    return Err(InputError::invalid(
                        "failures.concurrent",
                        format!("{concurrent} failed GPUs but the job has {}", job.gpus()),
                    ));
                }
                if *concurrent > max {
                    return Err(InputError::invalid(
                        "failures.concurrent",
                        format!(
                            "{concurrent} failures cannot leave every stage a live copy: at most \
                             {max} (D - 1 = {} per stage over {} stages)",
                            job.pipelines.saturating_sub(1),
                            job.stages
                        ),
                    ));
                }
                Ok(())
            }
            FailureSpec::Process { mtbf, repair, .. } => {
                if *mtbf == SimTime::ZERO {
                    return Err(InputError::invalid("failures.mtbf", "must be positive"));
                }
                if *repair == SimTime::ZERO {
                    return Err(InputError::invalid("failures.repair", "must be positive"));
                }
                Ok(())
            }
            FailureSpec::Trace { .. } => self.events(job, SimTime::MAX, 0).map(|_| ()),
        }
    }

    /// The events up to `horizon`, in time order (failures before recoveries at equal times).
    pub fn events(
        &self,
        job: &JobShape,
        horizon: SimTime,
        seed: u64,
    ) -> Result<Vec<FailureEvent>, InputError> {
        let streams = RandomStreams::new(seed);
        let mut out = match self {
            FailureSpec::Concurrent { concurrent, placement } => {
                let gpus = concurrent_set(job, *concurrent, *placement, &streams);
                if gpus.is_empty() {
                    Vec::new()
                } else {
                    vec![FailureEvent { time: SimTime::ZERO, fail: true, gpus }]
                }
            }
            FailureSpec::Process { mtbf, per, unit, repair } => {
                process(job, *mtbf, *per, *unit, *repair, horizon, &streams)
            }
            FailureSpec::Trace { trace } => read_trace(trace, job)?,
        };
        out.retain(|e| e.time <= horizon);
        out.sort_by_key(|e| (e.time, !e.fail));
        Ok(out)
    }
}

fn concurrent_set(
    job: &JobShape,
    k: u32,
    placement: Placement,
    streams: &RandomStreams,
) -> Vec<u32> {
    let (p, dp) = (job.stages, job.pipelines);
    let mut per_stage = vec![0u32; p as usize];
    let mut out = Vec::new();
    match placement {
        Placement::Spread => {
            let mut i = 0u32;
            while (out.len() as u32) < k && i < p * dp {
                let (s, d) = (i % p, (i / p + i % p) % dp);
                let g = d * p + s;
                if per_stage[s as usize] + 1 < dp && !out.contains(&g) {
                    per_stage[s as usize] += 1;
                    out.push(g);
                }
                i += 1;
            }
        }
        Placement::Random => {
            let mut rng = streams.stream("pipeline-concurrent-failures");
            let mut candidates: Vec<u32> = (0..p * dp).collect();
            while (out.len() as u32) < k && !candidates.is_empty() {
                let i = rng.below(candidates.len() as u64) as usize;
                let g = candidates.swap_remove(i);
                let s = (g % p) as usize;
                if per_stage[s] + 1 < dp {
                    per_stage[s] += 1;
                    out.push(g);
                }
            }
        }
    }
    out.sort_unstable();
    out
}

fn process(
    job: &JobShape,
    mtbf: SimTime,
    per: Scope,
    unit: Unit,
    repair: SimTime,
    horizon: SimTime,
    streams: &RandomStreams,
) -> Vec<FailureEvent> {
    let units: u32 = match unit {
        Unit::Gpu => job.gpus(),
        Unit::Node => job.nodes(),
    };
    // Failure rate of the whole job, per second.
    let population = match per {
        Scope::Cluster => 1.0,
        Scope::Node => f64::from(job.nodes()),
        Scope::Gpu => f64::from(job.gpus()),
    };
    let mean_gap = mtbf.as_secs_f64() / population;
    let mut rng = streams.stream("pipeline-failures");
    let mut down_until = vec![SimTime::ZERO; units as usize];
    let mut out = Vec::new();
    let mut t = 0.0f64;
    loop {
        t += rng.exp(mean_gap);
        let time = SimTime::from_secs_f64(t);
        if time > horizon {
            break;
        }
        // The unit that fails: uniform among those up (none up: the failure is absorbed).
        let up: Vec<u32> = (0..units).filter(|&u| down_until[u as usize] <= time).collect();
        if up.is_empty() {
            continue;
        }
        let u = up[rng.below(up.len() as u64) as usize];
        let back = time + repair;
        down_until[u as usize] = back;
        let gpus = match unit {
            Unit::Gpu => vec![u],
            Unit::Node => job.node_gpus(u),
        };
        out.push(FailureEvent { time, fail: true, gpus: gpus.clone() });
        out.push(FailureEvent { time: back, fail: false, gpus });
    }
    out
}

fn read_trace(path: &std::path::Path, job: &JobShape) -> Result<Vec<FailureEvent>, InputError> {
    let field = "failures.trace";
    let path =
        &simcore::data::resolve(path).map_err(|e| InputError::invalid(field, e.to_string()))?;
    let text = std::fs::read_to_string(path)
        .map_err(|e| InputError::invalid(field, format!("cannot read {}: {e}", path.display())))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        let bad =
            |m: String| InputError::invalid(field, format!("{}:{line_no}: {m}", path.display()));
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split(',').map(str::trim).collect();
        if line_no == 1 && cols.first().is_some_and(|c| c.eq_ignore_ascii_case("time")) {
            continue;
        }
        if cols.len() < 3 || cols.len() > 4 {
            return Err(bad(format!(
                "expected time,event,node[,gpu], found {} columns",
                cols.len()
            )));
        }
        let time = match cols[0].parse::<f64>() {
            Ok(s) if s >= 0.0 && s.is_finite() => SimTime::from_secs_f64(s),
            Ok(_) => {
                return Err(bad(format!(
                    "time `{}` must be a non-negative number of seconds",
                    cols[0]
                )));
            }
            Err(_) => {
                simcore::units::parse_duration(cols[0]).map_err(|e| bad(format!("time: {e}")))?
            }
        };
        let fail = match cols[1] {
            "fail" => true,
            "recover" => false,
            other => return Err(bad(format!("event `{other}`: expected fail or recover"))),
        };
        let node: u32 =
            cols[2].parse().map_err(|_| bad(format!("node `{}` is not a number", cols[2])))?;
        if node >= job.nodes() {
            return Err(bad(format!(
                "node {node} is not in the job (nodes 0..{})",
                job.nodes() - 1
            )));
        }
        let gpus = match cols.get(3) {
            None | Some(&"") => job.node_gpus(node),
            Some(g) => {
                let g: u32 = g.parse().map_err(|_| bad(format!("gpu `{g}` is not a number")))?;
                let all = job.node_gpus(node);
                let Some(&gpu) = all.get(g as usize) else {
                    return Err(bad(format!(
                        "node {node} has GPUs 0..{}, not {g}",
                        all.len().saturating_sub(1)
                    )));
                };
                vec![gpu]
            }
        };
        out.push(FailureEvent { time, fail, gpus });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const JOB: JobShape = JobShape { stages: 4, pipelines: 4, gpus_per_node: 8 };

    #[test]
    fn concurrent_failures_leave_every_stage_a_copy() {
        for placement in [Placement::Random, Placement::Spread] {
            for k in 0..=12 {
                let spec = FailureSpec::Concurrent { concurrent: k, placement };
                spec.validate(&JOB).unwrap();
                let ev = spec.events(&JOB, SimTime::MAX, 7).unwrap();
                let gpus: Vec<u32> = ev.iter().flat_map(|e| e.gpus.clone()).collect();
                assert_eq!(gpus.len(), k as usize, "{placement:?}");
                for s in 0..4 {
                    assert!(gpus.iter().filter(|&&g| g % 4 == s).count() <= 3);
                }
            }
        }
        let e = FailureSpec::Concurrent { concurrent: 13, placement: Placement::Random }
            .validate(&JOB)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("workload.failures.concurrent: 13 failures"), "{e}");
    }

    #[test]
    fn the_process_has_its_mean_rate_and_repairs() {
        let spec = FailureSpec::Process {
            mtbf: SimTime::from_secs(3600),
            per: Scope::Cluster,
            unit: Unit::Gpu,
            repair: SimTime::from_secs(600),
        };
        let horizon = SimTime::from_secs(1000 * 3600);
        let ev = spec.events(&JOB, horizon, 1).unwrap();
        let fails = ev.iter().filter(|e| e.fail).count() as f64;
        assert!((fails - 1000.0).abs() < 100.0, "{fails} failures in 1000 h at MTBF 1 h");
        assert!(ev.windows(2).all(|w| w[0].time <= w[1].time));
        // Same seed, same events; another seed, others.
        assert_eq!(ev, spec.events(&JOB, horizon, 1).unwrap());
        assert_ne!(ev, spec.events(&JOB, horizon, 2).unwrap());
    }

    #[test]
    fn traces_are_read_and_checked() {
        let dir = std::env::temp_dir().join(format!("pipeline-trace-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ok = dir.join("ok.csv");
        std::fs::write(&ok, "time,event,node,gpu\n60,fail,1,3\n2h,recover,1,3\n7200.5,fail,0\n")
            .unwrap();
        let job = JobShape { stages: 4, pipelines: 4, gpus_per_node: 8 };
        let ev = FailureSpec::Trace { trace: ok }.events(&job, SimTime::MAX, 0).unwrap();
        assert_eq!(
            ev[0],
            FailureEvent { time: SimTime::from_secs(60), fail: true, gpus: vec![11] }
        );
        assert_eq!(ev[1].gpus, vec![11]);
        assert_eq!(ev[2].gpus, (0..8).collect::<Vec<_>>());
        let bad = dir.join("bad.csv");
        std::fs::write(&bad, "time,event,node\n10,fail,2\n").unwrap();
        let e = FailureSpec::Trace { trace: bad.clone() }.validate(&job).unwrap_err().to_string();
        assert!(e.contains("bad.csv:2: node 2 is not in the job (nodes 0..1)"), "{e}");
        std::fs::write(&bad, "10,explode,0\n").unwrap();
        let e = FailureSpec::Trace { trace: bad }.validate(&job).unwrap_err().to_string();
        assert!(e.contains(":1: event `explode`: expected fail or recover"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
