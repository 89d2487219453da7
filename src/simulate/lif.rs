//! Integrating the leaky integrate-and-fire model with exact threshold events.
//!
//! Within each step the current is held at its start value. `euler` and `rk4` use their own
//! update of the linear ODE and a linearly interpolated crossing time; `exp-euler` and `dopri5`
//! use the exact flow `V(t) = V_inf + (V0 - V_inf) exp(-t / tau_m)` and the exact crossing time
//! `tau_m ln((V0 - V_inf) / (V_th - V_inf))`. The refractory period starts at the spike time,
//! not at a grid point, and ends mid-step when it falls there.

use super::method::Method;
use crate::model::LifValues;

/// State of one LIF neuron between steps.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LifState {
    /// Membrane potential (mV).
    pub v: f64,
    /// Time (ms) until which the neuron is refractory.
    pub refractory_until: f64,
}

/// Advance one step `[t, t + dt]` under constant current `i`; pushes spike times. A state at
/// or above threshold when the neuron is not refractory fires at that moment.
pub(crate) fn step(
    p: &LifValues,
    method: &Method,
    s: &mut LifState,
    t: f64,
    dt: f64,
    i: f64,
    spikes: &mut Vec<f64>,
) {
    let t_end = t + dt;
    let mut t_now = t;
    // Bounded loop: with t_ref = 0 and a huge current several spikes can fall in one step.
    for _ in 0..1000 {
        if s.refractory_until >= t_end {
            s.v = p.v_reset;
            return;
        }
        if s.refractory_until > t_now {
            t_now = s.refractory_until;
            s.v = p.v_reset;
        }
        let h = t_end - t_now;
        let v0 = s.v;
        // A neuron at or above threshold (a run started there) fires at once: the crossing
        // test below sees only crossings from below, and had left it silent above threshold.
        if v0 >= p.v_th {
            spikes.push(t_now);
            s.v = p.v_reset;
            s.refractory_until = t_now + p.t_ref;
            continue;
        }
        let v1 = advance(p, method, v0, i, h);
        if v1 >= p.v_th && v0 < p.v_th {
            let t_spike = match method {
                Method::ExpEuler | Method::Dopri5(_) => {
                    let v_inf = p.v_inf(i);
                    t_now + p.tau_m * ((v0 - v_inf) / (p.v_th - v_inf)).ln()
                }
                _ => t_now + h * (p.v_th - v0) / (v1 - v0),
            };
            spikes.push(t_spike);
            s.v = p.v_reset;
            s.refractory_until = t_spike + p.t_ref;
            t_now = t_spike;
            continue;
        }
        s.v = v1;
        return;
    }
}

/// V after `h` ms from `v0` under constant current `i`, without threshold.
fn advance(p: &LifValues, method: &Method, v0: f64, i: f64, h: f64) -> f64 {
    match method {
        Method::Euler(_) => v0 + h * p.dvdt(v0, i),
        Method::Rk4 => {
            let k1 = p.dvdt(v0, i);
            let k2 = p.dvdt(v0 + 0.5 * h * k1, i);
            let k3 = p.dvdt(v0 + 0.5 * h * k2, i);
            let k4 = p.dvdt(v0 + h * k3, i);
            v0 + h / 6.0 * (k1 + 2.0 * (k2 + k3) + k4)
        }
        Method::ExpEuler | Method::Dopri5(_) => {
            let v_inf = p.v_inf(i);
            v_inf + (v0 - v_inf) * (-h / p.tau_m).exp()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Lif;

    #[test]
    fn exact_flow_gives_closed_form_spike_times() {
        // I = 1.5: first spike at tau ln(1.5 / 0.5), then every t_ref + tau ln 3 (reset = rest = 0).
        let p = Lif::default().values();
        let mut s = LifState {
            v: 0.0,
            refractory_until: f64::NEG_INFINITY,
        };
        let mut spikes = Vec::new();
        let dt = 0.125;
        for k in 0..400 {
            step(
                &p,
                &Method::ExpEuler,
                &mut s,
                k as f64 * dt,
                dt,
                1.5,
                &mut spikes,
            );
        }
        let isi = 4.0 + 10.0 * 3f64.ln();
        assert_eq!(spikes.len(), 3, "{spikes:?}");
        for (k, t) in spikes.iter().enumerate() {
            let exact = 10.0 * 3f64.ln() + k as f64 * isi;
            assert!((t - exact).abs() < 1e-9, "spike {k}: {t} vs {exact}");
        }
    }
}
