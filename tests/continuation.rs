//! Continuation against AUTO-07p (fixtures in tests/fixtures/auto, made by run_auto.py from
//! hh.f90 and hhca.f90), the first Lyapunov coefficient against finite differences, and cycle
//! periods against long simulations.

use excitable::continuation::cycles::{CycleEvent, CyclePoint, CycleSettings};
use excitable::continuation::diagram::{Diagram, DiagramSettings, diagram};
use excitable::continuation::hopf::{Hopf, first_lyapunov_with};
use excitable::continuation::{CURRENT, Family, Field, Settings, Stop};
use excitable::model::{Model, builtin};
use excitable::simulate::{self, Method, Record, Tolerances};
use excitable::stimulus::Stimulus;
use nalgebra::{Complex, DVector};

use crate::common;

type C64 = Complex<f64>;

/// `(kind, param, period_ms)` rows of an AUTO fixture.
fn auto_rows(name: &str) -> Vec<(String, f64, f64)> {
    common::auto_fixture(name)
        .into_iter()
        .map(|(kind, x)| (kind, x[0], x[1]))
        .collect()
}

fn compute(model: &str, range: (f64, f64)) -> (Family, Diagram) {
    compute_with(model, range, CycleSettings::default())
}

fn compute_with(model: &str, range: (f64, f64), cycles: CycleSettings) -> (Family, Diagram) {
    let m = match model {
        "hh" => builtin::hh(),
        _ => builtin::hh_ca(),
    };
    let fam = Family::new(&m, CURRENT, 0.0).unwrap();
    let settings = DiagramSettings {
        range,
        equilibria: Settings::default(),
        cycles,
        with_cycles: true,
    };
    let d = diagram(&fam, &settings, &excitable::progress::Silent).unwrap();
    (fam, d)
}

fn cycle_events(d: &Diagram, kind: CycleEvent) -> Vec<&CyclePoint> {
    d.cycles
        .iter()
        .flat_map(|(_, c)| {
            c.specials
                .iter()
                .filter(move |s| s.kind == kind)
                .map(|s| &s.point)
        })
        .collect()
}

fn nearest<'a>(pts: &[&'a CyclePoint], lambda: f64) -> &'a CyclePoint {
    pts.iter()
        .min_by(|a, b| {
            (a.lambda - lambda)
                .abs()
                .total_cmp(&(b.lambda - lambda).abs())
        })
        .copied()
        .unwrap_or_else(|| panic!("nothing near {lambda}"))
}

#[test]
fn hh_diagram_agrees_with_auto() {
    let (_, d) = compute("hh", (-20.0, 250.0));
    let auto = auto_rows("hh");
    assert_eq!(d.hopfs.len(), 2);
    let folds = cycle_events(&d, CycleEvent::Fold);
    let pds = cycle_events(&d, CycleEvent::PeriodDoubling);
    for (kind, param, period) in &auto {
        match kind.as_str() {
            "hopf" => {
                let h = d
                    .hopfs
                    .iter()
                    .min_by(|a, b| {
                        (a.lambda - param)
                            .abs()
                            .total_cmp(&(b.lambda - param).abs())
                    })
                    .unwrap();
                // AUTO prints 11 significant digits and is accurate to ~1e-8 relative here.
                assert!(
                    (h.lambda - param).abs() < 1e-7 * param.abs(),
                    "Hopf {} vs AUTO {param}",
                    h.lambda
                );
            }
            "fold_cycle" | "period_doubling" => {
                let p = nearest(if kind == "fold_cycle" { &folds } else { &pds }, *param);
                assert!(
                    (p.lambda - param).abs() < 1e-5 * param.abs(),
                    "{kind} {} vs AUTO {param}",
                    p.lambda
                );
                assert!(
                    (p.period - period).abs() < 1e-5 * period,
                    "{kind} period {} vs AUTO {period}",
                    p.period
                );
            }
            other => panic!("unexpected kind {other} in the fixture"),
        }
    }
    // The three folds of cycles of the lower branch (6.26, 7.84, 7.92), as AUTO finds.
    assert_eq!(
        folds.len(),
        3,
        "{:?}",
        folds.iter().map(|p| p.lambda).collect::<Vec<_>>()
    );
    // AUTO reports one period doubling (7.8453); the toolkit also finds a second one
    // 8e-6 uA/cm^2 before the fold at 7.917785, inside AUTO's step over the fold. It is real:
    // a real multiplier sits at -1 there.
    assert_eq!(pds.len(), 2);
    for p in &pds {
        let at_minus_one = p
            .nontrivial()
            .iter()
            .any(|z| (z.re + 1.0).abs() < 1e-6 && z.im == 0.0);
        assert!(
            at_minus_one,
            "PD at {} has multipliers {:?}",
            p.lambda, p.multipliers
        );
    }
    // The branch ends on the upper Hopf point.
    assert!(
        matches!(d.cycles[0].1.stop, Stop::ReachedHopf(l) if (l - d.hopfs[1].lambda).abs() < 0.5)
    );
    assert_eq!(
        d.cycles.len(),
        1,
        "the upper Hopf point's branch is the same branch"
    );
}

#[test]
fn multipliers_obey_liouville() {
    // Sum of ln|multiplier| = integral of tr J over a period (Liouville's formula), checked on
    // every point of the hh branch: an independent test of the periodic QR multipliers, which
    // here span up to 80 decades. The remaining defect is the collocation's own error on the
    // stiffest (m-gate) mode, which shrinks with the mesh: 200 intervals.
    let (_, d) = compute_with(
        "hh",
        (-20.0, 250.0),
        CycleSettings {
            ntst: 200,
            ..CycleSettings::default()
        },
    );
    for p in d.cycles[0].1.points.iter().skip(1) {
        let sum: f64 = p.multipliers.iter().map(|z| z.norm().ln()).sum();
        assert!(
            (sum - p.trace_integral).abs() < 1e-3 * p.trace_integral.abs(),
            "at {}: {sum} vs {}",
            p.lambda,
            p.trace_integral
        );
        let trivial = p
            .multipliers
            .iter()
            .map(|z| (z - 1.0).norm())
            .fold(f64::INFINITY, f64::min);
        assert!(
            trivial < 1e-5,
            "trivial multiplier off by {trivial} at {}",
            p.lambda
        );
    }
}

#[test]
fn hh_ca_hopf_point_agrees_with_auto_and_the_branch_ends_homoclinic() {
    let (_, d) = compute("hh-ca", (-150.0, 100.0));
    let auto = auto_rows("hhca");
    let hopfs: Vec<_> = auto.iter().filter(|r| r.0 == "hopf").collect();
    assert_eq!(hopfs.len(), 1);
    assert_eq!(d.hopfs.len(), 1);
    assert!((d.hopfs[0].lambda - hopfs[0].1).abs() < 1e-7 * hopfs[0].1.abs());
    assert!(d.hopfs[0].is_subcritical());
    // AUTO follows the unstable cycles to period 100 ms at -83.93 with no fold or period
    // doubling; so does the toolkit, until the period grows without bound.
    let c = &d.cycles[0].1;
    assert!(
        matches!(c.stop, Stop::PeriodUnbounded(l) if (l + 83.93).abs() < 0.01),
        "{:?}",
        c.stop
    );
    assert!(
        c.specials.iter().all(|s| s.point.period > 100.0),
        "{:?}",
        c.specials
            .iter()
            .map(|s| (
                s.kind,
                s.point.lambda,
                s.point.period,
                s.point.multipliers.clone()
            ))
            .collect::<Vec<_>>()
    );
}

/// Kuznetsov's l1 with B and C from central differences of f (h = 1e-2 along unit
/// directions; truncation ~1e-4 relative).
fn l1_finite_differences(fam: &Family, h: &Hopf) -> f64 {
    let lam = h.lambda;
    let f = |y: &[f64]| fam.f(y, lam);
    let at = |terms: &[(&[f64], f64)]| -> Vec<f64> {
        let mut y = h.state.clone();
        for (d, s) in terms {
            for (yi, di) in y.iter_mut().zip(d.iter()) {
                *yi += s * di;
            }
        }
        y
    };
    let e = 1e-2;
    let b_real = |u: &[f64], v: &[f64]| -> DVector<f64> {
        (f(&at(&[(u, e), (v, e)])) - f(&at(&[(u, e), (v, -e)])) - f(&at(&[(u, -e), (v, e)]))
            + f(&at(&[(u, -e), (v, -e)])))
            / (4.0 * e * e)
    };
    let c_real = |u: &[f64], v: &[f64], w: &[f64]| -> DVector<f64> {
        let mut acc = DVector::zeros(u.len());
        for su in [1.0, -1.0] {
            for sv in [1.0, -1.0] {
                for sw in [1.0, -1.0] {
                    acc += f(&at(&[(u, su * e), (v, sv * e), (w, sw * e)])) * (su * sv * sw);
                }
            }
        }
        acc / (8.0 * e * e * e)
    };
    let split = |x: &DVector<C64>| -> (Vec<f64>, Vec<f64>) {
        (
            x.iter().map(|z| z.re).collect(),
            x.iter().map(|z| z.im).collect(),
        )
    };
    let join = |re: DVector<f64>, im: DVector<f64>| {
        DVector::from_iterator(
            re.len(),
            re.iter().zip(im.iter()).map(|(a, b)| C64::new(*a, *b)),
        )
    };
    let b = |x: &DVector<C64>, z: &DVector<C64>| {
        let ((xr, xi), (zr, zi)) = (split(x), split(z));
        join(
            b_real(&xr, &zr) - b_real(&xi, &zi),
            b_real(&xr, &zi) + b_real(&xi, &zr),
        )
    };
    let c = |x: &DVector<C64>, z: &DVector<C64>, v: &DVector<C64>| {
        let ((xr, xi), (zr, zi), (vr, vi)) = (split(x), split(z), split(v));
        let re = c_real(&xr, &zr, &vr)
            - c_real(&xr, &zi, &vi)
            - c_real(&xi, &zr, &vi)
            - c_real(&xi, &zi, &vr);
        let im = c_real(&xr, &zr, &vi) + c_real(&xr, &zi, &vr) + c_real(&xi, &zr, &vr)
            - c_real(&xi, &zi, &vi);
        join(re, im)
    };
    first_lyapunov_with(&fam.jacobian(&h.state, lam), h.omega, b, c).unwrap()
}

#[test]
fn lyapunov_coefficients_match_finite_differences_and_known_criticality() {
    for (model, range, signs) in [
        ("hh", (-20.0, 250.0), vec![1.0, -1.0]),
        ("hh-ca", (-150.0, 100.0), vec![1.0]),
    ] {
        let m = if model == "hh" {
            builtin::hh()
        } else {
            builtin::hh_ca()
        };
        let fam = Family::new(&m, CURRENT, 0.0).unwrap();
        let settings = DiagramSettings {
            range,
            equilibria: Settings::default(),
            cycles: CycleSettings::default(),
            with_cycles: false,
        };
        let d = diagram(&fam, &settings, &excitable::progress::Silent).unwrap();
        assert_eq!(d.hopfs.len(), signs.len());
        for (h, sign) in d.hopfs.iter().zip(signs) {
            let fd = l1_finite_differences(&fam, h);
            assert!(
                (fd - h.lyapunov).abs() < 0.01 * h.lyapunov.abs(),
                "{model} at {}: exact {} vs FD {fd}",
                h.lambda,
                h.lyapunov
            );
            assert_eq!(
                h.lyapunov.signum(),
                sign,
                "{model} Hopf at {} (lower subcritical, upper supercritical)",
                h.lambda
            );
        }
    }
}

/// Mean of the last `k` interspike intervals of a run from `y0` at current `i` (ms), with the
/// threshold midway between the cycle's extremes.
fn simulated_isi(i: f64, y0: &[f64], threshold: f64, t_max: f64, k: usize) -> (f64, usize) {
    let m = Model::builtin("hh").unwrap();
    let s = simulate::Settings {
        // A whole number of output steps (a run refuses a duration that is not).
        t_max: (t_max / 0.1).ceil() * 0.1,
        dt: 0.1,
        method: Method::Dopri5(Tolerances {
            rtol: 1e-11,
            atol: 1e-11,
        }),
        record: Record::SpikesOnly,
        threshold_mv: threshold,
    };
    let sp = simulate::run(&m, &Stimulus::constant(i), y0, &s)
        .unwrap()
        .spikes_ms;
    if sp.len() < k + 1 {
        return (f64::NAN, sp.len());
    }
    let tail = &sp[sp.len() - k - 1..];
    ((tail[k] - tail[0]) / k as f64, sp.len())
}

#[test]
fn stable_cycle_periods_equal_simulated_interspike_intervals() {
    let (_, d) = compute("hh", (-20.0, 250.0));
    let branch = &d.cycles[0].1;
    let stable: Vec<&CyclePoint> = branch
        .points
        .iter()
        .skip(1)
        .filter(|p| p.stable() && p.max_abs_multiplier() < 0.9)
        .collect();
    assert!(stable.len() > 20);
    for p in stable.iter().step_by(stable.len() / 6) {
        let mid = 0.5 * (p.v_max + p.v_min);
        let (isi, _) = simulated_isi(p.lambda, &p.peak_state, mid, 15.0 * p.period, 10);
        assert!(
            (isi - p.period).abs() < 1e-4 * p.period,
            "at {}: ISI {isi} vs period {}",
            p.lambda,
            p.period
        );
    }
    // The slowest firing is the cycle at the fold (6.2603, 50.26 Hz): just above it a long run
    // started on the cycle keeps firing at that rate; just below it the cycle is gone and the
    // same start decays to rest.
    let fold = cycle_events(&d, CycleEvent::Fold)
        .into_iter()
        .min_by(|a, b| a.lambda.total_cmp(&b.lambda))
        .unwrap();
    assert!((fold.frequency_hz() - 50.26).abs() < 0.01);
    let (isi, _) = simulated_isi(fold.lambda + 1e-4, &fold.peak_state, 0.0, 2000.0, 20);
    assert!(
        (isi - fold.period).abs() < 5e-3 * fold.period,
        "ISI {isi} vs fold period {}",
        fold.period
    );
    let (_, n) = simulated_isi(fold.lambda - 2e-3, &fold.peak_state, 0.0, 2000.0, 20);
    assert!(
        n < 60,
        "below the fold the firing must stop: {n} spikes in 2 s"
    );
}

#[test]
fn hh_hopf_curve_in_current_and_gk_agrees_with_auto_and_has_a_bautin_point() {
    use excitable::continuation::codim2::{Box2, CurveKind, Family2, two_parameter};
    let fam = Family2::new(&Field::Conductance(builtin::hh()), CURRENT, "g_k", 0.0).unwrap();
    let bx = Box2 {
        l1: (-20.0, 250.0),
        l2: (10.0, 80.0),
    };
    let curves = two_parameter(&fam, &bx, 3000).unwrap().curves;
    let hopf: Vec<_> = curves
        .iter()
        .filter(|c| c.kind == CurveKind::Hopf)
        .collect();
    assert_eq!(
        hopf.len(),
        1,
        "both Hopf points of the 1-parameter diagram lie on one curve"
    );
    let pts: Vec<(f64, f64)> = hopf[0]
        .points
        .iter()
        .map(|p| ((p.l1 + 20.0) / 270.0, (p.l2 - 10.0) / 70.0))
        .collect();
    // Distance (in box units) from each AUTO point to the toolkit's polyline.
    let path = format!(
        "{}/tests/fixtures/auto/hh_hopf_curve_auto.csv",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut r = csv::Reader::from_path(&path).unwrap();
    let mut worst = 0.0f64;
    let mut n = 0;
    for rec in r.records() {
        let rec = rec.unwrap();
        let (a, b) = (
            rec[0].parse::<f64>().unwrap(),
            rec[1].parse::<f64>().unwrap(),
        );
        if !(-20.0..=250.0).contains(&a) || !(10.0..=80.0).contains(&b) {
            continue;
        }
        let (x, y) = ((a + 20.0) / 270.0, (b - 10.0) / 70.0);
        let d = pts
            .windows(2)
            .map(|w| {
                let (p, q) = (w[0], w[1]);
                let (dx, dy) = (q.0 - p.0, q.1 - p.1);
                let t = (((x - p.0) * dx + (y - p.1) * dy) / (dx * dx + dy * dy).max(1e-300))
                    .clamp(0.0, 1.0);
                ((p.0 + t * dx - x).powi(2) + (p.1 + t * dy - y).powi(2)).sqrt()
            })
            .fold(f64::INFINITY, f64::min);
        worst = worst.max(d);
        n += 1;
    }
    assert!(n > 500, "{n} AUTO points");
    assert!(
        worst < 2e-5,
        "an AUTO point is {worst} box units off the curve"
    );
    // The Bautin point: l1 changes sign there. AUTO's run stops (MX) before reaching it, so
    // check it independently: Hopf points found by 1-parameter continuation at g_k just
    // below and above the Bautin g_k on the left arm have opposite criticality.
    let b = hopf[0]
        .specials
        .iter()
        .find(|s| s.kind == excitable::continuation::SpecialKind::Bautin)
        .expect("a Bautin point");
    assert!(
        (b.l1 - 60.5).abs() < 1.0 && (b.l2 - 53.3).abs() < 0.1,
        "{b:?}"
    );
    let lower_l1 = |gk: f64| {
        let fam1 = fam.slice(gk);
        let s = DiagramSettings {
            range: (-20.0, 250.0),
            equilibria: Settings::default(),
            cycles: CycleSettings::default(),
            with_cycles: false,
        };
        let d = diagram(&fam1, &s, &excitable::progress::Silent).unwrap();
        assert_eq!(d.hopfs.len(), 2, "g_k = {gk}");
        d.hopfs[0].lyapunov
    };
    assert!(
        lower_l1(b.l2 - 0.05) > 0.0,
        "subcritical below the Bautin g_k"
    );
    assert!(lower_l1(b.l2 + 0.05) < 0.0, "supercritical above it");
}

#[test]
fn hh_ca_fold_curve_passes_through_the_folds_of_one_parameter_diagrams() {
    // The fold curve in (current, g_Ca) must contain the folds that plain one-parameter
    // continuation finds at fixed g_Ca values.
    use excitable::continuation::codim2::{Box2, CurveKind, Family2, two_parameter};
    let fam = Family2::new(&Field::Conductance(builtin::hh_ca()), CURRENT, "g_ca", 0.0).unwrap();
    let bx = Box2 {
        l1: (-150.0, 100.0),
        l2: (0.0, 6.0),
    };
    let curves = two_parameter(&fam, &bx, 3000).unwrap().curves;
    let fold = curves
        .iter()
        .find(|c| c.kind == CurveKind::Fold)
        .expect("a fold curve");
    for gca in [1.5, 2.0, 2.5, 3.0] {
        let s = DiagramSettings {
            range: (-100.0, 50.0),
            equilibria: Settings::default(),
            cycles: CycleSettings::default(),
            with_cycles: false,
        };
        let d = diagram(&fam.slice(gca), &s, &excitable::progress::Silent).unwrap();
        let folds: Vec<f64> = d
            .equilibria
            .iter()
            .flat_map(|b| b.folds.iter().map(|f| f.lambda))
            .collect();
        assert!(!folds.is_empty(), "g_ca = {gca}");
        for f in folds {
            // Interpolate the curve's current at this g_ca on the segment that brackets it.
            let hit = fold.points.windows(2).any(|w| {
                let (a, b) = (&w[0], &w[1]);
                (a.l2 - gca) * (b.l2 - gca) <= 0.0 && a.l2 != b.l2 && {
                    let t = (gca - a.l2) / (b.l2 - a.l2);
                    (a.l1 + t * (b.l1 - a.l1) - f).abs() < 1e-3
                }
            });
            assert!(hit, "fold at {f} for g_ca = {gca} is not on the curve");
        }
    }
}
