//! Folds (limit points, saddle-nodes) of equilibria: Newton on `f = 0`, `J v = 0`, `c.v = 1`.

use super::system::Family;
use crate::numerics::newton::{NewtonFailure, newton};
use nalgebra::{DMatrix, DVector};

/// A fold of the equilibrium branch, refined.
#[derive(Debug, Clone, PartialEq)]
pub struct Fold {
    /// The continued parameter, in its own unit ([`crate::continuation::Knob::unit`]).
    pub lambda: f64,
    /// The equilibrium state `[V, gates…]` (V in mV; file units for an `.ode` model).
    pub state: Vec<f64>,
    /// Null vector of the Jacobian (unit length).
    pub null_vector: Vec<f64>,
}

/// Refine a fold from a guess `(y, lambda)` and an approximate null vector `v`.
pub fn refine(fam: &Family, y: &[f64], lambda: f64, v: &[f64]) -> Result<Fold, NewtonFailure> {
    let n = y.len();
    let vn = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    let c = DVector::from_iterator(n, v.iter().map(|x| x / vn));
    let mut x0 = DVector::zeros(2 * n + 1);
    for i in 0..n {
        x0[i] = y[i];
        x0[n + 1 + i] = c[i];
    }
    x0[n] = lambda;
    let system = |x: &DVector<f64>| {
        let ys = &x.as_slice()[..n];
        let lam = x[n];
        let vv = &x.as_slice()[n + 1..];
        let (jf, f) = fam.jacobian_full(ys, lam);
        let a = jf.columns(0, n);
        let jv = a * DVector::from_column_slice(vv);
        let mut g = DVector::zeros(2 * n + 1);
        let mut m = DMatrix::zeros(2 * n + 1, 2 * n + 1);
        for i in 0..n {
            g[i] = f[i];
            g[n + i] = jv[i];
        }
        g[2 * n] = c.dot(&DVector::from_column_slice(vv)) - 1.0;
        m.view_mut((0, 0), (n, n + 1)).copy_from(&jf);
        m.view_mut((n, 0), (n, n + 1))
            .copy_from(&fam.jacobian_times_derivative(ys, lam, vv));
        m.view_mut((n, n + 1), (n, n)).copy_from(&a);
        for i in 0..n {
            m[(2 * n, n + 1 + i)] = c[i];
        }
        (g, m)
    };
    let (x, _) = newton(system, x0, 1e-14, 30)?;
    let vv = &x.as_slice()[n + 1..];
    let norm = vv.iter().map(|x| x * x).sum::<f64>().sqrt();
    Ok(Fold {
        lambda: x[n],
        state: x.as_slice()[..n].to_vec(),
        null_vector: vv.iter().map(|x| x / norm).collect(),
    })
}
