//! Embedding tables: their shapes and how often they are looked up, as presets, a synthetic
//! generator or an explicit list.
//!
//! A table `j` has a hash size `H_j` (rows), a dimension `d_j`, `distinct_values` raw feature
//! values hashed into its rows (so `H(1 - (1 - 1/H)^n)` rows are ever used, see
//! [`crate::access::used_rows`]), a coverage `c_j` (share of samples where the feature is
//! present), a pooling factor `L_j` (lookups per sample where present) and whether it is a
//! sequence feature (unpooled: every lookup's row is an output, as in FlexShard's user-history
//! features). Row popularity is Zipf with exponent `alpha` over the used rows.
//!
//! Presets:
//! - `criteo-kaggle`: the 26 categorical features of the Criteo Display Advertising Challenge
//!   data as DLRM preprocesses it (45,840,617 samples; the distinct-value counts per feature
//!   of facebookresearch/dlrm's `ln_emb` for that data set), dimension 128 (assumption: the
//!   MLPerf DLRM uses 128 on Criteo Terabyte), one lookup per sample where present, coverage
//!   measured on the 200-row Criteo sample in `data/recsys/criteo_sample.txt`
//!   (hash size = distinct values: every row is used).
//! - `production-mix`: 600 tables shaped like the production models of the RecShard and
//!   FlexShard papers (hundreds of tables, terabytes in total): a seeded synthetic mix, see
//!   [`SyntheticSpec::production_mix`], with dense ids (every row used, as TorchRec's inputs
//!   after id preprocessing). The shape is an assumption stated in docs/models/embedding.md.
//! - `production-mix-hashed`: the same 600 tables, but each hashes 0.3 to 2 distinct raw
//!   values per row into its rows, so a share of every table's rows is never used (the first
//!   version of `production-mix`; a plan that knows the unused rows need not store them).

use serde::{Deserialize, Serialize};
use simcore::RandomStreams;

use crate::access::{Popularity, used_rows};
use simcore::InputError;

/// One embedding table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableSpec {
    /// Name for labels.
    #[serde(default)]
    pub name: String,
    /// Hash size H: rows of the table.
    pub rows: u64,
    /// Embedding dimension d.
    pub dim: u32,
    /// Raw distinct values hashed into the rows (default: none, the ids are dense and every
    /// row is used, as after DLRM's and TorchRec's preprocessing).
    #[serde(default)]
    pub distinct_values: Option<f64>,
    /// Share of samples in which the feature is present (0, 1].
    #[serde(default = "one")]
    pub coverage: f64,
    /// Lookups per sample where present (mean).
    #[serde(default = "one")]
    pub pooling: f64,
    /// Unpooled (sequence) feature: every lookup's row is an output.
    #[serde(default)]
    pub sequence: bool,
    /// Zipf exponent of row popularity (default: the workload's `alpha`).
    #[serde(default)]
    pub alpha: Option<f64>,
    /// Whether the value is the same for every sample of a user session (RecD).
    #[serde(default)]
    pub session_level: Option<bool>,
}

fn one() -> f64 {
    1.0
}

impl TableSpec {
    /// Rows in use: all of them for dense ids, else what hashing `distinct_values` values
    /// leaves (rounded, at least 1).
    pub fn used_rows(&self) -> u64 {
        match self.distinct_values {
            None => self.rows.max(1),
            Some(n) => (used_rows(self.rows, n).round() as u64).clamp(1, self.rows.max(1)),
        }
    }

    /// Bytes of one row with `elem` bytes per element.
    pub fn row_bytes(&self, elem: u32) -> f64 {
        f64::from(self.dim) * f64::from(elem)
    }

    /// Lookups per sample: coverage times pooling.
    pub fn lookups_per_sample(&self) -> f64 {
        self.coverage * self.pooling
    }
}

/// A table with everything derived that planners need.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// The spec.
    pub spec: TableSpec,
    /// Used rows U.
    pub used: u64,
    /// Popularity of the used rows.
    pub popularity: Popularity,
    /// Bytes per row.
    pub row_bytes: f64,
    /// Whether it is session-level (RecD).
    pub session_level: bool,
}

impl Table {
    /// Bytes of the whole table (all H rows, as a plan that keeps the hash table stores it).
    pub fn bytes(&self) -> f64 {
        self.spec.rows as f64 * self.row_bytes
    }

    /// Bytes of the used rows only.
    pub fn used_bytes(&self) -> f64 {
        self.used as f64 * self.row_bytes
    }
}

/// The synthetic generator: table shapes drawn from seeded distributions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyntheticSpec {
    /// Number of tables.
    pub count: u32,
    /// Hash sizes: log-uniform between these (inclusive).
    pub rows: [u64; 2],
    /// Dimensions to draw from uniformly.
    #[serde(default = "dims")]
    pub dims: Vec<u32>,
    /// Coverage: uniform between these.
    #[serde(default = "full")]
    pub coverage: [f64; 2],
    /// Pooling factor: log-uniform between these.
    #[serde(default = "pool")]
    pub pooling: [f64; 2],
    /// Raw distinct values hashed into each table, per row (n / H): uniform between these.
    /// Default: none, the ids are dense and every row is used.
    #[serde(default)]
    pub values_per_row: Option<[f64; 2]>,
    /// Share of tables that are sequence (unpooled) features.
    #[serde(default)]
    pub sequence_share: f64,
    /// Share of tables whose value is constant over a session (RecD); default: none marked,
    /// the workload's `sessions.session_share` decides.
    #[serde(default)]
    pub session_share: Option<f64>,
    /// Seed of the generator (tables are part of the workload, not of the run seed).
    #[serde(default)]
    pub seed: u64,
}

fn dims() -> Vec<u32> {
    vec![64, 128]
}
fn full() -> [f64; 2] {
    [1.0, 1.0]
}
fn pool() -> [f64; 2] {
    [1.0, 1.0]
}

impl SyntheticSpec {
    /// The `production-mix` preset: 600 tables, hash sizes log-uniform 1e3 to 1e8, dimensions
    /// 64/128/256, coverage 0.05 to 1, pooling 1 to 60, dense ids (assumption: shaped after
    /// the RecShard paper's description of production models with hundreds of tables and
    /// terabytes of embeddings; 3.3 TB at fp32).
    pub fn production_mix() -> SyntheticSpec {
        SyntheticSpec {
            count: 600,
            rows: [1_000, 100_000_000],
            dims: vec![64, 128, 256],
            coverage: [0.05, 1.0],
            pooling: [1.0, 60.0],
            values_per_row: None,
            sequence_share: 0.0,
            session_share: Some(0.5),
            seed: 2022,
        }
    }

    /// The `production-mix-hashed` preset: [`SyntheticSpec::production_mix`] with 0.3 to 2
    /// distinct raw values hashed into each row, so some rows are never used (2.1 of the
    /// 3.3 TB are used rows).
    pub fn production_mix_hashed() -> SyntheticSpec {
        SyntheticSpec { values_per_row: Some([0.3, 2.0]), ..SyntheticSpec::production_mix() }
    }

    /// The tables.
    pub fn generate(&self) -> Result<Vec<TableSpec>, InputError> {
        let f = "tables.synthetic";
        let bad = |field: &str, m: &str| InputError::invalid(&format!("{f}.{field}"), m);
        if self.count == 0 {
            return Err(bad("count", "must be at least 1"));
        }
        if self.rows[0] == 0 || self.rows[0] > self.rows[1] {
            return Err(bad("rows", "give [min, max] with 1 <= min <= max"));
        }
        if self.dims.is_empty() || self.dims.contains(&0) {
            return Err(bad("dims", "give a non-empty list of positive dimensions"));
        }
        let in_unit = |r: [f64; 2]| r[0] > 0.0 && r[0] <= r[1] && r[1] <= 1.0;
        if !in_unit(self.coverage) {
            return Err(bad("coverage", "give [min, max] with 0 < min <= max <= 1"));
        }
        if !(self.pooling[0] > 0.0 && self.pooling[0] <= self.pooling[1]) {
            return Err(bad("pooling", "give [min, max] with 0 < min <= max"));
        }
        if let Some(v) = self.values_per_row
            && !(v[0] > 0.0 && v[0] <= v[1] && v[1].is_finite())
        {
            return Err(bad("values_per_row", "give [min, max] with 0 < min <= max"));
        }
        for (name, s) in [
            ("sequence_share", self.sequence_share),
            ("session_share", self.session_share.unwrap_or(0.0)),
        ] {
            if !(0.0..=1.0).contains(&s) {
                return Err(bad(name, "must be between 0 and 1"));
            }
        }
        let mut rng = RandomStreams::new(self.seed).stream("tables");
        let mut u = move || rng.next_f64();
        let log_uniform = |lo: f64, hi: f64, x: f64| (lo.ln() + x * (hi.ln() - lo.ln())).exp();
        Ok((0..self.count)
            .map(|i| {
                let rows =
                    log_uniform(self.rows[0] as f64, self.rows[1] as f64, u()).round() as u64;
                let dim =
                    self.dims[((u() * self.dims.len() as f64) as usize).min(self.dims.len() - 1)];
                let coverage = self.coverage[0] + u() * (self.coverage[1] - self.coverage[0]);
                let pooling = log_uniform(self.pooling[0], self.pooling[1], u());
                // Drawn whether or not it is used, so dense and hashed mixes of one seed have
                // the same tables.
                let draw_vpr = u();
                let distinct = self
                    .values_per_row
                    .map(|v| (v[0] + draw_vpr * (v[1] - v[0])) * rows.max(1) as f64);
                let sequence = u() < self.sequence_share;
                let draw = u();
                let session = self.session_share.map(|share| draw < share);
                TableSpec {
                    name: format!("t{i}"),
                    rows: rows.max(1),
                    dim,
                    distinct_values: distinct,
                    coverage,
                    pooling,
                    sequence,
                    alpha: None,
                    session_level: session,
                }
            })
            .collect())
    }
}

/// Distinct values of the 26 categorical Criteo Kaggle features (DLRM's preprocessing).
pub const CRITEO_KAGGLE: [u64; 26] = [
    1460, 583, 10131227, 2202608, 305, 24, 12517, 633, 3, 93145, 5683, 8351593, 3194, 27, 14992,
    5461306, 10, 5652, 2173, 4, 7046547, 18, 15, 286181, 105, 142572,
];

/// Coverage of the 26 categorical Criteo features (share of samples where the value is
/// present), measured on the 200-row sample in `data/recsys/criteo_sample.txt`
/// (a test recomputes it with [`criteo_coverage`]).
pub const CRITEO_SAMPLE_COVERAGE: [f64; 26] = [
    1.0, 1.0, 0.955, 0.955, 1.0, 0.84, 1.0, 1.0, 1.0, 1.0, 1.0, 0.955, 1.0, 1.0, 1.0, 0.955, 1.0,
    1.0, 0.59, 0.59, 0.955, 0.205, 1.0, 0.955, 0.59, 0.59,
];

/// Coverage of the categorical columns `C1..C26` of a Criteo-format CSV (a header line
/// `label,I1..I13,C1..C26`, then one sample per line): the share of rows with a value.
/// Errors name the file and line.
pub fn criteo_coverage(path: &std::path::Path) -> Result<[f64; 26], InputError> {
    let shown = path.display().to_string();
    let err =
        |line: usize, message: String| InputError::Data { path: shown.clone(), line, message };
    let text = std::fs::read_to_string(path).map_err(|e| err(0, e.to_string()))?;
    let mut present = [0u64; 26];
    let mut rows = 0u64;
    let mut header_seen = false;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split(',').collect();
        if !header_seen {
            header_seen = true;
            if cols.first().is_some_and(|c| c.trim() == "label") {
                if cols.len() != 40 || cols[14].trim() != "C1" {
                    return Err(err(n, "header must be label,I1..I13,C1..C26".into()));
                }
                continue;
            }
        }
        if cols.len() != 40 {
            return Err(err(
                n,
                format!("{} columns, expected 40 (label, 13 integer, 26 categorical)", cols.len()),
            ));
        }
        rows += 1;
        for (k, c) in cols[14..].iter().enumerate() {
            if !c.trim().is_empty() {
                present[k] += 1;
            }
        }
    }
    if rows == 0 {
        return Err(err(0, "no samples".into()));
    }
    Ok(present.map(|p| p as f64 / rows as f64))
}

/// Named table sets.
pub const PRESETS: [&str; 3] = ["criteo-kaggle", "production-mix", "production-mix-hashed"];

/// A preset's tables.
pub fn preset(name: &str) -> Option<Vec<TableSpec>> {
    match name {
        "criteo-kaggle" => Some(
            CRITEO_KAGGLE
                .iter()
                .enumerate()
                .map(|(i, &n)| TableSpec {
                    name: format!("C{}", i + 1),
                    rows: n,
                    dim: 128,
                    distinct_values: None,
                    coverage: CRITEO_SAMPLE_COVERAGE[i],
                    pooling: 1.0,
                    sequence: false,
                    alpha: None,
                    session_level: None,
                })
                .collect(),
        ),
        "production-mix" => SyntheticSpec::production_mix().generate().ok(),
        "production-mix-hashed" => SyntheticSpec::production_mix_hashed().generate().ok(),
        _ => None,
    }
}

/// The `tables:` of a workload: a preset name, a synthetic spec, or a list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TableSet {
    /// A preset.
    Preset(String),
    /// A synthetic mix.
    Synthetic {
        /// The generator.
        synthetic: SyntheticSpec,
    },
    /// Explicit tables.
    List(Vec<TableSpec>),
}

impl TableSet {
    /// The table specs, checked.
    pub fn specs(&self) -> Result<Vec<TableSpec>, InputError> {
        let specs = match self {
            TableSet::Preset(name) => preset(name).ok_or_else(|| {
                InputError::invalid(
                    "tables",
                    format!(
                        "unknown table set `{name}`{}; presets: {} (or give `synthetic:` or a list of tables)",
                        simcore::names::did_you_mean(name, PRESETS.iter().copied()),
                        PRESETS.join(", ")
                    ),
                )
            })?,
            TableSet::Synthetic { synthetic } => synthetic.generate()?,
            TableSet::List(list) => list.clone(),
        };
        if specs.is_empty() {
            return Err(InputError::invalid("tables", "no tables"));
        }
        for (i, t) in specs.iter().enumerate() {
            let bad =
                |field: &str, m: String| InputError::invalid(&format!("tables[{i}].{field}"), m);
            if t.rows == 0 {
                return Err(bad("rows", "must be at least 1".into()));
            }
            if t.dim == 0 {
                return Err(bad("dim", "must be at least 1".into()));
            }
            if !(t.coverage > 0.0 && t.coverage <= 1.0) {
                return Err(bad("coverage", format!("{} is not in (0, 1]", t.coverage)));
            }
            if !(t.pooling > 0.0 && t.pooling.is_finite()) {
                return Err(bad("pooling", format!("{} must be positive", t.pooling)));
            }
            if let Some(n) = t.distinct_values
                && !(n > 0.0 && n.is_finite())
            {
                return Err(bad("distinct_values", format!("{n} must be positive")));
            }
            if let Some(a) = t.alpha
                && !(a >= 0.0 && a.is_finite())
            {
                return Err(bad("alpha", format!("{a} must be >= 0")));
            }
        }
        Ok(specs)
    }
}

/// Derives the planners' view of `specs`: used rows, popularity, row bytes.
pub fn derive(
    specs: &[TableSpec],
    alpha: f64,
    elem_bytes: u32,
    session_default: bool,
) -> Vec<Table> {
    specs
        .iter()
        .map(|s| {
            let used = s.used_rows();
            Table {
                popularity: Popularity::new(used, s.alpha.unwrap_or(alpha)),
                used,
                row_bytes: s.row_bytes(elem_bytes),
                session_level: s.session_level.unwrap_or(session_default),
                spec: s.clone(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn criteo_has_26_tables_and_33_8m_rows() {
        let t = preset("criteo-kaggle").unwrap();
        assert_eq!(t.len(), 26);
        assert_eq!(t.iter().map(|t| t.rows).sum::<u64>(), 33_762_577);
    }

    #[test]
    fn criteo_coverage_is_measured_on_the_sample() {
        let path = simcore::data::data_file("recsys/criteo_sample.txt").unwrap();
        let path = path.as_path();
        let got = criteo_coverage(path).unwrap();
        for (g, want) in got.iter().zip(CRITEO_SAMPLE_COVERAGE) {
            assert!((g - want).abs() < 1e-9, "{got:?}");
        }
        let dir = std::env::temp_dir().join(format!("criteo-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bad = dir.join("bad.txt");
        let header = std::fs::read_to_string(path).unwrap().lines().next().unwrap().to_string();
        std::fs::write(&bad, format!("{header}\n0,1,2\n")).unwrap();
        let e = criteo_coverage(&bad).unwrap_err().to_string();
        assert!(e.contains("bad.txt:2:") && e.contains("3 columns"), "{e}");
        let e = criteo_coverage(&dir.join("missing.txt")).unwrap_err().to_string();
        assert!(e.contains("missing.txt:0:"), "{e}");
    }

    #[test]
    fn production_mix_is_hundreds_of_tables_and_terabytes() {
        let t = preset("production-mix").unwrap();
        assert_eq!(t.len(), 600);
        let bytes: f64 = t.iter().map(|t| t.rows as f64 * t.row_bytes(4)).sum();
        assert!(bytes > 3.3e12 && bytes < 3.33e12, "{bytes:e}");
        assert_eq!(t, preset("production-mix").unwrap(), "seeded");
        // Dense ids: every row is used. The hashed variant has the same tables, with 2.1 of
        // the 3.3 TB in used rows.
        assert!(t.iter().all(|t| t.used_rows() == t.rows));
        let h = preset("production-mix-hashed").unwrap();
        assert!(t.iter().zip(&h).all(|(a, b)| a.rows == b.rows
            && a.dim == b.dim
            && a.coverage == b.coverage
            && a.pooling == b.pooling));
        let used: f64 = h.iter().map(|t| t.used_rows() as f64 * t.row_bytes(4)).sum();
        assert!(used > 2.0e12 && used < 2.2e12, "{used:e}");
    }

    #[test]
    fn bad_tables_name_their_field() {
        let e = TableSet::Preset("crteo-kaggle".into()).specs().unwrap_err().to_string();
        assert!(e.contains("did you mean `criteo-kaggle`"), "{e}");
        let mut t = preset("criteo-kaggle").unwrap();
        t[3].coverage = 1.5;
        let e = TableSet::List(t).specs().unwrap_err().to_string();
        assert!(e.starts_with("workload.tables[3].coverage"), "{e}");
    }
}
