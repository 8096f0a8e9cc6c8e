//! Labels and features for a generated graph, so that training runs where the L2 matters:
//! the contextual stochastic block model (Deshpande, Sen, Montanari, Mossel, NeurIPS 2018)
//! with many communities per class. Each planted community gets a class drawn uniformly from
//! `classes` (seeded); each class `k` a mean vector `m_k` with entries
//! `N(0, 2 signal^2 / d)`; node `v` of class `k` the features `x_v = m_k + e_v`, `e_v` with
//! entries `N(0, 1)`. Two class means are then about `2 signal` apart, in units of the noise's
//! standard deviation along the line joining them: telling two classes apart from the features
//! alone errs with probability about `Phi(-signal)` (16% at the default 1), whatever `d`. Labels follow the communities,
//! so neighbours mostly share a class (homophily, as in the citation graphs) and a batch drawn
//! from few communities sees few classes: the bias COMM-RAND's alpha trades against speed.
//!
//! The split follows Planetoid's sizes where the graph allows: the training roots the run
//! already uses, then 500 validation and 1,000 test nodes from the rest (in the shuffled id
//! order, i.e. uniformly).

use simcore::RandomStreams;

use crate::graph::Graph;
use crate::planetoid::{Dataset, Features, Split};

/// Validation and test nodes, as in Planetoid's standard split.
const VAL: u32 = 500;
const TEST: u32 = 1000;
/// Nodes a trainable generated graph must leave out of training.
pub const HELD_OUT: u32 = VAL + TEST;

/// A labelled data set on `graph` whose planted communities are `community`; nodes `train`
/// are the training roots (the first ids), `dim` features per node.
pub fn labelled(
    graph: &Graph,
    community: &[u32],
    train: &[u32],
    classes: u32,
    dim: u32,
    signal: f64,
    seed: u64,
) -> Dataset {
    let streams = RandomStreams::new(seed);
    let mut rng = streams.stream("synthetic labels");
    let communities = community.iter().copied().max().map_or(0, |c| c as usize + 1);
    let classes = classes.max(1);
    let class_of: Vec<u32> =
        (0..communities).map(|_| rng.below(u64::from(classes)) as u32).collect();
    let scale = signal * (2.0 / f64::from(dim.max(1))).sqrt();
    let means: Vec<Vec<f64>> =
        (0..classes).map(|_| (0..dim).map(|_| rng.normal() * scale).collect()).collect();
    let mut noise = streams.stream("synthetic features");
    let labels: Vec<i32> = community.iter().map(|&c| class_of[c as usize] as i32).collect();
    let rows = labels
        .iter()
        .map(|&y| {
            let m = &means[y as usize];
            (0..dim).map(|j| (j, (m[j as usize] + noise.normal()) as f32)).collect()
        })
        .collect();
    let n = graph.nodes();
    let first = train.iter().copied().max().map_or(0, |t| t + 1);
    let val_end = (first + VAL).min(n);
    let test_end = (val_end + TEST).min(n);
    Dataset {
        name: "a generated graph".into(),
        graph: graph.clone(),
        labels,
        classes,
        features: Some(Features { dim, rows }),
        split: Split {
            train: train.to_vec(),
            val: (first..val_end).collect(),
            test: (val_end..test_end).collect(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::GraphSpec;

    #[test]
    fn labels_follow_communities_and_features_carry_the_class() {
        let g = GraphSpec::Sbm { nodes: 3000, communities: 30, stubs: 4.0, mu: 0.1 }
            .generate(1)
            .unwrap();
        let train: Vec<u32> = (0..300).collect();
        let d = labelled(&g.graph, &g.community, &train, 5, 64, 2.0, 7);
        assert_eq!((d.split.val.len(), d.split.test.len()), (500, 1000));
        assert_eq!(d.split.val[0], 300);
        // One class per community.
        for v in 0..3000 {
            let first = (g.community[v] * 100) as usize;
            assert_eq!(d.labels[v], d.labels[first]);
        }
        // Nearest class mean (estimated from the training nodes) beats chance by far.
        let f = d.features.as_ref().unwrap();
        let mut mean = vec![vec![0f64; 64]; 5];
        let mut count = [0f64; 5];
        // Class means from every tenth node (the split's roots cover only three communities).
        for v in (0..3000u32).step_by(10) {
            let y = d.labels[v as usize] as usize;
            count[y] += 1.0;
            for &(j, x) in &f.rows[v as usize] {
                mean[y][j as usize] += f64::from(x);
            }
        }
        let right = (0..3000)
            .filter(|v| v % 10 != 0)
            .filter(|&v| {
                let best = (0..5)
                    .filter(|&k| count[k] > 0.0)
                    .min_by(|&a, &b| {
                        let dist = |k: usize| {
                            f.rows[v]
                                .iter()
                                .map(|&(j, x)| {
                                    (f64::from(x) - mean[k][j as usize] / count[k]).powi(2)
                                })
                                .sum::<f64>()
                        };
                        dist(a).total_cmp(&dist(b))
                    })
                    .unwrap();
                best as i32 == d.labels[v]
            })
            .count();
        // Signal 2: two classes confused with probability about Phi(-2) = 2.3%.
        assert!(right as f64 / 2700.0 > 0.85, "{right}");
        assert_eq!(d, labelled(&g.graph, &g.community, &train, 5, 64, 2.0, 7), "seeded");
    }
}
