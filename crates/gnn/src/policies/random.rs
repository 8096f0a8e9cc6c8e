//! `random` (PyG's and DGL's default): each epoch, shuffle the training nodes and cut them
//! into batches of `b` roots.

use simcore::StreamRng;

/// Random batches of `b` roots.
pub fn random(train: &[u32], b: usize, rng: &mut StreamRng) -> Vec<Vec<u32>> {
    let mut roots = train.to_vec();
    rng.shuffle(&mut roots);
    roots.chunks(b.max(1)).map(<[u32]>::to_vec).collect()
}
