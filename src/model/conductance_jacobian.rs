//! The Jacobian of a conductance model written out by the chain rule: what continuation's
//! collocation asks for at every collocation point of every Newton step.
//!
//! A conductance model's right-hand side has a fixed shape ([`ConductanceModel::rhs`]): each
//! gate's equation reads V and its own gate only, and the membrane equation is a sum of
//! `g factor(V) prod(x^p) (V - E)`. So its Jacobian is V's row, the gates' column of V and the
//! diagonal; only the rates' derivatives in V need differentiating, and each rate is one
//! function of one variable. Dual numbers carrying every direction at once
//! (continuation's general path) push all `n + 1` derivatives
//! through every operation of the whole right-hand side, most of them zero; here each rate is
//! evaluated once on a dual number of one direction, and the rest is a few products.
//!
//! The values and the derivatives equal [`ConductanceModel::rhs`]'s and the dual numbers' up to
//! rounding (`tests`): the same operations in the same order, except that a rate's value comes
//! from its evaluation on a dual number, as it did on the dual numbers before.

use super::ConductanceModel;
use super::conductance::Kinetics;
use super::rates::RateFn;
use nalgebra::DMatrix;
use num_dual::Dual64;

/// What the last column of [`ConductanceModel::jacobian_into`] differentiates by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// The injected current.
    Current,
    /// The parameter of this index.
    Param(usize),
}

/// A rate's value and its derivative in V at `v`.
#[inline]
fn with_slope(rate: &RateFn, v: f64) -> (f64, f64) {
    let d = rate.eval(Dual64::new(v, 1.0));
    (d.re, d.eps)
}

impl ConductanceModel {
    /// `f` into `f` and `[df/dy | df/dq]` into `j` (`n x (n + 1)`) at state `y`, parameter
    /// values `p` and injected current `i_ext`, `q` being `last` (the current or a parameter):
    /// exact, as by dual numbers, without them (this module's documentation says how).
    pub fn jacobian_into(
        &self,
        p: &[f64],
        y: &[f64],
        i_ext: f64,
        last: Direction,
        j: &mut DMatrix<f64>,
        f: &mut [f64],
    ) {
        let n = self.dim();
        debug_assert_eq!((j.nrows(), j.ncols(), y.len(), f.len()), (n, n + 1, n, n));
        j.fill(0.0);
        let v = y[0];
        let phi = p[self.phi];
        let param = match last {
            Direction::Param(k) => Some(k),
            Direction::Current => None,
        };
        // The gates: each row reads V and its own gate.
        for (k, gate) in self.gates.iter().enumerate() {
            let x = y[1 + k];
            let (rate, d_v, d_x) = match &gate.kinetics {
                Kinetics::AlphaBeta { alpha, beta } => {
                    let ((a, da), (b, db)) = (with_slope(alpha, v), with_slope(beta, v));
                    (a * (-x + 1.0) - b * x, da * (1.0 - x) - db * x, -(a + b))
                }
                Kinetics::InfTau { inf, tau } => {
                    let ((m, dm), (t, dt)) = (with_slope(inf, v), with_slope(tau, v));
                    let rate = (m - x) / t;
                    (rate, (dm - rate * dt) / t, -1.0 / t)
                }
            };
            f[1 + k] = rate * phi;
            j[(1 + k, 0)] = d_v * phi;
            j[(1 + k, 1 + k)] = d_x * phi;
            if param == Some(self.phi) {
                j[(1 + k, n)] = rate;
            }
        }
        // The membrane: C dV/dt = i_ext - sum g factor(V) prod(x^p) (V - E), summed in the
        // order `ionic_current` sums.
        let c = p[self.c_m];
        let mut total = 0.0;
        // d(total)/dV, and d(total)/dq for a parameter q.
        let (mut d_v, mut d_q) = (0.0, 0.0);
        for cur in &self.currents {
            let (factor, d_factor) = match &cur.factor {
                Some(r) => with_slope(r, v),
                None => (1.0, 0.0),
            };
            // The conductance in `conductance`'s order: g, times the factor, times each power.
            let mut g = p[cur.g];
            if cur.factor.is_some() {
                g *= factor;
            }
            let mut gates = 1.0;
            for &(gi, power) in &cur.gates {
                let x = y[1 + gi].powi(power);
                g *= x;
                gates *= x;
            }
            let drive = v - p[cur.e];
            total += g * drive;
            d_v += g + p[cur.g] * d_factor * gates * drive;
            // Each gate factor in turn differentiated, the others kept.
            for (m, &(gi, power)) in cur.gates.iter().enumerate() {
                let mut d = p[cur.g] * factor * f64::from(power) * y[1 + gi].powi(power - 1);
                for (l, &(gl, pl)) in cur.gates.iter().enumerate() {
                    if l != m {
                        d *= y[1 + gl].powi(pl);
                    }
                }
                j[(0, 1 + gi)] -= d * drive / c;
            }
            if let Some(q) = param {
                if q == cur.g {
                    d_q += factor * gates * drive;
                }
                if q == cur.e {
                    d_q -= g;
                }
            }
        }
        let dv_dt = (i_ext - total) / c;
        f[0] = dv_dt;
        j[(0, 0)] = -d_v / c;
        j[(0, n)] = match param {
            None => 1.0 / c,
            Some(q) if q == self.c_m => -d_q / c - dv_dt / c,
            Some(_) => -d_q / c,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Model;

    /// The Jacobian by dual numbers, one direction per column, from the generic right-hand side.
    fn by_duals(
        m: &ConductanceModel,
        p: &[f64],
        y: &[f64],
        i_ext: f64,
        last: Direction,
    ) -> DMatrix<f64> {
        let n = y.len();
        let mut j = DMatrix::zeros(n, n + 1);
        for col in 0..=n {
            let pd: Vec<Dual64> = p
                .iter()
                .enumerate()
                .map(|(k, &x)| Dual64::new(x, f64::from(col == n && last == Direction::Param(k))))
                .collect();
            let yd: Vec<Dual64> = y
                .iter()
                .enumerate()
                .map(|(k, &x)| Dual64::new(x, f64::from(col == k)))
                .collect();
            let i = Dual64::new(i_ext, f64::from(col == n && last == Direction::Current));
            let mut out = vec![Dual64::from(0.0); n];
            m.rhs(&pd, &yd, i, &mut out);
            for row in 0..n {
                j[(row, col)] = out[row].eps;
            }
        }
        j
    }

    /// Every built-in conductance model, every column (the current's and each parameter's), at
    /// states across the voltage range (the linoids' removable singularities included): the
    /// values equal the right-hand side's to rounding (a rate's value comes from its dual
    /// evaluation, whose division rounds once more), the derivatives the dual numbers' to
    /// 1e-13 of the row's largest entry.
    #[test]
    fn equals_the_dual_numbers_on_every_builtin_model() {
        let mut checked = 0;
        for name in ["hh", "hh-1952", "hh-ca"] {
            let Ok(Model::Conductance(m)) = Model::builtin(name) else {
                panic!("{name} is a conductance model");
            };
            let p = m.params.values();
            let n = m.dim();
            for (s, v) in [-90.0, -65.0, -55.0, -40.0, -35.0, 0.0, 10.0, 40.0]
                .into_iter()
                .enumerate()
            {
                let mut y = m.state_at_v(v);
                // Off the steady state, so that no gate's own rate vanishes.
                for (k, x) in y.iter_mut().enumerate().skip(1) {
                    *x = (*x * 0.7 + 0.1 * ((s + k) % 3) as f64).clamp(0.01, 0.99);
                }
                let lasts =
                    std::iter::once(Direction::Current).chain((0..p.len()).map(Direction::Param));
                for last in lasts {
                    let mut j = DMatrix::zeros(n, n + 1);
                    let mut f = vec![0.0; n];
                    m.jacobian_into(&p, &y, 3.0, last, &mut j, &mut f);
                    let mut rhs = vec![0.0; n];
                    m.rhs(&p, &y, 3.0, &mut rhs);
                    for (a, b) in f.iter().zip(&rhs) {
                        assert!(
                            (a - b).abs() <= 1e-14 * b.abs().max(1.0),
                            "{name} at {v} mV: {f:?} against {rhs:?}"
                        );
                    }
                    let want = by_duals(&m, &p, &y, 3.0, last);
                    for row in 0..n {
                        let scale = (0..=n).fold(1e-300f64, |s, c| s.max(want[(row, c)].abs()));
                        for col in 0..=n {
                            let err = (j[(row, col)] - want[(row, col)]).abs() / scale;
                            assert!(
                                err < 1e-13,
                                "{name} at {v} mV, {last:?}: J[{row},{col}] {} against {} ({err:e})",
                                j[(row, col)],
                                want[(row, col)]
                            );
                        }
                    }
                    checked += 1;
                }
            }
        }
        assert!(checked > 100, "{checked}");
    }

    #[test]
    fn a_rates_slope_is_its_derivative() {
        let r = RateFn::Sigmoid {
            a: 2.0,
            v0: -30.0,
            k: 7.0,
        };
        let (value, slope) = with_slope(&r, -25.0);
        let h = 1e-6;
        let fd = (r.eval(-25.0 + h) - r.eval(-25.0 - h)) / (2.0 * h);
        assert_eq!(value, r.eval(-25.0f64));
        assert!((slope - fd).abs() < 1e-9, "{slope} {fd}");
    }
}
