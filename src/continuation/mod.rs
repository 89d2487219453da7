//! Continuation: equilibrium branches, their folds and Hopf points (with the first Lyapunov
//! coefficient), periodic-orbit branches by orthogonal collocation with Floquet multipliers,
//! folds of cycles, period doubling and torus points, and two-parameter curves of Hopf and
//! fold points. The methods are AUTO-07p's (Doedel et al.), written for exact derivatives.

pub mod adjoint;
pub mod branch_point;
pub mod branch_switch;
pub mod codim2;
pub mod codim2_cycles;
pub mod collocation;
pub mod cycle_ends;
pub mod cycles;
pub mod diagram;
pub mod equilibria;
pub mod floquet;
pub mod fold;
pub mod hopf;
pub mod orbit_from_simulation;
pub mod special;
pub mod system;

pub use crate::model::Field;
pub use special::{SpecialKind, SpecialPoint};
pub use system::{CURRENT, Family, Knob};

use crate::error::SpecError;

/// The fewest points a branch may be limited to (`max_points`).
pub const MIN_POINTS: usize = 10;

/// The most points a branch may be limited to (`max_points`): 10^6, a branch of equilibria or
/// cycles far longer than any diagram needs, and within memory (a cycle point holds its whole
/// collocation mesh).
pub const MAX_POINTS: usize = 1_000_000;

/// Refuse a branch-length limit outside [`MIN_POINTS`]..=[`MAX_POINTS`].
pub fn check_max_points(max_points: usize) -> Result<(), SpecError> {
    if !(MIN_POINTS..=MAX_POINTS).contains(&max_points) {
        return Err(SpecError::new(
            "max_points",
            max_points,
            format!("{MIN_POINTS}..={MAX_POINTS} points per branch"),
        ));
    }
    Ok(())
}

/// How far from a parameter value a located point still counts as on it: the corrector's
/// reach, relative to the value. The one rule of every continuation for a range's end (a
/// branch's last point located there) and of a point located at a requested value (the f-I
/// overlay's orbits at the grid's currents).
pub fn parameter_eps(value: f64) -> f64 {
    1e-9 * (1.0 + value.abs())
}

/// Whether `l` lies beyond `[lo, hi]` by more than [`parameter_eps`].
pub fn outside_range(l: f64, (lo, hi): (f64, f64)) -> bool {
    l < lo - parameter_eps(lo) || l > hi + parameter_eps(hi)
}

/// Step-size and accuracy settings shared by the continuations.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Largest arclength step; `None`: 1/100 of the parameter range.
    pub ds_max: Option<f64>,
    /// Newton tolerance on the step (relative max-norm).
    pub tol: f64,
    /// Points per branch at most (at least [`MIN_POINTS`]).
    pub max_points: usize,
}

impl Settings {
    /// Check every setting: `ds_max` (when given) and `tol` finite and > 0, `max_points` at
    /// least [`MIN_POINTS`].
    pub fn validate(&self) -> Result<(), SpecError> {
        if let Some(ds) = self.ds_max
            && !(ds.is_finite() && ds > 0.0)
        {
            return Err(SpecError::new("ds_max", ds, "a finite number > 0"));
        }
        if !(self.tol.is_finite() && self.tol > 0.0) {
            return Err(SpecError::new("tol", self.tol, "a finite number > 0"));
        }
        check_max_points(self.max_points)
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            ds_max: None,
            tol: 1e-10,
            max_points: 2000,
        }
    }
}

/// Why a branch ended, with the parameter value there.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stop {
    /// The branch reached an end of the parameter range (the value there).
    LeftRange(f64),
    /// The branch hit its point limit (`max_points`, the number of points).
    MaxPoints(usize),
    /// A cycle branch hit its point limit, or its corrector failed at the smallest step,
    /// while its last half wound at one parameter value ([`cycle_ends::winding`]): more points
    /// or shorter steps are unlikely to take it further (not measured beyond 2000 points).
    Winding {
        /// The points it holds.
        points: usize,
        /// The parameter value it winds at.
        at: f64,
    },
    /// Newton's corrector failed even at the smallest step (the parameter where it failed).
    CorrectorFailed(f64),
    /// The extended (bordered) Jacobian became singular (the parameter there).
    Singular(f64),
    /// The state left the plausible range, |V| above [`crate::model::V_LIMIT`] (the
    /// parameter there).
    Diverged(f64),
    /// A cycle branch shrank onto an equilibrium at a Hopf point.
    ReachedHopf(f64),
    /// A cycle branch's period grew without bound: the approach to a SNIC or a saddle
    /// homoclinic orbit, or neither ([`cycle_ends`] classifies it, in the notes).
    PeriodUnbounded(f64),
    /// The caller's observer stopped the run.
    Cancelled(f64),
    /// A branch of doubled-period cycles ([`cycles::from_period_doubling`]) became the
    /// primary cycle traversed twice: it met the primary branch again, at another period
    /// doubling (the parameter there).
    BackOnPrimary(f64),
    /// An equilibrium branch came back to its first point: a closed curve (an isola, such as
    /// the two points of a SNIC circle between its folds), complete (the parameter there).
    ClosedLoop(f64),
}

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stop::LeftRange(l) => write!(f, "left the parameter range at {l:.6}"),
            Stop::MaxPoints(n) => write!(f, "stopped after {n} points (raise the limit)"),
            Stop::Winding { points, at } => write!(
                f,
                "stopped after {points} points winding near {at:.8}: the last half of them moved the parameter by less than 1e-6 (relative), so more points or shorter steps are unlikely to take it further (see the notes)"
            ),
            Stop::CorrectorFailed(l) => {
                write!(
                    f,
                    "the corrector failed at {l:.6} even with the smallest step"
                )
            }
            Stop::Singular(l) => write!(f, "the extended system became singular at {l:.6}"),
            Stop::Diverged(l) => write!(
                f,
                "the state ran off (|V| > {}) at {l:.6}",
                crate::model::V_LIMIT
            ),
            Stop::ReachedHopf(l) => write!(f, "ended on the Hopf point at {l:.6}"),
            Stop::Cancelled(l) => write!(f, "stopped by the caller at {l:.6}"),
            Stop::BackOnPrimary(l) => write!(
                f,
                "met the branch of the primary cycle again at {l:.6} (a period doubling there)"
            ),
            Stop::ClosedLoop(l) => write!(
                f,
                "came back to its first point at {l:.6}: a closed curve, complete"
            ),
            Stop::PeriodUnbounded(l) => write!(
                f,
                "the period grew without bound near {l:.6} (the notes say what kind of end it is)"
            ),
        }
    }
}
