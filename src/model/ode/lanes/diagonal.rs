//! The right-hand sides together with each one's derivative in its own variable,
//! `df_i/dx_i`, on lanes: what exponential Euler needs to step an `.ode` model (each variable
//! advanced exactly for the others frozen, as BrainPy's `exp_auto` does with automatic
//! differentiation).
//!
//! Forward mode with one direction per equation: equation `i`'s code runs on (value, tangent)
//! pairs seeded at `x_i`. Which registers can carry a tangent is known while compiling, so an
//! instruction none of whose operands depends on `x_i` stays the plain instruction, and the
//! dual one is emitted only along the paths from `x_i` to `f_i`. In HH written as an `.ode`
//! file, the rates in `m'` do not depend on `m`, so their exponentials run once and are not
//! differentiated; only `am*(1-m) - bm*m` carries a tangent. The whole pass costs little more
//! than one plain evaluation, against four for an RK4 step.
//!
//! A fixed quantity that depends on `x_i` and that equation `i` reads (directly or through
//! other fixed quantities) is computed with its tangent before equation `i`; one that something
//! reads before such a computation is computed plainly first, once. A fixed quantity no
//! equation reads (one only an `aux` line uses) is not computed by this pass at all.
//!
//! The derivative rules of the elementary operations are written here for lanes; those of
//! every other function and binary op come from the scalar interpreter's own code on
//! [`Dual64`] per lane, as the jets take them (`super::super::jet`).

use super::super::OdeModel;
use super::super::expr::{Code, Op, apply_binary, call1};
use super::{Instr, Kind, LANES, LaneProgram, Lanes, Layout, each_lane, powi_lanes, tanh_lanes};
use crate::numerics::lanes::exp_lanes;
use num_dual::Dual64;

/// Which of a dual binary instruction's first two operands carry a tangent (a product then
/// skips the term of the one that does not).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Varying {
    /// Only the first.
    A,
    /// Only the second.
    B,
    /// Both; also what a plain instruction (neither) holds, where it is not read.
    Both,
}

/// An instruction of the diagonal pass: the plain instruction, or (`dual`) the instruction on
/// values and tangents, whose tangent registers are `td = f'(ta, tb, tc)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct DualInstr {
    instr: Instr,
    dual: bool,
    /// Which operands of a dual instruction depend on the direction.
    varying: Varying,
    td: u32,
    ta: u32,
    tb: u32,
    tc: u32,
}

/// The diagonal pass of a lane program, and where its results are.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Diagonal {
    pub(super) instrs: Vec<DualInstr>,
    /// The register of `df_i/dx_i` for each `i` (the zero register where `f_i` does not depend
    /// on `x_i`).
    pub(super) regs: Vec<u32>,
}

/// The registers a diagonal pass adds to a program of `n_regs`: a tangent for each register
/// (`r + n_regs`), then one that always holds zero.
pub(super) fn tangent(r: usize, n_regs: usize) -> usize {
    r + n_regs
}

/// The register that holds zero in a program of `n_regs` (the tangent of anything that does
/// not depend on the direction).
pub(super) fn zero(n_regs: usize) -> usize {
    2 * n_regs
}

/// The fixed quantities `code` reads directly (their indices), given where they start among
/// the slots: after the parameters, the variables and `t` (a model with algebraic variables,
/// whose slots would come between, has no lane program).
fn fixed_read(code: &Code, first_fixed_slot: usize) -> impl Iterator<Item = usize> + '_ {
    code.ops.iter().filter_map(move |op| match *op {
        Op::Slot(k) | Op::ArithS(_, k) if k >= first_fixed_slot => Some(k - first_fixed_slot),
        _ => None,
    })
}

impl Layout<'_> {
    /// Compile `code` so its value lands in register `dst` and, where it depends on the
    /// direction (`varies[r]` for the registers that do), its tangent in `dst`'s tangent
    /// register. Returns whether the value depends on the direction.
    fn emit_dual(
        &self,
        code: &Code,
        dst: usize,
        varies: &[bool],
        n_regs: usize,
        out: &mut Vec<DualInstr>,
    ) -> Option<bool> {
        let mut plain = vec![];
        self.emit(code, dst, &mut plain, varies)?;
        // `emit` gives each stack entry the register of its position, so replaying its
        // instructions in order tells, for each, whether an operand varies: registers written
        // by an instruction that varies vary until they are written again.
        let mut live = varies.to_vec();
        let t = |r: u32| tangent(r as usize, n_regs) as u32;
        let z = zero(n_regs) as u32;
        let mut result = false;
        for ins in plain {
            let operand = |r: u32, used: bool| used && live[r as usize];
            let (two, three) = match ins.kind {
                Kind::Copy
                | Kind::Neg
                | Kind::Exp
                | Kind::Affine(..)
                | Kind::Tanh
                | Kind::Cosh
                | Kind::PowI(_)
                | Kind::Call(_) => (false, false),
                // A fused op's second operand is a constant or a slot register: it varies
                // only if it is the direction's variable or a fixed quantity that depends on it.
                Kind::Add
                | Kind::Sub
                | Kind::Mul
                | Kind::Div
                | Kind::Min
                | Kind::Max
                | Kind::Binary(_) => (true, false),
                Kind::Select => (true, true),
                // The exponential's value is read; its input is the third operand.
                Kind::AffineExp(..) => (false, true),
            };
            let (va, vb, vc) = (
                operand(ins.a, true),
                operand(ins.b, two),
                operand(ins.c, three),
            );
            // Select's condition carries no derivative: only its branches do.
            let dual = match ins.kind {
                Kind::Select => vb || vc,
                _ => va || vb || vc,
            };
            let tan = |r: u32, v: bool| if v { t(r) } else { z };
            out.push(DualInstr {
                instr: ins,
                dual,
                varying: match (va, vb) {
                    (true, false) => Varying::A,
                    (false, true) => Varying::B,
                    _ => Varying::Both,
                },
                td: t(ins.dst),
                ta: tan(ins.a, va),
                tb: tan(ins.b, vb),
                tc: tan(ins.c, vc),
            });
            live[ins.dst as usize] = dual;
            if ins.dst as usize == dst {
                result = dual;
            }
        }
        Some(result)
    }
}

impl Diagonal {
    /// The diagonal pass of `model`: the fixed quantities plainly (those read plainly), then
    /// for each equation the fixed quantities it reads that depend on its variable, and the
    /// equation itself, on (value, tangent) pairs.
    pub(super) fn compile(
        model: &OdeModel,
        regs: &Layout,
        program: &LaneProgram,
    ) -> Option<Diagonal> {
        let n_regs = program.n_regs;
        let (n_params, n_vars) = (program.n_params, program.n_vars);
        let first_fixed_slot = n_params + n_vars + 1;
        let fixed_base = regs.slot_base + first_fixed_slot;
        // Each equation's pass, and which fixed quantities it recomputes with their tangents.
        let mut equations = vec![];
        let mut diag = vec![];
        for (i, code) in model.rhs.iter().enumerate() {
            // The fixed quantities equation i reads, through each other too (a fixed quantity
            // reads only those before it).
            let mut read = vec![false; model.fixed.len()];
            for k in fixed_read(code, first_fixed_slot) {
                read[k] = true;
            }
            for k in (0..model.fixed.len()).rev() {
                if read[k] {
                    for j in fixed_read(&model.fixed[k], first_fixed_slot) {
                        read[j] = true;
                    }
                }
            }
            let mut varies = vec![false; n_regs];
            varies[program.var(i)] = true;
            let mut instrs = vec![];
            let mut recomputed = vec![false; model.fixed.len()];
            for (k, fixed) in model.fixed.iter().enumerate().filter(|&(k, _)| read[k]) {
                let at = instrs.len();
                if regs.emit_dual(fixed, fixed_base + k, &varies, n_regs, &mut instrs)? {
                    varies[fixed_base + k] = true;
                    recomputed[k] = true;
                } else {
                    // Its value is in place from the plain computation before the equations.
                    instrs.truncate(at);
                }
            }
            let dy = program.derivative(i);
            let depends = regs.emit_dual(code, dy, &varies, n_regs, &mut instrs)?;
            diag.push(if depends {
                tangent(dy, n_regs)
            } else {
                zero(n_regs)
            } as u32);
            equations.push((instrs, read, recomputed));
        }
        // A fixed quantity is computed plainly first only if something reads its value before
        // an equation has recomputed it with its tangent (the value of that recomputation is
        // the plain one, bit for bit): in HH written as an `.ode` file, `ina` and `ik` are
        // read only by V's equation, which recomputes both, so neither is computed twice.
        let mut plain = vec![false; model.fixed.len()];
        let mut in_place = vec![false; model.fixed.len()];
        for (_, read, recomputed) in &equations {
            for k in 0..model.fixed.len() {
                if recomputed[k] {
                    in_place[k] = true;
                } else if read[k] && !in_place[k] {
                    plain[k] = true;
                }
            }
        }
        // What a plain computation reads is computed plainly too.
        for k in (0..model.fixed.len()).rev() {
            if plain[k] {
                for j in fixed_read(&model.fixed[k], first_fixed_slot) {
                    plain[j] = true;
                }
            }
        }
        let none = vec![false; n_regs];
        let mut instrs = vec![];
        for (k, code) in model.fixed.iter().enumerate().filter(|&(k, _)| plain[k]) {
            regs.emit_dual(code, fixed_base + k, &none, n_regs, &mut instrs)?;
        }
        for (pass, _, _) in equations {
            instrs.extend(pass);
        }
        Some(Diagonal { instrs, regs: diag })
    }

    /// Run the pass on `regs` (a [`LaneProgram::registers`] file with the state and `t` in
    /// place).
    #[inline(always)]
    pub(super) fn eval(&self, regs: &mut [Lanes]) {
        for ins in &self.instrs {
            if !ins.dual {
                regs[ins.instr.dst as usize] = ins.instr.value(regs);
                continue;
            }
            let (v, d) = ins.value_and_tangent(regs);
            regs[ins.instr.dst as usize] = v;
            regs[ins.td as usize] = d;
        }
    }
}

/// The values and tangents `f(l)` of every lane.
#[inline(always)]
fn pairs(f: impl Fn(usize) -> (f64, f64)) -> (Lanes, Lanes) {
    let (mut v, mut d) = ([0.0; LANES], [0.0; LANES]);
    for l in 0..LANES {
        (v[l], d[l]) = f(l);
    }
    (v, d)
}

impl DualInstr {
    /// The instruction's value and tangent, lane by lane: the value as the plain instruction
    /// computes it, bit for bit.
    #[inline(always)]
    fn value_and_tangent(&self, regs: &[Lanes]) -> (Lanes, Lanes) {
        let ins = &self.instr;
        // Each arm reads only the registers it uses (every read is bounds-checked).
        let at = |r: u32| &regs[r as usize];
        let (a, ta) = (at(ins.a), at(self.ta));
        let second = || (at(ins.b), at(self.tb));
        match ins.kind {
            Kind::Copy => (*a, *ta),
            Kind::Neg => (each_lane(|l| -a[l]), each_lane(|l| -ta[l])),
            Kind::Add => {
                let (b, tb) = second();
                (each_lane(|l| a[l] + b[l]), each_lane(|l| ta[l] + tb[l]))
            }
            Kind::Sub => {
                let (b, tb) = second();
                (each_lane(|l| a[l] - b[l]), each_lane(|l| ta[l] - tb[l]))
            }
            Kind::Mul => {
                let (b, tb) = second();
                let v = each_lane(|l| a[l] * b[l]);
                // Where one factor does not depend on the direction, its term is zero.
                let d = match self.varying {
                    Varying::A => each_lane(|l| ta[l] * b[l]),
                    Varying::B => each_lane(|l| a[l] * tb[l]),
                    Varying::Both => each_lane(|l| ta[l] * b[l] + a[l] * tb[l]),
                };
                (v, d)
            }
            Kind::Div => {
                let (b, tb) = second();
                let q: Lanes = each_lane(|l| a[l] / b[l]);
                (q, each_lane(|l| (ta[l] - q[l] * tb[l]) / b[l]))
            }
            Kind::Min => {
                let (b, tb) = second();
                pairs(|l| {
                    if b[l] < a[l] {
                        (b[l], tb[l])
                    } else {
                        (a[l], ta[l])
                    }
                })
            }
            Kind::Max => {
                let (b, tb) = second();
                pairs(|l| {
                    if b[l] > a[l] {
                        (b[l], tb[l])
                    } else {
                        (a[l], ta[l])
                    }
                })
            }
            Kind::Select => {
                let (b, tb) = second();
                let (c, tc) = (at(ins.c), at(self.tc));
                pairs(|l| {
                    if a[l] != 0.0 {
                        (b[l], tb[l])
                    } else {
                        (c[l], tc[l])
                    }
                })
            }
            Kind::Exp => {
                let mut e = [0.0; LANES];
                exp_lanes(a, &mut e);
                (e, each_lane(|l| e[l] * ta[l]))
            }
            Kind::Affine(scale, offset) => (
                each_lane(|l| scale.mul_add(a[l], offset)),
                each_lane(|l| scale * ta[l]),
            ),
            Kind::AffineExp(slope, addend) => {
                let tc = at(self.tc);
                (*a, each_lane(|l| slope * (a[l] - addend) * tc[l]))
            }
            Kind::Tanh => {
                let v = tanh_lanes(a);
                (v, each_lane(|l| (1.0 - v[l] * v[l]) * ta[l]))
            }
            Kind::Cosh => {
                // `cosh_lanes`'s formula on the one exponential, so the value is its own.
                let mut e = [0.0; LANES];
                exp_lanes(a, &mut e);
                (
                    each_lane(|l| 0.5 * (e[l] + 1.0 / e[l])),
                    each_lane(|l| 0.5 * (e[l] - 1.0 / e[l]) * ta[l]),
                )
            }
            Kind::PowI(n) => {
                let v = powi_lanes(*a, n);
                let slope = if n == 0 {
                    [0.0; LANES]
                } else {
                    let p = powi_lanes(*a, n - 1);
                    each_lane(|l| f64::from(n) * p[l])
                };
                (v, each_lane(|l| slope[l] * ta[l]))
            }
            // A direction in which an operand is constant takes nothing from its partial
            // (which may be infinite, as sqrt's at 0).
            Kind::Call(f) => pairs(|l| {
                let v = call1(f, a[l]);
                if ta[l] == 0.0 {
                    return (v, 0.0);
                }
                (v, call1(f, Dual64::new(a[l], 1.0)).eps * ta[l])
            }),
            // A power by a constant integer exponent takes the scalar path's integer power
            // inside `apply_binary`'s `pow`, on `Dual64` as on `f64`.
            Kind::Binary(op) => {
                let (b, tb) = second();
                pairs(|l| {
                    let v = apply_binary(op, a[l], b[l]);
                    let da = if ta[l] == 0.0 {
                        0.0
                    } else {
                        apply_binary(op, Dual64::new(a[l], 1.0), Dual64::from(b[l])).eps * ta[l]
                    };
                    let db = if tb[l] == 0.0 {
                        0.0
                    } else {
                        apply_binary(op, Dual64::from(a[l]), Dual64::new(b[l], 1.0)).eps * tb[l]
                    };
                    (v, da + db)
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The diagonal pass on `text`'s model at a block of states, currents and parameter sets:
    /// its derivatives equal the plain pass's bit for bit, and `df_j/dx_j` equals the diagonal
    /// of the Jacobian the jets compute (an independent forward mode: all directions at once,
    /// each function's rule from the scalar code), to 1e-13 relative. Lane `l` sits at the
    /// position `s = 15 l / (LANES - 1)` from 0 to 15, and its state is `states(s)`: the same
    /// spread whatever the block's width. Returns the program.
    fn matches_the_jets(text: &str, states: impl Fn(f64) -> Vec<f64>) -> LaneProgram {
        let at = |l: usize| 15.0 * l as f64 / (LANES - 1) as f64;
        let m = OdeModel::parse(text, "d.ode", "d").unwrap();
        let prog = LaneProgram::new(&m).expect("lane program");
        let n = m.vars.len();
        let ps: Vec<Vec<f64>> = (0..LANES)
            .map(|l| {
                let mut p = m.params.values();
                let last = p.len() - 1;
                p[last] *= 1.0 + 0.01 * at(l);
                p
            })
            .collect();
        let refs: [&[f64]; LANES] = std::array::from_fn(|l| ps[l].as_slice());
        let i_ext: Lanes = std::array::from_fn(|l| 0.7 * at(l) - 3.0);
        let ys: Vec<Vec<f64>> = (0..LANES).map(|l| states(at(l))).collect();
        let load = |regs: &mut Vec<Lanes>| {
            prog.set_current(regs, &refs, &i_ext);
            for j in 0..n {
                regs[prog.var(j)] = std::array::from_fn(|l| ys[l][j]);
            }
            regs[prog.time()] = [0.0; LANES];
        };
        let (mut plain, mut dual) = (prog.registers(&refs), prog.registers(&refs));
        load(&mut plain);
        load(&mut dual);
        prog.eval(&mut plain);
        prog.eval_diagonal(&mut dual);
        for l in 0..LANES {
            let mut p = ps[l].clone();
            let mut jac = nalgebra::DMatrix::zeros(n, n + 1);
            let mut f = vec![0.0; n];
            let jets = m.with_current(&mut p, i_ext[l], |p| {
                m.jacobian_into(p, &ys[l], None, &mut jac, &mut f)
            });
            assert!(jets, "the jets run this model");
            for j in 0..n {
                let (fv, dv) = (dual[prog.derivative(j)][l], dual[prog.diagonal(j)][l]);
                assert_eq!(fv.to_bits(), plain[prog.derivative(j)][l].to_bits());
                // The lanes' exponential is within 4e-16 of the library's the jets use.
                let tol = 1e-13 * (1.0 + jac[(j, j)].abs());
                assert!(
                    (dv - jac[(j, j)]).abs() <= tol,
                    "lane {l}, df{j}/dx{j}: {dv} against the jets' {}",
                    jac[(j, j)]
                );
                assert!((fv - f[j]).abs() <= 1e-13 * (1.0 + f[j].abs()));
            }
        }
        prog
    }

    #[test]
    fn every_kind_differentiates_as_the_jets_do() {
        // Every instruction kind on a path from v to v' and from u to u', fixed quantities
        // reading each other and the variables; in v's own equation, exponentials of v from
        // the table with constants folded in (`1+exp(-v)`, `(3*exp(v/4)+1)/2`), one read below
        // the top of the stack (`exp(v/3)*(v*v)`) and a fused affine chain of v, each carrying
        // its tangent.
        let text = "par a=1.5, b=-2, i=0\n\
            f(x)=max(x, a)-min(x, b)+if(x>0)then(x^3)else(-x)\n\
            w=abs(v)+sin(v)*cos(u)+tanh(v/2)+cosh(u)+u^3-v^(-2)+(u+2)^7+atan2(v, u)+(abs(v)+1)**2.5\n\
            z=w*u+exp(-v*v)\n\
            dv/dt=i-v^3/3+u+f(v)/(1+exp(-v))+z/(2+v*v)+(3*exp(v/4)+1)/2+(v+1)*2+exp(v/3)*(v*v)\n\
            du/dt=0.08*(v+0.7-0.8*u)+z/100+sqrt(u*u+1)\n\
            init v=-1, u=0.5\ndone\n";
        let prog = matches_the_jets(text, |s| vec![-2.5 + 0.33 * s, 0.7 - 0.1 * s]);
        let dual = |kind: fn(Kind) -> bool| {
            let found = prog.diagonal.instrs.iter();
            found.filter(|d| d.dual && kind(d.instr.kind)).count()
        };
        assert_eq!(
            dual(|k| matches!(k, Kind::AffineExp(s, a) if (s, a) == (-1.0, 1.0))),
            1
        );
        assert_eq!(
            dual(|k| matches!(k, Kind::AffineExp(s, a) if (s, a) == (0.25, 0.5))),
            1
        );
        assert_eq!(
            dual(|k| matches!(k, Kind::Affine(s, o) if (s, o) == (2.0, 2.0))),
            1
        );
        // `exp(v/3)` is read below `v*v` on the stack: its instruction is emitted after that
        // operand's, into its own temporary.
        let third = |k: Kind| matches!(k, Kind::AffineExp(s, a) if (s, a) == (1.0 / 3.0, 0.0));
        assert_eq!(dual(third), 1);
    }

    #[test]
    fn hh_and_morris_lecar_from_their_files_differentiate_as_the_jets_do() {
        let hh = include_str!("../../../../studies/models/hh.ode");
        let prog = matches_the_jets(hh, |s| {
            // Off the removable 0/0 of the rates at -40 and -55 mV.
            let v = -80.37 + 8.0 * s;
            vec![v, 0.05 + 0.05 * s, 0.6 - 0.03 * s, 0.3 + 0.02 * s]
        });
        // The rates are not differentiated, and their six exponentials of v are read from the
        // table, computed as powers of one exponential: no instruction of either pass is an
        // exponential.
        let kinds = prog.instrs.iter().map(|i| i.kind);
        let all: Vec<Kind> = kinds
            .chain(prog.diagonal.instrs.iter().map(|d| d.instr.kind))
            .collect();
        assert!(
            all.iter()
                .all(|k| !matches!(k, Kind::Exp | Kind::AffineExp(..)))
        );
        assert_eq!(prog.exps.exponentials(), (1, 6));
        // `ina` and `ik` are read only by V's equation, which computes them with tangents:
        // m^3 and n^4 once each, as in the plain pass.
        let powers = |kinds: Vec<Kind>| kinds.iter().filter(|k| matches!(k, Kind::PowI(_))).count();
        let diagonal = powers(prog.diagonal.instrs.iter().map(|d| d.instr.kind).collect());
        assert_eq!(diagonal, 2);
        assert_eq!(
            diagonal,
            powers(prog.instrs.iter().map(|i| i.kind).collect())
        );
        // Every `-(v + a) / b` of the rates is one product by `-1/b`: no negation is left in
        // either pass.
        assert!(prog.instrs.iter().all(|i| i.kind != Kind::Neg));
        assert!(
            prog.diagonal
                .instrs
                .iter()
                .all(|d| d.instr.kind != Kind::Neg)
        );
        let ml = include_str!("../../../../studies/models/ml.ode");
        matches_the_jets(ml, |s| vec![-70.0 + 7.0 * s, 0.01 + 0.03 * s]);
    }

    #[test]
    fn a_fixed_quantity_read_before_its_recomputation_is_computed_plainly_first() {
        // `q` depends on x only. Where y's equation comes first it reads q before x's
        // equation recomputes it with its tangent, so q is computed plainly first; where x's
        // comes first, y's reads the value x's left in place.
        let states = |s: f64| vec![0.3 * s - 2.0, 1.0 - 0.1 * s];
        let y_first = "par i=0\nq=x*x+1\ndy/dt=q-y\ndx/dt=i-q*x\ninit y=0, x=1\ndone\n";
        let x_first = "par i=0\nq=x*x+1\ndx/dt=i-q*x\ndy/dt=q-y\ninit x=1, y=0\ndone\n";
        let before = matches_the_jets(y_first, states).diagonal.instrs.len();
        let after = matches_the_jets(x_first, states).diagonal.instrs.len();
        // q = x*x+1 is two instructions.
        assert_eq!(before, after + 2);
    }

    #[test]
    fn what_a_plain_computation_reads_is_computed_plainly_too() {
        // x' reads k and j. j = x*x is recomputed with its tangent in x's pass; k reads j only
        // through a condition, which carries no tangent, so k is computed plainly first, and
        // j with it, before anything else has set j. States on both sides of |x| = 1.
        let text = "par i=0\nj=x*x\nk=if(j>1)then(2)else(3)\ndx/dt=i-k*x+j\ninit x=1\ndone\n";
        matches_the_jets(text, |s| vec![-1.9 + 0.25 * s]);
    }

    #[test]
    fn an_equation_free_of_its_variable_reads_zero() {
        // u' does not depend on u; v' = -k v is linear in v.
        let text = "par k=0.3, i=0\ndv/dt=i-k*v\ndu/dt=v*v\ninit v=2\ndone\n";
        let prog = matches_the_jets(text, |s| vec![s - 4.0, 1.0]);
        assert_eq!(prog.diagonal(1), zero(prog.n_regs));
        assert_ne!(prog.diagonal(0), zero(prog.n_regs));
    }
}
