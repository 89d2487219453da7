//! Continuation on models whose answers are closed forms (tests/fixtures/closed_forms/), each
//! once wrong: two Hopf points 2e-5 apart were one; a fold whose branches do not reach the
//! range's start was missed, as were a SNIC circle's two folds (an isola between them), with
//! "no fold" said. Tolerances: 1e-9 on each located point (Newton to 1e-10 and better).

use excitable::continuation::SpecialKind;
use excitable::continuation::codim2::{Curve, CurveKind};
use excitable::report::Report;
use excitable::spec::{Bifurcation2Result, Bifurcation2Spec};
use excitable::{BifurcationSpec, Model};
use std::path::PathBuf;

fn model(name: &str, set: &[(&str, f64)]) -> Model {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/closed_forms")
        .join(name);
    let mut m = Model::from_file(&path).unwrap();
    for &(k, v) in set {
        m.set(k, v).unwrap();
    }
    m
}

/// The located points of `kind`, by parameter.
fn located(r: &excitable::spec::BifurcationResult, kind: SpecialKind) -> Vec<f64> {
    let mut at: Vec<f64> = (r.special_points.iter())
        .filter(|p| p.kind == kind)
        .map(|p| p.param)
        .collect();
    at.sort_by(f64::total_cmp);
    at
}

/// The two-parameter diagram of a Bautin fixture over mu in [-0.5, 0.5], b in [-1, 1].
fn mu_b_box(file: &str, curves: &str) -> Bifurcation2Result {
    Bifurcation2Spec {
        params: "mu,b".into(),
        from: -0.5,
        to: 0.5,
        from2: -1.0,
        to2: 1.0,
        curves: curves.into(),
        ..Default::default()
    }
    .run(&model(file, &[]))
    .unwrap()
}

/// The curves of `kind`.
fn of_kind(r: &Bifurcation2Result, kind: CurveKind) -> Vec<&Curve> {
    r.curves.iter().filter(|c| c.kind == kind).collect()
}

fn assert_at(got: &[f64], want: &[f64], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: {got:?} vs {want:?}");
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() < 1e-9, "{what}: {got:?} vs {want:?}");
    }
}

#[test]
fn two_hopf_points_close_together_are_both_located() {
    for eps in [1e-3, 1e-5] {
        let r = BifurcationSpec {
            param: "mu".into(),
            from: 0.0,
            to: 1.0,
            no_cycles: true,
            ..Default::default()
        }
        .run(&model("two_hopf.ode", &[("eps", eps)]))
        .unwrap();
        assert_at(
            &located(&r, SpecialKind::Hopf),
            &[0.5 - eps, 0.5 + eps],
            &format!("eps {eps}"),
        );
    }
}

#[test]
fn a_fold_off_the_branch_from_the_start_is_found() {
    let a = 0.333f64;
    let r = BifurcationSpec {
        param: "b".into(),
        from: -0.5,
        to: 1.5,
        no_cycles: true,
        ..Default::default()
    }
    .run(&model("cusp.ode", &[("a", a)]))
    .unwrap();
    assert_at(
        &located(&r, SpecialKind::Fold),
        &[3.0 * (a / 2.0).powf(2.0 / 3.0)],
        "cusp",
    );
    // Two branches: the one from the range's start, and the one through the fold (its two
    // sheets reach the range's end, where the three equilibria lie).
    assert_eq!(r.diagram.equilibria.len(), 2, "{:?}", r.diagram.notes);
}

#[test]
fn a_snic_circles_isola_gives_both_folds_and_both_snics() {
    let r = BifurcationSpec {
        from: -3.0,
        to: 3.0,
        ..Default::default()
    }
    .run(&model("snic_on_circle_xy.ode", &[]))
    .unwrap();
    assert_at(&located(&r, SpecialKind::Fold), &[-1.0, 1.0], "folds");
    assert_at(&located(&r, SpecialKind::Snic), &[-1.0, 1.0], "snics");
    let closed = (r.diagram.equilibria.iter())
        .filter(|b| matches!(b.stop, excitable::continuation::Stop::ClosedLoop(_)))
        .count();
    assert_eq!(closed, 1);
    assert!(
        !r.summary().contains("not followed over the whole range"),
        "{}",
        r.summary()
    );
}

/// The curve of folds of cycles of a Bautin point ends there: every point on the closed form
/// mu - 0.3 b = -b^2/4 with b > 0 (tests/fixtures/closed_forms/bautin_tilted.ode). It went on
/// through the Bautin point along the Hopf curve as zero-amplitude "folds" (82 of 117 points
/// at b < 0, where none exists). Tolerance 1e-8 on the closed form (the secant method to
/// 1e-13 of the test function, the corrector to 1e-10).
#[test]
fn a_curve_of_folds_of_cycles_ends_on_its_bautin_point() {
    let r = mu_b_box("bautin_tilted.ode", "hopf,fold_cycle");
    let folds = of_kind(&r, CurveKind::FoldOfCycles);
    assert_eq!(folds.len(), 1);
    for p in &folds[0].points {
        assert!(p.l2 > 0.0, "a fold of cycles at b = {}", p.l2);
        let off = p.l1 - 0.3 * p.l2 + p.l2 * p.l2 / 4.0;
        assert!(off.abs() < 1e-8, "({}, {}): {off:e}", p.l1, p.l2);
    }
    assert!(
        folds[0].ends.iter().any(|e| e.contains("Bautin point")),
        "{:?}",
        folds[0].ends
    );
}

/// A Hopf curve parallel to the second parameter's axis (tests/fixtures/closed_forms/
/// bautin_upright.ode: mu = 0 for every b) is followed across the box, and its Bautin point
/// found at the origin. Its tangent has no first-parameter component, which made the start
/// singular: six single-point curves, no Bautin point. Tolerances: mu to 1e-9 on the curve,
/// the Bautin point to 1e-6 (bisection of l1 along the curve).
#[test]
fn a_hopf_curve_along_the_second_parameter_is_followed_to_its_bautin_point() {
    let r = mu_b_box("bautin_upright.ode", "hopf");
    let hopf = of_kind(&r, CurveKind::Hopf);
    assert_eq!(
        hopf.len(),
        1,
        "{:?}",
        hopf.iter().map(|c| &c.ends).collect::<Vec<_>>()
    );
    let b: Vec<f64> = hopf[0].points.iter().map(|p| p.l2).collect();
    assert!(hopf[0].points.iter().all(|p| p.l1.abs() < 1e-9));
    let (lo, hi) = b
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, c), &x| {
            (a.min(x), c.max(x))
        });
    assert!(lo <= -1.0 && hi >= 1.0, "b from {lo} to {hi}");
    let bautin: Vec<_> = (r.special_points.iter())
        .filter(|p| p.kind == SpecialKind::Bautin)
        .collect();
    assert_eq!(bautin.len(), 1);
    assert!(
        bautin[0].param.abs() < 1e-6 && bautin[0].param2.abs() < 1e-6,
        "{:?}",
        bautin[0]
    );
}

/// A symmetric model's two Hopf points at one parameter value, on different equilibria
/// (`symmetric_hopf.ode`: (±1, 0) at mu = 1, omega = sqrt 2, the symmetry x -> -x mapping one
/// onto the other): both located, each with its own cycle branch, and the two branches ending
/// at the same homoclinic parameter (the symmetry, to 1e-9). One had been dropped as a
/// duplicate of the other, its equilibrium losing stability with no special point.
#[test]
fn a_symmetric_pair_of_hopf_points_at_one_parameter_value_is_two_points() {
    let r = BifurcationSpec {
        param: "mu".into(),
        from: 0.0,
        to: 2.0,
        ..Default::default()
    }
    .run(&model("symmetric_hopf.ode", &[]))
    .unwrap();
    let hopfs = &r.diagram.hopfs;
    assert_eq!(hopfs.len(), 2, "{:?}", r.diagram.notes);
    let mut xs: Vec<f64> = hopfs.iter().map(|h| h.state[0]).collect();
    xs.sort_by(f64::total_cmp);
    assert_at(&xs, &[-1.0, 1.0], "the Hopf points' x");
    for h in hopfs {
        assert!((h.lambda - 1.0).abs() < 1e-9, "{}", h.lambda);
        assert!((h.omega - 2f64.sqrt()).abs() < 1e-9, "{}", h.omega);
        assert!(h.lyapunov > 0.0, "subcritical: {}", h.lyapunov);
    }
    assert_eq!(r.diagram.cycles.len(), 2);
    let ends: Vec<f64> = r
        .diagram
        .cycles
        .iter()
        .map(|(_, c)| c.end.as_ref().expect("a homoclinic end").lambda)
        .collect();
    assert!((ends[0] - ends[1]).abs() < 1e-9, "{ends:?}");
}
