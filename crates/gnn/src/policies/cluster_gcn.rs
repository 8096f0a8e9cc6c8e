//! `cluster-gcn` (Chiang et al., KDD'19): the graph is split into parts (METIS,
//! [`crate::partition`]); each epoch the parts are shuffled and every `q` consecutive parts
//! form a batch whose roots are their training nodes and whose computation graph is the whole
//! subgraph those parts induce, every node and every edge among them, with no sampling
//! ([`crate::sampling::BatchSampler::induced`]). Batch sizes vary with the parts; groups
//! without training nodes are skipped.

use simcore::StreamRng;

use super::Batch;

/// Cluster-GCN batches: `part[v]` is node `v`'s part; `q` parts per batch.
pub fn cluster_gcn(train: &[u32], part: &[u32], q: usize, rng: &mut StreamRng) -> Vec<Batch> {
    let parts = part.iter().copied().max().map_or(0, |p| p as usize + 1);
    let mut members: Vec<Vec<u32>> = vec![Vec::new(); parts];
    for &v in train {
        members[part[v as usize] as usize].push(v);
    }
    let mut order: Vec<u32> = (0..parts as u32).collect();
    rng.shuffle(&mut order);
    order
        .chunks(q.max(1))
        .map(|group| Batch {
            roots: group.iter().flat_map(|&p| members[p as usize].iter().copied()).collect(),
            parts: group.to_vec(),
        })
        .filter(|batch| !batch.roots.is_empty())
        .collect()
}
