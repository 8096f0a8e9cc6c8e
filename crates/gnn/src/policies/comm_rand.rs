//! `comm-rand` (Balaji et al., arXiv 2504.18082; an interpretation of the abstract, see
//! docs/models/gnn.md): nodes are grouped by community and relabelled so each community's
//! feature rows are contiguous; each epoch the communities are shuffled and the training nodes
//! inside each, giving a community-sequential stream; each batch takes `round((1 - alpha) b)`
//! roots from the stream in order and the rest uniformly from the training nodes not yet used
//! this epoch. `alpha = 1` is random batching, `alpha = 0` community-sequential. The second
//! knob, `bias`, steers neighbour sampling towards same-community neighbours
//! ([`crate::sampling::Scope::Community`]).

use simcore::StreamRng;

use simcore::InputError;

/// COMM-RAND batches of `b` roots with randomness `alpha`; `community[v]` is node `v`'s.
pub fn comm_rand(
    train: &[u32],
    community: &[u32],
    b: usize,
    alpha: f64,
    rng: &mut StreamRng,
) -> Result<Vec<Vec<u32>>, InputError> {
    if !(0.0..=1.0).contains(&alpha) {
        return Err(InputError::Invalid {
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
