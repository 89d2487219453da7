//! `.ode` models on lanes (`simulate::ode_lanes`, behind `fi`) against the general simulator,
//! one neuron at a time, on every `.ode` model of the reference zoo with a current parameter:
//! the same spikes and the same final state up to rounding. The lanes' exponential, `tanh`,
//! `cosh` and reciprocals differ from the library's in the last bit, and their table of
//! exponentials (powers of one, `model::ode::lanes`) by up to about 2e-14; over 20,000 RK4 steps
//! such differences grow along the orbit, to about 1e-9 ms in spike times here, so the
//! bounds (1e-6 ms, 1e-6 relative) leave room without hiding a wrong step (an error in any
//! operation moves spikes by far more).

use crate::common;

use excitable::analysis::fi::{Direction, fi_curve_general};
use excitable::error::SimError;
use excitable::model::Model;
use excitable::model::ode::lanes::{LANES, LaneProgram, Lanes};
use excitable::simulate::batch::{BatchScheme, BatchSettings, Precision};
use excitable::simulate::ode_lanes::{Neurons, run_ode_lanes};
use excitable::simulate::runner::{BlowUps, Runner};
use excitable::simulate::{self, Method, Record, Settings};
use excitable::stimulus::Stimulus;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A current range (uA/cm^2 or the file's unit).
type Range = (f64, f64);

/// The zoo's `.ode` entries and `hh.ode`: (name, file, the current range when the continued
/// parameter is the current).
fn zoo_ode_files() -> Vec<(String, PathBuf, Option<Range>)> {
    common::zoo_ode_files()
        .into_iter()
        .map(|z| (z.name, z.file, Some(z.range).filter(|_| z.current)))
        .collect()
}

/// The zoo's `.ode` models (and `hh.ode`) that compile for lanes: name, model, lane program
/// and the current range (0..0 where the diagram continues another parameter).
fn zoo_lane_models() -> Vec<(String, Model, LaneProgram, Range)> {
    zoo_ode_files()
        .into_iter()
        .filter_map(|(name, file, range)| {
            let model = Model::from_file(&file).unwrap();
            let Model::Ode(ode) = &model else {
                unreachable!("{name}: an .ode file")
            };
            let program = LaneProgram::new(ode).ok()?;
            Some((name, model, program, range.unwrap_or((0.0, 0.0))))
        })
        .collect()
}

#[test]
fn lanes_equal_the_general_simulator_on_every_zoo_ode_model() {
    let mut compared = vec![];
    let mut skipped = vec![];
    for (name, file, range) in zoo_ode_files() {
        let model = Model::from_file(&file).unwrap();
        let Model::Ode(ode) = &model else {
            unreachable!("{name}: an .ode file")
        };
        let program = match LaneProgram::new(ode) {
            Ok(p) => p,
            Err(why) => {
                eprintln!("{name}: not on lanes ({why})");
                skipped.push((name, why));
                continue;
            }
        };
        // A full block and a short one of three, over the diagram's range.
        let (lo, hi) = range.unwrap_or((0.0, 0.0));
        let n = LANES + 3;
        let at = |k: usize| k as f64 / (n - 1) as f64;
        let currents: Vec<f64> = (0..n).map(|k| lo + (hi - lo) * at(k)).collect();
        // Each neuron its own start (V moved by a different amount, up to 18% of 1 + |V|
        // whatever the block's width), so a lane reading another lane's start would show.
        let start = |k: usize| {
            let mut y = ode.init.clone();
            y[0] += 0.18 * at(k) * (1.0 + y[0].abs());
            y
        };
        let starts: Vec<Vec<f64>> = (0..currents.len()).map(start).collect();
        let s = Settings {
            t_max: 200.0,
            dt: 0.01,
            method: Method::Rk4,
            record: Record::SpikesOnly,
            threshold_mv: 0.0,
        };
        let transient = 50.0;
        let lanes = run_ode_lanes::<SimError>(
            ode,
            &program,
            &Neurons {
                params: &[ode.params.values()],
                currents: &currents,
                starts: &starts,
            },
            &s,
            transient,
            &|_| Ok(()),
        )
        .unwrap();
        assert_eq!(lanes.len(), currents.len());
        let mut spikes = 0;
        let mut maxima_seen = 0u32;
        for (k, (&i, (lane, summary))) in currents.iter().zip(&lanes).enumerate() {
            let full = Settings {
                record: Record::Full,
                ..s.clone()
            };
            let one = simulate::run(&model, &Stimulus::constant(i), &start(k), &full).unwrap();
            // The voltage after the transient from the whole trace: extrema, and maxima (a
            // sample above the one before by more than 1e-9 mV, not below the one after).
            let (t, v) = (&one.trace.t_ms, &one.trace.vars[0]);
            let after = |j: usize| t[j] > transient;
            let (lo, hi) = (1..v.len())
                .filter(|&j| after(j))
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), j| {
                    (a.min(v[j]), b.max(v[j]))
                });
            let maxima: Vec<f64> = (1..v.len() - 1)
                .filter(|&j| after(j) && v[j] > v[j - 1] + 1e-9 && v[j] >= v[j + 1])
                .map(|j| t[j])
                .collect();
            assert!(
                (summary.v_min - lo).abs() <= 1e-6 * (1.0 + lo.abs()),
                "{name} at {i}: V min"
            );
            assert!(
                (summary.v_max - hi).abs() <= 1e-6 * (1.0 + hi.abs()),
                "{name} at {i}: V max"
            );
            assert_eq!(
                summary.n_maxima as usize,
                maxima.len(),
                "{name} at {i}: voltage maxima"
            );
            if let (Some(first), Some(last)) = (maxima.first(), maxima.last()) {
                assert!((summary.first_max_ms - first).abs() < 1e-9, "{name} at {i}");
                assert!((summary.last_max_ms - last).abs() < 1e-9, "{name} at {i}");
            }
            let counted = one.spikes_ms.iter().filter(|&&x| x > transient).count();
            assert_eq!(
                summary.n_spikes as usize, counted,
                "{name} at {i}: counted spikes"
            );
            assert_eq!(
                lane.spikes_ms.len(),
                one.spikes_ms.len(),
                "{name} at {i}: spike counts"
            );
            for (a, b) in lane.spikes_ms.iter().zip(&one.spikes_ms) {
                assert!(
                    (a - b).abs() <= 1e-6,
                    "{name} at {i}: spike at {a} against {b} ms"
                );
            }
            for (j, (a, b)) in lane.final_state.iter().zip(&one.final_state).enumerate() {
                assert!(
                    (a - b).abs() <= 1e-6 * (1.0 + b.abs()),
                    "{name} at {i} (neuron {k}): variable {j} ends at {a} against {b}"
                );
            }
            spikes += one.spikes_ms.len();
            maxima_seen += summary.n_maxima;
        }
        compared.push((name, spikes, maxima_seen));
    }
    eprintln!("compared (model, spikes, maxima): {compared:?}");
    // hh.ode and the zoo's Morris-Lecar (three), FitzHugh-Nagumo, Rinzel, Hindmarsh-Rose and
    // XPPAUT Morris-Lecar files compile for lanes and together they spike; XPPAUT's FitzHugh-
    // Nagumo and reduced HH have no current parameter.
    let names: Vec<&str> = compared.iter().map(|c| c.0.as_str()).collect();
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
            "hh.ode"
        ]
    );
    assert_eq!(
        skipped,
        [
            ("xpp-fhn".to_string(), "no current parameter"),
            ("xpp-hhred".to_string(), "no current parameter")
        ]
    );
    assert!(
        compared.iter().map(|c| c.1).sum::<usize>() > 100,
        "{compared:?}"
    );
    // The maxima were compared where there are some (resting lanes have none).
    assert!(
        compared.iter().filter(|c| c.2 > 0).count() >= 6,
        "{compared:?}"
    );
}

/// The `.ode` file `text`, written into `dir` as `name` and read.
fn ode_model(dir: &std::path::Path, name: &str, text: &str) -> Model {
    let file = dir.join(name);
    std::fs::write(&file, text).unwrap();
    Model::from_file(&file).unwrap()
}

/// A model with a function table (which lanes do not run), written into `dir`.
fn table_model(dir: &std::path::Path) -> Model {
    let text = "par i=0\ntable w % 41 -200 200 t/10\ndv/dt=(i-v)/10+w(v)/100\ninit v=0\ndone\n";
    ode_model(dir, "table.ode", text)
}

#[test]
fn fi_names_the_engine_and_says_when_a_model_runs_one_neuron_at_a_time() {
    let settings = BatchSettings {
        t_max: 300.0,
        dt: 0.01,
        transient: 100.0,
        threshold_mv: 0.0,
        scheme: BatchScheme::ExpEuler,
        precision: Precision::F64,
        ode_method: excitable::simulate::Method::Rk4,
    };
    let hh = Model::from_file(&root().join("studies/models/hh.ode")).unwrap();
    let curve = fi_curve_general(
        &hh,
        &[0.0, 10.0, 20.0],
        &[Direction::Rest],
        &settings,
        0.1,
        Vec::new,
    )
    .unwrap();
    assert!(curve.engine.contains("lanes"), "{}", curve.engine);
    assert!(
        curve
            .notes
            .iter()
            .all(|n| !n.contains("one neuron at a time"))
    );
    // A function table is read per neuron: the general simulator, said in a note.
    let dir = tempfile::tempdir().unwrap();
    let table = table_model(dir.path());
    let curve = fi_curve_general(
        &table,
        &[0.0, 2.0],
        &[Direction::Rest],
        &BatchSettings {
            threshold_mv: 0.5,
            ..settings
        },
        0.1,
        Vec::new,
    )
    .unwrap();
    assert!(
        curve.engine.contains("general simulator"),
        "{}",
        curve.engine
    );
    assert!(
        curve
            .notes
            .iter()
            .any(|n| n.contains("one neuron at a time") && n.contains("function tables")),
        "{:?}",
        curve.notes
    );
}

/// The error of `fi` on lanes (0, 0.1 and 1 from rest, RK4 at dt 0.01 for 50 time units)
/// for the `.ode` file `text`, and the general simulator's error at i = 1 from the same rest.
fn lanes_and_general_blow_up(text: &str) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let model = ode_model(dir.path(), "blows_up.ode", text);
    // On lanes, not on the general simulator the error is compared with.
    assert!(matches!(Runner::of(&model), Runner::Lanes(..)));
    let settings = BatchSettings {
        t_max: 50.0,
        dt: 0.01,
        transient: 10.0,
        threshold_mv: 0.5,
        scheme: BatchScheme::ExpEuler,
        precision: Precision::F64,
        ode_method: excitable::simulate::Method::Rk4,
    };
    let lanes = fi_curve_general(
        &model,
        &[0.0, 0.1, 1.0],
        &[Direction::Rest],
        &settings,
        0.1,
        Vec::new,
    )
    .unwrap_err()
    .to_string();
    let rk4 = Settings {
        t_max: 50.0,
        dt: 0.01,
        method: Method::Rk4,
        record: Record::SpikesOnly,
        threshold_mv: 0.5,
    };
    let rest = model.rest(0.0).unwrap().state;
    let general = simulate::run(&model, &Stimulus::constant(1.0), &rest, &rk4).unwrap_err();
    (lanes, excitable::Error::from(general).to_string())
}

/// A run on lanes that blows up stops `fi` with the general simulator's error: the time, the
/// variable and the state (`dv/dt = v^2 - v + i` has no equilibrium past i = 1/4).
#[test]
fn fi_on_lanes_names_the_time_and_state_of_a_blow_up() {
    let (e, general) = lanes_and_general_blow_up("par i=0\ndv/dt=-v+v^2+i\ninit v=0\ndone\n");
    assert!(e.contains("blew up at t = ") && e.contains(": v = "), "{e}");
    // The file has no units: its time is not called ms.
    assert!(!e.contains(" ms"), "{e}");
    // The same error as the general simulator's, at the same step, from the same rest.
    assert_eq!(e, general);
    // At i = 1, v goes from 0 to infinity in the integral of dv / (v^2 - v + 1), 4 pi / (3
    // sqrt 3) = 2.418; past 1e4 only 1e-4 of it is left, but near the end v dt passes 1 and
    // RK4's steps overshoot, so the blow-up shows within a few steps of dt = 0.01.
    let exact = 4.0 * std::f64::consts::PI / (3.0 * 3f64.sqrt());
    let t: f64 = e["the run blew up at t = ".len()..]
        .split(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((t - exact).abs() < 0.03, "{t} against {exact}: {e}");
}

/// A variable other than V that blows up stops the run on lanes as on the general simulator,
/// at the same step with the same state, while V stays bounded (`dw/dt = w^2 - w + i`, `v`
/// relaxing to 0): the lanes test every variable of every lane at once and tell the lanes
/// apart only when one is not finite.
#[test]
fn a_blow_up_of_another_variable_stops_the_lanes_at_the_same_step() {
    let (e, general) =
        lanes_and_general_blow_up("par i=0\ndv/dt=-v\ndw/dt=w^2-w+i\ninit v=0,w=0\ndone\n");
    assert!(e.contains("blew up at t = ") && e.contains("w = "), "{e}");
    assert_eq!(e, general);
}

/// A lane that blows up records nothing after it, even where its state goes on crossing the
/// threshold and peaking, and the lanes beside it record what they record alone: an
/// oscillator (`v' = -u (1 + i)`, `u' = v (1 + i)`, period 2 pi / (1 + i)) started once past
/// `V_LIMIT` (1e4: it dies at its first step, then swings through +-2e4) and once at v = 1.
/// The step's events are tested on every lane at once, and `live` decides only per lane, so
/// this is what would show a dead lane's crossings, maxima or extrema leaking in.
#[test]
fn a_lane_that_blew_up_records_nothing_after_and_its_neighbours_what_they_record_alone() {
    let dir = tempfile::tempdir().unwrap();
    let text = "par i=0\ndv/dt=-u*(1+i)\ndu/dt=v*(1+i)\ninit v=1,u=0\ndone\n";
    let model = ode_model(dir.path(), "ring.ode", text);
    let Model::Ode(ode) = &model else {
        unreachable!("an .ode file")
    };
    let program = LaneProgram::new(ode).unwrap();
    let s = Settings {
        t_max: 40.0,
        dt: 0.01,
        method: Method::Rk4,
        record: Record::SpikesOnly,
        threshold_mv: 0.5,
    };
    let run = |currents: &[f64], starts: &[Vec<f64>]| {
        let neurons = Neurons {
            params: &[ode.params.values()],
            currents,
            starts,
        };
        run_ode_lanes::<SimError>(ode, &program, &neurons, &s, 0.0, &|_| Ok(())).unwrap()
    };
    let (dead, alive) = (vec![2e4, 0.0], vec![1.0, 0.0]);
    let together = run(&[0.0, 0.5], &[dead, alive.clone()]);
    let alone = run(&[0.5], &[alive]);
    let (run_dead, dead) = &together[0];
    assert!(dead.blew_up);
    assert_eq!(run_dead.steps, 1);
    assert!(run_dead.spikes_ms.is_empty(), "{:?}", run_dead.spikes_ms);
    assert_eq!(dead.n_maxima, 0);
    assert_eq!((dead.v_min, dead.v_max), (f64::INFINITY, f64::NEG_INFINITY));
    // The live lane: about 40 / (2 pi / 1.5) = 9.5 periods, one crossing and one maximum
    // each, the same bits as alone.
    let ((run_live, live), (run_alone, alone)) = (&together[1], &alone[0]);
    assert!(!live.blew_up);
    assert!(
        (9..=10).contains(&run_live.spikes_ms.len()),
        "{:?}",
        run_live.spikes_ms
    );
    assert_eq!(run_live.spikes_ms, run_alone.spikes_ms);
    assert_eq!(live.n_maxima, alone.n_maxima);
    assert!(live.n_maxima >= 9, "{}", live.n_maxima);
    assert_eq!((live.v_min, live.v_max), (alone.v_min, alone.v_max));
    assert_eq!(run_live.final_state, run_alone.final_state);
}

/// A dt/2 run that blows up fails `fi`'s dt/2 check, not the curve, on lanes and on the
/// general simulator alike: an oscillator (v crosses 0.5 once a period) kicked to 1e308 at
/// t = 0.0025 only, a time RK4 evaluates at dt/2 = 0.005 (its first midpoint stage) but never
/// at dt = 0.01 (stages at multiples of 0.005). A function table sends the second model to the
/// general simulator.
#[test]
fn a_dt_half_run_that_blows_up_fails_the_check_not_the_curve() {
    let dir = tempfile::tempdir().unwrap();
    let kick = "if(abs(t-0.0025)<1e-12)then(1e308)else(0)";
    let lanes = dir.path().join("kicked.ode");
    std::fs::write(
        &lanes,
        format!("par i=0\ndv/dt=-u*(1+i)+{kick}\ndu/dt=v*(1+i)\ninit v=1,u=0\ndone\n"),
    )
    .unwrap();
    let general = dir.path().join("kicked_table.ode");
    std::fs::write(
        &general,
        format!(
            "par i=0\ntable w % 3 -1 1 0\ndv/dt=-u*(1+i)+{kick}+w(v)\ndu/dt=v*(1+i)\ninit v=1,u=0\ndone\n"
        ),
    )
    .unwrap();
    let settings = BatchSettings {
        t_max: 200.0,
        dt: 0.01,
        transient: 20.0,
        threshold_mv: 0.5,
        scheme: BatchScheme::ExpEuler,
        precision: Precision::F64,
        ode_method: excitable::simulate::Method::Rk4,
    };
    for (file, engine) in [(&lanes, "lanes"), (&general, "general simulator")] {
        let model = Model::from_file(file).unwrap();
        let curve = fi_curve_general(
            &model,
            &[0.0, 0.5, 1.0],
            &[Direction::Rest],
            &settings,
            0.1,
            Vec::new,
        )
        .unwrap_or_else(|e| panic!("{engine}: {e}"));
        assert!(curve.engine.contains(engine), "{}", curve.engine);
        // At dt every run fires once a period: 180 time units at angular speed 1 + i.
        for p in &curve.points {
            let periods = 180.0 * (1.0 + p.current) / (2.0 * std::f64::consts::PI);
            assert!(
                (p.summary.n_spikes as f64 - periods).abs() <= 1.0,
                "{engine}: {} spikes at {}, {periods:.1} periods",
                p.summary.n_spikes,
                p.current
            );
            assert!(!p.summary.blew_up, "{engine}");
        }
        let accuracy = curve.accuracy.expect("a dt/2 check on firing points");
        assert!(accuracy.failed(), "{engine}: {accuracy:?}");
        // The runner itself: at dt/2 the run is flagged (`Flag`) or is the blow-up error
        // (`Fail`), so the failed check above is the blow-up, not a run that stopped firing;
        // at dt it neither blows up nor fails.
        let runner = Runner::of(&model);
        let (params, start) = ([model.params().values()], [model.sweep_start().unwrap()]);
        let run = |s: &BatchSettings, blow_ups: BlowUps| {
            runner.run(&params, &[0.5], &start, s, blow_ups, &|_| {
                Ok::<(), excitable::Error>(())
            })
        };
        let fine = BatchSettings {
            dt: 0.005,
            ..settings
        };
        assert!(run(&fine, BlowUps::Flag).unwrap()[0].blew_up, "{engine}");
        let e = run(&fine, BlowUps::Fail).unwrap_err();
        assert!(
            matches!(e, excitable::Error::Sim(SimError::BlowUp { .. })),
            "{engine}: {e}"
        );
        assert!(
            !run(&settings, BlowUps::Fail).unwrap()[0].blew_up,
            "{engine}"
        );
    }
}

/// Batch settings for the exponential Euler tests: `ode_method` exponential Euler, the kernel's
/// scheme exponential Euler in f64.
fn exp_euler(t_max: f64, dt: f64, threshold_mv: f64) -> BatchSettings {
    BatchSettings {
        t_max,
        dt,
        transient: 50.0_f64.min(t_max / 2.0),
        threshold_mv,
        precision: Precision::F64,
        scheme: BatchScheme::ExpEuler,
        ode_method: Method::ExpEuler,
    }
}

/// `model`'s neurons at `currents` from `start` through the runner (its fastest path).
fn summaries(
    model: &Model,
    currents: &[f64],
    start: &[f64],
    s: &BatchSettings,
) -> Vec<excitable::simulate::batch::NeuronSummary> {
    Runner::of(model)
        .run::<excitable::Error>(
            &[model.params().values()],
            currents,
            &[start.to_vec()],
            s,
            BlowUps::Fail,
            &|_| Ok(()),
        )
        .unwrap()
}

/// Exponential Euler on lanes, with `df/dx` from the diagonal pass, is the conductance
/// kernel's exponential Euler when every equation is linear in its own variable: `hh.ode` on
/// lanes and the built-in `hh` on the batch kernel (written independently: closed-form gate
/// relaxation and V's frozen-conductance step) take the same steps. Over 30,000 steps the
/// states at the grid's points (V's extrema, the final V) agree to 1e-8 mV (seen: 2e-11; the two
/// round their formulas differently, the kernel writing a gate as
/// `x_inf + (x - x_inf) e^(-dt/tau)`). Spike times agree within 2e-4 ms: the kernel
/// interpolates a crossing linearly inside its step of 0.01 ms, lanes on the cubic Hermite
/// (seen: up to 9e-5 ms). RK4 on the same file, another scheme, moves the first spike by more
/// than 1e-3 ms.
#[test]
fn exp_euler_on_lanes_steps_hh_ode_as_the_kernel_steps_the_builtin_hh() {
    let file = Model::from_file(&root().join("studies/models/hh.ode")).unwrap();
    let builtin = Model::Conductance(excitable::model::builtin::hh());
    let Model::Ode(ode) = &file else {
        unreachable!()
    };
    let start = ode.init.clone();
    // 19 currents over 0-60 uA/cm^2: rest, the bistable range, firing.
    let currents: Vec<f64> = (0..19).map(|k| 60.0 * k as f64 / 18.0 + 0.1).collect();
    let s = exp_euler(300.0, 0.01, 0.0);
    assert!(
        Runner::of(&file)
            .name(&s)
            .starts_with("exponential Euler on lanes")
    );
    assert_eq!(Runner::of(&file).order(&s), 1);
    assert!(Runner::of(&file).notes(&s).is_empty());
    let lanes = summaries(&file, &currents, &start, &s);
    let kernel = summaries(&builtin, &currents, &start, &s);
    let close = |a: f64, b: f64, tol: f64| (a.is_nan() && b.is_nan()) || (a - b).abs() <= tol;
    let mut firing = 0;
    for ((i, a), b) in currents.iter().zip(&lanes).zip(&kernel) {
        assert_eq!(a.n_spikes, b.n_spikes, "at {i}: {a:?} against {b:?}");
        for (x, y, what, tol) in [
            (a.first_spike_ms, b.first_spike_ms, "first spike", 2e-4),
            (a.last_counted_ms, b.last_counted_ms, "last spike", 2e-4),
            (a.isi_sum, b.isi_sum, "ISI sum", 4e-4),
            (a.v_max, b.v_max, "V max", 1e-8),
            (a.v_min, b.v_min, "V min", 1e-8),
            (a.final_v, b.final_v, "final V", 1e-8),
        ] {
            assert!(
                close(x, y, tol),
                "at {i}: {what} {x} against the kernel's {y}"
            );
        }
        firing += usize::from(a.n_spikes > 3);
    }
    assert!(
        firing >= 10,
        "{firing} firing currents of {}",
        currents.len()
    );
    // RK4 on the same file is another scheme: its first spike is visibly elsewhere.
    let rk4 = summaries(
        &file,
        &currents[10..11],
        &start,
        &BatchSettings {
            ode_method: Method::Rk4,
            ..s
        },
    );
    let moved = (rk4[0].first_spike_ms - lanes[10].first_spike_ms).abs();
    assert!(moved > 1e-3, "RK4 moved the first spike by {moved} ms");
}

/// On an equation linear in its variable with constant coefficients the exponential step is
/// the exact flow: `v' = (i - v)/tau` from v0 ends at `i + (v0 - i) e^(-T/tau)` to rounding
/// after 20 steps of a tenth of tau, where RK4 at that step is not exact (off by more than
/// 1e-12).
#[test]
fn exp_euler_on_lanes_is_exact_on_a_linear_equation() {
    let dir = tempfile::tempdir().unwrap();
    let text = "par i=0, tau=2\ndv/dt=(i-v)/tau\ninit v=-3\ndone\n";
    let model = ode_model(dir.path(), "lin.ode", text);
    let currents = [0.5, 2.0, 7.0];
    let s = exp_euler(4.0, 0.2, 1e9);
    let runs = summaries(&model, &currents, &[-3.0], &s);
    let rk4 = summaries(
        &model,
        &currents,
        &[-3.0],
        &BatchSettings {
            ode_method: Method::Rk4,
            ..s
        },
    );
    for ((i, a), b) in currents.iter().zip(&runs).zip(&rk4) {
        let exact = i + (-3.0 - i) * (-4.0f64 / 2.0).exp();
        assert!(
            (a.final_v - exact).abs() <= 1e-13 * exact.abs(),
            "at {i}: {} against {exact}",
            a.final_v
        );
        assert!((b.final_v - exact).abs() > 1e-12, "RK4 is not exact here");
    }
}

/// On equations that are not linear in their variables (FitzHugh-Nagumo's `v - v^3/3`) the
/// step is first order: halving dt halves the error of the first spike time against RK4 at a
/// small step (ratio between 1.7 and 2.3 at dt 0.02 -> 0.01 -> 0.005).
#[test]
fn exp_euler_on_lanes_is_first_order_on_fitzhugh_nagumo() {
    let model = Model::from_file(&root().join("studies/models/fhn.ode")).unwrap();
    let start = [-1.2, -0.62];
    let first = |dt: f64, method: Method| {
        let s = BatchSettings {
            ode_method: method,
            ..exp_euler(100.0, dt, 1.0)
        };
        summaries(&model, &[0.5], &start, &s)[0].first_spike_ms
    };
    let reference = first(0.001, Method::Rk4);
    assert!(reference.is_finite() && reference > 1.0, "{reference}");
    let errors: Vec<f64> = [0.02, 0.01, 0.005]
        .iter()
        .map(|&dt| (first(dt, Method::ExpEuler) - reference).abs())
        .collect();
    for w in errors.windows(2) {
        let ratio = w[0] / w[1];
        assert!(
            (1.7..2.3).contains(&ratio),
            "errors {errors:?}: ratio {ratio}"
        );
    }
}

/// `fi --method exp-euler` on an `.ode` file: the summary names exponential Euler on lanes as
/// the engine and states the dt/2 error for a first-order method, with no note about unused
/// settings; unset, the same file runs RK4 and says so. The rates differ between the two by
/// the first-order method's error (under 2% here), not by a different answer.
#[test]
fn fi_with_exp_euler_on_an_ode_file_says_what_ran() {
    use excitable::report::Report;
    use excitable::spec::FiSpec;
    use excitable::spec::fi::FiDirection;
    let hh = Model::from_file(&root().join("studies/models/hh.ode")).unwrap();
    let spec = FiSpec {
        from: 10.0,
        to: 30.0,
        step: 10.0,
        t_max: 400.0,
        transient: 100.0,
        direction: vec![FiDirection::Rest],
        no_overlay: true,
        ..Default::default()
    };
    let rk4 = spec.run(&hh).unwrap();
    let exp = FiSpec {
        method: Some(BatchScheme::ExpEuler),
        ..spec
    }
    .run(&hh)
    .unwrap();
    let (rk4_md, exp_md) = (rk4.summary(), exp.summary());
    assert!(exp_md.contains("exponential Euler on lanes"), "{exp_md}");
    assert!(
        exp_md.contains("for exponential Euler (first order)"),
        "{exp_md}"
    );
    assert!(!exp_md.contains("Note: `method`"), "{exp_md}");
    assert!(rk4_md.contains("RK4 on lanes") && rk4_md.contains("RK4 (fourth order)"));
    // The ISI rate of each run (Hz): spikes after the transient over their span.
    let rates = |r: &excitable::spec::FiResult| -> Vec<f64> {
        let s = r.curve.points.iter().map(|p| p.summary);
        s.map(|s| 1000.0 * f64::from(s.n_spikes - 1) / s.isi_sum)
            .collect()
    };
    let (a, b) = (rates(&rk4), rates(&exp));
    assert_eq!(a.len(), 3);
    for (x, y) in a.iter().zip(&b) {
        assert!(
            *x > 40.0 && (x - y).abs() <= 0.02 * x,
            "RK4 {x} Hz, exp-Euler {y} Hz"
        );
    }
    // A file that does not compile for lanes (a function table) runs RK4 on the general
    // simulator whatever was asked: its note and its error sentence say RK4.
    let dir = tempfile::tempdir().unwrap();
    let table = table_model(dir.path());
    let result = FiSpec {
        from: 0.0,
        to: 4.0,
        step: 2.0,
        t_max: 300.0,
        transient: 100.0,
        threshold: Some(0.5),
        direction: vec![FiDirection::Rest],
        no_overlay: true,
        method: Some(BatchScheme::ExpEuler),
        ..Default::default()
    }
    .run(&table)
    .unwrap();
    let md = result.summary();
    assert!(md.contains("runs RK4 in f64 instead"), "{md}");
    assert_eq!(result.curve.integrator, "RK4 (fourth order)");
    assert!(!md.contains("exponential Euler (first order)"), "{md}");
    assert_eq!(exp.curve.integrator, "exponential Euler (first order)");
}

/// The diagonal pass on every `.ode` model of the zoo that compiles for lanes (and `hh.ode`):
/// at a block of states around the file's start, each with its own current, `df_j/dx_j` equals the
/// diagonal of the Jacobian the jets compute (an independent forward mode, the one continuation
/// uses) to 1e-12 relative, and the pass's derivatives equal the plain pass's bit for bit.
#[test]
fn the_diagonal_pass_matches_the_jets_on_every_zoo_ode_model() {
    let mut checked = vec![];
    for (name, model, program, (lo, hi)) in zoo_lane_models() {
        let Model::Ode(ode) = &model else {
            unreachable!("{name}: an .ode file")
        };
        let n = ode.vars.len();
        let p = ode.params.values();
        let refs: [&[f64]; LANES] = [p.as_slice(); LANES];
        // The lanes spread over the currents from lo to hi, and the states up to as far from
        // the start as 16 lanes spread them, whatever the block's width: farther, the rates'
        // cancellation near their removable 0/0 (module `model::ode::lanes`) reaches this
        // test's 1e-12 (1.7e-11 on one lane of `rinzel-hh2d` with 32 lanes at 16 lanes'
        // spacing).
        let at = |l: usize| l as f64 / (LANES - 1) as f64;
        let i_ext: Lanes = std::array::from_fn(|l| lo + (hi - lo) * at(l));
        let ys: Vec<Vec<f64>> = (0..LANES)
            .map(|l| {
                let mut y = ode.init.clone();
                for (j, x) in y.iter_mut().enumerate() {
                    *x += 0.013 * (15.0 * at(l) + j as f64) * (1.0 + x.abs());
                }
                y
            })
            .collect();
        let load = |regs: &mut Vec<Lanes>| {
            program.set_current(regs, &refs, &i_ext);
            for j in 0..n {
                regs[program.var(j)] = std::array::from_fn(|l| ys[l][j]);
            }
            regs[program.time()] = [0.0; LANES];
        };
        let (mut plain, mut dual) = (program.registers(&refs), program.registers(&refs));
        load(&mut plain);
        load(&mut dual);
        program.eval(&mut plain);
        program.eval_diagonal(&mut dual);
        for l in 0..LANES {
            let mut pl = p.clone();
            let mut jac = nalgebra::DMatrix::zeros(n, n + 1);
            let mut f = vec![0.0; n];
            let jets = ode.with_current(&mut pl, i_ext[l], |pl| {
                ode.jacobian_into(pl, &ys[l], None, &mut jac, &mut f)
            });
            assert!(jets, "{name}: the jets run it");
            for j in 0..n {
                let (fv, dv) = (dual[program.derivative(j)][l], dual[program.diagonal(j)][l]);
                assert_eq!(
                    fv.to_bits(),
                    plain[program.derivative(j)][l].to_bits(),
                    "{name}"
                );
                let tol = 1e-12 * (1.0 + jac[(j, j)].abs());
                assert!(
                    (dv - jac[(j, j)]).abs() <= tol,
                    "{name}, lane {l}, df{j}/dx{j}: {dv} against the jets' {}",
                    jac[(j, j)]
                );
            }
        }
        checked.push(name);
    }
    assert!(checked.len() >= 5, "{checked:?}");
}

/// Exponential Euler on lanes converges at first order on every `.ode` model of the zoo that
/// compiles for lanes, not only on `hh.ode` and FitzHugh-Nagumo: at the current of each model's
/// range where RK4 at dt 0.001 (the reference) fires most in 200 time units, the error of the
/// first spike time falls by at least 1.6 at each halving of dt (0.01 -> 0.005 -> 0.0025 ->
/// 0.00125) and by 1.6 to 3.5 at the last (seen: 1.98-2.02 on the Morris-Lecar files,
/// Hindmarsh-Rose and `hh.ode`, 1.91-1.98 on FitzHugh-Nagumo; on the Rinzel reduction at the
/// top of its range, whose first-order term is small there, 7.9, 2.8, 2.9). This checks the
/// steps converge to RK4's answer on each model; the derivative they use is checked against
/// the jets by `the_diagonal_pass_matches_the_jets_on_every_zoo_ode_model`. At dt 0.00125 the spike count
/// after the transient is the reference's within one (a spike near the end of the run may
/// fall on either side of it: Hindmarsh-Rose's 57th).
#[test]
fn exp_euler_on_lanes_is_first_order_on_every_zoo_ode_model() {
    let mut checked = vec![];
    for (name, model, _, (lo, hi)) in zoo_lane_models() {
        let Model::Ode(ode) = &model else {
            unreachable!("{name}: an .ode file")
        };
        let currents: Vec<f64> = (0..8).map(|k| lo + (hi - lo) * k as f64 / 7.0).collect();
        let run = |dt: f64, method: Method| {
            let s = BatchSettings {
                ode_method: method,
                ..exp_euler(200.0, dt, 0.0)
            };
            summaries(&model, &currents, &ode.init, &s)
        };
        let reference = run(0.001, Method::Rk4);
        let (k, strongest) = reference
            .iter()
            .enumerate()
            .max_by_key(|(_, s)| s.n_spikes)
            .unwrap();
        assert!(strongest.n_spikes >= 2, "{name}: the reference fires");
        let runs: Vec<_> = [0.01, 0.005, 0.0025, 0.00125]
            .iter()
            .map(|&dt| run(dt, Method::ExpEuler)[k])
            .collect();
        let errors: Vec<f64> = runs
            .iter()
            .map(|s| (s.first_spike_ms - strongest.first_spike_ms).abs())
            .collect();
        let ratios: Vec<f64> = errors.windows(2).map(|w| w[0] / w[1]).collect();
        eprintln!(
            "{name} at {}: errors {errors:?}, ratios {ratios:?}",
            currents[k]
        );
        assert!(
            ratios.iter().all(|&r| r >= 1.6),
            "{name}: errors {errors:?}"
        );
        assert!((1.6..3.5).contains(&ratios[2]), "{name}: errors {errors:?}");
        let finest = runs[3].n_spikes;
        assert!(
            finest.abs_diff(strongest.n_spikes) <= 1,
            "{name} at {}: {finest} spikes against {}",
            currents[k],
            strongest.n_spikes
        );
        checked.push(name);
    }
    assert_eq!(checked.len(), 8, "{checked:?}");
}
