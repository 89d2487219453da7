//! Gate rate functions: the four standard forms, exact and smooth everywhere.
//!
//! Every rate is written in terms of `y = (V - v0) / k`:
//!
//! | form       | value                      | example (HH, modern convention)                 |
//! |------------|----------------------------|-------------------------------------------------|
//! | `exp`      | `a * exp(y)`               | beta_m = 4 exp(-(V+65)/18): a=4, v0=-65, k=-18  |
//! | `sigmoid`  | `a / (1 + exp(-y))`        | beta_h = 1/(1+exp(-(V+35)/10)): a=1, v0=-35, k=10 |
//! | `linoid`   | `a * y / (1 - exp(-y))`    | alpha_m = 0.1(V+40)/(1-exp(-(V+40)/10)): a=1, v0=-40, k=10 |
//! | `constant` | `a`                        |                                                  |
//!
//! The linoid has a removable singularity at `V = v0` (0/0 in naive code). We evaluate
//! `y / (1 - exp(-y))` with `expm1` away from 0 and with its Taylor series (Bernoulli numbers)
//! for `|y| < 0.5`; the series is truncated after `y^14`, so the value and its first three
//! derivatives are accurate to about 1e-16, 1e-15 and 1e-13 there, which keeps dual-number
//! derivatives exact through the singularity as well.

use crate::numerics::Scalar;
use serde::{Deserialize, Serialize};

/// One of the standard rate-function forms, with its constants (1/ms, mV, mV).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "form", rename_all = "lowercase", deny_unknown_fields)]
pub enum RateFn {
    /// `a * exp((V - v0) / k)`
    Exp {
        /// Value at `V = v0` (1/ms for a rate, 1 for a steady state, ms for a time constant).
        a: f64,
        /// Reference potential (mV).
        v0: f64,
        /// Scale (mV): e-fold per `k` mV; negative for a decreasing rate.
        k: f64,
    },
    /// `a / (1 + exp(-(V - v0) / k))`
    Sigmoid {
        /// Upper asymptote (1/ms for a rate, 1 for a steady state, ms for a time constant).
        a: f64,
        /// Half-activation potential (mV), where the value is `a / 2`.
        v0: f64,
        /// Slope factor (mV); negative for a decreasing sigmoid.
        k: f64,
    },
    /// `a * y / (1 - exp(-y))` with `y = (V - v0) / k`; finite and smooth at `V = v0`, where it is `a`.
    Linoid {
        /// Value at `V = v0` (1/ms); for large `y` the rate approaches `a y`.
        a: f64,
        /// Potential of the removable singularity (mV).
        v0: f64,
        /// Scale (mV).
        k: f64,
    },
    /// `a`
    Constant {
        /// The value, whatever V is.
        a: f64,
    },
}

/// Coefficients of `y / (1 - exp(-y)) = sum c_n y^n` (c_n = B_n^+ / n!, Bernoulli numbers with
/// B_1 = +1/2); odd terms beyond `y` vanish.
pub(crate) const LINOID_SERIES: [f64; 15] = [
    1.0,
    0.5,
    1.0 / 12.0,
    0.0,
    -1.0 / 720.0,
    0.0,
    1.0 / 30240.0,
    0.0,
    -1.0 / 1209600.0,
    0.0,
    1.0 / 47900160.0,
    0.0,
    -691.0 / 1307674368000.0,
    0.0,
    7.0 / 523069747200.0,
];

/// Below this |y| the linoid uses its series (see the module docs for the accuracy).
pub(crate) const LINOID_SERIES_RADIUS: f64 = 0.5;

/// `y / (1 - exp(-y))`, exact through `y = 0` for values and dual-number derivatives.
#[inline]
pub fn linoid_core<T: Scalar>(y: T) -> T {
    if y.re().abs() < LINOID_SERIES_RADIUS {
        // Horner on the even part plus the linear term.
        let y2 = y * y;
        let mut even = T::from(LINOID_SERIES[14]);
        let mut n = 12;
        loop {
            even = even * y2 + LINOID_SERIES[n];
            if n == 0 {
                break;
            }
            n -= 2;
        }
        even + y * 0.5
    } else {
        // 1 - exp(-y) = -expm1(-y), accurate for all y.
        -(y / (-y).exp_m1())
    }
}

impl RateFn {
    /// The rate in 1/ms at membrane potential `v` (mV).
    #[inline]
    pub fn eval<T: Scalar>(&self, v: T) -> T {
        match *self {
            RateFn::Exp { a, v0, k } => ((v - v0) / k).exp() * a,
            RateFn::Sigmoid { a, v0, k } => (((v - v0) / (-k)).exp() + 1.0).recip() * a,
            RateFn::Linoid { a, v0, k } => linoid_core((v - v0) / k) * a,
            RateFn::Constant { a } => T::from(a),
        }
    }

    /// Check the constants: finite, and `k != 0` where it divides.
    pub fn validate(&self) -> Result<(), String> {
        let (a, v0, k) = match *self {
            RateFn::Exp { a, v0, k }
            | RateFn::Sigmoid { a, v0, k }
            | RateFn::Linoid { a, v0, k } => (a, v0, k),
            RateFn::Constant { a } => (a, 0.0, 1.0),
        };
        if !(a.is_finite() && v0.is_finite() && k.is_finite()) {
            return Err(format!(
                "rate constants must be finite (a={a}, v0={v0}, k={k})"
            ));
        }
        if k == 0.0 {
            return Err("rate constant k must not be 0 (it divides V - v0)".into());
        }
        Ok(())
    }

    /// The removable singularity of a linoid (mV), if this is one.
    pub fn singularity_mv(&self) -> Option<f64> {
        match *self {
            RateFn::Linoid { v0, .. } => Some(v0),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_dual::{Dual3_64, Dual64};

    /// Reference for y/(1-exp(-y)) away from 0, straight from the definition.
    fn naive(y: f64) -> f64 {
        y / (1.0 - (-y).exp())
    }

    #[test]
    fn linoid_matches_definition_on_both_sides_of_the_switch() {
        // At |y| = 0.5 both branches are valid: they must agree to rounding (1e-15 relative).
        for y in [
            -0.5000001, -0.4999999, 0.4999999, 0.5000001, 0.3, -0.2, 1.0, -3.0, 20.0, -20.0,
        ] {
            let got = linoid_core(y);
            assert!(
                (got - naive(y)).abs() <= 2e-15 * naive(y).abs(),
                "y={y}: {got} vs {}",
                naive(y)
            );
        }
    }

    #[test]
    fn linoid_is_exact_at_the_singularity() {
        assert_eq!(linoid_core(0.0), 1.0);
        let r = RateFn::Linoid {
            a: 1.0,
            v0: -40.0,
            k: 10.0,
        };
        // HH alpha_m(-40) = 0.1 * 10 = 1 (the limit of 0.1(V+40)/(1-exp(-(V+40)/10))).
        assert_eq!(r.eval(-40.0_f64), 1.0);
        assert!(r.eval(-40.0_f64 + 1e-12).is_finite());
    }

    #[test]
    fn linoid_derivatives_are_smooth_through_zero() {
        // d/dy [y/(1-e^-y)] at 0 is 1/2, second derivative 1/6, third 0 (from the series).
        let d = linoid_core(Dual3_64::new(0.0, 1.0, 0.0, 0.0));
        assert!((d.v1 - 0.5).abs() < 1e-15);
        assert!((d.v2 - 1.0 / 6.0).abs() < 1e-15);
        assert!(d.v3.abs() < 1e-13);
        // Compare the dual-number derivative with a central difference at a point near the switch.
        let y = 0.49;
        let h = 1e-6;
        let fd = (linoid_core(y + h) - linoid_core(y - h)) / (2.0 * h);
        let dual = linoid_core(Dual64::new(y, 1.0)).eps;
        assert!((fd - dual).abs() < 1e-9, "{fd} vs {dual}");
    }

    #[test]
    fn forms_evaluate_as_documented() {
        let v = -30.0_f64;
        let e = RateFn::Exp {
            a: 4.0,
            v0: -65.0,
            k: -18.0,
        }
        .eval(v);
        assert!((e - 4.0 * (-(v + 65.0) / 18.0).exp()).abs() < 1e-15);
        let s = RateFn::Sigmoid {
            a: 1.0,
            v0: -35.0,
            k: 10.0,
        }
        .eval(v);
        assert!((s - 1.0 / (1.0 + (-(v + 35.0) / 10.0).exp())).abs() < 1e-15);
        let l = RateFn::Linoid {
            a: 0.1,
            v0: -55.0,
            k: 10.0,
        }
        .eval(v);
        assert!((l - 0.01 * (v + 55.0) / (1.0 - (-(v + 55.0) / 10.0).exp())).abs() < 1e-15);
        assert_eq!(RateFn::Constant { a: 2.5 }.eval(v), 2.5);
    }
}
