//! # mlsim — the command-line front end
//!
//! A thin binary over the library crates: it parses arguments, builds clusters and graphs,
//! and prints results. See `mlsim --help` and README.md.

mod cli;
mod cmd;
mod output;
mod sizes;

use clap::Parser;

fn main() {
    let cli = cli::Cli::parse();
    let result = match cli.command {
        cli::Command::Collective(args) => cmd::collective::run(&args),
        cli::Command::Step(args) => cmd::step::run(&args),
        cli::Command::Datapipe(args) => cmd::datapipe::run(&args),
        cli::Command::Run(args) => cmd::run::run(&args),
        cli::Command::Validate(args) => cmd::run::validate(&args),
        cli::Command::Report(args) => cmd::run::report(&args),
        cli::Command::Merge(args) => cmd::run::merge(&args),
        cli::Command::AgentsTrace(args) => cmd::agents_trace::run(&args),
        cli::Command::List(args) => cmd::list::run(&args),
        cli::Command::Completions(args) => {
            use clap::CommandFactory;
            let mut cmd = cli::Cli::command();
            let mut script = Vec::new();
            clap_complete::generate(args.shell, &mut cmd, "mlsim", &mut script);
            std::io::Write::write_all(&mut std::io::stdout().lock(), &script).map_err(Into::into)
        }
    };
    if let Err(e) = result {
        // A reader that closed our output (`| head`) has what it wanted.
        if output::is_broken_pipe(&e) {
            std::process::exit(0);
        }
        eprintln!("error: {e:#}");
        std::process::exit(2);
    }
}
