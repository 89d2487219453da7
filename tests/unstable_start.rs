//! A point whose only equilibrium is unstable (HH with g_K = 5 mS/cm^2, E_K = -80 mV: an
//! unstable focus near -33.64 mV at 0 uA/cm^2): no command calls it rest, runs that must
//! start somewhere start on it displaced by +0.001 mV and say so, and every integrator then
//! gives scipy LSODA's spike train (`tests/fixtures/unstable_start.csv`, made by
//! `make_unstable_start.py`).

use crate::common;

use common::excitable;
use excitable::{Model, Report, SimulateSpec, SweepSpec};

fn unstable() -> Model {
    Model::builtin("hh")
        .unwrap()
        .with("g_k", 5.0)
        .unwrap()
        .with("e_k", -80.0)
        .unwrap()
}

/// (V of the equilibrium, spikes in 300 ms, first spike ms, mean ISI after 100 ms).
fn lsoda() -> (f64, usize, f64, f64) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/unstable_start.csv"
    );
    let mut r = csv::Reader::from_path(path).unwrap();
    let row: Vec<f64> = r
        .records()
        .next()
        .unwrap()
        .unwrap()
        .iter()
        .map(|x| x.parse().unwrap())
        .collect();
    (row[0], row[1] as usize, row[2], row[3])
}

/// Every integrator leaves the displaced equilibrium the same way: LSODA's 17 spikes, the
/// first at 40.99 ms (within 0.1 ms for RK4 and Dormand-Prince, 5 ms for the first-order
/// methods at dt = 0.01 ms, whose growth rate near the focus is off by O(dt)), and the ISI
/// on the cycle within 0.5%.
#[test]
fn every_integrator_fires_the_same_train_from_the_displaced_equilibrium() {
    let (_, n, first, isi) = lsoda();
    for (method, first_tol) in [
        ("rk4", 0.1),
        ("dopri5", 0.1),
        ("euler", 5.0),
        ("exp-euler", 5.0),
    ] {
        let r = SimulateSpec {
            stim: vec!["0".into()],
            t_max: 300.0,
            method: method.into(),
            ..Default::default()
        }
        .run(&unstable())
        .unwrap();
        let s = &r.runs[0].spikes_ms;
        assert_eq!(s.len(), n, "{method}: {s:?}");
        assert!(
            (s[0] - first).abs() < first_tol,
            "{method}: first {} vs {first}",
            s[0]
        );
        let late: Vec<f64> = s.iter().copied().filter(|&t| t >= 100.0).collect();
        let mean = (late[late.len() - 1] - late[0]) / (late.len() - 1) as f64;
        assert!(
            (mean - isi).abs() < 5e-3 * isi,
            "{method}: ISI {mean} vs {isi}"
        );
        assert!(
            r.start_description
                .starts_with("no stable resting state: the unstable focus at V = -33.6397 mV, displaced by +0.001 mV"),
            "{}",
            r.start_description
        );
    }
}

/// A sweep point with no stable rest fires from the displaced equilibrium at LSODA's rate
/// (0.5%), records `rest_start = false`, and its summary says so in words.
#[test]
fn a_sweep_point_without_rest_fires_and_says_where_it_started() {
    let (_, _, _, isi) = lsoda();
    let r = SweepSpec {
        params: vec!["e_k=-80,-60".parse().unwrap()],
        current: "0".parse().unwrap(),
        t_max: 300.0,
        transient: 100.0,
        ..Default::default()
    }
    .run(&Model::builtin("hh").unwrap().with("g_k", 5.0).unwrap())
    .unwrap();
    let p = &r.rows[0];
    assert!(!p.rest_start);
    assert!(
        (p.isi_mean_ms - isi).abs() < 5e-3 * isi,
        "{} vs {isi}",
        p.isi_mean_ms
    );
    let md = r.summary();
    assert!(
        md.contains("have no stable resting state at I = 0 (`rest_start` = false)")
            && md.contains("e_k = -80, I = 0 uA/cm^2"),
        "{md}"
    );
}

/// `rest` names no rest where none is stable; `fi` and `max-rate`, which need one, refuse by
/// name and write nothing; `phase-plane` starts where `simulate` does (the lowest equilibrium,
/// displaced) and says so.
#[test]
fn commands_that_need_rest_refuse_and_rest_names_none() {
    let (v, ..) = lsoda();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let o = out.to_str().unwrap();
    let (ok, stdout, stderr) = excitable(&["rest", "--set", "g_k=5,e_k=-80", "--out", o]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("**no stable equilibrium, so no resting state**"),
        "{stdout}"
    );
    assert!(!stdout.contains("rest is #"), "{stdout}");
    assert!(stdout.contains(&format!("{v:.4}")), "{stdout}");
    assert!(stdout.contains("the pair is unstable"), "{stdout}");
    for args in [vec!["fi", "--t-max", "300"], vec!["max-rate"]] {
        let out = dir.path().join(args[0]);
        let mut all = args.clone();
        all.extend(["--set", "g_k=5,e_k=-80", "--out", out.to_str().unwrap()]);
        let (ok, _, stderr) = excitable(&all);
        assert!(!ok, "{args:?}");
        assert!(
            stderr.contains("has no stable equilibrium (rest) at 0 uA/cm^2")
                && stderr.contains("-33.6397 (unstable focus)")
                && stderr.contains("g_k = 5"),
            "{args:?}: {stderr}"
        );
        assert!(!out.exists(), "{args:?} created its output folder");
    }
    let pp = dir.path().join("pp");
    let (ok, _, stderr) = excitable(&[
        "phase-plane",
        "--current",
        "0",
        "--set",
        "g_k=5,e_k=-80",
        "--out",
        pp.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    let summary = std::fs::read_to_string(pp.join("summary.md")).unwrap();
    assert!(
        summary.contains("from the lowest equilibrium at 0, displaced (no stable rest)"),
        "{summary}"
    );
}
