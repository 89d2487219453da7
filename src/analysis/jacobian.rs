//! Exact derivatives of the model's right-hand side by forward-mode dual numbers: the same
//! equations the simulators integrate, differentiated to machine precision (no step size).

use crate::model::ConductanceModel;
use nalgebra::DMatrix;
use num_dual::Dual64;

/// `dy/dt` at state `y` (f64), parameters `p`, current `i_ext`.
pub fn rhs(model: &ConductanceModel, p: &[f64], y: &[f64], i_ext: f64) -> Vec<f64> {
    let mut dy = vec![0.0; y.len()];
    model.rhs(p, y, i_ext, &mut dy);
    dy
}

/// The Jacobian `d(dy/dt)/dy` (1/ms) at state `y`: one dual-number sweep per column.
pub fn jacobian(model: &ConductanceModel, p: &[f64], y: &[f64], i_ext: f64) -> DMatrix<f64> {
    let pd: Vec<Dual64> = p.iter().map(|&x| Dual64::from(x)).collect();
    dual_jacobian(y, |yd, dy| model.rhs(&pd, yd, Dual64::from(i_ext), dy))
}

/// The Jacobian of any right-hand side `f(y, dy)` written over dual numbers, at `y`: one
/// forward sweep per column (shared by the conductance models and `.ode` models).
pub fn dual_jacobian(y: &[f64], mut f: impl FnMut(&[Dual64], &mut [Dual64])) -> DMatrix<f64> {
    let n = y.len();
    let mut yd: Vec<Dual64> = y.iter().map(|&x| Dual64::from(x)).collect();
    let mut dy = vec![Dual64::from(0.0); n];
    let mut j = DMatrix::zeros(n, n);
    for col in 0..n {
        yd[col].eps = 1.0;
        f(&yd, &mut dy);
        yd[col].eps = 0.0;
        for row in 0..n {
            j[(row, col)] = dy[row].eps;
        }
    }
    j
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::builtin;

    #[test]
    fn exact_jacobian_matches_central_differences() {
        // Central differences with h = 1e-6 (relative) are accurate to ~1e-8 relative here; the
        // exact Jacobian must agree to that, entry by entry, at a state away from rest and at a
        // linoid singularity (V = -40 mV, where alpha_m is 0/0 in naive code).
        for model in [builtin::hh(), builtin::hh_ca(), builtin::hh_1952()] {
            let p = model.params.values();
            for v in [-40.0, -20.3, 10.0] {
                let mut y = model.state_at_v(v);
                y.iter_mut()
                    .skip(1)
                    .for_each(|g| *g = (*g * 0.7 + 0.1).min(0.99));
                let j = jacobian(&model, &p, &y, 7.0);
                for col in 0..y.len() {
                    let h = 1e-6 * y[col].abs().max(1e-2);
                    let (mut a, mut b) = (y.clone(), y.clone());
                    a[col] += h;
                    b[col] -= h;
                    let (fa, fb) = (rhs(&model, &p, &a, 7.0), rhs(&model, &p, &b, 7.0));
                    for row in 0..y.len() {
                        let fd = (fa[row] - fb[row]) / (2.0 * h);
                        let scale = j[(row, col)].abs().max(1e-3);
                        assert!(
                            (fd - j[(row, col)]).abs() < 1e-6 * scale,
                            "{} V={v} J[{row},{col}]: {} vs {fd}",
                            model.name,
                            j[(row, col)]
                        );
                    }
                }
            }
        }
    }
}
