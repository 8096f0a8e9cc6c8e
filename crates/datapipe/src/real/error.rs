//! Errors of real execution: bad plans and bad inputs say what is wrong and what would be
//! valid; nothing in this module panics on user input.

use std::path::PathBuf;

/// Everything that can go wrong building inputs, validating a plan, running or profiling it.
#[derive(Debug, thiserror::Error)]
pub enum RealError {
    /// An operator name that is not an operator of the pipeline.
    #[error("unknown operator `{name}` for the {pipeline} pipeline; valid operators: {valid}")]
    UnknownOperator {
        /// The name given.
        name: String,
        /// The pipeline the plan runs.
        pipeline: String,
        /// The valid names, comma-separated, in the default order.
        valid: String,
    },
    /// An unknown pipeline name.
    #[error("unknown pipeline `{0}`; valid pipelines: image, text")]
    UnknownPipeline(String),
    /// A plan that is structurally wrong (no stages, an empty stage, zero workers, ...).
    #[error("invalid plan: {0}")]
    Plan(String),
    /// A plan whose operator order breaks a constraint of the pipeline.
    #[error("illegal operator order: {0}")]
    Order(String),
    /// Invalid input parameters (image size, number of lines, embedding dimension, ...).
    #[error("invalid input: {0}")]
    Input(String),
    /// An operator was given data of a kind it cannot take.
    #[error("operator `{op}` cannot take {got} (it takes {expected})")]
    WrongData {
        /// The operator.
        op: String,
        /// What it takes.
        expected: &'static str,
        /// What it was given.
        got: &'static str,
    },
    /// A JPEG that does not decode, a token id outside the table, ...
    #[error("operator `{op}` failed on sample {sample}: {message}")]
    Operator {
        /// The operator.
        op: String,
        /// The sample id.
        sample: u64,
        /// What went wrong.
        message: String,
    },
    /// A file or directory that cannot be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The BPE vocabulary could not be loaded.
    #[error("cannot load the GPT-2 BPE vocabulary (r50k_base): {0}")]
    Tokenizer(String),
    /// An execution invariant did not hold (a sample lost, duplicated, or an operator applied
    /// other than once); a bug in the executor, reported rather than hidden.
    #[error("execution check failed: {0}")]
    Check(String),
}
