//! `embedding`: look every token of a sequence up in a `50257 x dim` float table, as
//! PyTorch's `nn.Embedding(50257, 764)` in cedar's chain.
//!
//! The table is random (the pipeline measures data movement, not a trained model): values
//! uniform in `[-sqrt(3), sqrt(3)]` (zero mean, unit variance, like `nn.Embedding`'s
//! N(0, 1) initialisation), drawn once from the seed. At dimension 764 it holds 154 MB.

use simcore::RandomStreams;

use super::context::RealContext;
use super::data::Data;
use super::error::RealError;
use super::op::RealOp;

/// GPT-2's vocabulary size (cedar: `Embedding(50257, 764)`).
pub const GPT2_VOCAB: usize = 50257;
/// cedar's embedding dimension.
pub const DEFAULT_DIM: usize = 764;

/// A `rows x dim` float table, row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct EmbeddingTable {
    rows: usize,
    dim: usize,
    values: Vec<f32>,
}

impl EmbeddingTable {
    /// A random table, deterministic from `seed`.
    pub fn random(rows: usize, dim: usize, seed: u64) -> Result<EmbeddingTable, RealError> {
        if rows == 0 || dim == 0 {
            return Err(RealError::Input(format!(
                "an embedding table needs rows and dim >= 1 (got {rows} x {dim})"
            )));
        }
        let n = rows.checked_mul(dim).filter(|n| *n <= (1 << 32)).ok_or_else(|| {
            RealError::Input(format!("an embedding table of {rows} x {dim} is too large"))
        })?;
        let mut rng = RandomStreams::new(seed).stream("real/embedding");
        let a = 3.0f64.sqrt();
        let values = (0..n).map(|_| ((2.0 * rng.next_f64() - 1.0) * a) as f32).collect();
        Ok(EmbeddingTable { rows, dim, values })
    }

    /// Rows (the vocabulary size).
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Values per row.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Row `id`, if it exists.
    pub fn row(&self, id: usize) -> Option<&[f32]> {
        (id < self.rows).then(|| &self.values[id * self.dim..(id + 1) * self.dim])
    }
}

/// The operator: token ids or a token tensor to a `len x dim` float matrix.
pub fn embed(ctx: &RealContext, sample: u64, data: Data) -> Result<Data, RealError> {
    let table = ctx.table.as_ref().ok_or_else(|| RealError::Operator {
        op: "embedding".into(),
        sample,
        message: "this context has no embedding table (build it with RealContext::text)".into(),
    })?;
    let ids: Vec<i64> = match data {
        Data::Tokens(t) => t.into_iter().map(i64::from).collect(),
        Data::TokenTensor(t) => t,
        other => return Err(RealOp::Embedding.wrong("token ids or a token tensor", &other)),
    };
    let mut out = Vec::with_capacity(ids.len() * table.dim);
    for &id in &ids {
        let row = usize::try_from(id).ok().and_then(|i| table.row(i)).ok_or_else(|| {
            RealError::Operator {
                op: "embedding".into(),
                sample,
                message: format!("token id {id} is outside the table (0..{})", table.rows),
            }
        })?;
        out.extend_from_slice(row);
    }
    Ok(Data::Embedded { rows: ids.len(), dim: table.dim, data: out })
}
