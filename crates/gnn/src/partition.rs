//! METIS k-way partitions (Karypis and Kumar, SIAM J. Sci. Comput. 20(1), 1998), the graph
//! partitioner Cluster-GCN uses (Chiang et al., KDD'19) and one of COMM-RAND's community
//! sources: `parts` parts of near-equal size (METIS's default imbalance tolerance of 3%) with
//! few edges cut. METIS runs from the `metis` crate, which builds METIS's C source; its
//! random seed is fixed and calls take turns (its generator is process-wide), so a graph and
//! a part count give the same partition on every run, whatever the thread count.

use metis::option::Seed;

use crate::graph::Graph;
use simcore::InputError;

/// METIS's seed for every partition (any fixed value keeps runs reproducible).
const METIS_SEED: i32 = 1;

/// METIS keeps its random generator in one process-wide state (GKlib's), seeded at the start
/// of each call: two calls at once would draw from each other's sequence and make partitions
/// depend on thread timing. Calls take turns.
static METIS_TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The part of every node of `graph` in a METIS k-way partition into `parts` parts; errors
/// name `field`.
pub fn metis_kway(graph: &Graph, parts: u32, field: &str) -> Result<Vec<u32>, InputError> {
    let n = graph.nodes();
    if parts == 0 || parts > n.max(1) {
        return Err(InputError::invalid(
            field,
            format!("{parts} parts: give between 1 and the graph's {n} nodes"),
        ));
    }
    if parts == 1 || graph.edges() == 0 {
        // METIS needs edges to partition; without them (or for one part) split by id.
        return Ok((0..n)
            .map(|v| (u64::from(v) * u64::from(parts) / u64::from(n)) as u32)
            .collect());
    }
    let (offsets, neighbors) = graph.csr();
    let too_large =
        || InputError::invalid(field, "the graph has too many edges for METIS's 32-bit ids");
    let xadj: Vec<metis::Idx> = offsets
        .iter()
        .map(|&o| metis::Idx::try_from(o).map_err(|_| too_large()))
        .collect::<Result<_, _>>()?;
    let adjncy: Vec<metis::Idx> = neighbors
        .iter()
        .map(|&u| metis::Idx::try_from(u).map_err(|_| too_large()))
        .collect::<Result<_, _>>()?;
    let nparts = metis::Idx::try_from(parts).map_err(|_| too_large())?;
    let mut part = vec![0 as metis::Idx; n as usize];
    let _turn = METIS_TURN.lock().unwrap_or_else(|p| p.into_inner());
    metis::Graph::new(1, nparts, &xadj, &adjncy)
        .map_err(|e| InputError::invalid(field, format!("METIS rejected the graph: {e}")))?
        .set_option(Seed(METIS_SEED))
        .part_kway(&mut part)
        .map_err(|e| InputError::invalid(field, format!("METIS failed: {e}")))?;
    Ok(part.into_iter().map(|p| p.max(0) as u32).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::GraphSpec;

    #[test]
    fn metis_recovers_planted_blocks_with_balanced_parts() {
        let g = GraphSpec::Sbm { nodes: 4_000, communities: 8, stubs: 6.0, mu: 0.02 }
            .generate(3)
            .unwrap();
        let part = metis_kway(&g.graph, 8, "communities").unwrap();
        let mut sizes = [0u32; 8];
        for &p in &part {
            sizes[p as usize] += 1;
        }
        // Balanced within METIS's 3% tolerance.
        assert!(sizes.iter().all(|&s| (450..=520).contains(&s)), "{sizes:?}");
        // Few cut edges: close to the planted 2% mixing (a random split cuts 7/8).
        let (mut cut, mut all) = (0u64, 0u64);
        for v in 0..g.graph.nodes() {
            for &u in g.graph.neighbors(v) {
                all += 1;
                cut += u64::from(part[v as usize] != part[u as usize]);
            }
        }
        assert!((cut as f64) < 0.1 * all as f64, "{cut} of {all}");
        assert_eq!(part, metis_kway(&g.graph, 8, "communities").unwrap(), "reproducible");
        // Also when other partitions run at the same time (METIS's generator is global).
        let other = GraphSpec::Sbm { nodes: 3_000, communities: 6, stubs: 5.0, mu: 0.1 }
            .generate(4)
            .unwrap();
        let parallel: Vec<Vec<u32>> = std::thread::scope(|s| {
            let a = s.spawn(|| metis_kway(&g.graph, 8, "c").unwrap());
            let b = s.spawn(|| {
                let mut last = Vec::new();
                for _ in 0..4 {
                    last = metis_kway(&other.graph, 6, "c").unwrap();
                }
                last
            });
            vec![a.join().unwrap(), b.join().unwrap()]
        });
        assert_eq!(parallel[0], part);
        let e = metis_kway(&g.graph, 0, "communities").unwrap_err().to_string();
        assert!(e.starts_with("workload.communities"), "{e}");
    }
}
