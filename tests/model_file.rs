//! A model written as a TOML file behaves exactly like the built-in it copies.

use excitable::model::Model;
use excitable::simulate::{self, Method, Record, Settings, Tolerances};
use excitable::stimulus::Stimulus;
use std::path::Path;

#[test]
fn hh_as_a_model_file_gives_the_built_in_trace_bit_for_bit() {
    let file = Model::from_file(Path::new("studies/models/hh.toml")).unwrap();
    let builtin = Model::builtin("hh").unwrap();
    let stim = Stimulus::parse("step:5:50:10+sine:2:40").unwrap();
    for method in [
        Method::ExpEuler,
        Method::Rk4,
        Method::Dopri5(Tolerances::default()),
    ] {
        let s = Settings {
            t_max: 100.0,
            dt: 0.01,
            method,
            record: Record::Full,
            threshold_mv: 0.0,
        };
        let a = simulate::run(&file, &stim, &file.resting_state().unwrap(), &s).unwrap();
        let b = simulate::run(&builtin, &stim, &builtin.resting_state().unwrap(), &s).unwrap();
        assert_eq!(a.trace.vars, b.trace.vars, "{method}");
        assert_eq!(a.spikes_ms, b.spikes_ms, "{method}");
        assert!(a.spikes_ms.len() >= 3, "{method}: {:?}", a.spikes_ms);
    }
}

#[test]
fn model_file_parameters_are_overridable_by_name() {
    let mut m = Model::from_file(Path::new("studies/models/hh.toml")).unwrap();
    m.set("g_l", 0.03).unwrap();
    assert_eq!(m.params().get("g_l"), Some(0.03));
    assert!(
        m.set("g_q", 1.0)
            .unwrap_err()
            .to_string()
            .contains("unknown parameter 'g_q'")
    );
}

/// An XPPAUT `.ode` HH file simulates like the built-in model: RK4 and Dormand-Prince spike
/// times from the same start agree to 1e-9 ms (the file's rates are the same formulas); the
/// analyses that need the conductance structure refuse it by name.
#[test]
fn ode_file_simulates_like_the_builtin_model() {
    use excitable::model::Model;
    use excitable::simulate::{self, Method, Record, Settings, Tolerances};
    use excitable::stimulus::Stimulus;
    let path = std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/studies/models/hh.ode"
    ));
    let ode = Model::from_file(path).unwrap();
    let hh = Model::builtin("hh").unwrap();
    // Simulation starts where XPPAUT does: the file's initial values.
    let y0 = ode
        .initial_state(&excitable::model::InitialState::Default)
        .unwrap();
    assert_eq!(y0, [-65.0, 0.05, 0.6, 0.32]);
    for method in [Method::Rk4, Method::Dopri5(Tolerances::default())] {
        let s = Settings {
            t_max: 200.0,
            dt: 0.01,
            method,
            record: Record::SpikesOnly,
            threshold_mv: 0.0,
        };
        let stim = Stimulus::parse("step:10:150:10").unwrap();
        let a = simulate::run(&ode, &stim, &y0, &s).unwrap().spikes_ms;
        let b = simulate::run(&hh, &stim, &y0, &s).unwrap().spikes_ms;
        assert!(a.len() > 5);
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() < 1e-9, "{method:?}: {x} vs {y}");
        }
    }
    // exp-Euler needs gates; the rest-state analysis needs the conductance structure.
    let s = Settings {
        t_max: 10.0,
        dt: 0.01,
        method: Method::ExpEuler,
        record: Record::SpikesOnly,
        threshold_mv: 0.0,
    };
    let e = simulate::run(&ode, &Stimulus::constant(0.0), &y0, &s).unwrap_err();
    assert!(e.to_string().contains("exp-euler"), "{e}");
    assert!(ode.smooth().unwrap_err().to_string().contains(".ode"));
    // A malformed file is refused with file:line:col.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.ode");
    std::fs::write(&bad, "par a=1\nx'=a*undefined_thing\n").unwrap();
    let e = Model::from_file(&bad).unwrap_err().to_string();
    assert!(
        e.contains("bad.ode:2:6") && e.contains("undefined name"),
        "{e}"
    );
}

/// The equilibria of the `.ode` HH (the v-scan with the other variables solved by Newton,
/// dual-number Jacobian) equal the built-in model's, eigenvalues included, at rest and past
/// the Hopf point.
#[test]
fn ode_file_rest_state_and_eigenvalues_equal_the_builtin() {
    use excitable::model::{Field, Model, builtin, equilibria};
    let path = std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/studies/models/hh.ode"
    ));
    let Model::Ode(ode) = Model::from_file(path).unwrap() else {
        unreachable!()
    };
    for i in [0.0, 10.0] {
        let ours = equilibria(&Field::ode(&ode).unwrap(), i).unwrap();
        let theirs = equilibria(&Field::Conductance(builtin::hh()), i).unwrap();
        assert_eq!(ours.len(), theirs.len());
        for (a, b) in ours.iter().zip(&theirs) {
            assert_eq!(a.stability, b.stability);
            for (x, y) in a.state.iter().zip(&b.state) {
                assert!((x - y).abs() < 1e-9, "{i}: {x} vs {y}");
            }
            for (x, y) in a.eigen.iter().zip(&b.eigen) {
                assert!(
                    (x.value - y.value).norm() < 1e-9,
                    "{i}: {} vs {}",
                    x.value,
                    y.value
                );
            }
        }
    }
}

/// Morris-Lecar with the SNIC parameter set (Rinzel & Ermentrout) has three equilibria at
/// zero current: node, saddle, focus. Independently: w = w_inf(v) at equilibrium, so they are
/// the roots of one function of v, found here by bisection on a fine grid.
#[test]
fn ode_file_with_three_equilibria_finds_all_three() {
    use excitable::model::{Field, Model, Stability, equilibria};
    let path = std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/studies/models/ml.ode"
    ));
    let mut model = Model::from_file(path).unwrap();
    for (k, v) in [
        ("gca", 4.0),
        ("v3", 12.0),
        ("v4", 17.4),
        ("phi", 1.0 / 15.0),
    ] {
        model.set(k, v).unwrap();
    }
    let Model::Ode(ode) = &model else {
        unreachable!()
    };
    let found = equilibria(&Field::ode(ode).unwrap(), 0.0).unwrap();
    let net = |v: f64| {
        let minf = 0.5 * (1.0 + ((v + 1.2) / 18.0).tanh());
        let winf = 0.5 * (1.0 + ((v - 12.0) / 17.4).tanh());
        -4.0 * minf * (v - 120.0) - 8.0 * winf * (v + 84.0) - 2.0 * (v + 60.0)
    };
    let mut roots = vec![];
    let mut a = -100.0;
    while a < 60.0 {
        let (mut lo, mut hi) = (a, a + 0.01);
        if net(lo) * net(hi) < 0.0 {
            for _ in 0..100 {
                let m = 0.5 * (lo + hi);
                if net(lo) * net(m) <= 0.0 {
                    hi = m
                } else {
                    lo = m
                }
            }
            roots.push(0.5 * (lo + hi));
        }
        a += 0.01;
    }
    assert_eq!(roots.len(), 3, "{roots:?}");
    assert_eq!(found.len(), 3);
    for (e, r) in found.iter().zip(&roots) {
        assert!((e.state[0] - r).abs() < 1e-9, "{} vs {r}", e.state[0]);
    }
    assert!(found[0].stability.is_stable());
    assert_eq!(found[1].stability, Stability::Saddle);
    assert!(!found[2].stability.is_stable());
}

/// `--v-var` moves an .ode file's voltage-like variable to the front (spikes are detected on
/// it), and is refused for a variable the file lacks or for a model that is not an .ode file.
#[test]
fn ode_v_var_chooses_the_spiking_variable() {
    use excitable::model::Model;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fhn.ode");
    std::fs::write(
        &path,
        "par i=0.5, a=0.7, b=0.8, eps=0.08\nw'=eps*(v+a-b*w)\nv'=v-v^3/3-w+i\nv(0)=-1.2\nw(0)=-0.6\n",
    )
    .unwrap();
    let m = Model::from_file_with_v(&path, Some("V")).unwrap();
    assert_eq!(m.var_names(), ["v", "w"]);
    assert_eq!(
        m.initial_state(&excitable::model::InitialState::Default)
            .unwrap(),
        [-1.2, -0.6]
    );
    assert_eq!(Model::from_file(&path).unwrap().var_names(), ["w", "v"]);
    let e = Model::from_file_with_v(&path, Some("q"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("'q' is not a variable") && e.contains("w, v"),
        "{e}"
    );
    let toml = std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/studies/models/hh.toml"
    ));
    assert!(Model::from_file_with_v(toml, Some("v")).is_err());
}

/// Continuation refuses an `.ode` model whose right-hand side reads `t` (not autonomous), and
/// names the allowed parameters when `--param` is unknown; a file without a current
/// parameter has no `i_ext` to continue.
#[test]
fn ode_continuation_refusals_name_the_reason() {
    use excitable::continuation::{CURRENT, Family, Field};
    use excitable::model::ode::OdeModel;
    let forced = OdeModel::parse("par a=1\nx'=-x+a*sin(t)\n", "f.ode", "forced").unwrap();
    let e = Field::ode(&forced).unwrap_err().to_string();
    assert!(e.contains("reads t") && e.contains("forced"), "{e}");
    let e = excitable::model::Model::Ode(forced.clone())
        .equilibria(0.0)
        .unwrap_err()
        .to_string();
    assert!(e.contains("reads t") && e.contains("no equilibria"), "{e}");
    let plain = OdeModel::parse("par a=1, iapp=0\nx'=-x+a+iapp\n", "p.ode", "plain").unwrap();
    let field = Field::ode(&plain).unwrap();
    let e = Family::of_field(field.clone(), "b", 0.0)
        .unwrap_err()
        .to_string();
    assert!(e.contains("'b'") && e.contains("a, iapp"), "{e}");
    assert!(Family::of_field(field, CURRENT, 0.0).is_ok());
    let no_current = OdeModel::parse("par a=1\nx'=-x+a\n", "n.ode", "n").unwrap();
    let e = Family::of_field(Field::ode(&no_current).unwrap(), CURRENT, 0.0)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("'i_ext'") && e.contains("a parameter of n: a"),
        "{e}"
    );
}

/// XPPAUT's own `lecar.ode`, `fhn.ode` and `hhred.ode` (unmodified, from Debian's `xppaut`
/// package: `tests/fixtures/xppaut/`) load with their ignored lines noted, simulate, and give
/// equilibria: their right-hand sides read `t` only through a forcing term multiplied by a
/// parameter that is 0 (`al` in fhn.ode, `ip` in hhred.ode), so they are autonomous there.
/// Expected values: fhn's equilibrium is v = w = 0.25 with eigenvalues 0.06875 ± 0.18947i
/// (by hand: f(v) - v + 1/4 = (v - 1/4)(v - v^2 - 1), the Jacobian [[3/16, -1], [1/20, -1/20]]);
/// each lecar and hhred equilibrium has a right-hand side below 1e-10 by the file's own
/// equations evaluated here independently.
#[test]
fn xppaut_example_files_load_simulate_and_rest() {
    use excitable::model::{Field, equilibria};
    let dir = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/xppaut"
    ));
    let load = |f: &str| Model::from_file(&dir.join(f)).unwrap();
    let s = Settings {
        t_max: 20.0,
        dt: 0.01,
        method: Method::Rk4,
        record: Record::Full,
        threshold_mv: 0.0,
    };
    for f in ["lecar.ode", "fhn.ode", "hhred.ode"] {
        let m = load(f);
        let Model::Ode(ode) = &m else { unreachable!() };
        // Notes: what was ignored, by line.
        let notes = ode.notes.join("; ");
        match f {
            "lecar.ode" => {
                assert!(
                    notes.contains("lines 14-15: boundary conditions ignored"),
                    "{notes}"
                );
                assert!(
                    notes.contains("lines 23-33: XPPAUT's quoted comments"),
                    "{notes}"
                );
                assert!(notes.contains("line 21: 'set' ignored"), "{notes}");
                // AUTO's settings are kept for a later bifurcation range.
                let opt = |k: &str| ode.options.iter().find(|o| o.0 == k).map(|o| o.1.as_str());
                assert_eq!(opt("parmin"), Some("-.5"));
                assert_eq!(opt("parmax"), Some(".5"));
                assert_eq!(opt("dsmax"), Some(".1"));
                assert_eq!(opt("autoxmin"), Some("-.5"));
            }
            "fhn.ode" => assert!(notes.contains("xhi"), "{notes}"),
            _ => assert!(notes.contains("bound"), "{notes}"),
        }
        assert!(!ode.reads_time(), "{f}");
        let run = simulate::run(&m, &Stimulus::parse("0").unwrap(), &ode.init, &s).unwrap();
        assert!(run.final_state.iter().all(|x| x.is_finite()), "{f}");
        let eq = equilibria(&Field::ode(ode).unwrap(), 0.0).unwrap();
        assert!(!eq.is_empty(), "{f}");
        for e in &eq {
            let mut dy = vec![0.0; e.state.len()];
            ode.rhs(&ode.params.values(), 0.0, &e.state, &mut dy);
            assert!(dy.iter().all(|d| d.abs() < 1e-10), "{f}: {dy:?}");
        }
        match f {
            "fhn.ode" => {
                assert_eq!(eq.len(), 1);
                assert!(
                    (eq[0].state[0] - 0.25).abs() < 1e-10 && (eq[0].state[1] - 0.25).abs() < 1e-10
                );
                let l = eq[0].eigen[0].value;
                let im = (0.040625f64 - 0.06875 * 0.06875).sqrt();
                assert!(
                    (l.re - 0.06875).abs() < 1e-10 && (l.im.abs() - im).abs() < 1e-10,
                    "{l}"
                );
            }
            "lecar.ode" => {
                // Independently: w = ninf(v) at rest, so the equilibria are the roots of one
                // function of v (the file's formulas, written out here).
                let minf = |v: f64| 0.5 * (1.0 + ((v + 0.01) / 0.15).tanh());
                let ninf = |v: f64| 0.5 * (1.0 + ((v - 0.1) / 0.145).tanh());
                let net = |v: f64| {
                    0.5 * (-0.5 - v) + 2.0 * ninf(v) * (-0.7 - v) - 1.33 * minf(v) * (v - 1.0)
                };
                let mut roots = 0;
                let mut v = -0.8;
                while v < 1.0 {
                    roots += usize::from(net(v) * net(v + 1e-3) < 0.0);
                    v += 1e-3;
                }
                assert_eq!(eq.len(), roots);
                for e in &eq {
                    assert!(
                        net(e.state[0]).abs() < 1e-10
                            && (e.state[1] - ninf(e.state[0])).abs() < 1e-10
                    );
                }
            }
            _ => {}
        }
    }
    // Forcing switched on (--set al=1): fhn.ode reads t, and continuation refuses it.
    let mut fhn = load("fhn.ode");
    fhn.set("al", 1.0).unwrap();
    let Model::Ode(forced) = &fhn else {
        unreachable!()
    };
    assert!(forced.reads_time());
    assert!(
        Field::ode(forced)
            .unwrap_err()
            .to_string()
            .contains("reads t")
    );
    // Continuing the parameter that switches the forcing off would leave the autonomous
    // models; continuing another is fine.
    {
        use excitable::continuation::Family;
        let Model::Ode(fhn) = load("fhn.ode") else {
            unreachable!()
        };
        let field = Field::ode(&fhn).unwrap();
        let e = Family::of_field(field.clone(), "al", 0.0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("'al' cannot be continued"), "{e}");
        assert!(Family::of_field(field, "i_0", 0.0).is_ok());
    }
    let mut hhred = load("hhred.ode");
    hhred.set("ip", 5.0).unwrap();
    let Model::Ode(forced) = &hhred else {
        unreachable!()
    };
    assert!(forced.reads_time());
}

/// A file with global flags runs on the simulator's fixed steps, which hand each step to the
/// model so it can cut it at a reset: XPPAUT's `iaf.ode` (v' = -v + 1.2, reset from 1 to
/// -0.5) crosses 0 upwards every ln 8.5 after its first reset at ln 6 (closed form), to the
/// interpolation's O(dt^2). dopri5 and continuation refuse it by name.
#[test]
fn global_flags_run_in_the_simulator() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("iaf.ode");
    std::fs::write(&path, "v'=-v+i\npar i=1.2\nglobal 1 v-1 {v=-.5}\ndone\n").unwrap();
    let m = Model::from_file(&path).unwrap();
    let mut s = Settings {
        t_max: 10.0,
        dt: 0.01,
        method: Method::Rk4,
        record: Record::Full,
        threshold_mv: 0.0,
    };
    let run = simulate::run(&m, &Stimulus::parse("0").unwrap(), &[0.0], &s).unwrap();
    // After each reset v climbs from -0.5 through 0: ln(1.7/1.2) later.
    let first = 6f64.ln() + (1.7f64 / 1.2).ln();
    let want: Vec<f64> = (0..4).map(|k| first + k as f64 * 8.5f64.ln()).collect();
    assert_eq!(run.spikes_ms.len(), want.len(), "{:?}", run.spikes_ms);
    for (a, b) in run.spikes_ms.iter().zip(&want) {
        assert!((a - b).abs() < 1e-4, "{a} vs {b}");
    }
    let v = &run.trace.vars[0];
    assert!(v.iter().all(|&x| (-0.5..=1.0 + 1e-9).contains(&x)));
    s.method = Method::Dopri5(Tolerances::default());
    let e = simulate::run(&m, &Stimulus::parse("0").unwrap(), &[0.0], &s).unwrap_err();
    assert!(e.to_string().contains("global flags"), "{e}");
    let e = m.equilibria(0.0).unwrap_err().to_string();
    assert!(e.contains("global flags"), "{e}");
}

/// `lecar.ode` says `@ dsmax=.1`: its diagram steps by that (its currents are of order 0.1,
/// where the default step of 4, tuned to `hh`'s uA/cm^2, crossed the fold of cycles at
/// 0.107666 in one step and left out the fastest stable cycles). Checked independently: the
/// fastest stable cycle of the diagram has the rate of a simulation at its current (RK4, dt
/// 0.01, from the orbit's peak, the period from the last 20 spikes of a 3000-unit run) to 1e-4,
/// and is faster than the fold's 70.018 per 1000 time units. `--ds-max` given wins over the
/// file.
#[test]
fn lecar_diagram_steps_by_the_files_dsmax() {
    use excitable::BifurcationSpec;
    let m = Model::from_file(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/xppaut/lecar.ode"
    )))
    .unwrap();
    let spec = BifurcationSpec {
        from: -0.5,
        to: 0.5,
        ..Default::default()
    };
    assert_eq!(spec.ds_max_for(&m), 0.1);
    let given = BifurcationSpec {
        ds_max: Some(2.0),
        ..spec.clone()
    };
    assert_eq!(given.ds_max_for(&m), 2.0);
    assert_eq!(spec.ds_max_for(&Model::builtin("hh").unwrap()), 4.0);
    let r = spec.run(&m).unwrap();
    assert_eq!(r.spec.ds_max, Some(0.1));
    let fastest = (r.diagram.cycles.iter())
        .flat_map(|(origin, b)| origin.orbits(b).iter())
        .filter(|p| p.stable_and_settled())
        .max_by(|a, b| a.frequency_hz().total_cmp(&b.frequency_hz()))
        .unwrap();
    assert!(fastest.frequency_hz() > 70.5, "{}", fastest.frequency_hz());
    let s = Settings {
        t_max: 3000.0,
        dt: 0.01,
        method: Method::Rk4,
        record: Record::Every(100),
        threshold_mv: 0.0,
    };
    // From the orbit's own peak: the rest there is stable too (the Hopf point at 0.049 is
    // subcritical).
    let stim = Stimulus::parse(&format!("{}", fastest.lambda)).unwrap();
    let run = simulate::run(&m, &stim, &fastest.peak_state, &s).unwrap();
    assert!(run.spikes_ms.len() > 30, "{}", run.spikes_ms.len());
    let t = &run.spikes_ms[run.spikes_ms.len() - 21..];
    let simulated = 1000.0 * 20.0 / (t[20] - t[0]);
    assert!(
        (simulated - fastest.frequency_hz()).abs() < 1e-4 * simulated,
        "{simulated} vs {}",
        fastest.frequency_hz()
    );
}
