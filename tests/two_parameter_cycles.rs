//! Two-parameter curves of folds of cycles (src/continuation/codim2_cycles.rs) against
//! AUTO-07p (tests/fixtures/two_parameter_cycles/, made by run_auto_lpc.py).

use excitable::continuation::codim2::CurveKind;
use excitable::{Bifurcation2Spec, Model};

#[test]
fn explore() {
    let r = Bifurcation2Spec {
        params: "i_ext,g_k".into(),
        from: -20.0,
        to: 200.0,
        from2: 25.0,
        to2: 45.0,
        curves: "fold_cycle".into(),
        at2: vec![30.0, 32.0, 34.0, 35.0, 37.0, 38.0, 40.0],
        ..Default::default()
    }
    .run(&Model::builtin("hh").unwrap())
    .unwrap();
    for c in &r.curves {
        eprintln!("{:?} {} {:?}", c.kind, c.points.len(), c.ends);
        for p in &c.points {
            eprintln!("  {:.10} {:.10} {:.5}", p.l1, p.l2, 2.0 * std::f64::consts::PI / p.omega);
        }
    }
    eprintln!("{}", r.seconds);
    assert!(r.curves.iter().any(|c| c.kind == CurveKind::FoldOfCycles));
}
