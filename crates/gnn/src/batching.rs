//! Mini-batch policies: which training nodes are the roots of each batch of an epoch.
//!
//! - `random` (PyG's and DGL's default): shuffle the training nodes, cut into batches of `b`.
//! - `cluster-gcn` (Chiang et al., KDD'19): the graph is split into parts; each epoch the parts
//!   are shuffled and every `q` consecutive parts form a batch, whose roots are their training
//!   nodes (batch sizes vary with the parts).
//! - `comm-rand` (Balaji et al., arXiv 2504.18082; interpretation of the abstract, see
//!   docs/models/gnn.md): nodes are grouped by community; each epoch the communities are
//!   shuffled and the training nodes inside each, giving a community-sequential stream; each
//!   batch takes `round((1 - alpha) b)` roots from the stream in order and the rest uniformly
//!   from the training nodes not yet used this epoch. `alpha = 1` is random batching,
//!   `alpha = 0` community-sequential.
//!
//! Under every policy each training node is a root exactly once per epoch (a property test).

use simcore::StreamRng;

use crate::error::GnnError;

/// Random batches of `b` roots.
pub fn random(train: &[u32], b: usize, rng: &mut StreamRng) -> Vec<Vec<u32>> {
    let mut roots = train.to_vec();
    rng.shuffle(&mut roots);
    roots.chunks(b.max(1)).map(<[u32]>::to_vec).collect()
}

/// Cluster-GCN batches: `part[v]` is node `v`'s part; `q` parts per batch.
pub fn cluster_gcn(train: &[u32], part: &[u32], q: usize, rng: &mut StreamRng) -> Vec<Vec<u32>> {
    let parts = part.iter().copied().max().map_or(0, |p| p as usize + 1);
    let mut members: Vec<Vec<u32>> = vec![Vec::new(); parts];
    for &v in train {
        members[part[v as usize] as usize].push(v);
    }
    let mut order: Vec<usize> = (0..parts).collect();
    rng.shuffle(&mut order);
    order
        .chunks(q.max(1))
        .map(|group| group.iter().flat_map(|&p| members[p].iter().copied()).collect::<Vec<u32>>())
        .filter(|batch| !batch.is_empty())
        .collect()
}

/// COMM-RAND batches of `b` roots with randomness `alpha`; `community[v]` is node `v`'s.
pub fn comm_rand(
    train: &[u32],
    community: &[u32],
    b: usize,
    alpha: f64,
    rng: &mut StreamRng,
) -> Result<Vec<Vec<u32>>, GnnError> {
    if !(0.0..=1.0).contains(&alpha) {
        return Err(GnnError::Invalid {
            field: "params.alpha".into(),
            message: format!("{alpha} is not in [0, 1] (0 = community-sequential, 1 = random)"),
        });
    }
    let b = b.max(1);
    let k = community.iter().copied().max().map_or(0, |c| c as usize + 1);
    let mut groups: Vec<Vec<u32>> = vec![Vec::new(); k];
    for &v in train {
        groups[community[v as usize] as usize].push(v);
    }
    let mut order: Vec<usize> = (0..k).collect();
    rng.shuffle(&mut order);
    let mut stream: Vec<u32> = Vec::with_capacity(train.len());
    for &c in &order {
        let mut g = std::mem::take(&mut groups[c]);
        rng.shuffle(&mut g);
        stream.extend(g);
    }
    // The pool of unused roots, with each root's position for O(1) removal.
    let n = stream.len();
    let mut pool: Vec<u32> = stream.clone();
    let mut pos: std::collections::HashMap<u32, usize> =
        pool.iter().enumerate().map(|(i, &v)| (v, i)).collect();
    let take = |v: u32, pool: &mut Vec<u32>, pos: &mut std::collections::HashMap<u32, usize>| {
        let i = pos.remove(&v).unwrap_or(0);
        let last = pool.pop().unwrap_or(v);
        if last != v {
            pool[i] = last;
            pos.insert(last, i);
        }
    };
    let mut cursor = 0usize;
    let mut batches = Vec::with_capacity(n.div_ceil(b));
    while !pool.is_empty() {
        let size = b.min(pool.len());
        let sequential = ((1.0 - alpha) * size as f64).round() as usize;
        let mut batch = Vec::with_capacity(size);
        while batch.len() < sequential && cursor < n {
            let v = stream[cursor];
            cursor += 1;
            if pos.contains_key(&v) {
                take(v, &mut pool, &mut pos);
                batch.push(v);
            }
        }
        while batch.len() < size && !pool.is_empty() {
            let v = pool[rng.below(pool.len() as u64) as usize];
            take(v, &mut pool, &mut pos);
            batch.push(v);
        }
        batches.push(batch);
    }
    Ok(batches)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use simcore::RandomStreams;

    proptest! {
        #[test]
        fn every_training_node_is_a_root_once_per_epoch(
            n in 1u32..400, b in 1usize..64, alpha in 0.0f64..=1.0, k in 1u32..20, q in 1usize..5, seed in 0u64..100,
        ) {
            let train: Vec<u32> = (0..n).filter(|v| v % 3 != 1).collect();
            let community: Vec<u32> = (0..n).map(|v| (v * 7 + 3) % k).collect();
            let mut rng = RandomStreams::new(seed).stream("batches");
            let mut all = [
                random(&train, b, &mut rng),
                cluster_gcn(&train, &community, q, &mut rng),
                comm_rand(&train, &community, b, alpha, &mut rng).unwrap(),
            ];
            for (i, batches) in all.iter_mut().enumerate() {
                if i != 1 {
                    prop_assert!(batches.iter().all(|x| x.len() <= b));
                }
                let mut roots: Vec<u32> = batches.concat();
                roots.sort_unstable();
                prop_assert_eq!(&roots, &train);
            }
        }
    }

    #[test]
    fn alpha_zero_stays_inside_communities() {
        // 10 communities of 50 training nodes, batches of 25: each batch is one community's half.
        let community: Vec<u32> = (0..500).map(|v| v / 50).collect();
        let train: Vec<u32> = (0..500).collect();
        let mut rng = RandomStreams::new(1).stream("b");
        let batches = comm_rand(&train, &community, 25, 0.0, &mut rng).unwrap();
        for batch in &batches {
            let c = community[batch[0] as usize];
            assert!(batch.iter().all(|&v| community[v as usize] == c));
        }
        let e = comm_rand(&train, &community, 25, 1.5, &mut rng).unwrap_err().to_string();
        assert!(e.starts_with("params.alpha"), "{e}");
    }

    #[test]
    fn alpha_one_batches_look_random() {
        // Distinct communities per batch of 20 from 20 communities of 100: random batches hit
        // about 20 * (1 - (1 - 1/20)^20) = 12.8 communities; community-sequential ones 1.
        let community: Vec<u32> = (0..2000).map(|v| v / 100).collect();
        let train: Vec<u32> = (0..2000).collect();
        let distinct = |alpha: f64, seed: u64| {
            let mut rng = RandomStreams::new(seed).stream("b");
            let batches = comm_rand(&train, &community, 20, alpha, &mut rng).unwrap();
            let total: usize = batches
                .iter()
                .map(|b| {
                    let mut c: Vec<u32> = b.iter().map(|&v| community[v as usize]).collect();
                    c.sort_unstable();
                    c.dedup();
                    c.len()
                })
                .sum();
            total as f64 / batches.len() as f64
        };
        let (r, s) = (distinct(1.0, 4), distinct(0.0, 4));
        assert!((r - 12.83).abs() < 0.4, "{r}");
        assert!(s < 1.2, "{s}");
        let mut rng = RandomStreams::new(4).stream("b");
        let plain = random(&train, 20, &mut rng);
        let plain_distinct: f64 = plain
            .iter()
            .map(|b| {
                let mut c: Vec<u32> = b.iter().map(|&v| community[v as usize]).collect();
                c.sort_unstable();
                c.dedup();
                c.len() as f64
            })
            .sum::<f64>()
            / plain.len() as f64;
        assert!((plain_distinct - r).abs() < 0.4, "{plain_distinct} vs {r}");
    }
}
