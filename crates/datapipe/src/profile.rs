//! Profiles on disk, in cedar's artifact format (`data/datapipe/cedar_*_ops.tsv`,
//! `*_runs.tsv`, `cedar_disk_info.tsv`; see `data/datapipe/README.md`): one row per
//! operator with its latency and sizes, the measured runs (the baseline throughput and the
//! throughput with one operator offloaded), and the disk's read/write cost. The real
//! profiler writes the same format, so a measured profile loads like a preset.
//!
//! Every malformed line is an error naming the file, the line and the column.

use std::collections::BTreeMap;
use std::path::Path;

use simcore::InputError;

use crate::operator::Operator;

/// The columns of an operator profile, in order (an optional `gil` column may follow: 1 when
/// the operator holds Python's interpreter lock).
pub const OPS_COLUMNS: &[&str] = &[
    "pipeline",
    "profile",
    "definition",
    "definition_file",
    "pipe_id",
    "position",
    "operator",
    "fixed",
    "tag",
    "depends_on",
    "is_random",
    "latency_ns",
    "in_bytes",
    "out_bytes",
];

/// One profile's operators, in data-flow order.
#[derive(Clone, Debug, PartialEq)]
pub struct OpsProfile {
    /// `pipeline` column.
    pub pipeline: String,
    /// `profile` column.
    pub profile: String,
    /// Operators by `position`.
    pub ops: Vec<Operator>,
    /// `pipe_id` of each operator (cedar's id; 0 is the output end).
    pub pipe_ids: Vec<i64>,
}

/// Measured runs of one profile.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunsProfile {
    /// Throughput of the whole pipeline in one process, samples/s.
    pub baseline_sps: Option<f64>,
    /// backend (`SMP`, `RAY`, ...) -> (pipe_id offloaded, throughput samples/s).
    pub offloaded: BTreeMap<String, Vec<(i64, f64)>>,
}

/// Disk costs of one profile, seconds per byte.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DiskInfo {
    /// Read cost.
    pub read_s_per_byte: f64,
    /// Write cost.
    pub write_s_per_byte: f64,
}

/// A tab-separated file with a `#` comment first and a header: rows as column maps.
struct Table {
    path: String,
    header: Vec<String>,
    rows: Vec<(usize, Vec<String>)>,
}

impl Table {
    fn read(path: &Path) -> Result<Table, InputError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| InputError::data(name.clone(), 0, format!("cannot read: {e}")))?;
        let mut header: Option<Vec<String>> = None;
        let mut rows = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line_no = i + 1;
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let fields: Vec<String> = line.split('\t').map(|s| s.trim().to_string()).collect();
            match &header {
                None => header = Some(fields),
                Some(h) => {
                    if fields.len() < h.len() {
                        return Err(InputError::data(
                            name.clone(),
                            line_no,
                            format!(
                                "{} fields, the header has {}: missing `{}`",
                                fields.len(),
                                h.len(),
                                h[fields.len()..].join("`, `")
                            ),
                        ));
                    }
                    rows.push((line_no, fields));
                }
            }
        }
        let header = header.ok_or_else(|| {
            InputError::data(name.clone(), 0, "no header line (the file is empty)")
        })?;
        Ok(Table { path: name, header, rows })
    }

    fn require(&self, columns: &[&str]) -> Result<(), InputError> {
        for c in columns {
            if !self.header.iter().any(|h| h == c) {
                return Err(InputError::data(
                    self.path.clone(),
                    1,
                    format!("missing column `{c}`; the columns are: {}", columns.join(", ")),
                ));
            }
        }
        Ok(())
    }

    fn col(&self, name: &str) -> usize {
        self.header.iter().position(|h| h == name).unwrap_or(usize::MAX)
    }

    fn text<'a>(&self, row: &'a [String], col: &str) -> &'a str {
        row.get(self.col(col)).map_or("", String::as_str)
    }

    fn number(&self, line: usize, row: &[String], col: &str) -> Result<f64, InputError> {
        let s = self.text(row, col);
        s.parse::<f64>().ok().filter(|v| v.is_finite()).ok_or_else(|| {
            InputError::data(self.path.clone(), line, format!("`{col}`: `{s}` is not a number"))
        })
    }

    fn flag(&self, line: usize, row: &[String], col: &str) -> Result<bool, InputError> {
        match self.text(row, col) {
            "1" | "true" | "True" => Ok(true),
            "0" | "false" | "False" | "" => Ok(false),
            s => Err(InputError::data(
                self.path.clone(),
                line,
                format!("`{col}`: `{s}` is not a flag (0 or 1)"),
            )),
        }
    }
}

/// Reads the operators of `profile` (or of the file's only profile when `None`).
pub fn read_ops(path: &Path, profile: Option<&str>) -> Result<OpsProfile, InputError> {
    let t = Table::read(path)?;
    t.require(OPS_COLUMNS)?;
    let names: Vec<String> = {
        let mut v: Vec<String> =
            t.rows.iter().map(|(_, r)| t.text(r, "profile").to_string()).collect();
        v.dedup();
        v.sort();
        v.dedup();
        v
    };
    let chosen = match profile {
        Some(p) => {
            if !names.iter().any(|n| n == p) {
                return Err(InputError::data(
                    t.path.clone(),
                    0,
                    format!("no profile `{p}`; the file has: {}", names.join(", ")),
                ));
            }
            p.to_string()
        }
        None if names.len() == 1 => names[0].clone(),
        None => {
            return Err(InputError::data(
                t.path.clone(),
                0,
                format!("the file has several profiles; name one of: {}", names.join(", ")),
            ));
        }
    };
    let mut rows: Vec<(i64, i64, Operator)> = Vec::new();
    let mut pipeline = String::new();
    for (line, r) in &t.rows {
        if t.text(r, "profile") != chosen {
            continue;
        }
        pipeline = t.text(r, "pipeline").to_string();
        let position = t.number(*line, r, "position")?;
        let pipe_id = t.number(*line, r, "pipe_id")?;
        let name = t.text(r, "operator").to_string();
        if name.is_empty() {
            return Err(InputError::data(t.path.clone(), *line, "`operator`: empty name"));
        }
        let latency_ns = t.number(*line, r, "latency_ns")?;
        let in_bytes = t.number(*line, r, "in_bytes")?;
        let out_bytes = t.number(*line, r, "out_bytes")?;
        if latency_ns < 0.0 || in_bytes < 0.0 {
            return Err(InputError::data(t.path.clone(), *line, "negative latency or size"));
        }
        if out_bytes <= 0.0 {
            return Err(InputError::data(
                t.path.clone(),
                *line,
                format!(
                    "`out_bytes`: operator `{name}` has output size {out_bytes}; it must be > 0"
                ),
            ));
        }
        let tag = Some(t.text(r, "tag").to_string()).filter(|s| !s.is_empty());
        let depends_on = t
            .text(r, "depends_on")
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect();
        rows.push((
            position as i64,
            pipe_id as i64,
            Operator {
                name,
                latency_s: latency_ns * 1e-9,
                in_bytes,
                out_bytes,
                random: t.flag(*line, r, "is_random")?,
                fixed: t.flag(*line, r, "fixed")?,
                tag,
                depends_on,
                gil: t.header.iter().any(|h| h == "gil") && t.flag(*line, r, "gil")?,
            },
        ));
    }
    rows.sort_by_key(|r| r.0);
    for (k, r) in rows.iter().enumerate() {
        if r.0 != k as i64 {
            return Err(InputError::data(
                t.path.clone(),
                0,
                format!(
                    "profile `{chosen}`: positions must run 0, 1, 2, ... (position {k} is missing)"
                ),
            ));
        }
    }
    let pipe_ids = rows.iter().map(|r| r.1).collect();
    Ok(OpsProfile {
        pipeline,
        profile: chosen,
        ops: rows.into_iter().map(|r| r.2).collect(),
        pipe_ids,
    })
}

/// Reads the measured runs of `profile` from a runs file.
pub fn read_runs(path: &Path, profile: &str) -> Result<RunsProfile, InputError> {
    let t = Table::read(path)?;
    t.require(&["profile", "backend", "offloaded_pipe_id", "throughput_sps"])?;
    let mut out = RunsProfile::default();
    let mut last: Option<(String, i64)> = None;
    for (line, r) in &t.rows {
        if t.text(r, "profile") != profile {
            continue;
        }
        let backend = t.text(r, "backend").to_string();
        let pipe = t.number(*line, r, "offloaded_pipe_id")? as i64;
        let sps = t.number(*line, r, "throughput_sps")?;
        if sps <= 0.0 {
            return Err(InputError::data(t.path.clone(), *line, "`throughput_sps` must be > 0"));
        }
        if backend == "baseline" {
            out.baseline_sps = Some(sps);
        } else if last.as_ref() != Some(&(backend.clone(), pipe)) {
            out.offloaded.entry(backend.clone()).or_default().push((pipe, sps));
        }
        last = Some((backend, pipe));
    }
    Ok(out)
}

/// Reads the disk costs of `(pipeline, profile)`, if the file lists them.
pub fn read_disk(
    path: &Path,
    pipeline: &str,
    profile: &str,
) -> Result<Option<DiskInfo>, InputError> {
    let t = Table::read(path)?;
    t.require(&["pipeline", "profile", "read_s_per_byte", "write_s_per_byte"])?;
    for (line, r) in &t.rows {
        if t.text(r, "pipeline") == pipeline && t.text(r, "profile") == profile {
            return Ok(Some(DiskInfo {
                read_s_per_byte: t.number(*line, r, "read_s_per_byte")?,
                write_s_per_byte: t.number(*line, r, "write_s_per_byte")?,
            }));
        }
    }
    Ok(None)
}
