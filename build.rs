//! Link-time settings for the `excitable` binary only.
//!
//! The release profile keeps line tables for the crate's own code (backtraces in bug reports
//! carry file and line). On Linux the linker compresses those debug sections with zlib: the
//! binary shrinks by about two fifths and the standard library's backtrace still reads them
//! (docs/speed.md#cold-start-and-binary-size). Dependencies are untouched, so this costs no
//! rebuild of them.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-link-arg-bins=-Wl,--compress-debug-sections=zlib");
    }
}
