//! The bytecode run once on first-order jets: each value carries its derivatives in `M`
//! directions at once, in plain arrays (no optional parts, nothing allocated per op). This is
//! how continuation gets an `.ode` model's whole Jacobian `[df/dy | df/dlambda]` in one pass
//! of the interpreter instead of n+1 (each op's dispatch is paid once).
//!
//! The derivative of every function and of the general power comes from the scalar
//! interpreter's own code on [`Dual64`] (`f'(a)` once, then scaled per direction), so the
//! rules are written once. Function tables are left to the generic path (their values carry
//! derivatives of their own).

// The per-direction loops index three arrays of one length M in step: plainer than zips.
#![allow(clippy::needless_range_loop)]

use super::expr::{Arith, Code, Op, apply_binary as binary, call1, pow};
use num_dual::{Dual64, DualNum};

/// A value and its derivatives in `M` directions.
#[derive(Debug, Clone, Copy)]
pub struct Jet<const M: usize> {
    /// The value.
    pub v: f64,
    /// Its derivatives.
    pub d: [f64; M],
}

impl<const M: usize> Jet<M> {
    /// A constant (no derivative).
    #[inline(always)]
    pub fn constant(v: f64) -> Self {
        Jet { v, d: [0.0; M] }
    }

    /// A variable: derivative 1 in direction `k` (none when `k >= M`).
    #[inline(always)]
    pub fn variable(v: f64, k: usize) -> Self {
        let mut d = [0.0; M];
        if let Some(x) = d.get_mut(k) {
            *x = 1.0;
        }
        Jet { v, d }
    }

    /// The value `v` with derivatives `da * self.d`.
    #[inline(always)]
    fn chain(self, v: f64, da: f64) -> Self {
        let mut d = self.d;
        for x in &mut d {
            *x *= da;
        }
        Jet { v, d }
    }

    /// Whether some derivative is non-zero.
    #[inline(always)]
    fn varies(&self) -> bool {
        self.d.iter().any(|&x| x != 0.0)
    }

    #[inline(always)]
    fn arith(self, f: Arith, b: Self) -> Self {
        let mut d = [0.0; M];
        match f {
            Arith::Add => {
                for k in 0..M {
                    d[k] = self.d[k] + b.d[k];
                }
                Jet { v: self.v + b.v, d }
            }
            Arith::Sub => {
                for k in 0..M {
                    d[k] = self.d[k] - b.d[k];
                }
                Jet { v: self.v - b.v, d }
            }
            Arith::Mul => {
                for k in 0..M {
                    d[k] = self.d[k] * b.v + self.v * b.d[k];
                }
                Jet { v: self.v * b.v, d }
            }
            Arith::Div => {
                let inv = 1.0 / b.v;
                let v = self.v / b.v;
                for k in 0..M {
                    d[k] = (self.d[k] - v * b.d[k]) * inv;
                }
                Jet { v, d }
            }
        }
    }

    /// `self op c` for a constant `c`.
    #[inline(always)]
    fn arith_c(self, f: Arith, c: f64) -> Self {
        match f {
            Arith::Add => Jet {
                v: self.v + c,
                d: self.d,
            },
            Arith::Sub => Jet {
                v: self.v - c,
                d: self.d,
            },
            Arith::Mul => self.chain(self.v * c, c),
            Arith::Div => self.chain(self.v / c, 1.0 / c),
        }
    }
}

/// A binary op other than the four arithmetic ones: its partial derivatives from the scalar
/// code on [`Dual64`], then combined per direction.
fn other_binary<const M: usize>(op: Op, a: Jet<M>, b: Jet<M>) -> Jet<M> {
    if let Op::Pow = op {
        // An integer power by a constant exponent: the scalar path's integer power.
        if !b.varies() {
            let r = pow(Dual64::new(a.v, 1.0), Dual64::from(b.v));
            return a.chain(r.re, r.eps);
        }
    }
    let ra = binary(op, Dual64::new(a.v, 1.0), Dual64::from(b.v));
    let rb = binary(op, Dual64::from(a.v), Dual64::new(b.v, 1.0));
    let mut d = [0.0; M];
    for k in 0..M {
        // A direction in which an operand is constant takes nothing from its partial (which
        // may be infinite, as d(a^b)/db at a = 0).
        let x = if a.d[k] != 0.0 { ra.eps * a.d[k] } else { 0.0 };
        let y = if b.d[k] != 0.0 { rb.eps * b.d[k] } else { 0.0 };
        d[k] = x + y;
    }
    Jet { v: ra.re, d }
}

/// Whether [`eval`] can run `code` (no function table).
pub fn supported(code: &Code) -> bool {
    !code.ops.iter().any(|op| matches!(op, Op::Lookup(_)))
}

/// Evaluate `code` on jets; `stack` is scratch (reused across calls). A function table (which
/// [`supported`] refuses) gives NaN.
#[inline]
pub fn eval<const M: usize>(code: &Code, slots: &[Jet<M>], stack: &mut Vec<Jet<M>>) -> Jet<M> {
    if stack.len() < code.depth + 1 {
        stack.resize(code.depth + 1, Jet::constant(0.0));
    }
    let st = &mut stack[..];
    let mut sp = 0usize;
    for op in &code.ops {
        match *op {
            Op::Const(c) => {
                st[sp] = Jet::constant(c);
                sp += 1;
            }
            Op::Slot(k) => {
                st[sp] = slots[k];
                sp += 1;
            }
            Op::Neg => {
                let a = st[sp - 1];
                st[sp - 1] = a.chain(-a.v, -1.0);
            }
            Op::ArithC(f, c) => st[sp - 1] = st[sp - 1].arith_c(f, c),
            Op::ArithS(f, k) => st[sp - 1] = st[sp - 1].arith(f, slots[k]),
            Op::PowI(n) => {
                let a = st[sp - 1];
                let r = Dual64::new(a.v, 1.0).powi(n);
                st[sp - 1] = a.chain(r.re, r.eps);
            }
            Op::Call(f) => {
                let a = st[sp - 1];
                let r = call1(f, Dual64::new(a.v, 1.0));
                st[sp - 1] = a.chain(r.re, r.eps);
            }
            Op::Lookup(_) => st[sp - 1] = Jet::constant(f64::NAN),
            Op::Select => {
                let (c, a, b) = (st[sp - 3], st[sp - 2], st[sp - 1]);
                sp -= 2;
                st[sp - 1] = if c.v != 0.0 { a } else { b };
            }
            _ => {
                let (a, b) = (st[sp - 2], st[sp - 1]);
                sp -= 1;
                st[sp - 1] = match *op {
                    Op::Add => a.arith(Arith::Add, b),
                    Op::Sub => a.arith(Arith::Sub, b),
                    Op::Mul => a.arith(Arith::Mul, b),
                    Op::Div => a.arith(Arith::Div, b),
                    Op::Min => {
                        if b.v < a.v {
                            b
                        } else {
                            a
                        }
                    }
                    Op::Max => {
                        if b.v > a.v {
                            b
                        } else {
                            a
                        }
                    }
                    Op::Cmp(_) => Jet::constant(binary(*op, a.v, b.v)),
                    other => other_binary(other, a, b),
                };
            }
        }
    }
    st[0]
}
