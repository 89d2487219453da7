//! A model as a one-parameter family of vector fields `f(y, lambda)`: the object every
//! continuation works on. The continued parameter is the injected current or any model
//! parameter by name; all derivatives (Jacobian, d/dlambda, the second and third multilinear
//! forms of the Hopf normal form) come from dual numbers through the same generic right-hand
//! side the simulators integrate, except the Jacobians (of the collocation, equilibria, Hopf
//! points and folds): an `.ode` model's on jets of its bytecode, a conductance model's written
//! out by the chain rule from its rates' slopes ([`ConductanceModel::jacobian_into`]), both exact and
//! equal to the dual numbers' up to rounding.

use crate::error::AnalysisError;
use crate::model::conductance_jacobian::Direction;
use crate::model::{ConductanceModel, Scalar};
use crate::model::{Field, VectorField};
use nalgebra::{DMatrix, DVector};
use num_dual::{Dual64, HyperDual64, HyperHyperDual64};

/// Name of the injected current as a continuation parameter.
pub const CURRENT: &str = "i_ext";

/// Which quantity is the continuation parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Knob {
    /// The injected current `i_ext` (uA/cm^2).
    Current,
    /// A model parameter, by its index in the model's [`crate::model::ParamSet`].
    Param(usize),
}

impl Knob {
    /// The unit of this quantity in `field`: the model's current unit for the injected
    /// current, the parameter's own unit otherwise; empty (print none) for a model without
    /// units (an `.ode` file) and for a dimensionless parameter.
    pub fn unit(self, field: &Field) -> &str {
        if !field.units().known() {
            return "";
        }
        match self {
            Knob::Current => field.units().current,
            Knob::Param(k) => match field.params().param(k).unit.as_str() {
                "1" => "",
                u => u,
            },
        }
    }
}

/// Dual-number buffers for [`Family::jacobian_full_into`].
pub(crate) struct DualScratch {
    pt: Vec<Dual64>,
    yd: Vec<Dual64>,
    out: Vec<Dual64>,
}

impl DualScratch {
    /// Buffers for a state of dimension `n` of `fam`, its parameters already converted.
    pub(crate) fn new(fam: &Family, n: usize) -> DualScratch {
        DualScratch {
            pt: fam.params_as(),
            yd: vec![Dual64::from(0.0); n],
            out: vec![Dual64::from(0.0); n],
        }
    }
}

/// `f(y, lambda)` for one model with every other parameter frozen.
#[derive(Debug, Clone)]
pub struct Family {
    /// The model's equations.
    pub field: Field,
    /// Parameter values (the continued one, if a model parameter, is overwritten by lambda).
    pub p: Vec<f64>,
    /// Injected current when it is not the continued parameter (uA/cm^2).
    pub i_ext: f64,
    /// Which quantity lambda is: the current or one parameter.
    pub knob: Knob,
}

impl Family {
    /// A family over `name` (`i_ext` or a parameter of `model`), other values as in the model.
    pub fn new(model: &ConductanceModel, name: &str, i_ext: f64) -> Result<Family, AnalysisError> {
        Family::of_field(Field::Conductance(model.clone()), name, i_ext)
    }

    /// A family over `name` (`i_ext` or a parameter of `field`), other values as in the model.
    pub fn of_field(field: Field, name: &str, i_ext: f64) -> Result<Family, AnalysisError> {
        let params = field.params();
        let allowed = || {
            let current = if field.has_current() {
                format!("{CURRENT} or ")
            } else {
                String::new()
            };
            format!(
                "{current}a parameter of {}: {}",
                field.name(),
                params.names().join(", ")
            )
        };
        let knob = if name == CURRENT && field.has_current() {
            Knob::Current
        } else {
            Knob::Param(
                params
                    .index(name)
                    .ok_or_else(|| AnalysisError::UnknownParameter {
                        name: name.to_string(),
                        allowed: allowed(),
                    })?,
            )
        };
        field.check_current(i_ext)?;
        // An .ode file autonomous only because the continued parameter switches its forcing
        // off (fhn.ode's `al = 0`) stops being so along the branch.
        if let (Field::Ode(m), Knob::Param(k)) = (&field, &knob) {
            let free: Vec<usize> = std::iter::once(*k).chain(m.current_param()).collect();
            if m.reads_time_with(&params.values(), &free) {
                return Err(AnalysisError::NoField {
                    model: m.name.clone(),
                    reason: format!(
                        "reads t unless '{name}' keeps its value (it switches a forcing term off), so '{name}' cannot be continued"
                    ),
                });
            }
        }
        Ok(Family {
            p: params.values(),
            field,
            i_ext,
            knob,
        })
    }

    /// Dimension of the state.
    pub fn dim(&self) -> usize {
        self.field.dim()
    }

    /// Name of the continued quantity.
    pub fn knob_name(&self) -> String {
        match self.knob {
            Knob::Current => CURRENT.to_string(),
            Knob::Param(k) => self.field.params().param(k).name.clone(),
        }
    }

    /// The unit of the continued quantity ([`Knob::unit`]; empty for a model without units).
    pub fn unit(&self) -> &str {
        self.knob.unit(&self.field)
    }

    /// The value of the continued quantity in the frozen model.
    pub fn base_value(&self) -> f64 {
        match self.knob {
            Knob::Current => self.i_ext,
            Knob::Param(k) => self.p[k],
        }
    }

    /// The parameters as `T`, ready for [`Family::eval_with`]; build once per assembly.
    pub fn params_as<T: Scalar>(&self) -> Vec<T> {
        self.p.iter().map(|&x| T::from(x)).collect()
    }

    /// `f(y, lambda)` into `out`, with `pt` from [`Family::params_as`] (overwritten in place when
    /// lambda is a model parameter).
    #[inline]
    pub fn eval_with<T: Scalar>(&self, pt: &mut [T], y: &[T], lambda: T, out: &mut [T]) {
        let i_ext = self.set_knob(pt, lambda);
        self.field.eval(pt, y, i_ext, out)
    }

    /// Put `lambda` where the knob turns: the injected current to pass (`lambda` itself when
    /// the knob is the current), or the continued parameter in `pt` and the fixed current.
    #[inline]
    fn set_knob<T: Scalar>(&self, pt: &mut [T], lambda: T) -> T {
        match self.knob {
            Knob::Current => lambda,
            Knob::Param(k) => {
                pt[k] = lambda;
                T::from(self.i_ext)
            }
        }
    }

    /// [`Family::eval_with`] on plain numbers through [`Field::eval_f64`] (`slots`: its
    /// reusable buffer).
    pub fn eval_f64(
        &self,
        pt: &mut [f64],
        y: &[f64],
        lambda: f64,
        out: &mut [f64],
        slots: &mut Vec<f64>,
    ) {
        let i_ext = self.set_knob(pt, lambda);
        self.field.eval_f64(pt, y, i_ext, out, slots)
    }

    /// `f(y, lambda)` in plain numbers.
    pub fn f(&self, y: &[f64], lambda: f64) -> DVector<f64> {
        let mut pt = self.p.clone();
        let mut out = vec![0.0; y.len()];
        self.eval_with(&mut pt, y, lambda, &mut out);
        DVector::from_vec(out)
    }

    /// `[df/dy | df/dlambda]` (n x (n+1)) and `f`, exact (`Family::jacobian_full_into`).
    pub fn jacobian_full(&self, y: &[f64], lambda: f64) -> (DMatrix<f64>, DVector<f64>) {
        let n = y.len();
        let mut scratch = DualScratch::new(self, n);
        let mut j = DMatrix::zeros(n, n + 1);
        let mut f = vec![0.0; n];
        self.jacobian_full_into(&mut scratch, y, lambda, &mut j, &mut f);
        (j, DVector::from_vec(f))
    }

    /// [`Family::jacobian_full`] into caller-owned buffers (no allocation once warm): by jets
    /// for an `.ode` model where they apply, by the chain rule for a conductance model, else by
    /// dual numbers. The collocation calls
    /// [`Family::jacobians_full_into`], its points together.
    pub(crate) fn jacobian_full_into(
        &self,
        scratch: &mut DualScratch,
        y: &[f64],
        lambda: f64,
        j: &mut DMatrix<f64>,
        f: &mut [f64],
    ) {
        self.jacobians_full_into(scratch, y, lambda, std::slice::from_mut(j), f);
    }

    /// [`Family::jacobian_full_into`] at several states (`ys`: `js.len()` states of n values
    /// one after the other; `fs` likewise): an `.ode` model's bytecode runs on all of them at
    /// once ([`crate::model::ode::OdeModel::jacobians_into`]), the same numbers as one at a
    /// time. The collocation calls it with an interval's collocation points.
    pub(crate) fn jacobians_full_into(
        &self,
        scratch: &mut DualScratch,
        ys: &[f64],
        lambda: f64,
        js: &mut [DMatrix<f64>],
        fs: &mut [f64],
    ) {
        if js.is_empty()
            || self.jacobians_by_jets(ys, lambda, js, fs)
            || self.jacobians_by_chain_rule(ys, lambda, js, fs)
        {
            return;
        }
        let n = ys.len() / js.len();
        debug_assert_eq!((ys.len(), fs.len()), (n * js.len(), n * js.len()));
        for (k, j) in js.iter_mut().enumerate() {
            let at = k * n..(k + 1) * n;
            self.jacobian_by_duals(scratch, &ys[at.clone()], lambda, j, &mut fs[at]);
        }
    }

    /// A conductance model's Jacobians written out by the chain rule
    /// ([`ConductanceModel::jacobian_into`]: its fixed shape needs only each rate's slope, about
    /// a third of the dual numbers' work); `false`, nothing written, for any other field.
    fn jacobians_by_chain_rule(
        &self,
        ys: &[f64],
        lambda: f64,
        js: &mut [DMatrix<f64>],
        fs: &mut [f64],
    ) -> bool {
        let Field::Conductance(m) = &self.field else {
            return false;
        };
        let n = m.dim();
        let last = match self.knob {
            Knob::Current => Direction::Current,
            Knob::Param(k) => Direction::Param(k),
        };
        self.at_knob(lambda, |p, i_ext| {
            for (k, j) in js.iter_mut().enumerate() {
                let at = k * n..(k + 1) * n;
                m.jacobian_into(p, &ys[at.clone()], i_ext, last, j, &mut fs[at]);
            }
        });
        true
    }

    /// `f` on the family's parameter values with `lambda` put where the knob turns, in the
    /// thread's reused buffer ([`crate::numerics::scratch`]), and the injected current to pass
    /// ([`Family::set_knob`]).
    fn at_knob<R>(&self, lambda: f64, f: impl FnOnce(&mut [f64], f64) -> R) -> R {
        crate::numerics::scratch::with_scratch(|p: &mut Vec<f64>| {
            p.clear();
            p.extend_from_slice(&self.p);
            let i_ext = self.set_knob(p, lambda);
            f(p, i_ext)
        })
    }

    /// An `.ode` field's Jacobians on jets ([`Family::jacobians_full_into`]); `false` where
    /// jets do not apply (not an `.ode` field, or one [`crate::model::ode::OdeModel::jacobians_into`]
    /// refuses), nothing written then.
    fn jacobians_by_jets(
        &self,
        ys: &[f64],
        lambda: f64,
        js: &mut [DMatrix<f64>],
        fs: &mut [f64],
    ) -> bool {
        let Field::Ode(m) = &self.field else {
            return false;
        };
        self.at_knob(lambda, |pf, current| {
            let dparam = match self.knob {
                Knob::Current => m.current_param(),
                Knob::Param(k) => Some(k),
            };
            if let Some(c) = m.current_param() {
                pf[c] += current;
            }
            m.jacobians_into(pf, ys, dparam, js, fs)
        })
    }

    /// [`Family::jacobian_full_into`] on dual numbers: one sweep of all n+1 directions up to
    /// 11 state variables, else a sweep per direction.
    fn jacobian_by_duals(
        &self,
        scratch: &mut DualScratch,
        y: &[f64],
        lambda: f64,
        j: &mut DMatrix<f64>,
        f: &mut [f64],
    ) {
        let n = y.len();
        // Up to 11 state variables: all n+1 directions in one sweep.
        macro_rules! one_sweep {
            ($($m:literal)*) => {
                match n + 1 {
                    $($m => return self.jacobian_one_sweep::<$m>(y, lambda, j, f),)*
                    _ => {}
                }
            };
        }
        one_sweep!(2 3 4 5 6 7 8 9 10 11 12);
        let DualScratch { pt, yd, out } = scratch;
        for (d, &x) in yd.iter_mut().zip(y) {
            *d = Dual64::from(x);
        }
        for col in 0..=n {
            let lam = if col == n {
                Dual64::new(lambda, 1.0)
            } else {
                yd[col].eps = 1.0;
                Dual64::from(lambda)
            };
            self.eval_with(pt, yd, lam, out);
            if col < n {
                yd[col].eps = 0.0;
            }
            for row in 0..n {
                j[(row, col)] = out[row].eps;
                f[row] = out[row].re;
            }
        }
    }

    /// [`Family::jacobian_full_into`] by one sweep of the right-hand side on dual numbers
    /// carrying all `M = n + 1` directions at once (instead of n+1 sweeps of one direction:
    /// the rates, exponentials and, for an `.ode` model, each bytecode op's dispatch are paid
    /// once). Exact like the sweeps, equal to them up to rounding. Buffers: the thread's
    /// ([`crate::numerics::scratch`]), so nothing is allocated once warm.
    fn jacobian_one_sweep<const M: usize>(
        &self,
        y: &[f64],
        lambda: f64,
        j: &mut DMatrix<f64>,
        f: &mut [f64],
    ) {
        type D<const M: usize> = num_dual::DualSVec64<M>;
        let n = y.len();
        crate::numerics::scratch::with_scratch(
            |(pt, yd, out): &mut (Vec<D<M>>, Vec<D<M>>, Vec<D<M>>)| {
                pt.clear();
                pt.extend(self.p.iter().map(|&v| D::<M>::from_re(v)));
                yd.clear();
                yd.extend(
                    y.iter()
                        .enumerate()
                        .map(|(k, &v)| D::<M>::from_re(v).derivative(k)),
                );
                out.clear();
                out.resize(n, D::<M>::from_re(0.0));
                let lam = D::<M>::from_re(lambda).derivative(M - 1);
                self.eval_with(pt, yd, lam, out);
                for (row, o) in out.iter().enumerate() {
                    f[row] = o.re;
                    for col in 0..M {
                        j[(row, col)] = o.eps.0.as_ref().map_or(0.0, |e| e[col]);
                    }
                }
            },
        )
    }

    /// The equilibrium Newton's method reaches from `y` at `lambda` (to 1e-13 in at most 40
    /// iterations), with its Jacobian; `None` where it does not converge.
    pub fn equilibrium_near(&self, y: &[f64], lambda: f64) -> Option<(Vec<f64>, DMatrix<f64>)> {
        let n = y.len();
        let sys = |x: &DVector<f64>| {
            let (j, f) = self.jacobian_full(x.as_slice(), lambda);
            (f, j.columns(0, n).into_owned())
        };
        let (x, _) =
            crate::numerics::newton::newton(sys, DVector::from_column_slice(y), 1e-13, 40).ok()?;
        let j = self.jacobian(x.as_slice(), lambda);
        Some((x.as_slice().to_vec(), j))
    }

    /// `df/dy` (n x n).
    pub fn jacobian(&self, y: &[f64], lambda: f64) -> DMatrix<f64> {
        let (j, _) = self.jacobian_full(y, lambda);
        j.columns(0, y.len()).into_owned()
    }

    /// The symmetric bilinear form `B(u, v) = d^2 f/dy^2 [u, v]` at `(y, lambda)`.
    pub fn bilinear(&self, y: &[f64], lambda: f64, u: &[f64], v: &[f64]) -> DVector<f64> {
        let mut pt: Vec<HyperDual64> = self.params_as();
        let yd: Vec<HyperDual64> = (0..y.len())
            .map(|i| HyperDual64::new(y[i], u[i], v[i], 0.0))
            .collect();
        let mut out = vec![HyperDual64::from(0.0); y.len()];
        self.eval_with(&mut pt, &yd, HyperDual64::from(lambda), &mut out);
        DVector::from_iterator(y.len(), out.iter().map(|o| o.eps1eps2))
    }

    /// The second derivative `d^2 f/d(y, lambda)^2 [u, w]` in the directions `u`, `w` of
    /// state and parameter together (each `n + 1` long, the parameter last), exact: what the
    /// branch-point system and its branching equation need.
    pub fn second_derivative(&self, y: &[f64], lambda: f64, u: &[f64], w: &[f64]) -> DVector<f64> {
        let n = y.len();
        let mut pt: Vec<HyperDual64> = self.params_as();
        let yd: Vec<HyperDual64> = (0..n)
            .map(|i| HyperDual64::new(y[i], u[i], w[i], 0.0))
            .collect();
        let lam = HyperDual64::new(lambda, u[n], w[n], 0.0);
        let mut out = vec![HyperDual64::from(0.0); n];
        self.eval_with(&mut pt, &yd, lam, &mut out);
        DVector::from_iterator(n, out.iter().map(|o| o.eps1eps2))
    }

    /// `d(J q)/d(y, lambda)` (n x (n+1)) for a fixed vector `q`: the second derivatives the
    /// Newton solves of the Hopf and fold systems need, exact.
    pub fn jacobian_times_derivative(&self, y: &[f64], lambda: f64, q: &[f64]) -> DMatrix<f64> {
        let n = y.len();
        let mut pt: Vec<HyperDual64> = self.params_as();
        let mut yd: Vec<HyperDual64> = (0..n)
            .map(|i| HyperDual64::new(y[i], 0.0, q[i], 0.0))
            .collect();
        let mut out = vec![HyperDual64::from(0.0); n];
        let mut d = DMatrix::zeros(n, n + 1);
        for col in 0..=n {
            let lam = if col == n {
                HyperDual64::new(lambda, 1.0, 0.0, 0.0)
            } else {
                yd[col].eps1 = 1.0;
                HyperDual64::from(lambda)
            };
            self.eval_with(&mut pt, &yd, lam, &mut out);
            if col < n {
                yd[col].eps1 = 0.0;
            }
            for row in 0..n {
                d[(row, col)] = out[row].eps1eps2;
            }
        }
        d
    }

    /// The symmetric trilinear form `C(u, v, w) = d^3 f/dy^3 [u, v, w]` at `(y, lambda)`.
    pub fn trilinear(
        &self,
        y: &[f64],
        lambda: f64,
        u: &[f64],
        v: &[f64],
        w: &[f64],
    ) -> DVector<f64> {
        let mut pt: Vec<HyperHyperDual64> = self.params_as();
        let yd: Vec<HyperHyperDual64> = (0..y.len())
            .map(|i| HyperHyperDual64::new(y[i], u[i], v[i], w[i], 0.0, 0.0, 0.0, 0.0))
            .collect();
        let mut out = vec![HyperHyperDual64::from(0.0); y.len()];
        self.eval_with(&mut pt, &yd, HyperHyperDual64::from(lambda), &mut out);
        DVector::from_iterator(y.len(), out.iter().map(|o| o.eps1eps2eps3))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::builtin;

    fn hh_state() -> Vec<f64> {
        vec![-58.0, 0.12, 0.5, 0.4]
    }

    #[test]
    fn multilinear_forms_match_finite_differences() {
        // B and C against central differences of the exact Jacobian (h = 1e-4 in the direction,
        // truncation error ~1e-8 relative), in random-looking directions.
        let fam = Family::new(&builtin::hh(), CURRENT, 0.0).unwrap();
        let y = hh_state();
        let (u, v, w) = (
            [1.3, -0.02, 0.05, 0.01],
            [-0.7, 0.03, -0.01, 0.04],
            [0.4, 0.01, 0.02, -0.03],
        );
        let shift =
            |d: &[f64], h: f64| -> Vec<f64> { y.iter().zip(d).map(|(a, b)| a + h * b).collect() };
        let h = 1e-4;
        let jv = |yy: &[f64]| fam.jacobian(yy, 7.0) * DVector::from_column_slice(&v);
        let fd_b = (jv(&shift(&u, h)) - jv(&shift(&u, -h))) / (2.0 * h);
        let b = fam.bilinear(&y, 7.0, &u, &v);
        assert!((&b - &fd_b).norm() < 1e-6 * b.norm(), "{b} vs {fd_b}");
        let bw = |yy: &[f64]| fam.bilinear(yy, 7.0, &v, &w);
        let fd_c = (bw(&shift(&u, h)) - bw(&shift(&u, -h))) / (2.0 * h);
        let c = fam.trilinear(&y, 7.0, &u, &v, &w);
        assert!((&c - &fd_c).norm() < 1e-6 * c.norm(), "{c} vs {fd_c}");
    }

    /// At a lambda other than the parameter's value in the model (`g_k` is 36), so that a
    /// Jacobian which ignored lambda would fail.
    #[test]
    fn parameter_derivative_is_exact() {
        let m = builtin::hh();
        let fam = Family::new(&m, "g_k", 5.0).unwrap();
        let y = hh_state();
        let (j, f) = fam.jacobian_full(&y, 30.0);
        let h = 1e-5;
        let fd = (fam.f(&y, 30.0 + h) - fam.f(&y, 30.0 - h)) / (2.0 * h);
        assert!((j.column(4) - &fd).norm() < 1e-8 * fd.norm());
        assert!((&f - fam.f(&y, 30.0)).norm() < 1e-13 * f.norm());
        assert!(Family::new(&m, "g_x", 0.0).is_err());
    }
}
