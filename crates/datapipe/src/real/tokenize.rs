//! `tokenize`: GPT-2's byte-level BPE (`r50k_base`, 50257 tokens) from `tiktoken-rs`, which
//! ships the vocabulary inside the crate (nothing is downloaded).
//!
//! cedar's chain tokenises with torchtext's `GPT2BPETokenizer` (token ids as strings) and
//! then maps them to integers with a `VocabTransform`; the tokenizer here gives integer ids
//! directly, so this one operator stands for both of cedar's pipes.

use super::context::RealContext;
use super::data::Data;
use super::error::RealError;
use super::op::RealOp;

/// The operator: a text line to token ids (no special tokens are recognised).
pub fn tokenize(ctx: &RealContext, data: Data) -> Result<Data, RealError> {
    let Data::Text(line) = data else {
        return Err(RealOp::Tokenize.wrong("a text line", &data));
    };
    let bpe = ctx.bpe.as_ref().ok_or_else(|| {
        RealError::Tokenizer(
            "this context has no tokenizer (build it with RealContext::text)".into(),
        )
    })?;
    Ok(Data::Tokens(bpe.encode_ordinary(&line)))
}
