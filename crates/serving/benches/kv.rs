//! Cost of KV-cache manager operations against the matched length.
//!
//! A sequence of n pieces (n distinct spans of 8 tokens) is cached in a tree where a branch
//! leaves its path after every piece, so matching it walks n nodes. Radix `match_len` and an
//! acquire+release cycle should grow linearly in n (time per piece roughly flat); the
//! prefix-block manager's match is shown beside it (it hashes every 16-token block).

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use serving::{KvCache, PrefixBlockCache, RadixCache, Tokens};

const PIECE: u32 = 8;

fn path(n: u64) -> Tokens {
    let mut t = Tokens::new();
    for i in 0..n {
        t.push_span(i, 0, PIECE);
    }
    t
}

fn filled<C: KvCache>(mut c: C, n: u64) -> (C, Tokens) {
    let s = path(n);
    for i in 0..n {
        let mut branch = s.prefix(i * u64::from(PIECE));
        branch.push_span(1_000_000 + i, 0, PIECE);
        let l = c.acquire(&branch);
        c.release(l, &branch);
    }
    let l = c.acquire(&s);
    c.release(l, &s);
    (c, s)
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("kv");
    for n in [10u64, 100, 1000] {
        g.throughput(Throughput::Elements(n));
        let (mut radix, s) = filled(RadixCache::new(1), n);
        assert_eq!(radix.match_len(&s), s.len());
        g.bench_with_input(BenchmarkId::new("radix_match", n), &s, |b, s| {
            b.iter(|| black_box(radix.match_len(black_box(s))))
        });
        g.bench_with_input(BenchmarkId::new("radix_acquire_release", n), &s, |b, s| {
            b.iter(|| {
                let l = radix.acquire(black_box(s));
                radix.release(l, s)
            })
        });
        let (blocks, s) = filled(PrefixBlockCache::new(16), n);
        g.bench_with_input(BenchmarkId::new("blocks_match", n), &s, |b, s| {
            b.iter(|| black_box(blocks.match_len(black_box(s))))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
