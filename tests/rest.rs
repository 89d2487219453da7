//! Rest states against an independent computation (`tests/fixtures/make_eigenvalues.py`: sympy
//! Jacobian, scipy brentq equilibria, LAPACK eigenvalues). Tolerance: 1e-9 relative to |lambda|
//! (the bar), 1e-9 mV for the equilibrium voltage.

use excitable::model::Model;
use excitable::model::Stability;

struct Row {
    model: String,
    set: String,
    i: f64,
    eq: usize,
    v: f64,
    k: usize,
    re: f64,
    im: f64,
}

fn fixture() -> Vec<Row> {
    std::fs::read_to_string("tests/fixtures/eigenvalues.csv")
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            Row {
                model: c[0].into(),
                set: c[1].into(),
                i: c[2].parse().unwrap(),
                eq: c[3].parse().unwrap(),
                v: c[4].parse().unwrap(),
                k: c[5].parse().unwrap(),
                re: c[6].parse().unwrap(),
                im: c[7].parse().unwrap(),
            }
        })
        .collect()
}

fn model(name: &str, set: &str) -> Model {
    let mut m = Model::builtin(name).unwrap();
    for a in set.split(';').filter(|s| !s.is_empty()) {
        let (n, v) = a.split_once('=').unwrap();
        m.set(n, v.parse().unwrap()).unwrap();
    }
    m
}

#[test]
fn eigenvalues_agree_with_the_independent_computation() {
    let rows = fixture();
    assert!(rows.len() >= 30);
    for r in &rows {
        let m = model(&r.model, &r.set);
        let eqs = m.equilibria(r.i).unwrap();
        let e = &eqs[r.eq];
        assert!(
            (e.state[0] - r.v).abs() < 1e-9,
            "{} {} I={}: V {} vs {}",
            r.model,
            r.set,
            r.i,
            e.state[0],
            r.v
        );
        let got = e.eigen[r.k].value;
        let rel = ((got.re - r.re).powi(2) + (got.im - r.im).powi(2)).sqrt() / (r.re.hypot(r.im));
        assert!(
            rel < 1e-9,
            "{} {} I={} eq {} k {}: {got} vs {}+{}i (rel {rel:e})",
            r.model,
            r.set,
            r.i,
            r.eq,
            r.k,
            r.re,
            r.im
        );
        assert!(
            e.eigen[r.k].residual < 1e-9,
            "eigenvector residual {}",
            e.eigen[r.k].residual
        );
    }
}

#[test]
fn the_two_conventions_have_the_same_eigenvalues() {
    // hh-1952 is hh shifted by 65 mV; with the same leak reversal (10.613 = -54.387 + 65) the
    // eigenvalues agree to rounding.
    for i in [0.0, 10.0] {
        let a = model("hh", "").equilibria(i).unwrap();
        let b = model("hh-1952", "e_l=10.613").equilibria(i).unwrap();
        assert!((a[0].state[0] + 65.0 - b[0].state[0]).abs() < 1e-9);
        for (x, y) in a[0].eigen.iter().zip(&b[0].eigen) {
            assert!(
                (x.value - y.value).norm() < 1e-9 * x.value.norm(),
                "I={i}: {} vs {}",
                x.value,
                y.value
            );
        }
    }
}

#[test]
fn all_three_equilibria_are_found_and_classified() {
    let m = model("hh", "g_k=5;e_k=-50");
    let e = m.equilibria(-10.0).unwrap();
    let kinds: Vec<Stability> = e.iter().map(|x| x.stability).collect();
    assert_eq!(
        kinds,
        [
            Stability::StableNode,
            Stability::Saddle,
            Stability::StableFocus
        ]
    );
    assert_eq!(
        e.iter().map(|x| x.n_unstable).collect::<Vec<_>>(),
        [0, 1, 0]
    );
}

#[test]
fn the_rest_states_of_the_documents() {
    // hh: stable focus at -65.0 mV, unstable focus at 10 uA/cm^2 (past the Hopf point near 9.78).
    let hh = model("hh", "").equilibria(10.0).unwrap();
    assert_eq!(hh[0].stability, Stability::UnstableFocus);
    // hh-ca: the only equilibrium at 0 uA/cm^2 is depolarised (-35.7 mV) and stable: why the
    // neurone of 000_… "won't spike again".
    let ca = model("hh-ca", "").equilibria(0.0).unwrap();
    assert_eq!(ca.len(), 1);
    assert!((ca[0].state[0] + 35.7207).abs() < 1e-3 && ca[0].stability.is_stable());
}

#[test]
fn trajectories_fall_onto_the_centre_plane_at_the_predicted_rate() {
    // 004_… says solutions off the centre manifold decay onto it. Near the lower Hopf point
    // (9 and 10 uA/cm^2) the part of a small kick outside the plane of the leading complex pair
    // must decay at the slowest other eigenvalue's rate (to 2 %), leaving < 1e-4 of it at 40 ms.
    use excitable::analysis::centre::kick_and_project;
    let m = model("hh", "");
    for i in [9.0, 10.0] {
        let e = &m.equilibria(i).unwrap()[0];
        let c = kick_and_project(&m, e).unwrap();
        let rel =
            (c.fitted_rate_per_ms - c.predicted_rate_per_ms).abs() / c.predicted_rate_per_ms.abs();
        assert!(
            rel < 0.02,
            "I={i}: fitted {} vs predicted {}",
            c.fitted_rate_per_ms,
            c.predicted_rate_per_ms
        );
        let share = c.off_norm.last().unwrap() / c.centre_norm.last().unwrap();
        assert!(share < 1e-4, "I={i}: off-plane share {share}");
    }
}

/// Every equilibrium of `.ode` models whose reduced curve is no single graph over the first
/// variable, against closed forms (tests/fixtures/closed_forms/, tests/fixtures/bt_homoclinic/):
/// a SNIC circle (the origin and two circle points, where the scan along x found one; at
/// iapp = 2 it found none and said so), the Bogdanov-Takens form at b1 = -0.1 (its focus lies
/// beyond the pole of y at x = 0, where the scan stopped). Tolerance 1e-9 in every variable.
#[test]
fn an_ode_models_equilibria_off_its_scanned_branch_are_found() {
    let file = |p: &str| {
        Model::from_file(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(p)).unwrap()
    };
    let check = |m: &Model, i: f64, mut want: Vec<[f64; 2]>| {
        let eqs = m.equilibria(i).unwrap();
        let mut got: Vec<[f64; 2]> = eqs.iter().map(|e| [e.state[0], e.state[1]]).collect();
        let key = |a: &[f64; 2], b: &[f64; 2]| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1]));
        got.sort_by(key);
        want.sort_by(key);
        assert_eq!(got.len(), want.len(), "at {i}: {got:?} vs {want:?}");
        for (g, w) in got.iter().zip(&want) {
            assert!(
                (g[0] - w[0]).abs() < 1e-9 && (g[1] - w[1]).abs() < 1e-9,
                "at {i}: {got:?} vs {want:?}"
            );
        }
    };
    let circle = file("tests/fixtures/closed_forms/snic_on_circle_xy.ode");
    for m in [0.0, 0.5, -0.9] {
        let y = (1.0f64 - m * m).sqrt();
        check(&circle, m, vec![[0.0, 0.0], [m, y], [m, -y]]);
    }
    check(&circle, 2.0, vec![[0.0, 0.0]]);
    let mut bt = file("tests/fixtures/bt_homoclinic/bt_stable.ode");
    bt.set("b1", -0.1).unwrap();
    let root = (1.0f64 + 0.4).sqrt();
    check(
        &bt,
        0.0,
        vec![[(1.0 - root) / 2.0, 0.0], [(1.0 + root) / 2.0, 0.0]],
    );
}

/// hh-ca at -50 and -100 uA/cm^2 has two stable equilibria: rest is the one of lowest V by
/// rule (-221 and -388 mV, far below anything physiological), and the summary names the other
/// (a stable focus near -38 mV) instead of leaving it to the table.
#[test]
fn a_second_stable_equilibrium_beside_rest_is_said() {
    use excitable::report::Report;
    let m = Model::builtin("hh-ca").unwrap();
    let r = excitable::spec::RestSpec {
        current: vec![-50.0, -100.0],
    }
    .run(&m)
    .unwrap();
    let md = r.summary();
    for i in [-50.0, -100.0] {
        let stable: Vec<f64> = (r.equilibria.iter())
            .filter(|e| e.i_ext == i && e.stability.is_stable())
            .map(|e| e.state[0])
            .collect();
        assert_eq!(stable.len(), 2, "{stable:?}");
        let line = md
            .lines()
            .find(|l| l.starts_with(&format!("- At I = {i}")))
            .unwrap_or_else(|| panic!("{md}"));
        assert!(line.contains("**also stable: #"), "{line}");
        assert!(stable.iter().any(|v| (v + 38.0).abs() < 3.0), "{stable:?}");
    }
}
