//! Running input pipelines for real on this machine's CPUs: real operators, a threaded
//! executor and a profiler whose output the simulator reads like one of cedar's presets.
//!
//! The simulator predicts what a plan (order, parallelism, fusion) of a profiled pipeline
//! would reach; this module measures it, so the prediction can be checked against a number
//! nobody assumed.
//!
//! # Concepts
//!
//! - [`Data`]: what travels between operators (a sample index, JPEG bytes, an image of `u8`
//!   or `f32` pixels, a text line, token ids, an embedded sequence).
//! - [`RealOp`]: one real operator (decode, random resized crop, GPT-2 BPE tokenise, ...),
//!   with the constraints cedar declares for the operator it stands for (fixed, tag,
//!   depends_on, random). Two pipelines are built in, the chains of cedar's `simclrv2` and
//!   `wikitext103` pipelines ([`RealPipeline::Image`], [`RealPipeline::Text`]).
//! - [`RealContext`]: the inputs and shared state of one pipeline (the generated JPEGs or
//!   text lines, the BPE vocabulary, the embedding table), built once before anything is
//!   timed.
//! - [`RealPlan`]: stages of operators, each run by its own worker threads, joined by bounded
//!   channels; [`run_plan`] executes it and checks that every sample passed every operator
//!   exactly once ([`RealReport`]).
//! - [`profile`]: per-operator latency and sizes on one thread plus the whole chain's
//!   one-thread throughput, written by [`Profile::write`] in the column format of
//!   `data/datapipe/cedar_*_ops.tsv` and `cedar_*_runs.tsv`.
//!
//! # Inputs
//!
//! Nothing is downloaded. Images are generated photograph-like pictures (smooth colour
//! gradients, soft shapes and sensor-like noise) encoded with the `image` crate's JPEG
//! encoder at ImageNet-like sizes (500x375 by default); text lines are English-like sentences
//! drawn from a built-in word list, about 600 bytes on average like WikiText-103's lines.
//! Both are deterministic functions of the seed ([`ImageInputs`], [`TextInputs`]).
//!
//! # Randomness
//!
//! A random operator draws from `simcore`'s stream named after the operator, indexed by the
//! sample id and seeded by the plan's seed: a sample's output bytes do not depend on the
//! thread, the worker count or the stage layout that processed it.
//!
//! # Example
//!
//! ```no_run
//! use datapipe::real::{ImageInputs, RealContext, RealPipeline, RealPlan, run_plan};
//!
//! let ctx = RealContext::image(&ImageInputs::default(), 1).unwrap();
//! let plan = RealPlan::unfused(&RealPipeline::Image.default_order(), 2, 200, 1);
//! let report = run_plan(&plan, &ctx).unwrap();
//! println!("{:.1} samples/s", report.throughput_sps);
//! ```
//!
//! `crates/datapipe/examples/real_measure.rs` runs the measurement matrix of
//! `docs/datapipe-real.md`.

mod blur;
mod clock;
mod color;
mod context;
mod crop;
mod data;
mod embedding;
mod error;
mod executor;
mod gen_images;
mod gen_text;
mod image_ops;
mod op;
mod plan;
mod profiler;
mod text_ops;
mod tokenize;

pub use blur::KERNEL as BLUR_KERNEL;
pub use clock::{Clock, thread_cpu_ns};
pub use context::{ImageSource, RealContext};
pub use crop::CROP_SIZE;
pub use data::{Data, Image, Pixel};
pub use embedding::{DEFAULT_DIM, EmbeddingTable, GPT2_VOCAB};
pub use error::RealError;
pub use executor::{RealReport, StageReport, run_plan};
pub use gen_images::{ImageInputs, generate_jpegs};
pub use gen_text::{TextInputs, generate_lines};
pub use op::{OpInfo, RealOp, RealPipeline};
pub use plan::{DEFAULT_CAPACITY, RealPlan, RealStage};
pub use profiler::{
    OPS_HEADER, OpProfile, PROFILE_NAME, Profile, ProfileConfig, RUNS_HEADER, profile,
    runs_path_for,
};
pub use text_ops::{BOS, EOS, MAX_SEQ_LEN};
