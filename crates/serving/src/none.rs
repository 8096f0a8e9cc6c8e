//! `none`: no reuse across requests. Every prompt is computed in full and a finished request's
//! KV is freed at once.

use crate::Tokens;
use crate::cache::{CacheUsage, KvCache, Lease};

/// The manager that keeps nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoCache;

impl KvCache for NoCache {
    fn name(&self) -> &'static str {
        "none"
    }

    fn page_tokens(&self) -> u32 {
        1
    }

    fn match_len(&self, _seq: &Tokens) -> u64 {
        0
    }

    fn acquire(&mut self, _seq: &Tokens) -> Lease {
        Lease::new(0, 0)
    }

    fn release(&mut self, _lease: Lease, _computed: &Tokens) -> u64 {
        0
    }

    fn evict(&mut self, _tokens: u64) -> u64 {
        0
    }

    fn usage(&self) -> CacheUsage {
        CacheUsage::default()
    }

    fn recount(&self) -> CacheUsage {
        CacheUsage::default()
    }
}
