//! The order in which waiting requests are considered for prefill (SGLang's schedule policy).
//!
//! Each time the engine forms a prefill batch it asks the [`Scheduler`] for an order over the
//! waiting queue and admits requests in that order until the token budget or memory runs out
//! (it stops at the first request that does not fit, as SGLang does). The queue itself is
//! kept in arrival order (retracted requests at its front); a policy never reorders it for good.
//!
//! Policies ([`SchedulePolicy`], names as configs spell them):
//! - `fcfs`: queue order.
//! - `lpm`: longest cached prefix first (per [`KvCache::match_len`]), with SGLang's in-batch
//!   prefix check; queue order when more than 128 requests wait ([`crate::lpm`]).
//! - `dfs-weight`: depth-first over the waiting prompts' token tree, subtrees holding more
//!   requests first ([`crate::dfs_weight`]).
//! - `random`: a uniformly random order from the seeded stream the scheduler was given.
//! - `lof`: longest remaining output first (ties in queue order).
//!
//! Cost: `fcfs` none (the engine walks the queue); the others O(w log w) comparisons of
//! O(pieces) each for w waiting requests, every prefill round, as in SGLang (`lpm` is bounded
//! by its 128-request fallback).

use std::fmt;

use simcore::StreamRng;

use crate::{KvCache, Tokens};

/// A waiting request as a policy sees it.
#[derive(Clone, Copy, Debug)]
pub struct Candidate<'a> {
    /// The tokens its prefill would cover (the prompt; after a preemption also the output
    /// generated so far).
    pub tokens: &'a Tokens,
    /// Output tokens it still has to generate.
    pub remaining_output: u32,
}

/// Which order waiting requests are admitted in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SchedulePolicy {
    /// First come, first served.
    #[default]
    Fcfs,
    /// Longest prefix match first (SGLang's cache-aware policy).
    Lpm,
    /// Depth-first over the waiting prompts' tree, heavier subtrees first.
    DfsWeight,
    /// Random order (seeded).
    Random,
    /// Longest output first.
    Lof,
}

impl SchedulePolicy {
    /// The names [`SchedulePolicy::from_name`] accepts.
    pub const NAMES: [&'static str; 5] = ["fcfs", "lpm", "dfs-weight", "random", "lof"];

    /// The policy of that name; the error lists the valid names.
    pub fn from_name(name: &str) -> Result<Self, UnknownPolicy> {
        match name {
            "fcfs" => Ok(Self::Fcfs),
            "lpm" => Ok(Self::Lpm),
            "dfs-weight" => Ok(Self::DfsWeight),
            "random" => Ok(Self::Random),
            "lof" => Ok(Self::Lof),
            _ => Err(UnknownPolicy(name.to_string())),
        }
    }

    /// The name configs use.
    pub fn name(self) -> &'static str {
        match self {
            Self::Fcfs => "fcfs",
            Self::Lpm => "lpm",
            Self::DfsWeight => "dfs-weight",
            Self::Random => "random",
            Self::Lof => "lof",
        }
    }
}

impl std::str::FromStr for SchedulePolicy {
    type Err = UnknownPolicy;
    fn from_str(s: &str) -> Result<Self, UnknownPolicy> {
        Self::from_name(s)
    }
}

/// A schedule policy name that is not one of [`SchedulePolicy::NAMES`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownPolicy(pub String);

impl fmt::Display for UnknownPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown schedule policy `{}`{}; valid: {}",
            self.0,
            simcore::names::did_you_mean(&self.0, SchedulePolicy::NAMES),
            SchedulePolicy::NAMES.join(", ")
        )
    }
}

impl std::error::Error for UnknownPolicy {}

/// A policy with its state (the random stream, scratch space).
#[derive(Debug)]
pub struct Scheduler {
    policy: SchedulePolicy,
    rng: StreamRng,
    keys: Vec<u64>,
    lpm_fcfs_above: Option<u32>,
}

impl Scheduler {
    /// A scheduler of `policy`; `rng` is used by `random` only; `lpm` falls back to queue order
    /// while more than `lpm_fcfs_above` requests wait (never with `None`).
    pub fn new(policy: SchedulePolicy, rng: StreamRng, lpm_fcfs_above: Option<u32>) -> Self {
        Self { policy, rng, keys: Vec::new(), lpm_fcfs_above }
    }

    /// The policy.
    pub fn policy(&self) -> SchedulePolicy {
        self.policy
    }

    /// Whether this round uses plain queue order for `waiting` requests: then the engine walks
    /// the queue and [`Scheduler::order`] need not be called.
    pub fn queue_order(&self, waiting: usize) -> bool {
        match self.policy {
            SchedulePolicy::Fcfs => true,
            SchedulePolicy::Lpm => self.lpm_fcfs_above.is_some_and(|n| waiting > n as usize),
            _ => waiting <= 1,
        }
    }

    /// Fills `order` with the positions in `waiting` to consider this round, best first.
    /// Positions left out wait for a later round (`lpm`'s in-batch prefix check).
    pub fn order(
        &mut self,
        waiting: &[Candidate<'_>],
        cache: &dyn KvCache,
        order: &mut Vec<usize>,
    ) {
        order.clear();
        if self.queue_order(waiting.len()) {
            order.extend(0..waiting.len());
            return;
        }
        match self.policy {
            SchedulePolicy::Fcfs => unreachable!("fcfs always uses queue order"),
            SchedulePolicy::Lpm => crate::lpm::order(waiting, cache, &mut self.keys, order),
            SchedulePolicy::DfsWeight => crate::dfs_weight::order(waiting, order),
            SchedulePolicy::Random => {
                order.extend(0..waiting.len());
                self.rng.shuffle(order);
            }
            SchedulePolicy::Lof => {
                order.extend(0..waiting.len());
                // Stable: equal outputs keep queue order.
                order.sort_by_key(|&i| std::cmp::Reverse(waiting[i].remaining_output));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CachePolicy;
    use simcore::RandomStreams;

    fn sched(p: SchedulePolicy) -> Scheduler {
        Scheduler::new(p, RandomStreams::new(1).stream("schedule"), Some(128))
    }

    #[test]
    fn names_round_trip_and_errors_list_valid_ones() {
        for n in SchedulePolicy::NAMES {
            assert_eq!(SchedulePolicy::from_name(n).unwrap().name(), n);
        }
        let e = SchedulePolicy::from_name("lmp").unwrap_err().to_string();
        assert!(e.contains("`lmp`") && e.contains("did you mean `lpm`"), "{e}");
        assert!(e.contains("fcfs, lpm, dfs-weight, random, lof"), "{e}");
    }

    #[test]
    fn lof_and_random_orders() {
        let t = [Tokens::span(1, 0, 5), Tokens::span(2, 0, 5), Tokens::span(3, 0, 5)];
        let c: Vec<_> = t
            .iter()
            .zip([10, 30, 10])
            .map(|(tokens, remaining_output)| Candidate { tokens, remaining_output })
            .collect();
        let cache = CachePolicy::None.build();
        let mut o = Vec::new();
        sched(SchedulePolicy::Lof).order(&c, cache.as_ref(), &mut o);
        assert_eq!(o, vec![1, 0, 2]);
        sched(SchedulePolicy::Random).order(&c, cache.as_ref(), &mut o);
        let mut s = o.clone();
        s.sort_unstable();
        assert_eq!(s, vec![0, 1, 2]);
        let mut again = Vec::new();
        sched(SchedulePolicy::Random).order(&c, cache.as_ref(), &mut again);
        assert_eq!(o, again, "same seed, same order");
        sched(SchedulePolicy::Fcfs).order(&c, cache.as_ref(), &mut o);
        assert_eq!(o, vec![0, 1, 2]);
    }
}
