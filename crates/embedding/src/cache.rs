//! FBGEMM's LRU row cache in HBM in front of a table in host memory (TorchRec's
//! `fused_uvm_caching` kernel), under Che's approximation.
//!
//! **Che's approximation** (Che, Tung and Wang, "Hierarchical Web caching systems: modeling,
//! design and experimental results", IEEE JSAC 20(7), 2002): under independent references with
//! row probabilities `p_i`, an LRU cache of `k` rows holds the rows referenced within its
//! characteristic time `T`, where `E_u(T) = sum_i (1 - e^{-p_i T}) = k` (the expected number of
//! distinct rows among `T` references, [`Popularity::expected_unique`]). A reference hits with
//! probability `sum_i p_i (1 - e^{-p_i T})`; the miss rate is the slope `E_u'(T)`. A test checks
//! the hit rate against an exact LRU simulation.
//!
//! **A training batch** (FBGEMM's `prefetch`: `linearize_cache_indices`, unique, then
//! `lru_cache_populate` inserts the rows not in the cache, fetching each once and writing the
//! evicted row back): the cache sees the distinct rows of each batch once, and a row is in the
//! cache when the batch starts with probability `1 - e^{-p_i T}`. The rows a batch of `m`
//! lookups fetches are its distinct rows that were not in the cache:
//!
//! ```text
//! fetches(k, m) = sum_i (1 - e^{-p_i m}) e^{-p_i T}  =  E_u(T + m) - E_u(T)  =  E_u(T + m) - k
//! ```
//!
//! so a row missed by several lookups of one batch is fetched once; for `m` much below `T` it
//! is `m` times the per-reference miss rate. In training every cached row that was looked up is
//! updated by the fused backward, so an evicted row is dirty and written back: in steady state
//! (the cache full) each fetch evicts one dirty row, one write-back per fetch. This is
//! TorchRec's `expected_cache_fetches = expected_miss_rate(clf) x expected_lookups`
//! (`shard_estimators.py`) with `expected_lookups = E_u(m)` (distinct ids per global batch)
//! and the miss-ratio curve computed from the popularity model instead of measured.
//!
//! *Assumption:* a cache smaller than one batch's distinct rows is treated the same way (FBGEMM
//! would serve the rows it cannot insert straight from host memory).
//!
//! A row-wise shard of `1/s` of the rows with `k/s` cache rows and `m/s` lookups sees the same
//! characteristic time (its rows are every `s`-th rank, a thinned copy of the table's
//! popularity), so it fetches `fetches(k, m) / s`: TorchRec divides the fetches by the world
//! size for row-wise and by the local world size for table-row-wise shards in the same way.
//!
//! [`MissCurve`] tabulates fetches and miss rate against the cache size for one table and
//! batch (TorchRec's miss-ratio curve, `EmbeddingOffloadStats`), so planners can price any
//! cache load factor without solving for `T` again; curves are memoised per table shape.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use crate::access::Popularity;

/// Che's characteristic time of an LRU cache of `cache_rows` rows: `E_u(T) = cache_rows`
/// (bisection on `ln T`). `0` for an empty cache, `+inf` when every used row fits.
pub fn characteristic_time(pop: &Popularity, cache_rows: f64) -> f64 {
    let u = pop.used as f64;
    if cache_rows >= u {
        return f64::INFINITY;
    }
    if cache_rows <= 0.0 {
        return 0.0;
    }
    // E_u(T) <= T, so T >= k; widen the top until the cache fills (very skewed tables need
    // very long characteristic times).
    let mut hi = (cache_rows * 1e6).max(u * 1e3);
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
    (0.5 * (lo + hi)).exp()
}

/// LRU hit rate of a single reference to a table with popularity `pop` in front of which
/// sits a cache of `cache_rows` rows.
pub fn lru_hit_rate(pop: &Popularity, cache_rows: f64) -> f64 {
    let t = characteristic_time(pop, cache_rows);
    if t.is_infinite() {
        return 1.0;
    }
    if t <= 0.0 {
        return 0.0;
    }
    (1.0 - pop.unique_and_slope(t).1).clamp(0.0, 1.0)
}

/// Rows a batch of `lookups` lookups fetches into an LRU cache of `cache_rows` rows (each
/// fetched row also evicts, and writes back, one dirty row): `E_u(T + m) - k`.
pub fn lru_fetches(pop: &Popularity, cache_rows: f64, lookups: f64) -> f64 {
    if lookups <= 0.0 {
        return 0.0;
    }
    let t = characteristic_time(pop, cache_rows);
    if t.is_infinite() {
        return 0.0;
    }
    let k = cache_rows.max(0.0);
    let (_, slope) = pop.unique_and_slope(t.max(1e-300));
    // E_u is concave: the difference is at most m E_u'(T) (it reaches it for m << T).
    (pop.expected_unique(t + lookups) - k).clamp(0.0, lookups * slope.max(0.0))
}

/// What a cache of a given size does to one table's batch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CacheState {
    /// Rows fetched from host memory per batch (each also writes one evicted row back).
    pub fetches: f64,
    /// Share of single references that hit (Che).
    pub hit_rate: f64,
}

/// The miss-ratio curve of one table: fetches per batch and hit rate against the cache size,
/// tabulated on a grid of characteristic times (three points per doubling of `T`) and
/// interpolated linearly in the cache size.
#[derive(Clone, Debug, PartialEq)]
pub struct MissCurve {
    /// Rows of the table (its hash size); load factors are shares of these.
    rows: f64,
    /// Used rows.
    used: f64,
    /// Distinct rows per batch, `E_u(m)` (TorchRec's `expected_lookups`).
    unique: f64,
    /// `(cache rows, fetches per batch, per-reference miss rate)`, cache rows increasing,
    /// from `(0, E_u(m), 1)` to `(used, 0, 0)`.
    points: Vec<[f64; 3]>,
}

/// Curves memoised by (used rows, exponent bits, rows, lookups bits): a sweep plans the same
/// tables many times. Pure values, so sharing them across runs and threads changes nothing.
type CurveKey = (u64, u64, u64, u64);

fn memo() -> &'static Mutex<HashMap<CurveKey, Arc<MissCurve>>> {
    static MEMO: OnceLock<Mutex<HashMap<CurveKey, Arc<MissCurve>>>> = OnceLock::new();
    MEMO.get_or_init(|| Mutex::new(HashMap::new()))
}

impl MissCurve {
    /// The curve of a table of `rows` rows with popularity `pop` and `lookups` lookups per
    /// batch.
    pub fn new(pop: &Popularity, rows: u64, lookups: f64) -> MissCurve {
        let used = pop.used as f64;
        let rows = (rows as f64).max(used);
        let m = lookups.max(0.0);
        let unique = pop.expected_unique(m);
        let mut points = vec![[0.0, unique, 1.0]];
        if m > 0.0 {
            let step = 2f64.powf(1.0 / 3.0);
            let mut t = (1e-5 * used).max(1e-6);
            for _ in 0..600 {
                let (k, slope) = pop.unique_and_slope(t);
                let f = (pop.unique_and_slope(t + m).0 - k).clamp(0.0, m * slope);
                if k >= used * (1.0 - 1e-7) || f <= 1e-9 * unique.max(1.0) {
                    break;
                }
                if k > points.last().map_or(0.0, |p| p[0]) {
                    points.push([k, f, slope]);
                }
                t *= step;
            }
        }
        points.push([used, 0.0, 0.0]);
        MissCurve { rows, used, unique, points }
    }

    /// [`MissCurve::new`], memoised.
    pub fn shared(pop: &Popularity, rows: u64, lookups: f64) -> Arc<MissCurve> {
        let key = (pop.used, pop.alpha.to_bits(), rows, lookups.to_bits());
        if let Some(c) = memo().lock().ok().and_then(|m| m.get(&key).cloned()) {
            return c;
        }
        let curve = Arc::new(MissCurve::new(pop, rows, lookups));
        if let Ok(mut m) = memo().lock() {
            if m.len() > 200_000 {
                m.clear();
            }
            m.insert(key, Arc::clone(&curve));
        }
        curve
    }

    /// Distinct rows per batch (TorchRec's `expected_lookups`).
    pub fn unique(&self) -> f64 {
        self.unique
    }

    /// Rows of the table.
    pub fn rows(&self) -> f64 {
        self.rows
    }

    /// The cache of `cache_rows` rows.
    pub fn at(&self, cache_rows: f64) -> CacheState {
        if cache_rows >= self.used {
            return CacheState { fetches: 0.0, hit_rate: 1.0 };
        }
        if cache_rows <= 0.0 {
            return CacheState { fetches: self.unique, hit_rate: 0.0 };
        }
        let i = self.points.partition_point(|p| p[0] < cache_rows).clamp(1, self.points.len() - 1);
        let (a, b) = (self.points[i - 1], self.points[i]);
        let w = if b[0] > a[0] { (cache_rows - a[0]) / (b[0] - a[0]) } else { 1.0 };
        let lerp = |j: usize| a[j] + w * (b[j] - a[j]);
        CacheState { fetches: lerp(1).max(0.0), hit_rate: (1.0 - lerp(2)).clamp(0.0, 1.0) }
    }

    /// The cache of a share `load_factor` of the table's rows.
    pub fn at_load_factor(&self, load_factor: f64) -> CacheState {
        self.at(load_factor * self.rows)
    }

    /// `integral_0^1 fetches(c) dc` over the load factor `c`: TorchRec's cacheability (the
    /// area under the miss-ratio curve) times its expected lookups, the priority by which its
    /// scale-up proposer shares out HBM.
    pub fn area(&self) -> f64 {
        let sum: f64 =
            self.points.windows(2).map(|w| 0.5 * (w[0][1] + w[1][1]) * (w[1][0] - w[0][0])).sum();
        sum / self.rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use simcore::RandomStreams;
    use std::collections::{HashMap, HashSet, VecDeque};

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

    /// FBGEMM-style batches: each batch's distinct rows are looked up once; the missing ones
    /// are inserted, evicting the least recently used rows. Mean fetches per batch after
    /// warm-up.
    fn simulate_batches(pop: &Popularity, k: usize, m: usize, batches: usize) -> f64 {
        let z = pop.sampler();
        let mut rng = RandomStreams::new(11).stream("lru-batches");
        let mut last: HashMap<u64, usize> = HashMap::new();
        let mut queue: VecDeque<(u64, usize)> = VecDeque::new();
        let mut fetched = 0usize;
        for b in 0..batches {
            let rows: HashSet<u64> = (0..m).map(|_| z.sample(&mut rng)).collect();
            let mut rows: Vec<u64> = rows.into_iter().collect();
            rows.sort_unstable();
            for r in rows {
                if last.insert(r, b).is_none() && b >= batches / 2 {
                    fetched += 1;
                }
                queue.push_back((r, b));
            }
            while last.len() > k {
                let (old, at) = queue.pop_front().unwrap();
                if last.get(&old) == Some(&at) {
                    last.remove(&old);
                }
            }
        }
        fetched as f64 / (batches - batches / 2) as f64
    }

    #[test]
    fn batch_fetches_match_an_lru_simulation() {
        for (u, alpha, k, m) in
            [(20_000u64, 0.943, 4_000usize, 2_000usize), (50_000, 0.7, 10_000, 5_000)]
        {
            let pop = Popularity::new(u, alpha);
            let model = lru_fetches(&pop, k as f64, m as f64);
            let sim = simulate_batches(&pop, k, m, 400);
            assert!(
                (model - sim).abs() < 0.05 * sim,
                "U {u} alpha {alpha} k {k} m {m}: model {model:.1} sim {sim:.1}"
            );
        }
    }

    #[test]
    fn an_lru_miss_is_one_fetch_per_distinct_row() {
        // Uniform rows (alpha 0), U = 1000, a cache of k = 200 rows, a batch of m = 500
        // lookups. By hand: E_u(T) = U (1 - e^{-T/U}), so T = -U ln(1 - k/U) and
        // fetches = E_u(T + m) - k = (U - k)(1 - e^{-m/U}) = 800 (1 - e^{-1/2}) = 314.775;
        // a single reference hits with probability k/U = 0.2.
        let pop = Popularity::new(1000, 0.0);
        let want = 800.0 * (1.0 - (-0.5f64).exp());
        assert!((want - 314.775).abs() < 1e-3);
        let got = lru_fetches(&pop, 200.0, 500.0);
        assert!((got - want).abs() < 1e-6 * want, "{got} vs {want}");
        assert!((lru_hit_rate(&pop, 200.0) - 0.2).abs() < 1e-9);
        // The old accounting charged every missed lookup: 0.8 x 500 = 400 host reads, each
        // read again and written back by the update (1,200 transfers); the LRU cache moves
        // 314.775 rows in and as many out (629.55).
        let curve = MissCurve::new(&pop, 1000, 500.0);
        let s = curve.at_load_factor(0.2);
        assert!((s.fetches - want).abs() < 0.01 * want, "{s:?}");
        assert!((s.hit_rate - 0.2).abs() < 0.01, "{s:?}");
        assert_eq!(curve.at(1000.0).fetches, 0.0);
        assert!((curve.at(0.0).fetches - pop.expected_unique(500.0)).abs() < 1e-9);
    }

    #[test]
    fn the_curve_interpolates_the_exact_fetches() {
        for (u, alpha, m) in
            [(1_000_000u64, 0.943, 200_000.0), (5_000_000, 1.1, 1e6), (30_000, 0.7, 5e4)]
        {
            let pop = Popularity::new(u, alpha);
            let curve = MissCurve::new(&pop, u, m);
            for clf in [0.001, 0.01, 0.05, 0.2, 0.5, 0.9] {
                let k = clf * u as f64;
                let exact = lru_fetches(&pop, k, m);
                let got = curve.at(k);
                assert!(
                    (got.fetches - exact).abs() <= 0.01 * exact + 1e-6 * m,
                    "U {u} a {alpha} clf {clf}: curve {} exact {exact}",
                    got.fetches
                );
                let hit = lru_hit_rate(&pop, k);
                assert!((got.hit_rate - hit).abs() < 0.01, "clf {clf}: {} vs {hit}", got.hit_rate);
            }
            // Fetches fall as the cache grows; the area lies between the ends.
            assert!(curve.area() > 0.0 && curve.area() < curve.unique());
        }
    }
}
