//! Cycle branches the bifurcation diagram seeds itself from a stable orbit found by simulation
//! (src/continuation/diagram.rs, "Cycle branches seeded by simulation"), on the zoo's class-1
//! models over ranges with no Hopf-born branch where they fire:
//! - Morris-Lecar's SNIC set over -20..80 (its only Hopf point, 97.79, is out of the range);
//! - Wang-Buzsaki over -2..20 (its Hopf point, 25.13, is out of the range);
//! - Connor-Stevens over 8..30 (its Hopf point, 7.88, is below the range; over the full range
//!   its Hopf-born branch is a small unstable cycle ending on a homoclinic orbit at 7.8817).
//!
//! References: the fold of equilibria (the SNIC's parameter) from AUTO-07p's diagram of the
//! same equations (tests/fixtures/zoo/auto_*.csv, made by tests/fixtures/zoo/run_auto_zoo.py).
//! Tolerances: the located end to 1e-6 (absolute) of AUTO's fold; the fitted coefficient of
//! `T = C / sqrt(I - I_SN) + D` within 2% of the fold's normal form (as tests/cycle_ends.rs).

use excitable::Model;
use excitable::continuation::SpecialKind;
use excitable::continuation::cycle_ends::EndKind;
use excitable::continuation::diagram::CycleOrigin;
use excitable::report::Report;
use excitable::spec::BifurcationResult;

use crate::common;
use common::{diagram as run, nearest_in_fixture, zoo};

/// One seeded branch, no Hopf point, its end a SNIC at AUTO's fold to 1e-6, the scaling law's
/// coefficient within 2% of the normal form's, listed in the table and the summary.
fn seeded_snic(name: &str, r: &BifurcationResult) {
    let d = &r.diagram;
    assert!(d.hopfs.is_empty(), "{name}: {:?}", d.hopfs);
    assert_eq!(d.cycles.len(), 1, "{name}: {:?}", d.notes);
    let (origin, branch) = &d.cycles[0];
    let CycleOrigin::Orbit { lambda, period } = *origin else {
        panic!("{name}: the branch should be seeded, not from {origin:?}")
    };
    assert!(lambda > r.spec.from && lambda <= r.spec.to && period > 0.0);
    // The seed lies on the branch: a point at its parameter with its period (to 1e-6).
    assert!(
        branch
            .points
            .iter()
            .any(|p| p.lambda == lambda && (p.period - period).abs() < 1e-6 * period),
        "{name}: the seed is not on the branch"
    );
    let e = branch
        .end
        .as_ref()
        .unwrap_or_else(|| panic!("{name}: no end located: {:?}", d.notes));
    assert_eq!(e.kind, EndKind::Snic, "{name}: {:?}", d.notes);
    let lp = nearest_in_fixture(&format!("zoo/auto_{name}.csv"), &["fold"], e.lambda);
    assert!(
        (e.lambda - lp).abs() < 1e-6,
        "{name}: SNIC at {} vs AUTO's fold {lp}",
        e.lambda
    );
    // The branch runs from the end of the range (its first orbit located there, to 1e-9) down
    // to the SNIC, stable on the way.
    let last = branch.points.last().unwrap();
    assert!(
        last.lambda > lp && last.lambda - lp < 1e-2,
        "{}",
        last.lambda
    );
    assert!(
        (branch.points[0].lambda - r.spec.to).abs() < 1e-9 * r.spec.to,
        "{}",
        branch.points[0].lambda
    );
    assert!(branch.points.iter().all(|p| p.stable()));
    let rel = (e.fit.coefficient - e.predicted).abs() / e.predicted;
    assert!(
        rel < 0.02,
        "{name}: C {} vs the normal form's {}",
        e.fit.coefficient,
        e.predicted
    );
    let rows: Vec<_> = r
        .special_points
        .iter()
        .filter(|p| p.kind == SpecialKind::Snic)
        .collect();
    assert_eq!(rows.len(), 1, "{name}: {:?}", r.special_points);
    assert_eq!(rows[0].param, e.lambda);
    let md = r.summary();
    assert!(
        md.contains("Cycles from a stable orbit found by simulation at"),
        "{md}"
    );
    assert!(
        md.contains("| snic |") && md.contains("ends on a SNIC"),
        "{md}"
    );
}

#[test]
fn morris_lecar_snic_set_without_its_hopf_point_gets_its_cycle_branch_by_simulation() {
    seeded_snic("ml-snic", &run(&zoo("ml_snic.ode"), -20.0, 80.0));
}

#[test]
fn wang_buzsaki_without_its_hopf_point_gets_its_cycle_branch_by_simulation() {
    seeded_snic("wang-buzsaki", &run(&zoo("wang_buzsaki.toml"), -2.0, 20.0));
}

#[test]
fn connor_stevens_gets_its_firing_branch_by_simulation() {
    seeded_snic(
        "connor-stevens",
        &run(&zoo("connor_stevens.toml"), 8.0, 30.0),
    );
}

#[test]
fn hodgkin_huxley_and_the_full_snic_range_seed_nothing() {
    // Their Hopf-born branches carry every firing probe: no branch is added.
    let hh = run(&Model::builtin("hh").unwrap(), 0.0, 200.0);
    let ml = run(&zoo("ml_snic.ode"), -20.0, 150.0);
    for r in [&hh, &ml] {
        assert_eq!(r.diagram.cycles.len(), 1, "{:?}", r.diagram.notes);
        assert!(matches!(r.diagram.cycles[0].0, CycleOrigin::Hopf(0)));
        assert!(
            r.diagram.notes.iter().all(|n| !n.contains("simulation")),
            "{:?}",
            r.diagram.notes
        );
    }
}

/// Over a parameter other than the current the diagram seeds its cycles too: `hh` at 10
/// uA/cm^2 over g_K 10..30 has no Hopf point and an unstable rest throughout, and fires at
/// every g_K. The branch's stable cycles, recorded exactly at the fixture's g_K values, have
/// scipy's periods (tests/fixtures/seeded/make_hh_gk_rates.py, DOP853 at 1e-11) to 1e-4
/// relative, and the summary says the rest is unstable over the whole range.
#[test]
fn a_diagram_over_another_parameter_seeds_the_firing_it_has_no_hopf_point_for() {
    let path = format!(
        "{}/tests/fixtures/seeded/hh_gk_rates.csv",
        env!("CARGO_MANIFEST_DIR")
    );
    let rows: Vec<(f64, f64)> = csv::Reader::from_path(&path)
        .unwrap()
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].parse().unwrap(), r[1].parse().unwrap())
        })
        .collect();
    assert_eq!(rows.len(), 5);
    let r = excitable::BifurcationSpec {
        param: "g_k".into(),
        from: 10.0,
        to: 30.0,
        current: 10.0,
        at: rows.iter().map(|r| r.0).collect(),
        ..Default::default()
    }
    .run(&Model::builtin("hh").unwrap())
    .unwrap();
    let d = &r.diagram;
    assert!(d.hopfs.is_empty(), "{:?}", d.hopfs);
    assert!(
        d.equilibria
            .iter()
            .flat_map(|b| &b.points)
            .all(|p| !p.stable())
    );
    assert!(!d.cycles.is_empty(), "{:?}", d.notes);
    for (gk, period) in rows {
        let p = r
            .special_points
            .iter()
            .find(|p| p.kind == SpecialKind::UserPoint && (p.param - gk).abs() < 1e-9)
            .unwrap_or_else(|| panic!("no cycle recorded at g_k {gk}"));
        assert!(
            (p.period_ms - period).abs() < 1e-4 * period,
            "g_k {gk}: period {} against scipy's {period}",
            p.period_ms
        );
        // The branch's nearest point there is stable (the cycle simulation settles on).
        let nearest = d
            .cycles
            .iter()
            .flat_map(|(_, b)| &b.points)
            .min_by(|a, b| (a.lambda - gk).abs().total_cmp(&(b.lambda - gk).abs()))
            .unwrap();
        assert!(nearest.stable(), "g_k {gk}: {nearest:?}");
    }
    assert!(
        r.summary().contains(
            "**Every equilibrium is unstable over the whole range: the model cannot rest there.**"
        ) && r
            .summary()
            .contains("Range 10 to 30 mS/cm^2, the injected current held at 10 uA/cm^2;"),
        "{}",
        r.summary()
    );
}

/// The current a diagram holds is said: for an `.ode` file, `--current` is added to the file's
/// current parameter, whose own value is said with it; continuing that parameter itself with
/// a non-zero `--current` says the axis is off by it.
#[test]
fn an_ode_diagram_says_the_current_it_holds() {
    let path = format!("{}/studies/models/ml.ode", env!("CARGO_MANIFEST_DIR"));
    let ml = Model::from_file(std::path::Path::new(&path)).unwrap();
    let summary = |param: &str, current: f64| {
        let r = excitable::BifurcationSpec {
            param: param.into(),
            from: 0.0,
            to: 20.0,
            current,
            no_cycles: true,
            ..Default::default()
        }
        .run(&ml)
        .unwrap();
        r.summary()
    };
    let held = summary("gk", 100.0);
    assert!(
        held.contains("Range 0 to 20, `i` held at 100 (the file's 0 plus --current 100);"),
        "{held}"
    );
    let shifted = summary("i", 5.0);
    assert!(
        shifted.contains("--current 5 added to `i` throughout (the axis shows `i` without it)"),
        "{shifted}"
    );
    assert!(!summary("i", 0.0).contains("--current"));
}

/// A damped oscillation is not a seed: XPPAUT's `fhn.ode` at I_0 = 0 rests at v = 0, the
/// section itself, with eigenvalues -0.15 ± 0.2i (closed form from its Jacobian there,
/// [[-a, -1], [eps, -eps gamma]] with a = 0.25, eps = 0.05, gamma = 1), so a run returns to
/// the section every 2 pi / 0.2 = 10 pi as a cycle would; the collocation solve collapsed
/// onto the rest, and the diagram over I_0 had noted "a stable cycle at 0 could not be
/// continued". Its only cycles are the Hopf-born branch's.
#[test]
fn a_damped_oscillation_about_a_rest_on_the_section_seeds_nothing() {
    let path = format!(
        "{}/tests/fixtures/xppaut/fhn.ode",
        env!("CARGO_MANIFEST_DIR")
    );
    let fhn = Model::from_file(std::path::Path::new(&path)).unwrap();
    let r = excitable::BifurcationSpec {
        param: "i_0".into(),
        from: -0.5,
        to: 1.5,
        ..Default::default()
    }
    .run(&fhn)
    .unwrap();
    assert_eq!(r.diagram.hopfs.len(), 2);
    assert_eq!(r.diagram.cycles.len(), 1, "{:?}", r.diagram.notes);
    assert!(
        r.diagram
            .notes
            .iter()
            .all(|n| !n.contains("found by simulation")),
        "{:?}",
        r.diagram.notes
    );
}
