//! Two-parameter curves report what is there, once: HH over (I, E_K) has a fold curve and a
//! Hopf curve that ends at a Bogdanov-Takens point, located on the fold curve and checked
//! against the Hopf curve's own end and against the eigenvalues at the point.

use excitable::continuation::SpecialKind;
use excitable::continuation::codim2::CurveKind;
use excitable::{Bifurcation2Spec, Model};

#[test]
fn the_hopf_curve_ends_at_a_bogdanov_takens_point_on_the_fold_curve() {
    let r = Bifurcation2Spec {
        params: "i_ext,e_k".into(),
        from: -20.0,
        to: 250.0,
        from2: -100.0,
        to2: -40.0,
        ..Default::default()
    }
    .run(&Model::builtin("hh").unwrap())
    .unwrap();
    let kinds = |k: CurveKind| r.curves.iter().filter(|c| c.kind == k).count();
    assert_eq!(
        kinds(CurveKind::Hopf),
        2,
        "{:?}",
        r.curves.iter().map(|c| &c.ends).collect::<Vec<_>>()
    );
    assert!(kinds(CurveKind::Fold) >= 1);
    // Listed once each: no curve is traced twice and no point repeated.
    let bts: Vec<_> = r
        .special_points
        .iter()
        .filter(|p| p.kind == SpecialKind::BogdanovTakens)
        .collect();
    assert_eq!(bts.len(), 1, "{:?}", r.special_points);
    let bautins = r
        .special_points
        .iter()
        .filter(|p| p.kind == SpecialKind::Bautin)
        .count();
    assert_eq!(bautins, 1, "{:?}", r.special_points);
    let bt = bts[0];
    // The Hopf curve's frequency reaches zero within 1e-4 of the box of the fold curve's point.
    let agreement = r.curves.iter().find_map(|c| c.bt_agreement).unwrap();
    assert!(agreement < 1e-4, "{agreement}");
    // Independent check: at the point, the equilibrium has a double zero eigenvalue (the
    // two smallest below 1e-4 /ms, against -0.23 and -4.7 /ms for the others).
    let m = Model::builtin("hh")
        .unwrap()
        .with("e_k", bt.param2)
        .unwrap();
    let eq = m.equilibria(bt.param).unwrap();
    let e = eq
        .iter()
        .min_by(|a, b| {
            (a.state[0] - bt.v_mv)
                .abs()
                .total_cmp(&(b.state[0] - bt.v_mv).abs())
        })
        .unwrap();
    let mut mods: Vec<f64> = e.eigen.iter().map(|p| p.value.norm()).collect();
    mods.sort_by(f64::total_cmp);
    assert!(mods[1] < 1e-4 && mods[2] > 0.1, "{mods:?} at {bt:?}");
}
