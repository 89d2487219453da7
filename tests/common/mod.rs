//! Shared by the end-to-end tests: run the `excitable` binary from the package root.

use std::process::Command;

/// Run `excitable ARGS`: (success, stdout, stderr).
pub fn excitable(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_excitable"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}
