//! The Jacobian of a conductance-based model's right-hand side in closed form, with each rate's
//! derivative in V from one dual number through the same [`RateFn::eval`] every other path
//! reads. Continuation asks for `[df/dy | df/dlambda]` at every Gauss point of every Newton
//! step; one dual sweep carrying all n+1 directions through the whole right-hand side cost
//! 17% of the default `hh` diagram (`perf` on an AMD EPYC, 4 December 2026), where the
//! structure of these models gives the matrix from the rates and their V-derivatives alone: a
//! gate's row has two entries ([`Gate::derivative`] itself on a two-direction dual number), V's
//! row one per state variable (the derivative of [`ConductanceModel::ionic_current`], written
//! out here and held to it by the test below).

use super::conductance::{ConductanceModel, Gate};
use super::rates::RateFn;
use nalgebra::DMatrix;
use num_dual::Dual64;

/// A rate and its derivative in V (1/mV times the rate's unit).
#[inline]
fn with_slope(r: &RateFn, v: f64) -> (f64, f64) {
    let d = r.eval(Dual64::new(v, 1.0));
    (d.re, d.eps)
}

/// A gate's `dx/dt` at temperature factor 1 and its derivatives in V and in x, by
/// [`Gate::derivative`] on one dual number carrying both directions.
#[inline]
fn gate_with_slopes(gate: &Gate, v: f64, x: f64) -> (f64, f64, f64) {
    type D2 = num_dual::DualSVec64<2>;
    let d = gate.derivative(D2::from_re(v).derivative(0), D2::from_re(x).derivative(1));
    let eps = d.eps.0.map_or([0.0; 2], |e| [e[0], e[1]]);
    (d.re, eps[0], eps[1])
}

impl ConductanceModel {
    /// `f` (the right-hand side: mV/ms, then 1/ms) and `j = [df/dy | df/dlambda]` at state
    /// `y` (`dim()` values: mV, then gates), parameter values `p` (in [`ParamSet`] order) and
    /// injected current `i_ext` (uA/cm^2), where `lambda` is the injected current (`dparam`
    /// `None`) or the parameter `p[dparam]`. `j` must be n x (n+1) and `f` n long, n = `dim()`.
    /// Equal to dual numbers through [`ConductanceModel::rhs`] up to rounding (`tests`).
    ///
    /// [`ParamSet`]: super::params::ParamSet
    pub fn jacobian_into(
        &self,
        p: &[f64],
        y: &[f64],
        i_ext: f64,
        dparam: Option<usize>,
        j: &mut DMatrix<f64>,
        f: &mut [f64],
    ) {
        let n = y.len();
        let v = y[0];
        let (c_m, phi) = (p[self.c_m], p[self.phi]);
        j.fill(0.0);
        // V's row: d/dy of -(sum_c g F(V) prod x^p (V - E)) / C.
        let mut i_ion = 0.0;
        for c in &self.currents {
            let (factor, d_factor) = c.factor.as_ref().map_or((1.0, 0.0), |r| with_slope(r, v));
            let open: f64 = c.gates.iter().map(|&(g, pw)| y[1 + g].powi(pw)).product();
            let (g_max, drive) = (p[c.g], v - p[c.e]);
            i_ion += g_max * factor * open * drive;
            j[(0, 0)] -= g_max * open * (d_factor * drive + factor);
            for (k, &(g, pw)) in c.gates.iter().enumerate() {
                if pw == 0 {
                    // x^0 = 1 does not depend on x (and 0 x^-1 would be NaN at x = 0).
                    continue;
                }
                // d(prod)/dx_g for this factor: p x^(p-1) times the others.
                let mut d_open = f64::from(pw) * y[1 + g].powi(pw - 1);
                for (i, &(gi, pi)) in c.gates.iter().enumerate() {
                    if i != k {
                        d_open *= y[1 + gi].powi(pi);
                    }
                }
                j[(0, 1 + g)] -= g_max * factor * d_open * drive;
            }
            if dparam == Some(c.g) {
                j[(0, n)] -= factor * open * drive;
            }
            if dparam == Some(c.e) {
                j[(0, n)] += g_max * factor * open;
            }
        }
        f[0] = (i_ext - i_ion) / c_m;
        for k in 0..n {
            j[(0, k)] /= c_m;
        }
        j[(0, n)] = match dparam {
            None => 1.0 / c_m,
            Some(k) if k == self.c_m => j[(0, n)] / c_m - f[0] / c_m,
            Some(_) => j[(0, n)] / c_m,
        };
        // A gate's row: phi times its kinetics and their two derivatives.
        for (k, gate) in self.gates.iter().enumerate() {
            let (rate, d_dv, d_dx) = gate_with_slopes(gate, v, y[1 + k]);
            f[1 + k] = rate * phi;
            j[(1 + k, 0)] = d_dv * phi;
            j[(1 + k, 1 + k)] = d_dx * phi;
            if dparam == Some(self.phi) {
                j[(1 + k, n)] = rate;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Model;

    /// Against one dual sweep through the generic right-hand side, for every conductance model
    /// (built-ins and the zoo's files: alpha/beta and inf/tau gates, instantaneous factors),
    /// at states off rest, with lambda the current and then each parameter in turn: every
    /// entry within 1e-12 of the larger of 1 and the row's largest entry, and `f` likewise.
    #[test]
    fn closed_form_jacobian_matches_dual_numbers_on_every_conductance_model() {
        let zoo = |f: &str| {
            let path = format!("{}/studies/models/zoo/{f}", env!("CARGO_MANIFEST_DIR"));
            Model::from_file(std::path::Path::new(&path)).unwrap()
        };
        let models = [
            Model::builtin("hh").unwrap(),
            Model::builtin("hh-1952").unwrap(),
            Model::builtin("hh-ca").unwrap(),
            zoo("connor_stevens.toml"),
            zoo("wang_buzsaki.toml"),
        ];
        let mut checked = 0;
        for model in &models {
            let m = model.smooth().unwrap();
            let n = m.dim();
            let p = m.params.values();
            for (s, v) in [-80.0, -55.0, -40.0, -39.999_999, 10.0, 45.0]
                .iter()
                .enumerate()
            {
                let mut y = m.state_at_v(*v);
                for (k, x) in y.iter_mut().enumerate().skip(1) {
                    *x = (*x * 0.7 + 0.1 * ((k + s) % 3) as f64).min(1.0);
                }
                let i_ext = 3.5;
                for dparam in std::iter::once(None).chain((0..p.len()).map(Some)) {
                    // Dual numbers: n + 1 sweeps of one direction each.
                    let mut want = DMatrix::zeros(n, n + 1);
                    let mut f_want = vec![0.0; n];
                    for col in 0..=n {
                        let mut pd: Vec<Dual64> = p.iter().map(|&x| Dual64::from(x)).collect();
                        let mut yd: Vec<Dual64> = y.iter().map(|&x| Dual64::from(x)).collect();
                        let mut id = Dual64::from(i_ext);
                        if col < n {
                            yd[col].eps = 1.0;
                        } else {
                            match dparam {
                                None => id.eps = 1.0,
                                Some(k) => pd[k].eps = 1.0,
                            }
                        }
                        let mut out = vec![Dual64::from(0.0); n];
                        m.rhs(&pd, &yd, id, &mut out);
                        for row in 0..n {
                            want[(row, col)] = out[row].eps;
                            f_want[row] = out[row].re;
                        }
                    }
                    let mut got = DMatrix::zeros(n, n + 1);
                    let mut f_got = vec![0.0; n];
                    m.jacobian_into(&p, &y, i_ext, dparam, &mut got, &mut f_got);
                    for row in 0..n {
                        let scale = (0..=n).fold(1.0f64, |s, c| s.max(want[(row, c)].abs()));
                        for col in 0..=n {
                            let d = (got[(row, col)] - want[(row, col)]).abs();
                            assert!(
                                d <= 1e-12 * scale,
                                "{} V {v} lambda {dparam:?}: J[{row},{col}] {} against {}",
                                m.name,
                                got[(row, col)],
                                want[(row, col)]
                            );
                        }
                        let d = (f_got[row] - f_want[row]).abs();
                        assert!(
                            d <= 1e-12 * f_want[row].abs().max(1.0),
                            "{} f[{row}]",
                            m.name
                        );
                    }
                    checked += 1;
                }
            }
        }
        assert!(checked > 200, "{checked} matrices");
    }
}
