//! A run: check the workload and policy, then (graphs and groupings cached per process)
//! simulate the time of `timed_epochs` epochs under the policy and of random batching for
//! comparison, and train the GraphSAGE model with the policy's batches where the graph has
//! features and labels.

use std::time::Instant;

use cluster::Cluster;
use simcore::{RandomStreams, RunResult};

use crate::config::{CommunityMethod, GnnWorkload};
use crate::epoch::{EpochModel, simulate_epoch};
use crate::gpu_l2::{L2Spec, L2Stats};
use crate::graph::Graph;
use crate::inputs::{Grouping, grouped, inputs};
use crate::policies::SystemSpec;
use crate::sampling::SampleIn;
use crate::train::{TrainSpec, train};
use simcore::InputError;

/// Output classes of an unlabelled graph when the workload gives none: ogbn-products' 47
/// (Hu et al., Open Graph Benchmark, NeurIPS 2020).
pub const DEFAULT_CLASSES: u32 = 47;

/// A checked run.
pub struct Prepared {
    workload: GnnWorkload,
    policy: SystemSpec,
    features: u32,
    classes: u32,
    community_parts: u32,
    train: bool,
}

/// Checks `w` and `policy`; data sets are loaded (and cached) here so bad files fail early.
pub fn prepare(
    _cluster: &Cluster,
    w: &GnnWorkload,
    policy: &SystemSpec,
) -> Result<Prepared, InputError> {
    w.validate()?;
    policy.validate()?;
    let (nodes, dims, classes, labelled) = match &w.dataset {
        Some(_) => {
            let i = inputs(w)?;
            let d =
                i.dataset.as_ref().ok_or_else(|| InputError::invalid("dataset", "not loaded"))?;
            (d.graph.nodes(), d.features.as_ref().map(|f| f.dim), Some(d.classes), true)
        }
        None => (w.graph.as_ref().map_or(0, |g| g.nodes()), None, None, false),
    };
    let name = w.dataset.clone().unwrap_or_else(|| "a generated graph".into());
    // A data set's own width and classes are what training uses: timing must use them too.
    if let (Some(f), Some(d)) = (w.features, dims) {
        return Err(InputError::invalid(
            "features",
            format!("{name} has {d} features of its own; remove `features: {f}`"),
        ));
    }
    if let (Some(c), Some(d)) = (w.classes, classes) {
        return Err(InputError::invalid(
            "classes",
            format!("{name} has {d} classes of its own; remove `classes: {c}`"),
        ));
    }
    let features = w.features.or(dims).ok_or_else(|| {
        InputError::invalid(
            "features",
            format!(
                "{name} has no feature file: give the feature width to time it (PubMed's is 500)"
            ),
        )
    })?;
    let classes = w.classes.or(classes).unwrap_or(DEFAULT_CLASSES);
    // Generated graphs train on synthetic labels and features (crate::synthetic).
    let trainable = (dims.is_some() && labelled) || w.graph.is_some();
    let train = match w.train {
        Some(true) if !trainable => {
            return Err(InputError::invalid(
                "train",
                format!("{name} has no features and labels to train on; use train: false"),
            ));
        }
        Some(t) => t,
        None => dims.is_some() && labelled,
    };
    if train && w.dataset.is_none() {
        // The synthetic split needs nodes left for validation and test (crate::synthetic).
        let roots = w.generated_roots(nodes);
        let left = nodes.saturating_sub(roots);
        if left < crate::synthetic::HELD_OUT {
            return Err(InputError::invalid(
                "train_share",
                format!(
                    "{} leaves {left} of {nodes} nodes for validation and test; training needs {}",
                    w.train_share,
                    crate::synthetic::HELD_OUT
                ),
            ));
        }
    }
    if train && w.fanouts.len() != 2 {
        return Err(InputError::invalid(
            "fanouts",
            "the trained GraphSAGE has 2 layers: give 2 fanouts, or train: false",
        ));
    }
    if let SystemSpec::ClusterGcn { parts, .. } = *policy
        && parts > nodes
    {
        return Err(InputError::Invalid {
            field: "params.parts".into(),
            message: format!("{parts} parts for {nodes} nodes: give at most {nodes}"),
        });
    }
    let community_parts = w.community_parts.unwrap_or((nodes / 200).max(2));
    if w.communities == CommunityMethod::Metis && community_parts > nodes {
        return Err(InputError::invalid(
            "community_parts",
            format!("{community_parts} parts for {nodes} nodes: give at most {nodes}"),
        ));
    }
    Ok(Prepared {
        workload: w.clone(),
        policy: policy.clone(),
        features,
        classes,
        community_parts,
        train,
    })
}

/// Mean epoch figures over the timed epochs.
#[derive(Default)]
struct Timed {
    epoch_time_s: f64,
    gpu_time_s: f64,
    sampling_time_s: f64,
    copy_time_s: f64,
    l2: L2Stats,
    gather_bytes: f64,
    h2d_bytes: f64,
    sampled_edges: f64,
    unique_nodes: f64,
    batches: f64,
    first_unique: Vec<f64>,
    first_hit_rate: Vec<f64>,
}

impl Prepared {
    fn model(&self) -> EpochModel {
        let w = &self.workload;
        EpochModel {
            features: self.features,
            hidden: w.hidden,
            classes: self.classes,
            fanouts: w.fanouts.clone(),
            feature_bytes: w.feature_bytes,
            line_bytes: w.line_bytes,
            l2_speedup: w.l2_speedup,
            l2: L2Spec {
                model: w.l2,
                partitions: w.l2_partitions,
                far_hit_cost: w.l2_far_hit_cost,
                other_traffic: w.l2_other_traffic,
            },
            feature_store: w.feature_store,
            sample_edge_ns: w.sample_edge_ns,
            scan_edge_ns: w.scan_edge_ns,
            host_gather_bandwidth: w.host_gather_bandwidth.0,
            loader_workers: w.loader_workers,
            prefetch_factor: w.prefetch_factor,
            kernels_per_layer: w.kernels_per_layer,
            step_kernels: w.step_kernels,
            index_bytes: w.index_bytes,
        }
    }

    fn grouping(&self) -> Option<Grouping> {
        match self.policy {
            SystemSpec::Random => None,
            SystemSpec::ClusterGcn { parts, .. } => Some(Grouping::Parts(parts)),
            SystemSpec::CommRand { .. } => {
                Some(Grouping::Communities(self.workload.communities, self.community_parts))
            }
        }
    }

    fn within<'a>(&self, groups: &'a [u32]) -> SampleIn<'a> {
        match self.policy {
            SystemSpec::Random => SampleIn::Anywhere,
            SystemSpec::ClusterGcn { .. } => SampleIn::BatchParts { part: groups },
            SystemSpec::CommRand { bias, .. } if bias > 0.0 => {
                SampleIn::Community { community: groups, bias }
            }
            SystemSpec::CommRand { .. } => SampleIn::Anywhere,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn time(
        &self,
        policy: &SystemSpec,
        graph: &Graph,
        train: &[u32],
        groups: &[u32],
        within: SampleIn<'_>,
        cluster: &Cluster,
        rng: &mut simcore::StreamRng,
    ) -> Result<Timed, InputError> {
        let w = &self.workload;
        let model = self.model();
        let epochs = w.timed_epochs.max(1);
        let mut t = Timed::default();
        let mut batch_count = 0usize;
        for e in 0..epochs {
            let batches = policy.epoch(train, groups, w.batch as usize, rng)?;
            let s = simulate_epoch(graph, &batches, &model, within, cluster, rng)?;
            t.epoch_time_s += s.epoch_time_s;
            t.gpu_time_s += s.gpu_time_s;
            t.sampling_time_s += s.sampling_time_s;
            t.copy_time_s += s.copy_time_s;
            t.l2 = t.l2.plus(&s.l2);
            t.gather_bytes += s.gather_bytes;
            t.h2d_bytes += s.h2d_bytes;
            t.sampled_edges += s.sampled_edges as f64;
            t.unique_nodes += s.unique_nodes.iter().map(|&u| f64::from(u)).sum::<f64>();
            batch_count += batches.len();
            if e == 0 {
                t.first_unique = s.unique_nodes.iter().map(|&u| f64::from(u)).collect();
                t.first_hit_rate = s.batch_hit_rate;
            }
        }
        let n = f64::from(epochs);
        for x in [
            &mut t.epoch_time_s,
            &mut t.gpu_time_s,
            &mut t.sampling_time_s,
            &mut t.copy_time_s,
            &mut t.gather_bytes,
            &mut t.h2d_bytes,
        ] {
            *x /= n;
        }
        t.unique_nodes /= batch_count.max(1) as f64;
        t.sampled_edges /= batch_count.max(1) as f64;
        t.batches = batch_count as f64 / n;
        Ok(t)
    }

    /// Simulates and trains with `seed`.
    pub fn run(&self, cluster: &Cluster, seed: u64, _trace: bool) -> Result<RunResult, InputError> {
        let w = &self.workload;
        let base = inputs(w)?;
        let group = match self.grouping() {
            Some(g) => Some(grouped(w, g)?),
            None => None,
        };
        let streams = RandomStreams::new(seed);
        let (graph, train_roots, groups) = match &group {
            Some(g) => (&g.graph, g.train_relabelled.as_slice(), g.groups_relabelled.as_slice()),
            None => (&base.graph, base.train.as_slice(), &[][..]),
        };
        let timed = self.time(
            &self.policy,
            graph,
            train_roots,
            groups,
            self.within(groups),
            cluster,
            &mut streams.stream("timing"),
        )?;
        let random_time = if self.policy == SystemSpec::Random {
            (timed.epoch_time_s, timed.gpu_time_s)
        } else {
            // Every policy of a sweep compares with the same random epoch: compute it once
            // per graph, model, cluster and seed.
            let key = format!(
                "{} | seed {seed} | {:?} | batch {} x {} epochs | {:?}",
                crate::inputs::graph_key(w),
                self.model(),
                w.batch,
                w.timed_epochs,
                cluster.spec()
            );
            match random_baseline(&key) {
                Some(t) => t,
                None => {
                    let t = self.time(
                        &SystemSpec::Random,
                        &base.graph,
                        &base.train,
                        &[],
                        SampleIn::Anywhere,
                        cluster,
                        &mut streams.stream("timing random"),
                    )?;
                    let t = (t.epoch_time_s, t.gpu_time_s);
                    remember_random_baseline(key, t);
                    t
                }
            }
        };
        let mut r = RunResult::new();
        r.metric("epoch_time_s", timed.epoch_time_s);
        r.metric("speedup_vs_random", random_time.0 / timed.epoch_time_s.max(1e-300));
        r.metric("gpu_time_s", timed.gpu_time_s);
        r.metric("gpu_speedup_vs_random", random_time.1 / timed.gpu_time_s.max(1e-300));
        r.metric("sampling_time_s", timed.sampling_time_s);
        r.metric("copy_time_s", timed.copy_time_s);
        r.metric("l2_hit_rate", timed.l2.hit_rate());
        r.metric("gather_bytes", timed.gather_bytes);
        r.metric("h2d_bytes", timed.h2d_bytes);
        r.metric("unique_nodes_per_batch", timed.unique_nodes);
        r.metric("sampled_edges_per_batch", timed.sampled_edges);
        r.metric("batches_per_epoch", timed.batches);
        r.series.insert("unique_nodes".into(), timed.first_unique);
        r.series.insert("batch_l2_hit_rate".into(), timed.first_hit_rate);
        if self.train {
            let synthetic;
            let data = match (&base.dataset, &base.planted) {
                (Some(d), _) => d,
                (None, Some(planted)) => {
                    synthetic = crate::synthetic::labelled(
                        &base.graph,
                        planted,
                        &base.train,
                        self.classes,
                        self.features,
                        w.feature_signal,
                        w.graph_seed,
                    );
                    &synthetic
                }
                (None, None) => return Err(InputError::invalid("train", "no labels to train on")),
            };
            // Cluster-GCN trains on its parts' induced subgraph: every neighbour inside the
            // parts gives the roots the same outputs as the whole subgraph's layers.
            let fanouts = match self.policy {
                SystemSpec::ClusterGcn { .. } => vec![u32::MAX; w.fanouts.len()],
                _ => w.fanouts.clone(),
            };
            let spec = TrainSpec {
                hidden: w.hidden as usize,
                fanouts,
                batch: w.batch as usize,
                epochs: w.epochs as usize,
                lr: w.lr,
                weight_decay: w.weight_decay,
            };
            let orig_groups = group.as_ref().map_or(&[][..], |g| g.groups.as_slice());
            let started = Instant::now();
            let outcome = train(data, &spec, seed, self.within(orig_groups), |_, rng| {
                self.policy.epoch(&data.split.train, orig_groups, w.batch as usize, rng)
            })?;
            r.timings.insert("train_time_s".into(), started.elapsed().as_secs_f64());
            r.metric("test_accuracy", outcome.final_test_accuracy);
            r.metric("best_val_accuracy", outcome.val_accuracy.iter().copied().fold(0.0, f64::max));
            if let Some(e) = outcome.val_accuracy.iter().position(|&a| a >= w.target_accuracy) {
                r.metric("epochs_to_target", (e + 1) as f64);
                r.metric("time_to_target_s", (e + 1) as f64 * timed.epoch_time_s);
            }
            r.series.insert(
                "epoch".into(),
                (1..=outcome.test_accuracy.len()).map(|e| e as f64).collect(),
            );
            r.series.insert("test_accuracy_by_epoch".into(), outcome.test_accuracy);
            r.series.insert("val_accuracy_by_epoch".into(), outcome.val_accuracy);
        }
        Ok(r)
    }
}

/// Random-batch epoch and GPU times already simulated in this process, most recent last.
type Baselines = std::sync::Mutex<Vec<(String, (f64, f64))>>;

fn random_baselines() -> &'static Baselines {
    static CACHE: std::sync::OnceLock<Baselines> = std::sync::OnceLock::new();
    CACHE.get_or_init(|| std::sync::Mutex::new(Vec::new()))
}

fn random_baseline(key: &str) -> Option<(f64, f64)> {
    let cache = random_baselines().lock().unwrap_or_else(|p| p.into_inner());
    cache.iter().find(|(k, _)| k == key).map(|e| e.1)
}

/// Keeps the 256 most recent baselines (each a key and one number).
fn remember_random_baseline(key: String, t: (f64, f64)) {
    let mut cache = random_baselines().lock().unwrap_or_else(|p| p.into_inner());
    if !cache.iter().any(|(k, _)| *k == key) {
        cache.push((key, t));
        if cache.len() > 256 {
            cache.remove(0);
        }
    }
}
