//! The interface between the serving engine and a KV-cache manager.
//!
//! Cached KV and running requests share one memory pool (SGLang; vLLM likewise). The engine
//! drives a manager through one request's life:
//!
//! 1. [`KvCache::match_len`] peeks at how much of a prompt is cached (for scheduling, routing),
//!    changing nothing;
//! 2. [`KvCache::acquire`] matches and pins the matched prefix so it cannot be evicted while the
//!    request runs, and returns a [`Lease`] saying how many tokens are reused; the engine
//!    computes the rest and holds them as the request's private KV;
//! 3. [`KvCache::release`], when the request finishes or is preempted, offers its computed
//!    tokens (prompt and output so far) to the cache, which keeps what its rule allows and
//!    unpins the lease; the request's private KV is gone after this call;
//! 4. [`KvCache::evict`] frees unpinned content when the pool runs short.
//!
//! [`KvCache::usage`] gives the tokens the cache holds and how many of them are evictable, so
//! the engine can keep `usage().cached + private tokens of running requests <= pool`, and
//! admit a request when `pool - cached - private + evictable` covers it.
//!
//! The managers: [`crate::NoCache`], [`crate::PrefixBlockCache`], [`crate::RadixCache`];
//! [`CachePolicy`] builds one by name.

use crate::Tokens;
use crate::{NoCache, PrefixBlockCache, RadixCache};

/// A running request's hold on its matched prefix. Returned by [`KvCache::acquire`], consumed
/// by [`KvCache::release`] of the same cache (so it cannot be released twice).
#[must_use = "a lease pins cached tokens until it is released"]
#[derive(Debug, PartialEq, Eq)]
pub struct Lease {
    matched: u64,
    handle: u32,
}

impl Lease {
    pub(crate) fn new(matched: u64, handle: u32) -> Self {
        Self { matched, handle }
    }

    /// Tokens of the prompt found in the cache: the request computes only the rest.
    #[inline]
    pub fn matched(&self) -> u64 {
        self.matched
    }

    #[inline]
    pub(crate) fn handle(&self) -> u32 {
        self.handle
    }
}

/// Tokens held by a cache and how many of them no running request pins.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheUsage {
    /// Tokens whose KV the cache holds (pinned or not).
    pub cached: u64,
    /// Of those, tokens that [`KvCache::evict`] may free.
    pub evictable: u64,
}

/// A KV-cache manager: what is kept after requests finish, what a new prompt can reuse, what
/// goes first when memory is short.
pub trait KvCache {
    /// The manager's name as configs spell it (`none`, `prefix-blocks`, `radix`).
    fn name(&self) -> &'static str;

    /// Allocation granularity in tokens (a block or page): the engine rounds a request's
    /// private KV up to it. 1 for token-granular managers.
    fn page_tokens(&self) -> u32;

    /// Longest usable cached prefix of `seq`, in tokens. No state changes.
    fn match_len(&self, seq: &Tokens) -> u64;

    /// Matches `seq`, pins the matched prefix and marks it used now (for LRU).
    fn acquire(&mut self, seq: &Tokens) -> Lease;

    /// Ends a lease: offers `computed` (the request's prompt and output tokens computed so far;
    /// it must begin with the matched prefix) to the cache, then unpins. Returns the tokens
    /// newly added to the cache; the rest of the request's private KV is freed.
    fn release(&mut self, lease: Lease, computed: &Tokens) -> u64;

    /// Evicts unpinned content, in the manager's order, until at least `tokens` are freed or
    /// nothing evictable is left. Returns the tokens freed (may exceed `tokens`: whole blocks
    /// or nodes go).
    fn evict(&mut self, tokens: u64) -> u64;

    /// Tokens held and evictable, kept up to date in O(1).
    fn usage(&self) -> CacheUsage;

    /// The same figures recounted from scratch, checking the manager's structural invariants
    /// on the way (panics if one is broken). O(size of the cache): for tests and debugging.
    fn recount(&self) -> CacheUsage;
}

/// Which manager to build, with its parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CachePolicy {
    /// Keep nothing.
    None,
    /// vLLM automatic prefix caching with blocks of `block_size` tokens.
    PrefixBlocks {
        /// Tokens per block (vLLM's default 16).
        block_size: u32,
    },
    /// SGLang RadixAttention with pages of `page_size` tokens.
    Radix {
        /// Tokens per page (SGLang's default 1).
        page_size: u32,
    },
}

impl CachePolicy {
    /// The names [`CachePolicy::from_name`] accepts.
    pub const NAMES: [&'static str; 3] = ["none", "prefix-blocks", "radix"];

    /// The policy of that name with its default parameter (block 16, page 1).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "none" => Some(Self::None),
            "prefix-blocks" => Some(Self::PrefixBlocks { block_size: 16 }),
            "radix" => Some(Self::Radix { page_size: 1 }),
            _ => None,
        }
    }

    /// A new, empty manager.
    pub fn build(self) -> Box<dyn KvCache> {
        match self {
            Self::None => Box::new(NoCache),
            Self::PrefixBlocks { block_size } => Box::new(PrefixBlockCache::new(block_size)),
            Self::Radix { page_size } => Box::new(RadixCache::new(page_size)),
        }
    }
}
