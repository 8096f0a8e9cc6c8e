//! PC-stable with Fisher-z on a CSV file, and CIRCA cases written as CSV: the Rust side of
//! `scripts/rca/pc_vs_causal_learn.py`, which runs causal-learn's `pc` on the same data.
//!
//! - `cargo run --release -p rca --example pc_csv -- circa NODES EDGES SEED OUT.csv`: the
//!   normal period of one CIRCA case (header `x0,x1,...`), and its true edges on stdout.
//! - `cargo run --release -p rca --example pc_csv -- pc IN.csv ALPHA`: the graph PC finds, one
//!   edge per line (`a -> b` or `a -- b`, 0-based column indices).

use std::error::Error;
use std::io::Write;

use rca::circa::CircaSpec;
use rca::fisher_z::FisherZ;
use rca::pc::{PcOptions, pc};
use rca::{CausalGraph, DataMatrix, Edge};
use simcore::RandomStreams;

fn print_edges(g: &CausalGraph) {
    for e in g.edges() {
        match e {
            Edge::Directed { from, to } => println!("{from} -> {to}"),
            Edge::Undirected { a, b } => println!("{a} -- {b}"),
        }
    }
}

fn read_csv(path: &str) -> Result<DataMatrix, Box<dyn Error>> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<String> =
        lines.next().ok_or(format!("{path}: empty"))?.split(',').map(str::to_string).collect();
    let mut rows = Vec::new();
    for (i, line) in lines.enumerate() {
        let row: Result<Vec<f64>, _> = line.split(',').map(|v| v.trim().parse::<f64>()).collect();
        let row = row.map_err(|e| format!("{path}:{}: {e}", i + 2))?;
        if row.len() != header.len() {
            return Err(format!(
                "{path}:{}: {} fields, header has {}",
                i + 2,
                row.len(),
                header.len()
            )
            .into());
        }
        rows.push(row);
    }
    Ok(DataMatrix::from_rows(&rows)?.with_names(header)?)
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| {
        args.get(i).map(String::as_str).ok_or("missing argument (see the docs at the top)")
    };
    match arg(0)? {
        "circa" => {
            let spec = CircaSpec {
                nodes: arg(1)?.parse()?,
                edges: arg(2)?.parse()?,
                ..CircaSpec::default()
            };
            let streams = RandomStreams::new(arg(3)?.parse()?);
            let model = spec.generate_model(&streams)?;
            let case = model.generate_case(&streams, 0)?;
            let normal = case.data.rows(case.normal.clone())?;
            let mut out = std::io::BufWriter::new(std::fs::File::create(arg(4)?)?);
            let names: Vec<String> = (0..normal.variables()).map(|j| format!("x{j}")).collect();
            writeln!(out, "{}", names.join(","))?;
            let cols: Vec<&[f64]> = normal.columns().collect();
            for i in 0..normal.samples() {
                let row: Vec<String> = cols.iter().map(|c| format!("{}", c[i])).collect();
                writeln!(out, "{}", row.join(","))?;
            }
            print_edges(&model.dag);
        }
        "pc" => {
            let data = read_csv(arg(1)?)?;
            let mut test = FisherZ::new(&data)?;
            let found =
                pc(&mut test, &PcOptions { alpha: arg(2)?.parse()?, ..PcOptions::default() })?;
            print_edges(&found.graph);
        }
        other => return Err(format!("unknown mode `{other}`: circa or pc").into()),
    }
    Ok(())
}
