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
    // A malformed Parquet file that makes polars panic is reported as a read error naming the
    // file (the library catches the panic); the panic's own message would only confuse.
    excitable::report::table::quiet_guarded_panics(std::panic::take_hook());
    // Help, version and usage errors as clap prints them, but a failed write (to a full disk,
    // `/dev/full`) is an error too.
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            if let Err(w) = e.print() {
                cli::warn(&format!("error: cannot write to standard output: {w}\n"));
                std::process::exit(2);
            }
            std::process::exit(e.exit_code());
        }
    };
    if let Err(e) = cli::run(cli) {
        // One line, with the context chain: what was being done, then why it failed. (If
        // standard error cannot take it either, the exit code still says so.)
        cli::warn(&format!("error: {}\n", cli::describe(&e)));
        std::process::exit(2);
    }
}
