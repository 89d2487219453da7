//! Where a run starts when the user does not say: the resting state if there is one, and
//! otherwise a stated, reproducible displacement from the lowest equilibrium.
//!
//! An integrator started exactly on an unstable equilibrium stays there or leaves it by
//! round-off, so the answer depends on the method: HH with g_K = 5, E_K = -80 rests for ever
//! under RK4 and fires at 65 Hz under Dormand-Prince. Every default start that is not a
//! stable rest is therefore moved by [`UNSTABLE_START_KICK`] in V, the same for every
//! integrator, and says so ([`StartKind`]'s words go into summaries and sweep tables).

use super::{Equilibrium, Model, Quantity, Stability};
use crate::error::Error;
use std::fmt;

/// The displacement in V (mV, or the file's voltage unit) of a start on an unstable
/// equilibrium: a thousandth of a millivolt, far below any spike and far above round-off,
/// so the trajectory leaves along the unstable directions within a few of their time
/// constants, the same under every integrator.
pub const UNSTABLE_START_KICK: f64 = 1e-3;

/// What a default start is.
#[derive(Debug, Clone, PartialEq)]
pub enum StartKind {
    /// The stable equilibrium of lowest V (for LIF, `v_rest`).
    Rest,
    /// No stable equilibrium: the lowest equilibrium, with V raised by
    /// [`UNSTABLE_START_KICK`].
    Displaced {
        /// V of the equilibrium before the displacement.
        v: f64,
        /// Its type (a saddle, an unstable focus or node).
        stability: Stability,
        /// The model's voltage unit (`mV`, or none for a file without units).
        unit: &'static str,
    },
}

/// A start state and what it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Start {
    /// The state (V first).
    pub state: Vec<f64>,
    /// Rest, or a displaced unstable equilibrium.
    pub kind: StartKind,
}

impl StartKind {
    /// A stable resting state.
    pub fn is_rest(&self) -> bool {
        matches!(self, StartKind::Rest)
    }
}

impl fmt::Display for StartKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartKind::Rest => write!(f, "resting state"),
            StartKind::Displaced { v, stability, unit } => write!(
                f,
                "no stable resting state: the {} at V = {}, displaced by +{}",
                stability.name(),
                Quantity((v * 1e4).round() / 1e4, unit),
                Quantity(UNSTABLE_START_KICK, unit)
            ),
        }
    }
}

impl Model {
    /// The default start at injected current `i_ext`: the resting state ([`Model::rest`]) if
    /// one exists, else the lowest equilibrium displaced by [`UNSTABLE_START_KICK`]. An error
    /// only where the model has no equilibrium at all (or no smooth field).
    pub fn start_at(&self, i_ext: f64) -> Result<Start, Error> {
        if let Model::Lif(m) = self {
            return Ok(Start {
                state: vec![m.values().v_rest],
                kind: StartKind::Rest,
            });
        }
        Ok(start_among(&self.equilibria(i_ext)?, self.units().voltage))
    }
}

/// The start among the equilibria at one current (sorted by V, at least one).
fn start_among(all: &[Equilibrium], unit: &'static str) -> Start {
    match all.iter().find(|e| e.stability.is_stable()) {
        Some(e) => Start {
            state: e.state.clone(),
            kind: StartKind::Rest,
        },
        None => {
            let e = &all[0];
            let mut state = e.state.clone();
            state[0] += UNSTABLE_START_KICK;
            Start {
                state,
                kind: StartKind::Displaced {
                    v: e.state[0],
                    stability: e.stability,
                    unit,
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// HH with g_K = 5, E_K = -80 has one equilibrium, an unstable focus near -33.64 mV: the
    /// start is that state with V raised by the kick, and says so.
    #[test]
    fn an_unstable_only_equilibrium_is_displaced_and_named() {
        let m = Model::builtin("hh")
            .unwrap()
            .with("g_k", 5.0)
            .unwrap()
            .with("e_k", -80.0)
            .unwrap();
        let s = m.start_at(0.0).unwrap();
        let StartKind::Displaced { v, stability, .. } = s.kind.clone() else {
            panic!("{:?}", s.kind)
        };
        assert!((v + 33.6397).abs() < 1e-3, "{v}");
        assert_eq!(stability, Stability::UnstableFocus);
        assert!((s.state[0] - v - UNSTABLE_START_KICK).abs() < 1e-12);
        assert!(
            s.kind
                .to_string()
                .contains("unstable focus at V = -33.6397 mV, displaced by +0.001 mV")
        );
        let rest = Model::builtin("hh").unwrap().start_at(0.0).unwrap();
        assert!(rest.kind.is_rest());
        assert!((rest.state[0] + 65.0).abs() < 0.1, "{:?}", rest.state);
    }
}
