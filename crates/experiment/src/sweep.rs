//! Sweep expansion: `grid` axes multiply (first axis outermost), `zip` lists advance together as
//! one innermost axis, and `cases` (sub-sweeps) list their points one after another inside
//! both.

use serde_json::Value;

use crate::config::{LoadedConfig, SweepSpec};
use crate::error::ConfigError;
use crate::value_path::{Path, Seg};

/// One value a point assigns: where it goes, what it is, and where it is written in the file.
#[derive(Clone, Debug, PartialEq)]
pub struct Assignment {
    /// Config path it sets.
    pub path: Path,
    /// The value.
    pub value: Value,
    /// Its place in the file (`sweep.grid.<axis>[i]`), for error messages.
    pub source: Path,
}

/// Roots a sweep may change.
const SWEEPABLE: [&str; 3] = ["cluster", "workload", "systems"];

struct Axis {
    /// Per position, the assignments made together.
    positions: Vec<Vec<Assignment>>,
}

fn axis_lists(
    loaded: &LoadedConfig,
    at: &Path,
    section: &str,
    map: &serde_json::Map<String, Value>,
) -> Result<Vec<(Path, Vec<Value>, Path)>, ConfigError> {
    let mut out = Vec::new();
    for (key, value) in map {
        let source = at.child(Seg::Key(section.into())).child(Seg::Key(key.clone()));
        let err = |m: String| loaded.error_at(&source, &[], m);
        let path = Path::parse(key).map_err(err)?;
        match path.0.first() {
            Some(Seg::Key(root)) if SWEEPABLE.contains(&root.as_str()) => {}
            _ => {
                return Err(err(format!(
                    "cannot sweep `{key}`: sweeps change values under {} (e.g. workload.bytes, cluster.nodes, systems[0].params.k)",
                    SWEEPABLE.join(", ")
                )));
            }
        }
        let items = match value {
            Value::Array(items) if !items.is_empty() => items.clone(),
            _ => {
                return Err(err(format!(
                    "`{key}` must be a non-empty list of values, e.g. [1, 2, 4]"
                )));
            }
        };
        out.push((path, items, source));
    }
    Ok(out)
}

/// The points of a sweep: each a list of assignments (one point with none if there is no
/// sweep).
pub fn expand(loaded: &LoadedConfig) -> Result<Vec<Vec<Assignment>>, ConfigError> {
    let at = Path(vec![Seg::Key("sweep".into())]);
    let spec = &loaded.config.sweep;
    let outer = block(loaded, spec, &at, &[])?;
    if spec.cases.is_empty() {
        return Ok(outer);
    }
    let outer_paths: Vec<Path> =
        outer.first().map(|p| p.iter().map(|a| a.path.clone()).collect()).unwrap_or_default();
    let mut cases = Vec::with_capacity(spec.cases.len());
    for (i, case) in spec.cases.iter().enumerate() {
        let here = at.child(Seg::Key("cases".into())).child(Seg::Index(i));
        if !case.cases.is_empty() {
            return Err(loaded.error_at(
                &here.child(Seg::Key("cases".into())),
                &[],
                "cases cannot be nested: give each case a grid and/or zip".into(),
            ));
        }
        if case.grid.is_empty() && case.zip.is_empty() {
            return Err(loaded.error_at(
                &here,
                &[],
                "an empty case: give it a grid and/or zip".into(),
            ));
        }
        cases.push(block(loaded, case, &here, &outer_paths)?);
    }
    let mut points = Vec::new();
    for o in &outer {
        for case in &cases {
            for c in case {
                let mut q = o.clone();
                q.extend(c.iter().cloned());
                points.push(q);
            }
        }
    }
    Ok(points)
}

/// The points of one `grid` + `zip` block at `at`; `taken` are paths set outside it.
fn block(
    loaded: &LoadedConfig,
    spec: &SweepSpec,
    at: &Path,
    taken: &[Path],
) -> Result<Vec<Vec<Assignment>>, ConfigError> {
    let mut axes: Vec<Axis> = Vec::new();
    let mut seen: Vec<Path> = taken.to_vec();
    let mut check_dup = |p: &Path, source: &Path| -> Result<(), ConfigError> {
        if let Some(prev) = seen.iter().find(|q| p.starts_with(q) || q.starts_with(p)) {
            return Err(loaded.error_at(
                source,
                &[],
                format!("`{p}` overlaps `{prev}`, which another sweep axis already sets"),
            ));
        }
        seen.push(p.clone());
        Ok(())
    };
    for (path, items, source) in axis_lists(loaded, at, "grid", &spec.grid)? {
        check_dup(&path, &source)?;
        let positions = items
            .into_iter()
            .enumerate()
            .map(|(i, value)| {
                vec![Assignment { path: path.clone(), value, source: source.child(Seg::Index(i)) }]
            })
            .collect();
        axes.push(Axis { positions });
    }
    let zip = axis_lists(loaded, at, "zip", &spec.zip)?;
    if let Some((_, first, _)) = zip.first() {
        let len = first.len();
        for (path, items, source) in &zip {
            check_dup(path, source)?;
            if items.len() != len {
                return Err(loaded.error_at(
                    source,
                    &[],
                    format!(
                        "zip lists must have equal lengths: `{path}` has {}, the first has {len}",
                        items.len()
                    ),
                ));
            }
        }
        let positions = (0..len)
            .map(|i| {
                zip.iter()
                    .map(|(path, items, source)| Assignment {
                        path: path.clone(),
                        value: items[i].clone(),
                        source: source.child(Seg::Index(i)),
                    })
                    .collect()
            })
            .collect();
        axes.push(Axis { positions });
    }
    let mut points: Vec<Vec<Assignment>> = vec![Vec::new()];
    for axis in &axes {
        let mut next = Vec::with_capacity(points.len() * axis.positions.len());
        for p in &points {
            for pos in &axis.positions {
                let mut q = p.clone();
                q.extend(pos.iter().cloned());
                next.push(q);
            }
        }
        points = next;
    }
    Ok(points)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(sweep: &str) -> Result<LoadedConfig, ConfigError> {
        let text = format!(
            "name: t\nkind: collective\ncluster: {{preset: dgx-h100}}\nworkload: {{op: all-reduce, bytes: 1MiB}}\nsystems: [{{name: ring}}]\nsweep:\n{sweep}"
        );
        LoadedConfig::from_text("t.yaml", &text, &[], None)
    }

    fn values(points: &[Vec<Assignment>]) -> Vec<Vec<String>> {
        points
            .iter()
            .map(|p| p.iter().map(|a| format!("{}={}", a.path, a.value)).collect())
            .collect()
    }

    #[test]
    fn grid_is_a_cartesian_product_first_axis_outermost() {
        let l =
            load("  grid:\n    cluster.nodes: [1, 2]\n    workload.bytes: [a, b, c]\n").unwrap();
        let p = expand(&l).unwrap();
        assert_eq!(p.len(), 6);
        assert_eq!(values(&p)[0], vec!["cluster.nodes=1", "workload.bytes=\"a\""]);
        assert_eq!(values(&p)[1], vec!["cluster.nodes=1", "workload.bytes=\"b\""]);
        assert_eq!(values(&p)[3], vec!["cluster.nodes=2", "workload.bytes=\"a\""]);
    }

    #[test]
    fn zip_goes_in_lock_step_inside_the_grid() {
        let l = load("  grid:\n    cluster.nodes: [1, 2]\n  zip:\n    workload.bytes: [a, b]\n    workload.gpus: [8, 16]\n").unwrap();
        let p = expand(&l).unwrap();
        assert_eq!(p.len(), 4);
        assert_eq!(
            values(&p)[1],
            vec!["cluster.nodes=1", "workload.bytes=\"b\"", "workload.gpus=16"]
        );
        assert_eq!(p[1][2].source.to_string(), "sweep.zip.workload.gpus[1]");
    }

    #[test]
    fn cases_follow_each_other_inside_the_outer_axes() {
        let l = load("  grid:\n    cluster.nodes: [1, 2]\n  cases:\n    - grid:\n        workload.bytes: [a, b]\n    - zip:\n        workload.gpus: [8, 16]\n        workload.skew: [x, y]\n").unwrap();
        let p = expand(&l).unwrap();
        assert_eq!(p.len(), 8);
        assert_eq!(values(&p)[0], vec!["cluster.nodes=1", "workload.bytes=\"a\""]);
        assert_eq!(
            values(&p)[2],
            vec!["cluster.nodes=1", "workload.gpus=8", "workload.skew=\"x\""]
        );
        assert_eq!(values(&p)[4], vec!["cluster.nodes=2", "workload.bytes=\"a\""]);
        assert_eq!(p[3][1].source.to_string(), "sweep.cases[1].zip.workload.gpus[1]");
        let e = expand(&load("  grid:\n    workload.bytes: [a]\n  cases:\n    - grid:\n        workload.bytes: [b]\n").unwrap()).unwrap_err().to_string();
        assert!(e.contains("t.yaml:11:") && e.contains("overlaps"), "{e}");
        let e = expand(&load("  cases:\n    - grid: {}\n").unwrap()).unwrap_err().to_string();
        assert!(e.contains("empty case"), "{e}");
    }

    #[test]
    fn no_sweep_is_one_point() {
        let l = load("  grid: {}\n").unwrap();
        assert_eq!(expand(&l).unwrap(), vec![Vec::<Assignment>::new()]);
    }

    #[test]
    fn bad_sweeps_are_located() {
        let e =
            expand(&load("  zip:\n    workload.bytes: [a, b]\n    workload.gpus: [8]\n").unwrap())
                .unwrap_err()
                .to_string();
        assert!(e.contains("t.yaml:9:") && e.contains("equal lengths"), "{e}");
        let e = expand(&load("  grid:\n    name: [a, b]\n").unwrap()).unwrap_err().to_string();
        assert!(e.contains("cannot sweep `name`"), "{e}");
        let e = expand(&load("  grid:\n    cluster.nodes: 4\n").unwrap()).unwrap_err().to_string();
        assert!(e.contains("non-empty list"), "{e}");
        let e = expand(
            &load("  grid:\n    cluster: [{preset: dgx-a100}]\n    cluster.nodes: [1]\n").unwrap(),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("overlaps"), "{e}");
    }
}
