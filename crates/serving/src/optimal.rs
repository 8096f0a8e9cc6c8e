//! The best prefix reuse an offline batch allows (SGLang, Zheng et al. 2024, the theorem on
//! cache-aware scheduling).
//!
//! Put all prompts of a batch in one radix tree. Each edge must be computed at least once, so
//! the prefill work of any order is at least the sum of the tree's edge lengths — the number of
//! distinct prefixes. Visiting the requests in depth-first order over the tree, with a cache
//! that can hold the longest request (LRU eviction of unreferenced leaves), computes each edge
//! exactly once and so reaches that bound. Hence
//! `optimal hit rate = 1 - sum(edge lengths) / sum(prompt lengths)`.
//!
//! Lexicographic order over the prompts is such a depth-first order, and the sum of edge
//! lengths is `sum(len(p_i) - lcp(p_i, p_{i-1}))` over the sorted prompts; both cost
//! O(n log n) comparisons of O(pieces) each. The bound counts prompt tokens only; an engine
//! that always recomputes a prompt's last token (to produce logits) does a little more.

use crate::Tokens;

/// The reuse bound of a batch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OptimalReuse {
    /// Sum of prompt lengths.
    pub prompt_tokens: u64,
    /// Prefill tokens that any order must compute: the sum of the radix tree's edge lengths.
    pub computed_tokens: u64,
}

impl OptimalReuse {
    /// The optimal cache hit rate, `1 - computed / prompt` (0 for an empty batch).
    pub fn hit_rate(&self) -> f64 {
        if self.prompt_tokens == 0 {
            0.0
        } else {
            1.0 - self.computed_tokens as f64 / self.prompt_tokens as f64
        }
    }
}

/// The requests' indices in a depth-first order of their radix tree (lexicographic order of the
/// prompts; ties keep input order).
pub fn dfs_order(prompts: &[Tokens]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..prompts.len()).collect();
    order.sort_by(|&a, &b| prompts[a].cmp_lex(&prompts[b]));
    order
}

/// The reuse bound of an offline batch of prompts.
pub fn optimal_reuse(prompts: &[Tokens]) -> OptimalReuse {
    let order = dfs_order(prompts);
    let mut r = OptimalReuse::default();
    let mut prev: Option<&Tokens> = None;
    for &i in &order {
        let p = &prompts[i];
        r.prompt_tokens += p.len();
        r.computed_tokens += p.len() - prev.map_or(0, |q| q.common_prefix_len(p));
        prev = Some(p);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_prefix_groups() {
        // 2 groups x 3 prompts: 100-token system prompt + 10-token question each.
        let mut prompts = Vec::new();
        for g in 0..2u64 {
            for q in 0..3u64 {
                prompts.push(Tokens::span(g, 0, 100).concat(&Tokens::span(10 + 3 * g + q, 0, 10)));
            }
        }
        let r = optimal_reuse(&prompts);
        assert_eq!(r.prompt_tokens, 660);
        assert_eq!(r.computed_tokens, 2 * 100 + 6 * 10);
        assert!((r.hit_rate() - (1.0 - 260.0 / 660.0)).abs() < 1e-12);
        // Interleave the groups; the DFS order puts each group together.
        let mixed =
            vec![prompts[0].clone(), prompts[3].clone(), prompts[1].clone(), prompts[4].clone()];
        assert_eq!(dfs_order(&mixed), vec![0, 2, 1, 3]);
        assert_eq!(optimal_reuse(&[]).hit_rate(), 0.0);
    }
}
