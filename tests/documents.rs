//! The source documents' simulations, reproduced sample by sample.
//!
//! Fixtures come from `tests/fixtures/make_document_traces.py` (our NumPy re-implementation of
//! each document's arithmetic). Tolerance: 1e-9 mV at every sample (the bar); the
//! remaining differences are rounding (a*x/(1-exp) vs. the series/expm1 form, operation order).

use excitable::model::{InitialState, Model};
use excitable::simulate::{self, EulerOrder, Method, Record, Settings};
use excitable::stimulus::Stimulus;

fn read_csv(path: &str) -> Vec<Vec<f64>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .skip(1)
        .map(|l| l.split(',').map(|x| x.parse().unwrap()).collect())
        .collect()
}

fn simulate(
    model: &str,
    stim: &str,
    init: InitialState,
    dt: f64,
    t_max: f64,
    method: Method,
) -> simulate::Run {
    let m = Model::builtin(model).unwrap();
    let y0 = m.initial_state(&init).unwrap();
    let s = Settings {
        t_max,
        dt,
        method,
        record: Record::Full,
        threshold_mv: m.threshold_mv(),
    };
    simulate::run(&m, &Stimulus::parse(stim).unwrap(), &y0, &s).unwrap()
}

#[test]
fn human_neurone_000_matches_the_document_at_every_sample() {
    // 000_…: C=1.5, gCa=2, ECa=140; V0=-70 with gates at steady state; 1 uA/cm^2 for steps starting
    // in [5, 15) ms; forward Euler, V first then the gates with the new V; dt=0.01, 200 ms.
    let run = simulate(
        "hh-ca",
        "step:5:15:1",
        InitialState::Voltage(-70.0),
        0.01,
        200.0,
        Method::Euler(EulerOrder::VFirst),
    );
    let v = run.trace.v();
    let reference = read_csv("tests/fixtures/hh_ca_000_v.csv");
    assert_eq!(reference.len(), 20000);
    let mut worst: f64 = 0.0;
    for row in &reference {
        let k = row[0] as usize; // the document stores the state after step k under t = (k-1) dt
        worst = worst.max((v[k] - row[1]).abs());
    }
    assert!(worst < 1e-9, "largest V difference {worst} mV");
    for row in read_csv("tests/fixtures/hh_ca_000_state.csv") {
        let k = row[0] as usize;
        for (j, x) in row[1..].iter().enumerate() {
            assert!((run.trace.vars[j][k] - x).abs() < 1e-9, "k={k}, var {j}");
        }
    }
    // The document's observation: one spike, then it "won't spike again".
    assert_eq!(run.spikes_ms.len(), 1, "spikes at {:?}", run.spikes_ms);
}

#[test]
fn hh_1952_python_001_matches_the_document_at_every_sample() {
    // 001_… Python: V=0, m=0.05, h=0.59, n=0.31; the current is switched on when computing sample
    // 1000 (from t=9.99 ms) and off when computing 1500, i.e. for steps starting in [9.99, 14.99).
    let init = InitialState::Values(vec![
        ("v".into(), 0.0),
        ("m".into(), 0.05),
        ("h".into(), 0.59),
        ("n".into(), 0.31),
    ]);
    let run = simulate(
        "hh-1952",
        "step:9.99:14.99:10",
        init,
        0.01,
        40.0,
        Method::Euler(EulerOrder::GatesFirst),
    );
    let reference = read_csv("tests/fixtures/hh1952_001_python.csv");
    assert_eq!(reference.len(), 4000);
    let mut worst = [0.0f64; 4];
    for row in &reference {
        let k = row[0] as usize;
        for j in 0..4 {
            worst[j] = worst[j].max((run.trace.vars[j][k] - row[1 + j]).abs());
        }
    }
    assert!(worst[0] < 1e-9, "largest V difference {} mV", worst[0]);
    assert!(
        worst[1..].iter().all(|&w| w < 1e-11),
        "gate differences {worst:?}"
    );
    assert!(!run.spikes_ms.is_empty());
}

#[test]
fn hh_1952_matlab_001_matches_the_document() {
    // 001_… MATLAB: dt = 0.001, rest (V=0, gates at steady state), 10 uA/cm^2 for 10 <= t < 11 ms,
    // simultaneous forward Euler.
    let run = simulate(
        "hh-1952",
        "step:10:11:10",
        InitialState::Voltage(0.0),
        0.001,
        40.0,
        Method::Euler(EulerOrder::Simultaneous),
    );
    let v = run.trace.v();
    let mut worst: f64 = 0.0;
    for row in read_csv("tests/fixtures/hh1952_001_matlab.csv") {
        worst = worst.max((v[row[0] as usize] - row[1]).abs());
    }
    assert!(worst < 1e-9, "largest V difference {worst} mV");
    assert_eq!(run.spikes_ms.len(), 1);
}
