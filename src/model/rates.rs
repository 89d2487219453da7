//! Gate rate functions: four standard forms, exact and smooth everywhere, and three ways of
//! combining them.
//!
//! Every standard rate is written in terms of `y = (V - v0) / k`:
//!
//! | form       | value                      | example (HH, modern convention)                 |
//! |------------|----------------------------|-------------------------------------------------|
//! | `exp`      | `a * exp(y)`               | beta_m = 4 exp(-(V+65)/18): a=4, v0=-65, k=-18  |
//! | `sigmoid`  | `a / (1 + exp(-y))`        | beta_h = 1/(1+exp(-(V+35)/10)): a=1, v0=-35, k=10 |
//! | `linoid`   | `a * y / (1 - exp(-y))`    | alpha_m = 0.1(V+40)/(1-exp(-(V+40)/10)): a=1, v0=-40, k=10 |
//! | `constant` | `a`                        |                                                  |
//!
//! and the combinations (each part is again any form):
//!
//! | form       | value                      | example (Connor-Stevens, Dayan & Abbott)          |
//! |------------|----------------------------|---------------------------------------------------|
//! | `sum`      | `terms[0] + terms[1] + …`  | tau_a = 0.3632 + 1.158/(1+exp(0.0497(V+55.96)))   |
//! | `product`  | `factors[0] * factors[1] * …` | 0.0761 exp(0.0314(V+94.22)) / (1+exp(0.0346(V+1.17))) |
//! | `power`    | `of ^ p`                   | b_inf = (1/(1+exp(0.0688(V+53.3))))^4             |
//!
//! A `power` with an integer `p` (|p| <= [`MAX_INTEGER_POWER`]) is taken by repeated
//! multiplication (`powi`), any other `p` as `exp(p ln x)` (`powf`), which needs the base to stay
//! positive: a steady state raised to 1/3 is fine, a linoid below its `v0` with `k < 0` is not.
//!
//! The linoid has a removable singularity at `V = v0` (0/0 in naive code). We evaluate
//! `y / (1 - exp(-y))` with `expm1` away from 0 and with its Taylor series (Bernoulli numbers)
//! for `|y| < 0.5`; the series is truncated after `y^14`, so the value and its first three
//! derivatives are accurate to about 1e-16, 1e-15 and 1e-13 there, which keeps dual-number
//! derivatives exact through the singularity as well.

use crate::numerics::Scalar;
use serde::{Deserialize, Serialize};

/// A rate function of V: one of the standard forms with its constants (1/ms, mV, mV), or a
/// sum, product or power of other rate functions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// `terms[0] + terms[1] + …` (at least one term).
    Sum {
        /// The forms added.
        terms: Vec<RateFn>,
    },
    /// `factors[0] * factors[1] * …` (at least one factor).
    Product {
        /// The forms multiplied.
        factors: Vec<RateFn>,
    },
    /// `of ^ p`: repeated multiplication for an integer `p` (|p| <= [`MAX_INTEGER_POWER`]),
    /// else `powf` (the base must then stay positive).
    Power {
        /// The base form.
        of: Box<RateFn>,
        /// The exponent.
        p: f64,
    },
}

/// Integer exponents up to this size are taken by `powi`; larger or fractional ones by `powf`.
pub const MAX_INTEGER_POWER: f64 = 64.0;

/// How deep sums, products and powers may nest in one rate function.
pub const MAX_RATE_DEPTH: usize = 16;

/// How many standard forms one rate function may combine.
pub const MAX_RATE_TERMS: usize = 256;

/// `x^p` as a rate's `power` takes it: `powi` for an integer `p` (|p| <=
/// [`MAX_INTEGER_POWER`]), else `powf`. The batch kernel calls the same function.
#[inline]
pub fn rate_power<T: Scalar>(x: T, p: f64) -> T {
    if p == p.round() && p.abs() <= MAX_INTEGER_POWER {
        x.powi(p as i32)
    } else {
        x.powf(p)
    }
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
            RateFn::Sum { ref terms } => {
                let mut s = T::from(0.0);
                for t in terms {
                    s += t.eval(v);
                }
                s
            }
            RateFn::Product { ref factors } => {
                let mut s = T::from(1.0);
                for f in factors {
                    s *= f.eval(v);
                }
                s
            }
            RateFn::Power { ref of, p } => rate_power(of.eval(v), p),
        }
    }

    /// Check the constants: finite, and `k != 0` where it divides; sums and products not
    /// empty, powers finite, nesting at most [`MAX_RATE_DEPTH`] deep and at most
    /// [`MAX_RATE_TERMS`] standard forms in all.
    pub fn validate(&self) -> Result<(), String> {
        let mut count = 0;
        self.validate_within(0, &mut count)
    }

    fn validate_within(&self, depth: usize, count: &mut usize) -> Result<(), String> {
        if depth > MAX_RATE_DEPTH {
            return Err(format!(
                "sums, products and powers nest more than {MAX_RATE_DEPTH} deep"
            ));
        }
        let (a, v0, k) = match self {
            RateFn::Exp { a, v0, k }
            | RateFn::Sigmoid { a, v0, k }
            | RateFn::Linoid { a, v0, k } => (*a, *v0, *k),
            RateFn::Constant { a } => (*a, 0.0, 1.0),
            RateFn::Sum { terms: parts } | RateFn::Product { factors: parts } => {
                if parts.is_empty() {
                    return Err(if matches!(self, RateFn::Sum { .. }) {
                        "a sum needs at least one term".into()
                    } else {
                        "a product needs at least one factor".into()
                    });
                }
                return parts
                    .iter()
                    .try_for_each(|r| r.validate_within(depth + 1, count));
            }
            RateFn::Power { of, p } => {
                if !p.is_finite() {
                    return Err(format!("power p must be finite (p={p})"));
                }
                return of.validate_within(depth + 1, count);
            }
        };
        *count += 1;
        if *count > MAX_RATE_TERMS {
            return Err(format!(
                "a rate function may combine at most {MAX_RATE_TERMS} forms"
            ));
        }
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

    /// The standard forms this one is made of, in order (itself, if it is one).
    pub fn leaves(&self) -> Vec<&RateFn> {
        match self {
            RateFn::Sum { terms: parts } | RateFn::Product { factors: parts } => {
                parts.iter().flat_map(|r| r.leaves()).collect()
            }
            RateFn::Power { of, .. } => of.leaves(),
            leaf => vec![leaf],
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

    /// Connor-Stevens' A-current gates as Dayan & Abbott write them (Theoretical
    /// Neuroscience, 2001, ch. 6): a_inf, tau_a and b_inf as combinations of the forms.
    fn connor_stevens_a() -> (RateFn, RateFn, RateFn) {
        let a_inf = RateFn::Power {
            of: Box::new(RateFn::Product {
                factors: vec![
                    RateFn::Exp {
                        a: 0.0761,
                        v0: -94.22,
                        k: 1.0 / 0.0314,
                    },
                    RateFn::Sigmoid {
                        a: 1.0,
                        v0: -1.17,
                        k: -1.0 / 0.0346,
                    },
                ],
            }),
            p: 1.0 / 3.0,
        };
        let tau_a = RateFn::Sum {
            terms: vec![
                RateFn::Constant { a: 0.3632 },
                RateFn::Sigmoid {
                    a: 1.158,
                    v0: -55.96,
                    k: -1.0 / 0.0497,
                },
            ],
        };
        let b_inf = RateFn::Power {
            of: Box::new(RateFn::Sigmoid {
                a: 1.0,
                v0: -53.3,
                k: -1.0 / 0.0688,
            }),
            p: 4.0,
        };
        (a_inf, tau_a, b_inf)
    }

    #[test]
    fn combinations_evaluate_as_documented() {
        let (a_inf, tau_a, b_inf) = connor_stevens_a();
        for v in [-90.0_f64, -60.0, -30.0, 0.0, 40.0] {
            let a = (0.0761 * (0.0314 * (v + 94.22)).exp() / (1.0 + (0.0346 * (v + 1.17)).exp()))
                .cbrt();
            let t = 0.3632 + 1.158 / (1.0 + (0.0497 * (v + 55.96)).exp());
            let b = (1.0 / (1.0 + (0.0688 * (v + 53.3)).exp())).powi(4);
            assert!((a_inf.eval(v) - a).abs() < 1e-15 * a, "a_inf({v})");
            assert!((tau_a.eval(v) - t).abs() < 1e-15 * t, "tau_a({v})");
            assert!((b_inf.eval(v) - b).abs() < 1e-14 * b, "b_inf({v})");
        }
        // -30 mV, worked in docs/model-files.md.
        assert!((tau_a.eval(-30.0_f64) - 0.613116).abs() < 1e-6);
        // An integer power takes powi, so a negative base is fine; -1 divides.
        let inv = RateFn::Power {
            of: Box::new(RateFn::Constant { a: -4.0 }),
            p: -1.0,
        };
        assert_eq!(inv.eval(0.0_f64), -0.25);
    }

    #[test]
    fn combinations_have_exact_derivatives() {
        // The dual-number derivative of every combination against a central difference.
        let (a_inf, tau_a, b_inf) = connor_stevens_a();
        for r in [&a_inf, &tau_a, &b_inf] {
            for v in [-75.0, -52.0, -10.0, 25.0] {
                let h = 1e-5;
                let fd = (r.eval(v + h) - r.eval(v - h)) / (2.0 * h);
                let dual = r.eval(Dual64::new(v, 1.0)).eps;
                assert!(
                    (fd - dual).abs() <= 1e-8 * (1.0 + dual.abs()),
                    "{r:?} at {v}: {fd} vs {dual}"
                );
            }
        }
    }

    #[test]
    fn combinations_are_checked() {
        assert!(RateFn::Sum { terms: vec![] }.validate().is_err());
        assert!(RateFn::Product { factors: vec![] }.validate().is_err());
        let bad_p = RateFn::Power {
            of: Box::new(RateFn::Constant { a: 1.0 }),
            p: f64::NAN,
        };
        assert!(bad_p.validate().unwrap_err().contains("finite"));
        let bad_k = RateFn::Sum {
            terms: vec![RateFn::Exp {
                a: 1.0,
                v0: 0.0,
                k: 0.0,
            }],
        };
        assert!(bad_k.validate().unwrap_err().contains("k must not be 0"));
        let mut deep = RateFn::Constant { a: 1.0 };
        for _ in 0..=MAX_RATE_DEPTH {
            deep = RateFn::Sum { terms: vec![deep] };
        }
        assert!(deep.validate().unwrap_err().contains("nest"));
        let (a_inf, tau_a, b_inf) = connor_stevens_a();
        for r in [a_inf, tau_a, b_inf] {
            r.validate().unwrap();
        }
    }
}
