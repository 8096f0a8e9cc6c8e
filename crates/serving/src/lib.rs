//! # serving — an LLM inference server simulator (in progress)
//!
//! This crate will simulate an LLM inference server — continuous batching over a KV-cache
//! memory pool, schedulers, and reuse of KV cache across requests — as a library other crates
//! (the agent simulations) drive request by request. What exists today is its foundation:
//!
//! - [`Tokens`] ([`tokens`]): token sequences as runs of pieces `(span, start, len)`; two
//!   tokens are equal iff they have the same span and offset. Prompts are built from spans
//!   (a shared system prompt, a question, an earlier output), and every operation costs time
//!   in proportion to pieces, never tokens.
//! - [`KvCache`] ([`cache`]): the interface the engine drives — peek a prompt's cached prefix,
//!   acquire (match and pin) it, release a finished request's tokens into the cache, evict,
//!   and account for cached and evictable tokens — with its managers, one file each:
//!   [`NoCache`] (`none`), [`PrefixBlockCache`] (`prefix-blocks`, vLLM's automatic prefix
//!   caching: hash-chained full blocks, LRU free queue) and [`RadixCache`] (`radix`, SGLang's
//!   RadixAttention: a token-granular radix tree with reference counts and LRU leaf eviction).
//!   [`CachePolicy`] builds one by name.
//! - [`optimal`]: the optimal hit rate of an offline batch (SGLang's theorem: depth-first order
//!   over the prompts' radix tree computes exactly the sum of its edge lengths) and such a
//!   depth-first order.
//!
//! The engine (arrivals, admission, batching, preemption), the iteration cost model, the
//! schedulers, workloads and metrics are not written yet. What the modelled systems do:
//! SGLang's RadixAttention (Zheng et al., NeurIPS'24, arXiv 2312.07104) and vLLM's automatic
//! prefix caching (vLLM design documents).
//!
//! ## Example: a shared system prompt
//!
//! ```
//! use serving::{CachePolicy, KvCache, Tokens, optimal_reuse};
//!
//! // Two prompts: the same 2,048-token system prompt (span 0), different questions.
//! let p1 = Tokens::span(0, 0, 2048).concat(&Tokens::span(1, 0, 128));
//! let p2 = Tokens::span(0, 0, 2048).concat(&Tokens::span(2, 0, 128));
//! let out1 = Tokens::span(101, 0, 256);
//!
//! let mut cache = CachePolicy::Radix { page_size: 1 }.build();
//! let lease = cache.acquire(&p1);
//! assert_eq!(lease.matched(), 0); // nothing cached yet: compute all 2,176 tokens
//! cache.release(lease, &p1.concat(&out1)); // prompt and output stay cached
//!
//! let lease = cache.acquire(&p2);
//! assert_eq!(lease.matched(), 2048); // the system prompt is reused
//! assert_eq!(cache.usage().evictable, 128 + 256); // the pinned prefix cannot be evicted
//! cache.release(lease, &p2);
//!
//! // With 16-token blocks (vLLM) the same prefix is reused block by block.
//! let mut blocks = CachePolicy::PrefixBlocks { block_size: 16 }.build();
//! let l = blocks.acquire(&p1);
//! blocks.release(l, &p1);
//! assert_eq!(blocks.match_len(&p2), 2048);
//!
//! // The best any order could do on this batch: the system prompt computed once.
//! let best = optimal_reuse(&[p1, p2]);
//! assert_eq!(best.computed_tokens, 2048 + 2 * 128);
//! ```

pub mod cache;
mod none;
pub mod optimal;
mod prefix_blocks;
mod radix;
pub mod tokens;

pub use cache::{CachePolicy, CacheUsage, KvCache, Lease};
pub use none::NoCache;
pub use optimal::{OptimalReuse, dfs_order, optimal_reuse};
pub use prefix_blocks::PrefixBlockCache;
pub use radix::RadixCache;
pub use tokens::{Piece, Token, Tokens};
