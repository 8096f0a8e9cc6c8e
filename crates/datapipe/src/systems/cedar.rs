//! `cedar`: cedar's optimizer (Zhao et al., VLDB'24) and its run-time controller.
//!
//! - Reordering: the cheapest order the constraints allow under the size-ratio cost model
//!   ([`crate::order::cheapest_order`]).
//! - Caching (with more than one epoch): the samples before the first random operator are
//!   written to local disk in epoch 1 and read back afterwards, if they fit on the disk,
//!   reading one costs less than recomputing it, and the cost model rates the whole job
//!   (epoch 1 with the writes, then the cached epochs) faster than without.
//! - Offloading: a prefix of the order runs in a worker pool — local processes (cedar's SMP
//!   backend) or, with `workload.mode: remote`, remote workers (its Ray backend,
//!   ceil(remote vCPUs / groups) actors) — and the rest in the training process. The split
//!   and the backend are the ones cedar's Amdahl cost model rates best: per-sample cost =
//!   main-process part + receive cost + offloaded part / speedup, the speedup being the
//!   pool's workers. The local pool pickles samples to the trainer (cedar's serialisation
//!   bound); the Ray backend hands them over through its object store and the network.
//! - Fusion: adjacent offloaded operators run as one task (no hand-off between processes);
//!   cedar's model scales the fused group's cost by (first input + last output) /
//!   (first input + 2 x inner sizes + last output).
//! - Prefetch: a 100-sample buffer at the output.
//! - Run-time controller: every 3 s, if the prefetch buffer averaged under 50, add a worker
//!   to the stage in front of the emptiest buffer; keep it while throughput rises > 1%.
//!
//! The features can be switched off one by one for the ablation (`parallelism`, `reorder`,
//! `offload`, `fusion`, `cache`, `controller`).

use serde::Deserialize;

use crate::order::cheapest_order;
use crate::plan::{Controller, Plan, PlanBuilder};
use crate::resources::{Handoff, Host};
use crate::systems::Ctx;

/// cedar's prefetch buffer, samples.
pub const PREFETCH: u32 = 100;

/// Its parameters: which optimisations are on (all by default).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Run operators in a pool of worker processes (off: everything in the trainer).
    pub parallelism: bool,
    /// Reorder operators.
    pub reorder: bool,
    /// Offload to remote workers (needs `workload.mode: remote`).
    pub offload: bool,
    /// Fuse adjacent operators in the pool.
    pub fusion: bool,
    /// Cache before the first random operator when there is more than one epoch.
    pub cache: bool,
    /// The run-time controller.
    pub controller: bool,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            parallelism: true,
            reorder: true,
            offload: true,
            fusion: true,
            cache: true,
            controller: true,
        }
    }
}

/// One candidate: operators at positions [start, split) in a pool on `host`, the rest in the
/// trainer.
#[derive(Clone, Copy, Debug)]
struct Choice {
    split: usize,
    host: Host,
    /// Local worker processes running the operators after the split (1: the trainer itself;
    /// more: their samples are pickled to the trainer).
    local: u32,
    cost: f64,
}

/// Its plan.
pub fn plan(ctx: &Ctx<'_>, params: &Params) -> Plan {
    let p = ctx.pipeline;
    let order = if params.reorder { cheapest_order(p).0 } else { p.given_order() };
    let mut plan = build(ctx, params, order.clone(), None);
    if params.cache
        && ctx.epochs > 1
        && let Some((cached, note, start)) = cached_plan(ctx, params, &order)
    {
        // Epoch 1 writes the cache after the operator before the first random one.
        let write_bytes = cached.cache_bytes_per_sample;
        let write_s = write_bytes * ctx.res.disk_write(p);
        let mut first = build(ctx, params, order, Some((start - 1, write_s)));
        // cedar's model of the whole job: epoch 1 pays the write, later epochs read the cache.
        let epochs = ctx.epochs as f64;
        let with_cache =
            1.0 / first.predicted_sps + write_s + (epochs - 1.0) / cached.predicted_sps;
        let without = epochs / plan.predicted_sps;
        if with_cache < without {
            first.cache_bytes_per_sample = write_bytes;
            first.cache_ops = start;
            first.notes.push(note);
            first.cached = Some(Box::new(cached));
            plan = first;
        } else {
            plan.notes.push(format!(
                "no cache: {:.3} ms per sample over the job with it, {:.3} ms without",
                with_cache / epochs * 1e3,
                without / epochs * 1e3
            ));
        }
    }
    plan
}

/// The plan for epochs after the first, when caching helps.
fn cached_plan(ctx: &Ctx<'_>, params: &Params, order: &[usize]) -> Option<(Plan, String, usize)> {
    let p = ctx.pipeline;
    let start = p.first_random(order).unwrap_or(order.len());
    if start == 0 {
        return None;
    }
    let costs = p.costs(order);
    let bytes = costs[start - 1].out_bytes;
    if bytes * ctx.samples as f64 > ctx.res.disk_gb * 1e9 {
        return None;
    }
    let read_per_byte = ctx.res.disk_read(p);
    let read_s = bytes * read_per_byte;
    let recompute: f64 = costs[..start].iter().map(|c| c.cost_s).sum();
    if read_s >= recompute {
        return None;
    }
    let mut plan = build_from(ctx, params, order.to_vec(), start, Some(read_per_byte), None);
    plan.cache_bytes_per_sample = bytes;
    let name = &p.ops[order[start - 1]].name;
    let note = format!(
        "cache after {name}: {bytes:.0} B/sample, read {:.3} ms vs recompute {:.3} ms",
        read_s * 1e3,
        recompute * 1e3
    );
    Some((plan, note, start))
}

fn build(ctx: &Ctx<'_>, params: &Params, order: Vec<usize>, write: Option<(usize, f64)>) -> Plan {
    build_from(ctx, params, order, 0, None, write)
}

/// How the pool's samples reach the training process: pickled from the local process pool,
/// through Ray's object store from remote workers, or not at all without a pool.
fn pool_handoff(pool: &std::ops::Range<usize>, host: Host) -> Handoff {
    if pool.is_empty() {
        Handoff::InProcess
    } else if host == Host::Remote {
        Handoff::SharedMemory
    } else {
        Handoff::Pickle
    }
}

/// cedar's fused-cost factor for the operators at `range`.
fn fusion_factor(b: &PlanBuilder<'_>, range: std::ops::Range<usize>) -> f64 {
    if range.len() < 2 {
        return 1.0;
    }
    let c = b.costs();
    let first = c[range.start].in_bytes;
    let last = c[range.end - 1].out_bytes;
    let inner: f64 = c[range.start + 1..range.end].iter().map(|x| x.in_bytes).sum();
    (first + last) / (first + 2.0 * inner + last)
}

/// Builds the plan for operators from `start` (read from a cache at `read_s_per_byte`
/// before them, if any); `write`: (position whose output is cached, seconds per sample to write it).
fn build_from(
    ctx: &Ctx<'_>,
    params: &Params,
    order: Vec<usize>,
    start: usize,
    read_s_per_byte: Option<f64>,
    write: Option<(usize, f64)>,
) -> Plan {
    let p = ctx.pipeline;
    let n = order.len();
    let mut b = PlanBuilder::new(p, ctx.res, order.clone());
    let costs: Vec<f64> = b.costs().iter().map(|c| c.cost_s).collect();
    let pickle = |bytes: f64| ctx.res.handoff_s(Handoff::Pickle, bytes);
    let shm = |bytes: f64| ctx.res.handoff_s(Handoff::SharedMemory, bytes);
    let net = ctx.res.network_bytes_per_s();
    let remote_ok = params.offload && ctx.remote && ctx.res.remote_vcpus > 0;
    // cedar's cost model over every split and backend.
    let cache_cost = match read_s_per_byte {
        Some(r) if start > 0 => b.bytes_after(start - 1) * r,
        _ => 0.0,
    };
    let out_bytes = b.bytes_after(n - 1);
    let all: f64 = costs[start..].iter().sum();
    let mut best = Choice { split: start, host: Host::Local, local: 1, cost: all };
    let hosts: &[Host] = if remote_ok { &[Host::Local, Host::Remote] } else { &[Host::Local] };
    let locals: &[u32] = if params.parallelism { &[1, ctx.res.local_vcpus] } else { &[1] };
    for &local in locals {
        let lw = local as f64;
        let to_trainer = if local > 1 { pickle(out_bytes) } else { 0.0 };
        // No pool: the local workers run everything.
        let cost = all / lw + to_trainer;
        if cost < best.cost * (1.0 - 1e-9) {
            best = Choice { split: start, host: Host::Local, local, cost };
        }
        if !params.parallelism {
            continue;
        }
        for &host in hosts {
            let workers = ctx.res.vcpus(host).max(1) as f64;
            for split in start + 1..=n {
                let mut pool: f64 = costs[start..split].iter().sum();
                if params.fusion {
                    pool *= fusion_factor(&b, start..split);
                }
                let handoff = b.bytes_after(split - 1);
                // The Ray backend hands samples over through its shared-memory object store
                // (and the network); the local process pool pickles them.
                let arrive = if host == Host::Remote {
                    shm(handoff) + handoff / net
                } else {
                    pickle(handoff)
                };
                let suffix: f64 = costs[split..].iter().sum();
                let cost = if split == n {
                    // The pool's samples go straight to the trainer.
                    arrive + pool / workers
                } else {
                    (suffix + arrive) / lw + to_trainer + pool / workers
                };
                if cost < best.cost * (1.0 - 1e-9) {
                    best = Choice { split, host, local: if split == n { 1 } else { local }, cost };
                }
            }
        }
    }
    // The cache is read by its own stage, in parallel with the rest.
    let predicted = 1.0 / best.cost.max(cache_cost);
    // The stages.
    let mut input = None;
    if let Some(r) = read_s_per_byte {
        let bytes = if start > 0 { b.bytes_after(start - 1) } else { 0.0 };
        let buf = b.buffer("cached samples", PREFETCH, bytes);
        b.cache_read(bytes, r, buf);
        input = Some(buf);
    }
    let mut write_at: Option<(usize, f64)> = None;
    let pool_range = start..best.split;
    if !pool_range.is_empty() {
        let workers = ctx.res.vcpus(best.host).max(1);
        let host_name =
            if best.host == Host::Local { "local process pool" } else { "remote workers" };
        if params.fusion {
            let out_bytes = b.bytes_after(best.split - 1);
            let buf = b.buffer(&format!("{host_name} output"), 2 * workers, out_bytes);
            let s = b.compute(
                &format!("fused ({host_name})"),
                pool_range.clone(),
                best.host,
                workers,
                input,
                buf,
                Handoff::InProcess,
                true,
            );
            if let Some((pos, w)) = write
                && pool_range.contains(&pos)
            {
                write_at = Some((s, w));
            }
            input = Some(buf);
        } else {
            // One pool per operator, workers shared in proportion to cost.
            let total: f64 = costs[pool_range.clone()].iter().sum::<f64>().max(1e-15);
            for (k, pos) in pool_range.clone().enumerate() {
                let w = ((costs[pos] / total) * workers as f64).round().max(1.0) as u32;
                let name = p.ops[order[pos]].name.clone();
                let buf = b.buffer(&format!("after {name}"), 2 * w, b.bytes_after(pos));
                let handoff = if k == 0 {
                    Handoff::InProcess
                } else if best.host == Host::Remote {
                    Handoff::SharedMemory
                } else {
                    Handoff::Pickle
                };
                let s = b.compute(
                    &format!("{name} ({host_name})"),
                    pos..pos + 1,
                    best.host,
                    w,
                    input,
                    buf,
                    handoff,
                    true,
                );
                if let Some((wp, ws)) = write
                    && wp == pos
                {
                    write_at = Some((s, ws));
                }
                input = Some(buf);
            }
        }
        if best.host == Host::Remote {
            let bytes = b.bytes_after(best.split - 1);
            let buf = b.buffer("arrived from remote", PREFETCH, bytes);
            b.transfer("network to trainer", bytes, input.unwrap_or(0), buf);
            input = Some(buf);
        }
        b.note(format!(
            "{} operator(s) in the {host_name}{}",
            pool_range.len(),
            if params.fusion && pool_range.len() > 1 { ", fused" } else { "" }
        ));
    }
    let out = b.buffer("prefetch", PREFETCH, b.bytes_after(n - 1));
    if best.split < n {
        let handoff = pool_handoff(&pool_range, best.host);
        let s = if best.local > 1 {
            let ready = b.buffer("local workers' output", 2 * best.local, b.bytes_after(n - 1));
            let s = b.compute(
                "local workers",
                best.split..n,
                Host::Local,
                best.local,
                input,
                ready,
                handoff,
                true,
            );
            b.receive(b.bytes_after(n - 1), Handoff::Pickle, ready, out);
            s
        } else {
            b.compute("trainer process", best.split..n, Host::Local, 1, input, out, handoff, false)
        };
        if let Some((pos, w)) = write
            && pos >= best.split
        {
            write_at = Some((s, w));
        }
    } else {
        let handoff = pool_handoff(&pool_range, best.host);
        b.receive(b.bytes_after(n - 1), handoff, input.unwrap_or(0), out);
    }
    if let Some((s, w)) = write_at {
        b.add_service(s, w);
    }
    let names: Vec<&str> = order.iter().map(|&i| p.ops[i].name.as_str()).collect();
    b.note(format!("order: {}", names.join(" > ")));
    let mut plan = b.finish("cedar", out, predicted);
    if params.controller {
        plan.controller = Some(Controller { interval_s: 3.0, min_gain: 0.01, low_water: 50.0 });
    }
    plan
}
