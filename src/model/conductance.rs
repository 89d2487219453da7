//! Conductance-based models: one data structure for the built-ins and for user model files.
//!
//! A model is a membrane capacitance, a list of ionic currents
//! `g * factor(V) * prod(gate^power) * (V - E)` (the factor, if any, an instantaneous gate such
//! as Wang-Buzsaki's `m_inf(V)^3`) and a list of gates with first-order kinetics. The state vector is `[V, gate_1, gate_2, …]`.
//! The right-hand side [`ConductanceModel::rhs`] is generic over [`Scalar`], so simulation (f64)
//! and analysis (dual numbers for exact derivatives) read the same equations.
//!
//! Sign convention: `C dV/dt = I_ext - sum_j I_j`, currents in uA/cm^2, positive outward.

use super::params::ParamSet;
use super::rates::RateFn;
use crate::error::ModelError;
use crate::numerics::Scalar;
use serde::{Deserialize, Serialize};

/// How a gate relaxes: by opening/closing rates or by steady state and time constant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Kinetics {
    /// `dx/dt = phi * (alpha(V) (1 - x) - beta(V) x)`, rates in 1/ms.
    AlphaBeta {
        /// Opening rate alpha(V) (1/ms).
        alpha: RateFn,
        /// Closing rate beta(V) (1/ms).
        beta: RateFn,
    },
    /// `dx/dt = phi * (inf(V) - x) / tau(V)`, `inf` dimensionless, `tau` in ms.
    InfTau {
        /// Steady-state open fraction x_inf(V) (dimensionless, in [0, 1]).
        inf: RateFn,
        /// Time constant tau_x(V) (ms).
        tau: RateFn,
    },
}

/// A gating variable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gate {
    /// The gate's name (`m`, `h`, `n`, ...), also its state variable's name.
    pub name: String,
    /// How the gate relaxes with V.
    pub kinetics: Kinetics,
}

impl Gate {
    /// Steady state `x_inf(V)` and time constant `tau_x(V)` (ms, before the temperature factor).
    #[inline]
    pub fn inf_tau<T: Scalar>(&self, v: T) -> (T, T) {
        match &self.kinetics {
            Kinetics::AlphaBeta { alpha, beta } => {
                let a = alpha.eval(v);
                let s = a + beta.eval(v);
                (a / s, s.recip())
            }
            Kinetics::InfTau { inf, tau } => (inf.eval(v), tau.eval(v)),
        }
    }

    /// `dx/dt` at temperature factor 1.
    #[inline]
    pub fn derivative<T: Scalar>(&self, v: T, x: T) -> T {
        match &self.kinetics {
            Kinetics::AlphaBeta { alpha, beta } => alpha.eval(v) * (-x + 1.0) - beta.eval(v) * x,
            Kinetics::InfTau { inf, tau } => (inf.eval(v) - x) / tau.eval(v),
        }
    }

    fn rates(&self) -> Vec<&RateFn> {
        match &self.kinetics {
            Kinetics::AlphaBeta { alpha, beta } => vec![alpha, beta],
            Kinetics::InfTau { inf, tau } => vec![inf, tau],
        }
    }
}

/// An ionic current `g * factor(V) * prod(gate^power) * (V - E)`; `g` and `E` are parameter
/// indices.
#[derive(Debug, Clone, PartialEq)]
pub struct Current {
    /// The current's name (`na`, `k`, `l`, ...), used in tables of current contributions.
    pub name: String,
    /// Index of the maximal conductance parameter (mS/cm^2).
    pub g: usize,
    /// Index of the reversal potential parameter (mV).
    pub e: usize,
    /// (gate index, integer power) factors.
    pub gates: Vec<(usize, i32)>,
    /// A dimensionless function of V multiplying the conductance: an instantaneous gate (a
    /// steady state without a time constant, such as `m_inf(V)^3`); `None` for 1.
    pub factor: Option<RateFn>,
}

/// A single-compartment conductance-based model.
#[derive(Debug, Clone, PartialEq)]
pub struct ConductanceModel {
    /// The model's name (`hh`, or the name given in its TOML file).
    pub name: String,
    /// One line saying what the model is and where it comes from.
    pub description: String,
    /// Conductances (mS/cm^2), reversal potentials (mV), `c_m` (uF/cm^2), `phi` and any rate
    /// constants, addressed by name.
    pub params: ParamSet,
    /// The gating variables, in state-vector order (state index = gate index + 1).
    pub gates: Vec<Gate>,
    /// The ionic currents summed in `C dV/dt = I_ext - sum I_j` (uA/cm^2, positive outward).
    pub currents: Vec<Current>,
    /// Index of `c_m` (uF/cm^2).
    pub c_m: usize,
    /// Index of `phi`, the temperature factor multiplying every gate rate.
    pub phi: usize,
    /// Default spike-detection threshold (mV).
    pub threshold_mv: f64,
    /// Voltage range (mV) searched for equilibria.
    pub v_search_mv: (f64, f64),
}

/// The most gates, currents and parameters a model may have. A single compartment has tens;
/// 5000 gates had kept `rest` and `simulate` busy past two minutes, and 200,000 parameters
/// (a 14 MB model file) the loading itself.
pub const MAX_GATES: usize = 100;
/// See [`MAX_GATES`].
pub const MAX_CURRENTS: usize = 100;
/// See [`MAX_GATES`].
pub const MAX_PARAMS: usize = 1000;

/// Refuse a model of more parameters, gates or currents than [`MAX_PARAMS`], [`MAX_GATES`]
/// and [`MAX_CURRENTS`] allow, naming the field (`gate: 101 gates; at most 100 are allowed`).
/// A model file's reader asks before it builds anything (each parameter is looked up among
/// the earlier ones); [`ConductanceModel::validate`] asks for every loaded model.
pub fn check_sizes(params: usize, gates: usize, currents: usize) -> Result<(), String> {
    for (field, what, n, max) in [
        ("param", "parameters", params, MAX_PARAMS),
        ("gate", "gates", gates, MAX_GATES),
        ("current", "currents", currents, MAX_CURRENTS),
    ] {
        if n > max {
            return Err(format!("{field}: {n} {what}; at most {max} are allowed"));
        }
    }
    Ok(())
}

impl ConductanceModel {
    /// Number of state variables (V plus the gates).
    pub fn dim(&self) -> usize {
        1 + self.gates.len()
    }

    /// `["v", gate names…]`.
    pub fn var_names(&self) -> Vec<String> {
        std::iter::once("v".to_string())
            .chain(self.gates.iter().map(|g| g.name.clone()))
            .collect()
    }

    /// Total ionic current (uA/cm^2) at state `y`, outward positive.
    #[inline]
    pub fn ionic_current<T: Scalar>(&self, p: &[T], y: &[T]) -> T {
        let v = y[0];
        let mut total = T::from(0.0);
        for c in &self.currents {
            total += self.conductance(p, y, c) * (v - p[c.e]);
        }
        total
    }

    /// Open conductance of one current (mS/cm^2) at state `y`.
    #[inline]
    pub fn conductance<T: Scalar>(&self, p: &[T], y: &[T], c: &Current) -> T {
        let mut g = p[c.g];
        if let Some(f) = &c.factor {
            g *= f.eval(y[0]);
        }
        for &(gi, power) in &c.gates {
            g *= y[1 + gi].powi(power);
        }
        g
    }

    /// The right-hand side `dy/dt` (mV/ms and 1/ms) at state `y`, parameters `p` (values in
    /// [`ParamSet`] order) and injected current `i_ext` (uA/cm^2). Its Jacobian is written out
    /// by hand in [`ConductanceModel::jacobian_into`]: a change here changes it there (the tests
    /// against dual numbers, `tests/zoo.rs`, would catch a stale one).
    #[inline]
    pub fn rhs<T: Scalar>(&self, p: &[T], y: &[T], i_ext: T, dy: &mut [T]) {
        dy[0] = (i_ext - self.ionic_current(p, y)) / p[self.c_m];
        let v = y[0];
        let phi = p[self.phi];
        for (k, gate) in self.gates.iter().enumerate() {
            dy[1 + k] = gate.derivative(v, y[1 + k]) * phi;
        }
    }

    /// The state with voltage `v` and every gate at its steady state for that voltage.
    pub fn state_at_v(&self, v: f64) -> Vec<f64> {
        std::iter::once(v)
            .chain(self.gates.iter().map(|g| g.inf_tau(v).0))
            .collect()
    }

    /// Net current `i_ext - I_ion(V, gates at steady state)`: its zeros are the equilibria.
    pub fn steady_state_balance<T: Scalar>(&self, p: &[T], v: T, i_ext: T) -> T {
        let mut y = Vec::with_capacity(self.dim());
        y.push(v);
        y.extend(self.gates.iter().map(|g| g.inf_tau(v).0));
        i_ext - self.ionic_current(p, &y)
    }

    /// Validate structure and constants (used for models loaded from files). A gate without a
    /// steady state anywhere in the search range (alpha + beta = 0 everywhere: both rates zero;
    /// or an `inf`/`tau` that is nowhere finite, tau nowhere > 0) is refused by name: no
    /// equilibrium could exist.
    pub fn validate(&self) -> Result<(), ModelError> {
        check_sizes(self.params.len(), self.gates.len(), self.currents.len()).map_err(
            |reason| ModelError::Invalid {
                model: self.name.clone(),
                reason,
            },
        )?;
        self.params.validate()?;
        for g in &self.gates {
            for r in g.rates() {
                r.validate().map_err(|reason| ModelError::Invalid {
                    model: self.name.clone(),
                    reason: format!("gate '{}': {reason}", g.name),
                })?;
            }
        }
        for c in &self.currents {
            if let Some(f) = &c.factor {
                f.validate().map_err(|reason| ModelError::Invalid {
                    model: self.name.clone(),
                    reason: format!("current '{}' factor: {reason}", c.name),
                })?;
            }
        }
        let (lo, hi) = self.v_search_mv;
        for g in &self.gates {
            let settles = (0..=100).any(|k| {
                let v = lo + (hi - lo) * k as f64 / 100.0;
                let (inf, tau) = g.inf_tau(v);
                inf.is_finite() && tau.is_finite() && tau > 0.0
            });
            if !settles {
                let why = match g.kinetics {
                    Kinetics::AlphaBeta { .. } => {
                        "alpha + beta is 0 (or not finite) at every voltage searched, so its steady state alpha / (alpha + beta) is undefined: give it a rate that is not zero"
                    }
                    Kinetics::InfTau { .. } => {
                        "inf is not finite or tau is not > 0 at every voltage searched: it has no steady state"
                    }
                };
                return Err(ModelError::Invalid {
                    model: self.name.clone(),
                    reason: format!("gate '{}' is degenerate over {lo}..{hi} mV: {why}", g.name),
                });
            }
        }
        Ok(())
    }
}
