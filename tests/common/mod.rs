//! Shared by the end-to-end tests: run the `excitable` binary from the package root; read the
//! AUTO-07p fixtures.

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

/// The rows of `tests/fixtures/auto/NAME_auto.csv`: the first column (the kind of point), then
/// every other column as a number (NaN where empty).
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
pub fn zoo(file: &str) -> excitable::Model {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("studies/models/zoo");
    excitable::Model::from_file(&path.join(file)).unwrap()
}

/// The bifurcation diagram of `model` over `from..to`, every other setting at its default.
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

/// An `.ode` entry of the reference zoo (`studies/models/zoo/zoo.toml`), or `hh.ode`.
pub struct ZooOde {
    /// The zoo's name for it.
    pub name: String,
    /// The file.
    pub file: std::path::PathBuf,
    /// The range of the parameter its diagram continues.
    pub range: (f64, f64),
    /// Whether that parameter is the injected current (the entry names no other).
    pub current: bool,
}

/// The zoo's `.ode` entries, then `studies/models/hh.ode` (0-200 in the current).
pub fn zoo_ode_files() -> Vec<ZooOde> {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("studies/models/zoo");
    let text = std::fs::read_to_string(dir.join("zoo.toml")).unwrap();
    let manifest: toml::Table = toml::from_str(&text).unwrap();
    manifest["model"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| {
            let file = e.get("file")?.as_str()?;
            if !file.ends_with(".ode") {
                return None;
            }
            let r = e["range"].as_array().unwrap();
            Some(ZooOde {
                name: e["name"].as_str().unwrap().to_string(),
                file: dir.join(file),
                range: (r[0].as_float().unwrap(), r[1].as_float().unwrap()),
                current: e.get("param").is_none(),
            })
        })
        .chain([ZooOde {
            name: "hh.ode".into(),
            file: root.join("studies/models/hh.ode"),
            range: (0.0, 200.0),
            current: true,
        }])
        .collect()
}
