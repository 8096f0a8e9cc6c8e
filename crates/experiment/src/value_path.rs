//! Dotted paths into a config tree (`cluster.nodes`, `systems[1].params.k`) and the edits
//! sweeps and `--set` make with them.

use std::fmt;

use serde_json::{Map, Value};

/// One step of a path: a mapping key or a sequence index.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Seg {
    /// A mapping key.
    Key(String),
    /// A sequence index.
    Index(usize),
}

/// A path from the root of a config tree.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Path(pub Vec<Seg>);

impl Path {
    /// The root.
    pub fn root() -> Path {
        Path(Vec::new())
    }

    /// Parses `a.b[2].c`; keys are non-empty runs of anything but `.`, `[` and `]`.
    pub fn parse(text: &str) -> Result<Path, String> {
        let mut segs = Vec::new();
        let bad = || format!("`{text}` is not a path like `workload.bytes` or `systems[0].name`");
        if text.trim().is_empty() {
            return Err(bad());
        }
        for part in text.trim().split('.') {
            let (key, mut rest) = match part.find('[') {
                Some(i) => (&part[..i], &part[i..]),
                None => (part, ""),
            };
            if key.is_empty() {
                return Err(bad());
            }
            segs.push(Seg::Key(key.to_string()));
            while !rest.is_empty() {
                let close = rest.find(']').ok_or_else(bad)?;
                let index: usize = rest[1..close].parse().map_err(|_| bad())?;
                segs.push(Seg::Index(index));
                rest = &rest[close + 1..];
                if !rest.is_empty() && !rest.starts_with('[') {
                    return Err(bad());
                }
            }
        }
        Ok(Path(segs))
    }

    /// This path extended by one segment.
    pub fn child(&self, seg: Seg) -> Path {
        let mut p = self.clone();
        p.0.push(seg);
        p
    }

    /// Whether `self` is `other` or lies under it.
    pub fn starts_with(&self, other: &Path) -> bool {
        self.0.len() >= other.0.len() && self.0[..other.0.len()] == other.0[..]
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            match s {
                Seg::Key(k) if i == 0 => write!(f, "{k}")?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// The value at `path`, if any.
pub fn get<'v>(root: &'v Value, path: &Path) -> Option<&'v Value> {
    let mut cur = root;
    for s in &path.0 {
        cur = match (s, cur) {
            (Seg::Key(k), Value::Object(m)) => m.get(k)?,
            (Seg::Index(i), Value::Array(a)) => a.get(*i)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// Sets the value at `path`, creating missing mapping keys on the way.
pub fn set(root: &mut Value, path: &Path, value: Value) -> Result<(), String> {
    let mut cur = root;
    for (depth, s) in path.0.iter().enumerate() {
        let here = Path(path.0[..depth].to_vec());
        cur = match s {
            Seg::Key(k) => {
                if cur.is_null() {
                    *cur = Value::Object(Map::new());
                }
                match cur {
                    Value::Object(m) => m.entry(k.clone()).or_insert(Value::Null),
                    _ => return Err(format!("cannot set `{path}`: `{here}` is not a mapping")),
                }
            }
            Seg::Index(i) => match cur {
                Value::Array(a) => {
                    let len = a.len();
                    a.get_mut(*i)
                        .ok_or_else(|| format!("cannot set `{path}`: `{here}` has {len} items"))?
                }
                _ => return Err(format!("cannot set `{path}`: `{here}` is not a list")),
            },
        };
    }
    *cur = value;
    Ok(())
}

/// Merges `over` into `base`: mappings merge key by key, anything else replaces.
pub fn deep_merge(base: &mut Value, over: &Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(k) {
                    Some(bv) => deep_merge(bv, v),
                    None => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (b, o) => *b = o.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parse_and_display() {
        let p = Path::parse("systems[1].params.k").unwrap();
        assert_eq!(
            p.0,
            vec![
                Seg::Key("systems".into()),
                Seg::Index(1),
                Seg::Key("params".into()),
                Seg::Key("k".into())
            ]
        );
        assert_eq!(p.to_string(), "systems[1].params.k");
        assert!(Path::parse("a..b").is_err());
        assert!(Path::parse("a[x]").is_err());
        assert!(Path::parse("").is_err());
    }

    #[test]
    fn get_set_merge() {
        let mut v = json!({"cluster": {"nodes": 1}, "systems": [{"name": "a"}]});
        set(&mut v, &Path::parse("cluster.nodes").unwrap(), json!(4)).unwrap();
        set(&mut v, &Path::parse("workload.bytes").unwrap(), json!("1MiB")).unwrap();
        set(&mut v, &Path::parse("systems[0].name").unwrap(), json!("b")).unwrap();
        assert!(set(&mut v, &Path::parse("systems[3].name").unwrap(), json!(1)).is_err());
        assert!(set(&mut v, &Path::parse("cluster.nodes.x").unwrap(), json!(1)).is_err());
        assert_eq!(get(&v, &Path::parse("workload.bytes").unwrap()), Some(&json!("1MiB")));
        let mut base = json!({"node": {"gpus": 8, "nics": 8}, "nodes": 1});
        deep_merge(&mut base, &json!({"node": {"nics": 4}, "nodes": 2}));
        assert_eq!(base, json!({"node": {"gpus": 8, "nics": 4}, "nodes": 2}));
    }
}
