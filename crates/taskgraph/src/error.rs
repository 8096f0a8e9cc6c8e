//! Errors of building and executing task graphs.

/// What can go wrong with a task graph.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    /// A dependency on an operation that does not exist.
    #[error(
        "op `{op}` (#{op_id}) depends on op #{missing}, which does not exist (the graph has {len} ops)"
    )]
    DanglingDependency {
        /// Name of the dependent op.
        op: String,
        /// Its id.
        op_id: u32,
        /// The missing id.
        missing: u32,
        /// Number of ops.
        len: usize,
    },
    /// A dependency on an operation name that no op has (spec files).
    #[error("op `{op}` depends on `{missing}`, which is not an op name{suggestion}")]
    UnknownName {
        /// Name of the dependent op.
        op: String,
        /// The unknown name.
        missing: String,
        /// "did you mean" hint.
        suggestion: String,
    },
    /// Two ops with one name in a spec file.
    #[error("two ops are named `{0}`; names in a task-graph file must be unique")]
    DuplicateName(String),
    /// The dependencies form a cycle.
    #[error("dependency cycle: {}", .0.join(" -> "))]
    Cycle(Vec<String>),
    /// An op that the cluster cannot run (bad GPU index, missing dtype, missing SSD...).
    #[error("op `{op}`: {source}")]
    Device {
        /// Name of the op.
        op: String,
        /// Why.
        source: cluster::ClusterError,
    },
    /// An op with an invalid number (negative bytes, NaN FLOPs, unknown stream).
    #[error("op `{op}`: {message}")]
    InvalidOp {
        /// Name of the op.
        op: String,
        /// Why.
        message: String,
    },
    /// Execution ended with ops that never ran (a model bug; should not happen).
    #[error("execution stalled with {stalled} ops unfinished, e.g. `{example}`")]
    Stalled {
        /// How many ops never finished.
        stalled: usize,
        /// One of them.
        example: String,
    },
}
