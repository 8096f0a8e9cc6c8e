//! The microservice simulator: conservation, queueing theory, fault direction, bad specs,
//! determinism and the ground truth.

use rca::fault::{FaultKind, FaultSpec, Faults};
use rca::sim::{MetricKind, SimConfig, Telemetry, metric_index, simulate};
use rca::system::builtin::{BUILTIN, builtin};
use rca::system::{SpecError, System};
use rca::truth::{ground_truth, root_cause_metrics};
use simcore::SimTime;
use simcore::units::Bandwidth;

fn mins(m: u64) -> SimTime {
    SimTime::from_secs(60 * m)
}

fn fault(service: &str, start: u64, len: u64, kind: FaultKind) -> FaultSpec {
    FaultSpec { service: service.into(), start: mins(start), duration: mins(len), kind }
}

fn column<'a>(t: &'a Telemetry, name: &str) -> &'a [f64] {
    let j = t.data.names().iter().position(|n| n == name).unwrap_or_else(|| panic!("no {name}"));
    t.data.column(j).unwrap()
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

#[test]
fn requests_are_conserved_under_every_fault() {
    let sys = builtin("online-boutique").unwrap();
    let specs = [
        fault("cartservice", 10, 20, FaultKind::CpuHog { cores: 0.5 }),
        fault(
            "redis-cart",
            5,
            30,
            FaultKind::MemoryLeak { rate: Bandwidth(50.0 * 1024.0 * 1024.0) },
        ),
        fault(
            "currencyservice",
            15,
            10,
            FaultKind::NetworkDelay { delay: SimTime::from_millis(20) },
        ),
        fault("productcatalogservice", 20, 10, FaultKind::PacketLoss { probability: 0.2 }),
        fault("redis-cart", 30, 10, FaultKind::DiskHog { slowdown: 10.0 }),
        fault("paymentservice", 25, 20, FaultKind::Misconfiguration { error_rate: 0.8 }),
    ];
    let faults = Faults::new(&sys, &specs).unwrap();
    let config = SimConfig { duration: mins(60), seed: 3, ..SimConfig::default() };
    let t = simulate(&sys, &faults, &config).unwrap();
    let s = &t.summary;
    assert_eq!(s.unfinished, 0, "every job completes, fails or times out");
    let mut sent = 0;
    for r in &s.requests {
        assert_eq!(r.sent, r.ok + r.errors + r.timeouts, "{r:?}");
        sent += r.sent;
    }
    assert!(sent > 15_000);
    for v in &s.services {
        assert_eq!(v.attempts, v.ok + v.errors + v.timeouts, "{v:?}");
    }
    let by = |n: &str| s.services.iter().find(|v| v.name == n).unwrap();
    assert!(by("redis-cart").ooms >= 1, "a 50 MiB/s leak reaches the 256 MiB limit");
    assert!(by("productcatalogservice").lost > 0 && by("productcatalogservice").timeouts > 0);
    assert!(by("paymentservice").errors > 0);
    assert!(s.services.iter().map(|v| v.retries).sum::<u64>() > 0);
    // Attempts counted in the rows add up to the totals sent during the run (the drain
    // after the last row adds only what was in flight).
    let rate = column(&t, "frontend.request_rate");
    let in_rows: f64 = rate.iter().map(|r| r * 60.0).sum();
    assert!((in_rows - by("frontend").attempts as f64).abs() < 100.0, "{in_rows}");
    // The leak shows in memory, the misconfiguration in errors.
    let mem = column(&t, "redis-cart.memory");
    assert!(mem[4] < 20.0 && mem[6..35].iter().cloned().fold(0.0, f64::max) > 100.0);
    let err = column(&t, "paymentservice.error_rate");
    assert!(err[20] == 0.0 && err[42] > 0.4, "{:?}", &err[20..45]);
}

/// Erlang C: with c servers, offered load a = lambda / mu and rho = a / c < 1,
/// P(wait) = C(c, a) = (a^c / c!) / (1 - rho) / (sum_{k<c} a^k / k! + (a^c / c!) / (1 - rho)),
/// and the mean wait in queue is W_q = C(c, a) / (c mu - lambda) (Kleinrock, *Queueing
/// Systems* vol. 1, 1975, section 3.5; Gross and Harris, *Fundamentals of Queueing Theory*).
fn erlang_c_wait(c: u32, lambda: f64, mu: f64) -> f64 {
    let a = lambda / mu;
    let rho = a / f64::from(c);
    let mut term = 1.0; // a^k / k!
    let mut sum = 0.0;
    for k in 0..c {
        sum += term;
        term *= a / f64::from(k + 1);
    }
    let tail = term / (1.0 - rho);
    let p_wait = tail / (sum + tail);
    p_wait / (f64::from(c) * mu - lambda)
}

#[test]
fn an_mmc_service_matches_erlang_c() {
    let (c, cpu_ms, lambda) = (4u32, 10.0, 280.0);
    let yaml = format!(
        "name: mmc\nnetwork_delay: 0ms\nclient_timeout: 1h\ndaily_shape: flat\n\
         services:\n  - name: server\n    cores: {c}\n    memory: 1MiB\n    memory_limit: 2MiB\n\
         \x20   endpoints: [{{name: serve, cpu: {cpu_ms}ms}}]\n\
         requests: [{{name: job, entry: server.serve, rate: {lambda}}}]\n"
    );
    let sys = System::from_yaml(&yaml, "mmc").unwrap();
    let config = SimConfig { duration: mins(20), seed: 11, ..SimConfig::default() };
    let t = simulate(&sys, &Faults::none(), &config).unwrap();
    let v = &t.summary.services[0];
    assert_eq!(v.ok, v.attempts);
    assert!(v.ok > 300_000);
    let mu = 1000.0 / cpu_ms;
    let w = v.ok_latency_s / v.ok as f64;
    let wq = w - 1.0 / mu;
    let theory = erlang_c_wait(c, lambda, mu);
    eprintln!("M/M/{c}: W_q {wq:.6} s simulated, {theory:.6} s Erlang C, {} requests", v.ok);
    assert!((wq / theory - 1.0).abs() < 0.05, "W_q {wq} vs Erlang C {theory}");
    let rho = lambda / (f64::from(c) * mu);
    let util = mean(column(&t, "server.cpu"));
    eprintln!("utilisation {util:.4} simulated, {rho:.4} theory");
    assert!((util / rho - 1.0).abs() < 0.02, "utilisation {util} vs {rho}");
    let rate = mean(column(&t, "server.request_rate"));
    assert!((rate / lambda - 1.0).abs() < 0.01, "rate {rate}");
}

#[test]
fn a_cpu_hog_slows_its_service_and_callers_only() {
    let sys = builtin("online-boutique").unwrap();
    let config = SimConfig { duration: mins(40), seed: 5, ..SimConfig::default() };
    let base = simulate(&sys, &Faults::none(), &config).unwrap();
    let faults =
        Faults::new(&sys, &[fault("cartservice", 20, 20, FaultKind::CpuHog { cores: 0.8 })])
            .unwrap();
    let hog = simulate(&sys, &faults, &config).unwrap();
    let ratio = |name: &str| {
        let w = 21..40;
        mean(&column(&hog, name)[w.clone()]) / mean(&column(&base, name)[w])
    };
    for n in [
        "cartservice.latency_p50",
        "frontend.latency_p50",
        "checkoutservice.latency_p50",
        "adservice.latency_p50",
    ] {
        eprintln!("{n}: x{:.3} during the hog", ratio(n));
    }
    assert!(ratio("cartservice.latency_p50") > 2.0, "{}", ratio("cartservice.latency_p50"));
    assert!(ratio("cartservice.cpu") > 1.5);
    assert!(ratio("frontend.latency_p50") > 1.1, "{}", ratio("frontend.latency_p50"));
    assert!(
        ratio("checkoutservice.latency_p50") > 1.02,
        "{}",
        ratio("checkoutservice.latency_p50")
    );
    for unrelated in
        ["adservice.latency_p50", "paymentservice.latency_p50", "currencyservice.latency_p99"]
    {
        assert!((ratio(unrelated) - 1.0).abs() < 0.1, "{unrelated}: {}", ratio(unrelated));
    }
    // Before the fault both runs are identical.
    assert_eq!(
        &column(&hog, "cartservice.latency_p99")[..19],
        &column(&base, "cartservice.latency_p99")[..19]
    );
}

#[test]
fn same_seed_gives_identical_telemetry() {
    let sys = builtin("sock-shop").unwrap();
    let faults =
        Faults::new(&sys, &[fault("carts-db", 5, 10, FaultKind::DiskHog { slowdown: 5.0 })])
            .unwrap();
    let config = SimConfig { duration: mins(20), seed: 9, ..SimConfig::default() };
    let a = simulate(&sys, &faults, &config).unwrap();
    let b = simulate(&sys, &faults, &config).unwrap();
    let bits = |t: &Telemetry| t.data.columns().flatten().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&a), bits(&b));
    assert_eq!(a.data.names(), b.data.names());
    assert_eq!(a.timestamps, b.timestamps);
    assert_eq!(a.summary, b.summary);
    let c = simulate(&sys, &faults, &SimConfig { seed: 10, ..config }).unwrap();
    assert_ne!(bits(&a), bits(&c));
    assert_eq!(a.data.samples(), 20);
    assert_eq!(a.timestamps[0], 60.0);
    assert_eq!(a.data.names()[metric_index(1, MetricKind::LatencyP99)], "session-db.latency_p99");
}

#[test]
fn ground_truth_is_acyclic_and_holds_every_root_cause() {
    let kinds = [
        FaultKind::CpuHog { cores: 0.5 },
        FaultKind::MemoryLeak { rate: Bandwidth(1e6) },
        FaultKind::NetworkDelay { delay: SimTime::from_millis(10) },
        FaultKind::PacketLoss { probability: 0.1 },
        FaultKind::DiskHog { slowdown: 3.0 },
        FaultKind::Misconfiguration { error_rate: 0.5 },
    ];
    for (name, _) in BUILTIN {
        let sys = builtin(name).unwrap();
        let g = ground_truth(&sys).unwrap();
        assert!(g.is_dag(), "{name}");
        let t = simulate(
            &sys,
            &Faults::none(),
            &SimConfig { duration: mins(2), ..SimConfig::default() },
        )
        .unwrap();
        assert_eq!(g.names(), t.data.names(), "{name}: same metric names as the telemetry");
        for svc in sys.services() {
            for kind in kinds {
                let Ok(f) = Faults::new(&sys, &[fault(&svc.name, 0, 1, kind)]) else {
                    continue; // e.g. a disk hog on a service without I/O
                };
                let roots = root_cause_metrics(&f.list()[0]);
                assert!(!roots.is_empty());
                for r in roots {
                    assert!(r < g.n_nodes());
                    assert!(g.names()[r].starts_with(&format!("{}.", svc.name)));
                    // Every root cause reaches the entry service's latency or errors.
                    assert!(!g.descendants(r).is_empty() || !g.parents(r).is_empty());
                }
            }
        }
    }
}

const GOOD: &str = "name: s
services:
  - name: a
    memory: 10MiB
    memory_limit: 20MiB
    endpoints:
      - name: x
        cpu: 1ms
        calls: [[b.y]]
  - name: b
    memory: 10MiB
    memory_limit: 20MiB
    endpoints:
      - {name: y, cpu: 1ms}
requests: [{name: r, entry: a.x, rate: 1}]
";

fn err(yaml: &str) -> String {
    match System::from_yaml(yaml, "test.yaml") {
        Ok(_) => panic!("accepted:\n{yaml}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn bad_specs_give_clear_errors() {
    assert!(System::from_yaml(GOOD, "test.yaml").is_ok());
    // A cycle a -> b -> a.
    let cyc = GOOD
        .replace(
            "      - {name: y, cpu: 1ms}",
            "      - {name: y, cpu: 1ms, calls: [[a.z]]}\n      - {name: z0, cpu: 1ms}",
        )
        .replace("        calls: [[b.y]]", "        calls: [[b.y]]\n      - {name: z, cpu: 1ms}");
    let e = err(&cyc);
    assert!(e.contains("cycle: a -> b -> a"), "{e}");
    // A call to an unknown service.
    let e = err(&GOOD.replace("[[b.y]]", "[[bb.y]]"));
    assert!(
        e.contains("services.a.endpoints.x.calls[0][0]") && e.contains("unknown service `bb`"),
        "{e}"
    );
    assert!(e.contains("did you mean `b`"), "{e}");
    // A call to an endpoint with no handler.
    let e = err(&GOOD.replace("[[b.y]]", "[[b.yy]]"));
    assert!(e.contains("service `b` has no handler for endpoint `yy`"), "{e}");
    // An unreachable endpoint.
    let e = err(&GOOD.replace(
        "      - {name: y, cpu: 1ms}",
        "      - {name: y, cpu: 1ms}\n      - {name: w, cpu: 1ms}",
    ));
    assert!(e.contains("services.b.endpoints.w") && e.contains("no request type reaches"), "{e}");
    // An unknown field.
    let e = err(&GOOD.replace(
        "    memory: 10MiB\n    memory_limit: 20MiB\n    endpoints:\n      - name: x",
        "    memory: 10MiB\n    memroy_limit: 20MiB\n    endpoints:\n      - name: x",
    ));
    assert!(e.contains("test.yaml") && e.contains("memroy_limit"), "{e}");
    // A unit-less duration, a bad rate, a duplicate, a memory limit below the idle memory.
    assert!(err(&GOOD.replace("cpu: 1ms}", "cpu: 1}")).contains("test.yaml"));
    assert!(err(&GOOD.replace("rate: 1}", "rate: -1}")).contains("requests.r.rate"));
    assert!(err(&GOOD.replace("name: b\n", "name: a\n")).contains("defined twice"));
    let e = err(&GOOD.replacen("memory_limit: 20MiB", "memory_limit: 5MiB", 1));
    assert!(e.contains("services.a.memory_limit"), "{e}");
    // Faults on unknown services, and bad run settings.
    let sys = System::from_yaml(GOOD, "test.yaml").unwrap();
    let e = Faults::new(&sys, &[fault("c", 0, 1, FaultKind::Misconfiguration { error_rate: 0.5 })])
        .unwrap_err();
    assert!(matches!(e, SpecError::UnknownService { .. }));
    let late =
        Faults::new(&sys, &[fault("a", 90, 1, FaultKind::Misconfiguration { error_rate: 0.5 })])
            .unwrap();
    let e = simulate(&sys, &late, &SimConfig { duration: mins(60), ..SimConfig::default() })
        .unwrap_err();
    assert!(e.to_string().contains("faults[0].start"), "{e}");
    let e = simulate(
        &sys,
        &Faults::none(),
        &SimConfig { duration: SimTime::from_secs(30), ..SimConfig::default() },
    );
    assert!(e.unwrap_err().to_string().contains("duration"));
}
