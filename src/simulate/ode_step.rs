//! Fixed steps (simultaneous Euler, RK4) for XPPAUT `.ode` models; the injected current is
//! added to the model's current parameter at every evaluation ([`OdeModel::with_current`]).

use super::fixed_step::{FixedStep, rk4_with};
use super::method::Method;
use crate::model::ode::FlagState;
use crate::model::ode::OdeModel;

/// Work buffers for one `.ode` neuron.
pub struct OdeStepper<'m> {
    model: &'m OdeModel,
    p: Vec<f64>,
    k: [Vec<f64>; 4],
    tmp: Vec<f64>,
    slots: Vec<f64>,
    /// The file's global flags' state between steps (XPPAUT's state resets).
    flags: FlagState,
}

impl<'m> OdeStepper<'m> {
    /// Work buffers sized for `model`, its parameter values read once.
    pub fn new(model: &'m OdeModel) -> Self {
        let n = model.vars.len();
        let p = model.params.values();
        OdeStepper {
            model,
            p,
            k: std::array::from_fn(|_| vec![0.0; n]),
            tmp: vec![0.0; n],
            slots: Vec::new(),
            flags: FlagState::default(),
        }
    }
}

impl FixedStep for OdeStepper<'_> {
    fn step(&mut self, method: &Method, t: f64, y: &mut [f64], i: f64, dt: f64) {
        // Global flags: the model cuts the step at each reset and calls back for the pieces.
        if self.model.has_flags() && !self.flags.is_busy() {
            let mut flags = std::mem::replace(&mut self.flags, FlagState::busy());
            let m = self.model;
            m.step_with_flags(&mut flags, t, y, i, dt, |t, y, h| {
                self.step(method, t, y, i, h)
            });
            self.flags = flags;
            return;
        }
        let (m, sc, k, tmp) = (self.model, &mut self.slots, &mut self.k, &mut self.tmp);
        m.with_current(&mut self.p, i, |p| match method {
            // Only the simultaneous order and RK4 reach here (see `simulate::run`).
            Method::Rk4 => rk4_with(&mut |t, y, dy| m.rhs_f64(p, t, y, dy, sc), t, y, dt, k, tmp),
            _ => {
                m.rhs_f64(p, t, y, &mut k[0], sc);
                y.iter_mut().zip(&k[0]).for_each(|(x, d)| *x += dt * d);
            }
        })
    }

    fn dvdt(&self, t: f64, y: &[f64], i: f64) -> f64 {
        let mut dy = vec![0.0; y.len()];
        self.model
            .with_current(&mut self.p.clone(), i, |p| self.model.rhs(p, t, y, &mut dy));
        dy[0]
    }
}
