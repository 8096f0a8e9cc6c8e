//! The registry of kinds: every registered simulator runs a tiny config covering all its
//! systems, and what its runs emit equals what it declares (metrics, series, matrices). A new
//! simulator must add its tiny config here.

use std::collections::BTreeSet;

use experiment::{LoadedConfig, Plan, kinds};

/// Tiny configs per kind: together every system, one seed, settings that reach every metric.
fn tiny(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "collective" => &[
            r#"
name: reg-collective
kind: collective
cluster: { preset: dgx-h100, nodes: 2 }
workload: { op: all-reduce, bytes: 1MiB, skew: 1us }
systems: [{ name: ring }, { name: tree }, { name: hierarchical }, { name: auto }]
seeds: 1
"#,
            r#"
name: reg-collective-a2a
kind: collective
cluster: { preset: dgx-h100, nodes: 2 }
workload: { op: all-to-all, bytes: 1MiB }
systems: [{ name: direct }]
seeds: 1
"#,
            r#"
name: reg-collective-in-network
kind: collective
cluster: { preset: dgx-h100, nodes: 2, fabric: { sharp: true } }
workload: { op: all-reduce, bytes: 1MiB }
systems: [{ name: sharp }]
seeds: 1
"#,
            r#"
name: reg-collective-nvls
kind: collective
cluster: { preset: dgx-h100, nodes: 1 }
workload: { op: all-reduce, bytes: 1MiB }
systems: [{ name: nvls }]
seeds: 1
"#,
        ],
        "moe" => &[r#"
name: reg-moe
kind: moe
cluster: { preset: cloud-a100-100g, nodes: 2 }
workload:
  model: gpt-small
  experts: 4
  top_k: 1
  slots_per_gpu: 2
  seq_len: 128
  global_batch: 8
  convergence: { target_iterations: 4 }
  max_iterations: 8
systems:
  - name: deepspeed
  - { name: flexmoe, params: { interval: 2 } }
  - name: swiftmoe
  - name: nodrop
seeds: 1
"#],
        "pipeline" => &[r#"
name: reg-pipeline
kind: pipeline
cluster: { preset: dgx-h100, nodes: 1 }
workload:
  model: gpt3-1.3b
  stages: 4
  pipelines: 2
  micro_batches: 4
  micro_batch_size: 1
  duration: 1d
  failures: { mtbf: 2h, repair: 1h }
systems:
  - name: checkpoint-restart
  - { name: spare-servers, params: { spares: 1 } }
  - name: bamboo
  - name: oobleck
  - name: slipstream
seeds: 1
"#],
        "embedding" => &[r#"
name: reg-embedding
kind: embedding
cluster: { preset: dgx-h100, nodes: 2 }
workload:
  tables:
    synthetic: { count: 12, rows: [1000, 100000], dims: [64, 128], coverage: [0.2, 1.0], pooling: [1, 20], sequence_share: 0.25, session_share: 0.5, seed: 3 }
  batch: 4096
  sessions: { mean_length: 4 }
  steps: 2
systems:
  - name: torchrec
  - name: table-wise
  - name: row-wise
  - name: column-wise
  - name: table-row-wise
  - name: data-parallel
  - name: recshard
  - name: flexshard
  - { name: row-wise+recd, system: row-wise, params: { dedup: true } }
seeds: 1
"#],
        "gnn" => &[r#"
name: reg-gnn
kind: gnn
cluster: { preset: dgx-a100, nodes: 1 }
workload:
  graph: { model: sbm, nodes: 3000, communities: 10, stubs: 8, mu: 0.1 }
  features: 16
  train: true
  epochs: 3
  target_accuracy: 0.2
  fanouts: [5, 5]
  batch: 64
systems:
  - name: random
  - { name: cluster-gcn, params: { parts: 20, parts_per_batch: 4 } }
  - { name: comm-rand, params: { alpha: 0.5 } }
seeds: 1
"#],
        "serving" => &[
            r#"
name: reg-serving
kind: serving
cluster: { preset: g5-xlarge, nodes: 1 }
workload:
  model: llama-2-7b
  requests: { type: shared-prefix, groups: 2, prompts_per_group: 3, system_prompt_tokens: 256, question_tokens: 32, output_tokens: 8 }
systems:
  - name: radix
  - { name: radix-fcfs, system: radix, params: { schedule: fcfs } }
  - { name: prefix-blocks, params: { admission: vllm } }
  - name: none
seeds: 1
"#,
            r#"
name: reg-serving-replicas
kind: serving
cluster: { preset: g5-12xlarge, nodes: 1 }
workload:
  model: llama-2-7b
  replicas: 2
  router: cache-aware
  arrivals: { poisson: 50 }
  requests: { type: multi-turn, chats: 3, turns: 2, user_tokens: [16, 32] }
systems: [{ name: radix }]
seeds: 1
"#,
        ],
        "agents" => &[r#"
name: reg-agents
kind: agents
cluster: { preset: g6-12xlarge, nodes: 1 }
workload:
  world: { type: generated, agents: 6, start_hour: 12, hours: 0.05 }
  llm: { model: llama-3-8b, replicas: 2, prefix_caching: true }
systems:
  - name: single-thread
  - name: parallel-sync
  - { name: metropolis, params: { workers: 2 } }
  - name: oracle
  - name: no-dependency
  - name: critical-path
seeds: 1
"#],
        "rca" => &[
            r#"
name: reg-rca
kind: rca
cluster: { preset: dgx-h100, nodes: 1 }
workload:
  benchmark: system
  system: online-boutique
  fault: random
  cases: 2
  normal: 1h
  fault_duration: 5min
  gap: 5min
  metrics_missing: 0.1
  doc_coverage: 0.8
systems:
  - { name: truth-walk, system: ground-truth, params: { localizer: random-walk } }
  - { name: pc, params: { alpha: 0.05, localizer: circa } }
  - { name: atlas, params: { localizer: circa, backend: rules } }
  - name: baro
seeds: 1
"#,
            r#"
name: reg-rca-circa
kind: rca
cluster: { preset: dgx-h100, nodes: 1 }
workload: { benchmark: circa, nodes: 10, edges: 15, cases: 2 }
systems:
  - { name: ground-truth, params: { localizer: circa } }
  - name: pc
  - name: atlas
  - name: baro
seeds: 1
"#,
            r#"
name: reg-rca-petshop
kind: rca
cluster: { preset: dgx-h100, nodes: 1 }
workload: { benchmark: petshop, scenario: low_traffic }
systems:
  - { name: truth, system: ground-truth, params: { localizer: random-walk } }
  - name: baro
seeds: 1
"#,
        ],
        "datapipe" => &[r#"
name: reg-datapipe
kind: datapipe
cluster: { preset: dgx-h100, nodes: 1 }
workload:
  pipeline: cv-torch-cache
  mode: remote
  samples: 300
  epochs: 2
  service_cv: 0.2
systems:
  - name: unoptimized
  - { name: torch-dataloader, params: { num_workers: 2 } }
  - name: tf-data
  - name: tf-data-service
  - name: ray-data
  - name: pecan
  - name: cedar
  - { name: cedar-no-fusion, system: cedar, params: { fusion: false } }
seeds: 1
"#],
        _ => return None,
    })
}

#[test]
fn every_kind_emits_exactly_what_it_declares() {
    for kind in kinds() {
        let info = kind.info();
        let texts = tiny(info.name).unwrap_or_else(|| {
            panic!("kind `{}` has no tiny config in tests/registry.rs", info.name)
        });
        let mut systems = BTreeSet::new();
        let (mut metrics, mut series, mut matrices) =
            (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
        for text in texts {
            let loaded = LoadedConfig::from_text(&format!("{}.yaml", info.name), text, &[], None)
                .unwrap_or_else(|e| panic!("{e}"));
            let plan = Plan::build(loaded).unwrap_or_else(|e| panic!("{e}"));
            systems
                .extend(plan.loaded.config.systems.iter().map(|s| s.implementation().to_string()));
            for r in &plan.runs {
                let result = plan
                    .prepared(r.point, r.system)
                    .run(r.seed, false)
                    .unwrap_or_else(|e| panic!("{}: run {}: {e}", info.name, r.index));
                let undeclared = result.undeclared(info);
                assert!(undeclared.is_empty(), "{}: {undeclared:?}", info.name);
                metrics.extend(result.metrics.keys().cloned());
                series.extend(result.series.keys().cloned());
                matrices.extend(result.matrices.keys().cloned());
            }
        }
        let names = |list: &[simcore::Described]| -> BTreeSet<String> {
            list.iter().map(|d| d.name.to_string()).collect()
        };
        let declared_systems: BTreeSet<String> =
            info.systems.iter().map(|d| d.name.to_string()).collect();
        assert_eq!(systems, declared_systems, "{}: systems the tiny configs run", info.name);
        assert_eq!(metrics, names(info.metrics), "{}: metrics", info.name);
        assert_eq!(series, names(info.series), "{}: series", info.name);
        assert_eq!(matrices, names(info.matrices), "{}: matrices", info.name);
    }
}
