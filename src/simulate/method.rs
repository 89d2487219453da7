//! Integration methods and their settings.

use std::fmt;

/// Update order of forward Euler: which variables see which values within one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EulerOrder {
    /// Every variable from the old state (textbook forward Euler).
    #[default]
    Simultaneous,
    /// V first from the old state, then the gates with the new V (as in `000_…`).
    VFirst,
    /// The gates first from the old V, then V from the old V and the new gates (as in `001_…`).
    GatesFirst,
}

impl EulerOrder {
    /// The order named `simultaneous`, `v-first` or `gates-first` (as the command line and
    /// study files spell it); the error says which names are allowed.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "simultaneous" => Ok(EulerOrder::Simultaneous),
            "v-first" => Ok(EulerOrder::VFirst),
            "gates-first" => Ok(EulerOrder::GatesFirst),
            _ => Err(format!(
                "order '{text}': expected simultaneous, v-first or gates-first"
            )),
        }
    }

    /// The order's name as [`EulerOrder::parse`] reads it (for tables and summaries).
    pub fn name(self) -> &'static str {
        match self {
            EulerOrder::Simultaneous => "simultaneous",
            EulerOrder::VFirst => "v-first",
            EulerOrder::GatesFirst => "gates-first",
        }
    }
}

/// Tolerances of the adaptive Dormand-Prince method.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerances {
    /// Relative tolerance on each state variable, per step.
    pub rtol: f64,
    /// Absolute tolerance on each state variable, per step (in the variable's unit: mV for V).
    pub atol: f64,
}

/// The tolerances when none are given: the command line's defaults, and those a run simulated
/// first (`windows`) takes.
pub const DEFAULT_TOLERANCES: Tolerances = Tolerances {
    rtol: 1e-8,
    atol: 1e-10,
};

impl Default for Tolerances {
    fn default() -> Self {
        DEFAULT_TOLERANCES
    }
}

/// An integration method.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Method {
    /// Forward Euler (order 1) with an update order.
    Euler(EulerOrder),
    /// Exponential Euler (order 1): each variable advanced exactly for the others frozen, as
    /// BrainPy's `exp_auto` does; gates relax exactly to x_inf, V exactly to its frozen-gate value.
    ExpEuler,
    /// Classic fourth-order Runge-Kutta.
    Rk4,
    /// Adaptive Dormand-Prince 5(4) with dense output; `dt` is the output grid.
    Dopri5(Tolerances),
}

impl Method {
    /// The fixed-step method the sweeps (f-I, max rate) use on the general simulator:
    /// exponential Euler (the batch kernel's, and LIF's exact flow), or RK4 for an `.ode` model,
    /// which has no gate structure for exponential Euler to use.
    pub fn for_sweeps(model: &crate::model::Model) -> Method {
        match model {
            crate::model::Model::Ode(_) => Method::Rk4,
            _ => Method::ExpEuler,
        }
    }

    /// Parse a command-line name: `euler`, `exp-euler`, `rk4`, `dopri5`.
    pub fn parse(name: &str, order: EulerOrder, tol: Tolerances) -> Result<Method, String> {
        match name {
            "euler" => Ok(Method::Euler(order)),
            "exp-euler" => Ok(Method::ExpEuler),
            "rk4" => Ok(Method::Rk4),
            "dopri5" => Ok(Method::Dopri5(tol)),
            _ => Err(format!(
                "method '{name}': expected euler, exp-euler, rk4 or dopri5"
            )),
        }
    }

    /// Command-line name.
    pub fn name(&self) -> &'static str {
        match self {
            Method::Euler(_) => "euler",
            Method::ExpEuler => "exp-euler",
            Method::Rk4 => "rk4",
            Method::Dopri5(_) => "dopri5",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Method::Euler(o) => write!(f, "euler ({})", o.name()),
            Method::Dopri5(t) => write!(f, "dopri5 (rtol {:e}, atol {:e})", t.rtol, t.atol),
            m => f.write_str(m.name()),
        }
    }
}
