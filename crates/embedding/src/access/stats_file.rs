//! The parser of the production locality stats files (facebookresearch/dlrm_datasets): one
//! [`LocalityBlock`] per batch (lookups, distinct rows, the two reuse histograms), gathered in
//! [`LocalityStats`] with their means; errors name the file and line.

use super::{BUCKET_LABELS, BUCKETS, ReuseHistogram};
use simcore::InputError;
use std::path::Path;

/// One block of a locality stats file.
#[derive(Clone, Debug, PartialEq)]
pub struct LocalityBlock {
    /// The block's name line, e.g. `fbgemm_t788_bs131072_0.pt`.
    pub name: String,
    /// Samples per batch.
    pub batch_size: u64,
    /// Lookups (indices) per batch, all tables together.
    pub lookups: f64,
    /// Distinct rows (over all tables) per batch.
    pub unique_rows: f64,
    /// Mean lookups per distinct row, as printed (1 decimal).
    pub mean_reuse: f64,
    /// The two reuse histograms.
    pub histogram: ReuseHistogram,
}

impl LocalityBlock {
    /// Number of tables from a name like `fbgemm_t788_bs131072_0.pt` (the `t<digits>` part).
    pub fn tables(&self) -> Option<u64> {
        self.name
            .split(['_', '.'])
            .filter_map(|part| part.strip_prefix('t'))
            .find(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|d| d.parse().ok())
            .filter(|t| *t > 0)
    }
}

/// A parsed locality stats file; errors name the file and line ([`InputError::Data`]).
#[derive(Clone, Debug, PartialEq)]
pub struct LocalityStats {
    /// The file, as given.
    pub path: String,
    /// Its blocks, in file order.
    pub blocks: Vec<LocalityBlock>,
}

impl LocalityStats {
    /// Reads and parses a file (line 0 in the error when it cannot be read).
    pub fn read(path: &Path) -> Result<LocalityStats, InputError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| InputError::Data {
            path: shown.clone(),
            line: 0,
            message: format!("cannot read the locality stats file: {e}"),
        })?;
        LocalityStats::parse(&shown, &text)
    }

    /// Parses the text of a locality stats file; `path_for_errors` names it in errors. Blank
    /// lines and lines starting with `#` are skipped.
    pub fn parse(path_for_errors: &str, text: &str) -> Result<LocalityStats, InputError> {
        let mut lines = Lines { path: path_for_errors, lines: text.lines().collect(), next: 0 };
        let mut blocks = Vec::new();
        while lines.skip_blank() {
            blocks.push(parse_block(&mut lines)?);
        }
        if blocks.is_empty() {
            return Err(lines.error(
                lines.lines.len() + 1,
                "no locality blocks: expected a block name line like `fbgemm_t788_bs131072_0.pt`"
                    .to_string(),
            ));
        }
        Ok(LocalityStats { path: path_for_errors.to_string(), blocks })
    }

    /// The mean of the blocks' histograms and figures (name `mean of <n> blocks`).
    pub fn mean(&self) -> LocalityBlock {
        let n = self.blocks.len().max(1) as f64;
        let mut m = LocalityBlock {
            name: format!("mean of {} blocks", self.blocks.len()),
            batch_size: 0,
            lookups: 0.0,
            unique_rows: 0.0,
            mean_reuse: 0.0,
            histogram: ReuseHistogram { rows: [0.0; BUCKETS], accesses: [0.0; BUCKETS] },
        };
        let mut batch = 0.0;
        for b in &self.blocks {
            batch += b.batch_size as f64 / n;
            m.lookups += b.lookups / n;
            m.unique_rows += b.unique_rows / n;
            m.mean_reuse += b.mean_reuse / n;
            for j in 0..BUCKETS {
                m.histogram.rows[j] += b.histogram.rows[j] / n;
                m.histogram.accesses[j] += b.histogram.accesses[j] / n;
            }
        }
        m.batch_size = batch.round() as u64;
        m
    }

    /// Mean lookups per batch of one table: each block's lookups over its table count (from
    /// its name; 1 when the name has none).
    pub fn lookups_per_table(&self) -> f64 {
        let n = self.blocks.len().max(1) as f64;
        self.blocks.iter().map(|b| b.lookups / b.tables().unwrap_or(1) as f64).sum::<f64>() / n
    }
}

/// A cursor over the lines of a file.
struct Lines<'a> {
    path: &'a str,
    lines: Vec<&'a str>,
    next: usize,
}

impl<'a> Lines<'a> {
    /// Skips blank and `#` lines; false at the end of the file.
    fn skip_blank(&mut self) -> bool {
        while let Some(l) = self.lines.get(self.next) {
            let l = l.trim();
            if l.is_empty() || l.starts_with('#') {
                self.next += 1;
            } else {
                return true;
            }
        }
        false
    }

    /// The next non-blank line (1-based number, trimmed text), or an error saying what was
    /// expected at the end of the file.
    fn take(&mut self, what: &str) -> Result<(usize, &'a str), InputError> {
        if !self.skip_blank() {
            return Err(self
                .error(self.lines.len() + 1, format!("unexpected end of file: expected {what}")));
        }
        let i = self.next;
        self.next += 1;
        Ok((i + 1, self.lines[i].trim()))
    }

    fn error(&self, line: usize, message: String) -> InputError {
        InputError::Data { path: self.path.to_string(), line, message }
    }
}

/// One block: name, batch line, three figures, two histograms.
fn parse_block(lines: &mut Lines) -> Result<LocalityBlock, InputError> {
    let (ln, name) = lines.take("a block name line")?;
    if name.contains(':') || name.starts_with(['(', '[']) {
        return Err(lines.error(
            ln,
            format!("expected a block name line like `fbgemm_t788_bs131072_0.pt`, found `{name}`"),
        ));
    }
    let batch_format = "`Locality stats after processing <n> batches of size <b>`";
    let (ln, l) = lines.take(batch_format)?;
    let batch_size = l
        .strip_prefix("Locality stats after processing ")
        .and_then(|rest| rest.split_once(" batches of size "))
        .and_then(|(n, b)| Some((n.trim().parse::<u64>().ok()?, b.trim().parse::<u64>().ok()?)))
        .filter(|(n, b)| *n > 0 && *b > 0)
        .map(|(_, b)| b)
        .ok_or_else(|| lines.error(ln, format!("expected {batch_format}, found `{l}`")))?;
    let lookups = parse_figure(lines, "Avg # of indices:")?;
    let unique_rows = parse_figure(lines, "Avg # of unique cols:")?;
    let (reuse_line, mean_reuse) = parse_figure_at(lines, "Avg col size:")?;
    if unique_rows > 0.0 && (lookups / unique_rows - mean_reuse).abs() > 0.051 + 1e-3 * mean_reuse {
        return Err(lines.error(
            reuse_line,
            format!(
                "mean reuse {mean_reuse} does not match indices / unique cols = {:.3}",
                lookups / unique_rows
            ),
        ));
    }
    let rows = parse_histogram(lines, "Histogram of col sizes:")?;
    let accesses =
        parse_histogram(lines, "Ratio of index distribution at different column sizes:")?;
    Ok(LocalityBlock {
        name: name.to_string(),
        batch_size,
        lookups,
        unique_rows,
        mean_reuse,
        histogram: ReuseHistogram { rows, accesses },
    })
}

/// A `<label> <number>` line with a finite, non-negative number.
fn parse_figure(lines: &mut Lines, label: &str) -> Result<f64, InputError> {
    parse_figure_at(lines, label).map(|(_, v)| v)
}

/// [`parse_figure`], also giving the line number.
fn parse_figure_at(lines: &mut Lines, label: &str) -> Result<(usize, f64), InputError> {
    let (ln, l) = lines.take(&format!("`{label} <number>`"))?;
    let value = l
        .strip_prefix(label)
        .ok_or_else(|| lines.error(ln, format!("expected `{label} <number>`, found `{l}`")))?;
    match value.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok((ln, v)),
        _ => Err(lines.error(
            ln,
            format!("bad number `{}` after `{label}` (expected a number >= 0)", value.trim()),
        )),
    }
}

/// A histogram: its title, 17 `<bucket>: <share>` lines, the bucket-edge list and the
/// cumulative-share list (checked against the shares within 0.01, the files' rounding).
fn parse_histogram(lines: &mut Lines, title: &str) -> Result<[f64; BUCKETS], InputError> {
    let (title_line, l) = lines.take(&format!("`{title}`"))?;
    if l != title {
        return Err(lines.error(title_line, format!("expected `{title}`, found `{l}`")));
    }
    let mut shares = [0.0; BUCKETS];
    for (b, label) in BUCKET_LABELS.iter().enumerate() {
        let (ln, l) = lines.take(&format!("the histogram line `{label}: <share>`"))?;
        let (found, value) = l.rsplit_once(':').unwrap_or((l, ""));
        if found.trim() != *label {
            return Err(lines.error(
                ln,
                format!("expected the histogram line `{label}: <share>`, found `{l}`"),
            ));
        }
        shares[b] = match value.trim().parse::<f64>() {
            Ok(v) if (0.0..=1.0).contains(&v) => v,
            _ => {
                return Err(lines.error(
                    ln,
                    format!("bad share `{}` for bucket {label} (expected 0..1)", value.trim()),
                ));
            }
        };
    }
    let (ln, l) = lines.take("the bucket-edge list `[0, 1, 2, 4, ...]`")?;
    let expected: Vec<f64> =
        std::iter::once(0.0).chain((0..BUCKETS - 1).map(|j| f64::from(1u32 << j))).collect();
    if parse_list(l).as_deref() != Some(expected.as_slice()) {
        return Err(lines.error(
            ln,
            format!("expected the bucket-edge list `[0, 1, 2, 4, ..., 32768]`, found `{l}`"),
        ));
    }
    let (ln, l) = lines.take("the cumulative-share list `['0.000', ...]`")?;
    let cumulative = parse_list(l).filter(|c| c.len() == BUCKETS + 1).ok_or_else(|| {
        lines
            .error(ln, format!("expected a list of {} cumulative shares, found `{l}`", BUCKETS + 1))
    })?;
    let mut running = 0.0;
    for (b, share) in shares.iter().enumerate() {
        running += share;
        if (cumulative[b + 1] - running).abs() > 0.01 {
            return Err(lines.error(
                ln,
                format!(
                    "cumulative share {} at {} does not match the bucket lines ({running:.3})",
                    cumulative[b + 1],
                    BUCKET_LABELS[b]
                ),
            ));
        }
    }
    if (running - 1.0).abs() > 0.02 {
        return Err(
            lines.error(title_line, format!("the shares of `{title}` sum to {running:.3}, not 1"))
        );
    }
    Ok(shares)
}

/// `[1, 2]` or `['0.1', '0.2']` as numbers; None if any item is not a number.
fn parse_list(l: &str) -> Option<Vec<f64>> {
    let inner = l.strip_prefix('[')?.strip_suffix(']')?;
    inner
        .split(',')
        .map(|item| {
            item.trim().trim_matches(['\'', '"']).parse::<f64>().ok().filter(|v| v.is_finite())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::tests::{close, stats_file};

    #[test]
    fn parses_the_2022_file() {
        let s = LocalityStats::read(&stats_file(2022)).unwrap();
        assert_eq!(s.blocks.len(), 16);
        let b = &s.blocks[0];
        assert_eq!(b.name, "fbgemm_t788_bs131072_0.pt");
        assert_eq!(b.batch_size, 131_072);
        assert_eq!(b.lookups, 1_405_163_864.0);
        assert_eq!(b.unique_rows, 110_259_238.0);
        assert_eq!(b.mean_reuse, 12.7);
        assert_eq!(b.histogram.rows[0], 0.342);
        assert_eq!(b.histogram.rows[1], 0.144);
        assert_eq!(b.histogram.accesses[0], 0.027);
        assert_eq!(b.histogram.accesses[16], 0.076);
        assert_eq!(b.tables(), Some(788));
        assert_eq!(s.blocks[15].name, "fbgemm_t788_bs131072_15.pt");
    }

    #[test]
    fn parses_the_2021_file() {
        let s = LocalityStats::read(&stats_file(2021)).unwrap();
        assert_eq!(s.blocks.len(), 17);
        let b = &s.blocks[0];
        assert_eq!(b.name, "fbgemm_t856_bs65536.pt");
        assert_eq!(
            (b.batch_size, b.lookups, b.unique_rows),
            (65_536, 887_017_990.0, 128_435_723.0)
        );
        assert_eq!(b.mean_reuse, 6.9);
        assert_eq!((b.histogram.rows[0], b.histogram.accesses[0]), (0.473, 0.069));
        assert_eq!(b.tables(), Some(856));
        assert_eq!(s.blocks[1].lookups, 468_084_223.0);
    }

    #[test]
    fn mean_averages_the_blocks() {
        let s = LocalityStats::read(&stats_file(2021)).unwrap();
        let m = s.mean();
        assert_eq!(m.name, "mean of 17 blocks");
        assert_eq!(m.batch_size, 65_536);
        let lookups: f64 = s.blocks.iter().map(|b| b.lookups).sum::<f64>() / 17.0;
        assert!(close(m.lookups, lookups, 1e-12));
        let rows0: f64 = s.blocks.iter().map(|b| b.histogram.rows[0]).sum::<f64>() / 17.0;
        assert!(close(m.histogram.rows[0], rows0, 1e-12));
        assert!((m.histogram.rows.iter().sum::<f64>() - 1.0).abs() < 0.01);
        assert!(close(s.lookups_per_table(), lookups / 856.0, 1e-12));
        assert_eq!(LocalityStats { path: "x".into(), blocks: vec![] }.mean().lookups, 0.0);
    }

    /// The first block of the 2022 file (45 lines).
    fn first_block() -> Vec<String> {
        let text = std::fs::read_to_string(stats_file(2022)).unwrap();
        text.lines().take(45).map(str::to_string).collect()
    }

    /// The line of a Data error.
    fn error_line(text: &str) -> usize {
        match LocalityStats::parse("t.txt", text) {
            Err(InputError::Data { path, line, .. }) => {
                assert_eq!(path, "t.txt");
                line
            }
            other => panic!("expected a data error, got {other:?}"),
        }
    }

    #[test]
    fn malformed_text_names_the_line() {
        let block = first_block();
        assert_eq!(LocalityStats::parse("t.txt", &block.join("\n")).unwrap().blocks.len(), 1);
        let edit = |line: usize, new: Option<&str>| {
            let mut b = block.clone();
            match new {
                Some(n) => b[line - 1] = n.to_string(),
                None => {
                    b.remove(line - 1);
                }
            }
            b.join("\n")
        };
        // A bad number.
        assert_eq!(error_line(&edit(3, Some("Avg # of indices: 14x5"))), 3);
        assert_eq!(error_line(&edit(10, Some("(4, 8]: 1.7"))), 10);
        assert_eq!(
            error_line(&edit(2, Some("Locality stats after processing 1 batches of size x"))),
            2
        );
        // A missing histogram line: line 10 then holds the next bucket.
        assert_eq!(error_line(&edit(10, None)), 10);
        // Inconsistent figures and lists.
        assert_eq!(error_line(&edit(5, Some("Avg col size: 20.0"))), 5);
        assert_eq!(error_line(&edit(25, Some(&block[24].replace("'0.342'", "'0.442'")))), 25);
        assert_eq!(error_line(&edit(24, Some("[0, 1, 2]"))), 24);
        // Truncated, empty, comments only.
        assert_eq!(error_line(&block[..20].join("\n")), 21);
        assert_eq!(error_line(""), 1);
        assert_eq!(error_line("# nothing here\n\n"), 3);
        // A second block that breaks later is reported at its own line.
        let two = format!("{}\n\n{}", block.join("\n"), edit(7, Some("(0, 1]: x")));
        assert_eq!(error_line(&two), 46 + 7);
        // A file that cannot be read: line 0.
        match LocalityStats::read(Path::new("/nonexistent/stats.txt")) {
            Err(InputError::Data { line: 0, .. }) => {}
            other => panic!("{other:?}"),
        }
    }
}
