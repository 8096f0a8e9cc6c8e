//! A long training run: failures, repairs, pauses, checkpoints and iterations over days of
//! simulated time.
//!
//! The iteration time of a failure pattern does not change while the pattern lasts, so it is
//! computed once per distinct [`Config`] key (with the task-graph executor) and the run itself
//! is a discrete-event walk over the failure and repair events: between two events the job
//! completes whole iterations back to back. At an event that changes the configuration (or
//! costs a pause) the iteration in progress is lost; a rollback also loses everything since
//! the last checkpoint. Checkpoints are taken at the first iteration boundary after each
//! `interval` of running and pause training for `save`; a checkpoint cut short by an event is
//! not committed.

use simcore::SimTime;

use crate::failures::FailureEvent;
use crate::policy::{Config, JobModel, Policy};
use simcore::InputError;

/// Checkpoint timing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Checkpointing {
    /// Running time between checkpoints.
    pub interval: SimTime,
    /// Pause to save one.
    pub save: SimTime,
}

/// What happened over the run.
#[derive(Clone, Debug, PartialEq)]
pub struct HorizonOutcome {
    /// Samples trained and kept (rolled-back samples excluded).
    pub samples: f64,
    /// Samples processed, including those later rolled back.
    pub processed: f64,
    /// Running time whose work was lost (partial iterations, rollbacks).
    pub lost_work: SimTime,
    /// Rollbacks to a checkpoint.
    pub restarts: u32,
    /// GPU-seconds of idle spares.
    pub spare_gpu_seconds: f64,
    /// Processed samples per second in each of `windows` equal windows.
    pub throughput_series: Vec<f64>,
    /// Failed GPUs at the end of each window.
    pub failed_series: Vec<f64>,
    /// Per number of failed GPUs `k` (index): running time and iteration time x running time.
    pub by_failures: Vec<(f64, f64)>,
}

/// Iteration time of a config, evaluated on demand (and cached by the caller).
pub trait Evaluate {
    /// The steady-state iteration time of `policy`'s program for `failed`.
    fn period(
        &mut self,
        policy: &dyn Policy,
        job: &JobModel,
        key: &[u32],
        failed: &[bool],
    ) -> Result<SimTime, InputError>;
}

/// Runs the horizon.
pub fn simulate(
    job: &JobModel,
    policy: &mut dyn Policy,
    events: &[FailureEvent],
    horizon: SimTime,
    ckpt: Checkpointing,
    eval: &mut dyn Evaluate,
    windows: usize,
) -> Result<HorizonOutcome, InputError> {
    let gpus = job.shape.gpus() as usize;
    let mut failed = vec![false; gpus];
    let mut out = HorizonOutcome {
        samples: 0.0,
        processed: 0.0,
        lost_work: SimTime::ZERO,
        restarts: 0,
        spare_gpu_seconds: 0.0,
        throughput_series: vec![0.0; windows],
        failed_series: vec![0.0; windows],
        by_failures: vec![(0.0, 0.0); gpus + 1],
    };
    // Processed-sample marks (time, cumulative processed) for the throughput series.
    let mut marks: Vec<(SimTime, f64)> = vec![(SimTime::ZERO, 0.0)];
    let mut failed_marks: Vec<(SimTime, usize)> = vec![(SimTime::ZERO, 0)];
    let mut committed = 0.0; // samples saved in the last checkpoint
    let mut progress = 0.0; // samples trained since the start, not rolled back
    let mut config = policy.config(job, &failed);
    let mut period = period_of(eval, policy, job, &config, &failed)?;
    // Training may proceed from `cur`; the next checkpoint is due after `next_ckpt`.
    let mut cur = SimTime::ZERO;
    let mut next_ckpt = ckpt.interval;
    let mut idx = 0;
    let mut now = SimTime::ZERO;
    loop {
        let next_event = events.get(idx).map_or(horizon, |e| e.time.min(horizon));
        let idle_spares = f64::from(policy.idle_spare_gpus());
        out.spare_gpu_seconds += idle_spares * (next_event - now).as_secs_f64();
        let n_failed = failed.iter().filter(|&&f| f).count();
        // Run whole iterations from `cur` until the event.
        let mut partial = SimTime::ZERO;
        let mut running = false;
        if let (Config::Run { samples_per_iter, .. }, Some(t)) = (&config, period)
            && cur < next_event
        {
            running = true;
            let started = cur;
            loop {
                let due = if next_ckpt > cur { next_ckpt - cur } else { SimTime::ZERO };
                let to_ckpt = div_ceil(due, t);
                let fit = (next_event - cur).as_nanos() / t.as_nanos().max(1);
                if to_ckpt <= fit {
                    // Iterations up to the checkpoint boundary, then the save.
                    let done = cur + SimTime::from_nanos(t.as_nanos().saturating_mul(to_ckpt));
                    progress += *samples_per_iter * to_ckpt as f64;
                    out.processed += *samples_per_iter * to_ckpt as f64;
                    marks.push((done, out.processed));
                    cur = done;
                    if cur + ckpt.save <= next_event {
                        cur += ckpt.save;
                        committed = progress;
                        next_ckpt = cur + ckpt.interval;
                        marks.push((cur, out.processed));
                        continue;
                    }
                    partial = next_event - cur;
                    cur = next_event;
                    break;
                }
                let done = cur + SimTime::from_nanos(t.as_nanos().saturating_mul(fit));
                progress += *samples_per_iter * fit as f64;
                out.processed += *samples_per_iter * fit as f64;
                marks.push((done, out.processed));
                partial = next_event - done;
                cur = done;
                break;
            }
            let ran = (next_event - started).as_secs_f64();
            let slot = &mut out.by_failures[n_failed.min(gpus)];
            slot.0 += ran;
            slot.1 += ran * t.as_secs_f64();
        }
        now = next_event;
        if now >= horizon || idx >= events.len() {
            break;
        }
        // Apply every event at this time.
        let mut any_fail = false;
        while let Some(e) = events.get(idx).filter(|e| e.time == now) {
            for &g in &e.gpus {
                if let Some(f) = failed.get_mut(g as usize) {
                    *f = e.fail;
                }
            }
            any_fail |= e.fail;
            idx += 1;
        }
        failed_marks.push((now, failed.iter().filter(|&&f| f).count()));
        marks.push((now, out.processed));
        let reaction = policy.react(job, &failed, any_fail);
        let new_config = policy.config(job, &failed);
        let disrupted = reaction.pause > SimTime::ZERO || reaction.rollback || new_config != config;
        if disrupted {
            if matches!(config, Config::Run { .. }) {
                out.lost_work += partial;
            }
            if reaction.rollback {
                if let (Config::Run { samples_per_iter, .. }, Some(t)) = (&config, period)
                    && *samples_per_iter > 0.0
                {
                    let lost_iters = (progress - committed) / samples_per_iter;
                    out.lost_work += SimTime::from_secs_f64(lost_iters * t.as_secs_f64());
                }
                progress = committed;
                out.restarts += 1;
            }
            config = new_config;
            period = period_of(eval, policy, job, &config, &failed)?;
            cur = now + reaction.pause;
            marks.push((cur.min(horizon), out.processed));
            if reaction.rollback {
                next_ckpt = cur + ckpt.interval;
            }
        } else if running {
            // Nothing changed for the job: the iteration in progress continues.
            cur = now - partial;
        }
    }
    out.samples = progress;
    fill_series(&mut out, &marks, &failed_marks, horizon, windows);
    for slot in &mut out.by_failures {
        if slot.0 > 0.0 {
            slot.1 /= slot.0;
        }
    }
    Ok(out)
}

fn div_ceil(a: SimTime, b: SimTime) -> u64 {
    a.as_nanos().div_ceil(b.as_nanos().max(1))
}

fn period_of(
    eval: &mut dyn Evaluate,
    policy: &dyn Policy,
    job: &JobModel,
    config: &Config,
    failed: &[bool],
) -> Result<Option<SimTime>, InputError> {
    match config {
        Config::Down => Ok(None),
        Config::Run { key, .. } => {
            let t = eval.period(policy, job, key, failed)?;
            if t == SimTime::ZERO {
                return Err(InputError::Simulation("an iteration took no time".into()));
            }
            Ok(Some(t))
        }
    }
}

/// Samples per second per window from piecewise-linear processed marks; failed GPUs at each
/// window's end.
fn fill_series(
    out: &mut HorizonOutcome,
    marks: &[(SimTime, f64)],
    failed_marks: &[(SimTime, usize)],
    horizon: SimTime,
    windows: usize,
) {
    let at = |t: SimTime| -> f64 {
        // Processed samples at time t (linear between marks: iterations complete steadily).
        let i = marks.partition_point(|m| m.0 <= t);
        if i == 0 {
            return 0.0;
        }
        let (t0, v0) = marks[i - 1];
        match marks.get(i) {
            Some(&(t1, v1)) if t1 > t0 => {
                v0 + (v1 - v0) * (t - t0).as_secs_f64() / (t1 - t0).as_secs_f64()
            }
            _ => v0,
        }
    };
    let w = horizon.as_secs_f64() / windows.max(1) as f64;
    for k in 0..windows {
        let (a, b) =
            (SimTime::from_secs_f64(w * k as f64), SimTime::from_secs_f64(w * (k + 1) as f64));
        out.throughput_series[k] = if w > 0.0 { (at(b) - at(a)) / w } else { 0.0 };
        let i = failed_marks.partition_point(|m| m.0 <= b);
        out.failed_series[k] = failed_marks.get(i.saturating_sub(1)).map_or(0.0, |m| m.1 as f64);
    }
}
