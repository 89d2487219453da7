//! Equilibria of XPPAUT `.ode` models, which have no gate structure to reduce to one equation
//! in V the way conductance-based models do ([`super::rest::equilibria`]).
//!
//! The general reduction: with the voltage-like variable `v = y[0]` held fixed, the other
//! `n - 1` equations `f_1..f_{n-1} = 0` are solved for the other variables by Newton's method,
//! warm-started from the neighbouring grid point. That traces the curve on which every
//! variable but `v` is at equilibrium (for a neuron model, the gates and slow variables at
//! their steady states for that voltage); equilibria are the roots of `f_0` along it, bracketed
//! on a grid, bisected and polished by Newton on the full system with the exact dual-number
//! Jacobian. The scan runs over [`V_SEARCH`] outward from the file's initial value of `v`; it
//! stops early in a direction where the reduced Newton fails (the curve turns back in `v`),
//! which is said in the error if nothing is found.

use super::jacobian::dual_jacobian;
use super::rest::{Equilibrium, MAX_EQUILIBRIA};
use crate::continuation::Field;
use crate::error::AnalysisError;
use crate::model::ode::OdeModel;
use nalgebra::{DMatrix, DVector};
use num_dual::Dual64;

/// The range of the voltage-like variable scanned for equilibria (the file's units: mV for
/// neuron models, dimensionless for FitzHugh-Nagumo-type models).
pub const V_SEARCH: (f64, f64) = (-150.0, 150.0);

/// Grid step of the scan (the file's units of `v`).
const V_STEP: f64 = 0.05;

/// `f(y)` and its Jacobian for one parameter set and injected current, through the model's
/// [`Field`] (which adds the current to the file's current parameter, as simulation does).
struct System {
    field: Field,
    p: Vec<f64>,
    pd: Vec<Dual64>,
    i_ext: f64,
}

impl System {
    /// `model` at injected current `i_ext`.
    fn new(model: &OdeModel, i_ext: f64) -> Result<System, AnalysisError> {
        let field = Field::ode(model)?;
        field.check_current(i_ext)?;
        let p = model.params.values();
        let pd = p.iter().map(|&x| Dual64::from(x)).collect();
        Ok(System {
            field,
            p,
            pd,
            i_ext,
        })
    }

    fn f(&self, y: &[f64]) -> Vec<f64> {
        let mut dy = vec![0.0; y.len()];
        self.field.eval(&mut self.p.clone(), y, self.i_ext, &mut dy);
        dy
    }

    fn norm(&self, y: &[f64]) -> f64 {
        max_abs(&self.f(y))
    }

    fn jac(&self, y: &[f64]) -> DMatrix<f64> {
        let mut pd = self.pd.clone();
        let i = Dual64::from(self.i_ext);
        dual_jacobian(y, |yd, dy| self.field.eval(&mut pd, yd, i, dy))
    }

    /// Damped Newton on the full system from `start`; the end point and its residual.
    fn newton(&self, start: &[f64]) -> (Vec<f64>, f64) {
        let mut y = start.to_vec();
        for _ in 0..100 {
            let f = self.f(&y);
            let before = max_abs(&f);
            if before < 1e-13 {
                break;
            }
            let Some(dx) = self.jac(&y).lu().solve(&(-DVector::from_vec(f))) else {
                break;
            };
            // Halve the step until the residual falls.
            let mut step = 1.0;
            loop {
                let trial: Vec<f64> = y.iter().zip(dx.iter()).map(|(a, b)| a + step * b).collect();
                if self.norm(&trial) < before {
                    y = trial;
                    break;
                }
                step *= 0.5;
                if step < 1e-6 {
                    return (y, before);
                }
            }
        }
        let r = self.norm(&y);
        (y, r)
    }

    /// The other variables at equilibrium with `v` held fixed (Newton from `guess`), and
    /// `f_0` there; `None` if Newton does not converge.
    fn reduced(&self, v: f64, guess: &[f64]) -> Option<(Vec<f64>, f64)> {
        let n = guess.len() + 1;
        let mut y: Vec<f64> = std::iter::once(v).chain(guess.iter().copied()).collect();
        let scale = 1.0 + guess.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        for _ in 0..40 {
            let f = self.f(&y);
            let g = DVector::from_iterator(n - 1, f[1..].iter().copied());
            let j = self.jac(&y);
            let jz = j.view((1, 1), (n - 1, n - 1)).into_owned();
            let dz = jz.lu().solve(&(-&g))?;
            for k in 1..n {
                y[k] += dz[k - 1];
            }
            if !y.iter().all(|x| x.is_finite()) {
                return None;
            }
            if dz.amax() <= 1e-13 * scale {
                let f = self.f(&y);
                return Some((y[1..].to_vec(), f[0]));
            }
        }
        None
    }
}

/// Every equilibrium of `model` at injected current `i_ext` with `v` in [`V_SEARCH`], by
/// increasing `v` (the scan described in the module documentation).
pub fn ode_equilibria(model: &OdeModel, i_ext: f64) -> Result<Vec<Equilibrium>, AnalysisError> {
    let sys = System::new(model, i_ext)?;
    let n = model.vars.len();
    let (lo, hi) = V_SEARCH;
    let mut roots: Vec<Vec<f64>> = vec![];
    let mut notes = vec![];
    if n == 1 {
        let f0 = |v: f64| sys.f(&[v])[0];
        let mut a = lo;
        while a < hi {
            let b = (a + V_STEP).min(hi);
            if let Some(v) = bisect(a, f0(a), b, f0(b), |v| Some((vec![], f0(v)))) {
                roots.push(vec![v.0]);
            }
            a = b;
        }
    } else {
        // A point on the reduced curve: from the file's initial values, else from the
        // equilibrium full Newton reaches from them.
        let v0 = model.init[0].clamp(lo, hi);
        let start = sys
            .reduced(v0, &model.init[1..])
            .map(|z| (v0, z))
            .or_else(|| {
                let (y, r) = sys.newton(&model.init);
                (r < 1e-8 && (lo..=hi).contains(&y[0]))
                    .then(|| sys.reduced(y[0], &y[1..]).map(|z| (y[0], z)))
                    .flatten()
            });
        let Some((v0, (z0, f00))) = start else {
            return Err(AnalysisError::Numerical {
                what: format!("equilibria of {} at {i_ext}", model.name),
                reason: "the other variables have no equilibrium at the initial v, and Newton from the initial values does not converge".into(),
            });
        };
        for dir in [-1.0, 1.0] {
            // March from v0 in one direction, with secant-extrapolated guesses.
            let (mut v, mut z, mut fv) = (v0, z0.clone(), f00);
            let mut dz = vec![0.0; n - 1];
            loop {
                let next = v + dir * V_STEP;
                if !(lo..=hi).contains(&next) {
                    break;
                }
                let guess: Vec<f64> = z.iter().zip(&dz).map(|(a, d)| a + d).collect();
                let Some((zn, fnext)) = sys.reduced(next, &guess).or_else(|| sys.reduced(next, &z))
                else {
                    notes.push(format!(
                        "the other variables have no equilibrium past v = {v:.4} (scan stopped there)"
                    ));
                    break;
                };
                if let Some((r, zr)) = bisect(v, fv, next, fnext, |x| sys.reduced(x, &z)) {
                    let mut y = vec![r];
                    y.extend(zr);
                    roots.push(y);
                }
                dz = zn.iter().zip(&z).map(|(a, b)| a - b).collect();
                (v, z, fv) = (next, zn, fnext);
            }
        }
    }
    // Polish each on the full system, then order and remove repeats (a root at the start
    // grid point is found from both directions).
    let mut states: Vec<(Vec<f64>, f64)> = roots
        .iter()
        .map(|y| sys.newton(y))
        .filter(|(_, r)| *r < 1e-8)
        .collect();
    states.sort_by(|a, b| a.0[0].total_cmp(&b.0[0]));
    states.dedup_by(|a, b| {
        a.0.iter()
            .zip(&b.0)
            .all(|(x, y)| (x - y).abs() <= 1e-8 * (1.0 + x.abs()))
    });
    if states.is_empty() {
        return Err(AnalysisError::Numerical {
            what: format!("equilibria of {} at {i_ext}", model.name),
            reason: format!(
                "none with v in [{lo}, {hi}]{}",
                notes.first().map(|n| format!("; {n}")).unwrap_or_default()
            ),
        });
    }
    if states.len() > MAX_EQUILIBRIA {
        return Err(AnalysisError::Numerical {
            what: format!("equilibria of {} at {i_ext}", model.name),
            reason: format!("{} roots: a continuum of equilibria", states.len()),
        });
    }
    states
        .into_iter()
        .enumerate()
        .map(|(index, (y, residual))| {
            let j = sys.jac(&y);
            Equilibrium::from_linearisation(i_ext, index, y, residual, j)
        })
        .collect()
}

/// The state sweeps start from: the resting state of any model; for an autonomous `.ode`
/// model its stable equilibrium of lowest `v` ([`ode_rest_state`]) rather than the file's
/// initial values, which a forced one (reading `t`) starts from.
pub fn sweep_start(model: &crate::model::Model) -> Result<Vec<f64>, crate::error::Error> {
    match model {
        crate::model::Model::Ode(m) if !m.reads_time() => Ok(ode_rest_state(m)?),
        _ => Ok(model.resting_state()?),
    }
}

/// The stable equilibrium of lowest `v` at zero injected current (the resting state), or the
/// equilibrium of lowest `v` if none is stable.
pub fn ode_rest_state(model: &OdeModel) -> Result<Vec<f64>, AnalysisError> {
    let all = ode_equilibria(model, 0.0)?;
    // `ode_equilibria` finds at least one or fails.
    let rest = all
        .iter()
        .find(|e| e.stability.is_stable())
        .unwrap_or(&all[0]);
    Ok(rest.state.clone())
}

/// Largest absolute value.
fn max_abs(x: &[f64]) -> f64 {
    x.iter().fold(0.0f64, |m, v| m.max(v.abs()))
}

/// The root of `f_0` in `[a, b]` if it changes sign there (bisection to rounding; `eval`
/// gives the other variables and `f_0` at a point), with the other variables at the root.
fn bisect(
    mut a: f64,
    mut fa: f64,
    mut b: f64,
    fb: f64,
    eval: impl Fn(f64) -> Option<(Vec<f64>, f64)>,
) -> Option<(f64, Vec<f64>)> {
    if fa == 0.0 {
        return eval(a).map(|(z, _)| (a, z));
    }
    if fa.signum() == fb.signum() || fb == 0.0 {
        // A root exactly at b is found as the next interval's `a`.
        return None;
    }
    let mut z = None;
    for _ in 0..200 {
        let m = 0.5 * (a + b);
        if m <= a || m >= b {
            break;
        }
        let (zm, fm) = eval(m)?;
        z = Some(zm);
        if fm == 0.0 {
            return z.map(|z| (m, z));
        }
        if fm.signum() == fa.signum() {
            (a, fa) = (m, fm);
        } else {
            b = m;
        }
    }
    let m = 0.5 * (a + b);
    z.or_else(|| eval(m).map(|(z, _)| z)).map(|z| (m, z))
}
