//! A simulator as the experiment runner sees it: what it is called, which systems it
//! compares, what it reports (every metric, series and matrix with its unit and meaning),
//! how it reads a workload and a system entry, and how it runs.
//!
//! A simulator crate implements [`Simulator`] once, in the file that sits beside its `run`,
//! so what a run emits and what the simulator declares are written in one place; the runner
//! checks each run's result against the declaration ([`RunResult::undeclared`]) and fails the
//! run if it emits a name it does not declare.
//!
//! The steps of adding one are listed in the experiment crate's `kind.rs` ("Adding a
//! simulator").

use serde::de::DeserializeOwned;

use crate::input_error::InputError;
use crate::run_result::RunResult;

/// A named thing with a unit and a one-line description (systems, metrics, series).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Described {
    /// Name as used in configs and results.
    pub name: &'static str,
    /// Unit ("s", "GB/s", "" for none).
    pub unit: &'static str,
    /// What it is. The part before the first colon, semicolon, comma or parenthesis is a
    /// label: plots use it on their axes.
    pub description: &'static str,
}

/// What a simulator offers, as static data.
#[derive(Clone, Copy, Debug)]
pub struct Description {
    /// `kind:` value in configs.
    pub name: &'static str,
    /// One line on what it simulates.
    pub description: &'static str,
    /// Systems it compares (the names a system entry's `system:` may take).
    pub systems: &'static [Described],
    /// Scalar metrics runs report (some only in some settings, as their descriptions say).
    pub metrics: &'static [Described],
    /// Series (per-iteration values or samples) runs report.
    pub series: &'static [Described],
    /// Matrices runs report.
    pub matrices: &'static [Described],
    /// Metrics shown in the end-of-run table.
    pub headline_metrics: &'static [&'static str],
}

impl Description {
    /// A metric, series or matrix by name.
    pub fn find(&self, name: &str) -> Option<&'static Described> {
        self.metrics.iter().chain(self.series).chain(self.matrices).find(|d| d.name == name)
    }
}

/// A simulator the experiment runner can drive.
pub trait Simulator: Send + Sync + 'static {
    /// What runs are simulated on (the cluster, for every simulator so far).
    type Env;
    /// The `workload:` section.
    type Workload: DeserializeOwned;
    /// A system entry: its `system:` name and params.
    type System: DeserializeOwned;
    /// A (workload, system) ready to run for any seed.
    type Prepared: Send + Sync + 'static;

    /// What it offers.
    const DESCRIPTION: Description;

    /// Checks the inputs and does the work shared by every seed.
    fn prepare(
        env: &Self::Env,
        workload: &Self::Workload,
        system: &Self::System,
    ) -> Result<Self::Prepared, InputError>;

    /// One run with `seed`; keeps an execution trace if `trace`.
    fn run(
        prepared: &Self::Prepared,
        env: &Self::Env,
        seed: u64,
        trace: bool,
    ) -> Result<RunResult, InputError>;
}
