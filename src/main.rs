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
    // glibc gives the top of its heap back to the kernel once 128 kB are free there (its
    // starting threshold, which it adapts), and continuation frees and reallocates about a
    // megabyte of per-interval blocks at every Newton step: each round trip cost page faults
    // and system time (keeping them gained about 7% on a diagram). Setting the trim threshold
    // turns off glibc's adaptive mmap threshold, which would then map and unmap every block
    // over 128 kB (the Parquet writer's pages: `stats` ran twice as long), so the mmap
    // threshold is set first (32 MB, glibc's largest on 64 bits) and the trim threshold only
    // if glibc took it. The library (and so the Python module) leaves the allocator alone.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc tuning calls with valid parameters, before any thread starts.
    unsafe {
        if libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20) == 1 {
            libc::mallopt(libc::M_TRIM_THRESHOLD, 64 << 20);
        }
    }
    // A malformed Parquet file that makes polars panic is reported as a read error naming the
    // file (the library catches the panic); the panic's own message would only confuse.
    excitable::report::table::quiet_guarded_panics(std::panic::take_hook());
    // Usage errors on one line, as every refusal; help and version as clap prints them, but a
    // failed write (to a full disk, `/dev/full`) is an error too.
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            if let Some(line) = cli::usage_error_line(&e) {
                cli::warn(&line);
                std::process::exit(e.exit_code());
            }
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
