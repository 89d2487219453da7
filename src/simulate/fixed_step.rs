//! Fixed-step integrators for conductance-based models: one step from `t` to `t + dt` with the
//! injected current held at its value at the step's start (zero-order hold, as BrainPy and
//! Brian do; it makes step stimuli unambiguous).

use super::method::{EulerOrder, Method};
use crate::model::ConductanceModel;

/// One fixed step of a model: what [`super::run`]'s fixed-step loop needs from it.
pub trait FixedStep {
    /// Advance `y` from `t` by `dt` with the current `i` held (not `Dopri5`, which is adaptive).
    fn step(&mut self, method: &Method, t: f64, y: &mut [f64], i: f64, dt: f64);
    /// dV/dt (mV/ms) at time `t`, state `y`: the slope for the spike-time interpolation.
    fn dvdt(&self, t: f64, y: &[f64], i: f64) -> f64;
}

/// One classic Runge-Kutta step of `f(t, y, dy)` with work buffers `k` and `tmp`.
pub fn rk4_with(
    f: &mut impl FnMut(f64, &[f64], &mut [f64]),
    t: f64,
    y: &mut [f64],
    dt: f64,
    k: &mut [Vec<f64>; 4],
    tmp: &mut [f64],
) {
    let [k1, k2, k3, k4] = k;
    f(t, y, k1);
    for j in 0..y.len() {
        tmp[j] = y[j] + 0.5 * dt * k1[j];
    }
    f(t + 0.5 * dt, tmp, k2);
    for j in 0..y.len() {
        tmp[j] = y[j] + 0.5 * dt * k2[j];
    }
    f(t + 0.5 * dt, tmp, k3);
    for j in 0..y.len() {
        tmp[j] = y[j] + dt * k3[j];
    }
    f(t + dt, tmp, k4);
    for j in 0..y.len() {
        y[j] += dt / 6.0 * (k1[j] + 2.0 * (k2[j] + k3[j]) + k4[j]);
    }
}

impl FixedStep for Stepper<'_> {
    fn step(&mut self, method: &Method, _t: f64, y: &mut [f64], i: f64, dt: f64) {
        Stepper::step(self, method, y, i, dt);
    }

    fn dvdt(&self, _t: f64, y: &[f64], i: f64) -> f64 {
        Stepper::dvdt(self, y, i)
    }
}

/// Work buffers for one neuron, so a step allocates nothing.
pub(crate) struct Stepper<'m> {
    model: &'m ConductanceModel,
    p: Vec<f64>,
    k: [Vec<f64>; 4],
    tmp: Vec<f64>,
}

use crate::numerics::phi::phi1;

impl<'m> Stepper<'m> {
    pub fn new(model: &'m ConductanceModel) -> Self {
        let n = model.dim();
        Stepper {
            model,
            p: model.params.values(),
            k: std::array::from_fn(|_| vec![0.0; n]),
            tmp: vec![0.0; n],
        }
    }

    /// dV/dt (mV/ms) at state `y`.
    #[inline]
    pub fn dvdt(&self, y: &[f64], i: f64) -> f64 {
        (i - self.model.ionic_current(&self.p, y)) / self.p[self.model.c_m]
    }

    /// Advance `y` by one step of `method` (not `Dopri5`, which is adaptive).
    pub fn step(&mut self, method: &Method, y: &mut [f64], i: f64, dt: f64) {
        match method {
            Method::Euler(order) => self.euler(*order, y, i, dt),
            Method::ExpEuler => self.exp_euler(y, i, dt),
            Method::Rk4 => self.rk4(y, i, dt),
            Method::Dopri5(_) => unreachable!("dopri5 is adaptive: see simulate::dopri5"),
        }
    }

    fn euler(&mut self, order: EulerOrder, y: &mut [f64], i: f64, dt: f64) {
        let m = self.model;
        let phi = self.p[m.phi];
        match order {
            EulerOrder::Simultaneous => {
                m.rhs(&self.p, y, i, &mut self.k[0]);
                y.iter_mut().zip(&self.k[0]).for_each(|(x, d)| *x += dt * d);
            }
            EulerOrder::VFirst => {
                y[0] += dt * self.dvdt(y, i);
                let v = y[0];
                for (g, x) in m.gates.iter().zip(&mut y[1..]) {
                    *x += dt * (g.derivative(v, *x) * phi);
                }
            }
            EulerOrder::GatesFirst => {
                let v = y[0];
                for (g, x) in m.gates.iter().zip(&mut y[1..]) {
                    *x += dt * (g.derivative(v, *x) * phi);
                }
                y[0] += dt * self.dvdt(y, i);
            }
        }
    }

    fn exp_euler(&mut self, y: &mut [f64], i: f64, dt: f64) {
        let m = self.model;
        let phi = self.p[m.phi];
        let v = y[0];
        // V is linear in itself with the gates frozen: dV/dt = f(V), slope -g_total/C.
        let g_total: f64 = m
            .currents
            .iter()
            .map(|c| m.conductance(&self.p, y, c))
            .sum();
        let slope = -g_total / self.p[m.c_m];
        let v_new = v + dt * phi1(slope * dt) * self.dvdt(y, i);
        // Each gate relaxes exactly towards x_inf(V_old) with time constant tau(V_old)/phi.
        for (g, x) in m.gates.iter().zip(&mut y[1..]) {
            let (inf, tau) = g.inf_tau(v);
            *x = inf + (*x - inf) * (-dt * phi / tau).exp();
        }
        y[0] = v_new;
    }

    fn rk4(&mut self, y: &mut [f64], i: f64, dt: f64) {
        let (m, p) = (self.model, &self.p);
        rk4_with(
            &mut |_, y, dy| m.rhs(p, y, i, dy),
            0.0,
            y,
            dt,
            &mut self.k,
            &mut self.tmp,
        );
    }
}
