//! Named random streams: every component draws from its own generator, derived from
//! (run seed, stream name), so adding a draw in one place never shifts the numbers of another.
//!
//! The generator is xoshiro256++ (Blackman and Vigna, "Scrambled linear pseudorandom number
//! generators", ACM TOMS 2021), seeded through SplitMix64 (Steele, Lea and Flood, OOPSLA 2014)
//! from the run seed and the 64-bit FNV-1a hash of the stream name. Both algorithms are fixed
//! here, so a seed gives the same numbers on every platform and every future version of the
//! dependencies. [`StreamRng`] implements `rand_core`'s traits, so `rand_distr` distributions
//! work with it.

use std::convert::Infallible;

/// Hands out independent, reproducible generators by name for one run seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RandomStreams {
    seed: u64,
}

impl RandomStreams {
    /// Streams for run seed `seed`.
    pub fn new(seed: u64) -> Self {
        RandomStreams { seed }
    }

    /// The run seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The generator named `name` (e.g. `"failures"`, `"routing/layer3"`).
    pub fn stream(&self, name: &str) -> StreamRng {
        StreamRng::from_seed_and_key(self.seed, fnv1a64(name.as_bytes()))
    }

    /// The `index`-th generator of family `name` (e.g. one per GPU), without formatting a
    /// string per index.
    pub fn indexed_stream(&self, name: &str, index: u64) -> StreamRng {
        let key = splitmix64_mix(fnv1a64(name.as_bytes()) ^ splitmix64_mix(index));
        StreamRng::from_seed_and_key(self.seed, key)
    }
}

/// 64-bit FNV-1a hash (Fowler, Noll, Vo): stable across platforms and versions.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The SplitMix64 finaliser: a bijective mix of 64 bits.
fn splitmix64_mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A xoshiro256++ generator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamRng {
    s: [u64; 4],
}

impl StreamRng {
    fn from_seed_and_key(seed: u64, key: u64) -> Self {
        // SplitMix64 sequence started at mix(seed) ^ key fills the state; it is never all
        // zero because SplitMix64 outputs of consecutive states are distinct.
        let mut x = splitmix64_mix(seed) ^ key;
        let mut s = [0u64; 4];
        for word in &mut s {
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            *word = splitmix64_mix(x);
        }
        StreamRng { s }
    }

    /// The next 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// A uniform draw in `[0, 1)` with 53 random bits.
    #[inline]
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform integer in `0..n` (Lemire's multiply-shift, bias below 2^-64 * n).
    ///
    /// # Panics
    /// If `n == 0`.
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "below(0) has no valid result");
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// An exponential draw with the given mean (inverse transform: `-mean * ln(1 - U)`).
    #[inline]
    pub fn exp(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.next_f64()).ln()
    }

    /// A standard normal draw (Box-Muller, Box and Muller 1958, from two uniforms, the first
    /// in `(0, 1]`; one of the pair is used).
    #[inline]
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.next_f64();
        let u2 = self.next_f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Shuffles `items` uniformly (Fisher-Yates, Durstenfeld's in-place form).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

impl rand_core::TryRng for StreamRng {
    type Error = Infallible;

    #[inline]
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok((self.next_u64() >> 32) as u32)
    }

    #[inline]
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(self.next_u64())
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for chunk in dst.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_reference_vectors() {
        // Published FNV-1a 64-bit test vectors.
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn xoshiro_step_matches_reference_algorithm() {
        // State [1, 2, 3, 4]: the first outputs of the reference C implementation.
        let mut r = StreamRng { s: [1, 2, 3, 4] };
        assert_eq!(r.next_u64(), 41_943_041);
        assert_eq!(r.next_u64(), 58_720_359);
        assert_eq!(r.next_u64(), 3_588_806_011_781_223);
    }

    #[test]
    fn same_seed_and_name_give_same_numbers() {
        let a: Vec<u64> = {
            let mut r = RandomStreams::new(7).stream("failures");
            (0..10).map(|_| r.next_u64()).collect()
        };
        let b: Vec<u64> = {
            let mut r = RandomStreams::new(7).stream("failures");
            (0..10).map(|_| r.next_u64()).collect()
        };
        assert_eq!(a, b);
    }

    #[test]
    fn names_seeds_and_indices_separate_streams() {
        let s = RandomStreams::new(7);
        let first = |mut r: StreamRng| r.next_u64();
        let x = first(s.stream("a"));
        assert_ne!(x, first(s.stream("b")));
        assert_ne!(x, first(RandomStreams::new(8).stream("a")));
        assert_ne!(first(s.indexed_stream("gpu", 0)), first(s.indexed_stream("gpu", 1)));
    }

    #[test]
    fn uniform_and_exponential_have_the_right_means() {
        let mut r = RandomStreams::new(1).stream("moments");
        let n = 200_000;
        let mean_u: f64 = (0..n).map(|_| r.next_f64()).sum::<f64>() / n as f64;
        let mean_e: f64 = (0..n).map(|_| r.exp(3.0)).sum::<f64>() / n as f64;
        // Standard errors: 1/sqrt(12 n) = 6.5e-4 and 3/sqrt(n) = 6.7e-3; allow 5 sigma.
        assert!((mean_u - 0.5).abs() < 5.0 * 6.5e-4, "{mean_u}");
        assert!((mean_e - 3.0).abs() < 5.0 * 6.7e-3, "{mean_e}");
        for _ in 0..1000 {
            let b = r.below(7);
            assert!(b < 7);
        }
    }

    #[test]
    fn works_with_rand_distr() {
        use rand_distr::{Distribution, Normal};
        let mut r = RandomStreams::new(3).stream("normal");
        let d = Normal::new(10.0, 1.0).unwrap();
        let m: f64 = (0..10_000).map(|_| d.sample(&mut r)).sum::<f64>() / 10_000.0;
        assert!((m - 10.0).abs() < 0.05);
    }
}
