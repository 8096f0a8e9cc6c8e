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
        cli::Command::Run(args) => cmd::run::run(&args),
        cli::Command::Validate(args) => cmd::run::validate(&args),
        cli::Command::Report(args) => cmd::run::report(&args),
        cli::Command::Merge(args) => cmd::run::merge(&args),
        cli::Command::List(args) => cmd::list::run(&args),
        cli::Command::Completions(args) => {
            use clap::CommandFactory;
            let mut cmd = cli::Cli::command();
            clap_complete::generate(args.shell, &mut cmd, "mlsim", &mut std::io::stdout());
            Ok(())
        }
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(2);
    }
}
