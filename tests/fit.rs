//! `excitable fit`: parameter recovery on hh, an f-I fit across kinetics, bad input refused.

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

#[test]
fn smooth_targets_recover_hh_conductances() {
    let hh = Model::builtin("hh").unwrap();
    let names = ["rest_mv", "hopf", "input_resistance", "rest_mv@-5"];
    let truth = FitSpec::achieved_by(&hh, &names).unwrap();
    eprintln!("truth {truth:?}");
    let spec = FitSpec {
        free: vec!["g_na".into(), "g_k".into(), "g_l".into()],
        target: names
            .iter()
            .zip(&truth)
            .map(|(n, v)| format!("{n}={v}"))
            .collect(),
        ..Default::default()
    };
    let t0 = std::time::Instant::now();
    let r = spec.run(&perturbed()).unwrap();
    eprintln!("took {:?}, method {:?}, outcomes {:?}", t0.elapsed(), r.method, r.outcomes);
    for (name, want) in [("g_na", 120.0), ("g_k", 36.0), ("g_l", 0.3)] {
        let got = r.fitted.params().get(name).unwrap();
        eprintln!("{name}: {got}");
        assert!((got - want).abs() / want < 1e-4, "{name}: {got} vs {want}");
    }
    eprintln!("cond {}", r.condition());
}
