//! Whether time can reach a model's right-hand side at given parameter values: the compiled
//! code is folded with the parameters' values substituted, and a product with a zero factor
//! is zero whatever the other factor reads. So `v' = … + al*sin(omega*t)` with `al = 0` is
//! autonomous (XPPAUT's `fhn.ode`), and stops being so when `al` is set non-zero.

use super::expr::{Arith, CmpOp, Code, Op, call1, compare, pow};

/// What is known about a value before the state is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Known {
    /// A number that follows from the parameter values alone.
    Value(f64),
    /// It depends on the state or on a parameter left free; `time`: it may depend on `t`.
    Varies {
        /// Whether it may depend on `t`.
        time: bool,
    },
}

impl Known {
    fn time(self) -> bool {
        matches!(self, Known::Varies { time: true })
    }

    fn varies(a: Known, b: Known) -> Known {
        Known::Varies {
            time: a.time() || b.time(),
        }
    }
}

impl Code {
    /// The value of this code folded over `slots`: a number where the known slots decide it,
    /// else whether `t` can reach it. A product with a known zero factor is zero (and a known
    /// zero divided by anything), so a forcing term switched off by a parameter set to 0 does
    /// not make the model depend on time.
    pub fn fold(&self, slots: &[Known]) -> Known {
        use Known::Value as V;
        let mut st: Vec<Known> = Vec::with_capacity(self.depth + 1);
        let pop = |st: &mut Vec<Known>| st.pop().unwrap_or(Known::Varies { time: false });
        for op in &self.ops {
            let k = match *op {
                Op::Const(c) => V(c),
                Op::Slot(k) => slots[k],
                Op::Neg => match pop(&mut st) {
                    V(a) => V(-a),
                    a => a,
                },
                Op::Call(f) => match pop(&mut st) {
                    V(a) => V(call1(f, a)),
                    a => a,
                },
                Op::PowI(n) => match pop(&mut st) {
                    V(a) => V(a.powi(n)),
                    a => a,
                },
                Op::Lookup(t) => {
                    let x = pop(&mut st);
                    let values = &slots[t.base..t.base + t.n];
                    match (x, values.iter().all(|v| matches!(v, V(_)))) {
                        (V(x), true) => {
                            let y: Vec<f64> = values
                                .iter()
                                .map(|v| if let V(y) = v { *y } else { 0.0 })
                                .collect();
                            let local = super::expr::Table { base: 0, ..t };
                            V(local.at(&y, x))
                        }
                        _ => Known::Varies {
                            time: x.time() || values.iter().any(|v| v.time()),
                        },
                    }
                }
                Op::ArithC(f, c) => arith(f, pop(&mut st), V(c)),
                Op::ArithS(f, k) => arith(f, pop(&mut st), slots[k]),
                Op::Select => {
                    let (b, a, c) = (pop(&mut st), pop(&mut st), pop(&mut st));
                    match c {
                        V(c) => {
                            if c != 0.0 {
                                a
                            } else {
                                b
                            }
                        }
                        _ if a == b => a,
                        _ => Known::Varies {
                            time: a.time() || b.time() || c.time(),
                        },
                    }
                }
                binary => {
                    let (b, a) = (pop(&mut st), pop(&mut st));
                    match binary {
                        Op::Add => arith(Arith::Add, a, b),
                        Op::Sub => arith(Arith::Sub, a, b),
                        Op::Mul => arith(Arith::Mul, a, b),
                        Op::Div => arith(Arith::Div, a, b),
                        Op::Pow => match (a, b) {
                            (V(x), V(y)) => V(pow(x, y)),
                            (_, V(0.0)) => V(1.0),
                            (V(1.0), _) => V(1.0),
                            _ => Known::varies(a, b),
                        },
                        Op::Cmp(c) => match (c, a, b) {
                            (_, V(x), V(y)) => V(f64::from(compare(c, x, y))),
                            (CmpOp::And, V(x), _) | (CmpOp::And, _, V(x)) if x == 0.0 => V(0.0),
                            (CmpOp::Or, V(x), _) | (CmpOp::Or, _, V(x)) if x != 0.0 => V(1.0),
                            _ => Known::varies(a, b),
                        },
                        _ => match (a, b) {
                            (V(x), V(y)) => {
                                // Min, Max, Atan2, Mod on numbers: as the bytecode computes them.
                                let code = Code {
                                    ops: vec![Op::Const(x), Op::Const(y), binary],
                                    depth: 2,
                                };
                                V(code.eval::<f64>(&[], &mut vec![]))
                            }
                            _ => Known::varies(a, b),
                        },
                    }
                }
            };
            st.push(k);
        }
        st.pop().unwrap_or(V(0.0))
    }
}

/// `a f b` folded: numbers combine; a zero factor (or a zero dividend) gives zero.
fn arith(f: Arith, a: Known, b: Known) -> Known {
    use Known::Value as V;
    match (f, a, b) {
        (_, V(x), V(y)) => V(f.apply(x, y)),
        (Arith::Mul, V(z), _) | (Arith::Mul, _, V(z)) | (Arith::Div, V(z), _) if z == 0.0 => V(0.0),
        _ => Known::varies(a, b),
    }
}
