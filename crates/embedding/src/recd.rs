//! RecD deduplication (Zhao et al., MLSys'23; the reference's description): batches are formed
//! from whole user sessions and every feature's values are deduplicated within the batch (an
//! inverse-keyed jagged tensor: the unique values plus an inverse index per sample), so
//! lookups, all-to-all bytes and pooled outputs scale with the number of unique values `U`
//! instead of the batch `B`. It is a switch (`dedup`) on any plan.
//!
//! With sessions of mean length `S`, a batch of `B` samples holds `B / S` sessions. For a
//! session-level feature (the same values for every sample of a session) the values to look
//! up are those of the `B / S` sessions, `B lambda / S` lookups, of which
//! `U = E[unique]((B / S) lambda)` are distinct under the table's row popularity
//! ([`Popularity::expected_unique`]); its pooled outputs are one per session (`1 / S` of the
//! samples). For any other feature the values of all `B` samples are deduplicated:
//! `U = E[unique](B lambda)`, pooled outputs unchanged. The lookup scale is `U / (B lambda)`.
//! The inverse indices (4 bytes per sample and feature) are not modelled (assumption: small
//! beside the embedding rows).

use crate::config::SessionSpec;
use crate::error::EmbeddingError;
use crate::tables::Table;

/// Whether table `j` of `n` is session-level when its spec does not say: an even spread of
/// `share` of the tables (table `j` is if `floor((j + 1) share) > floor(j share)`).
pub fn session_level_by_share(j: usize, share: f64) -> bool {
    ((j + 1) as f64 * share).floor() > (j as f64 * share).floor()
}

/// Per table, the (lookup, pooled output) scale with deduplication on (`(1, 1)` when off).
pub fn scales(
    tables: &[Table],
    batch: f64,
    sessions: Option<&SessionSpec>,
    dedup: bool,
) -> Result<Vec<(f64, f64)>, EmbeddingError> {
    if !dedup {
        return Ok(vec![(1.0, 1.0); tables.len()]);
    }
    let Some(s) = sessions else {
        return Err(EmbeddingError::Invalid {
            field: "params.dedup".into(),
            message: "deduplication needs a session model: set workload.sessions.mean_length"
                .into(),
        });
    };
    if !(s.mean_length >= 1.0 && s.mean_length.is_finite()) {
        return Err(EmbeddingError::invalid("sessions.mean_length", "must be at least 1"));
    }
    if !(0.0..=1.0).contains(&s.session_share) {
        return Err(EmbeddingError::invalid("sessions.session_share", "must be between 0 and 1"));
    }
    Ok(tables
        .iter()
        .enumerate()
        .map(|(j, t)| {
            let lambda = t.spec.lookups_per_sample();
            let lookups = batch * lambda;
            let session =
                t.spec.session_level.unwrap_or_else(|| session_level_by_share(j, s.session_share));
            let (draws, out) = if session {
                (lookups / s.mean_length, 1.0 / s.mean_length)
            } else {
                (lookups, 1.0)
            };
            let unique = t.popularity.expected_unique(draws).min(draws);
            (
                (unique / lookups.max(1e-300)).clamp(0.0, 1.0),
                if t.spec.sequence { 1.0 } else { out },
            )
        })
        .collect())
}
