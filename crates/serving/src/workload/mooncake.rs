//! Mooncake's traces (Qin et al., FAST 2025; kvcache-ai/Mooncake `FAST25-release/traces`):
//! one JSON object a line with `timestamp` (ms from the start), `input_length`,
//! `output_length` (tokens) and `hash_ids`, the ids of the prompt's 512-token blocks (equal
//! ids: the same block of text, so equal leading ids are a shared prefix).
//!
//! The prompt is one piece per block: block i is span `TRACE_SPAN_BASE + hash_ids[i]`, tokens
//! 0..512, and the last block is cut to what `input_length` leaves. Two requests whose first
//! two ids agree therefore share exactly 1,024 prefix tokens (if both are that long). A line
//! must have exactly ceil(input_length / 512) ids.

use serde_json::{Map, Value};
use simcore::{InputError, SimTime};

use super::builder::TRACE_SPAN_BASE;
use super::trace::TraceRequest;
use crate::Tokens;

/// Tokens per hash block.
pub const BLOCK_TOKENS: u64 = 512;

/// Parses the JSONL `text` of file `name`, at most `limit` requests.
pub fn parse(name: &str, text: &str, limit: usize) -> Result<Vec<TraceRequest>, InputError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if out.len() >= limit {
            break;
        }
        let line_no = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let err = |m: String| InputError::data(name, line_no, m);
        let value: Value =
            serde_json::from_str(line).map_err(|e| err(format!("not a JSON object: {e}")))?;
        let Value::Object(obj) = value else {
            return Err(err("not a JSON object".into()));
        };
        let timestamp =
            number(&obj, "timestamp").filter(|t| t.is_finite() && *t >= 0.0).ok_or_else(|| {
                err(field_msg(&obj, "timestamp", "a non-negative number of milliseconds"))
            })?;
        let input = whole(&obj, "input_length").filter(|&n| n >= 1).ok_or_else(|| {
            err(field_msg(&obj, "input_length", "a whole number of tokens, at least 1"))
        })?;
        let output = whole(&obj, "output_length")
            .filter(|&n| (1..=u64::from(u32::MAX)).contains(&n))
            .ok_or_else(|| {
                err(field_msg(&obj, "output_length", "a whole number of tokens, at least 1"))
            })?;
        let ids = match obj.get("hash_ids") {
            Some(Value::Array(a)) => a,
            _ => return Err(err(field_msg(&obj, "hash_ids", "an array of block ids"))),
        };
        let blocks = input.div_ceil(BLOCK_TOKENS);
        if ids.len() as u64 != blocks {
            return Err(err(format!(
                "field `hash_ids`: {} ids, but input_length {input} needs {blocks} blocks of {BLOCK_TOKENS} tokens",
                ids.len()
            )));
        }
        let mut prompt = Tokens::new();
        let mut left = input;
        for (k, id) in ids.iter().enumerate() {
            let id = id.as_u64().filter(|&h| h < TRACE_SPAN_BASE).ok_or_else(|| {
                err(format!(
                    "field `hash_ids`: entry {k} ({id}) is not a block id (a whole number)"
                ))
            })?;
            let len = left.min(BLOCK_TOKENS);
            prompt.push_span(TRACE_SPAN_BASE + id, 0, len as u32);
            left -= len;
        }
        out.push(TraceRequest {
            arrival: SimTime::from_secs_f64(timestamp / 1000.0),
            prompt,
            output_tokens: output as u32,
        });
    }
    Ok(out)
}

fn number(obj: &Map<String, Value>, key: &str) -> Option<f64> {
    obj.get(key).and_then(Value::as_f64)
}

fn whole(obj: &Map<String, Value>, key: &str) -> Option<u64> {
    obj.get(key).and_then(Value::as_u64)
}

fn field_msg(obj: &Map<String, Value>, key: &str, expected: &str) -> String {
    match obj.get(key) {
        None => format!("field `{key}` is missing (expected {expected})"),
        Some(v) => format!("field `{key}`: {v} is not {expected}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_block_is_cut_to_the_input_length() {
        let text = "{\"timestamp\": 2.5, \"input_length\": 513, \"output_length\": 2, \"hash_ids\": [0, 7]}";
        let r = parse("t.jsonl", text, usize::MAX).unwrap();
        assert_eq!(r[0].prompt.len(), 513);
        let pieces = r[0].prompt.pieces();
        assert_eq!((pieces[0].span, pieces[0].len), (TRACE_SPAN_BASE, 512));
        assert_eq!((pieces[1].span, pieces[1].len), (TRACE_SPAN_BASE + 7, 1));
        assert_eq!(r[0].arrival, SimTime::from_micros(2500));
    }

    #[test]
    fn bad_fields_are_named() {
        let e = parse("t.jsonl", "{\"timestamp\": -1}", 10).unwrap_err().to_string();
        assert!(e.starts_with("t.jsonl:1: field `timestamp`"), "{e}");
        let e = parse("t.jsonl", "\n[1, 2]", 10).unwrap_err().to_string();
        assert!(e.starts_with("t.jsonl:2: not a JSON object"), "{e}");
        let line =
            "{\"timestamp\": 0, \"input_length\": 5, \"output_length\": 0, \"hash_ids\": [1]}";
        let e = parse("t.jsonl", line, 10).unwrap_err().to_string();
        assert!(e.contains("field `output_length`"), "{e}");
        let line =
            "{\"timestamp\": 0, \"input_length\": 5, \"output_length\": 1, \"hash_ids\": [\"a\"]}";
        let e = parse("t.jsonl", line, 10).unwrap_err().to_string();
        assert!(e.contains("field `hash_ids`: entry 0"), "{e}");
    }
}
