//! Two-parameter curves of folds of cycles and of period doubling
//! (src/continuation/codim2_cycles.rs) on Hodgkin-Huxley over (I, g_K).
//!
//! References:
//! - AUTO-07p's continuation of the fold of cycles near I = 6.26 in (I, g_K) (ISW=2,
//!   ICP=[1, 2, 11], NTST=200, NCOL=4, EPS* = 1e-10; tests/fixtures/two_parameter_cycles/
//!   auto_lpc.csv, made by run_auto_lpc.py on the equations of tests/fixtures/zoo/zoo_models.py).
//!   AUTO stalls on this curve between g_K = 35.81 and 36.14; every 10th of its points is kept
//!   (18). The toolkit's curve records points exactly at those g_K (`at2`); I agrees to 1e-6.
//!   AUTO's three folds of the branch at g_K = 36 also seed three curves, to 1e-6.
//! - The one-parameter diagrams at g_K = 32 and 40: their folds of cycles (and period
//!   doublings) lie on the curves, to 1e-6 in I (the same collocation, NTST = 60).

use excitable::continuation::SpecialKind;
use excitable::continuation::codim2::{Curve, CurveKind};
use excitable::report::Report;
use excitable::spec::Bifurcation2Result;
use excitable::{Bifurcation2Spec, BifurcationSpec, Model};
use std::path::PathBuf;
use std::sync::OnceLock;

/// Values of g_K where the curves record points (for the one-parameter checks).
const G: [f64; 2] = [32.0, 40.0];

fn curves() -> &'static Bifurcation2Result {
    static R: OnceLock<Bifurcation2Result> = OnceLock::new();
    R.get_or_init(|| {
        Bifurcation2Spec {
            params: "i_ext,g_k".into(),
            from: -20.0,
            to: 200.0,
            from2: 25.0,
            to2: 45.0,
            curves: "fold_cycle,period_doubling".into(),
            at2: auto("lpc_curve").iter().map(|r| r.1).chain(G).collect(),
            ..Default::default()
        }
        .run(&Model::builtin("hh").unwrap())
        .unwrap()
    })
}

/// `(i, g_k)` of the AUTO fixture's rows of `kind`.
fn auto(kind: &str) -> Vec<(f64, f64)> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/two_parameter_cycles/auto_lpc.csv");
    let mut r = csv::Reader::from_path(path).unwrap();
    r.records()
        .map(|x| x.unwrap())
        .filter(|x| &x[0] == kind)
        .map(|x| (x[1].parse().unwrap(), x[2].parse().unwrap()))
        .collect()
}

/// The curve of `kind` through `(l1, l2)` (nearest point within 0.05 in l1 at exactly l2).
fn through(kind: CurveKind, l1: f64, l2: f64) -> Option<(&'static Curve, f64)> {
    curves()
        .curves
        .iter()
        .filter(|c| c.kind == kind)
        .flat_map(|c| c.points.iter().map(move |p| (c, p)))
        .filter(|(_, p)| p.l2 == l2 && (p.l1 - l1).abs() < 0.05)
        .min_by(|a, b| (a.1.l1 - l1).abs().total_cmp(&(b.1.l1 - l1).abs()))
        .map(|(c, p)| (c, p.l1))
}

#[test]
fn the_fold_of_cycles_curve_agrees_with_auto_at_every_point_of_its_curve() {
    let rows = auto("lpc_curve");
    assert!(rows.len() >= 5, "{rows:?}");
    let mut worst = 0.0f64;
    for (i, g) in rows {
        let (_, l1) = through(CurveKind::FoldOfCycles, i, g)
            .unwrap_or_else(|| panic!("no fold of cycles at g_K = {g} near I = {i}"));
        assert!((l1 - i).abs() < 1e-6, "g_K = {g}: I = {l1} vs AUTO {i}");
        worst = worst.max((l1 - i).abs());
    }
    eprintln!("largest difference from AUTO: {worst:.2e}");
}

#[test]
fn the_model_line_folds_agree_with_auto_and_each_seeds_one_curve() {
    // AUTO's three folds of the one-parameter branch at g_K = 36 (7.842, 7.918, 6.260).
    let rows = auto("lpc_one_parameter");
    assert_eq!(rows.len(), 3);
    for (i, g) in rows {
        let (_, l1) = through(CurveKind::FoldOfCycles, i, g).unwrap();
        assert!((l1 - i).abs() < 1e-6, "I = {l1} vs AUTO {i}");
    }
    // 7.842 and 7.918 meet in a cusp below the model's line: two curves, each ending there.
    let lpc: Vec<_> = curves()
        .curves
        .iter()
        .filter(|c| c.kind == CurveKind::FoldOfCycles)
        .collect();
    assert_eq!(
        lpc.len(),
        3,
        "{:?}",
        lpc.iter().map(|c| &c.ends).collect::<Vec<_>>()
    );
}

#[test]
fn one_parameter_folds_and_period_doublings_lie_on_the_curves() {
    for g in [32.0, 40.0] {
        let d = BifurcationSpec {
            from: -20.0,
            to: 200.0,
            ..Default::default()
        }
        .run(&Model::builtin("hh").unwrap().with("g_k", g).unwrap())
        .unwrap();
        let mut checked = 0;
        let mut worst = 0.0f64;
        for (kind, ck) in [
            (SpecialKind::FoldOfCycles, CurveKind::FoldOfCycles),
            (SpecialKind::PeriodDoubling, CurveKind::PeriodDoubling),
        ] {
            for p in d.special_points.iter().filter(|p| p.kind == kind) {
                let Some((_, l1)) = through(ck, p.param, g) else {
                    continue;
                };
                assert!(
                    (l1 - p.param).abs() < 1e-6,
                    "g_K = {g}: {kind} at {} vs the curve's {l1}",
                    p.param
                );
                checked += 1;
                worst = worst.max((l1 - p.param).abs());
            }
        }
        eprintln!("g_K = {g}: {checked} points, largest difference {worst:.2e}");
        // At least the fold near 6.26 (which moves with g_K) is on a curve.
        assert!(checked >= 1, "g_K = {g}: {:?}", d.special_points);
    }
}

#[test]
fn the_summary_names_the_curves_of_cycles() {
    let md = curves().summary();
    eprintln!("{md}");
    assert!(md.contains("3 curve(s) of folds of cycles"), "{md}");
    // Only the curves asked for: no Hopf or fold curve of equilibria.
    assert!(
        md.contains("0 Hopf curve(s)") && md.contains("0 fold curve(s)"),
        "{md}"
    );
}
