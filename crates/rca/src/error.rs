//! The crate's error type: every failure on user data (a ragged or non-finite data matrix, a
//! constant metric, a singular correlation matrix, a bad parameter) is reported here, never
//! as a panic.

use thiserror::Error;

/// What went wrong in causal discovery, generation, localisation or scoring.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum RcaError {
    /// A data matrix needs at least one sample and one variable.
    #[error("data: the matrix is empty ({samples} samples x {variables} variables)")]
    EmptyData {
        /// Number of samples (rows).
        samples: usize,
        /// Number of variables (columns).
        variables: usize,
    },
    /// Columns (or rows) of different lengths.
    #[error("data: variable {variable} has {found} samples, expected {expected} like the first")]
    Ragged {
        /// The offending column (or row, for row input: see the message's context).
        variable: usize,
        /// Its length.
        found: usize,
        /// The length of the first one.
        expected: usize,
    },
    /// A NaN or infinite value in the data.
    #[error("data: the value at sample {sample}, variable {variable} is not finite ({value})")]
    NonFinite {
        /// Row.
        sample: usize,
        /// Column.
        variable: usize,
        /// The value.
        value: f64,
    },
    /// Variable names given for a different number of variables.
    #[error("data: {names} names given for {variables} variables")]
    NameCount {
        /// Names given.
        names: usize,
        /// Variables in the data.
        variables: usize,
    },
    /// A variable with zero variance: its correlation with anything is undefined.
    #[error(
        "fisher-z: variable {variable} is constant over the {samples} samples, so its \
         correlations are undefined; drop constant metrics before causal discovery"
    )]
    ConstantVariable {
        /// The constant column.
        variable: usize,
        /// Number of samples.
        samples: usize,
    },
    /// The Fisher-z statistic needs n - |S| - 3 > 0.
    #[error(
        "fisher-z: {samples} samples are too few to condition on {conditioning} variables \
         (the test needs more than {conditioning} + 3 samples)"
    )]
    TooFewSamples {
        /// Number of samples.
        samples: usize,
        /// Size of the conditioning set.
        conditioning: usize,
    },
    /// A conditioning set whose correlation matrix is not positive definite.
    #[error(
        "fisher-z: the correlation matrix of variables {variables:?} is singular (one is a \
         linear function of the others); drop duplicated or derived metrics"
    )]
    SingularCorrelation {
        /// The variables of the singular submatrix.
        variables: Vec<usize>,
    },
    /// A variable or node index outside the data or graph.
    #[error("index {index} is out of range: there are {len} variables / nodes")]
    OutOfRange {
        /// The index.
        index: usize,
        /// How many there are.
        len: usize,
    },
    /// An edge from a node to itself.
    #[error("graph: a self-loop on node {0} is not allowed")]
    SelfLoop(usize),
    /// Two graphs (or a graph and a data set) of different sizes.
    #[error("size mismatch: {what} has {found} nodes/variables, expected {expected}")]
    SizeMismatch {
        /// What was compared.
        what: &'static str,
        /// Its size.
        found: usize,
        /// The expected size.
        expected: usize,
    },
    /// A parameter outside its valid range.
    #[error("parameter `{name}` = {value} is invalid: expected {expected}")]
    InvalidParameter {
        /// The parameter's name.
        name: &'static str,
        /// Its value, printed.
        value: String,
        /// What would be valid.
        expected: &'static str,
    },
    /// Normal and abnormal windows that do not fit the data.
    #[error(
        "windows: normal {normal:?} and abnormal {abnormal:?} must be non-empty ranges inside \
         the {samples} samples"
    )]
    InvalidWindow {
        /// The normal period.
        normal: std::ops::Range<usize>,
        /// The abnormal period.
        abnormal: std::ops::Range<usize>,
        /// Number of samples.
        samples: usize,
    },
    /// A graph-based localiser called without a graph.
    #[error("localize: method `{0}` needs a causal graph, and none was given")]
    MissingGraph(&'static str),
    /// The CIRCA generator could not make the SLI move enough.
    #[error(
        "circa: the fault on nodes {causes:?} did not move the SLI by more than {tau} sigma \
         after {doublings} doublings of its magnitude"
    )]
    FaultTooWeak {
        /// The root causes.
        causes: Vec<usize>,
        /// The threshold in standard deviations.
        tau: f64,
        /// How many doublings were tried.
        doublings: u32,
    },
    /// Scores asked for over no cases.
    #[error("scores: no cases to score")]
    NoCases,
    /// A case without a true root cause.
    #[error("scores: case {0} has no true root cause")]
    EmptyTruth(usize),
}
