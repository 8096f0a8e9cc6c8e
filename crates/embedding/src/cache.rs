//! The hit rate of an LRU row cache in HBM in front of a table in host memory (TorchRec's
//! `fused_uvm_caching`), by Che's approximation (Che, Tung and Wang, "Hierarchical Web caching
//! systems: modeling, design and experimental results", IEEE JSAC 20(7), 2002): under
//! independent references with row probabilities `p_i`, an LRU cache of `k` rows keeps a row
//! that was referenced within its characteristic time `T`, where `sum_i (1 - e^{-p_i T}) = k`;
//! the hit rate is `sum_i p_i (1 - e^{-p_i T})`. The left side is the expected number of
//! distinct rows among `T` references ([`Popularity::expected_unique`]) and the miss rate is
//! its derivative in `T`. A test checks the approximation against an LRU simulation.

use crate::access::Popularity;

/// LRU hit rate of a cache of `cache_rows` rows over a table with popularity `pop`.
pub fn lru_hit_rate(pop: &Popularity, cache_rows: f64) -> f64 {
    let u = pop.used as f64;
    if cache_rows >= u {
        return 1.0;
    }
    if cache_rows <= 0.0 {
        return 0.0;
    }
    // Characteristic time: expected_unique(T) = k, by bisection on log T.
    let mut hi = (cache_rows * 1e6).max(u * 1e3);
    // Widen until the cache fills (very skewed tables need very long characteristic times).
    for _ in 0..64 {
        if pop.expected_unique(hi) >= cache_rows {
            break;
        }
        hi *= 1e3;
    }
    let (mut lo, mut hi) = (cache_rows.ln(), hi.ln());
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if pop.expected_unique(mid.exp()) < cache_rows {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let t = (0.5 * (lo + hi)).exp();
    // Miss rate = d/dT expected_unique(T), by a central difference in T.
    let h = t * 1e-4;
    let miss = (pop.expected_unique(t + h) - pop.expected_unique(t - h)) / (2.0 * h);
    (1.0 - miss).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use simcore::RandomStreams;
    use std::collections::{HashMap, VecDeque};

    /// Exact LRU on a sampled stream (a queue with lazy deletion).
    fn simulate(pop: &Popularity, k: usize, n: usize) -> f64 {
        let z = pop.sampler();
        let mut rng = RandomStreams::new(7).stream("lru");
        let mut last: HashMap<u64, usize> = HashMap::new();
        let mut queue: VecDeque<(u64, usize)> = VecDeque::new();
        let mut size = 0usize;
        let mut hits = 0usize;
        for step in 0..n {
            let r = z.sample(&mut rng);
            match last.insert(r, step) {
                Some(_) => hits += usize::from(step >= n / 2),
                None => size += 1,
            }
            queue.push_back((r, step));
            while size > k {
                let (old, at) = queue.pop_front().unwrap();
                if last.get(&old) == Some(&at) {
                    last.remove(&old);
                    size -= 1;
                }
            }
        }
        hits as f64 / (n - n / 2) as f64
    }

    #[test]
    fn che_matches_an_lru_simulation() {
        for (u, alpha, k) in
            [(20_000u64, 1.0, 2_000usize), (50_000, 0.8, 5_000), (10_000, 1.2, 200)]
        {
            let pop = Popularity::new(u, alpha);
            let che = lru_hit_rate(&pop, k as f64);
            let sim = simulate(&pop, k, 400_000);
            assert!(
                (che - sim).abs() < 0.02,
                "U {u} alpha {alpha} k {k}: che {che:.4} sim {sim:.4}"
            );
        }
        let pop = Popularity::new(1000, 1.0);
        assert_eq!(lru_hit_rate(&pop, 1000.0), 1.0);
        assert_eq!(lru_hit_rate(&pop, 0.0), 0.0);
    }
}
