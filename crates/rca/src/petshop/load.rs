//! Reading and checking the PetShop files. Every error is `path:line: message`, the message
//! naming the column (1-based, as a spreadsheet counts) or the JSON field, and what would be
//! valid.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use simcore::InputError;

use super::csv::{Record, records};
use super::{
    CallGraph, Issue, Metrics, PetshopError, RootCause, SCENARIOS, Scenario, Series, Split, Target,
};

fn show(path: &Path) -> String {
    path.display().to_string()
}

fn data_err(path: &Path, line: usize, message: impl Into<String>) -> PetshopError {
    PetshopError::Input(InputError::data(show(path), line, message))
}

fn read_text(path: &Path) -> Result<String, PetshopError> {
    std::fs::read_to_string(path)
        .map_err(|e| PetshopError::Io { path: show(path), message: e.to_string() })
}

fn read_records(path: &Path) -> Result<Vec<Record>, PetshopError> {
    let text = read_text(path)?;
    records(&text).map_err(|(line, m)| data_err(path, line, m))
}

/// Reads a `graph.csv`: a square 0/1 adjacency matrix whose header row and first column
/// list the same node names in the same order; 1 at (row a, column b) is a call a -> b.
pub fn read_graph(path: &Path) -> Result<CallGraph, PetshopError> {
    let recs = read_records(path)?;
    let Some(header) = recs.first() else {
        return Err(data_err(
            path,
            1,
            "the file is empty; expected a header row `,<node>,<node>,...`",
        ));
    };
    let names: Vec<String> = header.fields.iter().skip(1).map(|s| s.trim().to_string()).collect();
    if names.is_empty() {
        return Err(data_err(
            path,
            header.line,
            "the header row names no node; expected `,<node>,<node>,...` (first cell empty)",
        ));
    }
    for (j, name) in names.iter().enumerate() {
        if name.is_empty() {
            return Err(data_err(path, header.line, format!("column {}: empty node name", j + 2)));
        }
        if let Some(k) = names[..j].iter().position(|n| n == name) {
            return Err(data_err(
                path,
                header.line,
                format!("column {}: node `{name}` is named twice (also column {})", j + 2, k + 2),
            ));
        }
    }
    let n = names.len();
    let rows = &recs[1..];
    let mut calls = Vec::new();
    for (i, rec) in rows.iter().enumerate() {
        if i >= n {
            return Err(data_err(
                path,
                rec.line,
                format!(
                    "row {} is one too many: the matrix must be square, {n} rows for the \
                     {n} nodes of the header",
                    i + 1
                ),
            ));
        }
        if rec.fields.len() != n + 1 {
            return Err(data_err(
                path,
                rec.line,
                format!(
                    "{} fields, expected {} (the row's node name and one 0/1 per node of the \
                     header)",
                    rec.fields.len(),
                    n + 1
                ),
            ));
        }
        let row_name = rec.fields[0].trim();
        if row_name != names[i] {
            return Err(data_err(
                path,
                rec.line,
                format!(
                    "column 1: row node `{row_name}`, expected `{}`: the rows must list the \
                     header's nodes in the same order",
                    names[i]
                ),
            ));
        }
        for (j, cell) in rec.fields[1..].iter().enumerate() {
            let v = cell.trim();
            let bit = match v.parse::<f64>() {
                Ok(0.0) => false,
                Ok(1.0) => true,
                _ => {
                    return Err(data_err(
                        path,
                        rec.line,
                        format!(
                            "column {} (call {} -> {}): `{v}` is not 0 or 1",
                            j + 2,
                            names[i],
                            names[j]
                        ),
                    ));
                }
            };
            if bit && i == j {
                return Err(data_err(
                    path,
                    rec.line,
                    format!(
                        "column {}: node `{}` calls itself; a call graph without self-calls \
                         is expected (0 on the diagonal)",
                        j + 2,
                        names[i]
                    ),
                ));
            }
            if bit {
                calls.push((i, j));
            }
        }
    }
    if rows.len() < n {
        let line = recs.last().map_or(1, |r| r.line);
        return Err(data_err(
            path,
            line,
            format!(
                "{} rows for {n} header nodes: the matrix must be square (missing the row of \
                 `{}`)",
                rows.len(),
                names[rows.len()]
            ),
        ));
    }
    Ok(CallGraph { names, calls })
}

/// The label each of the four header rows of a metrics file must start with.
const HEADER_LABELS: [&str; 4] = ["microservice", "metric", "statistic", "unix_timestamp"];

/// Reads a `metrics.csv`: header rows `microservice`, `metric`, `statistic` (one cell per
/// series), a `unix_timestamp` label row, then one row per interval: a unix time (s,
/// strictly increasing) and one number or an empty cell (missing) per series.
pub fn read_metrics(path: &Path) -> Result<Metrics, PetshopError> {
    let recs = read_records(path)?;
    if recs.len() < 4 {
        let line = recs.last().map_or(1, |r| r.line + 1);
        return Err(data_err(
            path,
            line,
            format!(
                "the file ends after {} line(s); expected the header rows `microservice`, \
                 `metric`, `statistic`, `unix_timestamp`, then data rows",
                recs.len()
            ),
        ));
    }
    let width = recs[0].fields.len();
    for (rec, label) in recs.iter().zip(HEADER_LABELS) {
        let first = rec.fields.first().map_or("", |s| s.trim());
        if first != label {
            return Err(data_err(
                path,
                rec.line,
                format!("column 1: `{first}`, expected the header label `{label}`"),
            ));
        }
        if rec.fields.len() != width {
            return Err(data_err(
                path,
                rec.line,
                format!(
                    "{} fields, expected {width} like the `microservice` row",
                    rec.fields.len()
                ),
            ));
        }
    }
    if width < 2 {
        return Err(data_err(path, recs[0].line, "no series: expected `microservice,<node>,...`"));
    }
    let mut series: Vec<Series> = Vec::with_capacity(width - 1);
    for j in 1..width {
        let mut parts = [String::new(), String::new(), String::new()];
        for (k, part) in parts.iter_mut().enumerate() {
            let v = recs[k].fields[j].trim();
            if v.is_empty() {
                return Err(data_err(
                    path,
                    recs[k].line,
                    format!(
                        "column {}: empty {}; every series needs a node, a metric and a statistic",
                        j + 1,
                        HEADER_LABELS[k]
                    ),
                ));
            }
            *part = v.to_string();
        }
        let [node, metric, statistic] = parts;
        let s = Series { node, metric, statistic };
        if let Some(k) = series.iter().position(|x| *x == s) {
            return Err(data_err(
                path,
                recs[0].line,
                format!(
                    "column {}: series {} {} {} appears twice (also column {})",
                    j + 1,
                    s.node,
                    s.metric,
                    s.statistic,
                    k + 2
                ),
            ));
        }
        series.push(s);
    }
    let data = &recs[4..];
    if data.is_empty() {
        return Err(data_err(
            path,
            recs[3].line + 1,
            "no data rows after the `unix_timestamp` row; expected `<unix time>,<value>,...`",
        ));
    }
    let mut timestamps = Vec::with_capacity(data.len());
    let mut values = vec![Vec::with_capacity(data.len()); width - 1];
    for rec in data {
        if rec.fields.len() != width {
            return Err(data_err(
                path,
                rec.line,
                format!(
                    "{} fields, expected {width}: the time and one cell per series (empty when \
                     missing)",
                    rec.fields.len()
                ),
            ));
        }
        let ts = rec.fields[0].trim();
        let t = match ts.parse::<f64>() {
            Ok(t) if t.is_finite() => t,
            _ => {
                return Err(data_err(
                    path,
                    rec.line,
                    format!("column 1: `{ts}` is not a unix time (a finite number of seconds)"),
                ));
            }
        };
        if let Some(&prev) = timestamps.last()
            && t <= prev
        {
            return Err(data_err(
                path,
                rec.line,
                format!(
                    "column 1: time {t} is not after the previous row's {prev}; rows must be \
                     in increasing time order"
                ),
            ));
        }
        timestamps.push(t);
        for (j, cell) in rec.fields[1..].iter().enumerate() {
            let v = cell.trim();
            let x = if v.is_empty() {
                None
            } else {
                match v.parse::<f64>() {
                    Ok(x) if x.is_finite() => Some(x),
                    _ => {
                        let s = &series[j];
                        return Err(data_err(
                            path,
                            rec.line,
                            format!(
                                "column {} ({} {} {}): `{v}` is not a finite number; write a \
                                 number, or leave the cell empty for a missing value",
                                j + 2,
                                s.node,
                                s.metric,
                                s.statistic
                            ),
                        ));
                    }
                }
            };
            values[j].push(x);
        }
    }
    Ok(Metrics { path: path.to_path_buf(), timestamps, series, values })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetJson {
    node: String,
    metric: String,
    agg: String,
    timestamp: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RootCauseJson {
    node: String,
    metric: Option<String>,
}

#[derive(Deserialize)]
struct TargetFile {
    target: TargetJson,
    root_cause: RootCauseJson,
    #[serde(default)]
    metadata: serde_json::Value,
}

/// The 1-based line on which `needle` first appears in `text` (1 if it does not).
fn line_of(text: &str, needle: &str) -> usize {
    text.find(needle).map_or(1, |at| text[..at].matches('\n').count() + 1)
}

/// Reads a `target.json`: `{"target": {"node", "metric", "agg", "timestamp"},
/// "root_cause": {"node", "metric" (string or null)}, "metadata": {...}}`. Returns the
/// symptom, the truth and `metadata.reproducibility.command` if present.
pub fn read_target(path: &Path) -> Result<(Target, RootCause, Option<String>), PetshopError> {
    let text = read_text(path)?;
    let file: TargetFile = serde_json::from_str(&text).map_err(|e| {
        let full = e.to_string();
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        let msg = full.strip_suffix(&suffix).unwrap_or(&full);
        data_err(
            path,
            e.line().max(1),
            format!(
                "column {}: {msg}; expected {{\"target\": {{\"node\": str, \"metric\": str, \
                 \"agg\": str, \"timestamp\": number}}, \"root_cause\": {{\"node\": str, \
                 \"metric\": str or null}}, \"metadata\": {{...}}}}",
                e.column()
            ),
        )
    })?;
    if !file.target.timestamp.is_finite() {
        return Err(data_err(
            path,
            line_of(&text, "\"timestamp\""),
            "field target.timestamp: expected a finite unix time in seconds",
        ));
    }
    for (field, v) in [
        ("target.node", &file.target.node),
        ("target.metric", &file.target.metric),
        ("target.agg", &file.target.agg),
        ("root_cause.node", &file.root_cause.node),
    ] {
        if v.trim().is_empty() {
            return Err(data_err(path, 1, format!("field {field}: empty; expected a name")));
        }
    }
    let command = file
        .metadata
        .get("reproducibility")
        .and_then(|r| r.get("command"))
        .and_then(|c| c.as_str())
        .map(str::to_string);
    Ok((
        Target {
            node: file.target.node,
            metric: file.target.metric,
            agg: file.target.agg,
            timestamp: file.target.timestamp,
        },
        RootCause { node: file.root_cause.node, metric: file.root_cause.metric },
        command,
    ))
}

/// Checks that every node of `metrics` is a node of the call graph.
fn check_nodes(
    metrics: &Metrics,
    graph: &CallGraph,
    graph_path: &Path,
) -> Result<(), PetshopError> {
    for (j, s) in metrics.series.iter().enumerate() {
        if graph.index_of(&s.node).is_none() {
            return Err(data_err(
                &metrics.path,
                1,
                format!(
                    "column {}: node `{}` is not in {}; every series must belong to a node of \
                     the call graph",
                    j + 2,
                    s.node,
                    show(graph_path)
                ),
            ));
        }
    }
    Ok(())
}

/// Reads one issue folder and checks it against the call graph.
fn read_issue(
    dir: &Path,
    split: Split,
    id: u32,
    graph: &CallGraph,
    graph_path: &Path,
) -> Result<Issue, PetshopError> {
    let metrics = read_metrics(&dir.join("metrics.csv"))?;
    check_nodes(&metrics, graph, graph_path)?;
    let target_path = dir.join("target.json");
    let (target, root_cause, command) = read_target(&target_path)?;
    let text = read_text(&target_path)?;
    for (field, node) in [("target.node", &target.node), ("root_cause.node", &root_cause.node)] {
        if graph.index_of(node).is_none() {
            let key = if field == "target.node" { "\"target\"" } else { "\"root_cause\"" };
            return Err(data_err(
                &target_path,
                line_of(&text, key),
                format!(
                    "field {field}: node `{node}` is not in {}; expected one of its {} nodes",
                    show(graph_path),
                    graph.names.len()
                ),
            ));
        }
    }
    let has_target_series = metrics
        .series
        .iter()
        .any(|s| s.node == target.node && s.metric == target.metric && s.statistic == target.agg);
    if !has_target_series {
        return Err(data_err(
            &target_path,
            line_of(&text, "\"target\""),
            format!(
                "field target: series {} {} {} is not a column of {}",
                target.node,
                target.metric,
                target.agg,
                show(&metrics.path)
            ),
        ));
    }
    let issue = Issue { split, id, dir: dir.to_path_buf(), metrics, target, root_cause, command };
    if issue.first_abnormal_row().is_none() {
        let last = issue.metrics.timestamps.last().copied().unwrap_or(f64::NAN);
        return Err(data_err(
            &target_path,
            line_of(&text, "\"timestamp\""),
            format!(
                "field target.timestamp: {} is after the last row ({last}) of {}, so the issue \
                 has no abnormal rows; expected a time at or before the last row",
                issue.target.timestamp,
                show(&issue.metrics.path)
            ),
        ));
    }
    Ok(issue)
}

/// The `issue_<k>` folders of `dir`, by increasing k (other entries are ignored).
fn issue_dirs(dir: &Path) -> Result<Vec<(u32, PathBuf)>, PetshopError> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let entries = std::fs::read_dir(dir)
        .map_err(|e| PetshopError::Io { path: show(dir), message: e.to_string() })?;
    let mut out = Vec::new();
    for entry in entries {
        let entry =
            entry.map_err(|e| PetshopError::Io { path: show(dir), message: e.to_string() })?;
        let name = entry.file_name();
        let Some(k) =
            name.to_str().and_then(|n| n.strip_prefix("issue_")).and_then(|k| k.parse().ok())
        else {
            continue;
        };
        if entry.path().is_dir() {
            out.push((k, entry.path()));
        }
    }
    out.sort();
    Ok(out)
}

/// Reads one scenario folder: `graph.csv`, `noissue/metrics.csv` if present, and every
/// `train/issue_<k>/` and `test/issue_<k>/` (train first, by increasing k). Checks that
/// every series' node, every target and every root cause is a node of the call graph.
pub fn load_scenario(dir: &Path) -> Result<Scenario, PetshopError> {
    let graph_path = dir.join("graph.csv");
    let graph = read_graph(&graph_path)?;
    let normal_path = dir.join("noissue").join("metrics.csv");
    let normal = if normal_path.exists() {
        let m = read_metrics(&normal_path)?;
        check_nodes(&m, &graph, &graph_path)?;
        Some(m)
    } else {
        None
    };
    let mut issues = Vec::new();
    for split in [Split::Train, Split::Test] {
        for (k, d) in issue_dirs(&dir.join(split.as_str()))? {
            issues.push(read_issue(&d, split, k, &graph, &graph_path)?);
        }
    }
    let name = dir.file_name().map_or_else(|| show(dir), |n| n.to_string_lossy().into_owned());
    Ok(Scenario { name, dir: dir.to_path_buf(), graph, normal, issues })
}

/// Reads the scenarios under `root`: the four of the shipped data set that are present,
/// in [`SCENARIOS`] order, then any other sub-folder holding a `graph.csv`, by name.
pub fn load_all(root: &Path) -> Result<Vec<Scenario>, PetshopError> {
    let entries = std::fs::read_dir(root)
        .map_err(|e| PetshopError::Io { path: show(root), message: e.to_string() })?;
    let mut names = Vec::new();
    for entry in entries {
        let entry =
            entry.map_err(|e| PetshopError::Io { path: show(root), message: e.to_string() })?;
        if entry.path().join("graph.csv").is_file() {
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    names.sort_by_key(|n| {
        (SCENARIOS.iter().position(|s| s == n).unwrap_or(SCENARIOS.len()), n.clone())
    });
    names.iter().map(|n| load_scenario(&root.join(n))).collect()
}
