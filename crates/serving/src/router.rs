//! Data-parallel replicas behind a router: which replica a new request goes to.
//!
//! Each replica is a whole [`Server`] with its own KV pool and cache; the router sees, for
//! every replica, its server (to ask its cache how much of a prompt it holds) and the number
//! of requests routed to it that have not finished yet (`outstanding`). Policies:
//!
//! - `round-robin`: replicas in turn, whatever they hold.
//! - `least-outstanding`: the replica with the fewest unfinished requests (ties: lowest
//!   index).
//! - `cache-aware`: the replica whose cache holds the longest prefix of the prompt
//!   ([`crate::KvCache::match_len`]), ties broken by fewest outstanding requests, then lowest
//!   index. This is the idea of SGLang's cache-aware router (sgl-router) without its
//!   load-balancing threshold: it always follows the longest match, so a popular prefix can
//!   pile its requests on one replica.

use serde::{Deserialize, Serialize};

use crate::{Server, Tokens};

/// How requests are spread over replicas.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RouterPolicy {
    /// Replicas in turn.
    #[default]
    RoundRobin,
    /// Fewest unfinished requests.
    LeastOutstanding,
    /// Longest cached prefix of the prompt, then fewest unfinished requests.
    CacheAware,
}

impl RouterPolicy {
    /// The name configs use.
    pub fn name(self) -> &'static str {
        match self {
            RouterPolicy::RoundRobin => "round-robin",
            RouterPolicy::LeastOutstanding => "least-outstanding",
            RouterPolicy::CacheAware => "cache-aware",
        }
    }
}

/// A router with its state (the round-robin position).
#[derive(Clone, Debug, Default)]
pub struct Router {
    policy: RouterPolicy,
    next: usize,
}

impl Router {
    /// A router of `policy`.
    pub fn new(policy: RouterPolicy) -> Self {
        Self { policy, next: 0 }
    }

    /// The policy.
    pub fn policy(&self) -> RouterPolicy {
        self.policy
    }

    /// The replica for a request with `prompt`; `outstanding[i]` is replica `i`'s unfinished
    /// requests. `servers` must not be empty and `outstanding` must have one entry per server.
    pub fn pick(&mut self, prompt: &Tokens, servers: &[Server], outstanding: &[u64]) -> usize {
        let n = servers.len();
        debug_assert!(n > 0 && outstanding.len() == n);
        if n == 1 {
            return 0;
        }
        match self.policy {
            RouterPolicy::RoundRobin => {
                let i = self.next % n;
                self.next = (i + 1) % n;
                i
            }
            RouterPolicy::LeastOutstanding => {
                (0..n).min_by_key(|&i| (outstanding[i], i)).unwrap_or(0)
            }
            RouterPolicy::CacheAware => (0..n)
                .map(|i| (servers[i].cache().match_len(prompt), i))
                .max_by(|a, b| {
                    a.0.cmp(&b.0).then(outstanding[b.1].cmp(&outstanding[a.1])).then(b.1.cmp(&a.1))
                })
                .map_or(0, |(_, i)| i),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BatchShape, CachePolicy, EngineConfig, IterationCost, Request};
    use simcore::SimTime;

    struct Cost;
    impl IterationCost for Cost {
        fn iteration_time(&mut self, b: &BatchShape) -> SimTime {
            SimTime::from_micros(100 + b.tokens())
        }
    }

    fn servers(n: usize) -> Vec<Server> {
        (0..n)
            .map(|_| {
                Server::new(
                    EngineConfig { kv_tokens: 100_000, ..EngineConfig::default() },
                    CachePolicy::Radix { page_size: 1 }.build(),
                    Box::new(Cost),
                )
                .unwrap()
            })
            .collect()
    }

    #[test]
    fn round_robin_and_least_outstanding() {
        let s = servers(3);
        let p = Tokens::span(0, 0, 10);
        let mut rr = Router::new(RouterPolicy::RoundRobin);
        let picks: Vec<usize> = (0..4).map(|_| rr.pick(&p, &s, &[0, 0, 0])).collect();
        assert_eq!(picks, [0, 1, 2, 0]);
        let mut lo = Router::new(RouterPolicy::LeastOutstanding);
        assert_eq!(lo.pick(&p, &s, &[2, 1, 1]), 1);
    }

    #[test]
    fn cache_aware_follows_the_longest_prefix() {
        let mut s = servers(2);
        let sys = Tokens::span(7, 0, 500);
        let r = Request::new(0, SimTime::ZERO, sys.concat(&Tokens::span(1, 0, 10)), 2, 100);
        s[1].submit(r).unwrap();
        let mut out = Vec::new();
        s[1].run_to_completion(&mut out);
        let mut ca = Router::new(RouterPolicy::CacheAware);
        let p = sys.concat(&Tokens::span(2, 0, 10));
        // Replica 1 holds the system prompt, even though it has more outstanding requests.
        assert_eq!(ca.pick(&p, &s, &[0, 5]), 1);
        // Nothing cached anywhere: the least loaded.
        assert_eq!(ca.pick(&Tokens::span(9, 0, 5), &s, &[3, 1]), 1);
        assert_eq!(ca.pick(&Tokens::span(9, 0, 5), &s, &[1, 1]), 0);
    }
}
