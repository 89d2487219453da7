//! Time of `fit` (issue 21's goals): a three-parameter fit of hh (g_na, g_k, g_l from +-20%)
//! to three smooth targets (rest potential, lower Hopf current, input resistance; goal under
//! 2 s), and a fit of the same three parameters to a 20-point f-I curve (the Wang-Buzsaki
//! interneuron's, tests/fixtures/fit/wang_buzsaki_fi.csv; goal under 60 s on two cores).
//! A plain main (each fit is timed whole, the f-I fit once): `cargo bench --bench fit`.

use excitable::{FitSpec, Model};
use std::time::Instant;

fn perturbed() -> Model {
    Model::builtin("hh")
        .unwrap()
        .with("g_na", 144.0)
        .unwrap()
        .with("g_k", 28.8)
        .unwrap()
        .with("g_l", 0.36)
        .unwrap()
}

fn main() {
    let free: Vec<String> = ["g_na", "g_k", "g_l"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let hh = Model::builtin("hh").unwrap();
    let names = ["rest_mv", "hopf", "input_resistance"];
    let truth = FitSpec::default().achieved_by(&hh, &names).unwrap();
    let smooth = FitSpec {
        free: free.clone(),
        target: names
            .iter()
            .zip(&truth)
            .map(|(n, v)| format!("{n}={v}"))
            .collect(),
        ..Default::default()
    };
    let mut times = vec![];
    for _ in 0..5 {
        let t = Instant::now();
        let r = smooth.run(&perturbed()).unwrap();
        times.push(t.elapsed().as_secs_f64());
        assert!(r.all_met());
    }
    times.sort_by(f64::total_cmp);
    println!(
        "fit: 3 parameters, 3 smooth targets (gauss-newton): median {:.3} s, min {:.3} s over 5 runs",
        times[2], times[0]
    );
    let csv = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/fit/wang_buzsaki_fi.csv"
    );
    let fi = FitSpec {
        free,
        target: vec![format!("fi={csv}:tol=5")],
        t_max: 600.0,
        transient: 100.0,
        dt: 0.02,
        max_iters: 150,
        ..Default::default()
    };
    let t = Instant::now();
    let r = fi.run(&perturbed()).unwrap();
    let best = &r.outcomes[r.best];
    println!(
        "fit: 3 parameters, 20-point f-I curve (nelder-mead, 600 ms runs at dt 0.02 ms): {:.1} s, {} iterations, cost {:.3e}, {} of 20 targets met",
        t.elapsed().as_secs_f64(),
        best.iterations,
        best.cost,
        r.targets
            .iter()
            .zip(&r.achieved)
            .filter(|(t, a)| (*a - t.wanted).abs() <= t.tol)
            .count()
    );
}
