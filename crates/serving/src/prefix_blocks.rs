//! `prefix-blocks`: vLLM's automatic prefix caching.
//!
//! KV lives in blocks of `block_size` tokens. A *full* block is identified by the hash chain
//! of its prefix: `hash(parent block's hash, the block's tokens)`, so a block matches only if
//! every token before it matches too. A partial last block is never cached (10 shared tokens
//! with block size 4 reuse 8). Matching walks a prompt's full blocks in order and stops at the
//! first hash not cached.
//!
//! Invariants, kept here:
//! - `by_hash` maps the hash of every cached block to it, one block per hash;
//! - a block's `refs` counts the running requests that matched it; pinned blocks (refs > 0)
//!   are never evicted;
//! - the free queue holds exactly the unreferenced cached blocks, least recently released at
//!   the head; eviction pops the head. A finished request's blocks enter at the tail in reverse
//!   order (its last block first), so its deepest block is evicted first — vLLM's
//!   "longer prefix first" tie-break.
//! - Evicting a block does not evict the blocks after it: they stay cached but unreachable
//!   until the prefix is computed again (as in vLLM).
//!
//! Simplifications: blocks are offered to the cache when the request releases them, not the
//! moment they fill (a concurrent request with the same prefix does not hit them earlier); a
//! computed block whose hash is already cached is dropped (the cached copy is kept where it
//! is in the queue). Hashes are 64-bit and collisions are ignored.

use simcore::fast_hash::FastMap;

use crate::Tokens;
use crate::cache::{CacheUsage, KvCache, Lease};
use crate::tokens::{Cursor, Piece};

const NIL: u32 = u32::MAX;

#[derive(Clone, Copy, Debug)]
struct Block {
    hash: u64,
    refs: u32,
    prev: u32,
    next: u32,
    alive: bool,
}

/// vLLM-style prefix caching over hash-chained full blocks with an LRU free queue.
#[derive(Debug)]
pub struct PrefixBlockCache {
    block_size: u32,
    blocks: Vec<Block>,
    free_slots: Vec<u32>,
    by_hash: FastMap<u64, u32>,
    head: u32,
    tail: u32,
    queued: u64,
    scratch: Vec<u32>,
}

#[inline]
fn fmix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[inline]
fn mix(h: u64, x: u64) -> u64 {
    fmix(h ^ fmix(x.wrapping_add(0x9e37_79b9_7f4a_7c15)))
}

/// The hash chain of a sequence's full blocks, block by block. Each block's tokens are fed as
/// the normalised sub-pieces that cover it, so equal tokens give equal hashes.
struct BlockHashes<'a> {
    pieces: &'a [Piece],
    at: Cursor,
    left: u64,
    block: u32,
    parent: u64,
}

impl<'a> BlockHashes<'a> {
    fn new(seq: &'a Tokens, block: u32) -> Self {
        Self { pieces: seq.pieces(), at: Cursor::default(), left: seq.len(), block, parent: 0x5eed }
    }
}

impl Iterator for BlockHashes<'_> {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        if self.left < u64::from(self.block) {
            return None;
        }
        let mut h = mix(self.parent, u64::from(self.block));
        let mut need = self.block;
        while need > 0 {
            let p = self.pieces[self.at.piece];
            let take = (p.len - self.at.off).min(need);
            h = mix(mix(mix(h, p.span), u64::from(p.start + self.at.off)), u64::from(take));
            need -= take;
            self.at.advance(self.pieces, u64::from(take));
        }
        self.left -= u64::from(self.block);
        self.parent = h;
        Some(h)
    }
}

impl PrefixBlockCache {
    /// An empty cache with blocks of `block_size` tokens (vLLM's default is 16).
    pub fn new(block_size: u32) -> Self {
        assert!(block_size > 0, "block size must be positive");
        Self {
            block_size,
            blocks: Vec::new(),
            free_slots: Vec::new(),
            by_hash: FastMap::default(),
            head: NIL,
            tail: NIL,
            queued: 0,
            scratch: Vec::new(),
        }
    }

    /// Tokens per block.
    pub fn block_size(&self) -> u32 {
        self.block_size
    }

    /// The hashes of the free queue's blocks, head (next evicted) first. For tests.
    pub fn free_queue_hashes(&self) -> Vec<u64> {
        let mut out = Vec::new();
        let mut b = self.head;
        while b != NIL {
            out.push(self.blocks[b as usize].hash);
            b = self.blocks[b as usize].next;
        }
        out
    }

    /// The hash chain of `seq`'s full blocks (the keys this cache would use). For tests.
    pub fn block_hashes(&self, seq: &Tokens) -> Vec<u64> {
        BlockHashes::new(seq, self.block_size).collect()
    }

    fn unlink(&mut self, b: u32) {
        let Block { prev, next, .. } = self.blocks[b as usize];
        if prev == NIL {
            self.head = next
        } else {
            self.blocks[prev as usize].next = next
        }
        if next == NIL {
            self.tail = prev
        } else {
            self.blocks[next as usize].prev = prev
        }
        self.queued -= 1;
    }

    fn push_tail(&mut self, b: u32) {
        self.blocks[b as usize].prev = self.tail;
        self.blocks[b as usize].next = NIL;
        if self.tail == NIL {
            self.head = b
        } else {
            self.blocks[self.tail as usize].next = b
        }
        self.tail = b;
        self.queued += 1;
    }

    fn new_block(&mut self, hash: u64) -> u32 {
        let block = Block { hash, refs: 0, prev: NIL, next: NIL, alive: true };
        let b = match self.free_slots.pop() {
            Some(b) => {
                self.blocks[b as usize] = block;
                b
            }
            None => {
                self.blocks.push(block);
                (self.blocks.len() - 1) as u32
            }
        };
        self.by_hash.insert(hash, b);
        b
    }

    fn bs(&self) -> u64 {
        u64::from(self.block_size)
    }
}

impl KvCache for PrefixBlockCache {
    fn name(&self) -> &'static str {
        "prefix-blocks"
    }

    fn page_tokens(&self) -> u32 {
        self.block_size
    }

    fn match_len(&self, seq: &Tokens) -> u64 {
        let hits = BlockHashes::new(seq, self.block_size)
            .take_while(|h| self.by_hash.contains_key(h))
            .count();
        hits as u64 * self.bs()
    }

    fn acquire(&mut self, seq: &Tokens) -> Lease {
        let mut hits = 0u64;
        for h in BlockHashes::new(seq, self.block_size) {
            let Some(&b) = self.by_hash.get(&h) else { break };
            if self.blocks[b as usize].refs == 0 {
                self.unlink(b);
            }
            self.blocks[b as usize].refs += 1;
            hits += 1;
        }
        Lease::new(hits * self.bs(), 0)
    }

    fn release(&mut self, lease: Lease, computed: &Tokens) -> u64 {
        debug_assert!(computed.len() >= lease.matched(), "computed tokens shorter than the lease");
        let leased = lease.matched() / self.bs();
        let mut order = std::mem::take(&mut self.scratch);
        order.clear();
        let mut added = 0u64;
        for (i, h) in BlockHashes::new(computed, self.block_size).enumerate() {
            if (i as u64) < leased {
                let b = *self.by_hash.get(&h).expect("a leased block is pinned, hence cached");
                let blk = &mut self.blocks[b as usize];
                blk.refs -= 1;
                if blk.refs == 0 {
                    order.push(b);
                }
            } else if !self.by_hash.contains_key(&h) {
                order.push(self.new_block(h));
                added += self.bs();
            }
        }
        for &b in order.iter().rev() {
            self.push_tail(b);
        }
        self.scratch = order;
        added
    }

    fn evict(&mut self, tokens: u64) -> u64 {
        let mut freed = 0;
        while freed < tokens && self.head != NIL {
            let b = self.head;
            self.unlink(b);
            let hash = self.blocks[b as usize].hash;
            self.by_hash.remove(&hash);
            self.blocks[b as usize].alive = false;
            self.free_slots.push(b);
            freed += self.bs();
        }
        freed
    }

    fn usage(&self) -> CacheUsage {
        CacheUsage {
            cached: self.by_hash.len() as u64 * self.bs(),
            evictable: self.queued * self.bs(),
        }
    }

    fn recount(&self) -> CacheUsage {
        let (mut alive, mut free) = (0u64, 0u64);
        for (i, b) in self.blocks.iter().enumerate() {
            if b.alive {
                alive += 1;
                free += u64::from(b.refs == 0);
                assert_eq!(
                    self.by_hash.get(&b.hash),
                    Some(&(i as u32)),
                    "block {i} not under its hash"
                );
            }
        }
        assert_eq!(alive, self.by_hash.len() as u64, "hash map and blocks disagree");
        let (mut listed, mut prev, mut b) = (0u64, NIL, self.head);
        while b != NIL {
            let blk = &self.blocks[b as usize];
            assert!(blk.alive && blk.refs == 0, "free queue holds a pinned or dead block");
            assert_eq!(blk.prev, prev, "free queue links broken");
            listed += 1;
            prev = b;
            b = blk.next;
        }
        assert_eq!(prev, self.tail, "free queue tail broken");
        assert_eq!(listed, free, "free queue must hold exactly the unreferenced blocks");
        CacheUsage { cached: alive * self.bs(), evictable: free * self.bs() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prompt(q: u64, shared: u32, own: u32) -> Tokens {
        Tokens::span(0, 0, shared).concat(&Tokens::span(q, 0, own))
    }

    #[test]
    fn partial_blocks_never_match() {
        let mut c = PrefixBlockCache::new(4);
        let a = prompt(1, 10, 5);
        let l = c.acquire(&a);
        assert_eq!(l.matched(), 0);
        // 15 tokens: 3 full blocks cached, the 3 trailing tokens dropped.
        assert_eq!(c.release(l, &a), 12);
        assert_eq!(c.usage(), CacheUsage { cached: 12, evictable: 12 });
        // 10 shared tokens with block size 4 give 8 cached.
        assert_eq!(c.match_len(&prompt(2, 10, 5)), 8);
        // A prompt of 11 identical tokens: still 8 (block 3 is 3 of a's then 1 other).
        assert_eq!(c.match_len(&a.prefix(11)), 8);
        assert_eq!(c.match_len(&a.prefix(12)), 12);
        assert_eq!(c.match_len(&a.prefix(3)), 0);
        assert_eq!(c.recount(), c.usage());
    }

    #[test]
    fn hashes_depend_on_tokens_not_piece_boundaries() {
        let c = PrefixBlockCache::new(4);
        let a = Tokens::span(0, 0, 8);
        let b = Tokens::from_pieces([Piece::new(0, 0, 3), Piece::new(0, 3, 5)]);
        assert_eq!(c.block_hashes(&a), c.block_hashes(&b));
        // Same second block tokens after a different first block: a different hash.
        let d = Tokens::span(9, 0, 4).concat(&a.slice(4, 8));
        assert_ne!(c.block_hashes(&a)[1], c.block_hashes(&d)[1]);
    }

    #[test]
    fn free_queue_is_lru_with_a_request_tail_first() {
        let mut c = PrefixBlockCache::new(4);
        let a = Tokens::span(1, 0, 12); // blocks a0 a1 a2
        let b = Tokens::span(2, 0, 8); // blocks b0 b1
        let (ha, hb) = (c.block_hashes(&a), c.block_hashes(&b));
        let la = c.acquire(&a);
        c.release(la, &a);
        let lb = c.acquire(&b);
        c.release(lb, &b);
        // a released first, each request's last block ahead of its first.
        assert_eq!(c.free_queue_hashes(), vec![ha[2], ha[1], ha[0], hb[1], hb[0]]);
        // Reusing a's first two blocks pins them (out of the queue), then re-queues them at
        // the tail, with a's third block left where it was.
        let l = c.acquire(&a.prefix(8));
        assert_eq!(l.matched(), 8);
        assert_eq!(c.usage(), CacheUsage { cached: 20, evictable: 12 });
        assert_eq!(c.free_queue_hashes(), vec![ha[2], hb[1], hb[0]]);
        // Pinned blocks survive any eviction request.
        assert_eq!(c.evict(u64::MAX), 12);
        assert_eq!(c.usage(), CacheUsage { cached: 8, evictable: 0 });
        assert_eq!(c.match_len(&a), 8);
        c.release(l, &a.prefix(8));
        assert_eq!(c.free_queue_hashes(), vec![ha[1], ha[0]]);
        // Eviction order: head first, whole blocks.
        assert_eq!(c.evict(1), 4);
        assert_eq!(c.match_len(&a), 4);
        assert_eq!(c.recount(), c.usage());
    }

    #[test]
    fn shared_blocks_are_referenced_by_several_requests() {
        let mut c = PrefixBlockCache::new(4);
        let a = prompt(1, 8, 4);
        let l = c.acquire(&a);
        c.release(l, &a);
        let l1 = c.acquire(&prompt(2, 8, 4));
        let l2 = c.acquire(&prompt(3, 8, 4));
        assert_eq!((l1.matched(), l2.matched()), (8, 8));
        assert_eq!(c.usage(), CacheUsage { cached: 12, evictable: 4 });
        c.release(l1, &prompt(2, 8, 4));
        assert_eq!(c.usage(), CacheUsage { cached: 16, evictable: 8 });
        assert_eq!(c.evict(u64::MAX), 8);
        assert_eq!(c.match_len(&a), 8);
        c.release(l2, &prompt(3, 8, 4));
        assert_eq!(c.usage(), CacheUsage { cached: 12, evictable: 12 });
        assert_eq!(c.recount(), c.usage());
    }
}
