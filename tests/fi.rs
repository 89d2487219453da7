//! f-I curves on the batch kernel against the bifurcation diagram: the up branch starts firing
//! at the lower Hopf point and the down branch stops at the fold of cycles (to 0.05 uA/cm^2).

use excitable::analysis::fi::Direction;
use excitable::continuation::cycles::CycleSettings;
use excitable::continuation::diagram::{DiagramSettings, diagram};
use excitable::continuation::{CURRENT, Family, Settings};
use excitable::model::builtin;
use excitable::simulate::batch::{BatchScheme, BatchSettings, Precision};
use excitable::spec::FiSpec;
use excitable::spec::fi::FiDirection;

#[test]
fn hh_onsets_match_the_hopf_point_and_the_fold_of_cycles() {
    let m = builtin::hh();
    // The reference points: the lower Hopf point and the fold of cycles of the diagram.
    let fam = Family::new(&m, CURRENT, 0.0).unwrap();
    let ds = DiagramSettings {
        range: (0.0, 20.0),
        equilibria: Settings::default(),
        cycles: CycleSettings::default(),
        with_cycles: true,
    };
    let d = diagram(&fam, &ds, &excitable::progress::Silent).unwrap();
    let hopf = d.hopfs[0].lambda;
    let fold = d.cycles[0]
        .1
        .specials
        .iter()
        .map(|s| s.point.lambda)
        .fold(f64::INFINITY, f64::min);
    // `excitable fi --to 20 --direction up --direction down --tol 1e-3`: 0.5 uA/cm^2 steps,
    // 1200 ms runs, 200 ms transient, dt 0.01 ms; the down starts on the diagram's cycles.
    let spec = FiSpec {
        from: 0.0,
        to: 20.0,
        step: 0.5,
        direction: vec![FiDirection::Up, FiDirection::Down],
        tol: 1e-3,
        ..Default::default()
    };
    assert_eq!((spec.t_max, spec.transient, spec.dt), (1200.0, 200.0, 0.01));
    let fi = spec
        .run(&excitable::model::Model::Conductance(m))
        .unwrap()
        .curve;
    let up = fi
        .onsets
        .iter()
        .find(|o| o.direction == Direction::Up)
        .unwrap();
    let down = fi
        .onsets
        .iter()
        .find(|o| o.direction == Direction::Down)
        .unwrap();
    assert!(
        (up.onset - hopf).abs() < 0.05,
        "up onset {} vs Hopf {hopf}",
        up.onset
    );
    assert!(
        (down.onset - fold).abs() < 0.05,
        "down onset {} vs fold {fold}",
        down.onset
    );
    // Hysteresis: at 8 uA/cm^2 (between the two) up rests and down fires near 60 Hz.
    let at = |dir: Direction| {
        fi.points
            .iter()
            .find(|p| p.direction == dir && p.current == 8.0)
            .unwrap()
            .summary
    };
    assert_eq!(at(Direction::Up).n_spikes, 0);
    let r = at(Direction::Down).rate_hz(fi.window_ms);
    assert!((r - 60.0).abs() < 8.0, "down rate at 8: {r}");
}

/// Reads `tests/fixtures/fi_reference.csv` (see `make_fi_reference.py`): current, counted
/// spikes, mean ISI and first spike time of `hh` stepped from rest, by LSODA at 1e-9.
fn lsoda_reference() -> Vec<[f64; 4]> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/fi_reference.csv"
    );
    let mut r = csv::Reader::from_path(path).unwrap();
    r.records()
        .map(|row| {
            let row = row.unwrap();
            std::array::from_fn(|k| row[k].parse::<f64>().unwrap())
        })
        .collect()
}

/// The batch kernel (exponential Euler, dt = 0.01 ms) against the converged LSODA reference:
/// the same currents fire, spike counts agree within one, rates (1000 / mean ISI) within 1%
/// (0.72% at worst, as the dt/2 Richardson estimate of `excitable fi` predicts), first-spike
/// times within 2.5%.
#[test]
fn hh_rates_are_within_one_percent_of_a_converged_reference() {
    use excitable::simulate::batch::run_batch;
    let m = builtin::hh();
    let reference = lsoda_reference();
    assert_eq!(reference.len(), 57);
    let currents: Vec<f64> = reference.iter().map(|r| r[0]).collect();
    let rest = excitable::model::Model::Conductance(m.clone())
        .rest(0.0)
        .unwrap()
        .state;
    let s = BatchSettings {
        t_max: 1200.0,
        dt: 0.01,
        transient: 200.0,
        threshold_mv: 0.0,
        scheme: BatchScheme::ExpEuler,
        precision: Precision::F64,
        ode_method: excitable::simulate::Method::Rk4,
    };
    let runs = run_batch(&m, &currents, &[rest], &s).unwrap();
    let mut worst = 0.0f64;
    for (r, k) in reference.iter().zip(&runs) {
        let [i, n, isi, first] = *r;
        assert!(
            (k.n_spikes as f64 - n).abs() <= 1.0,
            "{i} uA/cm^2: {} spikes vs {n}",
            k.n_spikes
        );
        assert_eq!(
            first.is_nan(),
            k.first_spike_ms.is_nan(),
            "{i} uA/cm^2: first spike {} vs {first}",
            k.first_spike_ms
        );
        if first.is_finite() {
            // First order in dt: the latency is 2.1% late at most (0.07 ms of 4.6 at 3 uA/cm^2).
            assert!(
                (k.first_spike_ms - first).abs() < 0.025 * first,
                "{i} uA/cm^2: first spike {} vs {first}",
                k.first_spike_ms
            );
        }
        if n >= 2.0 {
            let d = (k.isi_rate_hz() - 1000.0 / isi).abs() * isi / 1000.0;
            worst = worst.max(d);
            assert!(d < 0.01, "{i} uA/cm^2: rate off by {:.3}%", d * 100.0);
        }
    }
    // The reference has firing points to compare (7..60 uA/cm^2).
    assert!(reference.iter().filter(|r| r[1] >= 2.0).count() >= 20);
    eprintln!("largest rate difference: {:.3}%", worst * 100.0);
}

/// LIF through `fi` (the general path): rheobase and onset equal the closed form
/// (v_th - v_rest) / r_m to the bisection tolerance, and every rate equals the closed form
/// 1 / (t_ref + tau ln((V_inf - v_reset) / (V_inf - v_th))) to 1e-9 (the flow and threshold
/// times are exact), also with non-default parameters.
#[test]
fn lif_rheobase_onset_and_rates_equal_the_closed_form() {
    use excitable::analysis::fi::fi_curve_general;
    use excitable::model::Model;
    for set in [vec![], vec![("r_m", 2.5), ("v_th", 15.0), ("t_ref", 2.0)]] {
        let mut m = Model::builtin("lif").unwrap();
        for (k, v) in &set {
            m.set(k, *v).unwrap();
        }
        let Model::Lif(lif) = &m else { unreachable!() };
        let v = lif.values();
        let currents: Vec<f64> = (0..=60).map(|k| k as f64 * 0.2).collect();
        let s = BatchSettings {
            t_max: 1200.0,
            dt: 0.01,
            transient: 200.0,
            threshold_mv: v.v_th,
            scheme: BatchScheme::ExpEuler,
            precision: Precision::F64,
            ode_method: excitable::simulate::Method::Rk4,
        };
        let tol = 1e-6;
        let fi = fi_curve_general(&m, &currents, &[Direction::Rest], &s, tol, Vec::new).unwrap();
        let exact = v.rheobase();
        assert!(
            (fi.rheobase - exact).abs() <= tol,
            "{} vs {exact}",
            fi.rheobase
        );
        assert!(
            (fi.onsets[0].onset - exact).abs() <= tol,
            "{} vs {exact}",
            fi.onsets[0].onset
        );
        assert!(fi.onsets[0].offset.is_nan());
        let mut compared = 0;
        for p in &fi.points {
            let r = v.rate_hz(p.current);
            if p.summary.n_spikes >= 2 {
                assert!(
                    (p.summary.isi_rate_hz() - r).abs() < 1e-9 * r,
                    "{}: {} vs {r}",
                    p.current,
                    p.summary.isi_rate_hz()
                );
                compared += 1;
            } else {
                // Silent points are below rheobase, or fire slower than 2 spikes a window.
                assert!(r < 2.0 * 1000.0 / fi.window_ms, "{}: rate {r}", p.current);
            }
        }
        assert!(compared >= 25, "{compared}");
    }
}

/// An `.ode` model on the general path (RK4): Morris-Lecar's rates equal AUTO's cycle periods
/// at the same currents (tests/fixtures/auto/ode_ml_auto.csv, the stable branch's user points)
/// to 1e-4, and its hysteresis matches the bifurcation diagram AUTO computed: from rest at 0
/// firing starts at the fold of cycles 88.29325 (the step lands in the cycle's basin as soon
/// as the cycle exists); on the way up (from the stable equilibrium) at the subcritical Hopf
/// point 93.85762 and it stops at the upper Hopf point 212.01882; on the way down (from the
/// cycle) it starts at the fold 88.29325. Onsets to 0.01 (the bisection's tolerance is 1e-3;
/// next to a fold of cycles, runs linger near the vanished cycle for a while).
#[test]
fn ode_file_rates_equal_auto_periods_and_onsets_match_its_diagram() {
    use excitable::analysis::fi::fi_curve_general;
    use excitable::model::Model;
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/studies/models/ml.ode");
    let m = Model::from_file(std::path::Path::new(path)).unwrap();
    let s = BatchSettings {
        t_max: 800.0,
        dt: 0.01,
        transient: 200.0,
        threshold_mv: 0.0,
        scheme: BatchScheme::ExpEuler,
        precision: Precision::F64,
        ode_method: excitable::simulate::Method::Rk4,
    };
    let currents = [50.0, 100.0, 150.0, 200.0, 230.0];
    let dirs = [Direction::Rest, Direction::Up, Direction::Down];
    // No diagram here: `down` starts from the end of a run at the current that fired most.
    let fi = fi_curve_general(&m, &currents, &dirs, &s, 1e-3, Vec::new).unwrap();
    // (current, period in ms) on the stable branch, from AUTO.
    for (i, period) in [
        (100.0, 85.290641051),
        (150.0, 66.161752735),
        (200.0, 65.619195981),
    ] {
        for p in fi.points.iter().filter(|p| p.current == i) {
            let want = 1000.0 / period;
            let got = p.summary.isi_rate_hz();
            assert!(
                (got - want).abs() < 1e-4 * want,
                "{i} {:?}: {got} vs {want}",
                p.direction
            );
        }
    }
    for p in fi
        .points
        .iter()
        .filter(|p| p.current == 50.0 || p.current == 230.0)
    {
        assert!(p.summary.n_spikes <= 1, "{p:?}");
    }
    let onset = |d: Direction| fi.onsets.iter().find(|o| o.direction == d).unwrap();
    let near = |x: f64, want: f64| (x - want).abs() < 0.01;
    assert!(
        near(onset(Direction::Rest).onset, 88.29325),
        "{:?}",
        onset(Direction::Rest)
    );
    assert!(
        near(onset(Direction::Up).onset, 93.85762),
        "{:?}",
        onset(Direction::Up)
    );
    assert!(
        near(onset(Direction::Up).offset, 212.01882),
        "{:?}",
        onset(Direction::Up)
    );
    assert!(
        near(onset(Direction::Down).onset, 88.29325),
        "{:?}",
        onset(Direction::Down)
    );
}

/// The second-order exponential midpoint rule on the batch kernel against the same converged
/// LSODA reference: at dt = 0.02 ms the rates are within 0.1% (0.067% measured) and spike
/// counts within one; doubling dt multiplies the largest rate error by about four (second
/// order: 3.84 from 0.01 to 0.02 ms, 3.71 from 0.025 to 0.05 ms). Mixed precision (f32
/// exponentials) moves no rate by more than 1e-4 % of the f64 run's.
#[test]
fn exp_midpoint_is_second_order_and_within_a_tenth_of_a_percent() {
    second_order_and_within_a_tenth_of_a_percent(BatchScheme::ExpMidpoint);
}

/// The staggered scheme (gates at half steps, one evaluation of the rates per step) against
/// the same LSODA reference, with the same bounds as the midpoint rule: within 0.1% at
/// dt = 0.02 ms, second order, f32 exponentials harmless.
#[test]
fn exp_staggered_is_second_order_and_within_a_tenth_of_a_percent() {
    second_order_and_within_a_tenth_of_a_percent(BatchScheme::ExpStaggered);
}

fn second_order_and_within_a_tenth_of_a_percent(scheme: BatchScheme) {
    use excitable::simulate::batch::run_batch;
    let m = builtin::hh();
    let reference = lsoda_reference();
    let currents: Vec<f64> = reference.iter().map(|r| r[0]).collect();
    let rest = excitable::model::Model::Conductance(m.clone())
        .rest(0.0)
        .unwrap()
        .state;
    let runs = |dt: f64, precision: Precision| {
        let s = BatchSettings {
            t_max: 1200.0,
            dt,
            transient: 200.0,
            threshold_mv: 0.0,
            scheme,
            precision,
            ode_method: excitable::simulate::Method::Rk4,
        };
        run_batch(&m, &currents, std::slice::from_ref(&rest), &s).unwrap()
    };
    // The largest relative rate error against the reference, with counts checked.
    let worst = |dt: f64, runs: &[excitable::simulate::batch::NeuronSummary]| -> f64 {
        let mut rate = 0.0f64;
        for (r, k) in reference.iter().zip(runs) {
            let [i, n, isi, _] = *r;
            assert!(
                (k.n_spikes as f64 - n).abs() <= 1.0,
                "dt {dt}, {i} uA/cm^2: {} spikes vs {n}",
                k.n_spikes
            );
            if n >= 2.0 {
                rate = rate.max((k.isi_rate_hz() - 1000.0 / isi).abs() * isi / 1000.0);
            }
        }
        rate
    };
    let at = |dt: f64| worst(dt, &runs(dt, Precision::F64));
    let (e01, e02, e025, e05) = (at(0.01), at(0.02), at(0.025), at(0.05));
    eprintln!(
        "{scheme:?}: largest rate errors: dt 0.01 {:.4}%, 0.02 {:.4}%, 0.025 {:.4}%, 0.05 {:.4}%",
        e01 * 100.0,
        e02 * 100.0,
        e025 * 100.0,
        e05 * 100.0
    );
    assert!(e02 < 1e-3, "dt 0.02: {:.4}%", e02 * 100.0);
    for (small, large) in [(e01, e02), (e025, e05)] {
        let ratio = large / small;
        assert!((3.3..4.7).contains(&ratio), "order: error ratio {ratio}");
    }
    let (f64_runs, mixed) = (runs(0.02, Precision::F64), runs(0.02, Precision::Mixed));
    assert!(worst(0.02, &mixed) < 1e-3);
    for (a, b) in f64_runs.iter().zip(&mixed) {
        assert_eq!(a.n_spikes, b.n_spikes);
        if a.n_spikes >= 2 {
            let d = (a.isi_rate_hz() - b.isi_rate_hz()).abs() / a.isi_rate_hz();
            assert!(d < 1e-6, "mixed moves a rate by {d}");
        }
    }
}

/// The midpoint rule is second order on models with (inf, tau) gates and voltage-dependent
/// conductance factors too, with every lane on its own parameter values (the sweep path):
/// against a run at dt/4, the rate error at 2 dt over the error at dt is (4 - 1/16) / (1 - 1/16)
/// = 4.2 for a second-order method (2.33 for a first-order one), on zoo models given as
/// conductances.
#[test]
fn exp_midpoint_is_second_order_on_the_zoo_with_per_lane_parameters() {
    second_order_on_the_zoo_with_per_lane_parameters(BatchScheme::ExpMidpoint);
}

/// The staggered scheme is second order on the same models: Wang-Buzsaki's sodium activation
/// is an instantaneous factor, which it takes at V extrapolated to the step's midpoint;
/// Connor-Stevens has (inf, tau) gates only.
#[test]
fn exp_staggered_is_second_order_on_the_zoo_with_per_lane_parameters() {
    second_order_on_the_zoo_with_per_lane_parameters(BatchScheme::ExpStaggered);
}

fn second_order_on_the_zoo_with_per_lane_parameters(scheme: BatchScheme) {
    use excitable::model::Model;
    use excitable::simulate::batch::run_batch_params;
    for (file, currents) in [
        ("studies/models/zoo/connor_stevens.toml", (5.0, 60.0)),
        ("studies/models/zoo/wang_buzsaki.toml", (1.0, 20.0)),
        ("hh", (10.0, 60.0)),
    ] {
        let model = if file.ends_with(".toml") {
            Model::from_file(std::path::Path::new(file)).unwrap()
        } else {
            Model::builtin(file).unwrap()
        };
        let m = model.smooth().unwrap().clone();
        let n = 32;
        let currents: Vec<f64> = (0..n)
            .map(|k| currents.0 + (currents.1 - currents.0) * k as f64 / (n - 1) as f64)
            .collect();
        // Each lane's own value of the leak conductance (within 1%): the non-uniform path.
        let base = m.params.values();
        let leak = m
            .params
            .names()
            .iter()
            .position(|p| p.starts_with("g_l"))
            .unwrap();
        let params: Vec<Vec<f64>> = (0..n)
            .map(|k| {
                let mut p = base.clone();
                p[leak] *= 1.0 + 0.01 * k as f64 / n as f64;
                p
            })
            .collect();
        let rest = model.rest(0.0).unwrap().state;
        let rates = |dt: f64, precision: Precision| -> Vec<Option<f64>> {
            let s = BatchSettings {
                t_max: 600.0,
                dt,
                transient: 100.0,
                threshold_mv: m.threshold_mv,
                scheme,
                precision,
                ode_method: excitable::simulate::Method::Rk4,
            };
            run_batch_params(&m, &params, &currents, std::slice::from_ref(&rest), &s)
                .unwrap()
                .iter()
                .map(|r| (r.n_spikes >= 10).then(|| r.isi_rate_hz()))
                .collect()
        };
        for precision in [Precision::F64, Precision::Mixed] {
            let (r2, r1, fine) = (
                rates(0.02, precision),
                rates(0.01, precision),
                rates(0.0025, precision),
            );
            let (mut e2, mut e1, mut firing) = (0.0f64, 0.0f64, 0);
            for k in 0..n {
                if let (Some(a), Some(b), Some(f)) = (r2[k], r1[k], fine[k]) {
                    e2 = e2.max((a - f).abs() / f);
                    e1 = e1.max((b - f).abs() / f);
                    firing += 1;
                }
            }
            assert!(firing >= 8, "{file}: {firing} firing lanes");
            let ratio = e2 / e1;
            eprintln!(
                "{file} {scheme:?} {precision:?}: errors {e2:.2e} at 0.02, {e1:.2e} at 0.01, ratio {ratio:.2}"
            );
            assert!(
                (3.4..5.5).contains(&ratio),
                "{file} {scheme:?} {precision:?}: ratio {ratio}"
            );
        }
    }
}

/// The overlay holds an orbit of the diagram located at every current of the grid, so every
/// firing current of the down branch is compared with the diagram at that current, none
/// interpolated. `hh` (exponential Euler, dt 0.01 ms): the largest difference, 0.72%, is the
/// integrator's, within 10% of the error the dt/2 check states for the rates (0.71%). `ml.ode`
/// (RK4 on lanes, dt 0.01): the runs equal the collocation to 1e-8 relative at all 63 (before the
/// grid's orbits, 3 were compared and interpolation put 0.45% between them).
#[test]
fn every_firing_current_of_the_down_branch_is_compared_with_the_diagram_at_that_current() {
    let hh = excitable::Model::builtin("hh").unwrap();
    let ml = excitable::Model::from_file(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/studies/models/ml.ode"
    )))
    .unwrap();
    for (name, model, spec) in [
        ("hh", &hh, FiSpec::default()),
        (
            "ml.ode",
            &ml,
            FiSpec {
                from: 0.0,
                to: 300.0,
                step: 2.0,
                ..FiSpec::default()
            },
        ),
    ] {
        let r = spec.run(model).unwrap();
        let c = r.comparison.unwrap();
        assert_eq!(c.points, c.firing, "{name}");
        assert!(c.points > 60, "{name}: {}", c.points);
        let diff_pct = 100.0 * c.max_rel_diff;
        let stated = r.curve.accuracy.unwrap().est_error_pct;
        if name == "hh" {
            assert!(
                diff_pct < 1.1 * stated && diff_pct > 0.5 * stated,
                "{name}: {diff_pct}% against the stated {stated}%"
            );
        } else {
            assert!(diff_pct < 1e-6, "{name}: {diff_pct}%");
            // The fastest firing by 1000 / mean ISI is the same on every start and equals the
            // diagram's fastest stable orbit on the grid (15.62 per 1000), where the counted
            // rates read 16 and 15 (whole spikes per window).
            let fastest = (r.curve.points.iter())
                .filter_map(|p| r.overlay.at(p.current))
                .fold(0.0f64, f64::max);
            for o in &r.curve.onsets {
                let d = (o.max_isi_rate_hz - fastest).abs() / fastest;
                assert!(
                    d < 1e-6,
                    "{:?}: {} vs {fastest}",
                    o.direction,
                    o.max_isi_rate_hz
                );
            }
        }
    }
}

/// A `tol` below what f64 resolves at the brackets (1e-15 at currents near 2 and 10) ends at
/// that resolution instead of never: the probes had fallen on the brackets' ends. The onsets
/// equal those at `tol` 1e-12 to a few ulps (the brackets shrink the same way to there).
#[test]
fn a_tolerance_below_the_spacing_of_doubles_ends_the_multisection() {
    let hh = excitable::Model::builtin("hh").unwrap();
    let at = |tol: f64| {
        FiSpec {
            from: 0.0,
            to: 10.0,
            step: 5.0,
            t_max: 300.0,
            transient: 100.0,
            tol,
            no_overlay: true,
            ..FiSpec::default()
        }
        .run(&hh)
        .unwrap()
    };
    // Below 1e-10 the tolerance is refused by name (1e-300 had bisected for over a minute).
    let refused = FiSpec {
        tol: 1e-15,
        ..FiSpec::default()
    }
    .run(&hh)
    .unwrap_err()
    .to_string();
    assert!(
        refused.starts_with("tol = 1e-15") && refused.contains("1e-10"),
        "{refused}"
    );
    let (fine, coarse) = (at(1e-10), at(1e-9));
    assert!(fine.curve.rheobase.is_finite());
    assert!((fine.curve.rheobase - coarse.curve.rheobase).abs() < 2e-9);
    for (f, c) in fine.curve.onsets.iter().zip(&coarse.curve.onsets) {
        for (a, b) in [(f.onset, c.onset), (f.offset, c.offset)] {
            assert!(
                a.is_nan() && b.is_nan() || (a - b).abs() < 2e-9,
                "{a} vs {b}"
            );
        }
    }
}

/// Where no run of the grid fires the 10 spikes the dt/2 check compares, the summary says the
/// check was not run (it said nothing); a grid that fires says what it measured.
#[test]
fn an_integrator_check_that_did_not_run_says_so() {
    use excitable::report::Report;
    let hh = excitable::Model::builtin("hh").unwrap();
    let at = |from: f64, to: f64| {
        FiSpec {
            from,
            to,
            step: 1.0,
            t_max: 300.0,
            transient: 100.0,
            no_overlay: true,
            ..FiSpec::default()
        }
        .run(&hh)
        .unwrap()
    };
    let quiet = at(0.0, 2.0);
    assert!(quiet.curve.accuracy.is_none());
    assert!(
        quiet.summary().contains("Integrator error: not run"),
        "{}",
        quiet.summary()
    );
    let firing = at(20.0, 22.0);
    assert!(firing.curve.accuracy.is_some());
    assert!(
        !firing.summary().contains("not run"),
        "{}",
        firing.summary()
    );
    // LIF's runs follow its exact flow: the analysis says there is nothing to check, and the
    // summary does not call the check missing.
    let lif = FiSpec {
        from: 0.0,
        to: 30.0,
        step: 1.0,
        no_overlay: true,
        ..FiSpec::default()
    }
    .run(&excitable::Model::builtin("lif").unwrap())
    .unwrap();
    assert!(lif.curve.flow_exact && lif.curve.accuracy.is_none());
    assert!(
        !lif.summary().contains("Integrator error"),
        "{}",
        lif.summary()
    );
    assert!(!quiet.curve.flow_exact && !firing.curve.flow_exact);
}

/// The rheobase's stated integrator error covers its distance from the converged rheobase:
/// `hh` from rest, exponential Euler at dt 0.01 ms, bisected to 1e-4 at 2.2489 uA/cm^2, while
/// LSODA at rtol 1e-11 puts it at 2.2403 (tests/fixtures/make_rheobase.py), 0.0086 lower.
/// The summary had quoted the bisection's 1e-4 as its only precision. The estimate (the
/// rheobase bisected again at dt/2, by Richardson) must lie within 30% of the true error.
#[test]
fn the_rheobase_states_its_integrator_error() {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rheobase.csv"),
    )
    .unwrap();
    let lsoda: f64 = text
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let fi = FiSpec {
        from: 0.0,
        to: 10.0,
        step: 1.0,
        direction: vec![FiDirection::Rest],
        ..Default::default()
    }
    .run(&excitable::model::Model::builtin("hh").unwrap())
    .unwrap()
    .curve;
    let truth = fi.rheobase - lsoda;
    assert!(truth > 0.005, "{} vs LSODA {lsoda}", fi.rheobase);
    assert!(
        (fi.rheobase_error / truth - 1.0).abs() < 0.3,
        "stated {} against {truth}",
        fi.rheobase_error
    );
}

/// Morris-Lecar's homoclinic variant past its fold of cycles (40.5934, AUTO-07p in
/// `tests/fixtures/auto`) fires a few spikes and rests: at 44 four by 253 time units, at 42
/// fourteen that end near 437, against scipy's LSODA runs of the probe. Those trains are
/// `stopped`, not repetitive firing, so firing stops between the fold and 41, not at 44.74
/// (rest) and 42.04 (up, down) as the spike count alone had said, and no ISI rate is given
/// for them. Below the fold every start that fires keeps firing to the window's end.
#[test]
fn a_train_dying_past_the_fold_of_cycles_is_not_repetitive_firing() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("studies/models/zoo/ml_homoclinic.ode");
    let model = excitable::Model::from_file(&path).unwrap();
    let spec = FiSpec {
        from: 30.0,
        to: 50.0,
        step: 1.0,
        ..Default::default()
    };
    let r = spec.run(&model).unwrap();
    const FOLD: f64 = 40.5934;
    for o in &r.curve.onsets {
        assert!(
            o.offset > FOLD && o.offset < 41.0,
            "{:?} stops at {}",
            o.direction,
            o.offset
        );
    }
    for p in &r.curve.points {
        let s = &p.summary;
        if p.current >= 42.0 && p.current <= 44.0 && p.direction == Direction::Rest {
            assert!(s.n_spikes >= 2 && s.stopped, "{} {:?}", p.current, s);
            assert!(s.isi_rate_hz().is_nan());
        }
        if p.current < FOLD && s.n_spikes >= 2 {
            assert!(!s.stopped, "{} {:?}: {s:?}", p.current, p.direction);
        }
    }
}

/// `hh` above its upper Hopf point (154.52) rests on a focus that a step from rest leaves
/// ringing; the batch kernel's maxima counted it as a 168 Hz oscillation, `max-rate` as none.
/// Below the Hopf point the small stable cycle's oscillation is kept.
#[test]
fn ringing_down_to_rest_past_the_upper_hopf_point_is_no_oscillation() {
    let spec = FiSpec {
        from: 150.0,
        to: 160.0,
        step: 2.0,
        direction: vec![FiDirection::Rest],
        no_overlay: true,
        ..Default::default()
    };
    let r = spec
        .run(&excitable::Model::Conductance(builtin::hh()))
        .unwrap();
    for p in &r.curve.points {
        let f = p.summary.oscillation_hz();
        if p.current < 154.5 {
            assert!(f > 160.0 && f < 175.0, "{}: {f}", p.current);
        } else {
            assert!(f.is_nan(), "{}: {f}", p.current);
        }
    }
}

/// Morris-Lecar's SNIC variant past its fold of cycles (116.11) rests on the upper branch of
/// its S, a stable focus (decay time 45), which the branch through rest at 0 never reaches:
/// it leaves through a fold below 0. Ringing that dies away there had been counted as a
/// 37-42 oscillation per 1000 time units at 117-120; the upper branch is now found from the
/// range's top. The `up` start keeps firing up to the fold of cycles, as a slow ramp does
/// (it comes from firing, so the upper equilibrium is not where it is between the Hopf point
/// at 97.79 and the fold).
#[test]
fn ringing_onto_an_equilibrium_the_rest_branch_never_reaches_is_no_oscillation() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("studies/models/zoo/ml_snic.ode");
    let model = excitable::Model::from_file(&path).unwrap();
    let spec = FiSpec {
        from: 110.0,
        to: 120.0,
        step: 1.0,
        no_overlay: true,
        ..Default::default()
    };
    let r = spec.run(&model).unwrap();
    for p in &r.curve.points {
        let s = &p.summary;
        if p.current > 116.5 && s.n_spikes == 0 {
            assert!(
                s.oscillation_hz().is_nan(),
                "{} {:?}: {s:?}",
                p.current,
                p.direction
            );
        }
        if p.current < 116.0 && p.direction == Direction::Up {
            assert!(s.fires(), "{} up: {s:?}", p.current);
        }
    }
    assert!(
        (r.curve.points.iter()).any(|p| p.current > 116.5 && p.summary.n_spikes == 0),
        "no silent run past the fold"
    );
}

/// Morris-Lecar's SNIC set has a stable upper equilibrium from its subcritical Hopf point at
/// 97.79 up, beside the stable cycles that end at the fold of cycles at 116.11 (the probe's
/// scipy ramp down from 125 stayed quiet down to 97.8): every sweep fires there (`down` starts
/// on the cycle, `rest` and `up` come from below), so the summary says that firing and rest
/// coexist at those grid currents, and that no sweep shows that rest. `hh`'s bistable range
/// below its Hopf point (6.26 to 9.78) is named the same way, its rest shown by `up`.
#[test]
fn firing_beside_a_stable_rest_is_named_on_either_side_of_the_firing_range() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("studies/models/zoo/ml_snic.ode");
    let model = excitable::Model::from_file(&path).unwrap();
    let fi = |model: &excitable::Model, from: f64, to: f64, step: f64| {
        FiSpec {
            from,
            to,
            step,
            no_overlay: true,
            ..Default::default()
        }
        .run(model)
        .unwrap()
        .curve
        .notes
    };
    let notes = fi(&model, 90.0, 125.0, 1.0);
    let note = notes.iter().find(|n| n.contains("coexist")).unwrap();
    assert!(
        note.contains("grid currents 98 to 116 (no sweep here starts at that rest"),
        "{note}"
    );
    let hh = fi(&excitable::Model::builtin("hh").unwrap(), 0.0, 20.0, 0.5);
    let note = hh.iter().find(|n| n.contains("coexist")).unwrap();
    // From the first grid current above the fold of cycles (6.26) where a sweep fires (the
    // step from rest lands on the cycle there) to the last one below the Hopf point (9.78);
    // that rest is the branch `up` follows.
    assert!(
        note.contains("6.5 uA/cm^2 to 9.5 uA/cm^2 (the `up` sweep shows the rest)"),
        "{note}"
    );
}
