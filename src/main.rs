//! The `excitable` command: a thin shell over the library (see `src/cli/`).

mod cli;

use clap::Parser;

fn main() {
    // Die quietly when the reader of stdout goes away (`excitable … | head`), as command-line
    // tools do, instead of panicking on the failed write.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of one signal, before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = cli::Cli::parse();
    if let Err(e) = cli::run(cli) {
        // One line, with the context chain: what was being done, then why it failed.
        eprintln!("error: {}", cli::describe(&e));
        std::process::exit(2);
    }
}
