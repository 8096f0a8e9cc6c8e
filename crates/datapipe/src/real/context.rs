//! The inputs and shared state of one real pipeline, built once before anything is timed:
//! the encoded images or text lines, the BPE vocabulary and the embedding table.

use std::path::{Path, PathBuf};

use tiktoken_rs::CoreBPE;

use super::embedding::EmbeddingTable;
use super::error::RealError;
use super::gen_images::{ImageInputs, generate_jpegs};
use super::gen_text::{TextInputs, generate_lines};
use super::op::RealPipeline;

/// Where the image source reads JPEG files from.
#[derive(Clone, Debug)]
pub enum ImageSource {
    /// Encoded files held in memory (the generated inputs): `read` copies the bytes.
    Memory(Vec<Vec<u8>>),
    /// Files on disk: `read` reads the file.
    Files(Vec<PathBuf>),
}

impl ImageSource {
    /// Number of distinct images.
    pub fn len(&self) -> usize {
        match self {
            ImageSource::Memory(v) => v.len(),
            ImageSource::Files(v) => v.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Shared, read-only state of a pipeline; operators borrow it from every worker thread.
/// Sample `i` uses input `i mod len`, as an epoch over a dataset of `len` items would.
pub struct RealContext {
    pipeline: RealPipeline,
    pub(crate) images: Option<ImageSource>,
    pub(crate) lines: Vec<String>,
    pub(crate) bpe: Option<CoreBPE>,
    pub(crate) table: Option<EmbeddingTable>,
}

impl std::fmt::Debug for RealContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RealContext")
            .field("pipeline", &self.pipeline)
            .field("images", &self.images.as_ref().map(ImageSource::len))
            .field("lines", &self.lines.len())
            .field("embedding_dim", &self.table.as_ref().map(EmbeddingTable::dim))
            .finish()
    }
}

impl RealContext {
    /// The image pipeline over generated JPEGs (deterministic from `seed`).
    pub fn image(inputs: &ImageInputs, seed: u64) -> Result<RealContext, RealError> {
        let jpegs = generate_jpegs(inputs, seed)?;
        Ok(RealContext::with_images(ImageSource::Memory(jpegs)))
    }

    /// The image pipeline over the `.jpg` / `.jpeg` files of `dir` (sorted by name).
    pub fn image_from_dir(dir: &Path) -> Result<RealContext, RealError> {
        let io = |source| RealError::Io { path: dir.to_path_buf(), source };
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io)? {
            let path = entry.map_err(io)?.path();
            let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
            if matches!(ext.as_deref(), Some("jpg" | "jpeg")) {
                files.push(path);
            }
        }
        if files.is_empty() {
            return Err(RealError::Input(format!("{} holds no .jpg or .jpeg file", dir.display())));
        }
        files.sort();
        Ok(RealContext::with_images(ImageSource::Files(files)))
    }

    /// The image pipeline over the given source.
    pub fn with_images(source: ImageSource) -> RealContext {
        RealContext {
            pipeline: RealPipeline::Image,
            images: Some(source),
            lines: Vec::new(),
            bpe: None,
            table: None,
        }
    }

    /// The text pipeline over generated lines, the GPT-2 vocabulary and a random embedding
    /// table (all deterministic from `seed`).
    pub fn text(inputs: &TextInputs, seed: u64) -> Result<RealContext, RealError> {
        let lines = generate_lines(inputs, seed)?;
        RealContext::with_lines(lines, inputs.embed_dim, seed)
    }

    /// The text pipeline over the given lines, with an embedding table of dimension
    /// `embed_dim` drawn from `seed`.
    pub fn with_lines(
        lines: Vec<String>,
        embed_dim: usize,
        seed: u64,
    ) -> Result<RealContext, RealError> {
        if lines.is_empty() {
            return Err(RealError::Input("the text pipeline needs at least one line".into()));
        }
        let bpe = tiktoken_rs::r50k_base().map_err(|e| RealError::Tokenizer(e.to_string()))?;
        let table = EmbeddingTable::random(super::embedding::GPT2_VOCAB, embed_dim, seed)?;
        Ok(RealContext {
            pipeline: RealPipeline::Text,
            images: None,
            lines,
            bpe: Some(bpe),
            table: Some(table),
        })
    }

    /// The pipeline this context feeds.
    pub fn pipeline(&self) -> RealPipeline {
        self.pipeline
    }

    /// Distinct inputs (images or lines).
    pub fn inputs(&self) -> usize {
        match self.pipeline {
            RealPipeline::Image => self.images.as_ref().map_or(0, ImageSource::len),
            RealPipeline::Text => self.lines.len(),
        }
    }
}
