//! # mlsim — the command-line front end
//!
//! A thin binary over the library crates: it parses arguments, builds clusters and graphs,
//! and prints results. See `mlsim --help` and README.md.

mod cli;
mod cmd;
mod sizes;

use clap::Parser;

fn main() {
    let cli = cli::Cli::parse();
    let result = match cli.command {
        cli::Command::Collective(args) => cmd::collective::run(&args),
        cli::Command::List(args) => cmd::list::run(&args),
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(2);
    }
}
