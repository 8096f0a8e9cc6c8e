//! The `workload:` and `system:` entries of `kind: serving`: the model and its hardware
//! (dtype, tensor parallelism, replicas and their router), the requests and when they arrive,
//! the engine's and cost model's settings; and the system, which picks the KV-cache manager
//! and the admission order.
//!
//! ```yaml
//! workload:
//!   model: llama-2-7b            # a models preset, or {layers, hidden, heads, ...}
//!   dtype: fp16                  # default fp16
//!   tp: 1                        # GPUs per replica (default 1)
//!   replicas: 1                  # data-parallel replicas (default 1)
//!   router: round-robin          # round-robin | least-outstanding | cache-aware
//!   requests: { type: shared-prefix, groups: 64, prompts_per_group: 16 }  # or a name:
//!   # requests: chat        # with workloads: { chat: { type: multi-turn, output: long } }
//!   arrivals: offline            # offline | {poisson: programs per second} | {trace: speedup}
//!   engine: { max_prefill_tokens: 16384, chunked_prefill: 8192, mixed_batches: false,
//!             admission: sglang, max_running_requests: 1024 }
//!   cost: { cpu_overhead: 1ms, cuda_graphs: true, cuda_graph_max_batch: 160, mem_fraction: 0.88 }
//! systems:
//!   - { name: sglang, system: radix }                     # schedule lpm, page_size 1
//!   - { name: radix-fcfs, system: radix, params: { schedule: fcfs } }
//!   - { name: vllm, system: prefix-blocks }               # schedule fcfs, block_size 16
//!   - name: none                                          # schedule fcfs
//! ```
//!
//! Fairness: every system runs the same engine, admission and cost model (the workload's), so
//! a comparison isolates KV reuse and admission order; a system's `admission` parameter (e.g.
//! `vllm` for prefix-blocks) changes that on purpose.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use simcore::{InputError, SimTime};

use cluster::Dtype;
pub use models::ModelRef;

use crate::CachePolicy;
use crate::config::{Admission, EngineConfig};
use crate::cost::CostConfig;
use crate::router::RouterPolicy;
use crate::scheduler::SchedulePolicy;
use crate::workload::{Arrivals, WorkloadSpec};

/// The `workload:` of `kind: serving`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServingWorkload {
    /// The model served.
    pub model: ModelRef,
    /// Element type of weights, activations and KV cache (default fp16).
    #[serde(default = "fp16")]
    pub dtype: Dtype,
    /// Tensor-parallel GPUs per replica (default 1).
    #[serde(default = "one")]
    pub tp: u32,
    /// Data-parallel replicas, each with its own KV pool and cache (default 1).
    #[serde(default = "one")]
    pub replicas: u32,
    /// How requests are spread over replicas (default round-robin).
    #[serde(default)]
    pub router: RouterPolicy,
    /// The requests: a generator or a trace (`{type: shared-prefix, ...}`), or the name of
    /// an entry of `workloads`.
    pub requests: RequestsSpec,
    /// Named workloads that `requests` may pick by name, so a sweep over
    /// `workload.requests: [a, b]` labels its points by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub workloads: BTreeMap<String, WorkloadSpec>,
    /// When the roots arrive (default offline: all at time 0).
    #[serde(default)]
    pub arrivals: ArrivalsSpec,
    /// Engine settings (SGLang's defaults).
    #[serde(default)]
    pub engine: EngineSpec,
    /// Cost-model settings.
    #[serde(default)]
    pub cost: CostSpec,
    /// Most samples kept per time series (default 2,000; 0: all).
    #[serde(default = "max_points")]
    pub series_points: u32,
}

/// `requests:` — a workload spelled out, or the name of one in `workloads`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequestsSpec {
    /// A generator or trace.
    Spec(WorkloadSpec),
    /// An entry of `workloads`.
    Named(String),
}

impl Serialize for RequestsSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            RequestsSpec::Spec(w) => w.serialize(s),
            RequestsSpec::Named(n) => s.serialize_str(n),
        }
    }
}

impl<'de> Deserialize<'de> for RequestsSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RequestsSpec;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a workload mapping (`{type: shared-prefix, ...}`) or the name of an entry of `workload.workloads`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RequestsSpec, E> {
                Ok(RequestsSpec::Named(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RequestsSpec, A::Error> {
                WorkloadSpec::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RequestsSpec::Spec)
            }
        }
        d.deserialize_any(V)
    }
}

impl ServingWorkload {
    /// The workload `requests` names or spells out; an unknown name is an error naming
    /// `workload.requests` and listing the entries of `workloads`.
    pub fn resolve_requests(&self) -> Result<&WorkloadSpec, InputError> {
        match &self.requests {
            RequestsSpec::Spec(w) => Ok(w),
            RequestsSpec::Named(n) => self.workloads.get(n).ok_or_else(|| {
                let names: Vec<&str> = self.workloads.keys().map(String::as_str).collect();
                InputError::at(
                    "workload.requests",
                    format!(
                        "no workload `{n}` in workload.workloads{}; defined: {}",
                        simcore::names::did_you_mean(n, names.iter().copied()),
                        if names.is_empty() { "none".to_string() } else { names.join(", ") }
                    ),
                )
            }),
        }
    }
}

fn fp16() -> Dtype {
    Dtype::Fp16
}
fn one() -> u32 {
    1
}
fn max_points() -> u32 {
    2_000
}

/// `arrivals:` — `offline`, `{poisson: rate}` (programs per second) or `{trace: speedup}`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum ArrivalsSpec {
    /// Every root at time 0.
    #[default]
    Offline,
    /// Roots (programs) as a Poisson process of this many per second.
    Poisson(f64),
    /// A trace's timestamps divided by this speedup (1: as recorded).
    Trace(f64),
}

impl ArrivalsSpec {
    /// The generators' [`Arrivals`]; errors name `workload.arrivals`.
    pub fn arrivals(self) -> Result<Arrivals, InputError> {
        let check = |x: f64, what: &str| {
            if x > 0.0 && x.is_finite() {
                Ok(())
            } else {
                Err(InputError::at(
                    "workload.arrivals",
                    format!("{what} must be positive, got {x}"),
                ))
            }
        };
        Ok(match self {
            ArrivalsSpec::Offline => Arrivals::Offline,
            ArrivalsSpec::Poisson(rate) => {
                check(rate, "the Poisson rate")?;
                Arrivals::Poisson { rate }
            }
            ArrivalsSpec::Trace(speedup) => {
                check(speedup, "the trace speedup")?;
                Arrivals::Trace { speedup }
            }
        })
    }
}

/// Names of [`Admission`] variants with their published defaults.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AdmissionName {
    /// SGLang's new-token ratio (0.7 decaying to 0.098 over 600 steps).
    #[default]
    Sglang,
    /// vLLM's 1% watermark, nothing reserved for outputs.
    Vllm,
}

impl AdmissionName {
    /// The admission rule.
    pub fn admission(self) -> Admission {
        match self {
            AdmissionName::Sglang => Admission::SGLANG,
            AdmissionName::Vllm => Admission::VLLM,
        }
    }
}

/// `engine:` — the server's settings (see [`EngineConfig`] for their sources).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineSpec {
    /// Prompt tokens per prefill batch (SGLang 16,384).
    #[serde(default = "max_prefill")]
    pub max_prefill_tokens: u32,
    /// Chunk size of chunked prefill (SGLang 8,192); `null` for none.
    #[serde(default = "chunk")]
    pub chunked_prefill: Option<u32>,
    /// Decode in the same iteration as prefill chunks (SGLang `enable_mixed_chunk`, off).
    #[serde(default)]
    pub mixed_batches: bool,
    /// Room kept for future outputs: `sglang` (new-token ratio) or `vllm` (watermark).
    #[serde(default)]
    pub admission: AdmissionName,
    /// Most requests running at once (assumption: 1,024).
    #[serde(default = "max_running")]
    pub max_running_requests: u32,
    /// Context length; default the model's.
    #[serde(default)]
    pub context_len: Option<u64>,
}

fn max_prefill() -> u32 {
    16_384
}
fn chunk() -> Option<u32> {
    Some(8_192)
}
fn max_running() -> u32 {
    1_024
}

impl EngineSpec {
    /// The engine's settings with a pool of `kv_tokens`, a context of `context_len`, the
    /// admission order `schedule` and the random seed `seed`.
    pub fn config(
        &self,
        kv_tokens: u64,
        context_len: u64,
        schedule: SchedulePolicy,
        seed: u64,
    ) -> EngineConfig {
        EngineConfig {
            kv_tokens,
            context_len,
            max_prefill_tokens: self.max_prefill_tokens,
            chunked_prefill: self.chunked_prefill,
            max_running_requests: self.max_running_requests,
            mixed_batches: self.mixed_batches,
            schedule,
            admission: self.admission.admission(),
            seed,
            ..EngineConfig::default()
        }
    }
}

impl Default for EngineSpec {
    fn default() -> Self {
        EngineSpec {
            max_prefill_tokens: max_prefill(),
            chunked_prefill: chunk(),
            mixed_batches: false,
            admission: AdmissionName::Sglang,
            max_running_requests: max_running(),
            context_len: None,
        }
    }
}

/// `cost:` — the iteration cost model's settings (see [`CostConfig`] for their sources).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostSpec {
    /// CPU time per iteration (assumption: 1 ms).
    #[serde(default = "cpu")]
    pub cpu_overhead: SimTime,
    /// Decode-only batches as CUDA graphs (default on).
    #[serde(default = "yes")]
    pub cuda_graphs: bool,
    /// Largest decode batch in a CUDA graph (SGLang 160).
    #[serde(default = "graph_bs")]
    pub cuda_graph_max_batch: u32,
    /// Fraction of GPU memory for weights and KV (default SGLang's for the TP degree).
    #[serde(default)]
    pub mem_fraction: Option<f64>,
}

fn cpu() -> SimTime {
    SimTime::from_millis(1)
}
fn yes() -> bool {
    true
}
fn graph_bs() -> u32 {
    160
}

impl CostSpec {
    /// The cost model's settings for `dtype` and `tp` GPUs per replica.
    pub fn config(&self, dtype: Dtype, tp: u32) -> CostConfig {
        CostConfig {
            dtype,
            tp,
            cpu_overhead: self.cpu_overhead,
            cuda_graphs: self.cuda_graphs,
            cuda_graph_max_batch: self.cuda_graph_max_batch,
            mem_fraction: self.mem_fraction,
            ..CostConfig::default()
        }
    }
}

impl Default for CostSpec {
    fn default() -> Self {
        CostSpec {
            cpu_overhead: cpu(),
            cuda_graphs: true,
            cuda_graph_max_batch: graph_bs(),
            mem_fraction: None,
        }
    }
}

impl ServingWorkload {
    /// The cost model's settings.
    pub fn cost_config(&self) -> CostConfig {
        self.cost.config(self.dtype, self.tp)
    }
}

/// The system entry of `kind: serving`: the KV-cache manager and its admission order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "system", deny_unknown_fields)]
pub enum SystemSpec {
    /// SGLang's RadixAttention: a token-granular radix tree, LRU leaf eviction.
    Radix {
        /// Admission order (default `lpm`, SGLang's cache-aware policy).
        #[serde(default = "lpm")]
        schedule: String,
        /// Tokens per page (SGLang 1).
        #[serde(default = "one")]
        page_size: u32,
        /// `lpm` falls back to FCFS while more than this many requests wait (default 128,
        /// SGLang's current scheduler); `never` keeps longest-prefix-first at any queue length,
        /// as in the SGLang paper.
        #[serde(default)]
        lpm_fallback: LpmFallback,
        /// Override the workload's admission rule.
        #[serde(default)]
        admission: Option<AdmissionName>,
    },
    /// vLLM's automatic prefix caching: hash-chained full blocks, LRU free queue.
    PrefixBlocks {
        /// Admission order (default `fcfs`, vLLM's).
        #[serde(default = "fcfs")]
        schedule: String,
        /// Tokens per block (vLLM 16).
        #[serde(default = "block")]
        block_size: u32,
        /// Override the workload's admission rule.
        #[serde(default)]
        admission: Option<AdmissionName>,
    },
    /// No reuse: every prompt is computed in full.
    None {
        /// Admission order (default `fcfs`).
        #[serde(default = "fcfs")]
        schedule: String,
        /// Override the workload's admission rule.
        #[serde(default)]
        admission: Option<AdmissionName>,
    },
}

/// When `lpm` gives way to FCFS.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged, expecting = "a number of waiting requests (SGLang: 128) or `never`")]
pub enum LpmFallback {
    /// Above this many waiting requests.
    Above(u32),
    /// Never (`never`).
    Never(Never),
}

/// The word `never`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Never {
    /// No fallback.
    Never,
}

impl Default for LpmFallback {
    fn default() -> Self {
        LpmFallback::Above(crate::lpm::FCFS_ABOVE as u32)
    }
}

impl LpmFallback {
    /// The engine's threshold.
    pub fn threshold(self) -> Option<u32> {
        match self {
            LpmFallback::Above(n) => Some(n),
            LpmFallback::Never(_) => None,
        }
    }
}

fn lpm() -> String {
    "lpm".into()
}
fn fcfs() -> String {
    "fcfs".into()
}
fn block() -> u32 {
    16
}

impl SystemSpec {
    /// The system's name as in configs.
    pub fn name(&self) -> &'static str {
        match self {
            SystemSpec::Radix { .. } => "radix",
            SystemSpec::PrefixBlocks { .. } => "prefix-blocks",
            SystemSpec::None { .. } => "none",
        }
    }

    /// The cache manager; errors name `params.page_size` or `params.block_size`.
    pub fn cache(&self) -> Result<CachePolicy, InputError> {
        match *self {
            SystemSpec::Radix { page_size, .. } => {
                if page_size == 0 {
                    return Err(InputError::at(
                        "params.page_size",
                        "must be at least 1 (SGLang 1)",
                    ));
                }
                Ok(CachePolicy::Radix { page_size })
            }
            SystemSpec::PrefixBlocks { block_size, .. } => {
                if block_size == 0 {
                    return Err(InputError::at(
                        "params.block_size",
                        "must be at least 1 (vLLM 16)",
                    ));
                }
                Ok(CachePolicy::PrefixBlocks { block_size })
            }
            SystemSpec::None { .. } => Ok(CachePolicy::None),
        }
    }

    /// The admission order; an unknown name is an error naming `params.schedule`.
    pub fn schedule(&self) -> Result<SchedulePolicy, InputError> {
        let name = match self {
            SystemSpec::Radix { schedule, .. }
            | SystemSpec::PrefixBlocks { schedule, .. }
            | SystemSpec::None { schedule, .. } => schedule,
        };
        SchedulePolicy::from_name(name)
            .map_err(|e| InputError::at("params.schedule", e.to_string()))
    }

    /// The admission rule: the system's override, else `workload`'s.
    pub fn admission(&self, workload: AdmissionName) -> Admission {
        let o = match self {
            SystemSpec::Radix { admission, .. }
            | SystemSpec::PrefixBlocks { admission, .. }
            | SystemSpec::None { admission, .. } => *admission,
        };
        o.unwrap_or(workload).admission()
    }

    /// The engine's settings for this system with a pool of `kv_tokens` and a context of
    /// `context_len`.
    pub fn engine_config(
        &self,
        w: &ServingWorkload,
        kv_tokens: u64,
        context_len: u64,
        seed: u64,
    ) -> Result<EngineConfig, InputError> {
        Ok(EngineConfig {
            lpm_fcfs_above: match *self {
                SystemSpec::Radix { lpm_fallback, .. } => lpm_fallback.threshold(),
                _ => EngineConfig::default().lpm_fcfs_above,
            },
            admission: self.admission(w.engine.admission),
            ..w.engine.config(kv_tokens, context_len, self.schedule()?, seed)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(v: serde_json::Value) -> Result<ServingWorkload, String> {
        serde_json::from_value(v).map_err(|e| e.to_string())
    }

    #[test]
    fn arrivals_shapes() {
        let a = |v: serde_json::Value| serde_json::from_value::<ArrivalsSpec>(v).unwrap();
        assert_eq!(a(json!("offline")).arrivals().unwrap(), Arrivals::Offline);
        assert_eq!(
            a(json!({ "poisson": 2.5 })).arrivals().unwrap(),
            Arrivals::Poisson { rate: 2.5 }
        );
        assert_eq!(a(json!({ "trace": 1 })).arrivals().unwrap(), Arrivals::Trace { speedup: 1.0 });
        let e = a(json!({ "poisson": 0 })).arrivals().unwrap_err();
        assert_eq!(e.field(), Some("workload.arrivals"));
    }

    #[test]
    fn requests_by_spec_or_by_name() {
        let w = read(json!({
            "model": "llama-2-7b",
            "requests": "chat",
            "workloads": { "chat": { "type": "multi-turn", "output": "long" } },
        }))
        .unwrap();
        assert_eq!(w.resolve_requests().unwrap().name(), "multi-turn");
        let w = read(json!({ "model": "llama-2-7b", "requests": "chta",
            "workloads": { "chat": { "type": "few-shot" } } }))
        .unwrap();
        let e = w.resolve_requests().unwrap_err().to_string();
        assert!(e.contains("did you mean `chat`"), "{e}");
        let w = read(json!({ "model": "llama-2-7b", "requests": { "type": "few-shot" } })).unwrap();
        assert_eq!(w.resolve_requests().unwrap().name(), "few-shot");
        assert_eq!((w.tp, w.replicas, w.router), (1, 1, RouterPolicy::RoundRobin));
        let e =
            read(json!({ "model": "llama-2-7b", "requests": { "type": "few-shot", "shotz": 1 } }))
                .unwrap_err();
        assert!(e.contains("shotz"), "{e}");
    }

    #[test]
    fn systems_and_their_defaults() {
        let s = |v: serde_json::Value| serde_json::from_value::<SystemSpec>(v).unwrap();
        let radix = s(json!({ "system": "radix" }));
        assert_eq!(radix.schedule().unwrap(), SchedulePolicy::Lpm);
        assert_eq!(radix.cache().unwrap(), CachePolicy::Radix { page_size: 1 });
        let blocks = s(json!({ "system": "prefix-blocks", "admission": "vllm" }));
        assert_eq!(blocks.schedule().unwrap(), SchedulePolicy::Fcfs);
        assert_eq!(blocks.cache().unwrap(), CachePolicy::PrefixBlocks { block_size: 16 });
        assert_eq!(blocks.admission(AdmissionName::Sglang), Admission::VLLM);
        let none = s(json!({ "system": "none" }));
        assert_eq!(none.admission(AdmissionName::Sglang), Admission::SGLANG);
        let bad = s(json!({ "system": "radix", "page_size": 0 }));
        assert_eq!(bad.cache().unwrap_err().field(), Some("params.page_size"));
        // lpm's FCFS fallback: 128 waiting requests by default (today's SGLang), a number, or
        // never (the paper's scheduler).
        let fallback = |v: serde_json::Value| match s(v) {
            SystemSpec::Radix { lpm_fallback, .. } => lpm_fallback.threshold(),
            _ => unreachable!(),
        };
        assert_eq!(fallback(json!({ "system": "radix" })), Some(128));
        assert_eq!(fallback(json!({ "system": "radix", "lpm_fallback": 1000 })), Some(1000));
        assert_eq!(fallback(json!({ "system": "radix", "lpm_fallback": "never" })), None);
        let e = serde_json::from_value::<SystemSpec>(
            json!({ "system": "radix", "lpm_fallback": "later" }),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("or `never`"), "{e}");
    }
}
