//! Pipelines in configs: a preset name, an inline list of operators, or a profile file in
//! cedar's format. Every error names the field (`workload.pipeline.ops[2].out_bytes`) or the
//! file and line.

use serde_json::Value;
use simcore::InputError;
use std::path::Path;

use simcore::data::resolve;

use crate::operator::Operator;
use crate::pipeline::Pipeline;
use crate::presets;
use crate::profile::{read_ops, read_runs};

const OP_FIELDS: &[&str] =
    &["name", "latency_ms", "in_bytes", "out_bytes", "random", "fixed", "tag", "depends_on", "gil"];

/// Reads `workload.pipeline`.
pub fn read_pipeline(v: &Value) -> Result<Pipeline, InputError> {
    const AT: &str = "workload.pipeline";
    match v {
        Value::String(name) => presets::load_named(name),
        Value::Object(m) if m.contains_key("profile") => {
            for k in m.keys() {
                if !["profile", "name", "runs"].contains(&k.as_str()) {
                    return Err(InputError::at(
                        format!("{AT}.{k}"),
                        "unknown field; a profile pipeline takes profile, name, runs",
                    ));
                }
            }
            let path = text(m.get("profile"), &format!("{AT}.profile"))?;
            let file = resolve(Path::new(path))
                .map_err(|e| InputError::at(format!("{AT}.profile"), e.to_string()))?;
            let chosen = m.get("name").and_then(Value::as_str);
            let ops = read_ops(&file, chosen)?;
            let baseline = match m.get("runs") {
                None => None,
                Some(r) => {
                    let rp = text(Some(r), &format!("{AT}.runs"))?;
                    let rf = resolve(Path::new(rp))
                        .map_err(|e| InputError::at(format!("{AT}.runs"), e.to_string()))?;
                    read_runs(&rf, &ops.profile)?.baseline_sps
                }
            };
            Pipeline::new(ops.profile.clone(), ops.ops, baseline, &file.display().to_string())
        }
        Value::Object(m) => {
            for k in m.keys() {
                if !["name", "ops", "baseline_throughput"].contains(&k.as_str()) {
                    return Err(InputError::at(
                        format!("{AT}.{k}"),
                        "unknown field; an inline pipeline takes name, ops, baseline_throughput (or profile, name, runs for a profile file)",
                    ));
                }
            }
            let name = m.get("name").and_then(Value::as_str).unwrap_or("custom").to_string();
            let Some(Value::Array(list)) = m.get("ops") else {
                return Err(InputError::at(format!("{AT}.ops"), "a list of operators is required"));
            };
            let ops = list
                .iter()
                .enumerate()
                .map(|(i, o)| read_op(o, &format!("{AT}.ops[{i}]")))
                .collect::<Result<Vec<_>, _>>()?;
            let baseline = match m.get("baseline_throughput") {
                None | Some(Value::Null) => None,
                Some(x) => Some(x.as_f64().ok_or_else(|| {
                    InputError::at(
                        format!("{AT}.baseline_throughput"),
                        "must be a number (samples/s)",
                    )
                })?),
            };
            Pipeline::new(name, ops, baseline, &format!("{AT}.ops"))
        }
        _ => {
            let names: Vec<&str> = presets::PRESETS.iter().map(|p| p.name).collect();
            Err(InputError::at(
                AT,
                format!("a preset name ({}) or a mapping with ops or profile", names.join(", ")),
            ))
        }
    }
}

fn text<'a>(v: Option<&'a Value>, at: &str) -> Result<&'a str, InputError> {
    v.and_then(Value::as_str).ok_or_else(|| InputError::at(at, "a path is required"))
}

fn read_op(v: &Value, at: &str) -> Result<Operator, InputError> {
    let Value::Object(m) = v else {
        return Err(InputError::at(
            at,
            "an operator is a mapping with name, latency_ms, in_bytes, out_bytes",
        ));
    };
    for k in m.keys() {
        if !OP_FIELDS.contains(&k.as_str()) {
            return Err(InputError::at(
                format!("{at}.{k}"),
                format!("unknown field; an operator takes {}", OP_FIELDS.join(", ")),
            ));
        }
    }
    let num = |k: &str, required: bool| -> Result<f64, InputError> {
        match m.get(k) {
            None if !required => Ok(0.0),
            None => Err(InputError::at(format!("{at}.{k}"), "missing (a number is required)")),
            Some(x) => x
                .as_f64()
                .filter(|x| x.is_finite())
                .ok_or_else(|| InputError::at(format!("{at}.{k}"), "must be a number")),
        }
    };
    let flag = |k: &str| -> Result<bool, InputError> {
        match m.get(k) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(InputError::at(format!("{at}.{k}"), "must be true or false")),
        }
    };
    let name = m
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| InputError::at(format!("{at}.name"), "missing (a name is required)"))?
        .to_string();
    let depends_on = match m.get("depends_on") {
        None => Vec::new(),
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| {
                x.as_str().map(String::from).ok_or_else(|| {
                    InputError::at(format!("{at}.depends_on"), "a tag or a list of tags")
                })
            })
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(InputError::at(format!("{at}.depends_on"), "a tag or a list of tags"));
        }
    };
    let out_bytes = num("out_bytes", true)?;
    if out_bytes <= 0.0 {
        return Err(InputError::at(
            format!("{at}.out_bytes"),
            format!("operator `{name}` gives {out_bytes} bytes; the output size must be > 0"),
        ));
    }
    Ok(Operator {
        name,
        latency_s: num("latency_ms", true)? * 1e-3,
        in_bytes: num("in_bytes", false)?,
        out_bytes,
        random: flag("random")?,
        fixed: flag("fixed")?,
        tag: m.get("tag").and_then(Value::as_str).map(String::from),
        depends_on,
        gil: flag("gil")?,
    })
}
