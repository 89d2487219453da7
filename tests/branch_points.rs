//! Branch points of equilibria and switching onto the crossing branch
//! (src/continuation/branch_point.rs, `equilibria::switch_at`, the diagram's switching) on
//! tests/fixtures/bp/branch_points.ode, against its closed forms: a transcritical branch point
//! at p = 0 (x = 0 and x = p cross) and a pitchfork at p = 1 on both the x = 0 and the x = p
//! branch (y = 0 and y = +-sqrt(p - 1)); and against AUTO-07p's branch points on the same
//! equations (tests/fixtures/bp/auto_bp.csv, made by run_auto_bp.py: ISP=2, switching with
//! ISW=-1 at each branch point it reports, EPS* = 1e-10), to 1e-9.
//!
//! Tolerances: branch points to 1e-10 in p and in the state (Newton on the extended system,
//! 1e-13); every point of every branch on its closed form to 1e-8 (the continuation's
//! corrector tolerance is 1e-10); eigenvalues from the closed-form Jacobian
//! diag(p - 2x, p - 1 - 3y^2) to 1e-8.

use excitable::continuation::SpecialKind;
use excitable::report::Report;
use excitable::spec::BifurcationResult;
use excitable::{BifurcationSpec, Model};
use std::path::PathBuf;
use std::sync::OnceLock;

fn diagram() -> &'static BifurcationResult {
    static R: OnceLock<BifurcationResult> = OnceLock::new();
    R.get_or_init(|| {
        let path =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bp/branch_points.ode");
        BifurcationSpec {
            param: "p".into(),
            from: -1.0,
            to: 2.0,
            ..Default::default()
        }
        .run(&Model::from_file(&path).unwrap())
        .unwrap()
    })
}

#[test]
fn the_three_branch_points_are_found_once_each_and_nothing_else() {
    let r = diagram();
    let mut found: Vec<(f64, f64, f64)> = r
        .diagram
        .branch_points()
        .iter()
        .map(|b| (b.lambda, b.state[0], b.state[1]))
        .collect();
    found.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    eprintln!("{found:?}");
    let expected = [(0.0, 0.0, 0.0), (1.0, 0.0, 0.0), (1.0, 1.0, 0.0)];
    assert_eq!(found.len(), 3, "{found:?} {:?}", r.diagram.notes);
    for (f, e) in found.iter().zip(expected) {
        assert!(
            (f.0 - e.0).abs() < 1e-10 && (f.1 - e.1).abs() < 1e-10 && (f.2 - e.2).abs() < 1e-10,
            "{f:?} vs {e:?}"
        );
    }
    // AUTO-07p's three, to 1e-9 (AUTO puts the first at p = -6.1e-11).
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bp/auto_bp.csv");
    let auto: Vec<Vec<f64>> = csv::Reader::from_path(path)
        .unwrap()
        .records()
        .map(|r| r.unwrap().iter().map(|x| x.parse().unwrap()).collect())
        .collect();
    assert_eq!(auto.len(), 3);
    for (f, a) in found.iter().zip(&auto) {
        let d = (f.0 - a[0])
            .abs()
            .max((f.1 - a[1]).abs())
            .max((f.2 - a[2]).abs());
        assert!(d < 1e-9, "{f:?} vs AUTO {a:?}");
    }
    // No fold or Hopf point: a real eigenvalue crossing zero at a branch point is not a fold.
    let kinds: Vec<_> = r.special_points.iter().map(|p| p.kind).collect();
    assert!(
        kinds.iter().all(|k| *k == SpecialKind::BranchPoint),
        "{kinds:?}"
    );
    assert_eq!(kinds.len(), 3);
    // Every change of stability is explained: no note says otherwise.
    assert!(
        !r.diagram.notes.iter().any(|n| n.contains("not every")
            || n.contains("not refined")
            || n.contains("no switch")),
        "{:?}",
        r.diagram.notes
    );
}

#[test]
fn switching_finds_all_four_branches_on_their_closed_forms() {
    let r = diagram();
    let branches = &r.diagram.equilibria;
    assert_eq!(branches.len(), 4, "{:?}", r.diagram.notes);
    // Which closed form each branch follows: x = 0 or x = p; y = 0 or y^2 = p - 1.
    let mut forms = vec![];
    for b in branches {
        let x_zero = b.points.iter().all(|p| p.state[0].abs() < 1e-8);
        let x_p = b
            .points
            .iter()
            .all(|p| (p.state[0] - p.lambda).abs() < 1e-8);
        let y_zero = b.points.iter().all(|p| p.state[1].abs() < 1e-8);
        let y_root = b
            .points
            .iter()
            .all(|p| (p.state[1] * p.state[1] - (p.lambda - 1.0)).abs() < 1e-8);
        assert!(
            x_zero != x_p && y_zero != y_root,
            "a branch off every closed form"
        );
        forms.push((x_zero, y_zero));
        // Every branch sees its branch points itself, and none is a fold: the pitchfork's
        // sides turn in p exactly where they cross y = 0.
        assert!(b.folds.is_empty(), "{:?}", b.folds);
        assert!(!b.branch_points.is_empty());
        // Both sides of a pitchfork are one branch, through its branch point.
        if y_root {
            assert!(b.points.iter().any(|p| p.state[1] > 0.5));
            assert!(b.points.iter().any(|p| p.state[1] < -0.5));
        }
        // Each branch runs to the end of the range; the pitchfork ones both ways to p = 2.
        let hi = b.points.iter().map(|p| p.lambda).fold(f64::MIN, f64::max);
        assert!(hi >= 2.0, "a branch stops at p = {hi}: {}", b.stop);
        // Eigenvalues: diag(p - 2x, p - 1 - 3y^2).
        for p in &b.points {
            let (x, y, l) = (p.state[0], p.state[1], p.lambda);
            let mut want = [l - 2.0 * x, l - 1.0 - 3.0 * y * y];
            want.sort_by(|a, b| b.total_cmp(a));
            let mut got: Vec<f64> = p.eigenvalues.iter().map(|z| z.re).collect();
            got.sort_by(|a, b| b.total_cmp(a));
            assert!(p.eigenvalues.iter().all(|z| z.im == 0.0));
            for (g, w) in got.iter().zip(want) {
                assert!((g - w).abs() < 1e-8, "p = {l}: {got:?} vs {want:?}");
            }
            assert_eq!(p.n_unstable, want.iter().filter(|w| **w > 0.0).count());
        }
    }
    forms.sort();
    assert_eq!(
        forms,
        [(false, false), (false, true), (true, false), (true, true)]
    );
}

#[test]
fn the_summary_lists_the_branch_points() {
    let md = diagram().summary();
    eprintln!("{md}");
    assert_eq!(md.matches("| branch_point |").count(), 3, "{md}");
    assert!(md.contains("4 equilibrium branch(es)"), "{md}");
}

#[test]
fn a_narrow_range_still_switches_onto_both_pitchforks() {
    // Over p in 0.9..1.1 the first point of a switched branch is only 1e-3 from its branch
    // point: whether it is already computed is decided by Newton-corrected states (1e-6),
    // not by a tolerance as large as the step.
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bp/branch_points.ode");
    let r = BifurcationSpec {
        param: "p".into(),
        from: 0.9,
        to: 1.1,
        ..Default::default()
    }
    .run(&Model::from_file(&path).unwrap())
    .unwrap();
    assert_eq!(r.diagram.equilibria.len(), 4, "{:?}", r.diagram.notes);
    assert_eq!(r.diagram.branch_points().len(), 2);
    for b in &r.diagram.equilibria[2..] {
        // Each switched branch is a pitchfork's: y^2 = p - 1 at every point.
        for p in &b.points {
            assert!((p.state[1] * p.state[1] - (p.lambda - 1.0)).abs() < 1e-8);
        }
    }
}
