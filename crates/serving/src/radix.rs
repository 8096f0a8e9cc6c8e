//! `radix`: SGLang's RadixAttention, a radix tree of cached token sequences.
//!
//! Each node's edge carries a piece list (any number of tokens); the path from the root spells
//! a cached prefix. Nodes live in an arena and are named by index; a node's children are found
//! through one map keyed by (parent, first token of the child's edge), so matching costs time
//! in proportion to the pieces and nodes walked, not the tokens.
//!
//! - Matching walks greedily from the root. A match that ends inside an edge is rounded down
//!   to a page boundary; [`KvCache::acquire`] then splits that edge so the matched prefix ends
//!   at a node.
//! - [`KvCache::acquire`] raises the reference count of every node on the matched path;
//!   [`KvCache::release`] inserts the request's computed tokens (prompt and output) and lowers
//!   them again. Both mark the path used now.
//! - Eviction removes unreferenced leaves, least recently used first; a parent left childless
//!   and unreferenced becomes a candidate in turn.
//!
//! Pages: with `page_size` p > 1 only whole pages are cached (an inserted sequence is cut to a
//! multiple of p) and matches are rounded down to a multiple of p, so every edge is a multiple
//! of p and splits happen at page boundaries only. Siblings then may share a first token
//! (different pages that start alike); they are chained from the map entry (`next_same_key`)
//! and told apart by their first page. With p = 1 every chain has one node.
//!
//! Invariants, kept here:
//! - a node's `refs` counts the leases whose matched path passes through it, so refs never
//!   grow going down the tree, and an unreferenced node's whole subtree is unreferenced
//!   (evictable);
//! - `lru` holds exactly the unreferenced, childless non-root nodes, keyed by last access;
//! - `total` and `evictable` are the sums of edge lengths over all nodes and over
//!   unreferenced ones;
//! - siblings' edges start with different pages; edges are non-empty multiples of the page.
//!
//! A logical clock (one tick per acquire or release) orders accesses.

use std::collections::BTreeSet;

use simcore::fast_hash::FastMap;

use crate::Tokens;
use crate::cache::{CacheUsage, KvCache, Lease};
use crate::tokens::{Cursor, Piece, Token, common_prefix, copy_range};

const NIL: u32 = u32::MAX;
const ROOT: u32 = 0;

#[derive(Clone, Debug, Default)]
struct Node {
    parent: u32,
    next_same_key: u32,
    edge: Vec<Piece>,
    len: u64,
    refs: u32,
    children: u32,
    last_access: u64,
    alive: bool,
}

impl Node {
    fn key(&self) -> Token {
        self.edge[0].token(0)
    }
}

/// Where a walk from the root stopped.
struct Walk {
    /// Deepest node fully matched.
    node: u32,
    /// Tokens matched down to `node`.
    depth: u64,
    /// Position in the query after `depth` tokens.
    at: Cursor,
    /// A child of `node` matched over part of its edge: (child, tokens, a page multiple).
    partial: Option<(u32, u64)>,
}

/// SGLang-style radix-tree KV cache.
#[derive(Debug)]
pub struct RadixCache {
    page: u32,
    nodes: Vec<Node>,
    free: Vec<u32>,
    children: FastMap<(u32, Token), u32>,
    lru: BTreeSet<(u64, u32)>,
    clock: u64,
    total: u64,
    evictable: u64,
}

impl RadixCache {
    /// An empty tree with pages of `page_size` tokens (SGLang's default is 1).
    pub fn new(page_size: u32) -> Self {
        assert!(page_size > 0, "page size must be positive");
        let root = Node { parent: NIL, next_same_key: NIL, alive: true, ..Node::default() };
        Self {
            page: page_size,
            nodes: vec![root],
            free: Vec::new(),
            children: FastMap::default(),
            lru: BTreeSet::new(),
            clock: 0,
            total: 0,
            evictable: 0,
        }
    }

    /// Tokens per page.
    pub fn page_size(&self) -> u32 {
        self.page
    }

    /// Number of nodes, the root excluded. For tests and reports.
    pub fn node_count(&self) -> usize {
        self.nodes.len() - 1 - self.free.len()
    }

    /// Reference count of the deepest node of the path spelling exactly `seq`, or `None` if
    /// `seq` does not end at a node. For tests.
    pub fn refs_at(&self, seq: &Tokens) -> Option<u32> {
        let w = self.walk(seq.pieces(), seq.len());
        (w.partial.is_none() && w.depth == seq.len() && w.node != ROOT)
            .then(|| self.nodes[w.node as usize].refs)
    }

    #[inline]
    fn floor_page(&self, n: u64) -> u64 {
        n - n % u64::from(self.page)
    }

    /// Greedy walk from the root over at most `limit` tokens of `seq` (`limit` a page multiple).
    fn walk(&self, seq: &[Piece], limit: u64) -> Walk {
        let (mut node, mut depth, mut at) = (ROOT, 0u64, Cursor::default());
        while depth < limit {
            let Some(tok) = at.token(seq) else { break };
            let mut c = self.children.get(&(node, tok)).copied().unwrap_or(NIL);
            let mut hit = None;
            while c != NIL {
                let n = &self.nodes[c as usize];
                let k = self.floor_page(common_prefix(
                    &n.edge,
                    Cursor::default(),
                    seq,
                    at,
                    limit - depth,
                ));
                if k > 0 {
                    hit = Some((c, k));
                    break;
                }
                c = n.next_same_key;
            }
            let Some((c, k)) = hit else { break };
            if k < self.nodes[c as usize].len {
                return Walk { node, depth, at, partial: Some((c, k)) };
            }
            node = c;
            depth += k;
            at.advance(seq, k);
        }
        Walk { node, depth, at, partial: None }
    }

    #[inline]
    fn is_candidate(&self, n: u32) -> bool {
        let node = &self.nodes[n as usize];
        n != ROOT && node.refs == 0 && node.children == 0
    }

    /// Sets the last access of `n`, keeping `lru` keyed right.
    fn touch(&mut self, n: u32, now: u64) {
        if self.is_candidate(n) {
            self.lru.remove(&(self.nodes[n as usize].last_access, n));
            self.lru.insert((now, n));
        }
        self.nodes[n as usize].last_access = now;
    }

    fn alloc(&mut self) -> u32 {
        match self.free.pop() {
            Some(n) => n,
            None => {
                self.nodes.push(Node::default());
                (self.nodes.len() - 1) as u32
            }
        }
    }

    /// Splits `c`'s edge after `k` tokens: a new node takes the first `k` and becomes `c`'s
    /// parent. Counts, last access and the evictable set are unchanged. Returns the new node.
    fn split(&mut self, c: u32, k: u64) -> u32 {
        let m = self.alloc();
        let mut head = std::mem::take(&mut self.nodes[m as usize].edge);
        head.clear();
        let (parent, key, refs, last_access, next) = {
            let n = &mut self.nodes[c as usize];
            copy_range(&n.edge, Cursor::default(), k, &mut head);
            // The tail stays in `c`'s buffer: drop the pieces before the cut, trim the cut one.
            let mut at = Cursor::default();
            at.advance(&n.edge, k);
            let key = n.key();
            n.edge.drain(..at.piece);
            n.edge[0] = n.edge[0].sub(at.off, n.edge[0].len - at.off);
            (n.parent, key, n.refs, n.last_access, n.next_same_key)
        };
        self.nodes[m as usize] = Node {
            parent,
            next_same_key: next,
            edge: head,
            len: k,
            refs,
            children: 1,
            last_access,
            alive: true,
        };
        self.replace_in_chain(parent, key, c, Some(m));
        let n = &mut self.nodes[c as usize];
        n.len -= k;
        n.parent = m;
        n.next_same_key = NIL;
        let key = n.key();
        self.children.insert((m, key), c);
        m
    }

    /// In the sibling chain of (`parent`, `key`), replaces `old` by `new` (`None`: unlinks it).
    fn replace_in_chain(&mut self, parent: u32, key: Token, old: u32, new: Option<u32>) {
        let after = self.nodes[old as usize].next_same_key;
        let next = new.unwrap_or(after);
        let head = self.children[&(parent, key)];
        if head == old {
            if next == NIL {
                self.children.remove(&(parent, key));
            } else {
                self.children.insert((parent, key), next);
            }
            return;
        }
        let mut q = head;
        while self.nodes[q as usize].next_same_key != old {
            q = self.nodes[q as usize].next_same_key;
        }
        self.nodes[q as usize].next_same_key = next;
    }

    /// A new unreferenced leaf under `parent` with `n` tokens of `seq` from `at`.
    fn add_leaf(&mut self, parent: u32, seq: &[Piece], at: Cursor, n: u64, now: u64) -> u32 {
        let leaf = self.alloc();
        let mut edge = std::mem::take(&mut self.nodes[leaf as usize].edge);
        edge.clear();
        copy_range(seq, at, n, &mut edge);
        if self.is_candidate(parent) {
            self.lru.remove(&(self.nodes[parent as usize].last_access, parent));
        }
        self.nodes[parent as usize].children += 1;
        let key = edge[0].token(0);
        let next = self.children.insert((parent, key), leaf).unwrap_or(NIL);
        self.nodes[leaf as usize] = Node {
            parent,
            next_same_key: next,
            edge,
            len: n,
            refs: 0,
            children: 0,
            last_access: now,
            alive: true,
        };
        self.total += n;
        self.evictable += n;
        self.lru.insert((now, leaf));
        leaf
    }

    /// Inserts the first whole pages of `seq`, marks its path used now; returns tokens added.
    fn insert(&mut self, seq: &Tokens, now: u64) -> u64 {
        let limit = self.floor_page(seq.len());
        let w = self.walk(seq.pieces(), limit);
        let (mut node, mut depth, mut at) = (w.node, w.depth, w.at);
        if let Some((c, k)) = w.partial {
            node = self.split(c, k);
            depth += k;
            at.advance(seq.pieces(), k);
        }
        let mut n = node;
        while n != ROOT {
            self.touch(n, now);
            n = self.nodes[n as usize].parent;
        }
        if depth < limit {
            self.add_leaf(node, seq.pieces(), at, limit - depth, now);
        }
        limit - depth
    }

    fn remove_leaf(&mut self, n: u32) -> u64 {
        let (parent, key, len) = {
            let node = &self.nodes[n as usize];
            (node.parent, node.key(), node.len)
        };
        self.replace_in_chain(parent, key, n, None);
        self.nodes[n as usize].alive = false;
        self.free.push(n);
        self.nodes[parent as usize].children -= 1;
        if self.is_candidate(parent) {
            self.lru.insert((self.nodes[parent as usize].last_access, parent));
        }
        self.total -= len;
        self.evictable -= len;
        len
    }
}

impl KvCache for RadixCache {
    fn name(&self) -> &'static str {
        "radix"
    }

    fn page_tokens(&self) -> u32 {
        self.page
    }

    fn match_len(&self, seq: &Tokens) -> u64 {
        let w = self.walk(seq.pieces(), self.floor_page(seq.len()));
        w.depth + w.partial.map_or(0, |(_, k)| k)
    }

    fn acquire(&mut self, seq: &Tokens) -> Lease {
        self.clock += 1;
        let now = self.clock;
        let w = self.walk(seq.pieces(), self.floor_page(seq.len()));
        let (mut last, mut matched) = (w.node, w.depth);
        if let Some((c, k)) = w.partial {
            last = self.split(c, k);
            matched += k;
        }
        let mut n = last;
        while n != ROOT {
            if self.is_candidate(n) {
                self.lru.remove(&(self.nodes[n as usize].last_access, n));
            }
            let node = &mut self.nodes[n as usize];
            if node.refs == 0 {
                self.evictable -= node.len;
            }
            node.refs += 1;
            node.last_access = now;
            n = node.parent;
        }
        Lease::new(matched, last)
    }

    fn release(&mut self, lease: Lease, computed: &Tokens) -> u64 {
        debug_assert!(computed.len() >= lease.matched(), "computed tokens shorter than the lease");
        self.clock += 1;
        let now = self.clock;
        let added = self.insert(computed, now);
        let mut n = lease.handle();
        while n != ROOT {
            let node = &mut self.nodes[n as usize];
            debug_assert!(node.alive && node.refs > 0, "lease path lost its reference");
            node.refs -= 1;
            node.last_access = now;
            if node.refs == 0 {
                self.evictable += node.len;
            }
            let parent = node.parent;
            if self.is_candidate(n) {
                self.lru.insert((now, n));
            }
            n = parent;
        }
        added
    }

    fn evict(&mut self, tokens: u64) -> u64 {
        let mut freed = 0;
        while freed < tokens {
            let Some((_, n)) = self.lru.pop_first() else { break };
            freed += self.remove_leaf(n);
        }
        freed
    }

    fn usage(&self) -> CacheUsage {
        CacheUsage { cached: self.total, evictable: self.evictable }
    }

    fn recount(&self) -> CacheUsage {
        let mut usage = CacheUsage::default();
        let mut children = vec![0u32; self.nodes.len()];
        let mut candidates = 0usize;
        for (i, n) in self.nodes.iter().enumerate().skip(1) {
            if !n.alive {
                continue;
            }
            let p = &self.nodes[n.parent as usize];
            assert!(p.alive, "node {i} hangs from a dead parent");
            assert!(n.len > 0 && n.len % u64::from(self.page) == 0, "node {i}: bad edge length");
            assert_eq!(
                n.len,
                n.edge.iter().map(|p| u64::from(p.len)).sum::<u64>(),
                "node {i}: length"
            );
            assert!(
                n.parent == ROOT || n.refs <= p.refs,
                "node {i}: more references than its parent"
            );
            children[n.parent as usize] += 1;
            usage.cached += n.len;
            if n.refs == 0 {
                usage.evictable += n.len;
            }
            // Reachable through its parent's sibling chain.
            let mut c = self.children.get(&(n.parent, n.key())).copied().unwrap_or(NIL);
            while c != NIL && c != i as u32 {
                c = self.nodes[c as usize].next_same_key;
            }
            assert_eq!(c, i as u32, "node {i} missing from its parent's children");
        }
        for (i, n) in self.nodes.iter().enumerate() {
            if n.alive {
                assert_eq!(n.children, children[i], "node {i}: child count");
                let cand = self.is_candidate(i as u32);
                assert_eq!(
                    self.lru.contains(&(n.last_access, i as u32)),
                    cand,
                    "node {i}: LRU set"
                );
                candidates += usize::from(cand);
            }
        }
        assert_eq!(candidates, self.lru.len(), "LRU set holds stale entries");
        usage
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq(parts: &[(u64, u32, u32)]) -> Tokens {
        Tokens::from_pieces(parts.iter().map(|&(s, a, l)| Piece::new(s, a, l)))
    }

    /// A hand-built sequence of operations with every number written out.
    #[test]
    fn matches_splits_refs_and_evictions() {
        let mut c = RadixCache::new(1);
        // Request A: system prompt 0[0..100) + question 1[0..20), output 2[0..10).
        let a = seq(&[(0, 0, 100), (1, 0, 20)]);
        let la = c.acquire(&a);
        assert_eq!(la.matched(), 0);
        assert_eq!(c.release(la, &a.concat(&seq(&[(2, 0, 10)]))), 130);
        assert_eq!(c.node_count(), 1);
        assert_eq!(c.usage(), CacheUsage { cached: 130, evictable: 130 });

        // Request B shares the system prompt and 5 tokens of A's question: 105 matched, the
        // edge is split at 105.
        let b = seq(&[(0, 0, 100), (1, 0, 5), (3, 0, 40)]);
        assert_eq!(c.match_len(&b), 105);
        assert_eq!(c.node_count(), 1, "peeking never splits");
        let lb = c.acquire(&b);
        assert_eq!(lb.matched(), 105);
        assert_eq!(c.node_count(), 2);
        assert_eq!(c.refs_at(&b.prefix(105)), Some(1));
        assert_eq!(c.refs_at(&a.concat(&seq(&[(2, 0, 10)]))), Some(0));
        assert_eq!(c.usage(), CacheUsage { cached: 130, evictable: 25 });

        // Request C shares only 50 system-prompt tokens: second split, inside the pinned node;
        // the new upper node inherits the pin.
        let cc = seq(&[(0, 0, 50), (4, 0, 10)]);
        let lc = c.acquire(&cc);
        assert_eq!(lc.matched(), 50);
        assert_eq!(c.node_count(), 3);
        assert_eq!(c.refs_at(&cc.prefix(50)), Some(2));
        assert_eq!(c.refs_at(&b.prefix(105)), Some(1));

        // Nothing pinned may go: only A's unreferenced 25-token tail is evictable.
        assert_eq!(c.evict(1000), 25);
        assert_eq!(c.usage(), CacheUsage { cached: 105, evictable: 0 });
        assert_eq!(c.match_len(&a), 105);

        // B finishes with 40 prompt + 8 output tokens; C finishes with its 10 + 2.
        assert_eq!(c.release(lb, &b.concat(&seq(&[(5, 0, 8)]))), 48);
        assert_eq!(c.release(lc, &cc.concat(&seq(&[(6, 0, 2)]))), 12);
        assert_eq!(c.node_count(), 4); // [0..50) -> {[50..105) -> B's tail, C's tail}
        assert_eq!(c.refs_at(&cc.prefix(50)), Some(0));
        assert_eq!(c.usage(), CacheUsage { cached: 165, evictable: 165 });
        assert_eq!(c.recount(), c.usage());

        // LRU over leaves: B's tail (released first) goes first; its parent [50..105), last
        // used by B's release too, then is a childless candidate older than C's tail; then
        // C's tail; then [0..50).
        assert_eq!(c.evict(1), 48);
        assert_eq!(c.match_len(&b.concat(&seq(&[(5, 0, 8)]))), 105);
        assert_eq!(c.evict(1), 55);
        assert_eq!(c.match_len(&b), 50);
        assert_eq!(c.match_len(&cc.concat(&seq(&[(6, 0, 2)]))), 62);
        assert_eq!(c.evict(1), 12);
        assert_eq!(c.evict(1), 50);
        assert_eq!(c.evict(1), 0);
        assert_eq!(c.node_count(), 0);
        assert_eq!(c.recount(), CacheUsage::default());
    }

    #[test]
    fn acquiring_refreshes_lru_order() {
        let mut c = RadixCache::new(1);
        let (x, y) = (seq(&[(1, 0, 10)]), seq(&[(2, 0, 10)]));
        for s in [&x, &y] {
            let l = c.acquire(s);
            c.release(l, s);
        }
        let l = c.acquire(&x);
        c.release(l, &x);
        // y is now the least recently used.
        assert_eq!(c.evict(1), 10);
        assert_eq!((c.match_len(&x), c.match_len(&y)), (10, 0));
    }

    #[test]
    fn pages_round_matches_down_and_keep_whole_pages() {
        let mut c = RadixCache::new(4);
        assert_eq!(c.page_tokens(), 4);
        let a = seq(&[(0, 0, 10), (1, 0, 5)]); // 15 tokens -> 12 cached
        let l = c.acquire(&a);
        assert_eq!(c.release(l, &a), 12);
        assert_eq!(c.match_len(&seq(&[(0, 0, 10), (2, 0, 5)])), 8);
        assert_eq!(c.match_len(&a), 12);
        // Two pages starting with the same token but differing later are siblings.
        let b = seq(&[(0, 0, 2), (3, 0, 10)]);
        assert_eq!(c.match_len(&b), 0);
        let l = c.acquire(&b);
        assert_eq!(l.matched(), 0);
        assert_eq!(c.release(l, &b), 12);
        assert_eq!(c.node_count(), 2);
        assert_eq!(c.match_len(&b), 12);
        assert_eq!(c.match_len(&a), 12);
        assert_eq!(c.recount(), CacheUsage { cached: 24, evictable: 24 });
    }
}
