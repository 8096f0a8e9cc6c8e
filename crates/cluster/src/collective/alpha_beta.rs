//! Textbook closed forms of collective times on uniform links (alpha = per-step latency in
//! seconds, beta = 1/B with B the per-direction link bandwidth in bytes/s, S in bytes).
//!
//! These are the formulas the planned collectives reduce to when every rank has one link of
//! bandwidth B to a non-blocking switch; the tests check that. They are also quick estimates
//! for planners that do not need a topology.
//!
//! Sources: Thakur, Rabenseifner and Gropp, "Optimization of collective communication
//! operations in MPICH", IJHPCA 2005; Patarasuk and Yuan, "Bandwidth optimal all-reduce
//! algorithms for clusters of workstations", JPDC 2009; nccl-tests doc/PERFORMANCE.md.

/// Ring all-reduce: `2(n-1) alpha + 2(n-1)/n * S/B`.
pub fn ring_all_reduce(n: usize, bytes: f64, alpha: f64, bandwidth: f64) -> f64 {
    if n < 2 {
        return 0.0;
    }
    let n = n as f64;
    2.0 * (n - 1.0) * alpha + 2.0 * (n - 1.0) / n * bytes / bandwidth
}

/// Ring all-gather or reduce-scatter of a total `S`: `(n-1) alpha + (n-1)/n * S/B`.
pub fn ring_all_gather(n: usize, bytes: f64, alpha: f64, bandwidth: f64) -> f64 {
    if n < 2 {
        return 0.0;
    }
    let n = n as f64;
    (n - 1.0) * alpha + (n - 1.0) / n * bytes / bandwidth
}

/// Pipelined chain broadcast: `(n-1) alpha + S/B`.
pub fn chain_broadcast(n: usize, bytes: f64, alpha: f64, bandwidth: f64) -> f64 {
    if n < 2 {
        return 0.0;
    }
    (n as f64 - 1.0) * alpha + bytes / bandwidth
}

/// Direct all-to-all of `S` per rank through a non-blocking switch: `alpha + (n-1)/n * S/B`.
pub fn direct_all_to_all(n: usize, bytes: f64, alpha: f64, bandwidth: f64) -> f64 {
    if n < 2 {
        return 0.0;
    }
    let n = n as f64;
    alpha + (n - 1.0) / n * bytes / bandwidth
}

/// Point-to-point: `alpha + S/B`.
pub fn point_to_point(bytes: f64, alpha: f64, bandwidth: f64) -> f64 {
    alpha + bytes / bandwidth
}

/// Hierarchical all-reduce over `nodes` nodes of `g` GPUs: intra reduce-scatter, inter ring
/// all-reduce of `S/g`, intra all-gather.
pub fn hierarchical_all_reduce(
    nodes: usize,
    g: usize,
    bytes: f64,
    intra: (f64, f64),
    inter: (f64, f64),
) -> f64 {
    let (a_i, b_i) = intra;
    let (a_n, b_n) = inter;
    2.0 * ring_all_gather(g, bytes, a_i, b_i) + ring_all_reduce(nodes, bytes / g as f64, a_n, b_n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn textbook_values() {
        // 8 ranks, 1 GB at 100 GB/s, alpha 1 us: 14 us + 17.5 ms.
        let t = ring_all_reduce(8, 1e9, 1e-6, 100e9);
        assert!((t - (14e-6 + 0.0175)).abs() < 1e-12);
        assert_eq!(ring_all_reduce(1, 1e9, 1e-6, 1e9), 0.0);
        assert!((ring_all_gather(4, 4e6, 0.0, 1e9) - 3e-3).abs() < 1e-12);
        assert!((point_to_point(1e6, 2e-6, 1e9) - 1.002e-3).abs() < 1e-12);
    }
}
