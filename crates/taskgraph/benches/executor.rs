//! Executor throughput on a 1,024-GPU DAG of about one million ops (ops/s), in both network
//! modes. The DAG is a data-parallel training step, repeated: on each GPU a chain of layer
//! kernels (forward then backward), each backward layer's gradients all-reduced in a bucket
//! across all GPUs of the same local rank (one collective per layer and rail), and a
//! point-to-point halo exchange with the neighbouring GPU per layer.

use cluster::{Algorithm, Cluster, CollectiveKind, Dtype, GpuId};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use taskgraph::{ExecConfig, NetworkMode, OpId, TaskGraph, TaskGraphBuilder, execute};

/// `gpus` GPUs, `layers` layers, `steps` training steps: about
/// `steps * layers * (2 * gpus + gpus + gpus / 8)` ops.
pub fn training_dag(gpus: u32, layers: u32, steps: u32) -> TaskGraph {
    let per_node = 8;
    let mut b = TaskGraphBuilder::with_capacity((steps * layers * gpus * 4) as usize, 0);
    let mut last: Vec<Option<OpId>> = vec![None; gpus as usize];
    for _ in 0..steps {
        for layer in 0..layers {
            for g in 0..gpus {
                let op = b.compute("fwd", GpuId(g), 4e10, 2e8, Dtype::Bf16);
                if let Some(prev) = last[g as usize] {
                    b.depend(prev, op);
                }
                last[g as usize] = Some(op);
            }
            let _ = layer;
        }
        for _ in 0..layers {
            let mut bwd = Vec::with_capacity(gpus as usize);
            for g in 0..gpus {
                let op = b.compute("bwd", GpuId(g), 8e10, 4e8, Dtype::Bf16);
                if let Some(prev) = last[g as usize] {
                    b.depend(prev, op);
                }
                last[g as usize] = Some(op);
                bwd.push(op);
            }
            for g in 0..gpus {
                let peer = GpuId(g ^ 1);
                let send = b.send("halo", GpuId(g), peer, 4e6);
                b.depend(bwd[g as usize], send);
            }
            for rail in 0..per_node {
                let members: Vec<GpuId> =
                    (0..gpus / per_node).map(|n| GpuId(n * per_node + rail)).collect();
                let ar = b.collective(
                    "grad bucket",
                    CollectiveKind::AllReduce,
                    Algorithm::Ring,
                    &members,
                    25e6,
                );
                for m in &members {
                    b.depend(bwd[m.0 as usize], ar);
                }
            }
        }
    }
    b.build().unwrap()
}

fn executor(c: &mut Criterion) {
    let cluster = Cluster::preset("dgx-h100", 128).unwrap();
    let mut group = c.benchmark_group("taskgraph");
    group.sample_size(10);
    let graph = training_dag(1024, 32, 10);
    group.throughput(Throughput::Elements(graph.len() as u64));
    group.bench_function(format!("analytic/{}ops", graph.len()), |b| {
        b.iter(|| execute(&graph, &cluster, &ExecConfig::default()).unwrap().makespan())
    });
    group.bench_function(format!("contention-free/{}ops", graph.len()), |b| {
        let cfg = ExecConfig { network: NetworkMode::ContentionFree, ..ExecConfig::default() };
        b.iter(|| execute(&graph, &cluster, &cfg).unwrap().makespan())
    });
    let small = graph.clone();
    group.throughput(Throughput::Elements(small.len() as u64));
    group.bench_function(format!("flow/{}ops", small.len()), |b| {
        let cfg = ExecConfig { network: NetworkMode::Flow, ..ExecConfig::default() };
        b.iter(|| execute(&small, &cluster, &cfg).unwrap().makespan())
    });
    group.finish();
}

criterion_group!(benches, executor);
criterion_main!(benches);
