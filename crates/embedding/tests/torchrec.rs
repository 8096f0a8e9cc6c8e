//! TorchRec's planner and FBGEMM's LRU cache on cases computed by hand.

use cluster::Cluster;
use embedding::cache::lru_fetches;
use embedding::config::{CacheSpec, MissModel};
use embedding::estimator::{EstimatorHw, Kernel};
use embedding::plan::{Placement, Plan, Scope};
use embedding::recd::Scale;
use embedding::step::{CacheTransfers, build};
use embedding::systems::PlanCtx;
use embedding::systems::torchrec::{self, Params, Sharding};
use embedding::tables::{TableSpec, derive};
use embedding::tiers::{MemorySpec, Tiers};
use simcore::RandomStreams;
use taskgraph::{CostCache, ExecConfig, execute_cached};

fn table(rows: u64, pooling: f64, alpha: f64) -> TableSpec {
    TableSpec {
        name: String::new(),
        rows,
        dim: 128,
        distinct_values: None,
        coverage: 1.0,
        pooling,
        sequence: false,
        alpha: Some(alpha),
        session_level: None,
    }
}

/// Two GPUs on one node with round numbers: HBM 1e12 B/s, host 1e10 B/s, network 1e10 B/s,
/// 2 GB of HBM and 100 GB of host memory each.
fn two_gpus() -> Tiers {
    let cluster = Cluster::preset("dgx-h100", 1).unwrap();
    let mut t = Tiers::new(&cluster, &MemorySpec::default()).unwrap();
    t.gpus = 2;
    t.gpus_per_node = 2;
    t.hbm_capacity = 2e9;
    t.uvm_capacity = 1e11;
    t
}

#[test]
fn torchrec_mixes_sharding_types_and_kernels_on_three_tables() {
    // A: 1,000 rows, 10 lookups per sample; B: 1e6 rows (512 MB), 20 lookups; C: 5e6 rows
    // (2.56 GB: no GPU holds it in HBM), 1 lookup, uniform rows. d = 128, fp32, 1,000 samples
    // per GPU, the prefetch pipeline on. Per shard (TorchRec's estimator, seconds):
    //
    // A data-parallel (dense, half the HBM bandwidth): inputs 10,000; (80,000 + 5,120,000 +
    //   512,000) / 5e11 = 11.424 us, x3, plus the all-reduce 512,000 B / 1e10 = 51.2 us:
    //   85.472 us on both GPUs (table-wise: 3 x 11.424 + 2 x 102.4 = 239.07 us on one).
    // B table-wise fused: inputs 40,000, outputs 2,000; (320,000 + 20,480,000 + 1,024,000) /
    //   1e12 = 21.824 us, x3 = 65.472, plus 2 x 1,024,000 / 1e10 = 204.8: 270.272 us
    //   (row-wise: 239.072 us on both GPUs; data-parallel: + 51.2 ms of all-reduce).
    // C table-wise fused_uvm_caching at load factor 0.2 (1e6 cache rows): at HBM speed with
    //   the prefetch pipeline, (16,000 + 1,024,000 + 1,024,000) / 1e12 = 2.064 us, x3 = 6.192,
    //   + 204.8, + the prefetch of fetches(k = 1e6, m = 2,000) = 4e6 (1 - e^{-2000/5e6}) =
    //   1,599.68 rows of 512 B at 1e10 B/s = 81.904 us: 292.896 us (row-wise caching:
    //   250.4 us on both; fused does not fit anywhere, row-wise fused 209.4 us on both;
    //   fused_uvm 6.2 ms).
    //
    // Best: A on both GPUs, C and B table-wise on different GPUs: max(85.472 + 292.896,
    // 85.472 + 270.272) = 378.368 us. Any row-wise choice adds its 204.8 us of comms to both
    // GPUs (B row-wise: 85.472 + 239.072 + 292.896 = 617.4 us), A table-wise adds 239 us to
    // one. The partitioner places A first (uniform), then C (equal HBM to B, more host
    // memory) on GPU 0, then B on the less loaded GPU 1.
    let specs = [table(1_000, 10.0, 0.0), table(1_000_000, 20.0, 0.0), table(5_000_000, 1.0, 0.0)];
    let tables = derive(&specs, 0.0, 4, false);
    let tiers = two_gpus();
    let hw = EstimatorHw {
        hbm_bw: 1e12,
        ddr_bw: 1e10,
        comms_bw: 1e10,
        intra_bw: 1e10,
        gpus_per_node: 2,
        world: 2,
        batch_per_rank: 1000.0,
        elem: 4,
        prefetch: true,
    };
    let scales = vec![Scale::default(); 3];
    let ctx = PlanCtx {
        tables: &tables,
        tiers: &tiers,
        hw,
        batch: 2000.0,
        elem: 4,
        scales: &scales,
        cache: CacheSpec { prefetch: true, ..CacheSpec::default() },
    };
    let params = Params {
        types: Sharding::ALL.to_vec(),
        column_block: 128,
        cache_load_factor: 0.2,
        scale_up: false,
    };
    let best = torchrec::search(&ctx, &params).unwrap().unwrap();
    let chosen: Vec<(Sharding, Kernel)> =
        best.options.iter().map(|o| (o.sharding, o.kernel)).collect();
    assert_eq!(
        chosen,
        [
            (Sharding::DataParallel, Kernel::Dense),
            (Sharding::TableWise, Kernel::Fused),
            (Sharding::TableWise, Kernel::FusedUvmCaching)
        ]
    );
    let fetches = 4e6 * (1.0 - (-2000.0f64 / 5e6).exp());
    assert!((fetches - 1599.68).abs() < 0.01);
    assert!(
        (best.options[2].fetches - fetches).abs() < 0.01 * fetches,
        "{}",
        best.options[2].fetches
    );
    let us = 1e-6;
    assert!((best.options[0].perf - 85.472 * us).abs() < 1e-12);
    assert!((best.options[1].perf - 270.272 * us).abs() < 1e-12);
    let c = 6.192 * us + 204.8 * us + fetches * 512.0 / 1e10;
    assert!((best.options[2].perf - c).abs() < 0.01 * 81.904 * us, "{}", best.options[2].perf);
    assert_eq!(best.partition.gpus, [vec![0, 1], vec![1], vec![0]]);
    assert!((best.partition.rating - 378.368 * us).abs() < 0.1 * us, "{}", best.partition.rating);
    // The plan: two replicas kept equal by an all-reduce, B in HBM, C's cache fetching its
    // misses (the LRU model) and holding 20% of its rows in HBM.
    let plan = torchrec::placements(&ctx, &best);
    plan.check(&tables, &tiers).unwrap();
    assert_eq!(plan.syncs.len(), 1);
    let c = plan.placements.iter().find(|p| p.table == 2).unwrap();
    assert_eq!((c.gpu, c.hbm_hit), (0, 1.0));
    assert!((c.hbm_bytes - 0.2 * 2.56e9).abs() < 1.0 && (c.uvm_bytes - 2.56e9).abs() < 1.0);
    assert!((c.cache_fills - fetches).abs() < 0.01 * fetches);
}

#[test]
fn an_lru_miss_moves_its_row_once_each_way() {
    // One GPU, a table of 1,000 uniform rows of 512 B, a cache of 200 rows, 500 lookups per
    // step. FBGEMM's cache fetches the distinct missing rows once, 800 (1 - e^{-1/2}) =
    // 314.775 rows, and writes as many evicted rows back: 2 x 314.775 x 512 = 322,329.6 B.
    // Charging every missed lookup three host transfers (read, then read and write in the
    // update) moved 0.8 x 500 x 3 x 512 = 614,400 B.
    let tables = derive(&[table(1_000, 1.0, 0.0)], 0.0, 4, false);
    let mut tiers = two_gpus();
    tiers.gpus = 1;
    tiers.gpus_per_node = 1;
    let fills = lru_fetches(&tables[0].popularity, 200.0, 500.0);
    assert!((fills - 314.775).abs() < 1e-3, "{fills}");
    let placement = |hbm_hit: f64, cache_fills: f64| Placement {
        table: 0,
        gpu: 0,
        scope: Scope::Global,
        access_share: 1.0,
        col_share: 1.0,
        hbm_hit,
        hbm_bytes: 200.0 * 512.0,
        uvm_bytes: 1000.0 * 512.0,
        partial: false,
        node_reduce: false,
        cache_fills,
    };
    let lru = Plan { placements: vec![placement(1.0, fills)], syncs: vec![] };
    let load = lru.load(&tables, &tiers, 500.0, 4, &[Scale::default()]);
    assert!((load.fill_bytes[0] - 314.775 * 512.0).abs() < 1.0);
    assert!((load.writeback_bytes[0] - 314.775 * 512.0).abs() < 1.0);
    assert!((load.host_bytes() - 322_329.6).abs() < 1.0, "{}", load.host_bytes());
    assert!((load.uvm_accesses[0] - 314.775).abs() < 1e-3);
    assert_eq!(load.uvm_read[0], 0.0);
    assert_eq!(load.hbm_read[0], 500.0 * 512.0);
    // The direct accounting: a hit rate of k / U = 0.2 per lookup.
    let direct = Plan { placements: vec![placement(0.2, 0.0)], syncs: vec![] };
    let load_direct = direct.load(&tables, &tiers, 500.0, 4, &[Scale::default()]);
    assert!((load_direct.host_bytes() - 614_400.0).abs() < 1e-6);
    // In the step, the prefetch pipeline takes the fills off the critical path.
    let cluster = Cluster::preset("dgx-h100", 1).unwrap();
    let step = |prefetch: bool| {
        let cache = CacheTransfers { prefetch, efficiency: 0.1 };
        let mut rng = RandomStreams::new(1).stream("batches");
        let sg = build(&load, &tiers, 0.1, cache, &mut rng).unwrap();
        let mut costs = CostCache::new();
        execute_cached(&sg.graph, &cluster, &ExecConfig::default(), &mut costs)
            .unwrap()
            .makespan()
            .as_secs_f64()
    };
    let (serial, piped) = (step(false), step(true));
    assert!(piped < serial, "prefetch {piped} vs inline {serial}");
    // The miss model is a workload setting.
    let spec: CacheSpec =
        serde_json::from_value(serde_json::json!({ "misses": "direct" })).unwrap();
    assert_eq!(spec.misses, MissModel::Direct);
}
