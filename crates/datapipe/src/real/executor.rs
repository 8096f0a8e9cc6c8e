//! The real executor: one thread per worker of each stage, bounded channels between stages,
//! optionally a batcher that collates `batch_size` samples into one contiguous batch, and a
//! consumer that drops samples (or batches) as fast as they come.
//!
//! The first stage's workers claim sample ids from a shared counter and start each sample
//! from its index; every later stage's workers take samples from the channel before them.
//! A worker applies its stage's operators in order (fused) and sends the result on. Each
//! sample carries a count per operator; the consumer (the calling thread) checks that every
//! sample arrived once and passed every operator exactly once, then drops it: freeing memory
//! another thread allocated is not free, so the consumer's busy time is reported too. Time spent inside operators is the stage's busy
//! time; waiting on a channel is not.
//!
//! An operator error stops the run: the first stage stops claiming samples, the channels
//! close behind the stopped workers, and the error is returned.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, bounded};

use super::context::RealContext;
use super::data::Data;
use super::error::RealError;
use super::op::RealOp;
use super::plan::RealPlan;

/// Most operators a pipeline may have (size of a sample's visit counts).
const MAX_OPS: usize = 16;

/// One sample in flight.
struct Item {
    id: u64,
    data: Data,
    /// Times each operator (by its index in the pipeline's operator list) was applied.
    applied: [u8; MAX_OPS],
}

/// A batch: its samples (kept for the consumer's checks) and their payloads collated into
/// contiguous buffers.
struct Batch {
    items: Vec<Item>,
    floats: Vec<f32>,
    ints: Vec<i64>,
    bytes: Vec<u8>,
}

/// What one stage did.
#[derive(Clone, Debug, PartialEq)]
pub struct StageReport {
    /// Its operators.
    pub ops: Vec<String>,
    /// Its worker threads.
    pub workers: usize,
    /// Samples it processed.
    pub samples: u64,
    /// Seconds its workers spent inside operators, summed over workers.
    pub busy_s: f64,
    /// `busy_s / (workers x wall_s)`: 1 means its workers never waited.
    pub busy_frac: f64,
}

/// What a real run measured.
#[derive(Clone, Debug, PartialEq)]
pub struct RealReport {
    /// The pipeline (`image` or `text`).
    pub pipeline: String,
    /// Samples through the whole pipeline.
    pub samples: u64,
    /// Wall-clock seconds from starting the workers to the consumer receiving the last
    /// sample (building the inputs is not included).
    pub wall_s: f64,
    /// `samples / wall_s`.
    pub throughput_sps: f64,
    /// Per stage, in order.
    pub stages: Vec<StageReport>,
    /// Each operator's applications, summed over samples (each equals `samples`: checked).
    pub op_applications: Vec<(String, u64)>,
    /// Mean bytes of a sample at the consumer.
    pub mean_output_bytes: f64,
    /// Worker threads in all (the consumer thread not counted).
    pub threads: usize,
    /// Seconds the consumer spent checking and dropping samples (freeing their memory, which
    /// another thread allocated), not waiting for them.
    pub consumer_busy_s: f64,
    /// Samples per batch (1: no batcher).
    pub batch_size: usize,
    /// Seconds the batcher spent collating (0 without batching).
    pub batcher_busy_s: f64,
}

struct Shared<'a> {
    ctx: &'a RealContext,
    plan: &'a RealPlan,
    next: AtomicU64,
    stop: AtomicBool,
    error: Mutex<Option<RealError>>,
}

impl Shared<'_> {
    fn fail(&self, e: RealError) {
        self.stop.store(true, Ordering::SeqCst);
        if let Ok(mut slot) = self.error.lock()
            && slot.is_none()
        {
            *slot = Some(e);
        }
    }
}

/// Runs `plan` on `ctx`'s pipeline and measures it.
pub fn run_plan(plan: &RealPlan, ctx: &RealContext) -> Result<RealReport, RealError> {
    let pipeline = ctx.pipeline();
    let stages = plan.resolve(pipeline)?;
    let all_ops = pipeline.ops();
    if all_ops.len() > MAX_OPS {
        return Err(RealError::Plan(format!("at most {MAX_OPS} operators per pipeline")));
    }
    let shared = Shared {
        ctx,
        plan,
        next: AtomicU64::new(0),
        stop: AtomicBool::new(false),
        error: Mutex::new(None),
    };
    let n = plan.samples;
    let mut channels: Vec<(Sender<Item>, Receiver<Item>)> =
        (0..stages.len()).map(|_| bounded(plan.channel_capacity)).collect();

    let start = Instant::now();
    let outcome = std::thread::scope(|scope| {
        let mut handles = Vec::new();
        'spawn: for (si, ops) in stages.iter().enumerate() {
            let index: Vec<usize> =
                ops.iter().map(|op| all_ops.iter().position(|o| o == op).unwrap_or(0)).collect();
            for w in 0..plan.stages[si].workers {
                let rx = (si > 0).then(|| channels[si - 1].1.clone());
                let tx = channels[si].0.clone();
                let (shared, ops, index) = (&shared, ops.as_slice(), index.clone());
                let spawned = std::thread::Builder::new()
                    .name(format!("stage{si}-worker{w}"))
                    .spawn_scoped(scope, move || worker(shared, ops, &index, rx, tx));
                match spawned {
                    Ok(h) => handles.push((si, h)),
                    Err(e) => {
                        // Too many threads for this machine: stop what started, report it.
                        shared.fail(RealError::Plan(format!(
                            "cannot start worker {w} of stage {si} ({} threads in the plan): {e}",
                            plan.threads()
                        )));
                        break 'spawn;
                    }
                }
            }
        }
        let Some((_, last)) = channels.pop() else {
            return Err(RealError::Plan("a plan needs at least one stage".into()));
        };
        channels.clear();
        // With batching, a batcher thread collates `batch_size` samples into one batch.
        let (batch_tx, batch_rx) = bounded::<Batch>(plan.channel_capacity);
        let batcher = if plan.batch_size > 1 {
            let rx = last.clone();
            let size = plan.batch_size;
            let batch_tx = batch_tx;
            Some(scope.spawn(move || {
                let mut busy = Duration::ZERO;
                let mut pending: Vec<Item> = Vec::with_capacity(size);
                let flush = |pending: &mut Vec<Item>, busy: &mut Duration| {
                    let t0 = Instant::now();
                    let mut b = Batch {
                        items: std::mem::take(pending),
                        floats: Vec::new(),
                        ints: Vec::new(),
                        bytes: Vec::new(),
                    };
                    for it in &b.items {
                        it.data.collate_into(&mut b.floats, &mut b.ints, &mut b.bytes);
                    }
                    *busy += t0.elapsed();
                    batch_tx.send(b).is_ok()
                };
                for item in rx.iter() {
                    pending.push(item);
                    if pending.len() == size && !flush(&mut pending, &mut busy) {
                        return busy;
                    }
                }
                if !pending.is_empty() {
                    flush(&mut pending, &mut busy);
                }
                busy
            }))
        } else {
            drop(batch_tx);
            None
        };
        let consumer: Box<dyn Iterator<Item = Vec<Item>>> = if batcher.is_some() {
            drop(last);
            Box::new(batch_rx.iter().map(|b| {
                // The collated buffers are the batch the trainer would use; dropped here.
                drop((b.floats, b.ints, b.bytes));
                b.items
            }))
        } else {
            Box::new(last.into_iter().map(|item| vec![item]))
        };

        // The consumer: count and check, then drop.
        let mut seen = vec![false; n];
        let mut applied = vec![0u64; all_ops.len()];
        let mut out_bytes = 0u64;
        let mut received = 0u64;
        let mut problem: Option<String> = None;
        let mut consumer_busy = Duration::ZERO;
        for item in consumer.flatten() {
            let t0 = Instant::now();
            received += 1;
            out_bytes += item.data.bytes() as u64;
            let id = item.id as usize;
            match seen.get_mut(id) {
                Some(s) if !*s => *s = true,
                Some(_) => {
                    problem.get_or_insert(format!("sample {id} arrived twice"));
                }
                None => {
                    problem.get_or_insert(format!("sample {id} is not one of the {n} samples"));
                }
            }
            for (k, &c) in item.applied.iter().take(all_ops.len()).enumerate() {
                applied[k] += u64::from(c);
                if c != 1 {
                    problem.get_or_insert(format!(
                        "sample {id} passed operator `{}` {c} times",
                        all_ops[k].name()
                    ));
                }
            }
            drop(item);
            consumer_busy += t0.elapsed();
        }
        let wall = start.elapsed();
        let mut busy = vec![(Duration::ZERO, 0u64); stages.len()];
        let mut panicked = false;
        let batcher_busy = match batcher.map(|h| h.join()) {
            None => Duration::ZERO,
            Some(Ok(b)) => b,
            Some(Err(_)) => {
                panicked = true;
                Duration::ZERO
            }
        };
        for (si, h) in handles {
            match h.join() {
                Ok((b, count)) => {
                    busy[si].0 += b;
                    busy[si].1 += count;
                }
                Err(_) => panicked = true,
            }
        }
        if panicked {
            return Err(RealError::Check("a worker thread panicked".into()));
        }
        Ok((wall, busy, applied, received, out_bytes, problem, consumer_busy, batcher_busy))
    });
    let (wall, busy, applied, received, out_bytes, problem, consumer_busy, batcher_busy) = outcome?;
    if let Some(e) = shared.error.into_inner().ok().flatten() {
        return Err(e);
    }
    if let Some(p) = problem {
        return Err(RealError::Check(p));
    }
    if received != n as u64 {
        return Err(RealError::Check(format!("{received} of {n} samples reached the consumer")));
    }
    let wall_s = wall.as_secs_f64().max(1e-9);
    Ok(RealReport {
        pipeline: pipeline.name().to_string(),
        samples: received,
        wall_s,
        throughput_sps: received as f64 / wall_s,
        stages: plan
            .stages
            .iter()
            .zip(&busy)
            .map(|(s, (b, count))| StageReport {
                ops: s.ops.clone(),
                workers: s.workers,
                samples: *count,
                busy_s: b.as_secs_f64(),
                busy_frac: b.as_secs_f64() / (s.workers as f64 * wall_s),
            })
            .collect(),
        op_applications: all_ops
            .iter()
            .zip(applied)
            .map(|(op, c)| (op.name().to_string(), c))
            .collect(),
        mean_output_bytes: out_bytes as f64 / received.max(1) as f64,
        threads: plan.threads(),
        consumer_busy_s: consumer_busy.as_secs_f64(),
        batch_size: plan.batch_size,
        batcher_busy_s: batcher_busy.as_secs_f64(),
    })
}

/// One worker: returns its busy time and the samples it processed.
fn worker(
    shared: &Shared<'_>,
    ops: &[RealOp],
    index: &[usize],
    rx: Option<Receiver<Item>>,
    tx: Sender<Item>,
) -> (Duration, u64) {
    let mut busy = Duration::ZERO;
    let mut count = 0u64;
    let samples = shared.plan.samples as u64;
    loop {
        if shared.stop.load(Ordering::Relaxed) {
            break;
        }
        let mut item = match &rx {
            None => {
                let id = shared.next.fetch_add(1, Ordering::Relaxed);
                if id >= samples {
                    break;
                }
                Item { id, data: Data::Index(id), applied: [0; MAX_OPS] }
            }
            Some(rx) => match rx.recv() {
                Ok(item) => item,
                Err(_) => break,
            },
        };
        let t0 = Instant::now();
        for (op, &k) in ops.iter().zip(index) {
            let data = std::mem::replace(&mut item.data, Data::Index(item.id));
            match op.apply(shared.ctx, shared.plan.seed, item.id, data) {
                Ok(d) => item.data = d,
                Err(e) => {
                    shared.fail(e);
                    return (busy + t0.elapsed(), count);
                }
            }
            item.applied[k] = item.applied[k].saturating_add(1);
        }
        busy += t0.elapsed();
        count += 1;
        if tx.send(item).is_err() {
            break;
        }
    }
    (busy, count)
}
