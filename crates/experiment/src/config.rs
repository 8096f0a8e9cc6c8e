//! The experiment file: its shape, how it is read, and how `--set` overrides apply.
//!
//! ```yaml
//! name: quickstart            # results go to results/<name>/
//! kind: collective            # which simulator (see `mlsim list kinds`)
//! description: ...
//! cluster: { preset: dgx-h100, nodes: 2 }   # a preset plus overrides, or a full spec
//! workload: { ... }           # the kind's workload
//! systems:                    # what to compare; `system:` defaults to `name:`
//!   - name: ring
//!   - { name: tuned, system: tree, params: { ... } }
//! seeds: 3                    # or a list: [1, 7, 42]
//! sweep:
//!   grid: { workload.bytes: [1MiB, 1GiB], cluster.nodes: [1, 2] }   # cartesian product
//!   zip:  { a.b: [1, 2], c.d: [x, y] }                             # lock-step lists
//!   cases:                    # sub-sweeps listed one after another (inside grid and zip)
//!     - grid: { workload.x: [1, 2] }
//!     - grid: { workload.y: [a, b] }
//! report:
//!   plots: [ ... ]
//! ```

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{ConfigError, Origin, with_suggestion};
use crate::locations::LocationMap;
use crate::report::ReportSpec;
use crate::value_path::{self, Path, Seg};

/// One system to compare.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SystemEntry {
    /// Label in results and plots (unique within the file).
    pub name: String,
    /// Which implementation; defaults to `name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// The implementation's parameters.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub params: Value,
}

impl SystemEntry {
    /// The implementation name.
    pub fn implementation(&self) -> &str {
        self.system.as_deref().unwrap_or(&self.name)
    }
}

/// Seeds: a count `n` (seeds 1..=n) or an explicit list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Seeds(pub Vec<u64>);

impl Default for Seeds {
    fn default() -> Self {
        Seeds(vec![1])
    }
}

impl Seeds {
    /// Parses `--seeds`: `5` (seeds 1..=5) or `1,7,42`.
    pub fn parse_arg(text: &str) -> Result<Seeds, String> {
        let t = text.trim();
        if t.contains(',') {
            let list: Result<Vec<u64>, _> = t.split(',').map(|s| s.trim().parse::<u64>()).collect();
            return list
                .map(Seeds)
                .map_err(|_| format!("`{t}` is not a list of seeds like 1,7,42"));
        }
        match t.parse::<u64>() {
            Ok(0) => Err("need at least one seed".into()),
            Ok(n) => Ok(Seeds((1..=n).collect())),
            Err(_) => Err(format!("`{t}` is not a seed count (5) or a list (1,7,42)")),
        }
    }
}

impl<'de> Deserialize<'de> for Seeds {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        match Value::deserialize(d)? {
            Value::Number(n) => match n.as_u64() {
                Some(0) | None => {
                    Err(D::Error::custom("seeds must be a count >= 1 or a list of seeds"))
                }
                Some(k) => Ok(Seeds((1..=k).collect())),
            },
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for it in items {
                    out.push(it.as_u64().ok_or_else(|| {
                        D::Error::custom(format!("seed {it} is not a non-negative integer"))
                    })?);
                }
                if out.is_empty() {
                    return Err(D::Error::custom("the seed list is empty"));
                }
                Ok(Seeds(out))
            }
            other => Err(D::Error::custom(format!(
                "seeds must be a count (3) or a list ([1, 7, 42]), got {other}"
            ))),
        }
    }
}

/// Parameters to sweep, by dotted path.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepSpec {
    /// Cartesian product over these lists, first axis outermost.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub grid: Map<String, Value>,
    /// Lists of equal length varied in lock-step, as one innermost axis.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub zip: Map<String, Value>,
    /// Sub-sweeps (each a `grid` and/or `zip`) whose points are listed one after another,
    /// inside the axes above: for sweeps whose axes do not combine (a number of concurrent
    /// failures in one case, a failure rate in another).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cases: Vec<SweepSpec>,
}

impl SweepSpec {
    /// The axes zipped with `axis` (in the same `zip`, here or in a case).
    pub fn zip_partners(&self, axis: &str) -> Vec<&str> {
        std::iter::once(self)
            .chain(self.cases.iter())
            .filter(|s| s.zip.contains_key(axis))
            .flat_map(|s| s.zip.keys().map(String::as_str).filter(|k| *k != axis))
            .collect()
    }
}

/// The top level of an experiment file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentConfig {
    /// Name; results go to `results/<name>/`.
    pub name: String,
    /// Which simulator.
    pub kind: String,
    /// One paragraph on what the experiment shows.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// A preset plus overrides (`{preset: dgx-h100, nodes: 4}`) or a full cluster spec;
    /// optional for kinds that simulate no hardware (rca, datapipe).
    #[serde(default)]
    pub cluster: Value,
    /// The kind's workload.
    #[serde(default)]
    pub workload: Value,
    /// Systems to compare.
    pub systems: Vec<SystemEntry>,
    /// Seeds.
    #[serde(default)]
    pub seeds: Seeds,
    /// Parameters to sweep.
    #[serde(default)]
    pub sweep: SweepSpec,
    /// Plots.
    #[serde(default)]
    pub report: ReportSpec,
}

/// A config file read into a tree, with its text and locations for error messages, and the
/// `--set` overrides applied.
#[derive(Clone, Debug)]
pub struct LoadedConfig {
    /// The file name as given.
    pub file: String,
    /// Its text.
    pub text: String,
    /// Where each key and value is.
    pub locations: LocationMap,
    /// The tree after overrides.
    pub tree: Value,
    /// Overrides applied, as (path, argument).
    pub overrides: Vec<(Path, String)>,
    /// The typed top level.
    pub config: ExperimentConfig,
}

impl LoadedConfig {
    /// Reads `file` (a path or a name for `text`) and applies `sets` (`path=value`) and an
    /// optional `--seeds` argument.
    pub fn from_text(
        file: &str,
        text: &str,
        sets: &[String],
        seeds: Option<&str>,
    ) -> Result<LoadedConfig, ConfigError> {
        let locations = LocationMap::scan(text);
        let mut tree: Value = serde_saphyr::from_str(text).map_err(|e| {
            let at = e.location().map(|l| crate::locations::Location {
                line: l.line() as usize,
                column: l.column() as usize,
            });
            let first = e.to_string();
            let message = first
                .lines()
                .next()
                .unwrap_or("")
                .trim_start_matches("error: ")
                .split_once(": ")
                .map(|(pos, rest)| {
                    if pos.starts_with("line ") {
                        rest.to_string()
                    } else {
                        format!("{pos}: {rest}")
                    }
                })
                .unwrap_or(first.clone());
            ConfigError {
                origin: Origin::File {
                    file: file.to_string(),
                    at,
                    line_text: at.and_then(|l| {
                        text.lines().nth(l.line.saturating_sub(1)).map(str::to_string)
                    }),
                },
                path: None,
                message: format!("not valid YAML: {message}"),
            }
        })?;
        if !tree.is_object() {
            return Err(ConfigError {
                origin: Origin::File { file: file.into(), at: None, line_text: None },
                path: None,
                message: "an experiment file is a mapping with name, kind, cluster, workload, systems, ...".into(),
            });
        }
        let mut overrides = Vec::new();
        for arg in sets {
            let err = |m: String| ConfigError {
                origin: Origin::Set(arg.clone()),
                path: None,
                message: m,
            };
            let (p, v) = arg
                .split_once('=')
                .ok_or_else(|| err("expected PATH=VALUE, e.g. cluster.nodes=4".into()))?;
            let path = Path::parse(p).map_err(err)?;
            let value: Value = serde_saphyr::from_str(v).map_err(|e| {
                err(format!(
                    "`{v}` is not a YAML value: {}",
                    e.to_string().lines().next().unwrap_or("")
                ))
            })?;
            value_path::set(&mut tree, &path, value).map_err(err)?;
            overrides.push((path, arg.clone()));
        }
        if let Some(s) = seeds {
            let list = Seeds::parse_arg(s).map_err(|m| ConfigError {
                origin: Origin::Seeds(s.into()),
                path: None,
                message: m,
            })?;
            let path = Path(vec![Seg::Key("seeds".into())]);
            value_path::set(&mut tree, &path, serde_json::to_value(&list.0).unwrap_or(Value::Null))
                .map_err(|m| ConfigError::other("--seeds", m))?;
            overrides.push((path, format!("--seeds {s}")));
        }
        let mut loaded = LoadedConfig {
            file: file.to_string(),
            text: text.to_string(),
            locations,
            tree: tree.clone(),
            overrides,
            config: ExperimentConfig {
                name: String::new(),
                kind: String::new(),
                description: String::new(),
                cluster: Value::Null,
                workload: Value::Null,
                systems: Vec::new(),
                seeds: Seeds::default(),
                sweep: SweepSpec::default(),
                report: ReportSpec::default(),
            },
        };
        loaded.config = loaded.typed(&tree, &Path::root(), &[])?;
        loaded.check_top_level()?;
        Ok(loaded)
    }

    /// Reads a file from disk.
    pub fn from_file(
        path: &std::path::Path,
        sets: &[String],
        seeds: Option<&str>,
    ) -> Result<LoadedConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError::other(path.display().to_string(), format!("cannot read: {e}"))
        })?;
        LoadedConfig::from_text(&path.display().to_string(), &text, sets, seeds)
    }

    /// Where an error at `path` came from: a sweep value of this point, an override, or the
    /// file. `assigned` lists (path, location path in the file) of the point's sweep values.
    pub fn error_at(&self, path: &Path, assigned: &[(Path, Path)], message: String) -> ConfigError {
        let message = with_suggestion(&message);
        if let Some((_, at)) = assigned.iter().find(|(p, _)| path.starts_with(p)) {
            let mut e = ConfigError::in_file(&self.file, &self.text, &self.locations, at, message);
            e.path = Some(path.to_string());
            return e;
        }
        if let Some((_, arg)) = self.overrides.iter().rev().find(|(p, _)| path.starts_with(p)) {
            let origin = if arg.starts_with("--seeds") {
                Origin::Seeds(arg.trim_start_matches("--seeds ").into())
            } else {
                Origin::Set(arg.clone())
            };
            return ConfigError { origin, path: Some(path.to_string()), message };
        }
        // Unknown fields are reported at their key, everything else at the value.
        if message.starts_with("unknown field")
            && let Some(l) = self.locations.key(path)
        {
            return ConfigError {
                origin: Origin::File {
                    file: self.file.clone(),
                    at: Some(l),
                    line_text: self.text.lines().nth(l.line - 1).map(str::to_string),
                },
                path: Some(path.to_string()),
                message,
            };
        }
        ConfigError::in_file(&self.file, &self.text, &self.locations, path, message)
    }

    /// Deserialises `value` (found at `at` in the tree) as `T`, turning errors into located
    /// config errors.
    pub fn typed<T: DeserializeOwned>(
        &self,
        value: &Value,
        at: &Path,
        assigned: &[(Path, Path)],
    ) -> Result<T, ConfigError> {
        serde_path_to_error::deserialize(value).map_err(|e| {
            let mut path = at.clone();
            for seg in e.path().iter() {
                match seg {
                    serde_path_to_error::Segment::Map { key } => path.0.push(Seg::Key(key.clone())),
                    serde_path_to_error::Segment::Seq { index } => path.0.push(Seg::Index(*index)),
                    _ => {}
                }
            }
            self.error_at(&path, assigned, e.inner().to_string())
        })
    }

    fn check_top_level(&self) -> Result<(), ConfigError> {
        let c = &self.config;
        let at = |p: &str, m: String| self.error_at(&Path::parse(p).unwrap_or_default(), &[], m);
        if c.name.is_empty()
            || !c.name.chars().all(|ch| ch.is_ascii_alphanumeric() || "-_.".contains(ch))
        {
            return Err(at(
                "name",
                format!(
                    "`{}` must be non-empty and use only letters, digits, `-`, `_` and `.` (it names the results folder)",
                    c.name
                ),
            ));
        }
        if c.systems.is_empty() {
            return Err(at("systems", "list at least one system to run".into()));
        }
        for (i, s) in c.systems.iter().enumerate() {
            if c.systems[..i].iter().any(|t| t.name == s.name) {
                return Err(at(
                    &format!("systems[{i}].name"),
                    format!("`{}` is used twice; system names must be unique", s.name),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "name: t\nkind: collective\ncluster:\n  preset: dgx-h100\nworkload:\n  op: all-reduce\n  bytes: 1MiB\nsystems:\n  - name: ring\n";

    #[test]
    fn reads_and_overrides() {
        let l = LoadedConfig::from_text(
            "t.yaml",
            BASE,
            &["cluster.nodes=2".into(), "workload.bytes=8MiB".into()],
            Some("3"),
        )
        .unwrap();
        assert_eq!(l.config.name, "t");
        assert_eq!(l.config.seeds, Seeds(vec![1, 2, 3]));
        assert_eq!(l.config.cluster["nodes"], 2);
        assert_eq!(l.config.workload["bytes"], "8MiB");
    }

    #[test]
    fn unknown_top_level_field_points_at_its_key_with_a_suggestion() {
        let text = format!("{BASE}seeds: 2\nsweeep:\n  grid: {{}}\n");
        let e = LoadedConfig::from_text("t.yaml", &text, &[], None).unwrap_err();
        let s = e.to_string();
        assert!(s.starts_with("t.yaml:11:1: sweeep: unknown field `sweeep`"), "{s}");
        assert!(s.contains("did you mean `sweep`"), "{s}");
    }

    #[test]
    fn bad_seeds_and_set_arguments() {
        let text = format!("{BASE}seeds: many\n");
        let e = LoadedConfig::from_text("t.yaml", &text, &[], None).unwrap_err().to_string();
        assert!(e.starts_with("t.yaml:10:8: seeds: seeds must be a count"), "{e}");
        let e = LoadedConfig::from_text("t.yaml", BASE, &["cluster.nodes".into()], None)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("--set cluster.nodes: expected PATH=VALUE"), "{e}");
        let e = LoadedConfig::from_text("t.yaml", BASE, &[], Some("0")).unwrap_err().to_string();
        assert!(e.contains("at least one seed"), "{e}");
    }

    #[test]
    fn syntax_errors_are_located() {
        let e =
            LoadedConfig::from_text("t.yaml", "name: [unclosed\nkind: x\n", &[], None).unwrap_err();
        assert!(matches!(e.origin, Origin::File { at: Some(_), .. }), "{e}");
        assert!(e.to_string().contains("not valid YAML"), "{e}");
    }

    #[test]
    fn duplicate_system_names_are_rejected() {
        let text = format!("{BASE}  - name: ring\n");
        let e = LoadedConfig::from_text("t.yaml", &text, &[], None).unwrap_err().to_string();
        assert!(e.starts_with("t.yaml:10:11: systems[1].name: `ring` is used twice"), "{e}");
    }
}
