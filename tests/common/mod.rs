//! Shared by the end-to-end tests: run the `excitable` binary from the package root; read the
//! AUTO-07p fixtures. (Each test crate uses part of this, hence the `dead_code` allowances.)

use std::process::Command;

/// Run `excitable ARGS`: (success, stdout, stderr).
#[allow(dead_code)]
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

/// The rows of `tests/fixtures/auto/NAME_auto.csv`: the first column (the kind of point), then
/// every other column as a number (NaN where empty).
#[allow(dead_code)]
pub fn auto_fixture(name: &str) -> Vec<(String, Vec<f64>)> {
    let path = format!(
        "{}/tests/fixtures/auto/{name}_auto.csv",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut r = csv::Reader::from_path(&path).unwrap();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            let nums = rec
                .iter()
                .skip(1)
                .map(|x| x.parse::<f64>().unwrap_or(f64::NAN))
                .collect();
            (rec[0].to_string(), nums)
        })
        .collect()
}
