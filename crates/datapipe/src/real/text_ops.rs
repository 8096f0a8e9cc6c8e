//! The simple text operators: read the line, truncate, add the begin / end tokens, convert to
//! a tensor. Tokenising and the embedding live in `tokenize.rs` and `embedding.rs`.
//!
//! Truncate and the token operators take token ids or a token tensor, so any order the
//! constraints allow runs.

use super::context::RealContext;
use super::data::Data;
use super::error::RealError;
use super::op::RealOp;

/// Tokens kept by `truncate` (cedar: `Truncate(max_seq_len=254)`); with BOS and EOS a
/// sequence has at most 256 tokens.
pub const MAX_SEQ_LEN: usize = 254;
/// The token `add_bos` prepends (cedar: `AddToken(token=0, begin=True)`).
pub const BOS: u32 = 0;
/// The token `add_eos` appends (cedar: `AddToken(token=2, begin=False)`).
pub const EOS: u32 = 2;

/// `read_line`: the sample's line (a copy).
pub fn read_line(ctx: &RealContext, sample: u64, data: Data) -> Result<Data, RealError> {
    let Data::Index(i) = data else {
        return Err(RealOp::ReadLine.wrong("a sample index", &data));
    };
    if ctx.lines.is_empty() {
        return Err(RealError::Operator {
            op: "read_line".into(),
            sample,
            message: "this context has no lines (build it with RealContext::text)".into(),
        });
    }
    Ok(Data::Text(ctx.lines[(i % ctx.lines.len() as u64) as usize].clone()))
}

/// `truncate`: the first 254 tokens.
pub fn truncate(data: Data) -> Result<Data, RealError> {
    match data {
        Data::Tokens(mut t) => {
            t.truncate(MAX_SEQ_LEN);
            Ok(Data::Tokens(t))
        }
        Data::TokenTensor(mut t) => {
            t.truncate(MAX_SEQ_LEN);
            Ok(Data::TokenTensor(t))
        }
        other => Err(RealOp::Truncate.wrong("token ids or a token tensor", &other)),
    }
}

fn add(op: RealOp, data: Data, token: u32, begin: bool) -> Result<Data, RealError> {
    match data {
        Data::Tokens(mut t) => {
            if begin {
                t.insert(0, token);
            } else {
                t.push(token);
            }
            Ok(Data::Tokens(t))
        }
        Data::TokenTensor(mut t) => {
            if begin {
                t.insert(0, i64::from(token));
            } else {
                t.push(i64::from(token));
            }
            Ok(Data::TokenTensor(t))
        }
        other => Err(op.wrong("token ids or a token tensor", &other)),
    }
}

/// `add_bos`: prepend token 0.
pub fn add_bos(data: Data) -> Result<Data, RealError> {
    add(RealOp::AddBos, data, BOS, true)
}

/// `add_eos`: append token 2.
pub fn add_eos(data: Data) -> Result<Data, RealError> {
    add(RealOp::AddEos, data, EOS, false)
}

/// `to_tensor`: token ids to 64-bit integers.
pub fn to_tensor(data: Data) -> Result<Data, RealError> {
    let Data::Tokens(t) = data else {
        return Err(RealOp::ToTensor.wrong("token ids", &data));
    };
    Ok(Data::TokenTensor(t.into_iter().map(i64::from).collect()))
}
