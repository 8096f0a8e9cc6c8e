//! Graph sources: every source covers exactly the telemetry's metrics; ground truth is
//! truth.rs; documentation-driven graphs beat PC on Online Boutique; the coverage knob and
//! the refinement move F1 the expected way; the `llm` backend against a local server.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;

use rca::data::DataMatrix;
use rca::fault::Faults;
use rca::score::compare_graphs;
use rca::sim::{SimConfig, simulate};
use rca::sources::atlas::llm::LlmConfig;
use rca::sources::atlas::{AtlasConfig, AtlasReport, AtlasSource, Backend};
use rca::sources::clean::{DropReason, select};
use rca::sources::ground_truth::GroundTruthSource;
use rca::sources::pc::{PcSource, PcSourceConfig};
use rca::sources::{
    ComponentDocs, GraphSource, SourceDetails, SourceError, SourceInput, SourceOutput, run_source,
};
use rca::system::System;
use rca::system::builtin::builtin;
use rca::truth::ground_truth;
use simcore::SimTime;

/// Eight fault-free hours of Online Boutique at 1-minute metrics (480 rows), shared.
fn boutique() -> &'static (System, ComponentDocs, DataMatrix) {
    static CELL: OnceLock<(System, ComponentDocs, DataMatrix)> = OnceLock::new();
    CELL.get_or_init(|| {
        let sys = builtin("online-boutique").unwrap();
        let faults = Faults::new(&sys, &[]).unwrap();
        let cfg =
            SimConfig { duration: SimTime::from_secs(8 * 3600), seed: 1, ..SimConfig::default() };
        let data = simulate(&sys, &faults, &cfg).unwrap().data;
        let docs = ComponentDocs::for_system(&sys, None).unwrap();
        (sys, docs, data)
    })
}

fn run(source: &dyn GraphSource, data: &DataMatrix) -> Result<SourceOutput, SourceError> {
    let (sys, docs, _) = boutique();
    run_source(source, &SourceInput { system: sys, docs, normal: data })
}

fn atlas(config: AtlasConfig) -> AtlasSource {
    AtlasSource::new(config).unwrap()
}

fn report(out: &SourceOutput) -> &AtlasReport {
    match &out.details {
        SourceDetails::Atlas(r) => r,
        other => panic!("not an atlas report: {other:?}"),
    }
}

fn f1(g: &rca::CausalGraph) -> f64 {
    let (sys, _, _) = boutique();
    compare_graphs(g, &ground_truth(sys).unwrap()).unwrap().edges.f1
}

#[test]
fn every_source_covers_exactly_the_telemetrys_metrics() {
    let (sys, _, data) = boutique();
    // A subset in another order too: some metrics missing.
    let subset = select(data, &[7, 2, 3, 30, 31, 40, 41, 0]).unwrap();
    let sources: Vec<Box<dyn GraphSource>> = vec![
        Box::new(GroundTruthSource),
        Box::new(PcSource::new(PcSourceConfig::default()).unwrap()),
        Box::new(atlas(AtlasConfig::default())),
        Box::new(atlas(AtlasConfig { coverage: 0.5, misstate: 0.2, ..AtlasConfig::default() })),
    ];
    for s in &sources {
        for d in [data, &subset] {
            let out = run(s.as_ref(), d).unwrap_or_else(|e| panic!("{}: {e}", s.name()));
            assert_eq!(out.graph.names(), d.names(), "{}", s.name());
            assert!(out.time_s >= 0.0);
        }
    }
    // Ground truth is truth.rs's graph on the full telemetry.
    let out = run(&GroundTruthSource, data).unwrap();
    assert_eq!(out.graph, ground_truth(sys).unwrap());
    // An unknown metric is an error naming it.
    let bad = subset.clone().with_names((0..8).map(|i| format!("nosuch.m{i}")).collect()).unwrap();
    let e = run(&GroundTruthSource, &bad).unwrap_err().to_string();
    assert!(e.contains("nosuch.m0") && e.contains("online-boutique"), "{e}");
}

#[test]
fn pc_drops_constant_metrics_and_returns_them_isolated() {
    let (_, _, data) = boutique();
    let out = run(&PcSource::new(PcSourceConfig::default()).unwrap(), data).unwrap();
    // Without faults no request fails: every error rate is constant.
    let errors: Vec<&str> =
        data.names().iter().filter(|n| n.ends_with(".error_rate")).map(String::as_str).collect();
    for e in &errors {
        let d = out.dropped.iter().find(|d| d.name == *e).unwrap_or_else(|| panic!("{e} kept"));
        assert_eq!(d.reason, DropReason::Constant);
        assert!(out.graph.adjacent(d.column).is_empty());
    }
    assert!(matches!(out.details, SourceDetails::Pc { tests, .. } if tests > 0));
}

#[test]
fn documentation_driven_graph_beats_pc_on_online_boutique() {
    let (_, _, data) = boutique();
    let pc = run(&PcSource::new(PcSourceConfig::default()).unwrap(), data).unwrap();
    let out = run(&atlas(AtlasConfig::default()), data).unwrap();
    let r = report(&out);
    let truth = ground_truth(&boutique().0).unwrap();
    let proposed = compare_graphs(&r.proposed, &truth).unwrap();
    // Complete documentation: the synthesis recovers most true edges...
    assert!(proposed.edges.recall > 0.9, "{proposed:?}");
    assert!(r.coverage.interactions > 0 && r.coverage.interactions_left_out == 0);
    // ... and before or after refinement the graph is far closer to the truth than PC's.
    assert!(f1(&r.proposed) > f1(&pc.graph), "{} vs {}", f1(&r.proposed), f1(&pc.graph));
    assert!(f1(&out.graph) > f1(&pc.graph), "{} vs {}", f1(&out.graph), f1(&pc.graph));
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
}

#[test]
fn lower_coverage_lowers_f1_and_refinement_recovers_part_of_it() {
    let (_, _, data) = boutique();
    let full = run(&atlas(AtlasConfig::default()), data).unwrap();
    let low = run(&atlas(AtlasConfig { coverage: 0.4, ..AtlasConfig::default() }), data).unwrap();
    let rl = report(&low);
    assert!(rl.coverage.interactions_left_out > 0 && rl.coverage.metrics_left_out > 0);
    let (f_full, f_low) = (f1(&report(&full).proposed), f1(&rl.proposed));
    assert!(f_low < f_full, "coverage 0.4: {f_low} vs full {f_full}");
    let refined = f1(&low.graph);
    assert!(refined > f_low, "refinement {refined} should beat {f_low}");
    let added = &rl.refine.as_ref().unwrap().added;
    assert!(!added.is_empty());
    // Without refinement the output is the composed graph.
    let off =
        run(&atlas(AtlasConfig { coverage: 0.4, refine: false, ..AtlasConfig::default() }), data)
            .unwrap();
    assert_eq!(off.graph, rl.proposed);
    // Misstatements are counted and lower F1 too.
    let wrong = run(&atlas(AtlasConfig { misstate: 0.3, ..AtlasConfig::default() }), data).unwrap();
    let rw = report(&wrong);
    assert!(rw.coverage.interactions_misstated > 0 && rw.coverage.metrics_misstated > 0);
    assert!(f1(&rw.proposed) < f_full);
}

// ---------------------------------------------------------------------------------------
// The `llm` backend against a local HTTP server.

const SECRET: &str = "sk-test-0123456789abcdef";

fn fake_env(name: &str) -> Option<String> {
    (name == "MLSIM_TEST_LLM_KEY").then(|| SECRET.to_string())
}

/// What the server answers for a request body.
type Reply = fn(&str) -> (u16, String);

struct Server {
    url: String,
    requests: Arc<Mutex<Vec<String>>>,
    handle: JoinHandle<()>,
}

/// Serves `n` requests on 127.0.0.1, then stops (or after 60 s without them, so that a
/// failing test never hangs on `join`).
fn serve(n: usize, reply: Reply) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    let requests = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&requests);
    listener.set_nonblocking(true).unwrap();
    let handle = std::thread::spawn(move || {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let mut served = 0;
        while served < n && std::time::Instant::now() < deadline {
            let stream = match listener.accept() {
                Ok((s, _)) => s,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                    continue;
                }
                Err(_) => return,
            };
            served += 1;
            stream.set_nonblocking(false).unwrap();
            let mut reader = BufReader::new(stream);
            let mut head = String::new();
            let mut len = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
                head.push_str(&line);
                if line == "\r\n" {
                    break;
                }
            }
            let mut body = vec![0u8; len];
            let _ = reader.read_exact(&mut body);
            let body = String::from_utf8_lossy(&body).into_owned();
            let (status, text) = reply(&body);
            log.lock().unwrap().push(format!("{head}{body}"));
            let mut stream = reader.into_inner();
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                text.len()
            );
        }
    });
    Server { url, requests, handle }
}

/// The component a request is about (from the prompt's "Component: X" line).
fn component_of(body: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(body).unwrap();
    let user = v["messages"][1]["content"].as_str().unwrap();
    user.lines().next().unwrap().trim_start_matches("Component: ").to_string()
}

fn chat(content: &str) -> String {
    serde_json::json!({"choices": [{"message": {"role": "assistant", "content": content}}]})
        .to_string()
}

fn good_reply(body: &str) -> (u16, String) {
    let c = component_of(body);
    let list = serde_json::json!([
        {"cause": format!("{c}.cpu"), "effect": format!("{c}.latency_p50")},
        {"cause": format!("{c}.cpu"), "effect": format!("{c}.cpu")},
    ]);
    (200, chat(&list.to_string()))
}

fn cache_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rca-llm-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn llm_source(url: &str, cache: &Path, offline: bool) -> AtlasSource {
    let backend = Backend::Llm(LlmConfig {
        url: url.to_string(),
        model: "test-model".into(),
        api_key_env: Some("MLSIM_TEST_LLM_KEY".into()),
        cache_dir: cache.to_path_buf(),
        timeout_s: 10.0,
        offline,
    });
    atlas(AtlasConfig { backend, refine: false, ..AtlasConfig::default() }).with_env(fake_env)
}

#[test]
fn llm_backend_well_formed_answers_give_edges_and_are_cached() {
    let (sys, _, data) = boutique();
    let n = sys.services().len();
    let server = serve(n, good_reply);
    let cache = cache_dir("good");
    let out = run(&llm_source(&server.url, &cache, false), data).unwrap();
    server.handle.join().unwrap();
    for s in sys.services() {
        let (a, b) = (format!("{}.cpu", s.name), format!("{}.latency_p50", s.name));
        let (a, b) = (out.graph.index_of(&a).unwrap(), out.graph.index_of(&b).unwrap());
        assert!(out.graph.has_directed(a, b), "{}", s.name);
    }
    assert_eq!(out.graph.n_edges(), n);
    // Each self loop was reported, not trusted.
    assert_eq!(out.warnings.iter().filter(|w| w.contains("self loop")).count(), n);
    // The key went as a Bearer header, and is nowhere in the output or the cache.
    let reqs = server.requests.lock().unwrap().clone();
    assert_eq!(reqs.len(), n);
    assert!(reqs.iter().all(|r| r.contains(&format!("Bearer {SECRET}"))));
    assert!(reqs[0].contains("POST /v1/chat/completions") && reqs[0].contains("test-model"));
    assert!(!format!("{out:?}").contains(SECRET));
    let files: Vec<_> = std::fs::read_dir(&cache).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), n);
    for f in &files {
        assert!(!std::fs::read_to_string(f).unwrap().contains(SECRET), "{}", f.display());
    }
    // A rerun needs no server: the server is gone, every answer comes from the cache.
    let again = run(&llm_source(&server.url, &cache, true), data).unwrap();
    assert_eq!(again.graph, out.graph);
    let _ = std::fs::remove_dir_all(&cache);
}

#[test]
fn llm_backend_failures_are_clear_errors() {
    let (_, _, data) = boutique();
    // Malformed JSON.
    let server = serve(1, |_| (200, chat("Sure! cpu -> latency")));
    let cache = cache_dir("bad");
    let e = run(&llm_source(&server.url, &cache, false), data).unwrap_err().to_string();
    server.handle.join().unwrap();
    assert!(e.contains("malformed answer") && e.contains("not valid JSON"), "{e}");
    assert!(e.contains(&server.url) && e.contains("frontend"), "{e}");
    assert!(!cache.exists() || std::fs::read_dir(&cache).unwrap().next().is_none());
    // HTTP 500.
    let server = serve(1, |_| (500, "{\"error\": \"boom\"}".into()));
    let e = run(&llm_source(&server.url, &cache, false), data).unwrap_err().to_string();
    server.handle.join().unwrap();
    assert!(e.contains("HTTP status 500") && e.contains("boom") && e.contains(&server.url), "{e}");
    // Connection refused: a port nobody listens on.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}/v1");
    let e = run(&llm_source(&url, &cache, false), data).unwrap_err().to_string();
    assert!(e.contains("request failed") && e.contains(&url), "{e}");
    // Offline with an empty cache; a key variable that is not set.
    let e = run(&llm_source(&url, &cache, true), data).unwrap_err().to_string();
    assert!(e.contains("offline") && e.contains("cache"), "{e}");
    let unset = AtlasSource::new(AtlasConfig {
        backend: Backend::Llm(LlmConfig {
            url,
            model: "m".into(),
            api_key_env: Some("MLSIM_SURELY_UNSET_VARIABLE_42".into()),
            cache_dir: cache.clone(),
            timeout_s: 5.0,
            offline: false,
        }),
        ..AtlasConfig::default()
    })
    .unwrap();
    let e = run(&unset, data).unwrap_err().to_string();
    assert!(e.contains("MLSIM_SURELY_UNSET_VARIABLE_42") && e.contains("not set"), "{e}");
    assert!(!e.contains(SECRET));
    let _ = std::fs::remove_dir_all(&cache);
}
