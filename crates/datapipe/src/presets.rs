//! The built-in pipelines: cedar's published profiles of its six evaluation pipelines (and
//! the cache variants), loaded from `data/datapipe` (cedar's VLDB'24 artifact, MIT; see that
//! folder's README for provenance).
//!
//! The mapping from the paper's names to the artifact's profiles is ours, from the
//! definitions the profiles belong to: `nlp-hf-tf` is the TensorFlow pipeline whose tokenizer
//! is a Python function (`_tokenize(tf_py_func)`, the Hugging Face tokenizer), `nlp-tf` the
//! tf.data-service variant with a native TensorFlow tokenizer.

use simcore::InputError;
use simcore::data::data_file;

use crate::pipeline::Pipeline;
use crate::profile::{read_disk, read_ops, read_runs};

/// A built-in pipeline: its name and where its profile is.
#[derive(Clone, Copy, Debug)]
pub struct Preset {
    /// Name in configs.
    pub name: &'static str,
    /// What it is.
    pub description: &'static str,
    /// cedar's pipeline folder (`simclrv2`, `wikitext103`, `commonvoice`).
    pub pipeline: &'static str,
    /// The profile (stats file) name.
    pub profile: &'static str,
    /// Which operators run Python code under the interpreter lock.
    pub python: Python,
}

/// Which operators of a preset hold Python's interpreter lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Python {
    /// Every one (cedar's PyTorch pipelines: per-sample Python operators).
    All,
    /// Only `py_func`s (TensorFlow pipelines: native operators otherwise).
    PyFuncs,
}

/// Every built-in pipeline, the paper's six first.
pub const PRESETS: &[Preset] = &[
    Preset {
        name: "cv-torch",
        description: "CV-torch: SimCLRv2 augmentation of ImageNet images in PyTorch (read, to float, random resized crop, flip, colour jitter, grayscale, Gaussian blur, normalise)",
        pipeline: "simclrv2",
        profile: "ember_stats.yaml",
        python: Python::All,
    },
    Preset {
        name: "cv-tf",
        description: "CV-tf: the same SimCLRv2 chain with TensorFlow operators",
        pipeline: "simclrv2",
        profile: "ember_tf_stats.yaml",
        python: Python::PyFuncs,
    },
    Preset {
        name: "nlp-torch",
        description: "NLP-torch: WikiText-103 lines, GPT-2 BPE, truncate 254, vocab, BOS/EOS, embedding 50257x764 (PyTorch)",
        pipeline: "wikitext103",
        profile: "ember.yaml",
        python: Python::All,
    },
    Preset {
        name: "nlp-hf-tf",
        description: "NLP-hf-tf: WikiText-103 in TensorFlow with the Hugging Face tokenizer as a py_func",
        pipeline: "wikitext103",
        profile: "tf.yaml",
        python: Python::PyFuncs,
    },
    Preset {
        name: "nlp-tf",
        description: "NLP-tf: WikiText-103 with TensorFlow's own tokenizer (the tf.data-service definition)",
        pipeline: "wikitext103",
        profile: "tf_service.yaml",
        python: Python::PyFuncs,
    },
    Preset {
        name: "asr",
        description: "ASR: Common Voice audio read, resample, spectrogram, time stretch, time and frequency masking, mel",
        pipeline: "commonvoice",
        profile: "ember.yaml",
        python: Python::All,
    },
    Preset {
        name: "cv-torch-cache",
        description: "cv-torch with crop, flip and colour jitter declared random (cedar's cache variant)",
        pipeline: "simclrv2",
        profile: "ember_cache_stats.yaml",
        python: Python::All,
    },
    Preset {
        name: "asr-cache",
        description: "asr's cache variant (nothing random; measured baseline 70 samples/s)",
        pipeline: "commonvoice",
        profile: "ember_cache.yaml",
        python: Python::All,
    },
    Preset {
        name: "nlp-torch-cache",
        description: "nlp-torch's cache variant (the same profile)",
        pipeline: "wikitext103",
        profile: "ember_cache.yaml",
        python: Python::All,
    },
];

/// The paper's six pipelines, in its order.
pub const PAPER_PIPELINES: &[&str] =
    &["cv-torch", "cv-tf", "nlp-torch", "nlp-hf-tf", "nlp-tf", "asr"];

/// A preset by name, or an error listing the names.
pub fn find(name: &str) -> Result<&'static Preset, String> {
    PRESETS.iter().find(|p| p.name == name).ok_or_else(|| {
        let names: Vec<&str> = PRESETS.iter().map(|p| p.name).collect();
        format!(
            "unknown pipeline `{name}`{}; built-in: {}",
            simcore::names::did_you_mean(name, names.iter().copied()),
            names.join(", ")
        )
    })
}

/// Loads a preset from the data folder.
pub fn load(preset: &Preset) -> Result<Pipeline, InputError> {
    let not_found = |e: simcore::data::DataNotFound| {
        InputError::data(e.given.display().to_string(), 0, e.to_string())
    };
    let ops_path =
        data_file(format!("datapipe/cedar_{}_ops.tsv", preset.pipeline)).map_err(not_found)?;
    let runs_path =
        data_file(format!("datapipe/cedar_{}_runs.tsv", preset.pipeline)).map_err(not_found)?;
    let disk_path = data_file("datapipe/cedar_disk_info.tsv").map_err(not_found)?;
    let mut ops = read_ops(&ops_path, Some(preset.profile))?;
    for op in &mut ops.ops {
        op.gil = match preset.python {
            Python::All => true,
            Python::PyFuncs => op.name.contains("py_func"),
        };
    }
    let runs = read_runs(&runs_path, preset.profile)?;
    let disk = read_disk(&disk_path, preset.pipeline, preset.profile)?;
    let mut p = Pipeline::new(
        preset.name.to_string(),
        ops.ops,
        runs.baseline_sps,
        &ops_path.display().to_string(),
    )?;
    if let Some(d) = disk {
        p.disk_read_s_per_byte = Some(d.read_s_per_byte);
        p.disk_write_s_per_byte = Some(d.write_s_per_byte);
    }
    for (backend, list) in runs.offloaded {
        let mapped = list
            .into_iter()
            .filter_map(|(pipe, sps)| {
                ops.pipe_ids.iter().position(|&id| id == pipe).map(|i| (i, sps))
            })
            .collect();
        p.offload_runs.insert(backend, mapped);
    }
    Ok(p)
}

/// Loads a preset by name.
pub fn load_named(name: &str) -> Result<Pipeline, InputError> {
    let preset = find(name).map_err(|m| InputError::invalid("pipeline", m))?;
    load(preset)
}
