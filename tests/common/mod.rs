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

/// A model of the reference zoo, `studies/models/zoo/FILE`.
#[allow(dead_code)]
pub fn zoo(file: &str) -> excitable::Model {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("studies/models/zoo");
    excitable::Model::from_file(&path.join(file)).unwrap()
}

/// The bifurcation diagram of `model` over `from..to`, every other setting at its default.
#[allow(dead_code)]
pub fn diagram(model: &excitable::Model, from: f64, to: f64) -> excitable::spec::BifurcationResult {
    excitable::BifurcationSpec {
        from,
        to,
        ..Default::default()
    }
    .run(model)
    .unwrap()
}

/// In the CSV fixture `tests/fixtures/FILE`, among the rows whose leading columns equal `key`,
/// the number in the next column nearest to `near` (an AUTO point near where the toolkit found
/// its own).
#[allow(dead_code)]
pub fn nearest_in_fixture(file: &str, key: &[&str], near: f64) -> f64 {
    let path = format!("{}/tests/fixtures/{file}", env!("CARGO_MANIFEST_DIR"));
    let mut r = csv::Reader::from_path(&path).unwrap();
    r.records()
        .map(|rec| rec.unwrap())
        .filter(|rec| key.iter().enumerate().all(|(i, k)| &rec[i] == *k))
        .map(|rec| rec[key.len()].parse::<f64>().unwrap())
        .min_by(|a, b| (a - near).abs().total_cmp(&(b - near).abs()))
        .unwrap_or_else(|| panic!("no row {key:?} in {path}"))
}
