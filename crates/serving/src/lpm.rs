//! `lpm`: longest prefix match first, SGLang's cache-aware schedule policy.
//!
//! Every waiting request is matched against the KV cache ([`KvCache::match_len`]) and the
//! requests are considered longest match first; equal matches keep queue order. Sorting
//! costs a match per waiting request per round, so with more than [`FCFS_ABOVE`] (128)
//! requests waiting the policy falls back to queue order, as SGLang's `schedule_policy.py`
//! does; matching also starves requests whose prefix is cold, which the fallback bounds.
//!
//! In-batch prefix check (SGLang, same file): a group of waiting requests that share a
//! prefix not yet in the cache would all compute it if admitted together. So, walking the
//! queue in order, a request whose cached match is at most [`IN_BATCH_CHECK_MAX`] (32) tokens
//! is matched against a scratch radix tree of the prompts of such requests already chosen
//! this round; if it shares at least [`IN_BATCH_SHARE_MIN`] (32) tokens with one of them it
//! waits, otherwise its prompt joins the scratch tree. One request of a same-prefix group
//! then goes first; its prefix is in the cache once its prefill is done (the engine inserts
//! prefilled prompts at once), and the rest of the group match it in later rounds.
//!
//! Departure from SGLang: SGLang sorts such requests last instead of holding them, so a
//! budget large enough admits them in the same round (and they recompute the prefix). Here
//! they wait for the next round, which is what the check is meant to achieve.

use crate::cache::KvCache;
use crate::scheduler::Candidate;
use crate::{RadixCache, Tokens};

/// More waiting requests than this: queue order (SGLang's fallback).
pub const FCFS_ABOVE: usize = 128;
/// A request whose cached match is at most this many tokens is checked against the batch.
pub const IN_BATCH_CHECK_MAX: u64 = 32;
/// It waits if it shares at least this many tokens with a request chosen this round.
pub const IN_BATCH_SHARE_MIN: u64 = 32;

/// Fills `order` with the positions of `waiting` to consider, longest match first.
pub(crate) fn order(
    waiting: &[Candidate<'_>],
    cache: &dyn KvCache,
    matches: &mut Vec<u64>,
    order: &mut Vec<usize>,
) {
    matches.clear();
    matches.extend(waiting.iter().map(|c| cache.match_len(c.tokens)));
    let mut batch_tree: Option<RadixCache> = None;
    for (i, c) in waiting.iter().enumerate() {
        if matches[i] <= IN_BATCH_CHECK_MAX {
            let tree = batch_tree.get_or_insert_with(|| RadixCache::new(1));
            if tree.match_len(c.tokens) >= IN_BATCH_SHARE_MIN {
                continue;
            }
            insert(tree, c.tokens);
        }
        order.push(i);
    }
    // Stable: equal matches keep queue order.
    order.sort_by_key(|&i| std::cmp::Reverse(matches[i]));
}

fn insert(tree: &mut RadixCache, tokens: &Tokens) {
    let lease = tree.acquire(tokens);
    tree.release(lease, tokens);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CachePolicy;

    fn cands(t: &[Tokens]) -> Vec<Candidate<'_>> {
        t.iter().map(|tokens| Candidate { tokens, remaining_output: 1 }).collect()
    }

    #[test]
    fn longest_match_first_and_one_per_cold_group() {
        let sys = |s| Tokens::span(s, 0, 100);
        let q = |s| Tokens::span(s, 0, 10);
        // Span 1's system prompt is cached; span 2's is cold.
        let mut cache = CachePolicy::Radix { page_size: 1 }.build();
        let warm = sys(1).concat(&q(50));
        let l = cache.acquire(&warm);
        cache.release(l, &warm);
        let t = vec![
            sys(2).concat(&q(10)),  // cold group, first: chosen
            sys(2).concat(&q(11)),  // same cold prefix: waits
            sys(1).concat(&q(12)),  // 100 cached: first
            Tokens::span(9, 0, 20), // unrelated: chosen
            sys(2).concat(&q(13)),  // waits
        ];
        let mut m = Vec::new();
        let mut o = Vec::new();
        order(&cands(&t), cache.as_ref(), &mut m, &mut o);
        assert_eq!(o, vec![2, 0, 3]);
    }
}
