//! A run's graph and groupings, built once per process and shared by every run that needs the
//! same ones (a sweep over `alpha` reuses one graph and one community detection).
//!
//! - The graph: a Planetoid data set as loaded, or a generated graph whose node ids are then
//!   shuffled with the graph seed (real data sets list nodes in no community order; the
//!   generators emit communities contiguously). A generated graph's training roots are the
//!   first `train_share` of the shuffled ids, a uniform sample.
//! - A grouping (communities or METIS parts) and the layout it implies: nodes relabelled so
//!   each group's feature rows are contiguous (COMM-RAND's relabelling; PyG's `ClusterData`
//!   also permutes nodes so that each part is contiguous).

use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use simcore::RandomStreams;

use crate::communities::{contiguous_order, louvain};
use crate::config::{CommunityMethod, GnnWorkload};
use crate::graph::Graph;
use crate::partition::metis_kway;
use crate::planetoid::Dataset;
use simcore::InputError;

/// A graph with its training roots and, for data sets, labels and features.
pub struct Inputs {
    /// The graph in its original ids.
    pub graph: Graph,
    /// Training roots.
    pub train: Vec<u32>,
    /// The data set, when the graph is one.
    pub dataset: Option<Dataset>,
    /// Planted communities of a generated graph.
    pub planted: Option<Vec<u32>>,
}

/// A grouping of the nodes and the relabelled layout it implies.
pub struct Grouped {
    /// Group of each node, original ids.
    pub groups: Vec<u32>,
    /// The graph with each group's nodes contiguous.
    pub graph: Graph,
    /// Group of each node, new ids.
    pub groups_relabelled: Vec<u32>,
    /// Training roots, new ids.
    pub train_relabelled: Vec<u32>,
}

/// How to group nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Grouping {
    /// Communities by a method (`parts` for METIS).
    Communities(CommunityMethod, u32),
    /// METIS parts for Cluster-GCN.
    Parts(u32),
}

type Slot<T> = Arc<OnceLock<Result<Arc<T>, InputError>>>;
type Cache<T> = Mutex<Vec<(String, Slot<T>)>>;

/// At most this many graphs (and as many groupings) stay cached, least recently used
/// dropped first.
const KEEP: usize = 8;

fn memo<T>(
    cache: &Cache<T>,
    key: String,
    build: impl FnOnce() -> Result<T, InputError>,
) -> Result<Arc<T>, InputError> {
    let slot = {
        let mut c = cache.lock().unwrap_or_else(|p| p.into_inner());
        match c.iter().position(|(k, _)| *k == key) {
            Some(i) => {
                // Most recently used last.
                let entry = c.remove(i);
                let s = entry.1.clone();
                c.push(entry);
                s
            }
            None => {
                let s: Slot<T> = Arc::new(OnceLock::new());
                c.push((key, s.clone()));
                if c.len() > KEEP {
                    c.remove(0);
                }
                s
            }
        }
    };
    slot.get_or_init(|| build().map(Arc::new)).clone()
}

fn inputs_cache() -> &'static Cache<Inputs> {
    static CACHE: OnceLock<Cache<Inputs>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(Vec::new()))
}

fn grouped_cache() -> &'static Cache<Grouped> {
    static CACHE: OnceLock<Cache<Grouped>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(Vec::new()))
}

/// The Planetoid directory: `data_dir` if given (relative paths from the workspace root, then
/// the working directory), else `data/planetoid` in the repository's data folder. A missing
/// folder is reported at `workload.data_dir`, or at `workload.dataset` when it was not given.
pub fn data_dir(w: &GnnWorkload) -> Result<PathBuf, InputError> {
    match &w.data_dir {
        Some(d) => {
            simcore::data::resolve(d).map_err(|e| InputError::invalid("data_dir", e.to_string()))
        }
        None => simcore::data::data_file("planetoid").map_err(|e| {
            InputError::invalid(
                "dataset",
                format!("the Planetoid files are missing: {e}; or give `data_dir`"),
            )
        }),
    }
}

pub(crate) fn graph_key(w: &GnnWorkload) -> String {
    match (&w.dataset, &w.graph) {
        (Some(d), _) => format!("dataset {d} in {:?} seed {}", w.data_dir, w.graph_seed),
        (None, g) => format!("graph {g:?} seed {} train {}", w.graph_seed, w.train_share),
    }
}

/// The workload's graph (cached).
pub fn inputs(w: &GnnWorkload) -> Result<Arc<Inputs>, InputError> {
    memo(inputs_cache(), graph_key(w), || build_inputs(w))
}

fn build_inputs(w: &GnnWorkload) -> Result<Inputs, InputError> {
    if let Some(name) = &w.dataset {
        let data = Dataset::load(&data_dir(w)?, name)?;
        return Ok(Inputs {
            graph: data.graph.clone(),
            train: data.split.train.clone(),
            dataset: Some(data),
            planted: None,
        });
    }
    let spec = w.graph.as_ref().ok_or_else(|| InputError::invalid("graph", "missing"))?;
    let generated = spec.generate(w.graph_seed)?;
    let n = generated.graph.nodes();
    let mut perm: Vec<u32> = (0..n).collect();
    RandomStreams::new(w.graph_seed).stream("node ids").shuffle(&mut perm);
    let graph = generated.graph.relabel(&perm);
    let mut planted = vec![0u32; n as usize];
    for (v, &p) in perm.iter().enumerate() {
        planted[p as usize] = generated.community[v];
    }
    let roots = w.generated_roots(n);
    Ok(Inputs { graph, train: (0..roots.min(n)).collect(), dataset: None, planted: Some(planted) })
}

/// The grouping `g` of the workload's graph and its layout (cached).
pub fn grouped(w: &GnnWorkload, g: Grouping) -> Result<Arc<Grouped>, InputError> {
    let key = format!("{} / {g:?}", graph_key(w));
    memo(grouped_cache(), key, || {
        let inputs = inputs(w)?;
        let groups = match g {
            Grouping::Parts(parts) => metis_kway(&inputs.graph, parts, "params.parts")?,
            Grouping::Communities(CommunityMethod::Louvain, _) => {
                louvain(&inputs.graph, w.graph_seed)
            }
            Grouping::Communities(CommunityMethod::Metis, parts) => {
                metis_kway(&inputs.graph, parts, "community_parts")?
            }
            Grouping::Communities(CommunityMethod::Planted, _) => {
                inputs.planted.clone().ok_or_else(|| {
                    InputError::invalid("communities", "only generated graphs have planted ones")
                })?
            }
        };
        let perm = contiguous_order(&groups);
        let mut groups_relabelled = vec![0u32; groups.len()];
        for (v, &p) in perm.iter().enumerate() {
            groups_relabelled[p as usize] = groups[v];
        }
        let train_relabelled = inputs.train.iter().map(|&v| perm[v as usize]).collect();
        Ok(Grouped {
            graph: inputs.graph.relabel(&perm),
            groups,
            groups_relabelled,
            train_relabelled,
        })
    })
}
