//! Shortest-path routing with deterministic ECMP.
//!
//! Routes minimise the total link latency (so a GPU reaches a peer over NVSwitch, 0.4 us,
//! rather than through the host's PCIe root, 0.94 us; and a same-rail peer through one leaf
//! rather than through a spine). Only forwarding devices ([`crate::Device::is_transit`]) may
//! appear inside a route, so traffic never passes through another GPU (NCCL's PXN relay is not
//! modelled). Among equal-cost next hops the choice is a hash of (source, destination, hop),
//! which spreads flows over spines like ECMP in real fabrics and gives the same route for the
//! same pair every time.
//!
//! Routing keeps its own tables; the topology is only the graph it reads. Two levels:
//!
//! - [`RouteCache`]: distances to destinations and finished routes shared by every router on
//!   one topology, behind locks (computing them is most of the cost of routing, and a sweep
//!   routes the same cluster many times, from several threads). [`crate::Cluster`] owns one
//!   beside its topology and hands it to each [`Router`] it makes.
//! - [`RouteMemo`]: one router's own copies of what it looked up, without locks, which a
//!   simulator can keep from one router to the next.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::{Arc, OnceLock, RwLock};

use simcore::fast_hash::FastMap;

use simcore::SimTime;

use crate::error::ClusterError;
use crate::radix_heap::RadixHeap;
use crate::topology::{LinkClass, LinkId, Topology, VertexId};

/// A path through the topology.
#[derive(Clone, Debug, PartialEq)]
pub struct Route {
    /// Directed links in order.
    pub links: Vec<LinkId>,
    /// Sum of the links' latencies.
    pub latency: SimTime,
    /// Bottleneck payload bandwidth, bytes/s.
    pub bandwidth: f64,
    /// The slowest technology on the path: `Network` if it leaves the node, else `Pcie` if it
    /// uses PCIe, else the class of its links.
    pub class: LinkClass,
}

const UNREACHED: u64 = u64::MAX;

/// Computes and caches routes on one topology. Distances to destinations and routes are shared,
/// through a [`RouteCache`], with every other router given the same cache (they depend on
/// nothing but the topology).
pub struct Router<'t> {
    topo: &'t Topology,
    shared: &'t RouteCache,
    memo: RouteMemo,
}

/// Shortest-path distances to destinations and routes, shared by every [`Router`] on one
/// topology (computing them is most of the cost of routing, and a sweep routes the same cluster
/// many times, from several threads: hence the locks). Only valid for one topology: whoever
/// owns the topology owns its cache beside it ([`crate::Cluster`] does). Cloning starts an
/// empty cache, as a clone may be paired with another topology.
#[derive(Default)]
pub struct RouteCache {
    /// Latency (ns) of the best route from every vertex to a destination, per destination.
    distances: RwLock<HashMap<VertexId, Arc<Vec<u64>>>>,
    /// Routes keyed by `src << 32 | dst`.
    routes: RwLock<FastMap<u64, Arc<Route>>>,
    /// The topology's incoming links in compressed rows, for the searches.
    incoming: OnceLock<Incoming>,
}

/// Every vertex's incoming links as flat arrays (what a search reads, without the graph's
/// linked edge lists): the predecessors of vertex `v` are `pred[start[v]..start[v + 1]]`,
/// with their links' latencies (ns) in `latency`; `transit[v]` says whether routes may pass
/// through `v`.
struct Incoming {
    start: Vec<u32>,
    pred: Vec<u32>,
    latency: Vec<u64>,
    transit: Vec<bool>,
}

impl Incoming {
    fn of(topo: &Topology) -> Incoming {
        let n = topo.vertex_count();
        let mut start = Vec::with_capacity(n + 1);
        let (mut pred, mut latency) = (Vec::new(), Vec::new());
        let mut transit = Vec::with_capacity(n);
        start.push(0);
        for i in 0..n {
            let v = VertexId::new(i);
            for (l, p) in topo.in_links(v) {
                pred.push(p.index() as u32);
                latency.push(topo.link(l).latency.as_nanos());
            }
            start.push(pred.len() as u32);
            transit.push(topo.device(v).is_transit());
        }
        Incoming { start, pred, latency, transit }
    }
}

impl Clone for RouteCache {
    fn clone(&self) -> Self {
        RouteCache::default()
    }
}

impl std::fmt::Debug for RouteCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RouteCache")
    }
}

/// A router's own lookup tables, to keep between routers on one topology (a simulator that
/// builds a router per iteration keeps them so that lookups stay local; the shared
/// [`RouteCache`] behind them needs a lock per miss). Only valid for the topology that filled
/// them.
#[derive(Clone, Debug, Default)]
pub struct RouteMemo {
    /// Latency (ns) of the best route from every vertex to a destination, per destination.
    dist_to: FastMap<VertexId, Arc<Vec<u64>>>,
    routes: FastMap<u64, Arc<Route>>,
}

impl RouteMemo {
    /// Number of remembered routes.
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Latency (ns) of the best route from every vertex to `dst`: Dijkstra backwards over
/// incoming links. Endpoints get a distance (they may be a route's source) but are not
/// expanded: nothing may pass through them.
fn dijkstra_to(g: &Incoming, dst: VertexId) -> Vec<u64> {
    let mut dist = vec![UNREACHED; g.transit.len()];
    dist[dst.index()] = 0;
    let mut heap = RadixHeap::new();
    heap.push(0, dst.index() as u32);
    while let Some((du, ui)) = heap.pop() {
        let ui = ui as usize;
        if du > dist[ui] {
            continue;
        }
        if ui != dst.index() && !g.transit[ui] {
            continue;
        }
        let (a, b) = (g.start[ui] as usize, g.start[ui + 1] as usize);
        for (&p, &lat) in g.pred[a..b].iter().zip(&g.latency[a..b]) {
            let d = du + lat;
            if d < dist[p as usize] {
                dist[p as usize] = d;
                heap.push(d, p);
            }
        }
    }
    dist
}

impl<'t> Router<'t> {
    /// A router with empty tables of its own, sharing `shared` (which must belong to `topo`:
    /// filled by routers on this topology only).
    pub fn new(topo: &'t Topology, shared: &'t RouteCache) -> Self {
        Router { topo, shared, memo: RouteMemo::default() }
    }

    /// A router that starts from the tables of an earlier router on the same topology.
    pub fn with_memo(topo: &'t Topology, shared: &'t RouteCache, memo: RouteMemo) -> Self {
        Router { topo, shared, memo }
    }

    /// The router's tables, to pass to [`Router::with_memo`].
    pub fn into_memo(self) -> RouteMemo {
        self.memo
    }

    /// The topology routed on.
    pub fn topology(&self) -> &'t Topology {
        self.topo
    }

    fn distances(
        topo: &Topology,
        cache: &RouteCache,
        dist_to: &mut FastMap<VertexId, Arc<Vec<u64>>>,
        dst: VertexId,
    ) -> Arc<Vec<u64>> {
        if let Some(d) = dist_to.get(&dst) {
            return d.clone();
        }
        let shared = &cache.distances;
        let cached = shared.read().ok().and_then(|m| m.get(&dst).cloned());
        let d = match cached {
            Some(d) => d,
            None => {
                let incoming = cache.incoming.get_or_init(|| Incoming::of(topo));
                let d = Arc::new(dijkstra_to(incoming, dst));
                if let Ok(mut m) = shared.write() {
                    m.entry(dst).or_insert_with(|| d.clone());
                }
                d
            }
        };
        dist_to.insert(dst, d.clone());
        d
    }

    /// The route from `src` to `dst` as a shared handle, for callers that keep many routes
    /// (a flow-level plan keeps one per transfer instead of looking it up again at launch).
    pub fn route_shared(
        &mut self,
        src: VertexId,
        dst: VertexId,
    ) -> Result<Arc<Route>, ClusterError> {
        self.entry(src, dst).cloned()
    }

    /// The route from `src` to `dst` (empty when they are the same vertex).
    #[inline]
    pub fn route(&mut self, src: VertexId, dst: VertexId) -> Result<&Route, ClusterError> {
        self.entry(src, dst).map(|r| &**r)
    }

    #[inline]
    fn entry(&mut self, src: VertexId, dst: VertexId) -> Result<&Arc<Route>, ClusterError> {
        let key = (src.index() as u64) << 32 | dst.index() as u64;
        let (topo, cache) = (self.topo, self.shared);
        let RouteMemo { dist_to, routes } = &mut self.memo;
        match routes.entry(key) {
            Entry::Occupied(e) => Ok(e.into_mut()),
            Entry::Vacant(v) => {
                let shared = cache.routes.read().ok().and_then(|m| m.get(&key).cloned());
                let route = match shared {
                    Some(r) => r,
                    None => {
                        let r = Arc::new(compute(topo, cache, dist_to, src, dst)?);
                        if let Ok(mut m) = cache.routes.write() {
                            m.entry(key).or_insert_with(|| r.clone());
                        }
                        r
                    }
                };
                Ok(v.insert(route))
            }
        }
    }
}

fn compute(
    topo: &Topology,
    cache: &RouteCache,
    dist_to: &mut FastMap<VertexId, Arc<Vec<u64>>>,
    src: VertexId,
    dst: VertexId,
) -> Result<Route, ClusterError> {
    let dist_arc = Router::distances(topo, cache, dist_to, dst);
    let dist: &[u64] = &dist_arc;
    if dist[src.index()] == UNREACHED {
        return Err(ClusterError::Unsupported(format!(
            "no route from {} to {}",
            topo.device(src).label(),
            topo.device(dst).label()
        )));
    }
    let mut links = Vec::new();
    let mut cur = src;
    let mut hop = 0u64;
    while cur != dst {
        let here = dist[cur.index()];
        let candidates: Vec<(LinkId, VertexId)> = topo
            .out_links(cur)
            .filter(|&(l, v)| {
                dist[v.index()] != UNREACHED
                    && dist[v.index()] + topo.link(l).latency.as_nanos() == here
                    && (v == dst || topo.device(v).is_transit())
            })
            .collect();
        if candidates.is_empty() || links.len() > topo.vertex_count() {
            return Err(ClusterError::Invalid(format!(
                "routing from {} to {} did not converge (zero-latency loop?)",
                topo.device(src).label(),
                topo.device(dst).label()
            )));
        }
        let h = mix((src.index() as u64) << 40 ^ (dst.index() as u64) << 16 ^ hop);
        let (link, next) = candidates[(h % candidates.len() as u64) as usize];
        links.push(link);
        cur = next;
        hop += 1;
    }
    let mut latency = SimTime::ZERO;
    let mut bandwidth = f64::INFINITY;
    let mut classes = Vec::with_capacity(links.len());
    for &l in &links {
        let link = topo.link(l);
        latency += link.latency;
        bandwidth = bandwidth.min(link.bandwidth());
        classes.push(link.class);
    }
    let class = if classes.contains(&LinkClass::Network) {
        LinkClass::Network
    } else if classes.contains(&LinkClass::Pcie) {
        LinkClass::Pcie
    } else {
        classes.iter().copied().max().unwrap_or(LinkClass::Nvlink)
    };
    Ok(Route { links, latency, bandwidth, class })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builder::build_topology;
    use crate::spec::ClusterSpec;
    use crate::topology::{Device, GpuId};

    fn topo(preset: &str, nodes: u32) -> Topology {
        let spec = ClusterSpec::preset(preset).unwrap().with_nodes(nodes);
        build_topology(&spec, &spec.catalog()).unwrap()
    }

    #[test]
    fn intra_node_goes_through_nvswitch() {
        let t = topo("dgx-h100", 1);
        let cache = RouteCache::default();
        let mut r = Router::new(&t, &cache);
        let (a, b) = (t.gpu_vertex(GpuId(0)).unwrap(), t.gpu_vertex(GpuId(5)).unwrap());
        let route = r.route(a, b).unwrap().clone();
        assert_eq!(route.links.len(), 2);
        assert_eq!(route.class, LinkClass::Nvlink);
        assert!((route.bandwidth - 360e9).abs() < 1.0);
        assert_eq!(route.latency, SimTime::from_nanos(400));
        let dev = t.device(t.link(route.links[0]).to);
        assert_eq!(dev, Device::NvSwitch { node: 0 });
    }

    #[test]
    fn same_rail_crosses_one_leaf_other_rail_crosses_spine() {
        let t = topo("dgx-h100", 4);
        let cache = RouteCache::default();
        let mut r = Router::new(&t, &cache);
        let g = |i| t.gpu_vertex(GpuId(i)).unwrap();
        let same_rail = r.route(g(3), g(8 + 3)).unwrap().clone();
        assert_eq!(same_rail.links.len(), 4, "gpu-nic-leaf-nic-gpu");
        assert_eq!(same_rail.class, LinkClass::Network);
        // Latency: 2 PCIe + NIC->leaf (350+130) + leaf->NIC (350) = 470*2 + 830 ns.
        assert_eq!(same_rail.latency, SimTime::from_nanos(2 * 470 + 830));
        let cross = r.route(g(3), g(8 + 4)).unwrap().clone();
        assert_eq!(cross.links.len(), 6, "gpu-nic-leaf-spine-leaf-nic-gpu");
        assert!(
            cross
                .links
                .iter()
                .all(|l| t.device(t.link(*l).to) != Device::Gpu { node: 0, local: 4 })
        );
    }

    #[test]
    fn unconnected_devices_are_an_error_that_names_them() {
        let mut t = Topology::new(1, 0);
        let a = t.add_device(Device::Gpu { node: 0, local: 0 });
        let b = t.add_device(Device::Gpu { node: 1, local: 0 });
        let cache = RouteCache::default();
        let mut r = Router::new(&t, &cache);
        let err = r.route(a, b).unwrap_err().to_string();
        assert!(err.contains("no route from gpu0.0 to gpu1.0"), "{err}");
    }

    #[test]
    fn no_route_crosses_a_link_twice() {
        // Every preset on two nodes: every pair of GPU, host memory and SSD endpoints. Host
        // memory once forwarded traffic, and routes out of it bounced over its zero-latency
        // link to the host and back.
        for (name, _) in crate::spec::PRESETS {
            let t = topo(name, 2);
            let cache = RouteCache::default();
            let mut r = Router::new(&t, &cache);
            let mut ends: Vec<VertexId> =
                (0..t.gpu_count()).map(|g| t.gpu_vertex(GpuId(g)).unwrap()).collect();
            for node in 0..2 {
                ends.push(t.host_memory_vertex(node).unwrap());
                if let Ok(v) = t.ssd_vertex(node) {
                    ends.push(v);
                }
            }
            for &a in &ends {
                for &b in &ends {
                    let Ok(route) = r.route(a, b) else { continue };
                    let mut seen = route.links.clone();
                    seen.sort();
                    seen.dedup();
                    assert_eq!(
                        seen.len(),
                        route.links.len(),
                        "{name}: {:?} -> {:?}: {:?}",
                        a,
                        b,
                        route.links
                    );
                }
            }
        }
    }

    #[test]
    fn pcie_only_nodes_route_through_host() {
        let mut spec = ClusterSpec::preset("dgx-a100").unwrap();
        spec.node.intra = crate::spec::IntraConnect::Pcie;
        let t = build_topology(&spec, &spec.catalog()).unwrap();
        let cache = RouteCache::default();
        let mut r = Router::new(&t, &cache);
        let route =
            r.route(t.gpu_vertex(GpuId(0)).unwrap(), t.gpu_vertex(GpuId(1)).unwrap()).unwrap();
        assert_eq!(route.class, LinkClass::Pcie);
        assert_eq!(route.links.len(), 2);
    }

    #[test]
    fn routes_are_deterministic_and_spread_over_spines() {
        let t = topo("dgx-a100", 32);
        let g = |i| t.gpu_vertex(GpuId(i)).unwrap();
        // Separate caches, so the second router computes every route again.
        let (c1, c2) = (RouteCache::default(), RouteCache::default());
        let mut r1 = Router::new(&t, &c1);
        let mut r2 = Router::new(&t, &c2);
        let mut spines = std::collections::BTreeSet::new();
        for i in 0..64u32 {
            let (a, b) = (g(i), g(255 - i));
            let x = r1.route(a, b).unwrap().clone();
            assert_eq!(&x, r2.route(a, b).unwrap());
            for l in &x.links {
                if let Device::Spine { index } = t.device(t.link(*l).to) {
                    spines.insert(index);
                }
            }
        }
        assert!(spines.len() > 4, "ECMP uses many spines: {spines:?}");
    }

    #[test]
    fn routers_on_one_cache_share_routes_and_clones_start_empty() {
        let t = topo("dgx-h100", 2);
        let cache = RouteCache::default();
        let (a, b) = (t.gpu_vertex(GpuId(0)).unwrap(), t.gpu_vertex(GpuId(9)).unwrap());
        let mut r1 = Router::new(&t, &cache);
        let first: *const Route = r1.route(a, b).unwrap();
        let mut r2 = Router::new(&t, &cache);
        let second: *const Route = r2.route(a, b).unwrap();
        assert!(std::ptr::eq(first, second), "the second router reuses the first's route");
        assert_eq!(cache.routes.read().unwrap().len(), 1);
        assert_eq!(cache.distances.read().unwrap().len(), 1, "one destination");
        let memo = r2.into_memo();
        assert_eq!(memo.len(), 1);
        let mut r3 = Router::with_memo(&t, &cache, memo);
        assert!(std::ptr::eq(first, r3.route(a, b).unwrap()));
        let copy = cache.clone();
        assert!(copy.routes.read().unwrap().is_empty());
        assert!(copy.distances.read().unwrap().is_empty());
    }
}
