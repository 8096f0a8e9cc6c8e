//! `trace`: replay of a request trace file. Each line is one request, its own program and a
//! root; the formats differ in what they say about shared text:
//!
//! - `splitwise` ([`super::splitwise`]): the Azure 2023 LLM inference traces as vidur
//!   processed them (CSV `arrived_at,num_prefill_tokens,num_decode_tokens`); no sharing
//!   information, so every prompt is its own span.
//! - `mooncake` ([`super::mooncake`]): Mooncake's JSONL traces, whose `hash_ids` name the
//!   prompt's 512-token blocks; equal ids are shared prefix blocks.
//!
//! Timing follows [`Arrivals`]: `Trace { speedup }` replays the recorded arrival times divided
//! by `speedup`; `Offline` sends everything at 0; `Poisson { rate }` keeps the order and draws
//! new arrival times. `limit` keeps the first n requests. A relative `path` is read from the
//! workspace root, then the working directory ([`simcore::data::resolve`]).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use simcore::{InputError, SimTime};

use super::builder::{CallBuilder, invalid, poisson_times};
use super::{Arrivals, Call};
use crate::Tokens;

/// The file formats a trace can have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TraceFormat {
    /// Azure 2023 (Splitwise) CSV as processed by vidur.
    Splitwise,
    /// Mooncake JSONL with prefix-block hash ids.
    Mooncake,
}

/// Parameters of the `trace` workload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trace {
    /// The file's format.
    pub format: TraceFormat,
    /// The file (`data/serving/splitwise_conv.csv`).
    pub path: PathBuf,
    /// Replay only the first `limit` requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
}

/// One request read from a trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceRequest {
    /// Recorded arrival time.
    pub arrival: SimTime,
    /// The prompt.
    pub prompt: Tokens,
    /// Tokens generated.
    pub output_tokens: u32,
}

impl Trace {
    /// Checks the parameters (the file is read by [`Trace::calls`]).
    pub fn validate(&self) -> Result<(), InputError> {
        if self.path.as_os_str().is_empty() {
            return Err(invalid(
                "path",
                "give the trace file (e.g. data/serving/splitwise_conv.csv)",
            ));
        }
        if self.limit == Some(0) {
            return Err(invalid("limit", "0 requests: give at least 1, or leave limit out"));
        }
        Ok(())
    }

    /// Reads the file and times its requests by `arrivals`.
    pub fn calls(&self, seed: u64, arrivals: &Arrivals) -> Result<Vec<Call>, InputError> {
        self.validate()?;
        let path =
            simcore::data::resolve(&self.path).map_err(|e| invalid("path", e.to_string()))?;
        let limit = self.limit.map_or(usize::MAX, |n| usize::try_from(n).unwrap_or(usize::MAX));
        let mut b = CallBuilder::new();
        let requests = read(self.format, &path, limit, &mut b)?;
        let mut times = match *arrivals {
            Arrivals::Poisson { rate } => Some(poisson_times(seed, rate)?),
            _ => None,
        };
        let speedup = match *arrivals {
            Arrivals::Trace { speedup } => {
                if !(speedup.is_finite() && speedup > 0.0) {
                    return Err(InputError::at(
                        "workload.arrivals.speedup",
                        format!(
                            "{speedup} is not a valid speedup: give a positive number (1 = as recorded)"
                        ),
                    ));
                }
                Some(speedup)
            }
            _ => None,
        };
        let mut arrival_of = Vec::with_capacity(requests.len());
        for (i, r) in requests.into_iter().enumerate() {
            let at = match (&mut times, speedup) {
                (Some(t), _) => t.next_time(),
                (None, Some(s)) => SimTime::from_secs_f64(r.arrival.as_secs_f64() / s),
                (None, None) => SimTime::ZERO,
            };
            arrival_of.push(at);
            b.call(i as u64, r.prompt, r.output_tokens, Vec::new(), SimTime::ZERO);
        }
        let mut calls = b.finish(seed, &Arrivals::Offline)?;
        for (c, at) in calls.iter_mut().zip(arrival_of) {
            c.delay = at;
        }
        Ok(calls)
    }
}

/// Reads at most `limit` requests of a trace file in `format`.
pub fn read(
    format: TraceFormat,
    path: &Path,
    limit: usize,
    b: &mut CallBuilder,
) -> Result<Vec<TraceRequest>, InputError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| InputError::data(name.clone(), 0, format!("cannot read the trace: {e}")))?;
    match format {
        TraceFormat::Splitwise => super::splitwise::parse(&name, &text, limit, b),
        TraceFormat::Mooncake => super::mooncake::parse(&name, &text, limit),
    }
}
