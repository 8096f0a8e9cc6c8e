//! GNN simulator speed (the goals): one simulated epoch of random and community
//! batches on a 1-million-node generated graph (aim: under 10 s each), and community
//! detection (Louvain) and METIS partitioning of that graph.

use cluster::Cluster;
use criterion::{Criterion, criterion_group, criterion_main};
use gnn::communities::{contiguous_order, louvain};
use gnn::epoch::{EpochModel, simulate_epoch};
use gnn::generate::GraphSpec;
use gnn::partition::metis_kway;
use gnn::policies::SystemSpec;
use gnn::sampling::SampleIn;
use simcore::RandomStreams;

/// The headline's large graph: LFR-like, 1M nodes, degrees 5..200, communities 500..5,000.
fn graph() -> GraphSpec {
    GraphSpec::Lfr {
        nodes: 1_000_000,
        gamma: 2.5,
        beta: 1.5,
        degree: [5, 200],
        community_size: [500, 5000],
        mu: 0.1,
    }
}

fn bench(c: &mut Criterion) {
    let g = graph().generate(1).unwrap();
    let perm = contiguous_order(&g.community);
    let relabelled = g.graph.relabel(&perm);
    let mut community = vec![0u32; perm.len()];
    for (v, &p) in perm.iter().enumerate() {
        community[p as usize] = g.community[v];
    }
    // 10% of the nodes are roots, spread over the graph.
    let train: Vec<u32> = (0..1_000_000).step_by(10).collect();
    let model = EpochModel {
        features: 128,
        hidden: 128,
        classes: 47,
        fanouts: vec![15, 10],
        feature_bytes: 4,
        line_bytes: 128,
        l2_speedup: 3.0,
    };
    let cluster = Cluster::preset("dgx-a100", 1).unwrap();
    let mut group = c.benchmark_group("gnn");
    group.sample_size(10);
    for (name, policy) in [
        ("random", SystemSpec::Random),
        ("comm_rand_0", SystemSpec::CommRand { alpha: 0.0, bias: 0.0 }),
    ] {
        group.bench_function(format!("epoch_{name}_1m_nodes"), |b| {
            b.iter(|| {
                let mut rng = RandomStreams::new(1).stream("epoch");
                let batches = policy.epoch(&train, &community, 1024, &mut rng).unwrap();
                let within = SampleIn::Anywhere;
                simulate_epoch(&relabelled, &batches, &model, within, &cluster, &mut rng)
                    .unwrap()
                    .epoch_time_s
            })
        });
    }
    group.bench_function("louvain_1m_nodes", |b| b.iter(|| louvain(&g.graph, 1).len()));
    group.bench_function("metis_1500_parts_1m_nodes", |b| {
        b.iter(|| metis_kway(&g.graph, 1500, "parts").unwrap().len())
    });
    group.bench_function("generate_1m_nodes", |b| {
        b.iter(|| graph().generate(1).unwrap().graph.edges())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
