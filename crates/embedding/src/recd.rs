//! RecD deduplication (Zhao et al., MLSys'23; the reference's description): batches are formed
//! from whole user sessions and every feature's values are deduplicated within the batch (an
//! inverse-keyed jagged tensor: the unique values plus an inverse index per sample), so
//! lookups, all-to-all bytes and pooled outputs scale with the number of unique values `U`
//! instead of the batch `B`. It is a switch (`dedup`) on any plan.
//!
//! Each trainer deduplicates its own batch of `b = B / G` samples (the jagged tensors are
//! built per trainer). With sessions of mean length `S`, a batch of `b` samples holds `b / S`
//! sessions (whatever the length distribution, with whole sessions per batch). For a
//! session-level feature (the same values for every sample of a session) the values to look
//! up are those of the `b / S` sessions, `b lambda / S` lookups, of which
//! `U = E[unique]((b / S) lambda)` are distinct under the table's row popularity
//! ([`Popularity::expected_unique`]); its pooled outputs are one per session (`1 / S` of the
//! samples). For any other feature the values of all `b` samples are deduplicated:
//! `U = E[unique](b lambda)`, pooled outputs unchanged. The lookup scale is `U / (b lambda)`.
//! Deduplication removes repeats of hot rows most, so the lookups left are colder: the share
//! served from HBM becomes [`dedup_hit`].
//! The inverse indices (4 bytes per sample and feature) are not modelled (assumption: small
//! beside the embedding rows).

use crate::access::Popularity;
use crate::config::SessionSpec;
use crate::tables::Table;
use simcore::InputError;

/// Whether table `j` of `n` is session-level when its spec does not say: an even spread of
/// `share` of the tables (table `j` is if `floor((j + 1) share) > floor(j share)`).
pub fn session_level_by_share(j: usize, share: f64) -> bool {
    ((j + 1) as f64 * share).floor() > (j as f64 * share).floor()
}

/// What deduplication leaves of one table's step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scale {
    /// Share of the lookups (and ids, and sequence outputs) left.
    pub lookups: f64,
    /// Share of the pooled outputs left.
    pub outputs: f64,
    /// Values one trainer deduplicates per step (0 without deduplication).
    pub draws: f64,
}

impl Default for Scale {
    fn default() -> Scale {
        Scale { lookups: 1.0, outputs: 1.0, draws: 0.0 }
    }
}

/// The share of one trainer's deduplicated lookups of `pop` that fall on its hottest rows
/// when `hit` of its plain lookups do: the hottest `x` rows with `F(x) = hit` receive
/// `draws F(x)` of the `draws` lookups, Zipf over themselves, so they keep
/// `E[unique over x rows](draws F(x))` of the `E[unique](draws)` distinct rows.
pub fn dedup_hit(pop: &Popularity, hit: f64, draws: f64) -> f64 {
    if draws <= 0.0 || hit <= 0.0 || hit >= 1.0 {
        return hit;
    }
    let x = pop.rows_for_share(hit).max(1);
    let hot = Popularity::new(x, pop.alpha).expected_unique(draws * pop.hot_share(x));
    let all = pop.expected_unique(draws);
    if all > 0.0 { (hot / all).clamp(0.0, hit) } else { hit }
}

/// Per table, what deduplication leaves with each trainer deduplicating its own `batch`
/// samples (default [`Scale`] when off).
pub fn scales(
    tables: &[Table],
    batch: f64,
    sessions: Option<&SessionSpec>,
    dedup: bool,
) -> Result<Vec<Scale>, InputError> {
    if !dedup {
        return Ok(vec![Scale::default(); tables.len()]);
    }
    let Some(s) = sessions else {
        return Err(InputError::Invalid {
            field: "params.dedup".into(),
            message: "deduplication needs a session model: set workload.sessions.mean_length"
                .into(),
        });
    };
    if !(s.mean_length >= 1.0 && s.mean_length.is_finite()) {
        return Err(InputError::invalid("sessions.mean_length", "must be at least 1"));
    }
    if !(0.0..=1.0).contains(&s.session_share) {
        return Err(InputError::invalid("sessions.session_share", "must be between 0 and 1"));
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
            Scale {
                lookups: (unique / lookups.max(1e-300)).clamp(0.0, 1.0),
                outputs: if t.spec.sequence { 1.0 } else { out },
                draws,
            }
        })
        .collect())
}
