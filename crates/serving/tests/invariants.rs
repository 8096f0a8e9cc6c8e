//! Property tests of the KV-cache managers and the optimal-reuse bound.

use proptest::prelude::*;
use serving::{CachePolicy, KvCache, Lease, Piece, Tokens, dfs_order, optimal_reuse};

/// A few short segments, several on the same spans, so that random sequences built from them
/// share prefixes and diverge inside pieces.
fn segments() -> impl Strategy<Value = Vec<Tokens>> {
    prop::collection::vec(
        prop::collection::vec((0u64..4, 0u32..6, 1u32..7), 1..4).prop_map(|ps| {
            Tokens::from_pieces(ps.into_iter().map(|(s, a, l)| Piece::new(s, a, l)))
        }),
        6,
    )
}

/// Sequences as concatenations of 1-5 segments.
fn sequences(max: usize) -> impl Strategy<Value = Vec<Tokens>> {
    (segments(), prop::collection::vec(prop::collection::vec(0usize..6, 1..6), 1..max)).prop_map(
        |(segs, picks)| {
            picks
                .into_iter()
                .map(|p| p.into_iter().fold(Tokens::new(), |acc, i| acc.concat(&segs[i])))
                .collect()
        },
    )
}

fn policy() -> impl Strategy<Value = CachePolicy> {
    prop_oneof![
        Just(CachePolicy::None),
        (1u32..5).prop_map(|block_size| CachePolicy::PrefixBlocks { block_size }),
        (1u32..4).prop_map(|page_size| CachePolicy::Radix { page_size }),
    ]
}

#[derive(Clone, Debug)]
enum Op {
    Acquire(usize),
    Release(usize, u32),
    Evict(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => any::<usize>().prop_map(Op::Acquire),
        3 => (any::<usize>(), 0u32..6).prop_map(|(i, out)| Op::Release(i, out)),
        1 => (0u64..40).prop_map(Op::Evict),
    ]
}

fn floor(n: u64, page: u32) -> u64 {
    n - n % u64::from(page)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Random acquire/release/evict: accounting equals a recount after every step, pinned
    /// prefixes stay matchable (never evicted), eviction frees what it reports.
    #[test]
    fn pinned_content_survives_and_accounting_matches(
        pol in policy(), seqs in sequences(8), ops in prop::collection::vec(op(), 1..60)
    ) {
        let mut c = pol.build();
        let mut held: Vec<(Lease, Tokens)> = Vec::new();
        let mut next_output_span = 1_000u64;
        for op in ops {
            match op {
                Op::Acquire(i) => {
                    let s = seqs[i % seqs.len()].clone();
                    let peek = c.match_len(&s);
                    let l = c.acquire(&s);
                    prop_assert_eq!(l.matched(), peek);
                    prop_assert!(l.matched() <= s.len());
                    held.push((l, s));
                }
                Op::Release(i, out) => {
                    if held.is_empty() { continue; }
                    let (l, s) = held.swap_remove(i % held.len());
                    next_output_span += 1;
                    let before = c.usage();
                    let added = c.release(l, &s.concat(&Tokens::span(next_output_span, 0, out)));
                    prop_assert_eq!(c.usage().cached, before.cached + added);
                }
                Op::Evict(n) => {
                    let before = c.usage();
                    let freed = c.evict(n);
                    let after = c.usage();
                    prop_assert_eq!(after.cached, before.cached - freed);
                    prop_assert!(freed >= n || after.evictable == 0);
                }
            }
            let u = c.usage();
            prop_assert_eq!(u, c.recount());
            prop_assert!(u.evictable <= u.cached);
            for (l, s) in &held {
                prop_assert!(c.match_len(s) >= l.matched(), "pinned prefix of {:?} lost", s);
            }
        }
        // Once everything is released, everything is evictable.
        for (l, s) in held.drain(..) {
            c.release(l, &s);
        }
        let u = c.usage();
        prop_assert_eq!(u.evictable, u.cached);
        c.evict(u64::MAX);
        prop_assert_eq!(c.recount(), serving::CacheUsage::default());
    }

    /// With nothing evicted, a match is the longest common prefix with any inserted sequence,
    /// cut to whole pages (radix) or blocks (prefix blocks).
    #[test]
    fn matches_equal_brute_force_lcp(
        unit in 1u32..4, radix in any::<bool>(), inserted in sequences(8), queries in sequences(8)
    ) {
        let mut c: Box<dyn KvCache> = if radix {
            CachePolicy::Radix { page_size: unit }.build()
        } else {
            CachePolicy::PrefixBlocks { block_size: unit }.build()
        };
        for s in &inserted {
            let l = c.acquire(s);
            c.release(l, s);
        }
        for q in queries.iter().chain(&inserted) {
            let want = inserted.iter().map(|s| floor(q.common_prefix_len(s), unit)).max().unwrap_or(0);
            prop_assert_eq!(c.match_len(q), want, "query {:?}", q);
        }
    }

    /// Replaying a batch in DFS order through a radix cache that holds the longest prompt
    /// (or everything) computes exactly the sum of the edge lengths: the optimum.
    #[test]
    fn dfs_order_reaches_the_optimum(prompts in sequences(24), bounded in any::<bool>()) {
        let best = optimal_reuse(&prompts);
        let cap = prompts.iter().map(Tokens::len).max().unwrap_or(0);
        let mut c = CachePolicy::Radix { page_size: 1 }.build();
        let mut computed = 0;
        for i in dfs_order(&prompts) {
            let p = &prompts[i];
            let l = c.acquire(p);
            let private = p.len() - l.matched();
            computed += private;
            if bounded {
                let over = (c.usage().cached + private).saturating_sub(cap);
                c.evict(over);
                prop_assert!(c.usage().cached + private <= cap);
            }
            c.release(l, p);
        }
        prop_assert_eq!(computed, best.computed_tokens);
        prop_assert_eq!(best.prompt_tokens, prompts.iter().map(Tokens::len).sum::<u64>());
        // No order does better: a random-looking order (reversed input) computes at least as much.
        let mut c = CachePolicy::Radix { page_size: 1 }.build();
        let mut other = 0;
        for p in prompts.iter().rev() {
            let l = c.acquire(p);
            other += p.len() - l.matched();
            c.release(l, p);
        }
        prop_assert!(other >= best.computed_tokens);
    }

    /// Tokens: concatenation of a split is the identity; common prefix equals a token-by-token
    /// count.
    #[test]
    fn tokens_split_join_and_lcp(seqs in sequences(3), cut in 0u64..40) {
        let a = &seqs[0];
        let b = seqs.last().unwrap();
        prop_assert_eq!(a.prefix(cut).concat(&a.slice(cut, u64::MAX)), a.clone());
        prop_assert_eq!(a.prefix(cut).len(), cut.min(a.len()));
        let mut naive = 0;
        while a.get(naive).is_some() && a.get(naive) == b.get(naive) {
            naive += 1;
        }
        prop_assert_eq!(a.common_prefix_len(b), naive);
    }
}
