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

/// Two fold curves close in the parameters but apart in V are both traced. Morris-Lecar
/// (`ml.ode`, I = 100) over (gk, phi): its equilibria satisfy gk = G(V) =
/// (I - gca minf (V - vca) - gl (V - vl)) / (winf (V - vk)), and phi does not enter them, so
/// the fold curves are the lines gk = G(V*) at the extrema V* of G. Here two extrema lie
/// 0.0199 apart in gk (V -11.33 and -6.50): over a box 20 wide the second had been taken for
/// a point of the first and dropped. The reference is G's extrema, found in this test by
/// bisection of G' (central differences) from the file's parameters, not by continuation.
#[test]
fn fold_curves_close_in_the_parameters_but_apart_in_v_are_both_traced() {
    let path = format!("{}/studies/models/ml.ode", env!("CARGO_MANIFEST_DIR"));
    let model = Model::from_file(std::path::Path::new(&path))
        .unwrap()
        .with("i", 100.0)
        .unwrap();
    let r = Bifurcation2Spec {
        params: "gk,phi".into(),
        from: 0.0,
        to: 20.0,
        from2: 0.01,
        to2: 0.2,
        ..Default::default()
    }
    .run(&model)
    .unwrap();
    let (i, gca, gl, vca, vk, vl, v1, v2, v3, v4) =
        (100.0, 4.4, 2.0, 120.0, -84.0, -60.0, -1.2, 18.0, 2.0, 30.0);
    let g = |v: f64| {
        let minf = 0.5 * (1.0 + ((v - v1) / v2).tanh());
        let winf = 0.5 * (1.0 + ((v - v3) / v4).tanh());
        (i - gca * minf * (v - vca) - gl * (v - vl)) / (winf * (v - vk))
    };
    let dg = |v: f64| (g(v + 1e-6) - g(v - 1e-6)) / 2e-6;
    let extremum = |(mut a, mut b): (f64, f64)| {
        assert!(dg(a) * dg(b) < 0.0, "no sign change in [{a}, {b}]");
        for _ in 0..60 {
            let m = 0.5 * (a + b);
            if dg(a) * dg(m) <= 0.0 { b = m } else { a = m }
        }
        let v = 0.5 * (a + b);
        (v, g(v))
    };
    let expected = [extremum((-14.0, -9.0)), extremum((-9.0, -4.0))];
    let folds: Vec<_> = r
        .curves
        .iter()
        .filter(|c| c.kind == CurveKind::Fold)
        .collect();
    assert_eq!(
        folds.len(),
        2,
        "{:?}",
        folds.iter().map(|c| &c.points[0]).collect::<Vec<_>>()
    );
    for (v, gk) in expected {
        // Each extremum has a curve whose points sit on gk = G(V*) at V* (to 1e-6).
        let on = folds.iter().any(|c| {
            c.points
                .iter()
                .all(|p| (p.l1 - gk).abs() < 1e-6 && (p.v_mv - v).abs() < 1e-4)
        });
        assert!(on, "no fold curve at gk {gk}, V {v}");
    }
}

/// A seed diagram cut short is said, and `max_points` mends it: Morris-Lecar over (gk, phi)
/// on a box 0.2 wide in gk, where the equilibria's S through the two folds takes more than
/// 2000 steps of 1/100 of the box. With the default limit the summary says the seed lines
/// were not covered; with 20000 both fold curves are traced.
#[test]
fn a_seed_diagram_cut_short_is_said_and_more_points_trace_what_it_missed() {
    let path = format!("{}/studies/models/ml.ode", env!("CARGO_MANIFEST_DIR"));
    let model = Model::from_file(std::path::Path::new(&path))
        .unwrap()
        .with("i", 100.0)
        .unwrap();
    let spec = |max_points: usize| Bifurcation2Spec {
        params: "gk,phi".into(),
        from: 6.7,
        to: 6.9,
        from2: 0.01,
        to2: 0.2,
        max_points,
        ..Default::default()
    };
    let short = spec(2000).run(&model).unwrap();
    assert!(
        short.uncovered.iter().any(|g| g
            .stops
            .contains(&excitable::continuation::Stop::MaxPoints(2000))),
        "{:?}",
        short.uncovered
    );
    use excitable::report::Report;
    let md = short.summary();
    assert!(
        md.contains("**Not covered:**")
            && md.contains("were not followed over the whole range")
            && md.contains("stopped after 2000 points"),
        "{md}"
    );
    let whole = spec(20000).run(&model).unwrap();
    assert!(whole.uncovered.is_empty(), "{:?}", whole.uncovered);
    let folds = whole
        .curves
        .iter()
        .filter(|c| c.kind == CurveKind::Fold)
        .count();
    assert_eq!(folds, 2);
}

/// A curve that leaves the box ends on its edge, not beyond it: Connor-Stevens over
/// (i_ext, g_A) in [-10, 100] x [0, 80] had listed points at g_A = -0.042 (below the box and
/// the model's own range) and 80.306. Every point now lies in the box, and each end on an
/// edge is still a point of its curve: V there is a double zero of the steady-state balance
/// (fold; the balance and its slope under 1e-6) or the equilibrium has a pair of eigenvalues
/// on the imaginary axis (Hopf, to 1e-6 per ms).
#[test]
fn a_curve_leaving_the_box_ends_on_its_edge() {
    let path = format!(
        "{}/studies/models/zoo/connor_stevens.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let model = Model::from_file(std::path::Path::new(&path)).unwrap();
    let (l1, l2) = ((-10.0, 100.0), (0.0, 80.0));
    let r = Bifurcation2Spec {
        params: "i_ext,g_a".into(),
        from: l1.0,
        to: l1.1,
        from2: l2.0,
        to2: l2.1,
        ..Default::default()
    }
    .run(&model)
    .unwrap();
    let inside = |a: f64, b: f64| a >= l1.0 && a <= l1.1 && b >= l2.0 && b <= l2.1;
    let mut on_edges = 0;
    for c in &r.curves {
        assert!(c.points.iter().all(|p| inside(p.l1, p.l2)), "{:?}", c.ends);
        for p in [c.points.first().unwrap(), c.points.last().unwrap()] {
            if ![l1.0, l1.1].contains(&p.l1) && ![l2.0, l2.1].contains(&p.l2) {
                continue;
            }
            on_edges += 1;
            let m = model.clone().with("g_a", p.l2).unwrap();
            let critical = match c.kind {
                // A fold is a double zero of the steady-state balance i - I_ion(V) (the
                // equilibrium scan cannot see it: the two equilibria merge there).
                CurveKind::Fold => {
                    let c = m.smooth().unwrap();
                    let params = c.params.values();
                    let b = |v: f64| c.steady_state_balance(&params, v, p.l1);
                    let slope = (b(p.v_mv + 1e-4) - b(p.v_mv - 1e-4)) / 2e-4;
                    b(p.v_mv).abs().max(slope.abs())
                }
                _ => {
                    let eq = m.equilibria(p.l1).unwrap();
                    let e = eq
                        .iter()
                        .min_by(|a, b| {
                            (a.state[0] - p.v_mv)
                                .abs()
                                .total_cmp(&(b.state[0] - p.v_mv).abs())
                        })
                        .unwrap();
                    e.eigen
                        .iter()
                        .filter(|z| z.value.im.abs() > 1e-9)
                        .map(|z| z.value.re.abs())
                        .fold(f64::INFINITY, f64::min)
                }
            };
            assert!(
                critical < 1e-6,
                "{:?} end at ({}, {}): {critical}",
                c.kind,
                p.l1,
                p.l2
            );
        }
    }
    assert!(on_edges >= 2, "{on_edges} ends on the edges");
}
