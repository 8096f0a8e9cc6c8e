//! A small version of configs/agents/metropolis-headline.yaml: half an hour at noon on 8
//! simulated L4 GPUs. Metropolis beats parallel-sync, which beats single-thread; it stays
//! within the oracle and above both bounds; its gain over parallel-sync grows from 25 to 100
//! agents; every engine keeps the distance invariant.

use agents::run::prepare;
use agents::{AgentsWorkload, SystemSpec};
use cluster::Cluster;

fn metrics(agents: u32, system: SystemSpec) -> std::collections::BTreeMap<String, f64> {
    let cluster = Cluster::preset("g6-48xlarge", 1).unwrap();
    let w: AgentsWorkload = serde_json::from_value(serde_json::json!({
        "world": { "type": "generated", "agents": agents, "start_hour": 12, "hours": 0.5 },
        "llm": { "model": "llama-3-8b", "replicas": 8 },
    }))
    .unwrap();
    prepare(&cluster, &w, &system).unwrap().run(1).unwrap().metrics
}

#[test]
fn metropolis_beats_lock_step_and_gains_more_with_more_agents() {
    let m25 = metrics(25, SystemSpec::Metropolis { workers: 0 });
    let m100 = metrics(100, SystemSpec::Metropolis { workers: 0 });
    for m in [&m25, &m100] {
        assert!(m["speedup_vs_sync"] > 1.3, "{m:?}");
        assert!(m["speedup_vs_single"] > m["speedup_vs_sync"], "{m:?}");
        assert!(m["frac_of_oracle"] > 0.5 && m["frac_of_oracle"] <= 1.1, "{m:?}");
        assert!(m["completion_s"] >= m["critical_path_s"], "{m:?}");
        assert!(m["completion_s"] >= m["no_dependency_s"], "{m:?}");
        assert_eq!(m["invariant_violations"], 0.0);
        assert!(m["mean_outstanding_calls"] > 1.0);
    }
    assert!(m100["speedup_vs_sync"] > m25["speedup_vs_sync"], "{m25:?} {m100:?}");
    assert_eq!(m100["agents"], 100.0);
    let sync = metrics(25, SystemSpec::ParallelSync);
    assert_eq!(sync["speedup_vs_sync"], 1.0);
    assert_eq!(sync["invariant_violations"], 0.0);
}
