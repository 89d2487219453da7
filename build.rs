//! Link-time settings for the `excitable` binary only.
//!
//! The release profile keeps line tables for the crate's own code (backtraces in bug reports
//! carry file and line). On Linux the linker compresses those debug sections with zlib: the
//! binary shrinks by about two fifths and the standard library's backtrace still reads them
//! (docs/speed.md#cold-start-and-binary-size). With `-O2` (rustc passes `-O1`) LLD, rustc's
//! default linker on x86_64 Linux, merges the tails of equal strings in the debug string
//! table: 1.5 MB less, the same backtraces. GNU ld takes the flag too and merges nothing
//! more. Dependencies are untouched, so this costs no rebuild of them.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-link-arg-bins=-Wl,--compress-debug-sections=zlib");
        println!("cargo:rustc-link-arg-bins=-Wl,-O2");
    }
}
