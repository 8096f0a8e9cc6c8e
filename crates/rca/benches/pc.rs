//! PC-stable speed (issue goal: 200 metrics x 1,440 samples in under 10 s on a 2-core
//! machine), on two kinds of data:
//!
//! - `sparse-sem`: a sparse linear-Gaussian SEM over 200 metrics, each metric with 1 or 2
//!   parents among the earlier ones (about 300 edges, weights ±U[0.5, 1]), like the metric
//!   graph of a microservice system;
//! - `circa`: the normal period (1,440 points) of a CIRCA case with 200 metrics and 400
//!   edges, whose sums over all paths make many more metrics correlated.
//!
//! Each reports the whole search: correlation matrix, skeleton, v-structures and Meek.

use criterion::{Criterion, criterion_group, criterion_main};
use rca::DataMatrix;
use rca::circa::CircaSpec;
use rca::fisher_z::FisherZ;
use rca::pc::{PcOptions, pc};
use simcore::RandomStreams;

const METRICS: usize = 200;
const SAMPLES: usize = 1440;

fn sparse_sem(seed: u64) -> DataMatrix {
    let mut rng = RandomStreams::new(seed).stream("bench/sparse-sem");
    let mut parents: Vec<Vec<(usize, f64)>> = vec![Vec::new(); METRICS];
    for (j, ps) in parents.iter_mut().enumerate().skip(1) {
        let k = (1 + rng.below(2) as usize).min(j);
        for _ in 0..k {
            let p = rng.below(j as u64) as usize;
            if ps.iter().all(|&(q, _)| q != p) {
                let w = 0.5 + 0.5 * rng.next_f64();
                ps.push((p, if rng.next_f64() < 0.5 { -w } else { w }));
            }
        }
    }
    let rows: Vec<Vec<f64>> = (0..SAMPLES)
        .map(|_| {
            let mut row = vec![0.0; METRICS];
            for (j, ps) in parents.iter().enumerate() {
                row[j] = rng.normal() + ps.iter().map(|&(p, w)| w * row[p]).sum::<f64>();
            }
            row
        })
        .collect();
    DataMatrix::from_rows(&rows).unwrap()
}

fn circa(seed: u64) -> DataMatrix {
    let spec = CircaSpec { nodes: METRICS, edges: 2 * METRICS, ..CircaSpec::default() };
    let streams = RandomStreams::new(seed);
    let case = spec.generate_model(&streams).unwrap().generate_case(&streams, 0).unwrap();
    case.data.rows(case.normal.clone()).unwrap()
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("pc");
    group.sample_size(10);
    for (name, data) in [("sparse-sem-200x1440", sparse_sem(1)), ("circa-200x1440", circa(1))] {
        // Print the search's size once, for the record.
        let r = pc(&mut FisherZ::new(&data).unwrap(), &PcOptions::default()).unwrap();
        eprintln!(
            "{name}: {} edges ({} undirected), {} tests, max level {}",
            r.graph.n_edges(),
            r.graph.n_undirected(),
            r.tests,
            r.max_level
        );
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut test = FisherZ::new(&data).unwrap();
                pc(&mut test, &PcOptions::default()).unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
