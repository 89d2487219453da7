//! A cycle branch whose two Hopf points are subcritical with a fold of cycles beside each
//! (tests/fixtures/bautin/bautin.ode, near a Bautin point), against its closed forms. Steps of
//! the default length jumped over a fold and the Hopf point behind it: the branch went back
//! and forth between the Hopf points, then ran along the equilibrium (zero amplitude) past
//! mu = 1 as "stable cycles", with no fold found. Now a step through zero amplitude is refused
//! until the last orbit's V range is within 1e-3 of the branch's largest (the branch then ends
//! on the Hopf point), and the first orbit from a subcritical Hopf point must be unstable.
//!
//! Tolerances: the folds to 1e-9 in mu and 1e-6 in amplitude (located by the secant method
//! on the tangent's parameter component, the corrector at 1e-10); every orbit's amplitude on
//! its closed form to 1e-6, its period 2 pi to 1e-9, its stability as the closed form says
//! (away from the folds and Hopf points, where the nontrivial multiplier is within 1e-4 of 1).

use excitable::continuation::Stop;
use excitable::continuation::cycles::CycleEvent;
use excitable::{BifurcationSpec, Model};
use std::path::PathBuf;

const B: f64 = 0.002;

#[test]
fn a_step_across_zero_amplitude_is_refused() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bautin/bautin.ode");
    let r = BifurcationSpec {
        param: "mu".into(),
        from: -0.5,
        to: 1.5,
        ..Default::default()
    }
    .run(&Model::from_file(&path).unwrap())
    .unwrap();
    let d = &r.diagram;
    assert_eq!(d.cycles.len(), 1, "{:?}", d.notes);
    let (_, branch) = &d.cycles[0];
    // It ends on the other Hopf point, mu = 1, within the amplitude's 1e-3.
    let Stop::ReachedHopf(end) = branch.stop else {
        panic!("{}", branch.stop)
    };
    assert!((end - 1.0).abs() < 1e-6, "{end}");
    // Both folds, on their closed forms, and no other special point.
    let root = (1.0 + B * B).sqrt();
    let mut folds: Vec<(f64, f64)> = (branch.specials.iter())
        .map(|s| {
            assert_eq!(s.kind, CycleEvent::Fold, "{:?}", s.kind);
            (s.point.lambda, 0.5 * (s.point.v_max - s.point.v_min))
        })
        .collect();
    folds.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert_eq!(folds.len(), 2, "{folds:?}");
    for ((mu, r), expected) in folds.iter().zip([(1.0 - root) / 2.0, (1.0 + root) / 2.0]) {
        assert!((mu - expected).abs() < 1e-9, "{mu} vs {expected}");
        assert!((r - (B / 2.0).sqrt()).abs() < 1e-6, "{r}");
    }
    // Every orbit is a cycle of the closed form at its mu (none on the equilibrium, none
    // beyond the folds), stable on the outer branch and unstable on the inner ones.
    for p in &branch.points {
        let a = p.lambda * (1.0 - p.lambda);
        assert!(a >= -B * B / 4.0 - 1e-12, "an orbit at mu = {}", p.lambda);
        let r = 0.5 * (p.v_max - p.v_min);
        let disc = (B * B + 4.0 * a).max(0.0).sqrt();
        let (outer, inner) = (
            ((B + disc) / 2.0).sqrt(),
            ((B - disc) / 2.0).max(0.0).sqrt(),
        );
        let on_outer = (r - outer).abs() < 1e-6;
        assert!(
            on_outer || (r - inner).abs() < 1e-6,
            "mu = {}: r = {r}, closed forms {outer} and {inner}",
            p.lambda
        );
        let mu_max = p.max_abs_multiplier();
        if (mu_max - 1.0).abs() > 1e-4 {
            assert_eq!(p.stable(), on_outer, "mu = {}: |mu| {mu_max}", p.lambda);
        }
        assert!(
            (p.period - 2.0 * std::f64::consts::PI).abs() < 1e-9,
            "{}",
            p.period
        );
    }
    // The outer branch runs from one fold to the other.
    let outer_mus: Vec<f64> = (branch.points.iter())
        .filter(|p| p.stable_and_settled())
        .map(|p| p.lambda)
        .collect();
    assert!(outer_mus.iter().any(|&m| (m - 0.5).abs() < 0.1));
    assert!(d.notes.is_empty(), "{:?}", d.notes);
}
