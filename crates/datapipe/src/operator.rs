//! One operator of an input pipeline (read, decode, crop, tokenize, ...): its profiled cost
//! per sample, the bytes it takes and gives, and the constraints on moving it.

/// One operator as profiled: latency at the profiled input size, sizes, constraints.
#[derive(Clone, Debug, PartialEq)]
pub struct Operator {
    /// Name (cedar's pipe name for the presets).
    pub name: String,
    /// CPU seconds per sample at the profiled input size, on one core of the profiling host.
    pub latency_s: f64,
    /// Mean bytes per sample into the operator at profiling time (0 for the source).
    pub in_bytes: f64,
    /// Mean bytes per sample out of the operator at profiling time (> 0).
    pub out_bytes: f64,
    /// Its output differs per epoch (augmentation): nothing after it can be cached.
    pub random: bool,
    /// May not be moved by a reordering optimizer (sources always are).
    pub fixed: bool,
    /// Tag other operators may depend on.
    pub tag: Option<String>,
    /// Tags this operator must stay downstream of.
    pub depends_on: Vec<String>,
    /// It runs Python code holding the interpreter lock: threads of one process cannot run it
    /// in parallel (PyTorch-style per-sample operators, TensorFlow `py_func`s).
    pub gil: bool,
}

impl Operator {
    /// Output bytes per input byte (1 for the source, which has no input).
    pub fn size_ratio(&self) -> f64 {
        if self.in_bytes > 0.0 { self.out_bytes / self.in_bytes } else { 1.0 }
    }

    /// CPU seconds for one sample whose input is `in_bytes` (cedar's model: cost scales with
    /// the input size relative to the profiled one; a source's cost does not scale).
    pub fn cost_at(&self, in_bytes: f64) -> f64 {
        if self.in_bytes > 0.0 { self.latency_s * in_bytes / self.in_bytes } else { self.latency_s }
    }

    /// Bytes out for an input of `in_bytes` (a source gives its profiled output).
    pub fn out_at(&self, in_bytes: f64) -> f64 {
        if self.in_bytes > 0.0 { in_bytes * self.size_ratio() } else { self.out_bytes }
    }
}
