//! Adaptive Dormand-Prince 5(4) with dense output (Hairer, Norsett & Wanner, "Solving ODEs I",
//! the `DOPRI5` coefficients and its fourth-order continuous extension).
//!
//! Error control: the scaled RMS norm of the embedded error with `atol + rtol * max(|y0|, |y1|)`
//! per component, step factor `0.9 * err^(-1/5)` clamped to [0.2, 5]. A step never crosses the
//! end of the interval it is asked for, so callers split the run at stimulus breakpoints.

use super::method::Tolerances;
use crate::error::SimError;

const C2: f64 = 1.0 / 5.0;
const C3: f64 = 3.0 / 10.0;
const C4: f64 = 4.0 / 5.0;
const C5: f64 = 8.0 / 9.0;
const A21: f64 = 1.0 / 5.0;
const A31: f64 = 3.0 / 40.0;
const A32: f64 = 9.0 / 40.0;
const A41: f64 = 44.0 / 45.0;
const A42: f64 = -56.0 / 15.0;
const A43: f64 = 32.0 / 9.0;
const A51: f64 = 19372.0 / 6561.0;
const A52: f64 = -25360.0 / 2187.0;
const A53: f64 = 64448.0 / 6561.0;
const A54: f64 = -212.0 / 729.0;
const A61: f64 = 9017.0 / 3168.0;
const A62: f64 = -355.0 / 33.0;
const A63: f64 = 46732.0 / 5247.0;
const A64: f64 = 49.0 / 176.0;
const A65: f64 = -5103.0 / 18656.0;
const A71: f64 = 35.0 / 384.0;
const A73: f64 = 500.0 / 1113.0;
const A74: f64 = 125.0 / 192.0;
const A75: f64 = -2187.0 / 6784.0;
const A76: f64 = 11.0 / 84.0;
const E1: f64 = 71.0 / 57600.0;
const E3: f64 = -71.0 / 16695.0;
const E4: f64 = 71.0 / 1920.0;
const E5: f64 = -17253.0 / 339200.0;
const E6: f64 = 22.0 / 525.0;
const E7: f64 = -1.0 / 40.0;
const D1: f64 = -12715105075.0 / 11282082432.0;
const D3: f64 = 87487479700.0 / 32700410799.0;
const D4: f64 = -10690763975.0 / 1880347072.0;
const D5: f64 = 701980252875.0 / 199316789632.0;
const D6: f64 = -1453857185.0 / 822651844.0;
const D7: f64 = 69997945.0 / 29380423.0;

/// The continuous extension of one accepted step: `y(t0 + theta h)` for theta in [0, 1].
pub struct Dense {
    /// Start of the step (ms).
    pub t0: f64,
    /// Length of the step (ms).
    pub h: f64,
    r: [Vec<f64>; 5],
}

impl Dense {
    /// Component `j` at time `t` inside the step.
    #[inline]
    pub fn eval(&self, j: usize, t: f64) -> f64 {
        let th = (t - self.t0) / self.h;
        let th1 = 1.0 - th;
        let r = &self.r;
        r[0][j] + th * (r[1][j] + th1 * (r[2][j] + th * (r[3][j] + th1 * r[4][j])))
    }

    /// Bounds of component `j` over the whole step, (lowest, highest): the extension is
    /// `r0 + th r1 + th (1 - th) (r2 + th (r3 + (1 - th) r4))` with `th (1 - th) <= 1/4`, so it
    /// stays within `r0 + min(r1, 0) - w` and `r0 + max(r1, 0) + w`, `w = (|r2| + |r3| +
    /// |r4|) / 4`. Cheap enough to ask at every step; the spike scan searches inside a step
    /// only where the threshold lies between them.
    pub fn bounds(&self, j: usize) -> (f64, f64) {
        let r = &self.r;
        let w = 0.25 * (r[2][j].abs() + r[3][j].abs() + r[4][j].abs());
        (
            r[0][j] + r[1][j].min(0.0) - w,
            r[0][j] + r[1][j].max(0.0) + w,
        )
    }

    /// The whole state at time `t` inside the step.
    pub fn eval_into(&self, t: f64, out: &mut [f64]) {
        (0..out.len()).for_each(|j| out[j] = self.eval(j, t));
    }
}

/// Adaptive integrator state: the step size carries over between calls.
pub struct Dopri5 {
    tol: Tolerances,
    /// Proposed next step (ms).
    pub h: f64,
    /// Largest allowed step (ms).
    pub h_max: f64,
    k: [Vec<f64>; 7],
    y1: Vec<f64>,
    tmp: Vec<f64>,
    dense: Dense,
    /// Accepted and rejected steps so far.
    pub accepted: u64,
    /// Steps rejected by the error test (and retried with a smaller step) so far.
    pub rejected: u64,
}

/// Smallest step before the integrator gives up (ms).
pub const H_MIN: f64 = 1e-12;

impl Dopri5 {
    /// An integrator for a state of dimension `dim` with tolerances `tol`, first trying a step
    /// of `h0` ms and never taking one longer than `h_max` ms.
    pub fn new(dim: usize, tol: Tolerances, h0: f64, h_max: f64) -> Self {
        let z = || vec![0.0; dim];
        Dopri5 {
            tol,
            h: h0,
            h_max,
            k: std::array::from_fn(|_| z()),
            y1: z(),
            tmp: z(),
            dense: Dense {
                t0: 0.0,
                h: 1.0,
                r: std::array::from_fn(|_| z()),
            },
            accepted: 0,
            rejected: 0,
        }
    }

    /// Choose the first step from the problem itself, not from a caller's guess, so that the
    /// run does not depend on anything but the equations, the state and the tolerances (before,
    /// `simulate`'s recording interval `--dt` set it, and moved spike times within the
    /// tolerance). The rule of Hairer, Norsett and Wanner (Solving ODEs I, section II.4): a
    /// step over which the explicit Euler step changes `y` by a hundredth of `y`'s size (both
    /// in units of the tolerances), then one at which the fifth-order local error estimated
    /// from the change in `f` over that step is a hundredth of the tolerance; the smaller of
    /// the second and 100 times the first, at most `h_max`. Costs two evaluations of `f`, once
    /// per run.
    pub fn choose_first_step(
        &mut self,
        f: &mut impl FnMut(f64, &[f64], &mut [f64]),
        t0: f64,
        y: &[f64],
    ) {
        let [f0, f1, ..] = &mut self.k;
        f(t0, y, f0);
        let scale = |j: usize| self.tol.atol + self.tol.rtol * y[j].abs();
        let norm = |v: &dyn Fn(usize) -> f64| {
            ((0..y.len()).map(|j| (v(j) / scale(j)).powi(2)).sum::<f64>() / y.len() as f64).sqrt()
        };
        let (d0, d1) = (norm(&|j| y[j]), norm(&|j| f0[j]));
        // (Written so that a derivative that is not a number takes the fallback too.)
        let h0 = if d0 >= 1e-5 && d1 >= 1e-5 {
            0.01 * d0 / d1
        } else {
            1e-6
        }
        .min(self.h_max);
        for j in 0..y.len() {
            self.tmp[j] = y[j] + h0 * f0[j];
        }
        f(t0 + h0, &self.tmp, f1);
        let d2 = norm(&|j| f1[j] - f0[j]) / h0;
        let h1 = if d1.max(d2) <= 1e-15 {
            (h0 * 1e-3).max(1e-6)
        } else {
            (0.01 / d1.max(d2)).powf(0.2)
        };
        let h = (100.0 * h0).min(h1).min(self.h_max);
        let finite = h.is_finite() && d1.is_finite() && d2.is_finite();
        self.h = if finite && h > H_MIN { h } else { 1e-6 };
    }

    /// Integrate `y' = f(t, y)` from `t0` to `t1`, calling `on_step(dense, y_new)` after each
    /// accepted step. `y` holds the state at `t0` on entry and at `t1` on return.
    pub fn integrate(
        &mut self,
        f: &mut impl FnMut(f64, &[f64], &mut [f64]),
        y: &mut [f64],
        t0: f64,
        t1: f64,
        on_step: &mut impl FnMut(&Dense, &[f64]) -> Result<(), SimError>,
    ) -> Result<(), SimError> {
        let n = y.len();
        let mut t = t0;
        f(t, y, &mut self.k[0]);
        while t < t1 {
            let last = t + self.h >= t1 - 1e-12 * t1.abs().max(1.0);
            let h = if last { t1 - t } else { self.h.min(self.h_max) };
            if h < H_MIN {
                return Err(SimError::StepSizeTooSmall {
                    t,
                    h_min: H_MIN,
                    time_unit: "ms",
                });
            }
            self.stages(f, y, t, h);
            let err = self.error_norm(y, h);
            if err.is_finite() && err <= 1.0 {
                self.accepted += 1;
                self.build_dense(y, t, h);
                let t_new = if last { t1 } else { t + h };
                y.copy_from_slice(&self.y1);
                // FSAL: the last stage is the derivative at the new point.
                self.k.swap(0, 6);
                on_step(&self.dense, y)?;
                t = t_new;
                let fac = if err == 0.0 {
                    5.0
                } else {
                    (0.9 * err.powf(-0.2)).clamp(0.2, 5.0)
                };
                // Do not let the final short step shrink the proposal for the next interval.
                if !last {
                    self.h = (h * fac).min(self.h_max);
                }
            } else {
                self.rejected += 1;
                let fac = if err.is_finite() {
                    (0.9 * err.powf(-0.2)).clamp(0.2, 1.0)
                } else {
                    0.2
                };
                self.h = h * fac;
                if self.h < H_MIN {
                    return Err(SimError::StepSizeTooSmall {
                        t,
                        h_min: H_MIN,
                        time_unit: "ms",
                    });
                }
            }
            debug_assert_eq!(y.len(), n);
        }
        Ok(())
    }

    fn stages(&mut self, f: &mut impl FnMut(f64, &[f64], &mut [f64]), y: &[f64], t: f64, h: f64) {
        let n = y.len();
        let [k1, k2, k3, k4, k5, k6, k7] = &mut self.k;
        let tmp = &mut self.tmp;
        for j in 0..n {
            tmp[j] = y[j] + h * A21 * k1[j];
        }
        f(t + C2 * h, tmp, k2);
        for j in 0..n {
            tmp[j] = y[j] + h * (A31 * k1[j] + A32 * k2[j]);
        }
        f(t + C3 * h, tmp, k3);
        for j in 0..n {
            tmp[j] = y[j] + h * (A41 * k1[j] + A42 * k2[j] + A43 * k3[j]);
        }
        f(t + C4 * h, tmp, k4);
        for j in 0..n {
            tmp[j] = y[j] + h * (A51 * k1[j] + A52 * k2[j] + A53 * k3[j] + A54 * k4[j]);
        }
        f(t + C5 * h, tmp, k5);
        for j in 0..n {
            tmp[j] =
                y[j] + h * (A61 * k1[j] + A62 * k2[j] + A63 * k3[j] + A64 * k4[j] + A65 * k5[j]);
        }
        f(t + h, tmp, k6);
        for j in 0..n {
            self.y1[j] =
                y[j] + h * (A71 * k1[j] + A73 * k3[j] + A74 * k4[j] + A75 * k5[j] + A76 * k6[j]);
        }
        f(t + h, &self.y1, k7);
    }

    fn error_norm(&self, y: &[f64], h: f64) -> f64 {
        let k = &self.k;
        let mut sum = 0.0;
        for j in 0..y.len() {
            let e = h
                * (E1 * k[0][j]
                    + E3 * k[2][j]
                    + E4 * k[3][j]
                    + E5 * k[4][j]
                    + E6 * k[5][j]
                    + E7 * k[6][j]);
            let sc = self.tol.atol + self.tol.rtol * y[j].abs().max(self.y1[j].abs());
            sum += (e / sc).powi(2);
        }
        (sum / y.len() as f64).sqrt()
    }

    fn build_dense(&mut self, y: &[f64], t: f64, h: f64) {
        let k = &self.k;
        let d = &mut self.dense;
        d.t0 = t;
        d.h = h;
        for j in 0..y.len() {
            let dy = self.y1[j] - y[j];
            let bspl = h * k[0][j] - dy;
            d.r[0][j] = y[j];
            d.r[1][j] = dy;
            d.r[2][j] = bspl;
            d.r[3][j] = dy - h * k[6][j] - bspl;
            d.r[4][j] = h
                * (D1 * k[0][j]
                    + D3 * k[2][j]
                    + D4 * k[3][j]
                    + D5 * k[4][j]
                    + D6 * k[5][j]
                    + D7 * k[6][j]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first step by Hairer's rule: for y' = -y from 1 at rtol = atol = 1e-6 the Euler
    /// guess is 0.01 (d0 = d1 = 5e5), the change of f over it gives d2 = 5e5 too, so the
    /// error guess (0.01 / 5e5)^(1/5) = 2.89e-2 is the first step (less than 100 Euler
    /// guesses), to rounding; capped by `h_max`; 1e-6 where f is zero (no scale to go by) or
    /// not a number.
    #[test]
    fn the_first_step_comes_from_the_equations() {
        let tol = Tolerances {
            rtol: 1e-6,
            atol: 1e-6,
        };
        let first = |h_max: f64, f: &mut dyn FnMut(&[f64], &mut [f64])| {
            let mut d = Dopri5::new(1, tol, f64::NAN, h_max);
            d.choose_first_step(&mut |_t, y, dy| f(y, dy), 0.0, &[1.0]);
            d.h
        };
        let decay = first(1.0, &mut |y, dy| dy[0] = -y[0]);
        // d1 = 1 / (2e-6) = 5e5, so h1 = (0.01 / 5e5)^(1/5).
        let expected = (0.01f64 / 5e5).powf(0.2);
        assert!(
            (decay / expected - 1.0).abs() < 1e-12,
            "{decay} vs {expected}"
        );
        assert_eq!(first(1e-3, &mut |y, dy| dy[0] = -y[0]), 1e-3);
        assert_eq!(first(1.0, &mut |_, dy| dy[0] = 0.0), 1e-6);
        assert_eq!(first(1.0, &mut |_, dy| dy[0] = f64::NAN), 1e-6);
    }

    #[test]
    fn harmonic_oscillator_to_tolerance_with_dense_output() {
        // y'' = -y, y(0) = (1, 0): exact (cos t, -sin t). Dense output checked at every 0.01.
        let tol = Tolerances {
            rtol: 1e-10,
            atol: 1e-12,
        };
        let mut d = Dopri5::new(2, tol, 0.01, 1.0);
        let mut y = [1.0, 0.0];
        let mut worst: f64 = 0.0;
        // The most any sample of a step lies outside that step's bounds (must stay <= 0).
        let mut outside_bounds = f64::NEG_INFINITY;
        let mut f = |_t: f64, y: &[f64], dy: &mut [f64]| {
            dy[0] = y[1];
            dy[1] = -y[0];
        };
        d.integrate(&mut f, &mut y, 0.0, 10.0, &mut |dense, _| {
            let mut t = dense.t0;
            while t < dense.t0 + dense.h {
                worst = worst.max((dense.eval(0, t) - t.cos()).abs());
                for j in 0..2 {
                    let (lo, hi) = dense.bounds(j);
                    let x = dense.eval(j, t);
                    outside_bounds = outside_bounds.max(x - hi).max(lo - x);
                }
                t += 0.01;
            }
            Ok(())
        })
        .unwrap();
        assert!((y[0] - 10f64.cos()).abs() < 1e-8, "end {}", y[0]);
        // Dense output is fourth order: looser than the step, 1e-7 here.
        assert!(worst < 1e-7, "dense error {worst}");
        assert!(
            outside_bounds <= 0.0,
            "a sample {outside_bounds} above its step's ceiling"
        );
    }
}
