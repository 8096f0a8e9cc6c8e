//! Helpers shared by the datapipe tests.
#![allow(dead_code)]

use datapipe::operator::Operator;
use datapipe::pipeline::Pipeline;

/// An operator with `ms` per sample, `inb` -> `outb` bytes.
pub fn op(name: &str, ms: f64, inb: f64, outb: f64) -> Operator {
    Operator {
        name: name.into(),
        latency_s: ms * 1e-3,
        in_bytes: inb,
        out_bytes: outb,
        random: false,
        fixed: false,
        tag: None,
        depends_on: Vec::new(),
        gil: false,
    }
}

/// A pipeline from operators (no baseline rescaling).
pub fn pipeline(ops: Vec<Operator>) -> Pipeline {
    Pipeline::new("test".into(), ops, None, "test").unwrap()
}
