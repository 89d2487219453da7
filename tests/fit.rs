//! `excitable fit`: parameter recovery on hh (smooth targets to 1e-4, simulation targets to
//! 1%), exact derivatives against finite differences, an f-I fit across kinetics whose fitted
//! file reproduces its reported numbers, and bad input refused before any work.

use crate::common;
use common::excitable;

use excitable::analysis::fit::Quantity;
use excitable::{FitSpec, Model};

/// hh's g_na, g_k, g_l, perturbed by +20%, -20%, +20%.
fn perturbed() -> Model {
    Model::builtin("hh")
        .unwrap()
        .with("g_na", 120.0 * 1.2)
        .unwrap()
        .with("g_k", 36.0 * 0.8)
        .unwrap()
        .with("g_l", 0.3 * 1.2)
        .unwrap()
}

const TRUE: [(&str, f64); 3] = [("g_na", 120.0), ("g_k", 36.0), ("g_l", 0.3)];

fn free3() -> Vec<String> {
    TRUE.iter().map(|(n, _)| n.to_string()).collect()
}

/// The spec with targets `names` at the values the true hh gives with `base`'s settings.
fn targets_of_hh(base: &FitSpec, names: &[&str]) -> FitSpec {
    let hh = Model::builtin("hh").unwrap();
    let truth = base.achieved_by(&hh, names).unwrap();
    FitSpec {
        free: free3(),
        target: names
            .iter()
            .zip(&truth)
            .map(|(n, v)| format!("{n}={v}"))
            .collect(),
        ..base.clone()
    }
}

/// Smooth targets: rest at 0 and at -5 uA/cm^2, the lower Hopf current and the input
/// resistance at 0 (four targets, three parameters; the Jacobian's condition number, about
/// 80, says they are independent). Gauss-Newton on exact Jacobians from +-20% must land on
/// the true values to 1e-4 relative (it reaches about 1e-14).
#[test]
fn smooth_targets_recover_hh_conductances_to_1e_4() {
    let names = ["rest_mv", "rest_mv@-5", "hopf", "input_resistance"];
    let spec = targets_of_hh(&FitSpec::default(), &names);
    let r = spec.run(&perturbed()).unwrap();
    assert_eq!(r.method.name(), "gauss-newton");
    for (name, want) in TRUE {
        let got = r.fitted.params().get(name).unwrap();
        assert!((got - want).abs() / want < 1e-4, "{name}: {got} vs {want}");
    }
    assert!(r.all_met());
    assert!(r.condition() < 1e4, "condition {}", r.condition());
    // Three starts in parallel agree.
    let r3 = FitSpec { starts: 3, ..spec }.run(&perturbed()).unwrap();
    assert_eq!(r3.outcomes.len(), 3);
    assert!(r3.spread().iter().all(|s| *s < 1e-4), "{:?}", r3.spread());
}

/// The relative uncertainties of a fitted point do not depend on where the fit started, and
/// equal scipy's (`tests/fixtures/fit/make_uncertainty.py`: targets from hh's steady-state
/// current, a Jacobian by central differences) to 1e-3 relative; the condition number too.
#[test]
fn uncertainties_belong_to_the_fitted_point_and_match_scipy() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/fit/");
    let text = std::fs::read_to_string(format!("{dir}uncertainty.csv")).unwrap();
    let want: Vec<f64> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
        .collect();
    let spec = FitSpec {
        free: free3(),
        // scipy's targets for g_na 100, g_k 40, g_l 0.25, each with tolerance 1e-6.
        target: std::fs::read_to_string(format!("{dir}uncertainty_targets.csv"))
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| format!("{}:tol=1e-6", l.replacen(',', "=", 1)))
            .collect(),
        ..Default::default()
    };
    let mut seen = vec![];
    for (g_na, g_k, g_l) in [(120.0, 36.0, 0.3), (200.0, 70.0, 0.5)] {
        let start = Model::builtin("hh")
            .unwrap()
            .with("g_na", g_na)
            .unwrap()
            .with("g_k", g_k)
            .unwrap()
            .with("g_l", g_l)
            .unwrap();
        let r = spec.run(&start).unwrap();
        let got = r.relative_uncertainty();
        for (k, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!(
                (g - w).abs() <= 1e-3 * w,
                "parameter {k}: {g} against scipy's {w}"
            );
        }
        let c = r.condition();
        assert!(
            (c - want[3]).abs() <= 1e-3 * want[3],
            "condition {c} against {}",
            want[3]
        );
        seen.push(got);
    }
    for (a, b) in seen[0].iter().zip(&seen[1]) {
        assert!(
            (a - b).abs() <= 1e-6 * a,
            "{a} from one start, {b} from the other"
        );
    }
}

/// One target for three parameters: the condition number is infinite and each parameter
/// the target cannot pin is "not determined", never an uncertainty of 0.
#[test]
fn an_underdetermined_fit_says_which_parameters_are_not_determined() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("fit");
    let (ok, _, stderr) = excitable(&[
        "fit",
        "--model",
        "hh",
        "--free",
        "g_na,g_k,g_l",
        "--target",
        "rest_mv=-66",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert_eq!(md.matches("**not determined**").count(), 3, "{md}");
    assert!(
        md.contains("condition number inf: **1 target cannot determine 3 free parameters**"),
        "{md}"
    );
}

/// The exact Jacobian (implicit differentiation through the equilibrium and Hopf conditions)
/// against central differences with h = 1e-5 relative (truncation ~1e-10, rounding of the
/// Newton solves ~1e-9 relative): they agree to 1e-6 relative to each row's size.
#[test]
fn implicit_derivatives_match_finite_differences() {
    let names = ["rest_mv", "rest_mv@-5", "hopf", "input_resistance@-2"];
    let spec = targets_of_hh(&FitSpec::default(), &names);
    let problem = spec.problem(&perturbed()).unwrap();
    let p = problem.start();
    let (_, jac) = problem.achieved_with_jacobian(&p).unwrap();
    for c in 0..p.len() {
        let h = 1e-5 * p[c];
        let (mut a, mut b) = (p.clone(), p.clone());
        a[c] += h;
        b[c] -= h;
        let (fa, fb) = (problem.achieved(&a).unwrap(), problem.achieved(&b).unwrap());
        for k in 0..names.len() {
            let fd = (fa[k] - fb[k]) / (2.0 * h);
            let scale = (0..p.len()).map(|j| jac[(k, j)].abs()).fold(0.0, f64::max);
            assert!(
                (fd - jac[(k, c)]).abs() <= 1e-6 * scale,
                "{} by {}: exact {} vs FD {fd}",
                names[k],
                problem.free[c].name,
                jac[(k, c)]
            );
        }
    }
}

/// Simulation targets: rates at 10, 20 and 50 uA/cm^2 and the rheobase, measured with the
/// spec's own settings (dt 0.025 ms, 400 ms runs; the targets come from the true hh with the
/// same settings, so the fit can be exact). Nelder-Mead from +-20% must recover the
/// conductances to 1%.
#[test]
fn simulation_targets_recover_hh_conductances_to_1_percent() {
    let base = FitSpec {
        from: 1.0,
        to: 5.0,
        step: 1.0,
        t_max: 400.0,
        transient: 100.0,
        dt: 0.025,
        tol: 1e-4,
        ..Default::default()
    };
    let names = ["rate_hz@10", "rate_hz@20", "rate_hz@50", "rheobase"];
    let spec = targets_of_hh(&base, &names);
    let r = spec.run(&perturbed()).unwrap();
    assert_eq!(r.method.name(), "nelder-mead");
    for (name, want) in TRUE {
        let got = r.fitted.params().get(name).unwrap();
        assert!((got - want).abs() / want < 0.01, "{name}: {got} vs {want}");
    }
    assert!(r.all_met());
}

/// hh's three conductances fitted to the f-I curve of the Wang-Buzsaki interneuron (class 1,
/// other kinetics; scipy's rates, tests/fixtures/fit/make_wb_fi.py): hh cannot fire at WB's
/// low rates, so the fit cannot be exact and must say so. What it reports is what the fitted
/// file gives when loaded and run again (to 1e-9 relative: the same computation).
#[test]
fn an_fi_fit_across_kinetics_reports_its_residual_and_its_file_reproduces_it() {
    let dir = tempfile::tempdir().unwrap();
    let csv = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/fit/wang_buzsaki_fi6.csv"
    );
    let spec = FitSpec {
        free: free3(),
        target: vec![format!("fi={csv}:tol=2")],
        t_max: 400.0,
        transient: 100.0,
        dt: 0.025,
        max_iters: 60,
        ..Default::default()
    };
    let r = spec.run(&perturbed()).unwrap();
    assert_eq!(r.targets.len(), 6);
    assert!(
        r.targets
            .iter()
            .all(|t| matches!(t.quantity, Quantity::RateHz { .. }))
    );
    // Honest: hh cannot reach WB's 2 uA/cm^2 rate, so not every target is met, and the
    // summary says so.
    assert!(!r.all_met());
    let md = excitable::Report::summary(&r);
    assert!(md.contains("Not every target is met"), "{md}");
    // The cost went down from the start.
    let best = &r.outcomes[r.best];
    let first = r.history.iter().find(|i| i.start == best.start).unwrap();
    assert!(best.cost < first.cost, "{} vs {}", best.cost, first.cost);
    // The fitted file reproduces the reported numbers.
    let files = excitable::Report::write(&r, &dir.path().join("fit")).unwrap();
    let file = files.iter().find(|f| f.ends_with("fitted.toml")).unwrap();
    let again = Model::from_file(file).unwrap();
    let names: Vec<String> = r.targets.iter().map(|t| t.quantity.name()).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let rerun = spec.achieved_by(&again, &names).unwrap();
    for (a, b) in r.achieved.iter().zip(&rerun) {
        assert!((a - b).abs() <= 1e-9 * a.abs().max(1.0), "{a} vs {b}");
    }
}

/// Bad input: one line naming the problem, a failed exit, and no output folder.
#[test]
fn bad_input_is_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 5] = [
        (&["--free", "g_xx", "--target", "rest_mv=-65"], "g_xx"),
        (&["--free", "g_k=-5:50", "--target", "rest_mv=-65"], "range"),
        (
            &[
                "--set",
                "g_na=0",
                "--free",
                "g_k",
                "--target",
                "rate_hz@10=50",
            ],
            "rate_hz@10",
        ),
        (
            &["--free", "g_k", "--target", "fi=/nonexistent/fi.csv"],
            "readable",
        ),
        (&["--free", "g_k", "--target", "spikes=3"], "rest_mv"),
    ];
    for (k, (args, word)) in cases.iter().enumerate() {
        let out = dir.path().join(format!("r{k}"));
        let mut all = vec!["fit", "--model", "hh"];
        all.extend_from_slice(args);
        let o = out.to_str().unwrap();
        all.extend_from_slice(&["--out", o, "--t-max", "300", "--transient", "100"]);
        let (ok, _, stderr) = excitable(&all);
        assert!(!ok, "{args:?} was accepted");
        assert_eq!(stderr.trim().lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains(word), "{args:?}: {stderr}");
        assert!(!out.exists(), "{args:?} left {}", out.display());
    }
    // An `.ode` parameter has no range of its own: freeing it needs bounds, and says so.
    let ml = concat!(env!("CARGO_MANIFEST_DIR"), "/studies/models/ml.ode");
    let (ok, _, stderr) = excitable(&[
        "fit",
        "--model-file",
        ml,
        "--free",
        "gca",
        "--target",
        "rest_mv=-60",
    ]);
    assert!(!ok && stderr.trim().lines().count() == 1, "{stderr}");
    assert!(stderr.contains("finite bounds, as gca=LO:HI"), "{stderr}");
}
