//! `mlsim collective`: a collective timed over message sizes, printed like nccl-tests.

use anyhow::{Context, Result, bail};
use cluster::{Algorithm, Cluster, ClusterSpec, CollectiveKind, CommModelSpec, Dtype, GpuId};
use simcore::SimTime;
use taskgraph::{ExecConfig, TaskGraphBuilder, execute};

use crate::cli::{AlgoArg, CollectiveArgs, CommArg, ModeArg, OpArg};
use crate::sizes::parse_sizes;

use crate::output::out;

fn kind(op: OpArg) -> CollectiveKind {
    match op {
        OpArg::AllReduce => CollectiveKind::AllReduce,
        OpArg::AllGather => CollectiveKind::AllGather,
        OpArg::ReduceScatter => CollectiveKind::ReduceScatter,
        OpArg::AllToAll => CollectiveKind::AllToAll,
        OpArg::Broadcast => CollectiveKind::Broadcast,
    }
}

fn algorithm(a: AlgoArg) -> Algorithm {
    match a {
        AlgoArg::Auto => Algorithm::Auto,
        AlgoArg::Ring => Algorithm::Ring,
        AlgoArg::Tree => Algorithm::Tree,
        AlgoArg::Hierarchical => Algorithm::Hierarchical,
        AlgoArg::Direct => Algorithm::Direct,
        AlgoArg::Nvls => Algorithm::Nvls,
        AlgoArg::Sharp => Algorithm::Sharp,
    }
}

fn dtype(name: &str) -> Result<Dtype> {
    const ALL: [Dtype; 7] =
        [Dtype::Fp64, Dtype::Fp32, Dtype::Tf32, Dtype::Bf16, Dtype::Fp16, Dtype::Fp8, Dtype::Int8];
    ALL.into_iter().find(|d| d.name() == name).with_context(|| {
        let names: Vec<&str> = ALL.iter().map(|d| d.name()).collect();
        format!(
            "unknown --dtype `{name}`{}; valid: {}",
            simcore::names::did_you_mean(name, names.iter().copied()),
            names.join(", ")
        )
    })
}

/// Builds the cluster a `collective` run asks for.
fn build_cluster(args: &CollectiveArgs) -> Result<Cluster> {
    let mut spec = match &args.cluster {
        Some(path) => ClusterSpec::from_file(path)?,
        None => ClusterSpec::preset(&args.preset)?,
    };
    if args.gpus == 0 {
        bail!("--gpus must be at least 1");
    }
    spec.nodes = args.gpus.div_ceil(spec.node.gpus);
    if args.sharp {
        spec.fabric.sharp = true;
    }
    match args.comm {
        Some(CommArg::Nccl) => spec.comm = CommModelSpec::Nccl,
        Some(CommArg::Textbook) => {
            spec.comm = CommModelSpec::Textbook { per_message: SimTime::ZERO }
        }
        None => {}
    }
    Ok(Cluster::new(spec)?)
}

/// Runs the command.
pub fn run(args: &CollectiveArgs) -> Result<()> {
    let kind = kind(args.op);
    let algo = algorithm(args.algo);
    let dtype = dtype(&args.dtype)?;
    let sizes = parse_sizes(&args.sizes, args.factor)?;
    let cluster = build_cluster(args)?;
    let group: Vec<GpuId> = (0..args.gpus).map(GpuId).collect();
    let n = group.len();
    let spec = cluster.spec();
    out!(
        "# mlsim collective: {kind} on {} ({} GPUs: {} node(s) x {} {}), algorithm {}, {} network, {} model",
        spec.name,
        n,
        spec.nodes,
        spec.node.gpus,
        cluster.gpu().name,
        algo,
        match args.mode {
            ModeArg::Analytic => "analytic",
            ModeArg::ContentionFree => "contention-free (upper bound)",
            ModeArg::Flow => "flow-level",
        },
        match spec.comm {
            CommModelSpec::Nccl => "nccl",
            CommModelSpec::Textbook { .. } => "textbook",
        }
    )?;
    out!("#")?;
    out!(
        "# {:>12} {:>12} {:>5} {:>12} {:>6} {:>12} {:>9} {:>9}",
        "size",
        "count",
        "type",
        "algo",
        "proto",
        "time",
        "algbw",
        "busbw"
    )?;
    out!(
        "# {:>12} {:>12} {:>5} {:>12} {:>6} {:>12} {:>9} {:>9}",
        "(B)",
        "(elements)",
        "",
        "",
        "",
        "(us)",
        "(GB/s)",
        "(GB/s)"
    )?;
    let mut net = cluster.network();
    let mut busbw_sum = 0.0;
    for &bytes in &sizes {
        let (plan, cost) = net
            .collective(kind, algo, &group, bytes as f64)
            .with_context(|| format!("{kind} of {bytes} bytes over {n} GPUs"))?;
        let time = match args.mode {
            ModeArg::Analytic | ModeArg::ContentionFree => cost.time,
            ModeArg::Flow => {
                let mut b = TaskGraphBuilder::new();
                b.collective(kind.name(), kind, plan.algorithm, &group, bytes as f64);
                execute(&b.build()?, &cluster, &ExecConfig::flow())?.makespan()
            }
        };
        let secs = time.as_secs_f64();
        let (algbw, busbw) = if secs > 0.0 {
            let alg = bytes as f64 / secs / 1e9;
            (alg, alg * kind.bus_factor(n))
        } else {
            (0.0, 0.0)
        };
        busbw_sum += busbw;
        out!(
            "  {:>12} {:>12} {:>5} {:>12} {:>6} {:>12.2} {:>9.2} {:>9.2}",
            bytes,
            bytes / dtype.size_bytes(),
            dtype.name(),
            plan.algorithm.name(),
            cost.protocol,
            secs * 1e6,
            algbw,
            busbw
        )?;
    }
    out!("# Avg bus bandwidth    : {:.3} GB/s", busbw_sum / sizes.len() as f64)?;
    Ok(())
}
