//! Phase planes: the nullclines and the direction field of a planar system.
//!
//! - A model with two state variables (Morris-Lecar, FitzHugh-Nagumo, Rinzel's reduction, any
//!   `.ode` or TOML model of dimension 2) is its own plane: its nullclines are the exact zero
//!   sets of its two components ([`super::zero_set`]).
//! - A model that declares the usual reduction of Hodgkin-Huxley (Rinzel 1985: m at its steady
//!   state, h tied to n by `h = 0.89 - 1.1 n`) is drawn in (V, n) with the reduced system's
//!   nullclines. The relation was fitted to HH's kinetics, so only models whose gates are HH's
//!   (the built-in `hh` and `hh-1952`, or a file with the same gates) declare it.
//! - Any other model is shown as a projection of its trajectory, without nullclines: they are
//!   not curves of a projection.

use super::zero_set::zero_set;
use crate::model::builtin;
use crate::model::{ConductanceModel, Field, Model, VectorField};

/// How a plane is made from a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaneKind {
    /// The model has two variables: the plane is its whole state space.
    Exact,
    /// The reduced (V, n) system of a model with HH's gates.
    HhReduction,
    /// A projection of the trajectory on two variables; no nullclines.
    Projection,
}

impl PlaneKind {
    /// How the plane was made, in words (for the figure and the summary).
    pub fn describe(self) -> &'static str {
        match self {
            PlaneKind::Exact => "the model's own plane: exact nullclines",
            PlaneKind::HhReduction => {
                "the reduced (V, n) system (m at its steady state, h = 0.89 - 1.1 n) under the full model's trajectory"
            }
            PlaneKind::Projection => {
                "a projection of the trajectory: a model of more than two variables has no nullclines in a plane of two of them"
            }
        }
    }
}

/// h as a function of n in the reduction.
pub fn h_of_n(n: f64) -> f64 {
    (0.89 - 1.1 * n).clamp(0.0, 1.0)
}

/// Whether `model` has HH's gates (m, h, n with HH's rates, in either voltage convention), the
/// models the (V, n) reduction was fitted to.
pub fn declares_hh_reduction(model: &ConductanceModel) -> bool {
    [builtin::hh(), builtin::hh_1952()]
        .iter()
        .any(|hh| hh.gates == model.gates)
}

/// The plane of `model`, with `y` the second variable's index: what it can draw.
pub fn plane_kind(model: &Model, y: usize) -> PlaneKind {
    match model {
        Model::Conductance(m) if m.dim() == 2 => PlaneKind::Exact,
        Model::Ode(m) if m.vars.len() == 2 => PlaneKind::Exact,
        Model::Conductance(m)
            if declares_hh_reduction(m) && m.var_names().get(y).is_some_and(|n| n == "n") =>
        {
            PlaneKind::HhReduction
        }
        _ => PlaneKind::Projection,
    }
}

/// A planar field: `(x, y)` to `(dx/dt, dy/dt)`.
pub type PlanarField = Box<dyn Fn(f64, f64) -> (f64, f64) + Send + Sync>;

/// The planar field `(dx/dt, dy/dt)` at `(x, y)` of a plane of kind `kind` (none for a
/// projection), at injected current `i_ext`.
pub fn planar_field(
    model: &Model,
    kind: PlaneKind,
    y_index: usize,
    i_ext: f64,
) -> Option<PlanarField> {
    match kind {
        PlaneKind::Projection => None,
        PlaneKind::Exact => {
            let field = Field::of(model).ok()?;
            let p = field.params().values();
            Some(Box::new(move |x, y| {
                let mut p = p.clone();
                let mut out = [0.0; 2];
                field.eval(&mut p, &[x, y], i_ext, &mut out);
                (out[0], out[1])
            }))
        }
        PlaneKind::HhReduction => {
            let Model::Conductance(m) = model else {
                return None;
            };
            let m = m.clone();
            let ih = m.gates.iter().position(|g| g.name == "h")? + 1;
            let p = m.params.values();
            Some(Box::new(move |v, n| {
                let mut y = m.state_at_v(v);
                y[ih] = h_of_n(n);
                y[y_index] = n;
                let mut p = p.clone();
                let mut out = vec![0.0; y.len()];
                m.eval(&mut p, &y, i_ext, &mut out);
                (out[0], out[y_index])
            }))
        }
    }
}

/// The nullclines of a planar field over a box, as polylines of exact zeros.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Nullclines {
    /// Where dx/dt = 0.
    pub x: Vec<Vec<(f64, f64)>>,
    /// Where dy/dt = 0.
    pub y: Vec<Vec<(f64, f64)>>,
}

/// Cells per side of the grid the nullclines are traced on.
pub const NULLCLINE_CELLS: usize = 240;

/// The nullclines of `field` over `[x.0, x.1] × [y.0, y.1]`.
pub fn nullclines(
    field: &(dyn Fn(f64, f64) -> (f64, f64) + Send + Sync),
    x: (f64, f64),
    y: (f64, f64),
) -> Nullclines {
    Nullclines {
        x: zero_set(&|a, b| field(a, b).0, x, y, NULLCLINE_CELLS),
        y: zero_set(&|a, b| field(a, b).1, x, y, NULLCLINE_CELLS),
    }
}

/// The field on an `n × n` grid of the box (cell centres): `(x, y, dx/dt, dy/dt)`.
pub fn direction_field(
    field: &(dyn Fn(f64, f64) -> (f64, f64) + Send + Sync),
    x: (f64, f64),
    y: (f64, f64),
    n: usize,
) -> Vec<(f64, f64, f64, f64)> {
    let at = |r: (f64, f64), k: usize| r.0 + (r.1 - r.0) * (k as f64 + 0.5) / n as f64;
    (0..n)
        .flat_map(|i| (0..n).map(move |j| (i, j)))
        .map(|(i, j)| {
            let (a, b) = (at(x, i), at(y, j));
            let (da, db) = field(a, b);
            (a, b, da, db)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reduced_nullclines_cross_near_the_reduced_rest_state() {
        let hh = Model::builtin("hh").unwrap();
        let y = 3;
        assert_eq!(plane_kind(&hh, y), PlaneKind::HhReduction);
        let f = planar_field(&hh, PlaneKind::HhReduction, y, 0.0).unwrap();
        let nc = nullclines(f.as_ref(), (-80.0, 40.0), (0.0, 1.0));
        // At the full model's rest (-65.0 mV) the reduced V-nullcline passes close to n_inf.
        let Model::Conductance(m) = &hh else { panic!() };
        let n_inf = m.gates[2].inf_tau(-65.0).0;
        let near =
            nc.x.iter()
                .flatten()
                .filter(|(v, _)| (v + 65.0).abs() < 0.3)
                .any(|(_, n)| (n - n_inf).abs() < 0.02);
        assert!(near, "no V-nullcline point near (-65, {n_inf})");
        // The n-nullcline is n_inf(V), exactly.
        for &(v, n) in nc.y.iter().flatten() {
            assert!((n - m.gates[2].inf_tau(v).0).abs() < 1e-9, "({v}, {n})");
        }
    }

    #[test]
    fn only_models_with_hh_gates_declare_the_reduction() {
        for (name, kind) in [
            ("hh", PlaneKind::HhReduction),
            ("hh-1952", PlaneKind::HhReduction),
            ("hh-ca", PlaneKind::Projection),
        ] {
            let m = Model::builtin(name).unwrap();
            let y = m.var_names().iter().position(|n| n == "n").unwrap();
            assert_eq!(plane_kind(&m, y), kind, "{name}");
        }
    }
}
