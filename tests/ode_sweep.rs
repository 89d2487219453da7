//! `sweep` on XPPAUT `.ode` models: every point of a grid over one of the model's parameters
//! and the current, run on lanes (or, for a model whose equations do not compile for lanes,
//! on the general simulator), equals a run of the general simulator on its own copy of the
//! model with that parameter set, from that copy's own resting state. Checked on every `.ode`
//! model of the reference zoo and `hh.ode`. Lanes and the general simulator differ in the last
//! bit of an exponential (`tests/ode_lanes.rs`), so spike times agree to 1e-6 ms, counts
//! exactly. A point that blows up is flagged and the others go on, on both engines.

use crate::common;
use common::{ZooOde, zoo_ode_files};

use excitable::analysis::sweep::{Axis, Grid, sweep, sweep_runner};
use excitable::model::Model;
use excitable::report::Report;
use excitable::simulate::batch::{BatchScheme, BatchSettings, NeuronSummary, Precision};
use excitable::simulate::{self, Method, Record, Settings};
use excitable::spec::SweepSpec;
use excitable::stimulus::Stimulus;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn settings() -> BatchSettings {
    BatchSettings {
        t_max: 200.0,
        dt: 0.01,
        transient: 50.0,
        threshold_mv: 0.0,
        scheme: BatchScheme::ExpEuler,
        precision: Precision::F64,
        ode_method: excitable::simulate::Method::Rk4,
    }
}

/// The first parameter (not the current one) whose value is not zero, with three values
/// around it (5% apart) inside its range.
fn axis_of(model: &Model) -> Axis {
    let params = model.params();
    let current = ["i_ext", "iapp", "i"];
    params
        .iter()
        .find_map(|p| {
            let values = vec![0.95 * p.value, p.value, 1.05 * p.value];
            let usable = p.value != 0.0
                && !current.contains(&p.name.as_str())
                && values.iter().all(|&v| p.check(v).is_ok());
            usable.then(|| Axis {
                name: p.name.clone(),
                values,
            })
        })
        .expect("a non-zero parameter")
}

/// The general simulator's summary of one point: its own model, its own rest, RK4.
fn own_run(model: &Model, axis: &Axis, value: f64, current: f64) -> (NeuronSummary, bool) {
    let s = settings();
    let own = model.clone().with(&axis.name, value).unwrap();
    let start = own.start_at(0.0).unwrap();
    let rk4 = Settings {
        t_max: s.t_max,
        dt: s.dt,
        method: Method::Rk4,
        record: Record::SpikesOnly,
        threshold_mv: s.threshold_mv,
    };
    let run = simulate::run(&own, &Stimulus::constant(current), &start.state, &rk4).unwrap();
    let v = run.final_state[0];
    (
        NeuronSummary::from_spikes(&run.spikes_ms, s.transient, v),
        start.kind.is_rest(),
    )
}

#[test]
fn every_point_equals_its_own_model_on_every_zoo_ode_model() {
    let mut engines = vec![];
    let mut spikes = 0;
    for ZooOde {
        name,
        file,
        range: (lo, hi),
        current: current_range,
    } in zoo_ode_files()
    {
        let model = Model::from_file(&file).unwrap();
        let engine = sweep_runner(&model)
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .name(&settings());
        // A model without a current parameter is swept at 0 only.
        let has_current = !matches!(&model, Model::Ode(m) if m.current_param().is_none());
        let currents: Vec<f64> = if has_current && current_range {
            (0..5).map(|k| lo + (hi - lo) * k as f64 / 4.0).collect()
        } else {
            vec![0.0]
        };
        let axis = axis_of(&model);
        let grid = Grid {
            axes: vec![axis.clone()],
            currents: currents.clone(),
        };
        let points = sweep(&model, &grid, &settings(), 0..grid.len()).unwrap();
        assert_eq!(points.len(), 3 * currents.len(), "{name}");
        for p in &points {
            let (own, rest) = own_run(&model, &axis, p.values[0], p.current);
            let at = format!("{name}: {} = {}, I = {}", axis.name, p.values[0], p.current);
            let s = &p.summary;
            assert!(!s.blew_up, "{at}");
            assert_eq!(p.rest_start, rest, "{at}");
            assert_eq!(s.n_spikes, own.n_spikes, "{at}");
            let close = |a: f64, b: f64| a == b || (a - b).abs() <= 1e-6 * (1.0 + b.abs());
            assert!(
                close(s.first_spike_ms, own.first_spike_ms)
                    || (s.first_spike_ms.is_nan() && own.first_spike_ms.is_nan()),
                "{at}: first spike {} vs {}",
                s.first_spike_ms,
                own.first_spike_ms
            );
            assert!(
                close(s.isi_sum, own.isi_sum),
                "{at}: ISI sum {} vs {}",
                s.isi_sum,
                own.isi_sum
            );
            assert!(
                close(s.final_v, own.final_v),
                "{at}: final V {} vs {}",
                s.final_v,
                own.final_v
            );
            spikes += s.n_spikes;
        }
        engines.push((name, engine, axis.name));
    }
    eprintln!("{engines:?}, {spikes} spikes");
    let names: Vec<&str> = engines.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(
        names,
        [
            "ml-hopf",
            "ml-snic",
            "ml-homoclinic",
            "fhn",
            "rinzel-hh2d",
            "hindmarsh-rose",
            "xpp-lecar",
            "xpp-fhn",
            "xpp-hhred",
            "hh.ode"
        ]
    );
    // Models with a current parameter run on lanes; the two without one on the general
    // simulator.
    for (name, engine, _) in &engines {
        let general = name.starts_with("xpp-fhn") || name.starts_with("xpp-hhred");
        assert_eq!(
            engine.contains("general simulator"),
            general,
            "{name}: {engine}"
        );
        assert_eq!(engine.contains("lanes"), !general, "{name}: {engine}");
    }
    assert!(spikes > 200, "{spikes} spikes compared");
}

/// `dv/dt = -v + a v^2 + i`: a stable rest at v = 0 for i = 0; past i = 1/(4a) no
/// equilibrium is left and v reaches infinity in finite time.
const BLOWS_UP: &str = "par i=0, a=1\ndv/dt=-v+a*v^2+i\ninit v=0\ndone\n";

#[test]
fn a_point_that_blows_up_is_flagged_and_the_others_go_on() {
    let dir = tempfile::tempdir().unwrap();
    // The same equation on lanes, and with a function table (read per neuron: the general
    // simulator).
    let lanes = dir.path().join("lanes.ode");
    std::fs::write(&lanes, BLOWS_UP).unwrap();
    let general = dir.path().join("general.ode");
    std::fs::write(
        &general,
        BLOWS_UP.replace("+i\n", "+i+0*w(0)\ntable w % 3 0 2 t\n"),
    )
    .unwrap();
    let spec = SweepSpec {
        params: vec!["a=0.5,1".parse().unwrap()],
        current: "0,0.1,1".parse().unwrap(),
        t_max: 50.0,
        transient: 10.0,
        ..Default::default()
    };
    for (file, engine) in [(&lanes, "lanes"), (&general, "general simulator")] {
        let model = Model::from_file(file).unwrap();
        let r = spec.run(&model).unwrap();
        assert!(r.engine.contains(engine), "{}", r.engine);
        let blew: Vec<bool> = r.rows.iter().map(|r| r.blew_up).collect();
        // 1/(4a) is 0.5 and 0.25: i = 1 is past both, i = 0.1 past neither.
        assert_eq!(blew, [false, false, true, false, false, true], "{engine}");
        for row in &r.rows {
            assert_eq!(row.rate_hz.is_nan(), row.blew_up, "{engine}: {row:?}");
            // The general simulator keeps spike times only: no voltage range there.
            let kept = engine == "lanes" && !row.blew_up;
            assert_eq!(row.v_max_mv.is_finite(), kept, "{engine}: {row:?}");
        }
        // A lane that blew up leaves the others in its block as they are alone: the points
        // that did not blow up equal a sweep of them without the blowing currents.
        let alone = SweepSpec {
            current: "0,0.1".parse().unwrap(),
            ..spec.clone()
        }
        .run(&model)
        .unwrap();
        let unnumbered = |rows: Vec<&excitable::spec::sweep::SweepRow>| -> Vec<String> {
            rows.into_iter()
                .map(|r| {
                    format!(
                        "{:?}",
                        excitable::spec::sweep::SweepRow {
                            point: 0,
                            ..r.clone()
                        }
                    )
                })
                .collect()
        };
        assert_eq!(
            unnumbered(r.rows.iter().filter(|r| !r.blew_up).collect()),
            unnumbered(alone.rows.iter().collect()),
            "{engine}"
        );
        let md = r.summary();
        assert!(md.contains("2 of 6 points blew up"), "{md}");
        // The general simulator is named in a note, with the reason.
        let fallback = r
            .notes
            .iter()
            .any(|n| n.contains("one neuron at a time") && n.contains("function tables"));
        assert_eq!(fallback, engine != "lanes", "{:?}", r.notes);
        // A model without units gets none in its summary.
        for unit in [" mV", "uA/cm^2", " Hz", " ms"] {
            assert!(!md.contains(unit), "{unit} in {md}");
        }
    }
}

#[test]
fn sweeps_a_model_cannot_run_are_refused_by_field() {
    let spec = SweepSpec {
        params: vec!["a=1".parse().unwrap()],
        current: "0,0.5".parse().unwrap(),
        ..Default::default()
    };
    // No current parameter: currents other than 0 are refused, naming the field.
    let model = Model::from_file(&root().join("tests/fixtures/xppaut/fhn.ode")).unwrap();
    let e = spec.grid(&model).unwrap_err().to_string();
    assert!(
        e.contains("current") && e.contains("no current parameter"),
        "{e}"
    );
    // A model whose equations read t has no resting state to start each point from.
    let dir = tempfile::tempdir().unwrap();
    let forced = dir.path().join("forced.ode");
    std::fs::write(
        &forced,
        "par i=0, a=1\ndv/dt=-v+a*sin(t)+i\ninit v=0\ndone\n",
    )
    .unwrap();
    let model = Model::from_file(&forced).unwrap();
    let e = spec.grid(&model).unwrap_err().to_string();
    assert!(e.contains("reads t"), "{e}");
    // LIF resets: no smooth field, no equilibria per parameter set.
    let lif = Model::builtin("lif").unwrap();
    let spec = SweepSpec {
        params: vec!["tau_m=10".parse().unwrap()],
        ..spec
    };
    let e = spec.grid(&lif).unwrap_err().to_string();
    assert!(e.contains("lif") && e.contains("hybrid"), "{e}");
}

/// The batch kernel's `--method` and `--precision` do not apply to an `.ode` model: the summary
/// says it runs RK4 in f64 instead, and the rates are those of the default settings.
#[test]
fn kernel_settings_on_an_ode_model_are_noted_not_silently_dropped() {
    let hh = Model::from_file(&root().join("studies/models/hh.ode")).unwrap();
    let spec = SweepSpec {
        params: vec!["gk=36".parse().unwrap()],
        current: "10,20".parse().unwrap(),
        t_max: 300.0,
        transient: 100.0,
        ..Default::default()
    };
    let plain = spec.run(&hh).unwrap();
    assert!(plain.notes.is_empty(), "{:?}", plain.notes);
    let other = SweepSpec {
        method: Some(BatchScheme::ExpMidpoint),
        precision: Precision::Mixed,
        ..spec
    }
    .run(&hh)
    .unwrap();
    assert!(
        other.notes.iter().any(|n| n.contains("runs RK4 in f64")),
        "{:?}",
        other.notes
    );
    assert_eq!(format!("{:?}", other.rows), format!("{:?}", plain.rows));
    assert!(other.summary().contains("Note: `method` and `precision`"));
}

/// A sweep's fingerprint (which shards carry, so `merge` refuses a foreign one) sees the
/// model's equations, not only its name and parameter values: a file edited between shards
/// gives another fingerprint, the same file read twice the same one.
#[test]
fn the_fingerprint_sees_an_edited_equation() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    std::fs::write(a.join("m.ode"), BLOWS_UP).unwrap();
    std::fs::write(b.join("m.ode"), BLOWS_UP.replace("-v+", "-2*v+")).unwrap();
    let spec = SweepSpec {
        params: vec!["a=0.5,1".parse().unwrap()],
        current: "0,0.1".parse().unwrap(),
        ..Default::default()
    };
    let fp = |file: &std::path::Path| {
        let m = Model::from_file(file).unwrap();
        spec.fingerprint(&m, &spec.grid(&m).unwrap())
    };
    assert_eq!(fp(&a.join("m.ode")), fp(&a.join("m.ode")));
    assert_ne!(fp(&a.join("m.ode")), fp(&b.join("m.ode")));
}
