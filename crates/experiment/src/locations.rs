//! Where each key and value of a YAML file is: a map from config paths to line and column,
//! built from the parser's events, so that errors found after the file became a value tree
//! (type errors, sweep values, cross-field checks) still point into the file.

use std::collections::HashMap;

use serde_saphyr::granit_parser::{Event, Parser};

use crate::value_path::{Path, Seg};

/// A 1-based line and column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Location {
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1.
    pub column: usize,
}

/// Locations of keys and values by path.
#[derive(Clone, Debug, Default)]
pub struct LocationMap {
    keys: HashMap<Path, Location>,
    values: HashMap<Path, Location>,
}

enum Frame {
    Map { path: Path, key: Option<String> },
    Seq { path: Path, index: usize },
}

impl LocationMap {
    /// Scans `text`; a syntax error just ends the scan (the YAML parser reports it separately).
    pub fn scan(text: &str) -> LocationMap {
        let mut map = LocationMap::default();
        let mut stack: Vec<Frame> = Vec::new();
        for item in Parser::new_from_str(text) {
            let Ok((event, span)) = item else { break };
            let loc = Location { line: span.start.line(), column: span.start.col() + 1 };
            // The path of a node starting here, and whether it is a mapping key.
            let (node_path, is_key) = match stack.last() {
                None => (Path::root(), false),
                Some(Frame::Map { path, key: None }) => (path.clone(), true),
                Some(Frame::Map { path, key: Some(k) }) => (path.child(Seg::Key(k.clone())), false),
                Some(Frame::Seq { path, index }) => (path.child(Seg::Index(*index)), false),
            };
            match event {
                Event::Scalar(value, ..) => {
                    if is_key {
                        map.keys.insert(node_path.child(Seg::Key(value.to_string())), loc);
                        if let Some(Frame::Map { key, .. }) = stack.last_mut() {
                            *key = Some(value.to_string());
                        }
                    } else {
                        map.values.insert(node_path, loc);
                        advance(&mut stack);
                    }
                }
                Event::MappingStart(..) => {
                    map.values.insert(node_path.clone(), loc);
                    stack.push(Frame::Map { path: node_path, key: None });
                }
                Event::SequenceStart(..) => {
                    map.values.insert(node_path.clone(), loc);
                    stack.push(Frame::Seq { path: node_path, index: 0 });
                }
                Event::MappingEnd | Event::SequenceEnd => {
                    stack.pop();
                    advance(&mut stack);
                }
                Event::Alias(..) => advance(&mut stack),
                _ => {}
            }
        }
        map
    }

    /// The best location for an error at `path`: its value, else its key, else the nearest
    /// enclosing node.
    pub fn locate(&self, path: &Path) -> Option<Location> {
        let mut p = path.clone();
        loop {
            if let Some(l) = self.values.get(&p).or_else(|| self.keys.get(&p)) {
                return Some(*l);
            }
            p.0.pop()?;
        }
    }

    /// The location of the key at `path` (for "unknown field" errors), if present.
    pub fn key(&self, path: &Path) -> Option<Location> {
        self.keys.get(path).copied()
    }
}

/// After a complete value: a mapping expects its next key, a sequence its next item.
fn advance(stack: &mut [Frame]) {
    match stack.last_mut() {
        Some(Frame::Map { key, .. }) => *key = None,
        Some(Frame::Seq { index, .. }) => *index += 1,
        None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_keys_values_and_items() {
        let text = "name: q\ncluster:\n  preset: dgx-h100\n  nodes: 2\nsweep:\n  grid:\n    workload.bytes: [1MiB, 2MiB]\nsystems:\n  - name: ring\n  - name: tree\n";
        let m = LocationMap::scan(text);
        let at = |p: &str| m.locate(&Path::parse(p).unwrap()).map(|l| (l.line, l.column));
        assert_eq!(at("name"), Some((1, 7)));
        assert_eq!(at("cluster.nodes"), Some((4, 10)));
        assert_eq!(at("systems[1].name"), Some((10, 11)));
        assert_eq!(at("systems[1].params"), Some((10, 5)), "falls back to the enclosing item");
        let grid_item = Path(vec![
            Seg::Key("sweep".into()),
            Seg::Key("grid".into()),
            Seg::Key("workload.bytes".into()),
            Seg::Index(1),
        ]);
        assert_eq!(m.locate(&grid_item).map(|l| (l.line, l.column)), Some((7, 28)));
        assert_eq!(m.key(&Path::parse("cluster.preset").unwrap()).map(|l| l.line), Some(3));
    }
}
