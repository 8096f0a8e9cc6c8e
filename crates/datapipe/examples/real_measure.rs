//! Measures the real pipelines on this machine for `docs/datapipe-real.md`: profiles both
//! pipelines (written in cedar's format under `results/datapipe/`), then runs every plan of
//! the validation matrix — parallelism 1 and 2, two legal operator orders, fused and
//! unfused — several times, interleaved so that background load spreads over all plans, and
//! prints the best throughput and the spread as a Markdown table.
//!
//! ```text
//! cargo run --release -p datapipe --example real_measure -- [--repeats 3]
//!     [--image-samples 200] [--text-samples 20000] [--image-profile-samples 100]
//!     [--text-profile-samples 5000] [--quiet 0.15] [--max-wait 60] [--out results/datapipe]
//! ```
//!
//! The machine is shared: before each run the program waits (up to `--max-wait` seconds)
//! until other processes use less than `--quiet` of the CPUs over a second, and it reports
//! the share other processes took during each run (from `/proc/stat` and
//! `/proc/self/stat`), so a slow run can be told from a disturbed one.

use std::path::PathBuf;

use datapipe::real::{
    ImageInputs, ProfileConfig, RealContext, RealPipeline, RealPlan, TextInputs, profile, run_plan,
};

struct Options {
    repeats: usize,
    image_samples: usize,
    text_samples: usize,
    image_profile_samples: usize,
    text_profile_samples: usize,
    quiet: f64,
    max_wait_s: u64,
    out: PathBuf,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        repeats: 3,
        image_samples: 200,
        text_samples: 20000,
        image_profile_samples: 100,
        text_profile_samples: 5000,
        quiet: 0.15,
        max_wait_s: 60,
        out: PathBuf::from("results/datapipe"),
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = || value.parse::<usize>().map_err(|e| format!("{flag} {value}: {e}"));
        match flag.as_str() {
            "--repeats" => o.repeats = number()?.max(1),
            "--image-samples" => o.image_samples = number()?,
            "--text-samples" => o.text_samples = number()?,
            "--image-profile-samples" => o.image_profile_samples = number()?,
            "--text-profile-samples" => o.text_profile_samples = number()?,
            "--quiet" => {
                o.quiet = value.parse::<f64>().map_err(|e| format!("{flag} {value}: {e}"))?
            }
            "--max-wait" => o.max_wait_s = number()? as u64,
            "--out" => o.out = PathBuf::from(value),
            _ => {
                return Err(format!(
                    "unknown flag {flag}; flags: --repeats --image-samples --text-samples \
                     --image-profile-samples --text-profile-samples --quiet --max-wait --out"
                ));
            }
        }
    }
    Ok(o)
}

/// CPU ticks (1/100 s) of the whole machine, busy and in all, from `/proc/stat` (Linux).
fn machine_ticks() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let v: Vec<u64> =
        stat.lines().next()?.split_whitespace().skip(1).filter_map(|x| x.parse().ok()).collect();
    let total: u64 = v.iter().take(8).sum();
    let idle = v.get(3)? + v.get(4)?;
    Some((total - idle, total))
}

/// CPU ticks this process has used (user + system), from `/proc/self/stat`.
fn own_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

/// Share of the machine's CPU used by other processes over `f` (0 = we ran alone).
fn others_share<T>(f: impl FnOnce() -> T) -> (T, Option<f64>) {
    let (m0, o0) = (machine_ticks(), own_ticks());
    let out = f();
    let share = match (m0, machine_ticks(), o0, own_ticks()) {
        (Some((b0, t0)), Some((b1, t1)), Some(o0), Some(o1)) if t1 > t0 => {
            let others = (b1 - b0).saturating_sub(o1 - o0);
            Some(others as f64 / (t1 - t0) as f64)
        }
        _ => None,
    };
    (out, share)
}

/// Waits (up to `max_s` seconds) until other processes use under `limit` of the machine's
/// CPU over a second; returns their share at the end.
fn wait_for_quiet(limit: f64, max_s: u64) -> Option<f64> {
    let start = std::time::Instant::now();
    loop {
        let ((), share) = others_share(|| std::thread::sleep(std::time::Duration::from_secs(1)));
        match share {
            Some(s) if s < limit && start.elapsed().as_secs() < max_s => return Some(s),
            Some(s) if start.elapsed().as_secs() >= max_s => return Some(s),
            None => return None,
            _ => {}
        }
    }
}

fn names(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// The two orders measured per pipeline: cedar's, and a legal reordering.
fn orders(pipeline: RealPipeline) -> [(&'static str, Vec<String>); 2] {
    match pipeline {
        RealPipeline::Image => [
            ("cedar (jitter > grayscale)", pipeline.default_order()),
            (
                "grayscale before jitter",
                names(&[
                    "read",
                    "decode",
                    "to_float",
                    "random_resized_crop",
                    "horizontal_flip",
                    "grayscale",
                    "color_jitter",
                    "gaussian_blur",
                    "normalize",
                ]),
            ),
        ],
        RealPipeline::Text => [
            ("cedar (bos > eos)", pipeline.default_order()),
            (
                "eos before bos",
                names(&[
                    "read_line",
                    "tokenize",
                    "truncate",
                    "add_eos",
                    "add_bos",
                    "to_tensor",
                    "embedding",
                ]),
            ),
        ],
    }
}

struct Row {
    pipeline: &'static str,
    order: &'static str,
    workers: usize,
    fused: bool,
    threads: usize,
    runs: Vec<f64>,
    busy: Vec<f64>,
    consumer: Vec<f64>,
    others: Vec<Option<f64>>,
}

fn main() {
    let o = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    if let Err(e) = measure(&o) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn measure(o: &Options) -> Result<(), datapipe::real::RealError> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("machine: {cores} cores; load average at start: {}", load.trim());
    let contexts = [
        (RealPipeline::Image, RealContext::image(&ImageInputs::default(), 1)?, o.image_samples),
        (RealPipeline::Text, RealContext::text(&TextInputs::default(), 1)?, o.text_samples),
    ];

    println!("\n## Profiles (one thread)\n");
    for (pipeline, ctx, _) in &contexts {
        let samples = match pipeline {
            RealPipeline::Image => o.image_profile_samples,
            RealPipeline::Text => o.text_profile_samples,
        };
        for (label, order) in orders(*pipeline) {
            let config = ProfileConfig {
                samples,
                warmup: (samples / 8).max(8),
                order: Some(order.clone()),
                ..Default::default()
            };
            wait_for_quiet(o.quiet, o.max_wait_s);
            let (prof, others) = others_share(|| profile(ctx, &config));
            let prof = prof?;
            let suffix = if order == pipeline.default_order() { "" } else { "_reordered" };
            let path = o.out.join(format!("real_{}{suffix}_ops.tsv", pipeline.name()));
            let runs = prof.write(&path)?;
            println!(
                "### {} — {label} ({} samples after {} warm-up, {}; wrote {} and {})\n",
                pipeline.name(),
                prof.samples,
                prof.warmup,
                prof.clock.describe(),
                path.display(),
                runs.display()
            );
            println!("| operator | latency ms | wall ms | in bytes | out bytes |");
            println!("| --- | ---: | ---: | ---: | ---: |");
            for p in &prof.ops {
                println!(
                    "| {} | {:.4} | {:.4} | {:.0} | {:.0} |",
                    p.op.name(),
                    p.latency_ns * 1e-6,
                    p.wall_ns * 1e-6,
                    p.in_bytes,
                    p.out_bytes
                );
            }
            let total: f64 = prof.ops.iter().map(|p| p.latency_ns).sum();
            println!(
                "\nsum of latencies {:.3} ms = {:.1} samples/s; measured one-thread baseline {:.1} samples/s; other processes' CPU share during the profile {}\n",
                total * 1e-6,
                1e9 / total,
                prof.baseline_throughput_sps,
                others.map_or("?".to_string(), |v| format!("{:.0}%", 100.0 * v))
            );
        }
    }

    let mut rows: Vec<Row> = Vec::new();
    for (pipeline, _, _) in &contexts {
        for (label, order) in orders(*pipeline) {
            for workers in [1, 2] {
                for fused in [true, false] {
                    let plan = if fused {
                        RealPlan::fused(&order, workers, 1, 1)
                    } else {
                        RealPlan::unfused(&order, workers, 1, 1)
                    };
                    rows.push(Row {
                        pipeline: pipeline.name(),
                        order: label,
                        workers,
                        fused,
                        threads: plan.threads(),
                        runs: Vec::new(),
                        busy: Vec::new(),
                        consumer: Vec::new(),
                        others: Vec::new(),
                    });
                }
            }
        }
    }
    for rep in 0..o.repeats {
        eprintln!("repeat {}/{}", rep + 1, o.repeats);
        for row in rows.iter_mut() {
            let (pipeline, ctx, samples) = contexts
                .iter()
                .find(|(p, _, _)| p.name() == row.pipeline)
                .map(|(p, c, s)| (*p, c, *s))
                .ok_or_else(|| datapipe::real::RealError::UnknownPipeline(row.pipeline.into()))?;
            let order = orders(pipeline)
                .into_iter()
                .find(|(l, _)| *l == row.order)
                .map(|(_, o)| o)
                .unwrap_or_else(|| pipeline.default_order());
            let plan = if row.fused {
                RealPlan::fused(&order, row.workers, samples, 1)
            } else {
                RealPlan::unfused(&order, row.workers, samples, 1)
            };
            wait_for_quiet(o.quiet, o.max_wait_s);
            let (report, others) = others_share(|| run_plan(&plan, ctx));
            let report = report?;
            row.runs.push(report.throughput_sps);
            row.busy.push(report.stages.iter().map(|s| s.busy_frac).fold(0.0, f64::max));
            row.consumer.push(report.consumer_busy_s / report.wall_s);
            row.others.push(others);
        }
    }

    println!("\n## Real runs ({} repeats, interleaved)\n", o.repeats);
    println!(
        "| pipeline | order | workers/stage | plan | threads | best samples/s | spread | runs | max stage busy | consumer busy | others' CPU share |"
    );
    println!("| --- | --- | ---: | --- | ---: | ---: | ---: | --- | ---: | ---: | --- |");
    for r in &rows {
        let best = r.runs.iter().copied().fold(0.0, f64::max);
        let worst = r.runs.iter().copied().fold(f64::INFINITY, f64::min);
        let runs: Vec<String> = r.runs.iter().map(|v| format!("{v:.1}")).collect();
        let at_best = r.runs.iter().position(|v| *v == best).unwrap_or(0);
        let best_busy = r.busy.get(at_best).copied().unwrap_or(0.0);
        let best_consumer = r.consumer.get(at_best).copied().unwrap_or(0.0);
        println!(
            "| {} | {} | {} | {} | {} | {:.1} | {:.1}% | {} | {:.2} | {:.2} | {} |",
            r.pipeline,
            r.order,
            r.workers,
            if r.fused { "fused" } else { "unfused" },
            r.threads,
            best,
            100.0 * (best - worst) / best.max(1e-9),
            runs.join(" / "),
            best_busy,
            best_consumer,
            r.others
                .iter()
                .map(|s| s.map_or("?".to_string(), |v| format!("{:.0}%", 100.0 * v)))
                .collect::<Vec<_>>()
                .join(" / ")
        );
    }
    Ok(())
}
