//! The direction of the headline result (configs/serving/radix-headline.yaml) on small
//! versions of its workloads: on a shared-prefix batch RadixAttention with longest-prefix-match
//! scheduling beats prefix blocks, which beat no reuse, in throughput and hit rate; a chat with
//! long outputs gains little; no system beats the offline bound on the hit rate; and with four
//! replicas a cache-aware router reuses more than round-robin.

use cluster::Cluster;
use serving::simulator::prepare;
use serving::{ServingWorkload, SystemSpec};
use simcore::RunResult;

fn workload(json: serde_json::Value) -> ServingWorkload {
    serde_json::from_value(json).unwrap()
}

fn system(json: serde_json::Value) -> SystemSpec {
    serde_json::from_value(json).unwrap()
}

fn run(cluster: &Cluster, w: &ServingWorkload, s: &SystemSpec) -> RunResult {
    let r = prepare(cluster, w, s).unwrap_or_else(|e| panic!("{e}")).run(1).unwrap();
    let (hit, best) = (r.metrics["cache_hit_rate"], r.metrics["optimal_hit_rate"]);
    assert!(best >= hit - 1e-9, "{}: hit rate {hit} above the bound {best}", s.name());
    r
}

/// sglang (radix + lpm), vllm (prefix blocks + fcfs), none.
fn three(cluster: &Cluster, w: &ServingWorkload) -> [RunResult; 3] {
    [
        run(cluster, w, &system(serde_json::json!({ "system": "radix" }))),
        run(cluster, w, &system(serde_json::json!({ "system": "prefix-blocks" }))),
        run(cluster, w, &system(serde_json::json!({ "system": "none" }))),
    ]
}

fn a10g() -> Cluster {
    Cluster::preset("g5-xlarge", 1).unwrap()
}

#[test]
fn radix_beats_prefix_blocks_beats_none_on_shared_prefixes() {
    // 8 groups x 16 prompts: 128 requests, so lpm is not in its FCFS fallback.
    let w = workload(serde_json::json!({
        "model": "llama-2-7b",
        "requests": { "type": "shared-prefix", "groups": 8, "prompts_per_group": 16 },
    }));
    let [sglang, vllm, none] = three(&a10g(), &w);
    for m in ["throughput_req_s", "cache_hit_rate"] {
        let (a, b, c) = (sglang.metrics[m], vllm.metrics[m], none.metrics[m]);
        assert!(a > b && b > c, "{m}: radix {a}, prefix blocks {b}, none {c}");
    }
    assert!(sglang.metrics["throughput_req_s"] > 1.5 * none.metrics["throughput_req_s"]);
    // The batch fits the bound: lpm reaches it within a token per prompt.
    let (hit, best) = (sglang.metrics["cache_hit_rate"], sglang.metrics["optimal_hit_rate"]);
    assert!(hit > 0.95 * best, "{hit} vs {best}");
}

#[test]
fn long_output_chat_gains_little() {
    let w = workload(serde_json::json!({
        "model": "llama-2-7b",
        "requests": { "type": "multi-turn", "chats": 10, "turns": 3, "output": "long" },
    }));
    let [sglang, vllm, none] = three(&a10g(), &w);
    let base = none.metrics["throughput_req_s"];
    for (name, r) in [("radix", &sglang), ("prefix-blocks", &vllm)] {
        let gain = r.metrics["throughput_req_s"] / base;
        assert!(gain < 1.3, "{name}: {gain}x over no reuse");
    }
}

#[test]
fn cache_aware_routing_reuses_more_than_round_robin() {
    let cluster = Cluster::preset("g5-12xlarge", 1).unwrap();
    let radix = system(serde_json::json!({ "system": "radix" }));
    let hit = |router: &str| {
        let w = workload(serde_json::json!({
            "model": "llama-2-7b",
            "replicas": 4,
            "router": router,
            "arrivals": { "poisson": 4.0 },
            "requests": { "type": "shared-prefix", "groups": 8, "prompts_per_group": 16 },
        }));
        run(&cluster, &w, &radix).metrics["cache_hit_rate"]
    };
    let (rr, ca) = (hit("round-robin"), hit("cache-aware"));
    assert!(ca > rr, "cache-aware {ca}, round-robin {rr}");
}

#[test]
fn bad_inputs_name_their_field() {
    let c = a10g();
    let field = |w: serde_json::Value, s: serde_json::Value| {
        let e = prepare(&c, &workload(w), &system(s)).err().expect("an error");
        e.field().map(str::to_string).unwrap_or_default()
    };
    let ok = serde_json::json!({ "model": "llama-2-7b", "requests": { "type": "few-shot" } });
    let radix = serde_json::json!({ "system": "radix" });
    let big = serde_json::json!({ "model": "llama-2-70b", "requests": { "type": "few-shot" } });
    assert_eq!(field(big, radix.clone()), "workload.model");
    let bad_schedule = serde_json::json!({ "system": "radix", "schedule": "lpn" });
    assert_eq!(field(ok.clone(), bad_schedule), "params.schedule");
    let named = serde_json::json!({ "model": "llama-2-7b", "requests": "nope" });
    assert_eq!(field(named, radix.clone()), "workload.requests");
    let many = serde_json::json!({ "model": "llama-2-7b", "replicas": 2, "requests": { "type": "few-shot" } });
    assert_eq!(field(many, radix), "workload.replicas");
    let e = serde_json::from_value::<ServingWorkload>(
        serde_json::json!({ "model": "llama-2-7b", "requests": { "type": "few-shot" }, "router": "nearest" }),
    )
    .unwrap_err();
    assert!(e.to_string().contains("cache-aware"), "{e}");
}
