//! Cost of planning and costing collectives, and of max-min fair rate computation.

use cluster::{Algorithm, Cluster, CollectiveKind, FlowNetwork};
use criterion::{Criterion, criterion_group, criterion_main};
use simcore::SimTime;

fn plan_and_cost(c: &mut Criterion) {
    let mut group = c.benchmark_group("collective_cost");
    for nodes in [1u32, 16, 128] {
        let cluster = Cluster::preset("dgx-h100", nodes).unwrap();
        let gpus = cluster.gpus();
        let mut net = cluster.network();
        group.bench_function(format!("ring_all_reduce/{}gpus", gpus.len()), |b| {
            b.iter(|| {
                net.collective(CollectiveKind::AllReduce, Algorithm::Ring, &gpus, 1e9)
                    .unwrap()
                    .1
                    .time
            })
        });
    }
    group.finish();
}

fn max_min(c: &mut Criterion) {
    // A 1,024-GPU ring all-reduce's flows on the topology: one rate computation.
    let cluster = Cluster::preset("dgx-h100", 128).unwrap();
    let gpus = cluster.gpus();
    let mut net = cluster.network();
    let (plan, _) = net.collective(CollectiveKind::AllReduce, Algorithm::Ring, &gpus, 1e9).unwrap();
    let mut routes = Vec::new();
    for t in &plan.phases[0].transfers {
        let topo = cluster.topology();
        let (a, b) = (topo.gpu_vertex(t.src).unwrap(), topo.gpu_vertex(t.dst).unwrap());
        routes.push(net.router().route(a, b).unwrap().links.clone());
    }
    c.bench_function(format!("max_min_fair/{}flows", routes.len()).as_str(), |b| {
        b.iter(|| {
            let mut flows = FlowNetwork::new(cluster.topology());
            for (i, r) in routes.iter().enumerate() {
                flows.add(SimTime::ZERO, r, 1e6, i as u64);
            }
            flows.next_completion()
        })
    });
}

fn all_to_all_to_completion(c: &mut Criterion) {
    // Every flow of a 256-GPU all-to-all (65,280 flows) from start to the last completion:
    // one full rate computation, then the rate updates of 42 batches of completions.
    let cluster = Cluster::preset("dgx-h100", 32).unwrap();
    let gpus = cluster.gpus();
    let mut net = cluster.network();
    let (plan, _) = net
        .collective(CollectiveKind::AllToAll, Algorithm::Direct, &gpus, 64.0 * 1048576.0)
        .unwrap();
    let topo = cluster.topology();
    let routes: Vec<_> = plan.phases[0]
        .transfers
        .iter()
        .map(|t| {
            let (a, b) = (topo.gpu_vertex(t.src).unwrap(), topo.gpu_vertex(t.dst).unwrap());
            (net.router().route(a, b).unwrap().links.clone(), t.bytes)
        })
        .collect();
    let mut group = c.benchmark_group("flow_network");
    group.sample_size(10);
    group.bench_function(format!("all_to_all_to_completion/{}flows", routes.len()), |b| {
        b.iter(|| {
            let mut flows = FlowNetwork::new(topo);
            for (i, (r, bytes)) in routes.iter().enumerate() {
                flows.add(SimTime::ZERO, r, *bytes, i as u64);
            }
            let mut done = Vec::new();
            while let Some(t) = flows.next_completion() {
                flows.take_completed(t, &mut done);
            }
            done.len()
        })
    });
    group.finish();
}

criterion_group!(benches, plan_and_cost, max_min, all_to_all_to_completion);
criterion_main!(benches);
