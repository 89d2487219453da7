//! The LIF run of `003_…` (I = 1.5, dt = 0.125 ms, 50 ms) against the exact solution of the
//! linear ODE between spikes: t_1 = tau ln(RI / (RI - V_th)), then one spike every
//! t_ref + tau ln(RI / (RI - V_th)) (reset to rest).

use excitable::model::Model;
use excitable::simulate::{self, EulerOrder, Method, Record, Settings};
use excitable::stimulus::Stimulus;

fn spikes(method: Method, dt: f64, t_max: f64) -> Vec<f64> {
    let m = Model::builtin("lif").unwrap();
    let y0 = m.resting_state().unwrap();
    let s = Settings {
        t_max,
        dt,
        method,
        record: Record::Full,
        threshold_mv: 1.0,
    };
    simulate::run(&m, &Stimulus::constant(1.5), &y0, &s)
        .unwrap()
        .spikes_ms
}

fn exact(n: usize) -> Vec<f64> {
    let first = 10.0 * 3f64.ln();
    (0..n).map(|k| first + k as f64 * (4.0 + first)).collect()
}

#[test]
fn exact_flow_reproduces_the_closed_form_spike_times() {
    let s = spikes(Method::ExpEuler, 0.125, 50.0);
    assert_eq!(s.len(), 3, "{s:?}");
    for (a, b) in s.iter().zip(exact(3)) {
        assert!((a - b).abs() < 1e-9, "{a} vs {b}");
    }
}

#[test]
fn euler_at_the_document_step_is_first_order_close() {
    // Forward Euler of tau V' = RI - V with step h underestimates the decay rate: its crossing
    // times are early by O(h): at h = 0.125 each interval is short by about 0.069 ms (crossing at
    // k = ln 3 / -ln(1 - h/tau) = 87.3 steps), so the third spike is early by about 0.21 ms.
    // Halving h halves the error (order 1 within 10 %).
    let e = |dt: f64| {
        let s = spikes(Method::Euler(EulerOrder::Simultaneous), dt, 50.0);
        assert_eq!(s.len(), 3);
        s.iter()
            .zip(exact(3))
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max)
    };
    let (e1, e2, e3) = (e(0.125), e(0.0625), e(0.03125));
    assert!(e1 > 0.15 && e1 < 0.25, "{e1}");
    assert!(
        (e1 / e2 - 2.0).abs() < 0.2 && (e2 / e3 - 2.0).abs() < 0.2,
        "{e1} {e2} {e3}"
    );
}

/// A reset at or above the threshold fires again as each refractory period ends, for ever
/// (and without end at `t_ref = 0`): it had been accepted and reported as one spike, then
/// silence, and `fi` as never firing with a rheobase. It is refused, naming `v_reset` and the
/// bound, whatever the order of the overrides; a run started above threshold fires at once.
#[test]
fn a_reset_above_threshold_is_refused_and_a_start_above_it_fires_at_once() {
    for set in [
        "v_th=-50,v_reset=-45,v_rest=-70",
        "v_reset=-45,v_th=-50,v_rest=-70",
        "v_th=-50,v_reset=-50,v_rest=-70",
    ] {
        let e = excitable::ModelSource {
            model: "lif".into(),
            set: vec![set.into()],
            ..Default::default()
        }
        .load()
        .unwrap_err()
        .to_string();
        assert!(
            (e.contains("v_reset = -45") || e.contains("v_reset = -50"))
                && e.contains("below v_th = -50 mV"),
            "{e}"
        );
    }
    let (ok, _, stderr) = crate::common::excitable(&[
        "fi",
        "--model",
        "lif",
        "--set",
        "v_reset=2",
        "--from",
        "0",
        "--to",
        "3",
    ]);
    assert!(!ok && stderr.contains("v_reset = 2"), "{stderr}");
    // Library use without the loader: the run itself refuses.
    let mut m = Model::builtin("lif").unwrap();
    m.set("v_reset", 1.5).unwrap();
    let s = Settings {
        t_max: 20.0,
        dt: 0.1,
        method: Method::ExpEuler,
        record: Record::SpikesOnly,
        threshold_mv: 1.0,
    };
    let e = simulate::run(&m, &Stimulus::constant(1.5), &[0.0], &s).unwrap_err();
    assert!(e.to_string().contains("v_reset"), "{e}");
    // Started at 2 mV, above v_th = 1: a spike at 0, then the closed form from the reset.
    let m = Model::builtin("lif").unwrap();
    let run = simulate::run(&m, &Stimulus::constant(1.5), &[2.0], &s).unwrap();
    let first = 10.0 * 3f64.ln();
    assert_eq!(run.spikes_ms[0], 0.0);
    assert!(
        (run.spikes_ms[1] - (4.0 + first)).abs() < 1e-9,
        "{:?}",
        run.spikes_ms
    );
}
