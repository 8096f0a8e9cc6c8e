//! Tests of real execution: operator shapes and sizes, reproducibility, the executor's
//! exactly-once guarantee under several plans, plan validation, and the profiler's file
//! format. Inputs are tiny so the tests are fast in debug builds; nothing here is timed.

use datapipe::real::{
    CROP_SIZE, Data, ImageInputs, OPS_HEADER, PROFILE_NAME, ProfileConfig, RUNS_HEADER,
    RealContext, RealError, RealOp, RealPipeline, RealPlan, RealStage, TextInputs, generate_jpegs,
    generate_lines, profile, run_plan, runs_path_for,
};

fn small_images() -> ImageInputs {
    ImageInputs { images: 3, width: 120, height: 90, quality: 85 }
}

fn image_ctx(seed: u64) -> RealContext {
    RealContext::image(&small_images(), seed).unwrap()
}

fn small_text() -> TextInputs {
    TextInputs { lines: 4, mean_bytes: 300, embed_dim: 8 }
}

fn text_ctx(seed: u64) -> RealContext {
    RealContext::text(&small_text(), seed).unwrap()
}

/// Runs `order` on sample `id`, returning the output of every operator.
fn chain(ctx: &RealContext, order: &[RealOp], seed: u64, id: u64) -> Vec<Data> {
    let mut data = Data::Index(id);
    let mut outs = Vec::new();
    for op in order {
        data = op.apply(ctx, seed, id, data).unwrap();
        outs.push(data.clone());
    }
    outs
}

fn names(order: &[&str]) -> Vec<String> {
    order.iter().map(|s| s.to_string()).collect()
}

#[test]
fn image_operators_give_the_expected_shapes_and_sizes() {
    let ctx = image_ctx(1);
    let order = RealPipeline::Image.ops();
    let outs = chain(&ctx, order, 1, 0);
    let shapes: Vec<Vec<usize>> = outs.iter().map(Data::shape).collect();
    assert!(matches!(outs[0], Data::Encoded(ref b) if b.len() > 100 && b[..2] == [0xFF, 0xD8]));
    assert_eq!(shapes[1], vec![90, 120, 3]);
    assert!(matches!(outs[1], Data::ImageU8(_)));
    assert_eq!(shapes[2], vec![90, 120, 3]);
    assert!(matches!(outs[2], Data::ImageF32(_)));
    for k in 3..=5 {
        assert_eq!(shapes[k], vec![CROP_SIZE, CROP_SIZE, 3], "{:?}", order[k]);
    }
    for k in 6..=8 {
        assert_eq!(shapes[k], vec![CROP_SIZE, CROP_SIZE, 1], "{:?}", order[k]);
    }
    // The sizes cedar's profile lists after the crop and after the grayscale.
    assert_eq!(outs[3].bytes(), 714_432);
    assert_eq!(outs[6].bytes(), 238_144);
    // Float values stay in range before normalisation and are shifted after it.
    let Data::ImageF32(ref blurred) = outs[7] else { panic!("blur gives a float image") };
    assert!(blurred.data.iter().all(|v| (0.0..=1.0).contains(v)));
    let Data::ImageF32(ref norm) = outs[8] else { panic!("normalize gives a float image") };
    let expect = (blurred.data[0] - 0.1307) / 0.3081;
    assert!((norm.data[0] - expect).abs() < 1e-5);
}

#[test]
fn image_operators_also_take_8_bit_images_in_a_legal_reordering() {
    // Crop and grayscale before the float conversion, as a size-aware optimizer would order.
    let ctx = image_ctx(1);
    let order: Vec<RealOp> = [
        "read",
        "decode",
        "random_resized_crop",
        "grayscale",
        "to_float",
        "horizontal_flip",
        "color_jitter",
        "gaussian_blur",
        "normalize",
    ]
    .iter()
    .map(|n| RealPipeline::Image.op(n).unwrap())
    .collect();
    RealPipeline::Image.check_order(&order).unwrap();
    let outs = chain(&ctx, &order, 3, 1);
    assert_eq!(outs[2].shape(), vec![CROP_SIZE, CROP_SIZE, 3]);
    assert!(matches!(outs[3], Data::ImageU8(_)));
    assert_eq!(outs[3].bytes(), CROP_SIZE * CROP_SIZE);
    assert_eq!(outs[8].shape(), vec![CROP_SIZE, CROP_SIZE, 1]);
}

#[test]
fn text_operators_give_the_expected_shapes() {
    let ctx = text_ctx(1);
    let outs = chain(&ctx, RealPipeline::Text.ops(), 1, 2);
    let Data::Text(ref line) = outs[0] else { panic!("read_line gives text") };
    assert!(line.len() >= 150);
    let Data::Tokens(ref tokens) = outs[1] else { panic!("tokenize gives tokens") };
    assert!(tokens.len() > 20 && tokens.iter().all(|&t| t < 50257));
    let Data::Tokens(ref bos) = outs[3] else { panic!() };
    assert_eq!(bos[0], 0);
    let Data::Tokens(ref eos) = outs[4] else { panic!() };
    assert_eq!(*eos.last().unwrap(), 2);
    assert_eq!(eos.len(), tokens.len().min(254) + 2);
    let Data::TokenTensor(ref t) = outs[5] else { panic!("to_tensor gives a tensor") };
    assert_eq!(outs[5].bytes(), 8 * t.len());
    assert_eq!(outs[6].shape(), vec![t.len(), 8]);
    assert_eq!(outs[6].bytes(), t.len() * 8 * 4);
}

#[test]
fn tokenize_is_gpt2_bpe_and_truncate_keeps_254_tokens() {
    let long = "The quick brown fox jumps over the lazy dog. ".repeat(40);
    let ctx = RealContext::with_lines(vec!["Hello world".into(), long], 4, 1).unwrap();
    let outs = chain(&ctx, RealPipeline::Text.ops(), 1, 0);
    // GPT-2's ids for "Hello" and " world".
    assert_eq!(outs[1], Data::Tokens(vec![15496, 995]));
    let outs = chain(&ctx, RealPipeline::Text.ops(), 1, 1);
    assert!(outs[1].shape()[0] > 254);
    assert_eq!(outs[2].shape(), vec![254]);
    assert_eq!(outs[6].shape(), vec![256, 4]);
}

#[test]
fn the_same_seed_gives_the_same_bytes() {
    let a = generate_jpegs(&small_images(), 7).unwrap();
    let b = generate_jpegs(&small_images(), 7).unwrap();
    assert_eq!(a, b);
    assert_ne!(a, generate_jpegs(&small_images(), 8).unwrap());
    assert_eq!(
        generate_lines(&small_text(), 7).unwrap(),
        generate_lines(&small_text(), 7).unwrap()
    );

    let (c1, c2) = (image_ctx(7), image_ctx(7));
    let digests = |ctx: &RealContext, seed| -> Vec<u64> {
        chain(ctx, RealPipeline::Image.ops(), seed, 4).iter().map(Data::digest).collect()
    };
    assert_eq!(digests(&c1, 11), digests(&c2, 11));
    // Another seed changes the random crop (and everything after it), not the decode.
    let other = digests(&c1, 12);
    assert_eq!(other[1], digests(&c1, 11)[1]);
    assert_ne!(other[3], digests(&c1, 11)[3]);

    let (t1, t2) = (text_ctx(5), text_ctx(5));
    let text = |ctx: &RealContext| -> Vec<u64> {
        chain(ctx, RealPipeline::Text.ops(), 1, 3).iter().map(Data::digest).collect()
    };
    assert_eq!(text(&t1), text(&t2));
    assert_ne!(text(&t1)[6], text(&text_ctx(6))[6]);
}

fn assert_exactly_once(report: &datapipe::real::RealReport, samples: u64, pipeline: RealPipeline) {
    assert_eq!(report.samples, samples);
    assert_eq!(report.op_applications.len(), pipeline.ops().len());
    for (name, count) in &report.op_applications {
        assert_eq!(*count, samples, "operator {name}");
    }
    for stage in &report.stages {
        assert_eq!(stage.samples, samples, "stage {:?}", stage.ops);
        assert!(stage.busy_frac >= 0.0 && stage.busy_s >= 0.0);
    }
    assert!(report.throughput_sps > 0.0 && report.wall_s > 0.0);
}

#[test]
fn every_sample_passes_every_operator_once_under_any_plan() {
    let ctx = image_ctx(2);
    let order = RealPipeline::Image.default_order();
    for plan in [
        RealPlan::fused(&order, 1, 5, 1),
        RealPlan::fused(&order, 2, 5, 1),
        RealPlan::unfused(&order, 1, 5, 1),
        RealPlan::unfused(&order, 2, 5, 1),
        RealPlan {
            stages: vec![
                RealStage { ops: order[..4].to_vec(), workers: 2 },
                RealStage { ops: order[4..].to_vec(), workers: 1 },
            ],
            channel_capacity: 1,
            batch_size: 1,
            samples: 5,
            seed: 1,
        },
    ] {
        let report = run_plan(&plan, &ctx).unwrap();
        assert_exactly_once(&report, 5, RealPipeline::Image);
        assert_eq!(report.mean_output_bytes, (CROP_SIZE * CROP_SIZE * 4) as f64);
        assert_eq!(report.threads, plan.threads());
    }
    let ctx = text_ctx(2);
    let order = RealPipeline::Text.default_order();
    for plan in [
        RealPlan::fused(&order, 2, 9, 1),
        RealPlan::unfused(&order, 2, 9, 1),
        RealPlan {
            stages: vec![
                RealStage { ops: order[..2].to_vec(), workers: 1 },
                RealStage { ops: order[2..].to_vec(), workers: 2 },
            ],
            channel_capacity: 2,
            batch_size: 1,
            samples: 9,
            seed: 1,
        },
    ] {
        assert_exactly_once(&run_plan(&plan, &ctx).unwrap(), 9, RealPipeline::Text);
    }
    // Batches of 4 over 9 samples (the last one short), fused and unfused.
    for mut plan in [RealPlan::fused(&order, 2, 9, 1), RealPlan::unfused(&order, 1, 9, 1)] {
        plan.batch_size = 4;
        let report = run_plan(&plan, &ctx).unwrap();
        assert_exactly_once(&report, 9, RealPipeline::Text);
        assert_eq!(report.batch_size, 4);
    }
}

fn plan_error(plan: &RealPlan, ctx: &RealContext) -> String {
    match run_plan(plan, ctx) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("plan {plan:?} should be rejected"),
    }
}

#[test]
fn bad_plans_get_clear_errors() {
    let ctx = RealContext::image(&ImageInputs { images: 1, width: 16, height: 16, quality: 50 }, 1)
        .unwrap();
    let order = RealPipeline::Image.default_order();
    let mut p = RealPlan::fused(&order, 1, 2, 1);
    p.stages[0].ops[2] = "to_floaty".into();
    let e = plan_error(&p, &ctx);
    assert!(e.contains("unknown operator `to_floaty`"), "{e}");
    assert!(e.contains("read, decode, to_float, random_resized_crop"), "{e}");

    let mut p = RealPlan::fused(&order, 1, 2, 1);
    p.stages[0].ops[2] = "tokenize".into();
    assert!(plan_error(&p, &ctx).contains("unknown operator `tokenize` for the image pipeline"));

    let e = plan_error(&RealPlan::fused(&order, 0, 2, 1), &ctx);
    assert!(e.contains("workers") && e.contains("got 0"), "{e}");
    let e = plan_error(&RealPlan::fused(&order, 1, 0, 1), &ctx);
    assert!(e.contains("samples"), "{e}");
    let mut p = RealPlan::fused(&order, 1, 2, 1);
    p.channel_capacity = 0;
    assert!(plan_error(&p, &ctx).contains("channel_capacity"));
    let mut p = RealPlan::fused(&order, 1, 2, 1);
    p.batch_size = 3;
    assert!(plan_error(&p, &ctx).contains("batch_size"));
    let p = RealPlan { stages: vec![], channel_capacity: 1, batch_size: 1, samples: 1, seed: 1 };
    assert!(plan_error(&p, &ctx).contains("at least one stage"));
    let mut p = RealPlan::unfused(&order, 1, 2, 1);
    p.stages[3].ops.clear();
    assert!(plan_error(&p, &ctx).contains("stage 3 has no operators"));

    let e = plan_error(&RealPlan::fused(&order[..8], 1, 2, 1), &ctx);
    assert!(e.contains("missing: normalize"), "{e}");
    let mut twice = order.clone();
    twice.push("grayscale".into());
    assert!(plan_error(&RealPlan::fused(&twice, 1, 2, 1), &ctx).contains("more than once"));

    // Flip depends on the crop; normalize on to_float; decode is fixed.
    let flip_first = names(&[
        "read",
        "decode",
        "to_float",
        "horizontal_flip",
        "random_resized_crop",
        "color_jitter",
        "grayscale",
        "gaussian_blur",
        "normalize",
    ]);
    let e = plan_error(&RealPlan::fused(&flip_first, 1, 2, 1), &ctx);
    assert!(e.contains("`horizontal_flip` depends on tag `crop`"), "{e}");
    let norm_first = names(&[
        "read",
        "decode",
        "normalize",
        "to_float",
        "random_resized_crop",
        "horizontal_flip",
        "color_jitter",
        "grayscale",
        "gaussian_blur",
    ]);
    assert!(plan_error(&RealPlan::fused(&norm_first, 1, 2, 1), &ctx).contains("tag `float`"));
    let decode_late = names(&[
        "read",
        "to_float",
        "decode",
        "random_resized_crop",
        "horizontal_flip",
        "color_jitter",
        "grayscale",
        "gaussian_blur",
        "normalize",
    ]);
    assert!(plan_error(&RealPlan::fused(&decode_late, 1, 2, 1), &ctx).contains("is fixed"));

    // Text: only BOS / EOS may move.
    let tctx = text_ctx(1);
    let mut swapped = RealPipeline::Text.default_order();
    swapped.swap(3, 4);
    assert_exactly_once(
        &run_plan(&RealPlan::fused(&swapped, 1, 3, 1), &tctx).unwrap(),
        3,
        RealPipeline::Text,
    );
    let mut moved = RealPipeline::Text.default_order();
    moved.swap(4, 5);
    assert!(plan_error(&RealPlan::fused(&moved, 1, 3, 1), &tctx).contains("`to_tensor` is fixed"));

    assert!(matches!(RealPipeline::parse("audio"), Err(RealError::UnknownPipeline(_))));
}

#[test]
fn bad_data_is_an_error_not_a_panic() {
    let ctx = image_ctx(1);
    let e = RealOp::Normalize.apply(&ctx, 1, 0, Data::Text("x".into())).unwrap_err();
    assert!(e.to_string().contains("cannot take a text line"), "{e}");
    // An image whose data does not match its shape, for every image operator.
    let bad = datapipe::real::Image { width: 50, height: 40, channels: 3, data: vec![0u8; 7] };
    for op in &RealPipeline::Image.ops()[2..] {
        let e = op.apply(&ctx, 1, 0, Data::ImageU8(bad.clone())).unwrap_err();
        assert!(matches!(e, RealError::WrongData { .. }), "{op:?}: {e}");
    }
    let bad_f = datapipe::real::Image { width: 2, height: 2, channels: 2, data: vec![0f32; 8] };
    let e = RealOp::Normalize.apply(&ctx, 1, 0, Data::ImageF32(bad_f)).unwrap_err();
    assert!(e.to_string().contains("does not match its shape"), "{e}");
    let e = RealOp::Decode.apply(&ctx, 1, 0, Data::Encoded(vec![1, 2, 3])).unwrap_err();
    assert!(matches!(e, RealError::Operator { .. }), "{e}");
    // A directory with a broken JPEG: the run stops with the decode error.
    let dir = std::env::temp_dir().join(format!("datapipe-real-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("a.jpg"), b"not a jpeg").unwrap();
    let ctx = RealContext::image_from_dir(&dir).unwrap();
    let plan = RealPlan::unfused(&RealPipeline::Image.default_order(), 2, 4, 1);
    let e = run_plan(&plan, &ctx).unwrap_err();
    assert!(e.to_string().contains("operator `decode` failed"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
    // Text operators on an image context.
    let plan = RealPlan::fused(&RealPipeline::Text.default_order(), 1, 1, 1);
    assert!(run_plan(&plan, &image_ctx(1)).is_err());
}

#[test]
fn the_profiler_writes_cedars_format() {
    let ctx = image_ctx(3);
    let config = ProfileConfig { samples: 3, warmup: 1, chunk: 2, seed: 1, order: None };
    let prof = profile(&ctx, &config).unwrap();
    assert_eq!(prof.ops.len(), 9);
    assert!(prof.baseline_throughput_sps > 0.0);
    assert!(prof.ops.iter().all(|o| o.latency_ns > 0.0 && o.out_bytes > 0.0));
    assert_eq!(prof.ops[3].out_bytes, 714_432.0);

    let dir = std::env::temp_dir().join(format!("datapipe-real-prof-{}", std::process::id()));
    let ops_path = dir.join("real_image_ops.tsv");
    let runs_path = prof.write(&ops_path).unwrap();
    assert_eq!(runs_path, dir.join("real_image_runs.tsv"));
    assert_eq!(runs_path_for(&dir.join("x.tsv")), dir.join("x_runs.tsv"));

    let text = std::fs::read_to_string(&ops_path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("# ") && lines[0].contains("thread CPU time"));
    assert_eq!(lines[1], OPS_HEADER);
    let cedar = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../data/datapipe/cedar_simclrv2_ops.tsv"),
    )
    .unwrap();
    assert_eq!(cedar.lines().nth(1).unwrap(), OPS_HEADER);
    assert_eq!(lines.len(), 2 + 9);
    let source: Vec<&str> = lines[2].split('\t').collect();
    assert_eq!(source.len(), 14);
    assert_eq!(
        &source[..8],
        &[
            "real_image",
            PROFILE_NAME,
            "image_rust",
            "crates/datapipe/src/real/op.rs",
            "8",
            "0",
            "read",
            "1"
        ]
    );
    assert_eq!(source[12], "0");
    let flip: Vec<&str> = lines[6].split('\t').collect();
    assert_eq!(&flip[4..11], &["4", "4", "horizontal_flip", "0", "", "crop", "1"]);

    let runs = std::fs::read_to_string(&runs_path).unwrap();
    let cedar_runs = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../data/datapipe/cedar_simclrv2_runs.tsv"),
    )
    .unwrap();
    assert_eq!(runs.lines().nth(1).unwrap(), RUNS_HEADER);
    assert_eq!(cedar_runs.lines().nth(1).unwrap(), RUNS_HEADER);
    assert_eq!(runs.lines().count(), 2 + 9);
    assert!(runs.lines().nth(2).unwrap().starts_with("real_image\tmlsim-real\tbaseline\t-1\t"));

    // The simulator's loader reads both files like a preset.
    let ops = datapipe::profile::read_ops(&ops_path, Some(PROFILE_NAME)).unwrap();
    assert_eq!(ops.ops.len(), 9);
    assert_eq!(ops.ops[0].name, "read");
    assert!(ops.ops[4].depends_on == vec!["crop".to_string()]);
    let runs = datapipe::profile::read_runs(&runs_path, PROFILE_NAME).unwrap();
    assert!(runs.baseline_sps.unwrap() > 0.0);
    std::fs::remove_dir_all(&dir).unwrap();

    // A reordered text profile is labelled as such.
    let mut order = RealPipeline::Text.default_order();
    order.swap(3, 4);
    let config = ProfileConfig { samples: 2, warmup: 0, chunk: 8, seed: 1, order: Some(order) };
    let prof = profile(&text_ctx(1), &config).unwrap();
    assert_eq!(prof.definition(), "text_rust_reordered");
    assert_eq!(prof.ops[3].op, RealOp::AddEos);
}
