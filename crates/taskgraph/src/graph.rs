//! The task graph: operations, named, with dependencies; built by [`TaskGraphBuilder`], which
//! rejects dangling dependencies and cycles.

use std::collections::HashMap;

use cluster::{Algorithm, CollectiveKind, Dtype, GpuId, MemoryTier};
use simcore::SimTime;
use simcore::fast_hash::FastMap;

use crate::error::GraphError;
use crate::op::{ChainId, ChainStep, GroupId, OpId, OpKind, TrafficId};

/// A validated DAG of operations, with successors in compressed-row form.
#[derive(Clone, Debug)]
pub struct TaskGraph {
    kinds: Vec<OpKind>,
    name_ids: Vec<u32>,
    names: Vec<String>,
    groups: Vec<Vec<GpuId>>,
    /// Per group and member: how many other GPU-driven groups that member used before it.
    group_ordinals: Vec<Vec<u32>>,
    traffics: Vec<Vec<(GpuId, GpuId, f64)>>,
    chains: Vec<Vec<ChainStep>>,
    /// Trace categories set on a few ops, sorted by op.
    tags: Vec<(u32, &'static str)>,
    succ_start: Vec<u32>,
    succ: Vec<u32>,
    pred_start: Vec<u32>,
    pred: Vec<u32>,
}

impl TaskGraph {
    /// Number of operations.
    pub fn len(&self) -> usize {
        self.kinds.len()
    }

    /// Whether the graph has no operations.
    pub fn is_empty(&self) -> bool {
        self.kinds.is_empty()
    }

    /// Every op id, in order.
    pub fn ops(&self) -> impl Iterator<Item = OpId> + '_ {
        (0..self.kinds.len() as u32).map(OpId)
    }

    /// What an op does.
    #[inline]
    pub fn kind(&self, op: OpId) -> &OpKind {
        &self.kinds[op.0 as usize]
    }

    /// An op's name.
    pub fn name(&self, op: OpId) -> &str {
        &self.names[self.name_ids[op.0 as usize] as usize]
    }

    /// The trace category of an op: its tag if one was set, else its kind's category.
    pub fn category(&self, op: OpId) -> &'static str {
        match self.tags.binary_search_by_key(&op.0, |t| t.0) {
            Ok(i) => self.tags[i].1,
            Err(_) => self.kinds[op.0 as usize].category(),
        }
    }

    /// The GPUs of a collective group.
    #[inline]
    pub fn group(&self, g: GroupId) -> &[GpuId] {
        &self.groups[g.0 as usize]
    }

    /// Per member of group `g` (in [`TaskGraph::group`] order): how many distinct groups of
    /// GPU-driven collectives or exchanges that GPU used before `g`, in op order. The executor
    /// runs `g` on communication stream `ordinal mod comm_streams` of each member, so a GPU's
    /// first `comm_streams` groups get streams of their own (like PyTorch process groups,
    /// which each have their own NCCL stream).
    #[inline]
    pub fn group_ordinals(&self, g: GroupId) -> &[u32] {
        &self.group_ordinals[g.0 as usize]
    }

    /// The most distinct groups of GPU-driven collectives or exchanges any one GPU takes
    /// part in.
    pub fn max_groups_per_gpu(&self) -> u32 {
        self.group_ordinals.iter().flatten().map(|&k| k + 1).max().unwrap_or(0)
    }

    /// The steps of a chain.
    pub fn chain(&self, c: ChainId) -> &[ChainStep] {
        &self.chains[c.0 as usize]
    }

    /// Number of chain step lists.
    pub fn chain_count(&self) -> usize {
        self.chains.len()
    }

    /// Whether any op is a chain.
    pub fn has_chains(&self) -> bool {
        !self.chains.is_empty()
    }

    /// The transfers of an exchange.
    #[inline]
    pub fn traffic(&self, t: TrafficId) -> &[(GpuId, GpuId, f64)] {
        &self.traffics[t.0 as usize]
    }

    /// Number of distinct groups.
    pub fn group_count(&self) -> usize {
        self.groups.len()
    }

    /// Ops that wait for `op`.
    #[inline]
    pub fn successors(&self, op: OpId) -> &[u32] {
        let i = op.0 as usize;
        &self.succ[self.succ_start[i] as usize..self.succ_start[i + 1] as usize]
    }

    /// Ops that `op` waits for.
    #[inline]
    pub fn predecessors(&self, op: OpId) -> &[u32] {
        let i = op.0 as usize;
        &self.pred[self.pred_start[i] as usize..self.pred_start[i + 1] as usize]
    }

    /// Number of dependency edges.
    pub fn edge_count(&self) -> usize {
        self.succ.len()
    }
}

/// Builds a [`TaskGraph`] op by op.
///
/// ```
/// use cluster::{Dtype, GpuId};
/// use taskgraph::TaskGraphBuilder;
///
/// let mut b = TaskGraphBuilder::new();
/// let fwd = b.compute("fwd", GpuId(0), 1e12, 0.0, Dtype::Bf16);
/// let send = b.send("act", GpuId(0), GpuId(1), 16e6);
/// let next = b.compute("fwd2", GpuId(1), 1e12, 0.0, Dtype::Bf16);
/// b.depend(fwd, send);
/// b.depend(send, next);
/// let graph = b.build()?;
/// assert_eq!(graph.successors(fwd), &[send.0]);
/// # Ok::<(), taskgraph::GraphError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct TaskGraphBuilder {
    kinds: Vec<OpKind>,
    name_ids: Vec<u32>,
    names: Vec<String>,
    name_index: FastMap<String, u32>,
    groups: Vec<Vec<GpuId>>,
    group_index: FastMap<Vec<GpuId>, u32>,
    traffics: Vec<Vec<(GpuId, GpuId, f64)>>,
    chains: Vec<Vec<ChainStep>>,
    edges: Vec<(u32, u32)>,
    tags: Vec<(u32, &'static str)>,
}

impl TaskGraphBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty builder with room for `ops` ops and `edges` dependencies.
    pub fn with_capacity(ops: usize, edges: usize) -> Self {
        TaskGraphBuilder {
            kinds: Vec::with_capacity(ops),
            name_ids: Vec::with_capacity(ops),
            edges: Vec::with_capacity(edges),
            ..Self::default()
        }
    }

    /// Number of ops added so far.
    pub fn len(&self) -> usize {
        self.kinds.len()
    }

    /// Whether no op was added.
    pub fn is_empty(&self) -> bool {
        self.kinds.is_empty()
    }

    /// Adds an op of any kind. Names need not be unique (they label traces); equal names
    /// share storage.
    pub fn add(&mut self, name: &str, kind: OpKind) -> OpId {
        let name_id = match self.name_index.get(name) {
            Some(&i) => i,
            None => {
                let i = self.names.len() as u32;
                self.names.push(name.to_string());
                self.name_index.insert(name.to_string(), i);
                i
            }
        };
        self.kinds.push(kind);
        self.name_ids.push(name_id);
        OpId((self.kinds.len() - 1) as u32)
    }

    /// Gives `op` its own trace category (e.g. `rerouted` for work a failure policy moved), so
    /// traces and Gantt charts can colour it apart from ops of the same kind.
    pub fn tag(&mut self, op: OpId, category: &'static str) {
        self.tags.push((op.0, category));
    }

    /// The group id of a set of GPUs (order does not matter; duplicates are kept and rejected
    /// at execution).
    pub fn group(&mut self, gpus: &[GpuId]) -> GroupId {
        // Most callers pass members in order: look those up without a copy.
        if gpus.is_sorted()
            && let Some(&g) = self.group_index.get(gpus)
        {
            return GroupId(g);
        }
        let mut key = gpus.to_vec();
        key.sort_unstable();
        if let Some(&g) = self.group_index.get(&key) {
            return GroupId(g);
        }
        let g = self.groups.len() as u32;
        self.groups.push(key.clone());
        self.group_index.insert(key, g);
        GroupId(g)
    }

    /// A kernel on compute stream 0 of `gpu`.
    pub fn compute(
        &mut self,
        name: &str,
        gpu: GpuId,
        flops: f64,
        bytes: f64,
        dtype: Dtype,
    ) -> OpId {
        self.add(name, OpKind::Compute { gpu, stream: 0, flops, bytes, dtype })
    }

    /// A kernel on a given compute stream of `gpu`.
    pub fn compute_on(
        &mut self,
        name: &str,
        gpu: GpuId,
        stream: u8,
        flops: f64,
        bytes: f64,
        dtype: Dtype,
    ) -> OpId {
        self.add(name, OpKind::Compute { gpu, stream, flops, bytes, dtype })
    }

    /// A copy between memory tiers.
    pub fn copy(&mut self, name: &str, from: MemoryTier, to: MemoryTier, bytes: f64) -> OpId {
        self.add(name, OpKind::Copy { from, to, bytes })
    }

    /// A point-to-point send.
    pub fn send(&mut self, name: &str, src: GpuId, dst: GpuId, bytes: f64) -> OpId {
        self.add(name, OpKind::Send { src, dst, bytes })
    }

    /// A collective over `gpus`.
    pub fn collective(
        &mut self,
        name: &str,
        kind: CollectiveKind,
        algorithm: Algorithm,
        gpus: &[GpuId],
        bytes: f64,
    ) -> OpId {
        let group = self.group(gpus);
        self.add(name, OpKind::Collective { kind, algorithm, group, bytes, host_driven: false })
    }

    /// A collective issued by host threads (RDMA from host memory): the same cost, but no GPU
    /// stream is held while it runs.
    pub fn host_collective(
        &mut self,
        name: &str,
        kind: CollectiveKind,
        algorithm: Algorithm,
        gpus: &[GpuId],
        bytes: f64,
    ) -> OpId {
        let group = self.group(gpus);
        self.add(name, OpKind::Collective { kind, algorithm, group, bytes, host_driven: true })
    }

    /// A GPU-driven non-uniform all-to-all of `(src, dst, bytes)` transfers among the GPUs that
    /// appear in it (transfers to self are free).
    pub fn exchange(&mut self, name: &str, traffic: Vec<(GpuId, GpuId, f64)>) -> OpId {
        self.exchange_with(name, traffic, false)
    }

    /// A host-driven non-uniform all-to-all: the same transfers, issued by host threads (RDMA),
    /// so no GPU stream is held while it runs.
    pub fn host_exchange(&mut self, name: &str, traffic: Vec<(GpuId, GpuId, f64)>) -> OpId {
        self.exchange_with(name, traffic, true)
    }

    fn exchange_with(
        &mut self,
        name: &str,
        traffic: Vec<(GpuId, GpuId, f64)>,
        host_driven: bool,
    ) -> OpId {
        let mut members: Vec<GpuId> = traffic.iter().flat_map(|&(a, b, _)| [a, b]).collect();
        members.sort_unstable();
        members.dedup();
        let group = self.group(&members);
        let id = TrafficId(self.traffics.len() as u32);
        self.traffics.push(traffic);
        self.add(name, OpKind::Exchange { group, traffic: id, host_driven })
    }

    /// Host work on `node`: `bytes` through its DRAM at most at `rate` bytes/s.
    pub fn host_work(&mut self, name: &str, node: u32, bytes: f64, rate: f64) -> OpId {
        self.add(name, OpKind::HostWork { node, bytes, rate })
    }

    /// A step list for [`TaskGraphBuilder::chain`] (ops may share one).
    pub fn chain_steps(&mut self, steps: Vec<ChainStep>) -> ChainId {
        self.chains.push(steps);
        ChainId((self.chains.len() - 1) as u32)
    }

    /// Kernels on compute stream 0 of `gpu` and collectives over `gpus`, one after another as
    /// one op ([`OpKind::Chain`]).
    pub fn chain(
        &mut self,
        name: &str,
        gpu: GpuId,
        gpus: &[GpuId],
        dtype: Dtype,
        steps: ChainId,
    ) -> OpId {
        let group = self.group(gpus);
        self.add(name, OpKind::Chain { gpu, stream: 0, group, dtype, steps })
    }

    /// A fixed wait.
    pub fn delay(&mut self, name: &str, duration: SimTime) -> OpId {
        self.add(name, OpKind::Delay { duration })
    }

    /// `after` starts only when `before` has finished.
    pub fn depend(&mut self, before: OpId, after: OpId) {
        self.edges.push((before.0, after.0));
    }

    /// `op` waits for every op in `deps`.
    pub fn depend_all(&mut self, deps: &[OpId], op: OpId) {
        for &d in deps {
            self.depend(d, op);
        }
    }

    /// Checks references and acyclicity and freezes the graph.
    pub fn build(self) -> Result<TaskGraph, GraphError> {
        let n = self.kinds.len();
        let name_of = |i: u32| self.names[self.name_ids[i as usize] as usize].clone();
        for &(a, b) in &self.edges {
            for (dependent, other) in [(b, a), (a, b)] {
                if other as usize >= n {
                    let op = if (dependent as usize) < n {
                        name_of(dependent)
                    } else {
                        format!("#{dependent}")
                    };
                    return Err(GraphError::DanglingDependency {
                        op,
                        op_id: dependent,
                        missing: other,
                        len: n,
                    });
                }
            }
        }
        let (succ_start, succ) = csr(n, self.edges.iter().map(|&(a, b)| (a, b)));
        let (pred_start, pred) = csr(n, self.edges.iter().map(|&(a, b)| (b, a)));
        if let Some(cycle) = find_cycle(n, &succ_start, &succ, &pred_start) {
            return Err(GraphError::Cycle(cycle.into_iter().map(name_of).collect()));
        }
        let group_ordinals = ordinals(&self.kinds, &self.groups);
        let mut tags = self.tags;
        for &(op, _) in &tags {
            if op as usize >= n {
                return Err(GraphError::DanglingDependency {
                    op: format!("#{op}"),
                    op_id: op,
                    missing: op,
                    len: n,
                });
            }
        }
        // The last tag of an op wins.
        tags.reverse();
        tags.sort_by_key(|t| t.0);
        tags.dedup_by_key(|t| t.0);
        Ok(TaskGraph {
            kinds: self.kinds,
            name_ids: self.name_ids,
            names: self.names,
            groups: self.groups,
            group_ordinals,
            traffics: self.traffics,
            chains: self.chains,
            tags,
            succ_start,
            succ,
            pred_start,
            pred,
        })
    }
}

/// For every group and member, the number of distinct GPU-driven groups that member used
/// earlier in op order (groups no GPU-driven op uses get zeros).
fn ordinals(kinds: &[OpKind], groups: &[Vec<GpuId>]) -> Vec<Vec<u32>> {
    let mut out: Vec<Vec<u32>> = groups.iter().map(|g| vec![0; g.len()]).collect();
    let mut seen = vec![false; groups.len()];
    let mut used: HashMap<GpuId, u32> = HashMap::new();
    for kind in kinds {
        let group = match *kind {
            OpKind::Collective { group, host_driven: false, .. }
            | OpKind::Exchange { group, host_driven: false, .. }
            | OpKind::Chain { group, .. } => group.0 as usize,
            _ => continue,
        };
        if std::mem::replace(&mut seen[group], true) {
            continue;
        }
        for (slot, gpu) in out[group].iter_mut().zip(&groups[group]) {
            let count = used.entry(*gpu).or_insert(0);
            *slot = *count;
            *count += 1;
        }
    }
    out
}

/// Compressed adjacency: for each node the targets of its edges, in insertion order.
fn csr(n: usize, edges: impl Iterator<Item = (u32, u32)> + Clone) -> (Vec<u32>, Vec<u32>) {
    let mut start = vec![0u32; n + 1];
    for (a, _) in edges.clone() {
        start[a as usize + 1] += 1;
    }
    for i in 0..n {
        start[i + 1] += start[i];
    }
    let mut fill = start.clone();
    let mut targets = vec![0u32; start[n] as usize];
    for (a, b) in edges {
        targets[fill[a as usize] as usize] = b;
        fill[a as usize] += 1;
    }
    (start, targets)
}

/// Kahn's algorithm; if some ops are never freed, walks predecessors among them to a cycle.
fn find_cycle(n: usize, succ_start: &[u32], succ: &[u32], pred_start: &[u32]) -> Option<Vec<u32>> {
    let mut indeg: Vec<u32> = (0..n).map(|i| pred_start[i + 1] - pred_start[i]).collect();
    let mut stack: Vec<u32> = (0..n as u32).filter(|&i| indeg[i as usize] == 0).collect();
    let mut seen = 0;
    while let Some(u) = stack.pop() {
        seen += 1;
        for &v in &succ[succ_start[u as usize] as usize..succ_start[u as usize + 1] as usize] {
            indeg[v as usize] -= 1;
            if indeg[v as usize] == 0 {
                stack.push(v);
            }
        }
    }
    if seen == n {
        return None;
    }
    // Every remaining op has a remaining successor... follow successors among the remaining
    // until a vertex repeats.
    let start = (0..n).find(|&i| indeg[i] > 0)? as u32;
    let mut order = vec![u32::MAX; n];
    let mut path = Vec::new();
    let mut cur = start;
    loop {
        if order[cur as usize] != u32::MAX {
            let from = order[cur as usize] as usize;
            let mut cycle: Vec<u32> = path[from..].to_vec();
            cycle.push(cur);
            return Some(cycle);
        }
        order[cur as usize] = path.len() as u32;
        path.push(cur);
        cur = *succ[succ_start[cur as usize] as usize..succ_start[cur as usize + 1] as usize]
            .iter()
            .find(|&&v| indeg[v as usize] > 0)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_override_the_category_of_their_op_only() {
        let mut b = TaskGraphBuilder::new();
        let x: Vec<OpId> =
            (0..3).map(|i| b.delay(&format!("d{i}"), SimTime::from_nanos(1))).collect();
        b.tag(x[2], "first");
        b.tag(x[1], "moved");
        b.tag(x[2], "last");
        let g = b.build().unwrap();
        assert_eq!(g.category(x[0]), g.kind(x[0]).category());
        assert_eq!(g.category(x[1]), "moved");
        assert_eq!(g.category(x[2]), "last");
        let mut b = TaskGraphBuilder::new();
        b.delay("d", SimTime::from_nanos(1));
        b.tag(OpId(5), "x");
        assert!(b.build().is_err());
    }

    #[test]
    fn builds_csr_both_ways() {
        let mut b = TaskGraphBuilder::new();
        let x: Vec<OpId> =
            (0..4).map(|i| b.delay(&format!("d{i}"), SimTime::from_nanos(1))).collect();
        b.depend(x[0], x[1]);
        b.depend(x[0], x[2]);
        b.depend_all(&[x[1], x[2]], x[3]);
        let g = b.build().unwrap();
        assert_eq!(g.successors(x[0]), &[1, 2]);
        assert_eq!(g.predecessors(x[3]), &[1, 2]);
        assert_eq!(g.edge_count(), 4);
        assert_eq!(g.name(x[2]), "d2");
    }

    #[test]
    fn cycle_is_reported_with_names() {
        let mut b = TaskGraphBuilder::new();
        let a = b.delay("a", SimTime::ZERO);
        let c = b.delay("c", SimTime::ZERO);
        let d = b.delay("d", SimTime::ZERO);
        let root = b.delay("root", SimTime::ZERO);
        b.depend(root, a);
        b.depend(a, c);
        b.depend(c, d);
        b.depend(d, a);
        let e = b.build().unwrap_err();
        match &e {
            GraphError::Cycle(names) => {
                assert_eq!(names.first(), names.last());
                assert_eq!(names.len(), 4, "{names:?}");
            }
            other => panic!("expected a cycle, got {other}"),
        }
        assert!(e.to_string().starts_with("dependency cycle: "));
    }

    #[test]
    fn dangling_dependency_is_reported() {
        let mut b = TaskGraphBuilder::new();
        let a = b.delay("a", SimTime::ZERO);
        b.depend(OpId(7), a);
        let e = b.build().unwrap_err().to_string();
        assert!(e.contains("`a`") && e.contains("#7") && e.contains("1 ops"), "{e}");
    }

    #[test]
    fn groups_are_interned_regardless_of_order() {
        let mut b = TaskGraphBuilder::new();
        let g1 = b.group(&[GpuId(2), GpuId(0)]);
        let g2 = b.group(&[GpuId(0), GpuId(2)]);
        assert_eq!(g1, g2);
    }
}
