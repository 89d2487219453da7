//! The `excitable` command: a thin shell over the library (see `src/cli/`).

mod cli;

use clap::Parser;

fn main() {
    let cli = cli::Cli::parse();
    if let Err(e) = cli::run(cli) {
        // One line, with the context chain: what was being done, then why it failed.
        eprintln!("error: {e:#}");
        std::process::exit(2);
    }
}
