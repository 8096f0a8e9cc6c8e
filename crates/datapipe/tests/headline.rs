//! A small version of `configs/datapipe/cedar-headline.yaml`: cedar's six pipelines, every
//! system, on the training host alone and with remote workers. Direction: averaged over the
//! six pipelines, cedar's throughput is above every baseline's (the paper's claim is about
//! averages; docs/models/datapipe.md says where and why a baseline wins on one pipeline).

use datapipe::config::{DatapipeSystem, DatapipeWorkload, Mode};
use datapipe::presets::PAPER_PIPELINES;
use datapipe::resources::Resources;
use datapipe::run::prepare;

fn throughput(pipeline: &str, mode: Mode, system: &DatapipeSystem) -> f64 {
    let w = DatapipeWorkload {
        pipeline: serde_json::json!(pipeline),
        mode,
        samples: 3000,
        epochs: 1,
        service_cv: 0.0,
        series_points: 5,
        resources: Resources::default(),
    };
    prepare(&w, system).unwrap().run(1).unwrap().metrics["throughput_samples_s"]
}

#[test]
fn averaged_over_the_six_pipelines_cedar_is_faster_than_every_baseline() {
    let baselines = [
        ("torch-dataloader", DatapipeSystem::TorchDataloader(Default::default())),
        ("tf-data", DatapipeSystem::TfData),
        ("tf-data-service", DatapipeSystem::TfDataService),
        ("ray-data", DatapipeSystem::RayData(Default::default())),
        ("pecan", DatapipeSystem::Pecan),
        ("unoptimized", DatapipeSystem::Unoptimized),
    ];
    let cedar = DatapipeSystem::Cedar(Default::default());
    for mode in [Mode::Local, Mode::Remote] {
        let ours: Vec<f64> = PAPER_PIPELINES.iter().map(|p| throughput(p, mode, &cedar)).collect();
        for (name, b) in &baselines {
            let ratios: Vec<f64> = PAPER_PIPELINES
                .iter()
                .zip(&ours)
                .map(|(p, c)| c / throughput(p, mode, b))
                .collect();
            let mean = ratios.iter().sum::<f64>() / ratios.len() as f64;
            assert!(mean > 1.0, "{mode:?}: cedar / {name} averages {mean:.3} ({ratios:?})");
        }
    }
}

#[test]
fn remote_workers_speed_cedar_up_on_every_pipeline() {
    let cedar = DatapipeSystem::Cedar(Default::default());
    for p in PAPER_PIPELINES {
        let local = throughput(p, Mode::Local, &cedar);
        let remote = throughput(p, Mode::Remote, &cedar);
        assert!(remote >= local * 0.999, "{p}: {remote} < {local}");
    }
}

#[test]
fn the_ablation_adds_up() {
    // Parallelism and then reordering never lose against the unoptimized pipeline on the
    // image pipeline, whose operator order matters most.
    let unopt = throughput("cv-torch", Mode::Local, &DatapipeSystem::Unoptimized);
    let reorder = throughput(
        "cv-tf",
        Mode::Local,
        &DatapipeSystem::Cedar(datapipe::systems::cedar::Params {
            offload: false,
            fusion: false,
            controller: false,
            ..Default::default()
        }),
    );
    let no_reorder = throughput(
        "cv-tf",
        Mode::Local,
        &DatapipeSystem::Cedar(datapipe::systems::cedar::Params {
            reorder: false,
            offload: false,
            fusion: false,
            controller: false,
            ..Default::default()
        }),
    );
    assert!(reorder > no_reorder, "reordering helps cv-tf: {reorder} vs {no_reorder}");
    assert!(
        throughput("cv-torch", Mode::Local, &DatapipeSystem::Cedar(Default::default())) > unopt
    );
}
