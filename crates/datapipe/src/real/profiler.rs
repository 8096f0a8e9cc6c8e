//! The profiler: each operator's per-sample latency and sizes on one thread, and the whole
//! chain's one-thread throughput, written in the format of cedar's published profiles so
//! the simulator loads a real pipeline like a preset.
//!
//! Method: after a warm-up of the whole chain, samples go through the chain in chunks of
//! `chunk` (default 1: each operator sees its input fresh from the operator before, as in
//! the chain); for each operator the chunk is processed between two clock reads, and the
//! clock's own cost (calibrated at the start: the median of 1000 back-to-back reads; a system
//! call for the CPU clock, about a microsecond or less) is subtracted. `latency_ns` is the mean **thread CPU time** per sample (cedar
//! measures `time.process_time_ns()`), or wall time where the CPU clock cannot be read; the
//! files' first line says which. Sizes are the mean payload bytes ([`Data::bytes`]) in and
//! out; the source's input is written as 0, as cedar does. The baseline throughput is the
//! whole chain run sample by sample on one thread: samples over wall-clock seconds, the best
//! of three passes.
//!
//! Files: `<name>_ops.tsv` has exactly the columns of `data/datapipe/cedar_*_ops.tsv`;
//! `<name>_runs.tsv` has exactly the columns of `cedar_*_runs.tsv`, with one run (backend
//! `baseline`, `offloaded_pipe_id` -1) whose `throughput_sps` is the baseline throughput.

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::clock::{Clock, thread_cpu_ns};
use super::context::RealContext;
use super::data::Data;
use super::error::RealError;
use super::op::{OpInfo, RealOp, RealPipeline};

/// The header of an operator profile, as in `data/datapipe/cedar_*_ops.tsv`.
pub const OPS_HEADER: &str = "pipeline\tprofile\tdefinition\tdefinition_file\tpipe_id\tposition\toperator\tfixed\ttag\tdepends_on\tis_random\tlatency_ns\tin_bytes\tout_bytes";
/// The header of a runs file, as in `data/datapipe/cedar_*_runs.tsv`.
pub const RUNS_HEADER: &str = "pipeline\tprofile\tbackend\toffloaded_pipe_id\tthroughput_sps\tpipe_id\tlatency_ns\tin_bytes\tout_bytes";
/// Passes over the samples for the baseline throughput; the fastest counts (the others were
/// slowed by whatever else ran on the machine).
pub const BASELINE_PASSES: usize = 3;
/// The `profile` column of the files written here.
pub const PROFILE_NAME: &str = "mlsim-real";

/// How to profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileConfig {
    /// Measured samples (per operator, and for the baseline run).
    pub samples: usize,
    /// Samples run through the whole chain first, not measured.
    pub warmup: usize,
    /// Samples per batch between two clock reads.
    pub chunk: usize,
    /// Seed of the random operators.
    pub seed: u64,
    /// Operator order (default: cedar's); must be legal.
    pub order: Option<Vec<String>>,
}

impl Default for ProfileConfig {
    /// 64 samples after 8 warm-up samples, chunks of 1, seed 1, cedar's order.
    fn default() -> Self {
        ProfileConfig { samples: 64, warmup: 8, chunk: 1, seed: 1, order: None }
    }
}

/// One operator's measurement.
#[derive(Clone, Debug, PartialEq)]
pub struct OpProfile {
    /// The operator.
    pub op: RealOp,
    /// Mean nanoseconds per sample on the profile's clock.
    pub latency_ns: f64,
    /// Mean wall-clock nanoseconds per sample.
    pub wall_ns: f64,
    /// Mean payload bytes per sample in (0 for the source).
    pub in_bytes: f64,
    /// Mean payload bytes per sample out.
    pub out_bytes: f64,
}

impl OpProfile {
    /// The operator's declaration.
    pub fn info(&self) -> OpInfo {
        self.op.info()
    }
}

/// A measured profile of one pipeline in one order.
#[derive(Clone, Debug, PartialEq)]
pub struct Profile {
    /// The pipeline.
    pub pipeline: RealPipeline,
    /// Operators in the profiled order.
    pub ops: Vec<OpProfile>,
    /// The clock of `latency_ns`.
    pub clock: Clock,
    /// Measured samples.
    pub samples: usize,
    /// Warm-up samples.
    pub warmup: usize,
    /// Seed.
    pub seed: u64,
    /// Whole chain on one thread, samples per wall-clock second (best of three passes).
    pub baseline_throughput_sps: f64,
}

impl ProfileConfig {
    /// Checks the sample counts (the order is checked against the pipeline by [`profile`]).
    pub fn validate(&self) -> Result<(), RealError> {
        if self.samples == 0 || self.samples > 1_000_000 {
            return Err(RealError::Plan(format!(
                "profile samples must be between 1 and 1000000 (got {})",
                self.samples
            )));
        }
        if self.chunk == 0 {
            return Err(RealError::Plan("profile chunk must be at least 1".into()));
        }
        Ok(())
    }
}

/// Profiles `ctx`'s pipeline.
pub fn profile(ctx: &RealContext, config: &ProfileConfig) -> Result<Profile, RealError> {
    let pipeline = ctx.pipeline();
    config.validate()?;
    let order: Vec<RealOp> = match &config.order {
        Some(names) => names.iter().map(|n| pipeline.op(n)).collect::<Result<_, _>>()?,
        None => pipeline.ops().to_vec(),
    };
    pipeline.check_order(&order)?;
    let seed = config.seed;
    let run_chain = |id: u64| -> Result<Data, RealError> {
        let mut data = Data::Index(id);
        for op in &order {
            data = op.apply(ctx, seed, id, data)?;
        }
        Ok(data)
    };
    for id in 0..config.warmup as u64 {
        run_chain(id)?;
    }

    let clock = Clock::best();
    let (cpu_cost, wall_cost) = clock_costs();
    let n_ops = order.len();
    let (mut cpu, mut wall, mut bytes_in, mut bytes_out) =
        (vec![0u64; n_ops], vec![0u64; n_ops], vec![0u64; n_ops], vec![0u64; n_ops]);
    let ids: Vec<u64> = (0..config.samples as u64).collect();
    for chunk in ids.chunks(config.chunk) {
        let mut batch: Vec<(u64, Data)> = chunk.iter().map(|&id| (id, Data::Index(id))).collect();
        for (k, op) in order.iter().enumerate() {
            let c0 = thread_cpu_ns();
            let t0 = Instant::now();
            for (id, data) in batch.iter_mut() {
                if k > 0 {
                    bytes_in[k] += data.bytes() as u64;
                }
                let input = std::mem::replace(data, Data::Index(*id));
                *data = op.apply(ctx, seed, *id, input)?;
                bytes_out[k] += data.bytes() as u64;
            }
            wall[k] += (t0.elapsed().as_nanos() as u64).saturating_sub(wall_cost);
            if let (Some(a), Some(b)) = (c0, thread_cpu_ns()) {
                cpu[k] += b.saturating_sub(a).saturating_sub(cpu_cost);
            }
        }
    }

    let mut baseline_s = f64::INFINITY;
    for _ in 0..BASELINE_PASSES {
        let t0 = Instant::now();
        for id in 0..config.samples as u64 {
            std::hint::black_box(run_chain(id)?);
        }
        baseline_s = baseline_s.min(t0.elapsed().as_secs_f64().max(1e-9));
    }

    let n = config.samples as f64;
    let ops = order
        .iter()
        .enumerate()
        .map(|(k, &op)| OpProfile {
            op,
            latency_ns: match clock {
                Clock::ThreadCpu => cpu[k] as f64 / n,
                Clock::Wall => wall[k] as f64 / n,
            },
            wall_ns: wall[k] as f64 / n,
            in_bytes: bytes_in[k] as f64 / n,
            out_bytes: bytes_out[k] as f64 / n,
        })
        .collect();
    Ok(Profile {
        pipeline,
        ops,
        clock,
        samples: config.samples,
        warmup: config.warmup,
        seed,
        baseline_throughput_sps: n / baseline_s,
    })
}

/// The cost of one measurement, in ns: (CPU clock, wall clock), each the median of 1000
/// back-to-back pairs of reads.
fn clock_costs() -> (u64, u64) {
    let median = |mut v: Vec<u64>| {
        v.sort_unstable();
        v.get(v.len() / 2).copied().unwrap_or(0)
    };
    let cpu: Vec<u64> =
        (0..1000).filter_map(|_| Some(thread_cpu_ns()?.abs_diff(thread_cpu_ns()?))).collect();
    let wall: Vec<u64> = (0..1000)
        .map(|_| {
            let t = Instant::now();
            t.elapsed().as_nanos() as u64
        })
        .collect();
    (median(cpu), median(wall))
}

impl Profile {
    /// The `pipeline` column: `real_image` or `real_text`.
    pub fn pipeline_column(&self) -> String {
        format!("real_{}", self.pipeline.name())
    }

    /// The `definition` column: `image_rust` in cedar's order, `image_rust_reordered` else.
    pub fn definition(&self) -> String {
        let default = self.ops.iter().map(|o| o.op).eq(self.pipeline.ops().iter().copied());
        let suffix = if default { "" } else { "_reordered" };
        format!("{}_rust{suffix}", self.pipeline.name())
    }

    /// The operator profile, in the format of `data/datapipe/cedar_*_ops.tsv`.
    pub fn ops_tsv(&self) -> String {
        let n = self.ops.len();
        let mut s = format!(
            "# mlsim datapipe real profile (crates/datapipe/src/real), {} pipeline standing for cedar's {}: {} samples after {} warm-up, seed {}, one row per pipe; pipe_id 0 = output end, position 0 = source; fixed=1: may not be reordered; depends_on: must stay after the pipe with that tag; latency_ns = mean {} ns per sample on one thread; in/out_bytes = mean payload bytes per sample\n{OPS_HEADER}\n",
            self.pipeline.name(),
            self.pipeline.cedar_pipeline(),
            self.samples,
            self.warmup,
            self.seed,
            self.clock.describe(),
        );
        for (pos, p) in self.ops.iter().enumerate() {
            let info = p.info();
            s.push_str(&format!(
                "{}\t{PROFILE_NAME}\t{}\tcrates/datapipe/src/real/op.rs\t{}\t{pos}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
                self.pipeline_column(),
                self.definition(),
                n - 1 - pos,
                info.name,
                u8::from(info.fixed),
                info.tag.unwrap_or(""),
                info.depends_on.join(","),
                u8::from(info.random),
                p.latency_ns,
                if pos == 0 { 0.0 } else { p.in_bytes },
                p.out_bytes,
            ));
        }
        s
    }

    /// The baseline run, in the format of `data/datapipe/cedar_*_runs.tsv` (rows by pipe_id
    /// from the output end, as cedar's).
    pub fn runs_tsv(&self) -> String {
        let n = self.ops.len();
        let mut s = format!(
            "# mlsim datapipe real profile (crates/datapipe/src/real), {} pipeline: backend=baseline (offloaded_pipe_id -1) is the whole chain on one thread; throughput_sps = samples per wall-clock second over {} samples (best of {BASELINE_PASSES} passes); then per-pipe latency_ns ({}) / in_bytes / out_bytes as in the ops file\n{RUNS_HEADER}\n",
            self.pipeline.name(),
            self.samples,
            self.clock.describe(),
        );
        for pipe_id in 0..n {
            let pos = n - 1 - pipe_id;
            let p = &self.ops[pos];
            s.push_str(&format!(
                "{}\t{PROFILE_NAME}\tbaseline\t-1\t{}\t{pipe_id}\t{}\t{}\t{}\n",
                self.pipeline_column(),
                self.baseline_throughput_sps,
                p.latency_ns,
                if pos == 0 { 0.0 } else { p.in_bytes },
                p.out_bytes,
            ));
        }
        s
    }

    /// Writes the operator profile to `ops_path` and the runs file beside it
    /// ([`runs_path_for`]), each through a temporary file renamed into place; returns the
    /// runs file's path.
    pub fn write(&self, ops_path: &Path) -> Result<PathBuf, RealError> {
        let runs_path = runs_path_for(ops_path);
        write_atomic(ops_path, &self.ops_tsv())?;
        write_atomic(&runs_path, &self.runs_tsv())?;
        Ok(runs_path)
    }
}

/// The runs file beside an operator profile: `x_ops.tsv` -> `x_runs.tsv`, else
/// `x.tsv` -> `x_runs.tsv`.
pub fn runs_path_for(ops_path: &Path) -> PathBuf {
    let name = ops_path.file_name().and_then(|n| n.to_str()).unwrap_or("profile.tsv");
    let runs = if let Some(stem) = name.strip_suffix("_ops.tsv") {
        format!("{stem}_runs.tsv")
    } else {
        let stem = name.strip_suffix(".tsv").unwrap_or(name);
        format!("{stem}_runs.tsv")
    };
    ops_path.with_file_name(runs)
}

fn write_atomic(path: &Path, text: &str) -> Result<(), RealError> {
    let io = |source| RealError::Io { path: path.to_path_buf(), source };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, text).map_err(|source| RealError::Io { path: tmp.clone(), source })?;
    std::fs::rename(&tmp, path).map_err(io)
}
