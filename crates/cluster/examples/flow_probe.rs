//! Runs one all-to-all's flows on the flow network and prints each batch of completions:
//! `cargo run --release -p cluster --example flow_probe -- GPUS [BYTES]`.

use std::time::Instant;

use cluster::{Algorithm, Cluster, CollectiveKind, FlowNetwork};
use simcore::SimTime;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let gpus_n: u32 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(256);
    let bytes: f64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(64.0 * 1048576.0);
    let cluster = Cluster::preset("dgx-h100", gpus_n.div_ceil(8)).unwrap();
    let gpus = cluster.gpus();
    let mut net = cluster.network();
    let (plan, _) =
        net.collective(CollectiveKind::AllToAll, Algorithm::Direct, &gpus, bytes).unwrap();
    let t0 = Instant::now();
    let mut routes = Vec::new();
    for t in &plan.phases[0].transfers {
        let topo = cluster.topology();
        let (a, b) = (topo.gpu_vertex(t.src).unwrap(), topo.gpu_vertex(t.dst).unwrap());
        routes.push((net.router().route(a, b).unwrap().links.clone(), t.bytes));
    }
    eprintln!("{} flows routed in {:?}", routes.len(), t0.elapsed());
    let t0 = Instant::now();
    let mut flows = FlowNetwork::new(cluster.topology());
    for (i, (r, b)) in routes.iter().enumerate() {
        flows.add(SimTime::ZERO, r, *b, i as u64);
    }
    let mut done = Vec::new();
    let mut updates = 0;
    loop {
        let u = Instant::now();
        let Some(t) = flows.next_completion() else { break };
        done.clear();
        flows.take_completed(t, &mut done);
        updates += 1;
        if std::env::var("VERBOSE").is_ok() {
            eprintln!(
                "t={:.6} ms done={} active={} took {:?}",
                t.as_secs_f64() * 1e3,
                done.len(),
                flows.active(),
                u.elapsed()
            );
        }
    }
    eprintln!("{} updates, {:?}", updates, t0.elapsed());
}
