//! # serving — an LLM inference server simulator (in progress)
//!
//! This crate simulates an LLM inference server — continuous batching over a KV-cache memory
//! pool, schedulers, and reuse of KV cache across requests — as a library other crates (the
//! agent simulations) drive request by request. What exists today:
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
//! - [`BatchShape`] and [`IterationCost`] ([`batch`]): what one iteration computes and the
//!   interface that prices it.
//! - [`RooflineCost`] ([`cost`]): the iteration cost of one replica on the cluster's roofline
//!   — Vidur's operator decomposition (projections, MLP or experts, norms, prefill and decode
//!   attention, KV writes, LM head) priced as kernels of `cluster`'s compute model with FLOPs
//!   from `models`' inference helpers, tensor-parallel all-reduces on the cluster's collective
//!   model, CUDA graphs for decode, and a per-iteration CPU overhead ([`CostConfig`]); within
//!   10% of published A100 prefill and decode latencies (docs/models/serving.md). [`TpShard`]
//!   ([`tp`]) splits weights and KV over the TP GPUs and sizes the replica's KV pool, with an
//!   error naming the model and GPU when it does not fit.
//! - [`Request`] and [`Completion`] ([`request`]): a request (prompt, output length, the span
//!   its output uses so a later chat turn can include it) and how it was served.
//! - [`Scheduler`] ([`scheduler`]): the admission order, [`SchedulePolicy`] `fcfs`, `lpm`
//!   ([`lpm`], with SGLang's FCFS fallback and in-batch prefix check), `dfs-weight`
//!   ([`dfs_weight`]), `random`, `lof`.
//! - [`Server`] ([`engine`]): SGLang-style continuous batching with explicit time — a KV pool
//!   shared by cache and running requests, prefill admission under token budgets with chunked
//!   prefill, room reserved for future outputs ([`Admission`]: SGLang's new-token ratio or
//!   vLLM's watermark), decode steps, retraction with recomputation when memory runs out.
//!   [`EngineConfig`] ([`config`]) holds its settings and [`kv_pool_tokens`] sizes the pool
//!   from memory. [`ServingSim`] / [`run_workload`] ([`run`]) run a whole workload on simcore.
//! - [`Metrics`] and [`ServerStats`] ([`metrics`]): throughput, hit rate, TTFT/TPOT/E2E
//!   percentiles, batch size, preemptions, KV use, and series over time.
//!
//! - [`WorkloadSpec`] ([`workload`]): the calls clients send — [`Call`]s with prompts as
//!   [`Tokens`], output lengths and dependencies, rooted at [`Arrivals`] (offline, Poisson or
//!   a trace's timestamps). Seeded generators (`shared-prefix` with SGLang's benchmark
//!   defaults, `few-shot`, `multi-turn`, `tree-of-thought`, `agent-chain`) and replays of the
//!   Azure 2023 (Splitwise) and Mooncake traces shipped in `data/serving/`, one file each.
//!
//! - [`drive`] ([`driver`]): a workload of dependent calls on one or more replicas, each a
//!   [`Server`] with its own cache, behind a [`Router`] ([`router`]: `round-robin`,
//!   `least-outstanding`, `cache-aware`); a call is sent `delay` after its last parent
//!   completes. [`optimal_hit_rate`] is the offline bound beside the achieved hit rate.
//! - [`ServingSimulator`] ([`simulator`]): `kind: serving` for the experiment runner, with its
//!   workload and system entries ([`ServingWorkload`], [`SystemSpec`]: `radix`,
//!   `prefix-blocks`, `none`) in [`workload_config`]; configs in `configs/serving/`.
//!
//! What the modelled systems do: SGLang's RadixAttention (Zheng et al., NeurIPS'24, arXiv 2312.07104) and vLLM's
//! automatic prefix caching (vLLM design documents).
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
//!
//! ## Example: serving two requests
//!
//! ```
//! use serving::{BatchShape, CachePolicy, EngineConfig, IterationCost, Request, Tokens, run_workload};
//! use simcore::SimTime;
//!
//! // A stand-in cost: 1 ms per iteration plus 10 us per token.
//! struct Cost;
//! impl IterationCost for Cost {
//!     fn iteration_time(&mut self, b: &BatchShape) -> SimTime {
//!         SimTime::from_micros(1000 + 10 * b.tokens())
//!     }
//! }
//!
//! let sys = Tokens::span(0, 0, 2048);
//! let reqs = vec![
//!     Request::new(0, SimTime::ZERO, sys.concat(&Tokens::span(1, 0, 128)), 16, 100),
//!     Request::new(1, SimTime::from_secs(1), sys.concat(&Tokens::span(2, 0, 128)), 16, 101),
//! ];
//! let cfg = EngineConfig { kv_tokens: 100_000, ..EngineConfig::default() };
//! let run = run_workload(cfg, CachePolicy::Radix { page_size: 1 }.build(), Box::new(Cost), reqs)
//!     .unwrap();
//! assert_eq!(run.completions.len(), 2);
//! // The second request reuses the system prompt: 2048 of 4352 prompt tokens.
//! assert!((run.metrics.cache_hit_rate - 2048.0 / 4352.0).abs() < 1e-12);
//! ```

pub mod batch;
pub mod cache;
pub mod config;
pub mod cost;
pub mod dfs_weight;
pub mod driver;
pub mod engine;
pub mod lpm;
pub mod metrics;
mod none;
pub mod optimal;
mod prefix_blocks;
mod radix;
pub mod replicas;
pub mod request;
pub mod router;
pub mod run;
pub mod scheduler;
pub mod simulator;
pub mod tokens;
pub mod tp;
pub mod workload;
pub mod workload_config;

pub use batch::{BatchShape, IterationCost, PrefillChunk};
pub use cache::{CachePolicy, CacheUsage, KvCache, Lease};
pub use config::{Admission, EngineConfig, kv_pool_tokens};
pub use cost::{CostBreakdown, CostConfig, RooflineCost};
pub use driver::{DriveRun, DriverEvent, drive, optimal_hit_rate};
pub use engine::{Server, SubmitError};
pub use metrics::{Metrics, ServerStats};
pub use none::NoCache;
pub use optimal::{OptimalReuse, dfs_order, optimal_reuse};
pub use prefix_blocks::PrefixBlockCache;
pub use radix::RadixCache;
pub use replicas::Replicas;
pub use request::{Completion, Request};
pub use router::{Router, RouterPolicy};
pub use run::{ServingEvent, ServingSim, WorkloadRun, run_workload};
pub use scheduler::{Candidate, SchedulePolicy, Scheduler, UnknownPolicy};
pub use simulator::ServingSimulator;
pub use tokens::{Piece, Token, Tokens};
pub use tp::{TpComm, TpShard, sglang_mem_fraction};
pub use workload::{Arrivals, Call, WorkloadSpec};
pub use workload_config::{AdmissionName, CostSpec, EngineSpec, ServingWorkload, SystemSpec};
