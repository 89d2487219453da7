//! SNIC and saddle homoclinic ends of cycle branches (src/continuation/cycle_ends.rs) on the
//! zoo's class-1 models, against AUTO-07p and the scaling laws.
//!
//! References (tests/fixtures/cycle_ends/auto_ends.csv, made by `make_ends.sh` with AUTO-07p on
//! the zoo's equations written again in Python, tests/fixtures/zoo/zoo_models.py):
//! - the SNIC's parameter is AUTO's fold (LP) of equilibria;
//! - AUTO's cycle branch from the Hopf point, continued to periods 1e3, 3e3 and 1e4: at a
//!   homoclinic end its parameter there is within exp(-lambda_u 1e3) ~ 1e-36 of the homoclinic
//!   one; at a SNIC, `T sqrt(lambda - lambda_SN)` there estimates the law's coefficient C.
//!
//! Tolerances: the located parameter to 1e-6 (absolute); the fitted SNIC parameter within 1%
//! of the tail's distance to the fold; the fitted coefficient within 2% of the fold's normal
//! form and of AUTO's estimate at period 1e4 (at a SNIC), within 3% of 1/lambda_u (at a
//! homoclinic orbit, where the next term of the law decays only as a power of the distance).

use excitable::continuation::SpecialKind;
use excitable::continuation::cycle_ends::{CycleEnd, EndKind, TAIL_RESOLUTION};
use excitable::report::Report;
use excitable::spec::BifurcationResult;

use crate::common;
use common::{diagram as run, nearest_in_fixture, zoo};

/// The parameter of the AUTO fixture's row of `kind` for `model` nearest to `near`.
fn reference(model: &str, kind: &str, near: f64) -> f64 {
    nearest_in_fixture("cycle_ends/auto_ends.csv", &[model, kind], near)
}

/// The one end located in the diagram.
fn the_end(r: &BifurcationResult) -> &CycleEnd {
    let ends: Vec<&CycleEnd> = r
        .diagram
        .cycles
        .iter()
        .filter_map(|(_, c)| c.end.as_ref())
        .collect();
    assert_eq!(ends.len(), 1, "{:?}", r.diagram.notes);
    ends[0]
}

/// The one special point of `kind`, at the end's parameter; the summary names it.
fn listed_once(r: &BifurcationResult, kind: SpecialKind, e: &CycleEnd, words: &str) {
    let rows: Vec<_> = r.special_points.iter().filter(|p| p.kind == kind).collect();
    assert_eq!(rows.len(), 1, "{:?}", r.special_points);
    assert_eq!(rows[0].param, e.lambda);
    assert_eq!(rows[0].frequency_hz, 0.0);
    let md = r.summary();
    assert!(md.contains(&format!("| {} |", kind.name())), "{md}");
    assert!(md.contains(words), "{md}");
}

/// A SNIC end: at AUTO's fold to 1e-6; the fit's lambda_SN within 1% of the tail's distance to
/// it; C within 2% of the normal form's and of AUTO's `T sqrt(lambda - lambda_SN)` at T = 1e4.
fn check_snic(name: &str, r: &BifurcationResult) {
    let e = the_end(r);
    assert_eq!(e.kind, EndKind::Snic, "{:?}", r.diagram.notes);
    let lp = reference(name, "fold", e.lambda);
    assert!((e.lambda - lp).abs() < 1e-6, "{} vs AUTO {lp}", e.lambda);
    let tail = e.last.lambda - e.lambda;
    assert!(
        tail > 0.0 && tail < 1e-2,
        "the tail ends {tail} from the fold"
    );
    assert!(
        (e.fit.lambda - e.lambda).abs() < 0.01 * tail,
        "fitted {} vs fold {} (tail {tail})",
        e.fit.lambda,
        e.lambda
    );
    let rel = |a: f64, b: f64| (a - b).abs() / b.abs();
    assert!(
        rel(e.fit.coefficient, e.predicted) < 0.02,
        "C {} vs the normal form's {}",
        e.fit.coefficient,
        e.predicted
    );
    let c_auto = 1e4 * (reference(name, "period_10000", lp) - lp).sqrt();
    assert!(
        rel(e.fit.coefficient, c_auto) < 0.02,
        "C {} vs AUTO's {c_auto}",
        e.fit.coefficient
    );
    listed_once(r, SpecialKind::Snic, e, "ends on a SNIC");
}

#[test]
fn morris_lecar_snic_set_ends_on_a_snic_at_the_fold() {
    check_snic("ml-snic", &run(&zoo("ml_snic.ode"), -20.0, 150.0));
}

#[test]
fn wang_buzsaki_ends_on_a_snic_at_the_fold() {
    check_snic("wang-buzsaki", &run(&zoo("wang_buzsaki.toml"), -2.0, 60.0));
}

#[test]
fn morris_lecar_homoclinic_set_ends_on_a_saddle_homoclinic_orbit() {
    let r = run(&zoo("ml_homoclinic.ode"), -20.0, 150.0);
    let e = the_end(&r);
    assert_eq!(e.kind, EndKind::Homoclinic, "{:?}", r.diagram.notes);
    let hc = reference("ml-homoclinic", "period_3000", e.lambda);
    assert!((e.lambda - hc).abs() < 1e-6, "{} vs AUTO {hc}", e.lambda);
    // Away from the fold of equilibria (39.96): a saddle, not a saddle-node.
    let lp = reference("ml-homoclinic", "fold", e.lambda);
    assert!(lp - e.lambda > 1.0);
    assert!(e.unstable_eigenvalue > 0.0);
    let rel = (e.fit.coefficient - e.predicted).abs() / e.predicted;
    assert!(
        rel < 0.03,
        "b {} vs 1/lambda_u {}",
        e.fit.coefficient,
        e.predicted
    );
    // The saddle lies on the orbit's low voltage stretch.
    assert!((e.state[0] - e.last.v_min).abs() < 0.05 * (e.last.v_max - e.last.v_min));
    // No bifurcation of cycles is left within the tail's resolution of the end (a planar
    // orbit cannot period-double; the tail's spurious events are dropped).
    let c = &r.diagram.cycles[0].1;
    assert!(
        c.specials
            .iter()
            .all(|s| s.kind.kind() == SpecialKind::Homoclinic
                || (s.point.lambda - e.lambda).abs() > TAIL_RESOLUTION * (1.0 + e.lambda.abs())),
        "{:?}",
        c.specials
            .iter()
            .map(|s| (s.kind, s.point.lambda))
            .collect::<Vec<_>>()
    );
    assert!(
        c.specials
            .iter()
            .all(|s| s.kind.kind() != SpecialKind::PeriodDoubling),
        "a planar orbit cannot period-double"
    );
    listed_once(&r, SpecialKind::Homoclinic, e, "saddle homoclinic orbit");
}

/// The Bogdanov-Takens normal form's cycle at b2 = -1 ends on a saddle homoclinic orbit, stable
/// (`bt_stable.ode`) and, with time reversed, unstable (`bt_unstable.ode`), at the same b1
/// (shooting, tests/fixtures/bt_homoclinic/make_bt_homoclinic.py). The period law's
/// coefficient is 1/lambda_u for the stable cycle and 1/|lambda_s| for the unstable one: both
/// 1/0.71738 here, the saddle's eigenvalues being exchanged by the reversal. The law used to
/// predict 1/lambda_u for both (0.527 for the unstable one, calling a right fit 165% off), and
/// at the default steps the tail froze with 3 resolved points and no kind was given.
///
/// Tolerances: the end to 1e-8 (the shooting's xtol is 1e-14; the tail's parameter is
/// resolved to 1e-9 relative, and the fit located the end 1.3e-9 off); the eigenvalues, taken at the located end, to 1e-8; the fitted coefficient within
/// 5% of the law (3.8% at the default steps: the resolved tail reaches down to a fifth of its
/// period, where the law's next terms are not negligible).
#[test]
fn a_bogdanov_takens_cycle_ends_on_its_homoclinic_orbit_by_the_slower_eigenvalue() {
    let dir =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bt_homoclinic");
    let mut r = csv::Reader::from_path(dir.join("bt_homoclinic.csv")).unwrap();
    let row = r.records().next().unwrap().unwrap();
    let value = |k: usize| row[k].parse::<f64>().unwrap();
    let (b1_hc, lambda_u, lambda_s) = (value(1), value(3), value(4));
    for (file, stable) in [("bt_stable.ode", true), ("bt_unstable.ode", false)] {
        let r = excitable::BifurcationSpec {
            param: "b1".into(),
            from: -0.5,
            to: 0.5,
            ..Default::default()
        }
        .run(&excitable::Model::from_file(&dir.join(file)).unwrap())
        .unwrap();
        let e = the_end(&r);
        assert_eq!(e.kind, EndKind::Homoclinic, "{file}: {:?}", r.diagram.notes);
        assert!(
            (e.lambda - b1_hc).abs() < 1e-8,
            "{file}: {} vs {b1_hc}",
            e.lambda
        );
        // Reversal exchanges the saddle's eigenvalues and their signs.
        let (lu, ls) = if stable {
            (lambda_u, lambda_s)
        } else {
            (-lambda_s, -lambda_u)
        };
        assert!(
            (e.unstable_eigenvalue - lu).abs() < 1e-8,
            "{file}: {}",
            e.unstable_eigenvalue
        );
        assert!(
            (e.stable_eigenvalue - ls).abs() < 1e-8,
            "{file}: {}",
            e.stable_eigenvalue
        );
        let slower = 1.0 / lambda_u;
        assert!(
            (e.predicted - slower).abs() < 1e-8,
            "{file}: {}",
            e.predicted
        );
        let off = (e.fit.coefficient / e.predicted - 1.0).abs();
        assert!(
            off < 0.05,
            "{file}: b {} vs {}",
            e.fit.coefficient,
            e.predicted
        );
        listed_once(
            &r,
            SpecialKind::Homoclinic,
            e,
            "ends on a saddle homoclinic orbit",
        );
        assert!(
            !r.summary().contains("% off the prediction"),
            "{}",
            r.summary()
        );
    }
}

/// A NeuroML cell (`fold_beside_homoclinic.nml`) whose stable cycle passes a fold of
/// equilibria at 0.1317 uA/cm^2 with a finite period (57 ms) and ends 0.023 uA/cm^2 lower on
/// a saddle homoclinic orbit. The fold is near the orbit in state and parameter, and the end
/// had been called a SNIC at the fold, by the diagram and by `excitability`.
///
/// References (tests/fixtures/cycle_ends/make_fold_beside_homoclinic.py, scipy on the cell's
/// equations written again): the fold to 1e-10; periods by DOP853 at rtol 1e-10 on the way
/// down, the last at 0.109 (97.0 ms). Tolerances: the fold to 1e-7; the branch's period at
/// each reference current within 0.5% (the default mesh); the end below 0.109, where scipy
/// still fires, and above 0.1085.
#[test]
fn a_cycle_passing_a_fold_ends_on_the_saddle_below_it_not_at_the_fold() {
    let dir =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cycle_ends");
    let model = excitable::Model::from_file(&dir.join("fold_beside_homoclinic.nml")).unwrap();
    let mut rows = csv::Reader::from_path(dir.join("fold_beside_homoclinic.csv")).unwrap();
    let rows: Vec<(String, f64, f64)> = rows
        .records()
        .map(|r| {
            let r = r.unwrap();
            (
                r[0].to_string(),
                r[1].parse().unwrap(),
                r[2].parse().unwrap(),
            )
        })
        .collect();
    let r = run(&model, -5.0, 100.0);
    let fold = rows.iter().find(|row| row.0 == "fold_v_mv").unwrap().1;
    assert!(
        r.special_points
            .iter()
            .any(|p| p.kind == SpecialKind::Fold && (p.param - fold).abs() < 1e-7),
        "{:?}",
        r.special_points
    );
    let e = the_end(&r);
    assert_eq!(e.kind, EndKind::Homoclinic, "{:?}", r.diagram.notes);
    assert!(e.lambda > 0.1085 && e.lambda < 0.109, "{}", e.lambda);
    assert!(e.unstable_eigenvalue > 0.0);
    listed_once(&r, SpecialKind::Homoclinic, e, "saddle homoclinic orbit");
    let points = &r.diagram.cycles[0].1.points;
    for (_, current, period) in rows.iter().filter(|row| row.0 == "period_ms") {
        if *current > 0.13 {
            continue; // beyond the stretch the branch's tail covers closely
        }
        let at = points
            .windows(2)
            .find(|w| (w[0].lambda - current) * (w[1].lambda - current) <= 0.0)
            .map(|w| {
                let s = (current - w[0].lambda) / (w[1].lambda - w[0].lambda);
                w[0].period + s * (w[1].period - w[0].period)
            })
            .unwrap_or_else(|| panic!("no orbit of the branch at {current}"));
        assert!(
            (at / period - 1.0).abs() < 5e-3,
            "period at {current}: {at} vs scipy {period}"
        );
    }
    let ex = excitable::spec::ExcitabilitySpec::default()
        .run(&model)
        .unwrap();
    assert_eq!(
        ex.excitability.verdict.onset.name(),
        "homoclinic",
        "{:?}",
        ex.excitability.verdict
    );
}

/// Connor-Stevens' Hopf-born branch ends on a saddle homoclinic orbit whose period law does not
/// fit its tail (b = -827 against a predicted 96 at NTST 60; 22 at NTST 200, the two fitted
/// ends 2.6e-7 apart): the end is put at the last orbit's parameter, with the tail's spread
/// said. Within the tail the orbits turn unstable (period 110) with no special point located,
/// and an orbit further on whose multipliers say stable (period 134) is not counted: the
/// slowest stable cycle is the last stable one before the tail turns (period about 106 ms,
/// 9.4 Hz), not 7.451 Hz.
#[test]
fn connor_stevens_tail_claims_no_stability_past_its_first_unstable_orbit() {
    let r = run(&zoo("connor_stevens.toml"), -5.0, 60.0);
    let (origin, hopf_branch) = r
        .diagram
        .cycles
        .iter()
        .find(|(_, c)| {
            c.end
                .as_ref()
                .is_some_and(|e| e.kind == EndKind::Homoclinic)
        })
        .expect("a branch ending on a homoclinic orbit");
    let end = hopf_branch.end.as_ref().unwrap();
    assert_eq!(end.lambda, end.last.lambda, "{:?}", hopf_branch.notes);
    let notes = hopf_branch.notes.join("\n");
    assert!(
        notes.contains("the end is put at the last orbit's"),
        "{notes}"
    );
    let tail = hopf_branch.unclaimed_tail();
    let first = tail.first().expect("the tail turns unstable");
    assert!(
        first.period > 106.0 && first.period < 112.0,
        "{}",
        first.period
    );
    assert!(notes.contains("are unstable from period"), "{notes}");
    let stable: Vec<_> = origin.stable_orbits(hopf_branch).collect();
    assert!(stable.iter().all(|p| p.period < first.period), "{stable:?}");
    let slowest = (stable.iter().map(|p| p.frequency_hz())).fold(f64::INFINITY, f64::min);
    assert!(slowest > 9.0 && slowest < 10.0, "{slowest}");
}

/// Morris-Lecar of class 1 over g_Ca at a current of 30: the cycles born unstable at the
/// subcritical Hopf point turn stable within 1e-9 of the homoclinic end, where the saddle
/// quantity lambda_u + lambda_s is negative (Shil'nikov: cycles near such a loop are
/// stable). The stable orbits there are real (a probe's AUTO-07p run located folds of cycles
/// at g_Ca 5.6495330532-5.6495330536, periods 227-269), so the summary says they turn
/// stable, and no longer that they are "unstable from period 138.6 on".
#[test]
fn a_tail_turns_stable_where_the_saddle_quantity_is_negative() {
    let spec = excitable::BifurcationSpec {
        param: "gca".into(),
        from: 3.0,
        to: 6.0,
        current: 30.0,
        ..Default::default()
    };
    let r = spec.run(&zoo("ml_snic.ode")).unwrap();
    let branch = r
        .diagram
        .cycles
        .iter()
        .map(|(_, c)| c)
        .find(|c| {
            c.end
                .as_ref()
                .is_some_and(|e| e.kind == EndKind::Homoclinic)
        })
        .expect("a branch ending on a homoclinic orbit");
    let end = branch.end.as_ref().unwrap();
    assert!(end.unstable_eigenvalue + end.stable_eigenvalue < 0.0);
    assert!((end.lambda - 5.649533053).abs() < 1e-8, "{}", end.lambda);
    let turn = branch.tail_turns_stable().expect("the tail turns stable");
    assert!(
        turn.period > 200.0 && turn.period < 400.0,
        "{}",
        turn.period
    );
    assert!(branch.unclaimed_tail().is_empty());
    let notes = branch.notes.join("\n");
    assert!(notes.contains("turn stable from period"), "{notes}");
    assert!(!notes.contains("are unstable from period"), "{notes}");
}
