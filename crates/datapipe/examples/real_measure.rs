//! Measures the real pipelines on this machine for `docs/datapipe-real.md`: profiles both
//! pipelines (written in cedar's format under `results/datapipe/`), then runs every plan of
//! the validation matrix — parallelism 1 and 2, two legal operator orders, fused and
//! unfused — several times, interleaved so that background load spreads over all plans, and
//! prints the best throughput and the spread as a Markdown table.
//!
//! ```text
//! cargo run --release -p datapipe --example real_measure -- [--repeats 3]
//!     [--image-samples 200] [--text-samples 20000] [--image-profile-samples 100]
//!     [--text-profile-samples 5000] [--out results/datapipe]
//! ```

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
    out: PathBuf,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        repeats: 3,
        image_samples: 200,
        text_samples: 20000,
        image_profile_samples: 100,
        text_profile_samples: 5000,
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
            "--out" => o.out = PathBuf::from(value),
            _ => {
                return Err(format!(
                    "unknown flag {flag}; flags: --repeats --image-samples --text-samples \
                     --image-profile-samples --text-profile-samples --out"
                ));
            }
        }
    }
    Ok(o)
}

/// The 1-minute load average (Linux), or `?`.
fn load_1min() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(String::from))
        .unwrap_or_else(|| "?".into())
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
    loads: Vec<String>,
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
            let prof = profile(ctx, &config)?;
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
                "\nsum of latencies {:.3} ms = {:.1} samples/s; measured one-thread baseline {:.1} samples/s\n",
                total * 1e-6,
                1e9 / total,
                prof.baseline_throughput_sps
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
                        loads: Vec::new(),
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
            let report = run_plan(&plan, ctx)?;
            row.runs.push(report.throughput_sps);
            row.busy.push(report.stages.iter().map(|s| s.busy_frac).fold(0.0, f64::max));
            row.consumer.push(report.consumer_busy_s / report.wall_s);
            row.loads.push(load_1min());
        }
    }

    println!("\n## Real runs ({} repeats, interleaved)\n", o.repeats);
    println!(
        "| pipeline | order | workers/stage | plan | threads | best samples/s | spread | runs | max stage busy | consumer busy | load (1 min) |"
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
            r.loads.join(" / ")
        );
    }
    Ok(())
}
