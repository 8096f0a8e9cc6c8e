//! "Did you mean ...?" suggestions for misspelt names (config fields, presets, catalog parts).

/// Edit distance between two strings, by characters: insertions, deletions, substitutions
/// and transpositions of adjacent characters each cost 1 (the "optimal string alignment"
/// variant of Damerau-Levenshtein), so `rign` is one edit from `ring`.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let w = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * w];
    for (i, row) in d.chunks_mut(w).enumerate() {
        row[0] = i;
    }
    for (j, cell) in d.iter_mut().take(w).enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[(i - 1) * w + j] + 1)
                .min(d[i * w + j - 1] + 1)
                .min(d[(i - 1) * w + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[(i - 2) * w + j - 2] + 1);
            }
            d[i * w + j] = v;
        }
    }
    d[a.len() * w + b.len()]
}

/// The candidate closest to `name`, if it is a plausible typo: at most a third of the name's
/// length (and at least 1) edits away, case-insensitively; failing that, the shortest candidate
/// that `name` abbreviates (`busbw` for `busbw_gbs`).
pub fn nearest<'a, I>(name: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let lower = name.to_lowercase();
    let limit = (name.chars().count() / 3).max(1);
    let all: Vec<&'a str> = candidates.into_iter().collect();
    let close = all
        .iter()
        .map(|&c| (edit_distance(&lower, &c.to_lowercase()), c))
        .filter(|&(d, _)| d <= limit)
        .min_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)))
        .map(|(_, c)| c);
    close.or_else(|| {
        (lower.chars().count() >= 3)
            .then(|| {
                all.iter()
                    .copied()
                    .filter(|c| c.to_lowercase().starts_with(&lower))
                    .min_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)))
            })
            .flatten()
    })
}

/// " (did you mean `x`?)" or "" — ready to append to an error message.
pub fn did_you_mean<'a, I>(name: &str, candidates: I) -> String
where
    I: IntoIterator<Item = &'a str>,
{
    match nearest(name, candidates) {
        Some(c) => format!(" (did you mean `{c}`?)"),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
        assert_eq!(edit_distance("rign", "ring"), 1, "adjacent transposition");
    }

    #[test]
    fn suggests_close_names_only() {
        let presets = ["dgx-a100", "dgx-h100", "cloud-a100-100g"];
        assert_eq!(nearest("dgx-h10", presets), Some("dgx-h100"));
        assert_eq!(nearest("DGX-A100", presets), Some("dgx-a100"));
        assert_eq!(nearest("tpu-v5", presets), None);
        assert_eq!(nearest("busbw", ["time_s", "busbw_gbs", "algbw_gbs"]), Some("busbw_gbs"));
        assert_eq!(nearest("dg", presets), None, "too short to abbreviate");
        assert_eq!(did_you_mean("dgx-h1000", presets), " (did you mean `dgx-h100`?)");
    }
}
