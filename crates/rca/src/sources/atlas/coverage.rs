//! The documentation-coverage knob: real documentation is incomplete and sometimes wrong.
//! Before synthesis, a seeded share of the stated interactions and metrics is left out of
//! the description files, and another share misstated, so results show how much the
//! data-driven refinement recovers. Both backends read the edited files.
//!
//! Two pools, handled alike: the *interaction statements* (Interactions bullets that name
//! another component) and the *metric statements* (Metrics bullets), over all files of the
//! system, in file and document order. Each pool is shuffled once with the stream
//! `rca/atlas/coverage/<pool>` of the seed; the first round((1 - coverage) N) statements
//! are removed, the next round(misstate N) (at most what is left) misstated:
//!
//! - an interaction statement names a wrong component: every mention of the first
//!   component it names is replaced by another service, drawn uniformly from those that are
//!   neither the file's component nor named in the statement;
//! - a metric statement names a wrong metric: its backticked name is replaced by another
//!   metric of the same component, drawn uniformly from the telemetry's.
//!
//! With one seed, a lower coverage removes a superset of the statements a higher one
//! removes, so results are nested along the knob.

use std::ops::Range;

use simcore::RandomStreams;

use crate::sources::SourceError;
use crate::sources::atlas::docs::{ComponentDocs, SectionKind, mentioned};

/// What the knob did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CoverageReport {
    /// Interaction statements in the files.
    pub interactions: usize,
    /// Metric statements in the files.
    pub metrics: usize,
    /// Interaction statements left out.
    pub interactions_left_out: usize,
    /// Metric statements left out.
    pub metrics_left_out: usize,
    /// Interaction statements misstated.
    pub interactions_misstated: usize,
    /// Metric statements misstated.
    pub metrics_misstated: usize,
}

fn check_share(field: &str, v: f64) -> Result<(), SourceError> {
    if (0.0..=1.0).contains(&v) {
        Ok(())
    } else {
        Err(SourceError::Config {
            field: field.into(),
            message: format!("{v} is not a share in [0, 1]"),
        })
    }
}

/// The files with the knob applied (see the module docs). `metrics`: the telemetry's names.
pub fn apply_coverage(
    docs: &ComponentDocs,
    metrics: &[String],
    coverage: f64,
    misstate: f64,
    seed: u64,
) -> Result<(ComponentDocs, CoverageReport), SourceError> {
    check_share("coverage", coverage)?;
    check_share("misstate", misstate)?;
    let names: Vec<&str> = docs.docs().iter().map(|d| d.component.as_str()).collect();
    // (doc index, lines, text) per pool.
    let mut pools: [Vec<(usize, Range<usize>, String)>; 2] = [Vec::new(), Vec::new()];
    for (d, doc) in docs.docs().iter().enumerate() {
        for st in doc.statements() {
            match st.section {
                SectionKind::Interactions => {
                    let others = mentioned(&st.text, names.iter().copied());
                    if others.iter().any(|n| *n != doc.component) {
                        pools[0].push((d, st.lines, st.text));
                    }
                }
                SectionKind::Metrics => pools[1].push((d, st.lines, st.text)),
            }
        }
    }
    let streams = RandomStreams::new(seed);
    let mut edits: Vec<Vec<(Range<usize>, Option<String>)>> = vec![Vec::new(); docs.docs().len()];
    let mut report = CoverageReport {
        interactions: pools[0].len(),
        metrics: pools[1].len(),
        ..CoverageReport::default()
    };
    for (p, pool) in pools.iter().enumerate() {
        let label = if p == 0 { "interactions" } else { "metrics" };
        let mut rng = streams.stream(&format!("rca/atlas/coverage/{label}"));
        let mut order: Vec<usize> = (0..pool.len()).collect();
        rng.shuffle(&mut order);
        let n = pool.len() as f64;
        let left_out = ((1.0 - coverage) * n).round() as usize;
        let wrong = ((misstate * n).round() as usize).min(pool.len() - left_out.min(pool.len()));
        for (rank, &i) in order.iter().enumerate() {
            let (d, lines, text) = &pool[i];
            let me = docs.docs()[*d].component.as_str();
            if rank < left_out {
                edits[*d].push((lines.clone(), None));
            } else if rank < left_out + wrong {
                let new = if p == 0 {
                    let named = mentioned(text, names.iter().copied());
                    let Some(first) = named.iter().find(|n| *n != me) else { continue };
                    let choices: Vec<&str> = names
                        .iter()
                        .copied()
                        .filter(|c| *c != me && !named.iter().any(|n| n == c))
                        .collect();
                    if choices.is_empty() {
                        continue;
                    }
                    let pick = choices[rng.below(choices.len() as u64) as usize];
                    replace_word(text, first, pick)
                } else {
                    let Some(raw) = text.split('`').nth(1) else { continue };
                    let full =
                        if raw.contains('.') { raw.to_string() } else { format!("{me}.{raw}") };
                    let prefix = format!("{me}.");
                    let choices: Vec<&String> =
                        metrics.iter().filter(|m| m.starts_with(&prefix) && **m != full).collect();
                    if choices.is_empty() {
                        continue;
                    }
                    let pick = choices[rng.below(choices.len() as u64) as usize];
                    text.replacen(&format!("`{raw}`"), &format!("`{pick}`"), 1)
                };
                edits[*d].push((lines.clone(), Some(format!("- {new}"))));
            } else {
                continue;
            }
            let counter = match (p, rank < left_out) {
                (0, true) => &mut report.interactions_left_out,
                (0, false) => &mut report.interactions_misstated,
                (_, true) => &mut report.metrics_left_out,
                (_, false) => &mut report.metrics_misstated,
            };
            *counter += 1;
        }
    }
    let edited = docs.docs().iter().zip(&edits).map(|(doc, e)| doc.edited(e)).collect();
    Ok((docs.with_docs(edited), report))
}

/// `text` with every whole-word mention of `from` replaced by `to`.
fn replace_word(text: &str, from: &str, to: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(k) = rest.find(from) {
        let at = text.len() - rest.len() + k;
        let whole = !mentioned(&text[at..at + from.len()], [from]).is_empty()
            && !text[..at].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            && !text[at + from.len()..]
                .starts_with(|c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        out.push_str(&rest[..k]);
        out.push_str(if whole { to } else { from });
        rest = &rest[k + from.len()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_words_only() {
        assert_eq!(
            replace_word("calls cart and redis-cart; cart.", "cart", "x"),
            "calls x and redis-cart; x."
        );
    }
}
