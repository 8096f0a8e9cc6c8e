//! What a server run reports: counters and series the engine keeps ([`ServerStats`]) and the
//! headline metrics computed from them and the completions ([`Metrics`]).
//!
//! Definitions (names as in the result files):
//! - `throughput_req_s`, `throughput_tok_s`: finished requests and their output tokens per
//!   second of the run (first arrival to last finish);
//! - `cache_hit_rate`: prompt tokens reused from the cache at first admission / prompt tokens
//!   (SGLang's hit rate; recomputation after a preemption is not counted);
//! - `ttft_p50_s`, `ttft_p99_s`, `e2e_p50_s`, `e2e_p99_s`: exact nearest-rank percentiles of
//!   time to first token and arrival-to-finish;
//! - `tpot_s`: mean over requests with more than one output token of their mean time per
//!   output token after the first;
//! - `mean_batch_tokens`: mean tokens per iteration (prefill chunk tokens + one per decode);
//! - `preemptions`: retractions of running requests;
//! - `kv_used_frac`: time-weighted mean of (cached + running requests' KV) / pool.
//!
//! Series, one sample per iteration start (or at most one per `series_interval`):
//! `time_s`, `queue_len` (waiting requests that have arrived), `kv_used_frac`, `running`.

use simcore::stats::TimeWeighted;
use simcore::{RunResult, SimTime};

use crate::Completion;

/// Counters and series the engine updates as it runs.
#[derive(Clone, Debug)]
pub struct ServerStats {
    /// Iterations run.
    pub iterations: u64,
    /// Tokens over all iterations (prefill chunk tokens + one per decoding request).
    pub batch_tokens: u64,
    /// Prefill tokens computed (chunks, recomputation included).
    pub prefill_tokens: u64,
    /// Decode tokens computed.
    pub decode_tokens: u64,
    /// Running requests retracted.
    pub preemptions: u64,
    /// Time spent running iterations (the GPUs busy).
    pub busy: SimTime,
    /// KV in use / pool, over time.
    pub kv_used: TimeWeighted,
    /// Sample times, seconds.
    pub series_time_s: Vec<f64>,
    /// Waiting requests at each sample.
    pub series_queue: Vec<f64>,
    /// KV in use / pool at each sample.
    pub series_kv_used: Vec<f64>,
    /// Running requests at each sample.
    pub series_running: Vec<f64>,
    last_sample: Option<SimTime>,
}

impl ServerStats {
    /// Empty statistics starting at `start`.
    pub fn new(start: SimTime) -> Self {
        Self {
            iterations: 0,
            batch_tokens: 0,
            prefill_tokens: 0,
            decode_tokens: 0,
            preemptions: 0,
            busy: SimTime::ZERO,
            kv_used: TimeWeighted::new(start, 0.0),
            series_time_s: Vec::new(),
            series_queue: Vec::new(),
            series_kv_used: Vec::new(),
            series_running: Vec::new(),
            last_sample: None,
        }
    }

    /// Records one sample of the series unless the last one is closer than `interval`.
    pub(crate) fn sample(
        &mut self,
        t: SimTime,
        interval: SimTime,
        queue: usize,
        kv: f64,
        running: usize,
    ) {
        if let Some(last) = self.last_sample
            && interval > SimTime::ZERO
            && t < last.saturating_add(interval)
        {
            return;
        }
        self.last_sample = Some(t);
        self.series_time_s.push(t.as_secs_f64());
        self.series_queue.push(queue as f64);
        self.series_kv_used.push(kv);
        self.series_running.push(running as f64);
    }
}

/// The headline metrics of a run.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Metrics {
    /// Finished requests per second.
    pub throughput_req_s: f64,
    /// Output tokens per second.
    pub throughput_tok_s: f64,
    /// Cached prompt tokens / prompt tokens.
    pub cache_hit_rate: f64,
    /// Median time to first token, s.
    pub ttft_p50_s: f64,
    /// 99th percentile time to first token, s.
    pub ttft_p99_s: f64,
    /// Mean time per output token after the first, s.
    pub tpot_s: f64,
    /// Median arrival-to-finish time, s.
    pub e2e_p50_s: f64,
    /// 99th percentile arrival-to-finish time, s.
    pub e2e_p99_s: f64,
    /// Mean tokens per iteration.
    pub mean_batch_tokens: f64,
    /// Retractions.
    pub preemptions: u64,
    /// Time-weighted mean fraction of the KV pool in use.
    pub kv_used_frac: f64,
}

impl Metrics {
    /// The metrics of `completions` served with `stats`; the run ends at `end`.
    pub fn compute(completions: &[Completion], stats: &ServerStats, end: SimTime) -> Self {
        let mut m = Metrics {
            preemptions: stats.preemptions,
            kv_used_frac: stats.kv_used.mean(end),
            mean_batch_tokens: if stats.iterations == 0 {
                0.0
            } else {
                stats.batch_tokens as f64 / stats.iterations as f64
            },
            ..Metrics::default()
        };
        if completions.is_empty() {
            return m;
        }
        let first = completions.iter().map(|c| c.arrival).min().unwrap_or(SimTime::ZERO);
        let last = completions.iter().map(|c| c.finish).max().unwrap_or(SimTime::ZERO);
        let span = (last - first).as_secs_f64();
        let n = completions.len() as f64;
        let out: u64 = completions.iter().map(|c| u64::from(c.output_tokens)).sum();
        if span > 0.0 {
            m.throughput_req_s = n / span;
            m.throughput_tok_s = out as f64 / span;
        }
        let prompt: u64 = completions.iter().map(|c| c.prompt_tokens).sum();
        let cached: u64 = completions.iter().map(|c| c.cached_tokens).sum();
        m.cache_hit_rate = if prompt == 0 { 0.0 } else { cached as f64 / prompt as f64 };
        let mut ttft: Vec<u64> = completions.iter().map(|c| c.ttft().as_nanos()).collect();
        let mut e2e: Vec<u64> = completions.iter().map(|c| c.e2e().as_nanos()).collect();
        ttft.sort_unstable();
        e2e.sort_unstable();
        m.ttft_p50_s = percentile(&ttft, 0.50);
        m.ttft_p99_s = percentile(&ttft, 0.99);
        m.e2e_p50_s = percentile(&e2e, 0.50);
        m.e2e_p99_s = percentile(&e2e, 0.99);
        let tpots: Vec<f64> = completions.iter().filter_map(Completion::tpot_s).collect();
        if !tpots.is_empty() {
            m.tpot_s = tpots.iter().sum::<f64>() / tpots.len() as f64;
        }
        m
    }

    /// Writes the metrics under their names into `r`.
    pub fn write_to(&self, r: &mut RunResult) {
        r.metric("throughput_req_s", self.throughput_req_s)
            .metric("throughput_tok_s", self.throughput_tok_s)
            .metric("cache_hit_rate", self.cache_hit_rate)
            .metric("ttft_p50_s", self.ttft_p50_s)
            .metric("ttft_p99_s", self.ttft_p99_s)
            .metric("tpot_s", self.tpot_s)
            .metric("e2e_p50_s", self.e2e_p50_s)
            .metric("e2e_p99_s", self.e2e_p99_s)
            .metric("mean_batch_tokens", self.mean_batch_tokens)
            .metric("preemptions", self.preemptions as f64)
            .metric("kv_used_frac", self.kv_used_frac);
    }
}

impl ServerStats {
    /// Writes the series (`time_s`, `queue_len`, `kv_used_frac`, `running`) into `r`.
    pub fn write_series(&self, r: &mut RunResult) {
        r.series("time_s", self.series_time_s.clone())
            .series("queue_len", self.series_queue.clone())
            .series("kv_used_frac", self.series_kv_used.clone())
            .series("running", self.series_running.clone());
    }
}

/// Nearest-rank percentile of sorted nanoseconds, in seconds.
fn percentile(sorted: &[u64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    SimTime::from_nanos(sorted[rank.clamp(1, sorted.len()) - 1]).as_secs_f64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let ns: Vec<u64> = (1..=100).map(|i| i * 1_000_000_000).collect();
        assert_eq!(percentile(&ns, 0.5), 50.0);
        assert_eq!(percentile(&ns, 0.99), 99.0);
        assert_eq!(percentile(&ns[..1], 0.99), 1.0);
    }
}
