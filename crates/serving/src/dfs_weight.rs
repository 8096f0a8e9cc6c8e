//! `dfs-weight`: depth-first over the waiting prompts' token tree, heavier subtrees first.
//!
//! Put the waiting prompts in a trie (conceptually: a radix tree of their tokens). Visiting
//! it depth-first keeps requests that share a prefix together, so the prefix is computed
//! once and reused while it is still cached (SGLang's theorem on depth-first order,
//! [`crate::optimal`]). Among the children of a node, the subtree holding more requests
//! goes first (SGLang's `dfs-weight` weighs the cache tree's nodes by waiting requests the
//! same way); ties go to the lexicographically smaller subtree. Prompts ending exactly at a
//! node come before its children.
//!
//! Implementation: sort the prompts lexicographically ([`crate::Tokens::cmp_lex`], a depth-first
//! order with children in token order) and take the common prefix of each neighbour pair;
//! the subtrees of a node at depth d are then the runs between neighbours whose common
//! prefix is exactly d. An explicit stack visits them, so deep chains cannot overflow the
//! call stack. Cost: the sort plus O(w x tree depth).

use crate::scheduler::Candidate;

/// Fills `order` with all positions of `waiting` in heavier-first depth-first order.
pub(crate) fn order(waiting: &[Candidate<'_>], order: &mut Vec<usize>) {
    let n = waiting.len();
    let mut sorted: Vec<usize> = (0..n).collect();
    sorted.sort_by(|&a, &b| waiting[a].tokens.cmp_lex(waiting[b].tokens));
    // lcp[i] = common prefix of sorted[i - 1] and sorted[i] (lcp[0] unused).
    let lcp: Vec<u64> = (0..n)
        .map(|i| {
            if i == 0 {
                0
            } else {
                waiting[sorted[i - 1]].tokens.common_prefix_len(waiting[sorted[i]].tokens)
            }
        })
        .collect();
    let len = |i: usize| waiting[sorted[i]].tokens.len();
    // A subtree: sorted range [lo, hi) whose members share `depth` tokens.
    let mut stack: Vec<(usize, usize, u64)> = vec![(0, n, 0)];
    let mut groups: Vec<(usize, usize, u64)> = Vec::new();
    while let Some((lo, hi, depth)) = stack.pop() {
        if hi - lo == 1 {
            order.push(sorted[lo]);
            continue;
        }
        // Prompts that end at this node sort first.
        let mut a = lo;
        while a < hi && len(a) == depth {
            order.push(sorted[a]);
            a += 1;
        }
        // Children: split where the neighbours share exactly `depth` tokens.
        groups.clear();
        let mut start = a;
        for i in a + 1..=hi {
            if i == hi || lcp[i] == depth {
                let d = if i - start == 1 {
                    len(start)
                } else {
                    (start + 1..i).map(|j| lcp[j]).min().unwrap_or(depth)
                };
                groups.push((start, i, d));
                start = i;
            }
        }
        // Heaviest first (stable: ties in lexicographic order); the stack pops in reverse.
        groups.sort_by_key(|g| std::cmp::Reverse(g.1 - g.0));
        stack.extend(groups.iter().rev());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Tokens;

    #[test]
    fn heavier_groups_first_and_groups_kept_together() {
        let p = |s: u64, q: u64| Tokens::span(s, 0, 50).concat(&Tokens::span(q, 0, 5));
        let t = [
            p(1, 10),               // group 1 (2 requests)
            p(2, 20),               // group 2 (3 requests)
            p(1, 11),               //
            p(2, 21),               //
            Tokens::span(3, 0, 9),  // alone
            p(2, 22),               //
            Tokens::span(2, 0, 50), // ends at group 2's node: first of the group
        ];
        let c: Vec<_> = t.iter().map(|tokens| Candidate { tokens, remaining_output: 1 }).collect();
        let mut o = Vec::new();
        order(&c, &mut o);
        assert_eq!(o, vec![6, 1, 3, 5, 0, 2, 4]);
    }

    #[test]
    fn deep_chain_and_duplicates() {
        let t: Vec<Tokens> =
            (1..=2000).map(|n| Tokens::span(0, 0, n)).chain([Tokens::span(0, 0, 5)]).collect();
        let c: Vec<_> = t.iter().map(|tokens| Candidate { tokens, remaining_output: 1 }).collect();
        let mut o = Vec::new();
        order(&c, &mut o);
        assert_eq!(o.len(), t.len());
        let mut s = o.clone();
        s.sort_unstable();
        s.dedup();
        assert_eq!(s.len(), t.len());
        assert_eq!(&o[..3], &[0, 1, 2]);
    }
}
