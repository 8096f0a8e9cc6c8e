//! Exact cases, directions, monotonicity, and the validation against published prefill and
//! decode times (docs/models/serving.md, "Iteration cost", has the same table).

use proptest::prelude::*;

use super::*;
use crate::batch::PrefillChunk;

fn cost(model: &str, preset: &str, tp: u32) -> RooflineCost {
    let m = models::preset(model).unwrap();
    let c = Arc::new(Cluster::preset(preset, 1).unwrap());
    RooflineCost::new(m, c, CostConfig { tp, ..CostConfig::default() }).unwrap()
}

fn prefill(c: u32, p: u32) -> BatchShape {
    BatchShape { prefill: vec![PrefillChunk { new_tokens: c, cached: p }], decode_context: vec![] }
}

fn decode(ctx: &[u32]) -> BatchShape {
    BatchShape { prefill: vec![], decode_context: ctx.to_vec() }
}

fn ms(c: &mut RooflineCost, b: &BatchShape) -> f64 {
    c.iteration_time(b).as_secs_f64() * 1e3
}

fn within(predicted: f64, published: f64, tol: f64, what: &str) {
    let err = (predicted - published) / published;
    assert!(
        err.abs() <= tol,
        "{what}: predicted {predicted:.2} ms, published {published} ms, error {:+.1}% > {:.0}%",
        err * 100.0,
        tol * 100.0
    );
}

#[test]
fn one_decode_token_of_llama_2_7b_on_an_a10g_by_hand() {
    let mut c = cost("llama-2-7b", "g5-xlarge", 1);
    let m = c.model().clone();
    let b = c.breakdown(&decode(&[128])).unwrap();
    // A decode batch of one runs as a CUDA graph: 10 kernels per layer (norm, QKV, rotary,
    // KV write, decode attention, output projection, add + norm, gate/up, SiLU, down) x 32
    // + embedding, final norm, LM head.
    assert!(b.graph);
    assert_eq!(b.kernels, 10 * 32 + 3);
    // Every kernel is memory-bound: its fixed time (5.9 us streaming fit, minus the 2 us
    // launch the graph saves) plus bytes / (0.80 x 600 GB/s). The bytes are the weights every
    // token passes through (all but the input embedding table, of which one row is read),
    // the 128-token context's KV (512 KiB a token) and, below 0.1%, activations.
    let streamed = m.weight_bytes(2.0) - m.token_embedding_params() * 2.0; // 13,214,687,232 B
    assert_eq!(streamed, 13_214_687_232.0);
    let bw = 0.80 * 600e9;
    let by_hand = streamed / bw + 323.0 * 3.9e-6 + 128.0 * 524_288.0 / bw + 1e-3; // 29.93 ms
    let t = c.iteration_time(&decode(&[128])).as_secs_f64();
    assert!((t - by_hand).abs() / by_hand < 0.002, "model {t}, by hand {by_hand}");
    assert!((by_hand - 29.93e-3).abs() < 0.01e-3, "{by_hand}");
    assert_eq!(b.comm, SimTime::ZERO);
    assert_eq!(b.cpu, SimTime::from_millis(1));
}

#[test]
fn prefill_grows_superlinearly_at_long_contexts() {
    let mut c = cost("llama-2-7b", "dgx-a100", 1);
    let (t4k, t8k, t16k) = (
        ms(&mut c, &prefill(4096, 0)),
        ms(&mut c, &prefill(8192, 0)),
        ms(&mut c, &prefill(16384, 0)),
    );
    assert!(t8k > 2.0 * t4k && t16k > 2.0 * t8k, "{t4k} {t8k} {t16k}");
    // The same chunk costs more after a longer cached context (attention reads and
    // attends to it).
    assert!(ms(&mut c, &prefill(1024, 8192)) > ms(&mut c, &prefill(1024, 0)) * 1.2);
}

#[test]
fn cached_context_is_cheaper_than_computing_it() {
    let mut c = cost("llama-2-7b", "g5-xlarge", 1);
    // SGLang's shared-prefix benchmark: a 2,048-token system prompt and a 128-token question.
    let reuse = ms(&mut c, &prefill(128, 2048));
    let recompute = ms(&mut c, &prefill(2176, 0));
    assert!(reuse * 5.0 < recompute, "reuse {reuse} ms, recompute {recompute} ms");
    // ... but it is not free: it reads the 2,048 cached tokens.
    assert!(reuse > ms(&mut c, &prefill(128, 0)));
}

#[test]
fn tensor_parallelism_halves_weights_and_adds_all_reduces() {
    let mut one = cost("llama-2-7b", "g5-12xlarge", 1);
    let mut two = cost("llama-2-7b", "g5-12xlarge", 2);
    assert_eq!(two.weight_bytes_per_gpu() * 2.0, one.weight_bytes_per_gpu());
    let b = prefill(512, 0);
    let (b1, b2) = (one.breakdown(&b).unwrap(), two.breakdown(&b).unwrap());
    assert_eq!(b1.comm, SimTime::ZERO);
    // 2 all-reduces per layer of 512 x 4,096 x 2 bytes over GPUs 0 and 1 (PCIe), each with
    // Vidur's 0.02 ms launch, and the all-gather of 512 x 32,000 x 2 bytes of logits... for
    // the one sequence: 32,000 x 2 bytes.
    let cl = Cluster::preset("g5-12xlarge", 1).unwrap();
    let g = [cluster::GpuId(0), cluster::GpuId(1)];
    let mut net = cl.network();
    let ar = net
        .collective(CollectiveKind::AllReduce, cluster::Algorithm::Auto, &g, 512.0 * 4096.0 * 2.0)
        .unwrap()
        .1
        .time;
    let ag = net
        .collective(CollectiveKind::AllGather, cluster::Algorithm::Auto, &g, 32_000.0 * 2.0)
        .unwrap()
        .1
        .time;
    let launch = SimTime::from_micros(20);
    let expect = SimTime::from_nanos((ar + launch).as_nanos() * 64) + ag + launch;
    assert_eq!(b2.comm, expect);
    // Half the work per GPU: the layers' kernels take about half as long.
    let ratio = b2.layers.as_secs_f64() / b1.layers.as_secs_f64();
    assert!(ratio > 0.45 && ratio < 0.6, "{ratio}");
    // The KV pool on two A10Gs holds more than twice one's (the weights are split too).
    assert!(two.kv_pool_tokens().unwrap() > 2 * one.kv_pool_tokens().unwrap());
}

#[test]
fn cuda_graphs_cover_small_decode_batches_only() {
    let mut c = cost("llama-2-7b", "dgx-a100", 1);
    assert!(c.breakdown(&decode(&[100; 160])).unwrap().graph);
    assert!(!c.breakdown(&decode(&[100; 161])).unwrap().graph);
    let mixed = BatchShape {
        prefill: vec![PrefillChunk { new_tokens: 1, cached: 0 }],
        decode_context: vec![5],
    };
    assert!(!c.breakdown(&mixed).unwrap().graph);
    let m = models::preset("llama-2-7b").unwrap();
    let cl = Arc::new(Cluster::preset("dgx-a100", 1).unwrap());
    let mut eager =
        RooflineCost::new(m, cl, CostConfig { cuda_graphs: false, ..CostConfig::default() })
            .unwrap();
    // Without graphs every one of the 323 kernels pays the 2 us launch.
    let d = eager.iteration_time(&decode(&[100])).as_nanos()
        - c.iteration_time(&decode(&[100])).as_nanos();
    assert_eq!(d, 323 * 2_000);
}

#[test]
fn mixtral_reads_the_experts_its_tokens_touch() {
    let mut c = cost("mixtral-8x7b", "g5-48xlarge", 8);
    assert_eq!(c.experts_touched(1), 2.0);
    assert!((c.experts_touched(3) - 8.0 * (1.0 - 0.75f64.powi(3))).abs() < 1e-12);
    assert!(c.experts_touched(64) > 7.99);
    // 12 kernels per layer (router and top-k added) in a decode batch.
    assert_eq!(c.breakdown(&decode(&[10])).unwrap().kernels, 12 * 32 + 3);
    // A decode batch of 16 reads almost every expert: far dearer than one token, which reads 2.
    let (one, sixteen) = (ms(&mut c, &decode(&[64])), ms(&mut c, &decode(&[64; 16])));
    assert!(sixteen > 2.0 * one, "{one} {sixteen}");
}

#[test]
fn models_that_do_not_fit_and_bad_settings_are_clear_errors() {
    let c = cost("llama-2-70b", "g5-xlarge", 1);
    let e = c.kv_pool_tokens().unwrap_err().to_string();
    assert!(
        e.contains("llama-2-70b") && e.contains("NVIDIA A10G") && e.contains("does not fit"),
        "{e}"
    );
    // Eight A10Gs hold it (weights 17.2 GB per GPU).
    let c = cost("llama-2-70b", "g5-48xlarge", 8);
    assert!(c.kv_pool_tokens().unwrap() > 10_000);
    let m = models::preset("llama-2-7b").unwrap();
    let cl = Arc::new(Cluster::preset("g5-xlarge", 1).unwrap());
    let e = RooflineCost::new(m.clone(), cl.clone(), CostConfig { tp: 2, ..CostConfig::default() })
        .unwrap_err();
    assert_eq!(e.field(), Some("cost.tp"));
    let e = RooflineCost::new(
        m.clone(),
        cl.clone(),
        CostConfig { dtype: Dtype::Fp8, ..CostConfig::default() },
    )
    .unwrap_err();
    assert_eq!(e.field(), Some("cost.dtype"));
    let e =
        RooflineCost::new(m, cl, CostConfig { mem_fraction: Some(1.5), ..CostConfig::default() })
            .unwrap_err();
    assert_eq!(e.field(), Some("cost.mem_fraction"));
}

/// Published batch-1 prefill (first-token) and decode (per-token) latencies, FP16, against
/// the model's prediction for the same model, GPU, TP degree and length.
///
/// - `trtllm-0.5`: NVIDIA TensorRT-LLM `docs/source/performance.md` (release 0.5/0.6), "Low
///   Latency", A100 FP16, batch 1, first-token latency: LLaMA 7B 16 ms (128 tokens), 133 ms
///   (2,048); LLaMA 70B TP4 47 ms, 377 ms.
/// - `lmdeploy-a100`: InternLM/lmdeploy `docs/en/benchmark/a100_fp16.md` (v0.1.0a1, A100-80G,
///   static inference): llama2-7b batch 1 FTL 0.139-0.140 s at 2,048 prompt tokens and
///   per-token latency p50 0.010 s (prompt 128, 2,048 outputs); llama2-13b 0.242 s and
///   0.018 s; llama2-70b TP4 0.402 s and 0.031 s (prompt 2,048, 2,048 outputs); llama2-7b
///   batch 16 and 64 (prompt 1, 128 outputs) p50 0.010 s and 0.012 s.
/// - `lmdeploy-210`: InternLM/lmdeploy issue 210: Llama-2-7B on one A10 (same 600 GB/s GDDR6
///   as the A10G), batch 1, about 27 ms per token (Hugging Face: 34 ms).
#[test]
fn validation_against_published_latencies() {
    let mut a7 = cost("llama-2-7b", "dgx-a100", 1);
    let mut a13 = cost("llama-2-13b", "dgx-a100", 1);
    let mut a70 = cost("llama-2-70b", "dgx-a100", 4);
    let mut g7 = cost("llama-2-7b", "g5-xlarge", 1);
    // Long prefills are compute-bound: within 10% of both sources.
    within(ms(&mut a7, &prefill(2048, 0)), 133.0, 0.10, "7B A100 prefill 2048 (trtllm-0.5)");
    within(ms(&mut a7, &prefill(2048, 0)), 139.5, 0.10, "7B A100 prefill 2048 (lmdeploy)");
    within(ms(&mut a13, &prefill(2048, 0)), 242.0, 0.10, "13B A100 prefill 2048 (lmdeploy)");
    within(ms(&mut a70, &prefill(2048, 0)), 377.0, 0.10, "70B A100 TP4 prefill 2048 (trtllm-0.5)");
    within(ms(&mut a70, &prefill(2048, 0)), 402.0, 0.10, "70B A100 TP4 prefill 2048 (lmdeploy)");
    // Decode is weight-streaming: within 15%.
    within(ms(&mut a7, &decode(&[1024])), 10.0, 0.10, "7B A100 decode (lmdeploy)");
    within(ms(&mut a13, &decode(&[1024])), 18.0, 0.10, "13B A100 decode (lmdeploy)");
    within(ms(&mut a70, &decode(&[3072])), 31.0, 0.15, "70B A100 TP4 decode (lmdeploy)");
    within(ms(&mut g7, &decode(&[256])), 27.0, 0.15, "7B A10(G) decode (lmdeploy-210)");
    within(ms(&mut a7, &decode(&[64; 16])), 10.0, 0.10, "7B A100 decode batch 16 (lmdeploy)");
    within(ms(&mut a7, &decode(&[64; 64])), 12.0, 0.10, "7B A100 decode batch 64 (lmdeploy)");
    // Short prefills: the model is 20-27% below TensorRT-LLM's first-token latency (fixed
    // costs of a context phase the roofline does not have); asserted at 30%.
    within(ms(&mut a7, &prefill(128, 0)), 16.0, 0.30, "7B A100 prefill 128 (trtllm-0.5)");
    within(ms(&mut a70, &prefill(128, 0)), 47.0, 0.30, "70B A100 TP4 prefill 128 (trtllm-0.5)");
}

fn batches() -> impl Strategy<Value = BatchShape> {
    (
        prop::collection::vec((1u32..3000, 0u32..8000), 0..4),
        prop::collection::vec(1u32..8000, 0..200),
    )
        .prop_map(|(p, d)| BatchShape {
            prefill: p
                .into_iter()
                .map(|(c, k)| PrefillChunk { new_tokens: c, cached: k })
                .collect(),
            decode_context: d,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// More work never costs less: adding a decode request, a prefill chunk, new tokens to a
    /// chunk or cached context to it.
    #[test]
    fn more_tokens_are_never_cheaper(b in batches(), extra in 1u32..2000, ctx in 1u32..8000, moe in any::<bool>()) {
        let mut c = if moe { cost("mixtral-8x7b", "g5-48xlarge", 8) } else { cost("llama-2-7b", "g5-12xlarge", 2) };
        let base = c.iteration_time(&b);
        let mut more = b.clone();
        more.decode_context.push(ctx);
        prop_assert!(c.iteration_time(&more) >= base);
        let mut more = b.clone();
        more.prefill.push(PrefillChunk { new_tokens: extra, cached: ctx });
        prop_assert!(c.iteration_time(&more) >= base);
        if let Some(first) = b.prefill.first().copied() {
            let mut more = b.clone();
            more.prefill[0].new_tokens = first.new_tokens + extra;
            prop_assert!(c.iteration_time(&more) >= base);
            let mut more = b.clone();
            more.prefill[0].cached = first.cached + extra;
            prop_assert!(c.iteration_time(&more) >= base);
        }
        if !b.decode_context.is_empty() {
            let mut more = b.clone();
            more.decode_context[0] += extra;
            prop_assert!(c.iteration_time(&more) >= base);
        }
    }
}
