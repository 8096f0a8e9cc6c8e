//! A pipeline: operators in data-flow order (position 0 is the source), checked once, with
//! the per-sample cost and sizes of any legal reordering of it.

use simcore::InputError;

use crate::operator::Operator;

/// A validated pipeline.
#[derive(Clone, Debug, PartialEq)]
pub struct Pipeline {
    /// Name (a preset's name, or the user's).
    pub name: String,
    /// Operators in the given order; `ops[0]` is the source.
    pub ops: Vec<Operator>,
    /// Measured throughput of the whole pipeline in one process, samples/s, if the profile
    /// has one (cedar's profiles do). Per-operator latencies are then rescaled so that they
    /// add up to its inverse (cedar's cost model: an operator's share of the latency times
    /// the measured per-sample time).
    pub baseline_throughput: Option<f64>,
    /// Local disk read cost for a cache, seconds per byte, if the profile measured it.
    pub disk_read_s_per_byte: Option<f64>,
    /// Local disk write cost for a cache, seconds per byte, if the profile measured it.
    pub disk_write_s_per_byte: Option<f64>,
    /// Measured throughput with one operator offloaded, per backend (`SMP`: a local process
    /// pool, `RAY`: remote workers): (operator index, samples/s). Empty for user pipelines.
    pub offload_runs: std::collections::BTreeMap<String, Vec<(usize, f64)>>,
}

impl Pipeline {
    /// Checks a pipeline and applies the baseline rescaling. `source` names where it came
    /// from in errors (`workload.pipeline.ops[3]` or a file).
    pub fn new(
        name: String,
        mut ops: Vec<Operator>,
        baseline_throughput: Option<f64>,
        source: &str,
    ) -> Result<Pipeline, InputError> {
        if ops.is_empty() {
            return Err(InputError::at(source, "a pipeline needs at least one operator"));
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, op) in ops.iter().enumerate() {
            let at = format!("{source}[{i}] ({})", op.name);
            if !seen.insert(op.name.as_str()) {
                return Err(InputError::at(at, "operator names must be unique in a pipeline"));
            }
            if !(op.latency_s.is_finite() && op.latency_s >= 0.0) {
                return Err(InputError::at(at, "latency must be a finite number >= 0"));
            }
            if !(op.out_bytes.is_finite() && op.out_bytes > 0.0) {
                return Err(InputError::at(
                    at,
                    "output size must be > 0 bytes (an operator that gives nothing has no place in a pipeline)",
                ));
            }
            if !(op.in_bytes.is_finite() && op.in_bytes >= 0.0) {
                return Err(InputError::at(at, "input size must be a finite number >= 0"));
            }
            if i > 0 && op.in_bytes == 0.0 {
                return Err(InputError::at(
                    at,
                    "only the source (first operator) may take 0 bytes",
                ));
            }
        }
        if let Some(t) = baseline_throughput {
            if !(t.is_finite() && t > 0.0) {
                return Err(InputError::at(source, "baseline throughput must be > 0 samples/s"));
            }
            let total: f64 = ops.iter().map(|o| o.latency_s).sum();
            if total <= 0.0 {
                return Err(InputError::at(source, "the operators' latencies add up to 0"));
            }
            let scale = (1.0 / t) / total;
            for op in &mut ops {
                op.latency_s *= scale;
            }
        }
        ops[0].fixed = true;
        let p = Pipeline {
            name,
            ops,
            baseline_throughput,
            disk_read_s_per_byte: None,
            disk_write_s_per_byte: None,
            offload_runs: Default::default(),
        };
        crate::order::check_constraints(&p, source)?;
        Ok(p)
    }

    /// Number of operators.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether it has no operators (never, once built).
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// The identity order.
    pub fn given_order(&self) -> Vec<usize> {
        (0..self.ops.len()).collect()
    }

    /// Per-operator (cost s, in bytes, out bytes) when run in `order` (indices into `ops`).
    pub fn costs(&self, order: &[usize]) -> Vec<OpCost> {
        let mut bytes = 0.0;
        order
            .iter()
            .map(|&i| {
                let op = &self.ops[i];
                let in_b = bytes;
                let cost = op.cost_at(in_b);
                bytes = op.out_at(in_b);
                OpCost { op: i, cost_s: cost, in_bytes: in_b, out_bytes: bytes }
            })
            .collect()
    }

    /// CPU seconds per sample of the whole pipeline in `order`.
    pub fn total_cost(&self, order: &[usize]) -> f64 {
        self.costs(order).iter().map(|c| c.cost_s).sum()
    }

    /// Index of the first random operator in `order`, if any.
    pub fn first_random(&self, order: &[usize]) -> Option<usize> {
        order.iter().position(|&i| self.ops[i].random)
    }
}

/// One operator's cost and sizes in a given order.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OpCost {
    /// Index into the pipeline's operators.
    pub op: usize,
    /// CPU seconds per sample.
    pub cost_s: f64,
    /// Bytes in per sample.
    pub in_bytes: f64,
    /// Bytes out per sample.
    pub out_bytes: f64,
}
