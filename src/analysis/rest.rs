//! Rest states: every equilibrium at a given current, polished, with its eigen analysis.

use super::eigen::{EigenPair, eigen};
use super::jacobian::{jacobian, rhs};
use crate::error::AnalysisError;
use crate::model::ConductanceModel;
use nalgebra::{DMatrix, DVector};
use std::fmt;

/// Stability type of an equilibrium, from its eigenvalues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stability {
    /// All eigenvalues real and negative.
    StableNode,
    /// All real parts negative, with a complex pair (damped ringing).
    StableFocus,
    /// Unstable directions are real and some directions are stable.
    Saddle,
    /// The unstable directions are a complex pair (what rest becomes past a Hopf point).
    UnstableFocus,
    /// All eigenvalues real and positive.
    UnstableNode,
    /// An eigenvalue on the imaginary axis (|Re| < 1e-9 /ms): a bifurcation point.
    NonHyperbolic,
}

impl Stability {
    pub fn name(self) -> &'static str {
        match self {
            Stability::StableNode => "stable node",
            Stability::StableFocus => "stable focus",
            Stability::Saddle => "saddle",
            Stability::UnstableFocus => "unstable focus",
            Stability::UnstableNode => "unstable node",
            Stability::NonHyperbolic => "non-hyperbolic",
        }
    }

    pub fn is_stable(self) -> bool {
        matches!(self, Stability::StableNode | Stability::StableFocus)
    }

    /// Classify eigenvalues sorted by decreasing real part.
    pub fn classify(eig: &[EigenPair]) -> Stability {
        const AXIS: f64 = 1e-9;
        if eig.iter().any(|p| p.value.re.abs() < AXIS) {
            return Stability::NonHyperbolic;
        }
        let unstable: Vec<_> = eig.iter().filter(|p| p.value.re > 0.0).collect();
        let complex = |p: &&EigenPair| p.value.im.abs() > AXIS;
        if unstable.is_empty() {
            return if eig.iter().any(|p| complex(&p)) {
                Stability::StableFocus
            } else {
                Stability::StableNode
            };
        }
        if unstable.len() == eig.len() && !eig.iter().any(|p| complex(&p)) {
            return Stability::UnstableNode;
        }
        if unstable.iter().all(complex) {
            Stability::UnstableFocus
        } else {
            Stability::Saddle
        }
    }
}

impl fmt::Display for Stability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One equilibrium with its linearisation.
#[derive(Debug, Clone, PartialEq)]
pub struct Equilibrium {
    /// Injected current (uA/cm^2).
    pub i_ext: f64,
    /// Index among the equilibria at this current, by increasing V.
    pub index: usize,
    /// State (V in mV, then gates).
    pub state: Vec<f64>,
    /// Max-norm of dy/dt at `state` after polishing.
    pub residual: f64,
    pub jacobian: DMatrix<f64>,
    /// Eigenpairs by decreasing real part.
    pub eigen: Vec<EigenPair>,
    pub stability: Stability,
    pub n_unstable: usize,
}

impl Equilibrium {
    /// The equilibrium at `state` with its Jacobian there: eigenpairs and stability.
    pub(crate) fn from_linearisation(
        i_ext: f64,
        index: usize,
        state: Vec<f64>,
        residual: f64,
        jacobian: DMatrix<f64>,
    ) -> Result<Equilibrium, AnalysisError> {
        let eigen = eigen(&jacobian)?;
        let stability = Stability::classify(&eigen);
        let n_unstable = eigen.iter().filter(|e| e.value.re > 0.0).count();
        Ok(Equilibrium {
            i_ext,
            index,
            state,
            residual,
            jacobian,
            eigen,
            stability,
            n_unstable,
        })
    }
}

/// More roots than this means a degenerate model (a continuum of equilibria), not isolated ones.
pub(crate) const MAX_EQUILIBRIA: usize = 50;

/// All equilibria of `model` at current `i_ext`, by increasing V.
///
/// The gates at steady state reduce the problem to one equation in V, whose roots are
/// bracketed and bisected ([`ConductanceModel::equilibrium_voltages`]); each is then polished
/// by Newton's method on the full system with the exact Jacobian.
pub fn equilibria(model: &ConductanceModel, i_ext: f64) -> Result<Vec<Equilibrium>, AnalysisError> {
    if !i_ext.is_finite() {
        return Err(AnalysisError::BadSetting {
            what: "current".into(),
            value: i_ext,
            allowed: "a finite current in uA/cm^2".into(),
        });
    }
    let p = model.params.values();
    let vs = model.equilibrium_voltages(i_ext);
    if vs.is_empty() {
        return Err(AnalysisError::NoEquilibrium {
            i_ext,
            range: model.v_search_mv,
        });
    }
    if vs.len() > MAX_EQUILIBRIA {
        return Err(AnalysisError::Numerical {
            what: format!("equilibria at {i_ext} uA/cm^2"),
            reason: format!(
                "{} roots: the net current vanishes over a whole voltage range (a continuum of equilibria; is every conductance zero?)",
                vs.len()
            ),
        });
    }
    vs.iter()
        .enumerate()
        .map(|(index, &v)| {
            let state = newton_polish(model, &p, model.state_at_v(v), i_ext);
            let residual = rhs(model, &p, &state, i_ext)
                .iter()
                .fold(0.0f64, |m, x| m.max(x.abs()));
            let jac = jacobian(model, &p, &state, i_ext);
            Equilibrium::from_linearisation(i_ext, index, state, residual, jac)
        })
        .collect()
}

/// A few Newton steps on dy/dt = 0; keeps the start if the Jacobian is singular there (a fold),
/// where the one-dimensional root is already exact to rounding.
fn newton_polish(model: &ConductanceModel, p: &[f64], mut y: Vec<f64>, i_ext: f64) -> Vec<f64> {
    let norm = |y: &[f64]| {
        rhs(model, p, y, i_ext)
            .iter()
            .fold(0.0f64, |m, x| m.max(x.abs()))
    };
    for _ in 0..4 {
        let f = DVector::from_vec(rhs(model, p, &y, i_ext));
        let Some(dx) = jacobian(model, p, &y, i_ext).lu().solve(&(-f)) else {
            break;
        };
        let trial: Vec<f64> = y.iter().zip(dx.iter()).map(|(a, b)| a + b).collect();
        if norm(&trial) < norm(&y) {
            y = trial;
        } else {
            break;
        }
    }
    y
}

/// The stable equilibrium of lowest V at `i_ext`, if any.
pub fn resting_state(
    model: &ConductanceModel,
    i_ext: f64,
) -> Result<Option<Equilibrium>, AnalysisError> {
    Ok(equilibria(model, i_ext)?
        .into_iter()
        .find(|e| e.stability.is_stable()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::builtin;

    #[test]
    fn hh_rest_is_a_stable_focus_and_unstable_at_10() {
        let m = builtin::hh();
        let e0 = equilibria(&m, 0.0).unwrap();
        assert_eq!(e0.len(), 1);
        // Rest of the standard HH model: V = -65.0 mV (to 0.1 mV, the classic value).
        assert!((e0[0].state[0] + 65.0).abs() < 0.1, "{}", e0[0].state[0]);
        assert_eq!(e0[0].stability, Stability::StableFocus);
        assert!(e0[0].residual < 1e-12);
        let e10 = equilibria(&m, 10.0).unwrap();
        assert_eq!(e10[0].stability, Stability::UnstableFocus);
        assert_eq!(e10[0].n_unstable, 2);
        for pair in &e10[0].eigen {
            assert!(pair.residual < 1e-9, "{}", pair.residual);
        }
    }

    #[test]
    fn degenerate_and_singular_cases_are_reported_not_panicked() {
        // No conductance at all: every V is an equilibrium.
        let mut m = builtin::hh();
        for g in ["g_na", "g_k", "g_l"] {
            m.params.set(g, 0.0).unwrap();
        }
        let e = equilibria(&m, 0.0).unwrap_err().to_string();
        assert!(e.contains("continuum of equilibria"), "{e}");
        // Only a leak: one equilibrium whose gates are decoupled; J has a zero row/column block
        // structure but stays regular, so this must classify cleanly.
        let mut leak = builtin::hh();
        for g in ["g_na", "g_k"] {
            leak.params.set(g, 0.0).unwrap();
        }
        let e = equilibria(&leak, 0.0).unwrap();
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].stability, Stability::StableNode);
    }

    #[test]
    fn no_equilibrium_is_a_clear_error() {
        let e = equilibria(&builtin::hh(), 1e6).unwrap_err().to_string();
        assert!(
            e.contains("no equilibrium") && e.contains("runs off"),
            "{e}"
        );
    }
}
