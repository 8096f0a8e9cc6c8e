//! Loaders for the Planetoid citation graphs in the plain-text form of the repository's `data/planetoid`
//! (Yang, Cohen, Salakhutdinov, ICML 2016; kimiyoung/planetoid, MIT): `NAME.edges.tsv` (one
//! `src<TAB>dst` pair a line), `NAME.labels.txt` (the class of node `i` on line `i`, `-1` for
//! none), `NAME.split.txt` (`train`, `val`, `test` lines of node ids) and, where present,
//! `NAME.features.txt` (line `i`: the `column:value` pairs of node `i`, blank for a node
//! without features). Lines starting with `#` are comments. Every malformed line is an error
//! naming the file and line.

use std::path::{Path, PathBuf};

use crate::graph::Graph;
use simcore::InputError;

/// Sparse node features: row `i` holds node `i`'s `(column, value)` pairs.
#[derive(Clone, Debug, PartialEq)]
pub struct Features {
    /// Columns.
    pub dim: u32,
    /// Per node, its nonzero entries.
    pub rows: Vec<Vec<(u32, f32)>>,
}

/// The standard split.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Split {
    /// Training nodes.
    pub train: Vec<u32>,
    /// Validation nodes.
    pub val: Vec<u32>,
    /// Test nodes.
    pub test: Vec<u32>,
}

/// A graph with labels, split and (maybe) features.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// Name (`cora`).
    pub name: String,
    /// The graph.
    pub graph: Graph,
    /// Class per node (`-1` for none).
    pub labels: Vec<i32>,
    /// Number of classes (largest label + 1).
    pub classes: u32,
    /// Node features, if the data set has them.
    pub features: Option<Features>,
    /// The standard split.
    pub split: Split,
}

/// The data lines of a file: (1-based line number, text), comments and blank lines skipped.
fn lines(path: &Path) -> Result<Vec<(usize, String)>, InputError> {
    let text = std::fs::read_to_string(path).map_err(|e| InputError::Data {
        path: path.display().to_string(),
        line: 0,
        message: e.to_string(),
    })?;
    Ok(text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|(i, l)| (i + 1, l.to_string()))
        .collect())
}

fn bad(path: &Path, line: usize, message: String) -> InputError {
    InputError::Data { path: path.display().to_string(), line, message }
}

impl Dataset {
    /// Loads `NAME.*` from `dir`.
    pub fn load(dir: &Path, name: &str) -> Result<Dataset, InputError> {
        let file = |ext: &str| -> PathBuf { dir.join(format!("{name}.{ext}")) };
        // Labels first: they fix the node count.
        let label_path = file("labels.txt");
        let mut labels = Vec::new();
        for (n, l) in lines(&label_path)? {
            let v: i32 = l.trim().parse().map_err(|_| {
                bad(&label_path, n, format!("`{}` is not a class number (or -1)", l.trim()))
            })?;
            if v < -1 {
                return Err(bad(&label_path, n, format!("class {v} is below -1")));
            }
            labels.push(v);
        }
        if labels.is_empty() {
            return Err(bad(&label_path, 0, "no labels: the file has no data lines".into()));
        }
        let nodes = labels.len() as u32;
        let classes = (labels.iter().copied().max().unwrap_or(-1) + 1).max(0) as u32;
        let node = |path: &Path, n: usize, text: &str| -> Result<u32, InputError> {
            let v: u32 = text
                .trim()
                .parse()
                .map_err(|_| bad(path, n, format!("`{}` is not a node id", text.trim())))?;
            if v >= nodes {
                return Err(bad(
                    path,
                    n,
                    format!("node {v} is out of range: the labels file has {nodes} nodes"),
                ));
            }
            Ok(v)
        };
        let edge_path = file("edges.tsv");
        let mut edges = Vec::new();
        for (n, l) in lines(&edge_path)? {
            let cols: Vec<&str> = l.split_whitespace().collect();
            if cols.len() != 2 {
                return Err(bad(
                    &edge_path,
                    n,
                    format!("expected `src<TAB>dst`, found {} fields", cols.len()),
                ));
            }
            edges.push((node(&edge_path, n, cols[0])?, node(&edge_path, n, cols[1])?));
        }
        let graph = Graph::from_edges(nodes, &edges);
        let split_path = file("split.txt");
        let mut split = Split::default();
        for (n, l) in lines(&split_path)? {
            let mut parts = l.split_whitespace();
            let which = parts.next().unwrap_or("");
            let ids = parts.map(|t| node(&split_path, n, t)).collect::<Result<Vec<u32>, _>>()?;
            let mut sorted = ids.clone();
            sorted.sort_unstable();
            if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
                return Err(bad(&split_path, n, format!("node {} is listed twice", w[0])));
            }
            match which {
                "train" => split.train = ids,
                "val" => split.val = ids,
                "test" => split.test = ids,
                other => {
                    return Err(bad(
                        &split_path,
                        n,
                        format!("`{other}`: expected train, val or test"),
                    ));
                }
            }
        }
        if split.train.is_empty() {
            return Err(bad(&split_path, 0, "no `train` line".into()));
        }
        let feature_path = file("features.txt");
        let features = if feature_path.exists() {
            let mut rows = Vec::with_capacity(nodes as usize);
            let mut dim = 0u32;
            // Blank lines are nodes without features (CiteSeer has 15): keep them.
            let text = std::fs::read_to_string(&feature_path)
                .map_err(|e| bad(&feature_path, 0, e.to_string()))?;
            let data: Vec<(usize, String)> = text
                .lines()
                .enumerate()
                .filter(|(_, l)| !l.starts_with('#'))
                .map(|(i, l)| (i + 1, l.to_string()))
                .collect();
            for (n, l) in &data {
                let mut row = Vec::new();
                for pair in l.split_whitespace() {
                    let (c, v) = pair.split_once(':').ok_or_else(|| {
                        bad(&feature_path, *n, format!("`{pair}` is not column:value"))
                    })?;
                    let c: u32 = c.parse().map_err(|_| {
                        bad(&feature_path, *n, format!("column `{c}` is not a number"))
                    })?;
                    let v: f32 = v.parse().map_err(|_| {
                        bad(&feature_path, *n, format!("value `{v}` is not a number"))
                    })?;
                    dim = dim.max(c + 1);
                    row.push((c, v));
                }
                rows.push(row);
            }
            if rows.len() != nodes as usize {
                return Err(bad(
                    &feature_path,
                    data.last().map_or(0, |d| d.0),
                    format!("{} feature rows for {nodes} nodes", rows.len()),
                ));
            }
            // The header may state the column count ("...; 1433 columns"): trust it if larger.
            let stated =
                text.lines().next().map(str::to_string).filter(|l| l.starts_with('#')).and_then(
                    |l| {
                        let words: Vec<&str> = l.split_whitespace().collect();
                        words
                            .windows(2)
                            .find(|w| w[1].starts_with("columns"))
                            .and_then(|w| w[0].parse::<u32>().ok())
                    },
                );
            Some(Features { dim: dim.max(stated.unwrap_or(0)), rows })
        } else {
            None
        };
        Ok(Dataset { name: name.to_string(), graph, labels, classes, features, split })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data_dir() -> PathBuf {
        simcore::data::data_file("planetoid").unwrap()
    }

    #[test]
    fn the_citation_graphs_have_their_published_sizes() {
        for (name, nodes, edges, classes, feats) in [
            ("cora", 2708, 5278, 7, Some(1433)),
            ("citeseer", 3327, 4552, 6, Some(3703)),
            ("pubmed", 19717, 44324, 3, None),
        ] {
            let d = Dataset::load(&data_dir(), name).unwrap();
            assert_eq!(d.graph.nodes(), nodes, "{name}");
            assert_eq!(d.graph.edges(), edges, "{name}");
            assert_eq!(d.classes, classes, "{name}");
            assert_eq!(d.features.as_ref().map(|f| f.dim), feats, "{name}");
            assert_eq!(d.split.train.len(), classes as usize * 20, "{name}");
            assert_eq!(d.split.test.len(), 1000, "{name}");
        }
    }

    #[test]
    fn malformed_files_name_their_line() {
        let dir = std::env::temp_dir().join(format!("planetoid-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("g.labels.txt"), "# header\n0\n1\n1\n").unwrap();
        std::fs::write(dir.join("g.split.txt"), "train\t0 1\nval\t2\ntest\t2\n").unwrap();
        std::fs::write(dir.join("g.edges.tsv"), "# edges\n0\t1\n1\t7\n").unwrap();
        let e = Dataset::load(&dir, "g").unwrap_err().to_string();
        assert!(
            e.ends_with("g.edges.tsv:3: node 7 is out of range: the labels file has 3 nodes"),
            "{e}"
        );
        std::fs::write(dir.join("g.edges.tsv"), "0\t1\n1 2 3\n").unwrap();
        let e = Dataset::load(&dir, "g").unwrap_err().to_string();
        assert!(e.contains("g.edges.tsv:2:") && e.contains("3 fields"), "{e}");
        std::fs::write(dir.join("g.edges.tsv"), "0\t1\n").unwrap();
        std::fs::write(dir.join("g.features.txt"), "0:1\n1:x\n2:1\n").unwrap();
        let e = Dataset::load(&dir, "g").unwrap_err().to_string();
        assert!(e.contains("g.features.txt:2:") && e.contains("value `x`"), "{e}");
        std::fs::write(dir.join("g.features.txt"), "0:1\n1:1\n2:1\n").unwrap();
        std::fs::write(dir.join("g.split.txt"), "train\t0\nvalid\t1\n").unwrap();
        let e = Dataset::load(&dir, "g").unwrap_err().to_string();
        assert!(e.contains("g.split.txt:2:") && e.contains("expected train, val or test"), "{e}");
        let e = Dataset::load(&dir, "missing").unwrap_err().to_string();
        assert!(e.contains("missing.labels.txt:0:"), "{e}");
        std::fs::write(dir.join("g.split.txt"), "train\t0\n").unwrap();
        let d = Dataset::load(&dir, "g").unwrap();
        assert_eq!((d.graph.edges(), d.features.unwrap().dim), (1, 3));
    }
}
