//! Exact derivatives of the smooth fit targets with respect to model parameters, by implicit
//! differentiation through the conditions that define them.
//!
//! Every smooth target is a component of the solution `z` of a square system `G(z; p) = 0`:
//! - rest at current `I`: `G = f(y, I; p)`, `z = y`, the target `y[0]`;
//! - input resistance at `I`: `z = (y, u)`, `G = (f, J u + f_I)`, the target `u[0] = dV/dI`;
//! - the Hopf current: `z = (y, I, q_re, q_im, w)`, `G` the standard Hopf system
//!   ([`crate::continuation::hopf`]), the target `I`.
//!
//! Differentiating `G(z(p); p) = 0` gives `G_z z' + G_p = 0`, so `z' = -G_z^{-1} G_p`: one LU
//! solve per target for every free parameter at once. `G_z` and `G_p` come from dual and
//! hyper-dual numbers pushed through the model's one generic right-hand side
//! ([`crate::model::VectorField::eval`]), so no derivative is approximated.

use crate::continuation::hopf::{Hopf, augmented_system};
use crate::continuation::{CURRENT, Family};
use crate::error::AnalysisError;
use crate::model::{Field, VectorField};
use nalgebra::{DMatrix, DVector};
use num_dual::{Dual64, HyperDual64};

/// `f(y, i; p)` and its derivative along `(dy, di, dp)` (a directional derivative by one dual
/// sweep).
fn directional(
    field: &Field,
    p: &[f64],
    y: &[f64],
    i: f64,
    dy: &[f64],
    di: f64,
    dp: &[(usize, f64)],
) -> Vec<f64> {
    let mut pt: Vec<Dual64> = p.iter().map(|&x| Dual64::from(x)).collect();
    for &(k, d) in dp {
        pt[k].eps = d;
    }
    let yd: Vec<Dual64> = y.iter().zip(dy).map(|(&a, &b)| Dual64::new(a, b)).collect();
    let mut out = vec![Dual64::from(0.0); y.len()];
    field.eval(&mut pt, &yd, Dual64::new(i, di), &mut out);
    out.iter().map(|o| o.eps).collect()
}

/// The second derivative of `f(y, i; p)` along `(a_y, a_i)` (state and current only) and
/// `(b_y, b_i, b_p)`: one hyper-dual sweep.
#[allow(clippy::too_many_arguments)]
fn second(
    field: &Field,
    p: &[f64],
    y: &[f64],
    i: f64,
    a_y: &[f64],
    a_i: f64,
    b_y: &[f64],
    b_i: f64,
    b_p: &[(usize, f64)],
) -> Vec<f64> {
    let mut pt: Vec<HyperDual64> = p.iter().map(|&x| HyperDual64::from(x)).collect();
    for &(k, d) in b_p {
        pt[k].eps2 = d;
    }
    let yd: Vec<HyperDual64> = (0..y.len())
        .map(|j| HyperDual64::new(y[j], a_y[j], b_y[j], 0.0))
        .collect();
    let mut out = vec![HyperDual64::from(0.0); y.len()];
    field.eval(&mut pt, &yd, HyperDual64::new(i, a_i, b_i, 0.0), &mut out);
    out.iter().map(|o| o.eps1eps2).collect()
}

fn singular(what: &str) -> AnalysisError {
    AnalysisError::Numerical {
        what: what.into(),
        reason: "the linearisation is singular there, so the target has no derivative".into(),
    }
}

/// `J = df/dy` at `(y, i)` (n x n) and `f_I = df/di` (n).
fn jac(field: &Field, p: &[f64], y: &[f64], i: f64) -> (DMatrix<f64>, DVector<f64>) {
    let n = y.len();
    let mut j = DMatrix::zeros(n, n);
    let mut e = vec![0.0; n];
    for c in 0..n {
        e[c] = 1.0;
        let col = directional(field, p, y, i, &e, 0.0, &[]);
        e[c] = 0.0;
        j.set_column(c, &DVector::from_vec(col));
    }
    let fi = DVector::from_vec(directional(field, p, y, i, &e, 1.0, &[]));
    (j, fi)
}

/// `d(rest V)/dp_k` for every free parameter index in `free`, at the equilibrium `y` of
/// current `i`: `-(J^{-1} f_{p_k})[0]`. Also returns `dy/dp` (n x m) for the input resistance.
pub fn rest_gradient(
    field: &Field,
    y: &[f64],
    i: f64,
    free: &[usize],
) -> Result<(Vec<f64>, DMatrix<f64>), AnalysisError> {
    let p = field.params().values();
    let n = y.len();
    let (j, _) = jac(field, &p, y, i);
    let lu = j.lu();
    let zero = vec![0.0; n];
    let mut dy = DMatrix::zeros(n, free.len());
    for (c, &k) in free.iter().enumerate() {
        let fp = DVector::from_vec(directional(field, &p, y, i, &zero, 0.0, &[(k, 1.0)]));
        let d = lu.solve(&(-fp)).ok_or_else(|| singular("rest_mv"))?;
        dy.set_column(c, &d);
    }
    Ok(((0..free.len()).map(|c| dy[(0, c)]).collect(), dy))
}

/// The input resistance `dV/dI` at the equilibrium `y` of current `i` (mV per uA/cm^2 =
/// kOhm cm^2), and its derivative with respect to each free parameter.
pub fn input_resistance(
    field: &Field,
    y: &[f64],
    i: f64,
    free: &[usize],
) -> Result<(f64, Vec<f64>), AnalysisError> {
    let p = field.params().values();
    let (j, fi) = jac(field, &p, y, i);
    let lu = j.clone().lu();
    let u = lu
        .solve(&(-&fi))
        .ok_or_else(|| singular("input_resistance"))?;
    let (_, dy) = rest_gradient(field, y, i, free)?;
    let mut grad = Vec::with_capacity(free.len());
    for (c, &k) in free.iter().enumerate() {
        // d/dp_k of g = J u + f_I along the total direction (dy/dp_k, 0, e_k), u held.
        let yk: Vec<f64> = dy.column(c).iter().copied().collect();
        let dg = DVector::from_vec(second(
            field,
            &p,
            y,
            i,
            u.as_slice(),
            1.0,
            &yk,
            0.0,
            &[(k, 1.0)],
        ));
        let du = lu
            .solve(&(-dg))
            .ok_or_else(|| singular("input_resistance"))?;
        grad.push(du[0]);
    }
    Ok((u[0], grad))
}

/// The derivative of a Hopf point's current with respect to each free parameter: `z' =
/// -G_z^{-1} G_p` on the Hopf system with unknowns `(y, I, q_re, q_im, w)`.
pub fn hopf_gradient(field: &Field, h: &Hopf, free: &[usize]) -> Result<Vec<f64>, AnalysisError> {
    let n = h.state.len();
    let p = field.params().values();
    let fam = Family::of_field(field.clone(), CURRENT, 0.0)?;
    let (y, lam, w) = (&h.state, h.lambda, h.omega);
    // q with A q = i w q: the stored pair, or its conjugate if the sign of w was flipped.
    let a = fam.jacobian(y, lam);
    let (qr, mut qi) = (
        DVector::from_column_slice(&h.q_re),
        DVector::from_column_slice(&h.q_im),
    );
    if (&a * &qr + &qi * w).norm() > (&a * &qr - &qi * w).norm() {
        qi = -qi;
    }
    // Normalisation c in span(q_re, q_im) with c.q_re = 1, c.q_im = 0.
    let g = nalgebra::Matrix2::new(qr.dot(&qr), qr.dot(&qi), qi.dot(&qr), qi.dot(&qi));
    let ab = g
        .lu()
        .solve(&nalgebra::Vector2::new(1.0, 0.0))
        .ok_or_else(|| singular("hopf"))?;
    let c = &qr * ab[0] + &qi * ab[1];
    let (jf, f) = fam.jacobian_full(y, lam);
    let dr = fam.jacobian_times_derivative(y, lam, qr.as_slice());
    let di = fam.jacobian_times_derivative(y, lam, qi.as_slice());
    let (_, m) = augmented_system(&jf, &f, &dr, &di, qr.as_slice(), qi.as_slice(), w, &c);
    let lu = m.lu();
    let zero = vec![0.0; n];
    let mut grad = Vec::with_capacity(free.len());
    for &k in free {
        let mut gp = DVector::zeros(3 * n + 2);
        let fp = directional(field, &p, y, lam, &zero, 0.0, &[(k, 1.0)]);
        let jr = second(
            field,
            &p,
            y,
            lam,
            qr.as_slice(),
            0.0,
            &zero,
            0.0,
            &[(k, 1.0)],
        );
        let ji = second(
            field,
            &p,
            y,
            lam,
            qi.as_slice(),
            0.0,
            &zero,
            0.0,
            &[(k, 1.0)],
        );
        for r in 0..n {
            gp[r] = fp[r];
            gp[n + r] = jr[r];
            gp[2 * n + r] = ji[r];
        }
        let dz = lu.solve(&(-gp)).ok_or_else(|| singular("hopf"))?;
        grad.push(dz[n]);
    }
    Ok(grad)
}
