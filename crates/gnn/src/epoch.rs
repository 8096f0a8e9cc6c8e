//! The time of one training epoch of a GraphSAGE model under a batching policy: every step of
//! every batch, on the CPU, over PCIe and on the GPU.
//!
//! Per batch:
//!
//! 1. **Loader (CPU).** Sample the roots' neighbourhood ([`crate::sampling`]) at
//!    `sample_edge_ns` per sampled edge; a Cluster-GCN batch instead collects the subgraph its
//!    parts induce, at `scan_edge_ns` per adjacency entry scanned. Where the features live in
//!    host memory the loader also gathers the batch's rows into a pinned buffer at
//!    `host_gather_bandwidth`.
//! 2. **Copy to the GPU.** The batch's indices (`index_bytes` each: the sampled edges' two ends,
//!    the node ids, the roots' labels) and, from host memory, its feature rows: a copy over the
//!    cluster's PCIe route (the copy model of `cluster`: launch overhead, route latency, the
//!    catalog's PCIe bandwidth and efficiency). As in PyTorch's default `.to(device)`, the copy
//!    waits for the previous step's kernels.
//! 3. **GPU.** The feature gather (features in GPU memory or mapped host memory): every row
//!    of the batch's unique nodes, in order of discovery, through the L2 model
//!    ([`crate::gpu_l2`]; the GPU's L2 size from the cluster catalog); one kernel whose HBM
//!    traffic is the missed lines, plus the hit lines weighted by `1 / l2_speedup` (far hits
//!    `l2_far_hit_cost` times more), plus writing the gathered copy. From mapped host memory
//!    the missed lines cross PCIe instead. Then the layers: layer `l` of GraphSAGE-mean
//!    (Hamilton et al. 2017) on `n_l` destination nodes with `e_l` edges, input width `f_in`
//!    and output width `f_out`: `4 n_l f_in f_out` FLOPs and `(e_l + n_l) f_in + n_l f_out`
//!    fp32 values of traffic forward, twice both backward, as roofline kernels of the
//!    cluster's compute model. Then AdamW: one memory-bound kernel reading parameters,
//!    gradients and both moments and writing three of them back (28 bytes per fp32
//!    parameter). The step's other small kernels (`kernels_per_layer` per layer and
//!    `step_kernels` per step, less the ones above) cost the compute model's launch overhead
//!    each.
//! 4. **L2 between batches.** The batch's other buffers pass through L2 before the next
//!    gather ([`crate::gpu_l2::GpuL2::other_traffic`]): the gathered copy, the layers'
//!    activations and their gradients, and the weights, gradients and AdamW moments.
//!
//! The loader runs in the training loop (`loader_workers: 0`, PyTorch's default: batch `i + 1`
//! is sampled after step `i` ends) or in `W` worker processes that each prepare every `W`-th
//! batch, at most `W x prefetch_factor` batches ahead of the training loop, overlapping the
//! GPU. The epoch is one task graph run on the shared executor (`taskgraph`).

use cluster::{Cluster, Dtype, GpuId, MemoryTier};
use simcore::{InputError, SimTime, StreamRng};
use taskgraph::{ExecConfig, OpId, TaskGraphBuilder, execute};

use crate::config::{self, FeatureStore};
use crate::gpu_l2::{GpuL2, L2Spec, L2Stats};
use crate::graph::Graph;
use crate::policies::Batch;
use crate::sampling::{BatchSampler, SampleIn};

/// The model, where its features live and what a training step costs besides its kernels.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochModel {
    /// Input feature width.
    pub features: u32,
    /// Hidden width of every layer but the last.
    pub hidden: u32,
    /// Output classes.
    pub classes: u32,
    /// Neighbour fanout per layer (from the roots outwards).
    pub fanouts: Vec<u32>,
    /// Bytes per feature value.
    pub feature_bytes: u32,
    /// L2 cache line in bytes.
    pub line_bytes: u64,
    /// L2 over HBM bandwidth.
    pub l2_speedup: f64,
    /// The L2 model.
    pub l2: L2Spec,
    /// Where the features live.
    pub feature_store: FeatureStore,
    /// CPU nanoseconds per sampled edge.
    pub sample_edge_ns: f64,
    /// CPU nanoseconds per adjacency entry scanned (Cluster-GCN's induced subgraph).
    pub scan_edge_ns: f64,
    /// Bytes per second one loader process gathers into a pinned buffer (host features).
    pub host_gather_bandwidth: f64,
    /// Loader worker processes (0: the training loop samples).
    pub loader_workers: u32,
    /// Batches each worker may prepare ahead.
    pub prefetch_factor: u32,
    /// Kernels per layer and step, forward and backward.
    pub kernels_per_layer: u32,
    /// Further kernels per step (loss, optimizer).
    pub step_kernels: u32,
    /// Bytes per index copied with a batch.
    pub index_bytes: u32,
}

impl EpochModel {
    /// A model of these shapes with every other setting at the workload's default.
    pub fn new(features: u32, hidden: u32, classes: u32, fanouts: Vec<u32>) -> EpochModel {
        EpochModel {
            features,
            hidden,
            classes,
            fanouts,
            feature_bytes: config::feature_bytes(),
            line_bytes: config::line_bytes(),
            l2_speedup: config::l2_speedup(),
            l2: L2Spec {
                model: config::l2(),
                partitions: config::l2_partitions(),
                far_hit_cost: config::l2_far_hit_cost(),
                other_traffic: config::l2_other_traffic(),
            },
            feature_store: config::feature_store(),
            sample_edge_ns: config::sample_edge_ns(),
            scan_edge_ns: config::scan_edge_ns(),
            host_gather_bandwidth: config::host_gather_bandwidth().0,
            loader_workers: 0,
            prefetch_factor: config::prefetch_factor(),
            kernels_per_layer: config::kernels_per_layer(),
            step_kernels: config::step_kernels(),
            index_bytes: config::index_bytes(),
        }
    }

    /// Layer `k`'s input and output widths.
    fn widths(&self, k: usize) -> (f64, f64) {
        let layers = self.fanouts.len();
        let f_in = if k == 0 { self.features } else { self.hidden };
        let f_out = if k + 1 == layers { self.classes } else { self.hidden };
        (f64::from(f_in), f64::from(f_out))
    }

    /// Trainable parameters: per SAGEConv layer two `f_in x f_out` maps and a bias.
    pub fn parameters(&self) -> f64 {
        (0..self.fanouts.len())
            .map(|k| {
                let (i, o) = self.widths(k);
                2.0 * i * o + o
            })
            .sum()
    }

    /// Bytes of one feature row.
    pub fn row_bytes(&self) -> u64 {
        u64::from(self.features) * u64::from(self.feature_bytes)
    }
}

/// What an epoch cost.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EpochStats {
    /// Simulated time of the epoch, seconds: loader, copies and GPU, as they overlap.
    pub epoch_time_s: f64,
    /// Time the GPU's stream was busy: kernels and launches, seconds.
    pub gpu_time_s: f64,
    /// CPU time of the loader (sampling, and gathering host rows), summed over batches.
    pub sampling_time_s: f64,
    /// Time of the copies to the GPU, summed.
    pub copy_time_s: f64,
    /// L2 reads of the gathers.
    pub l2: L2Stats,
    /// Feature bytes gathered (rows x row bytes).
    pub gather_bytes: f64,
    /// Bytes copied host to device.
    pub h2d_bytes: f64,
    /// Edges sampled (Cluster-GCN: edges of the induced subgraphs, both directions).
    pub sampled_edges: u64,
    /// Unique nodes of each batch.
    pub unique_nodes: Vec<u32>,
    /// L2 hit rate of each batch's gathers.
    pub batch_hit_rate: Vec<f64>,
}

/// A batch's computation graph as the GPU sees it.
struct BatchGraph {
    /// Feature rows read, in order.
    rows: Vec<u32>,
    /// `(nodes, edges)` each layer computes over, input layer first.
    layers: Vec<(f64, f64)>,
    /// Edges copied to the GPU.
    edges: u64,
    /// Adjacency entries the loader visited (sampled or scanned).
    loader_edges: u64,
    /// Whether they were scanned (an induced subgraph) rather than sampled.
    scanned: bool,
}

fn batch_graph(
    sampler: &mut BatchSampler<'_>,
    batch: &Batch,
    within: SampleIn<'_>,
    layers: usize,
    rng: &mut StreamRng,
) -> BatchGraph {
    if let SampleIn::BatchParts { .. } = within {
        let s = sampler.induced(batch);
        let n = s.nodes.len() as f64;
        return BatchGraph {
            layers: vec![(n, s.edges as f64); layers],
            edges: s.edges,
            loader_edges: s.scanned,
            scanned: true,
            rows: s.nodes,
        };
    }
    let s = sampler.sample(batch, rng);
    // Layer k (0 = the input layer) computes the outputs of every node within
    // `layers - 1 - k` hops of the roots (roots included), aggregating the sampled edges of
    // exactly those nodes: the edge lists of hops 0..layers - k.
    let per_layer = (0..layers)
        .map(|k| {
            let reach = layers - k;
            let n = s.hop_nodes[..reach].iter().sum::<usize>() as f64;
            let e = s.edges[..reach].iter().map(Vec::len).sum::<usize>() as f64;
            (n, e)
        })
        .collect();
    let edges = s.edges.iter().map(|l| l.len() as u64).sum();
    BatchGraph { rows: s.nodes, layers: per_layer, edges, loader_edges: edges, scanned: false }
}

/// Simulates one epoch of `batches` on GPU 0 of `cluster` (host memory of node 0), sampling
/// `within`.
pub fn simulate_epoch(
    graph: &Graph,
    batches: &[Batch],
    model: &EpochModel,
    within: SampleIn<'_>,
    cluster: &Cluster,
    rng: &mut StreamRng,
) -> Result<EpochStats, InputError> {
    let mut sampler = BatchSampler::new(graph, &model.fanouts, within)?;
    let sim = |e: String| InputError::Invalid { field: "cluster".into(), message: e };
    let row_bytes = model.row_bytes();
    let mut l2 = GpuL2::new(
        cluster.gpu().l2_cache.0,
        model.line_bytes,
        row_bytes,
        u64::from(graph.nodes()),
        &model.l2,
    );
    let gpu = GpuId(0);
    let (host, hbm) = (MemoryTier::Host(0), MemoryTier::Hbm(gpu));
    let launch = cluster.compute().launch_overhead();
    let layers = model.fanouts.len();
    let line = model.line_bytes as f64;
    let l2_speedup = model.l2_speedup.max(1e-9);
    let params = model.parameters();
    let index = f64::from(model.index_bytes);
    let launch_only = (model.kernels_per_layer.saturating_sub(2) as usize) * layers
        + model.step_kernels.saturating_sub(1) as usize;
    let workers = model.loader_workers as usize;
    let ahead = workers * model.prefetch_factor.max(1) as usize;

    let mut b = TaskGraphBuilder::new();
    let mut stats = EpochStats::default();
    let (mut loads, mut copies, mut gpu_ops): (Vec<OpId>, Vec<OpId>, Vec<OpId>) =
        (Vec::new(), Vec::new(), Vec::new());
    let mut prev_last: Option<OpId> = None;
    for batch in batches {
        let g = batch_graph(&mut sampler, batch, within, layers, rng);
        let n0 = g.rows.len() as f64;
        let rows_bytes = n0 * row_bytes as f64;
        // L2: the gathers read every row (not when the loader brings the rows over PCIe).
        let before = l2.stats;
        if model.feature_store != FeatureStore::Host {
            for &v in &g.rows {
                l2.read_row(u64::from(v));
            }
        }
        let read = l2.stats.since(&before);
        // The step's other buffers pass through L2 before the next gather.
        let activations: f64 = (0..layers)
            .map(|k| {
                let (f_in, f_out) = model.widths(k);
                g.layers[k].0 * (f_in + f_out) * 4.0
            })
            .sum();
        l2.other_traffic(rows_bytes + 2.0 * activations + 16.0 * params);

        // Loader on the CPU.
        let per_edge_ns = if g.scanned { model.scan_edge_ns } else { model.sample_edge_ns };
        let mut load_s = g.loader_edges as f64 * per_edge_ns * 1e-9;
        let mut h2d = (2.0 * g.edges as f64 + n0 + batch.roots.len() as f64) * index;
        if model.feature_store == FeatureStore::Host {
            load_s += rows_bytes / model.host_gather_bandwidth.max(1.0);
            h2d += rows_bytes;
        }
        let load = b.delay("sample batch", SimTime::from_secs_f64_ceil(load_s));
        let copy = b.copy("copy batch to GPU", host, hbm, h2d);
        b.depend(load, copy);

        // The GPU's step.
        let mut chain = Vec::with_capacity(2 * layers + 4);
        let hit_traffic = (read.near_hits as f64 + read.far_hits as f64 * model.l2.far_hit_cost)
            * line
            / l2_speedup;
        match model.feature_store {
            FeatureStore::Gpu => {
                let bytes = read.misses as f64 * line + hit_traffic + rows_bytes;
                chain.push(b.compute("gather features", gpu, 0.0, bytes, Dtype::Fp32));
            }
            FeatureStore::Uvm => {
                // Missed lines cross PCIe (zero-copy reads), the rest is the kernel's.
                chain.push(b.copy(
                    "gather features over PCIe",
                    host,
                    hbm,
                    read.misses as f64 * line,
                ));
                chain.push(b.compute(
                    "gather features",
                    gpu,
                    0.0,
                    hit_traffic + rows_bytes,
                    Dtype::Fp32,
                ));
            }
            FeatureStore::Host => {}
        }
        let mut backward = Vec::with_capacity(layers);
        for (k, &(n, e)) in g.layers.iter().enumerate() {
            let (f_in, f_out) = model.widths(k);
            let flops = 4.0 * n * f_in * f_out;
            let bytes = (e + n) * f_in * 4.0 + n * f_out * 4.0;
            chain.push(b.compute("layer forward", gpu, flops, bytes, Dtype::Fp32));
            backward.push((flops, bytes));
        }
        for &(flops, bytes) in backward.iter().rev() {
            chain.push(b.compute("layer backward", gpu, 2.0 * flops, 2.0 * bytes, Dtype::Fp32));
        }
        if launch_only > 0 {
            let launches = SimTime::from_nanos(launch.as_nanos() * launch_only as u64);
            chain.push(b.delay("small kernels' launches", launches));
        }
        chain.push(b.compute("AdamW", gpu, 0.0, 28.0 * params, Dtype::Fp32));
        for w in chain.windows(2) {
            b.depend(w[0], w[1]);
        }
        b.depend(copy, chain[0]);
        let i = loads.len();
        if let Some(p) = prev_last {
            // PyTorch's `.to(device)` waits for the stream's earlier kernels.
            b.depend(p, copy);
            if workers == 0 {
                b.depend(p, load);
            }
        }
        if workers > 0 {
            if i >= workers {
                b.depend(loads[i - workers], load);
            }
            if i >= ahead {
                b.depend(copies[i - ahead], load);
            }
        }
        prev_last = chain.last().copied();
        loads.push(load);
        copies.push(copy);
        gpu_ops.extend_from_slice(&chain);

        stats.sampling_time_s += load_s;
        stats.h2d_bytes += h2d;
        stats.sampled_edges += g.edges;
        stats.gather_bytes += rows_bytes;
        stats.unique_nodes.push(g.rows.len() as u32);
        stats.batch_hit_rate.push(read.hit_rate());
    }
    stats.l2 = l2.stats;
    let graph = b.build().map_err(|e| sim(e.to_string()))?;
    let run = execute(&graph, cluster, &ExecConfig::default()).map_err(|e| sim(e.to_string()))?;
    stats.epoch_time_s = run.makespan().as_secs_f64();
    let total = |ops: &[OpId]| ops.iter().map(|&o| run.duration(o).as_secs_f64()).sum::<f64>();
    stats.gpu_time_s = total(&gpu_ops);
    stats.copy_time_s = total(&copies);
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::communities::contiguous_order;
    use crate::generate::GraphSpec;
    use crate::gpu_l2::L2Model;
    use crate::policies::SystemSpec;
    use crate::sampling::star_of_stars;
    use simcore::RandomStreams;

    #[test]
    fn community_batches_hit_l2_more_and_run_faster_than_random_ones() {
        // 40,000 nodes in 10 communities, features of 512 floats (2 KiB a row: 80 MB in all,
        // twice an A100's L2; 8 MB a community), contiguous rows per community, about four
        // batches of roots per community: consecutive community batches reuse rows in L2.
        let g = GraphSpec::Sbm { nodes: 40_000, communities: 10, stubs: 5.0, mu: 0.05 }
            .generate(1)
            .unwrap();
        let perm = contiguous_order(&g.community);
        let graph = g.graph.relabel(&perm);
        let mut community = vec![0u32; perm.len()];
        for (v, &p) in perm.iter().enumerate() {
            community[p as usize] = g.community[v];
        }
        let train: Vec<u32> = (0..40_000).step_by(4).collect();
        let cluster = Cluster::preset("dgx-a100", 1).unwrap();
        let run = |alpha: Option<f64>, model: &EpochModel| {
            let mut rng = RandomStreams::new(2).stream("epoch");
            let policy = match alpha {
                None => SystemSpec::Random,
                Some(alpha) => SystemSpec::CommRand { alpha, bias: 0.0 },
            };
            let batches = policy.epoch(&train, &community, 256, &mut rng).unwrap();
            simulate_epoch(&graph, &batches, model, SampleIn::Anywhere, &cluster, &mut rng).unwrap()
        };
        // The GPU alone with the exact shared LRU (the model before sampling, copies and
        // launches were added): community batches hit L2 far more and the GPU is faster.
        let mut exact = EpochModel::new(512, 128, 10, vec![10, 5]);
        exact.l2 = L2Spec::exact();
        exact.sample_edge_ns = 0.0;
        let (rand, seq, mid) = (run(None, &exact), run(Some(0.0), &exact), run(Some(0.5), &exact));
        // Measured: hit rates 0.444 random / 0.647 alpha 0.5 / 0.733 alpha 0.
        assert!(
            seq.l2.hit_rate() > rand.l2.hit_rate() + 0.2,
            "{} vs {}",
            seq.l2.hit_rate(),
            rand.l2.hit_rate()
        );
        assert!(seq.gpu_time_s < mid.gpu_time_s && mid.gpu_time_s < rand.gpu_time_s);
        // Community batches also sample fewer unique nodes (shared neighbourhoods).
        let mean = |s: &EpochStats| {
            s.unique_nodes.iter().map(|&u| f64::from(u)).sum::<f64>() / s.unique_nodes.len() as f64
        };
        assert!(mean(&seq) < mean(&rand));
        // The realistic L2 (two partitions, flushed between batches). Measured: hit rates
        // 0.004 random (its batches' 13k rows and their copies overflow a partition before the
        // next gather) and 0.579 alpha 0 (0.733 with the exact LRU); GPU times 12.02 ms and
        // 10.38 ms (11.87 and 10.34 exact): the gather is a small share of the GPU's step.
        let realistic =
            EpochModel { sample_edge_ns: 0.0, ..EpochModel::new(512, 128, 10, vec![10, 5]) };
        assert_eq!(realistic.l2.model, L2Model::Realistic);
        let (rand_r, seq_r) = (run(None, &realistic), run(Some(0.0), &realistic));
        assert!(rand_r.l2.hit_rate() < 0.05, "{:?}", rand_r.l2);
        assert!(seq_r.l2.hit_rate() > 0.4 && seq_r.l2.hit_rate() < seq.l2.hit_rate());
        assert!(seq_r.l2.far_hits > 0 && seq_r.l2.far_hits < seq_r.l2.near_hits);
        assert!(seq_r.gpu_time_s < rand_r.gpu_time_s);
        assert!(rand_r.gpu_time_s > rand.gpu_time_s, "fewer hits cost GPU time");
    }

    #[test]
    fn the_step_adds_sampling_copies_launches_and_adamw_by_hand() {
        // Three batches of root 0 with fanouts [10, 10] take every neighbour: hop 1 is 0's 10
        // edges, hop 2 the 10 edges of each hub (0 and its 9 leaves): 110 sampled edges and
        // 1 + 10 + 90 = 101 unique nodes a batch, whatever the random stream.
        let g = star_of_stars();
        let cluster = Cluster::preset("dgx-a100", 1).unwrap();
        let batches = vec![Batch { roots: vec![0], parts: vec![] }; 3];
        let mut model = EpochModel::new(32, 16, 4, vec![10, 10]);
        model.sample_edge_ns = 1e5; // 100 us an edge: 11 ms a batch
        // Parameters: 2 x 32 x 16 + 16 and 2 x 16 x 4 + 4.
        assert_eq!(model.parameters(), 1172.0);
        let run = |m: &EpochModel| {
            let mut rng = RandomStreams::new(1).stream("epoch");
            simulate_epoch(&g, &batches, m, SampleIn::Anywhere, &cluster, &mut rng).unwrap()
        };
        let seq = run(&model);
        assert_eq!(seq.unique_nodes, [101, 101, 101]);
        assert_eq!(seq.sampled_edges, 330);
        assert!((seq.sampling_time_s - 3.0 * 0.011).abs() < 1e-12);
        // Indices copied: both ends of 110 edges, 101 node ids and 1 label, 8 bytes each.
        assert_eq!(seq.h2d_bytes, 3.0 * (2.0 * 110.0 + 101.0 + 1.0) * 8.0);
        assert_eq!(seq.gather_bytes, 3.0 * 101.0 * 128.0);
        // Without loader workers nothing overlaps: the epoch is the sum of its parts (each
        // delay rounded up to a whole nanosecond).
        let parts = seq.sampling_time_s + seq.copy_time_s + seq.gpu_time_s;
        assert!((seq.epoch_time_s - parts).abs() < 1e-8, "{} vs {parts}", seq.epoch_time_s);
        // Three workers sample the three batches at once: the epoch is one batch's sampling,
        // then the copies and kernels one after another.
        let three = run(&EpochModel { loader_workers: 3, ..model.clone() });
        let overlapped = 0.011 + three.copy_time_s + three.gpu_time_s;
        assert!((three.epoch_time_s - overlapped).abs() < 1e-8, "{}", three.epoch_time_s);
        // One worker samples ahead while the GPU works: between the two.
        let one = run(&EpochModel { loader_workers: 1, ..model.clone() });
        assert!(one.epoch_time_s < seq.epoch_time_s && one.epoch_time_s > 0.033);
        // Launches: 18 kernels a layer and 14 a step, of which each layer's forward and
        // backward kernel and AdamW are modelled; the other 16 x 2 + 13 = 45 cost the 2 us
        // launch overhead each: 270 us over three batches.
        let bare = run(&EpochModel { kernels_per_layer: 2, step_kernels: 1, ..model.clone() });
        let launches = seq.gpu_time_s - bare.gpu_time_s;
        assert!((launches - 3.0 * 45.0 * 2e-6).abs() < 1e-9, "{launches}");
        // Features in host memory: the loader gathers 101 rows of 128 B at 4 GB/s and the
        // copy carries them; L2 sees no gathers.
        let host = run(&EpochModel { feature_store: FeatureStore::Host, ..model.clone() });
        assert_eq!(host.h2d_bytes, seq.h2d_bytes + seq.gather_bytes);
        let gathers = seq.gather_bytes / crate::config::MEASURED_HOST_GATHER_BANDWIDTH;
        assert!((host.sampling_time_s - seq.sampling_time_s - gathers).abs() < 1e-12);
        assert_eq!(host.l2, L2Stats::default());
        assert!(host.gpu_time_s < seq.gpu_time_s, "no gather kernel");
        // Mapped host memory: the missed lines cross PCIe inside the GPU's step.
        let uvm = run(&EpochModel { feature_store: FeatureStore::Uvm, ..model.clone() });
        assert_eq!(uvm.l2, seq.l2);
        assert!(uvm.gpu_time_s > seq.gpu_time_s);
    }

    #[test]
    fn a_cluster_gcn_step_works_on_the_whole_induced_subgraph() {
        // The graph of sampling.rs's test: parts {0, 1, 2}, {3, 4}, {5, 6, 7}; batch of parts
        // 0 and 1 = 5 nodes and 10 directed edges, 12 adjacency entries scanned.
        let g = Graph::from_edges(
            8,
            &[(0, 1), (1, 2), (0, 2), (3, 4), (5, 6), (6, 7), (2, 3), (4, 5), (7, 0)],
        );
        let part = [0, 0, 0, 1, 1, 2, 2, 2];
        let cluster = Cluster::preset("dgx-a100", 1).unwrap();
        let batches = [Batch { roots: vec![1, 3], parts: vec![0, 1] }];
        let mut model = EpochModel::new(32, 16, 4, vec![1, 1]);
        model.sample_edge_ns = 1e6; // not used: nothing is sampled
        model.scan_edge_ns = 1000.0;
        let mut rng = RandomStreams::new(1).stream("epoch");
        let within = SampleIn::BatchParts { part: &part };
        let s = simulate_epoch(&g, &batches, &model, within, &cluster, &mut rng).unwrap();
        assert_eq!(s.unique_nodes, [5]);
        assert_eq!(s.sampled_edges, 10);
        // 12 entries scanned at 1 us; indices: 2 x 10 edge ends, 5 node ids, 2 labels.
        assert!((s.sampling_time_s - 12e-6).abs() < 1e-15);
        assert_eq!(s.h2d_bytes, (20.0 + 5.0 + 2.0) * 8.0);
    }
}
