//! An `.ode` model's equations on a block of [`LANES`] neurons at once: the batch path for
//! `.ode` models (`fi` on many currents).
//!
//! The bytecode is a stack machine; here it is compiled once more into instructions on
//! registers that each hold one value per lane. Pushing a slot or a constant emits nothing (the
//! instruction reads that register directly), every other op becomes one instruction whose
//! output is the register of its stack position, so one dispatch serves all lanes and the
//! arithmetic inside runs on `[f64; LANES]` arrays that LLVM turns into SIMD.
//!
//! Three rewrites cut the instructions, as the conductance kernel's own structure does (on
//! `hh.ode` from 58 to 32 an exponential-Euler step, and from six exponentials to one):
//! - an exponential whose argument is affine in an input (a parameter, a state variable or
//!   `t`: `exp(-(v + 40)/10)`), with the constants around it (`4 * exp(..)`, `1 - exp(..)`,
//!   `1 / (1 + exp(..))`'s `1 +`), is a value of a table computed before the instructions,
//!   where slopes that are whole multiples of one take powers of a single exponential
//!   (`exps`);
//! - a chain of two or more additions and products by constants on one input (`0.1 * (v +
//!   40)`) is one fused multiply-add (`Kind::Affine`);
//! - a negation before a product by a constant is folded into the constant (exact).
//!
//! Each lane computes what the scalar interpreter computes, in the same order, with these
//! exceptions: `exp` is the vectorised polynomial [`exp_lanes`] (within 4e-16 relative of the
//! library's for arguments in [-700, 700]; beyond, it stays at e^±700 where the library gives
//! infinity or 0, so a run that overflows there ends in the blow-up check a step or two
//! later, or not at all), `tanh` and `cosh` are built on it (`tanh` within 4e-16 absolute), `x / c`
//! for a constant `c` is `x * (1/c)` (one rounding more), a table value is within about 2e-14
//! relative of its exponential (the powers' rounding), and a fused chain rounds once where the
//! scalar path rounds at each step (its constant `40 * 0.1` rounded at compile time). Where
//! a rate's formula cancels (`x / (1 - exp(-x))` near its removable 0/0 at `x = 0`), these
//! absolute errors of about 2e-14 become relative ones of about `2e-14 / |x|`: 2e-11 at
//! `|x| = 1e-3`, against the scalar path's `1e-16 / |x|`. So results agree with the general
//! simulator to rounding, not bit for bit (`tests/ode_lanes.rs` bounds the difference).
//! Integer powers are the scalar algorithm on all lanes, bit for bit; the other functions run
//! the scalar code per lane.
//!
//! Not compiled (the model then runs one neuron at a time on the general simulator): global
//! flags (resets cut steps per neuron), algebraic variables (a Newton solve per evaluation),
//! function tables, and a model without a current parameter.

use super::OdeModel;
use super::expr::{Code, Fn1, Op, apply_binary, call1};
use crate::numerics::lanes::{each_lane, exp_lanes};
use diagonal::Diagonal;
use exps::{Affine, ExpTable, Exps, TableValue};
use std::cell::RefCell;
use std::collections::HashMap;

mod diagonal;
mod exps;

/// Neurons per block: twice the conductance kernel's. Each instruction reads its operands from
/// the register file and writes its result back, and the next usually reads that result, so a
/// block's program is a chain of load, arithmetic and store latencies. 32 lanes give each link
/// twice the independent work for the same latency and the same dispatch: `fi` on `hh.ode`
/// with exponential Euler, one core, took 2.56 s against 2.88 s with 16 lanes. 64 lanes ran
/// slower (2.91 s against 2.51 s): `hh.ode`'s 97 registers then take 50 KB, more than a 32 KB
/// first-level data cache. Before the compiler's rewrites, when the program's exponentials
/// dominated, 32 ran no faster than 16 (docs/speed.md).
pub const LANES: usize = 32;
/// One value per lane.
pub type Lanes = [f64; LANES];

/// What one instruction computes.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Copy,
    Neg,
    Add,
    Sub,
    Mul,
    Div,
    /// The smaller by value (the scalar interpreter's rule: `b` where `b < a`, else `a`).
    Min,
    /// The larger by value (`b` where `b > a`, else `a`).
    Max,
    /// `b` where the condition `a` is non-zero, else `c`.
    Select,
    Exp,
    /// `scale * a + offset` in one rounding (a chain of additions and products by constants
    /// on one input, fused).
    Affine(f64, f64),
    /// The value of register `a`, `k exp(slope c + o) + addend` from the [`ExpTable`] (with
    /// this slope and addend, `c` the input): a copy, whose tangent in the diagonal pass is
    /// `slope (a - addend) dc` (to rounding: where the addend dwarfs the exponential, the
    /// subtraction leaves an absolute error of about one unit of the addend).
    AffineExp(f64, f64),
    /// `tanh` from the vectorised exponential.
    Tanh,
    /// `cosh` from the vectorised exponential.
    Cosh,
    PowI(i32),
    /// Any other function of one argument, per lane.
    Call(Fn1),
    /// Any other binary op (powers, comparisons, `atan2`, `mod`), per lane.
    Binary(Op),
}

/// One instruction: `dst = kind(a, b, c)` on register indices.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Instr {
    kind: Kind,
    dst: u32,
    a: u32,
    b: u32,
    c: u32,
}

/// An [`OdeModel`]'s fixed quantities and right-hand sides compiled for lanes.
///
/// Registers, in order: constants, parameters, state variables, `t`, fixed quantities, the
/// derivatives, the stack's temporaries, then the table's exponentials; then a tangent for
/// each of those and a zero, for the diagonal pass. [`LaneProgram::registers`] makes a register file with the constants and
/// parameters in place; a caller writes the state and `t`, calls [`LaneProgram::eval`] and
/// reads the derivatives (or calls [`LaneProgram::eval_diagonal`] and reads the derivatives
/// and [`LaneProgram::diagonal`]).
#[derive(Debug, Clone, PartialEq)]
pub struct LaneProgram {
    /// The exponentials of affine arguments, computed before the instructions.
    exps: Exps,
    instrs: Vec<Instr>,
    diagonal: Diagonal,
    consts: Vec<f64>,
    n_params: usize,
    n_vars: usize,
    n_fixed: usize,
    n_regs: usize,
    current: usize,
}

/// Why a model has no lane program, in words for a report.
fn lanes_unsupported(model: &OdeModel) -> Option<&'static str> {
    if !model.flags.is_empty() {
        Some("global flags (state resets)")
    } else if !model.alg.names.is_empty() {
        Some("algebraic variables")
    } else if model.current.is_none() {
        Some("no current parameter")
    } else if model
        .fixed
        .iter()
        .chain(&model.rhs)
        .any(|c| c.ops.iter().any(|op| matches!(op, Op::Lookup(_))))
    {
        Some("function tables")
    } else {
        None
    }
}

impl LaneProgram {
    /// The lane program of `model`, or why it has none (for a report's note).
    pub fn new(model: &OdeModel) -> Result<LaneProgram, &'static str> {
        if let Some(why) = lanes_unsupported(model) {
            return Err(why);
        }
        Self::compile(model).ok_or("an operation lanes do not run")
    }

    fn compile(model: &OdeModel) -> Option<LaneProgram> {
        let (n_params, n_vars, n_fixed) = (model.params.len(), model.vars.len(), model.fixed.len());
        // Constants first: their count is known only after a pass over the code.
        let mut consts: Vec<f64> = vec![];
        let mut const_index: HashMap<u64, usize> = HashMap::new();
        for code in model.fixed.iter().chain(&model.rhs) {
            for (k, op) in code.ops.iter().enumerate() {
                // A product after a negation may take the negated constant (the fold in
                // `Layout::emit`); both are in the table, so either form compiles.
                let (c, negated) = match *op {
                    Op::Const(c) => (c, None),
                    Op::ArithC(f, c) => (
                        fused_constant(f, c).1,
                        negated_product(&code.ops[..k], f, c),
                    ),
                    _ => continue,
                };
                for c in std::iter::once(c).chain(negated) {
                    const_index.entry(c.to_bits()).or_insert_with(|| {
                        consts.push(c);
                        consts.len() - 1
                    });
                }
            }
        }
        let nc = consts.len();
        let slot_base = nc;
        let dy_base = slot_base + n_params + n_vars + 1 + n_fixed;
        let temp_base = dy_base + n_vars;
        let depth = model
            .fixed
            .iter()
            .chain(&model.rhs)
            .map(|c| c.depth + 1)
            .max()
            .unwrap_or(1);
        let mut program = LaneProgram {
            exps: Exps::default(),
            instrs: vec![],
            diagonal: Diagonal {
                instrs: vec![],
                regs: vec![],
            },
            consts,
            n_params,
            n_vars,
            n_fixed,
            n_regs: temp_base + depth,
            current: model.current?,
        };
        let regs = Layout {
            consts: &const_index,
            slot_base,
            temp_base,
            inputs: n_params + n_vars + 1,
            exps: RefCell::new(ExpTable::new(temp_base + depth)),
        };
        let fixed_base = slot_base + n_params + n_vars + 1;
        for (k, code) in model.fixed.iter().enumerate() {
            regs.emit(code, fixed_base + k, &mut program.instrs, &[])?;
        }
        for (k, code) in model.rhs.iter().enumerate() {
            regs.emit(code, dy_base + k, &mut program.instrs, &[])?;
        }
        // The exponentials' registers follow the temporaries; the diagonal pass, whose
        // tangent registers follow all of these, finds the same ones and adds none.
        let mut table = regs.exps.borrow_mut();
        program.n_regs += table.len();
        table.freeze();
        program.exps = table.compile();
        drop(table);
        program.diagonal = Diagonal::compile(model, &regs, &program)?;
        Some(program)
    }

    /// A register file with the constants and the parameter values of each lane (`params[l]`,
    /// in [`super::ParamSet`] order; the injected current is set apart by
    /// [`LaneProgram::set_current`]).
    pub fn registers(&self, params: &[&[f64]; LANES]) -> Vec<Lanes> {
        let mut r = vec![[0.0; LANES]; diagonal::zero(self.n_regs) + 1];
        // The diagonal pass's seeds: each variable's tangent in its own direction.
        for j in 0..self.n_vars {
            r[diagonal::tangent(self.var(j), self.n_regs)] = [1.0; LANES];
        }
        for (k, &c) in self.consts.iter().enumerate() {
            r[k] = [c; LANES];
        }
        for k in 0..self.n_params {
            r[self.consts.len() + k] = std::array::from_fn(|l| params[l][k]);
        }
        r
    }

    /// Add each lane's injected current to the current parameter (set once per run, as
    /// [`OdeModel::with_current`] does per evaluation).
    pub fn set_current(&self, regs: &mut [Lanes], params: &[&[f64]; LANES], i_ext: &Lanes) {
        let k = self.consts.len() + self.current;
        regs[k] = std::array::from_fn(|l| params[l][self.current] + i_ext[l]);
    }

    /// The register of state variable `j`.
    #[inline]
    pub fn var(&self, j: usize) -> usize {
        self.consts.len() + self.n_params + j
    }

    /// The register of `t`.
    #[inline]
    pub fn time(&self) -> usize {
        self.var(self.n_vars)
    }

    /// The register of the derivative of state variable `j`.
    #[inline]
    pub fn derivative(&self, j: usize) -> usize {
        self.time() + 1 + self.n_fixed + j
    }

    /// The number of state variables.
    pub fn dim(&self) -> usize {
        self.n_vars
    }

    /// The number of parameters.
    pub fn n_params(&self) -> usize {
        self.n_params
    }

    /// Compute the fixed quantities and the derivatives from the state and `t` in `regs`.
    #[inline(always)]
    pub fn eval(&self, regs: &mut [Lanes]) {
        self.exps.eval(regs);
        for ins in &self.instrs {
            regs[ins.dst as usize] = ins.value(regs);
        }
    }

    /// The derivatives, as [`LaneProgram::eval`] computes them, and each equation's
    /// derivative in its own variable, `df_j/dx_j`, into [`LaneProgram::diagonal`]`(j)`: what
    /// exponential Euler needs. Only the fixed quantities some equation reads are computed
    /// (their registers hold the values `eval` gives); the others keep what they held.
    #[inline(always)]
    pub fn eval_diagonal(&self, regs: &mut [Lanes]) {
        self.exps.eval(regs);
        self.diagonal.eval(regs);
    }

    /// The register of `df_j/dx_j` after [`LaneProgram::eval_diagonal`] (one that holds zero
    /// where `f_j` does not depend on `x_j`).
    #[inline]
    pub fn diagonal(&self, j: usize) -> usize {
        self.diagonal.regs[j] as usize
    }
}

impl Instr {
    /// The instruction's value, lane by lane, from the registers it reads. The operands are
    /// copied and the lanes built by `from_fn`, as before the diagonal pass: reading them by
    /// reference in plain loops ran RK4 on lanes at about half its speed, and copied into
    /// plain loops (`each_lane`) 2.8x slower (docs/speed.md).
    #[inline(always)]
    fn value(&self, regs: &[Lanes]) -> Lanes {
        // Each arm loads its operands itself: one load before the match was kept in a stack
        // slot and read back by every arm.
        let at = |r: u32| regs[r as usize];
        let (ra, rb, rc) = (self.a, self.b, self.c);
        match self.kind {
            Kind::Copy | Kind::AffineExp(..) => at(ra),
            // `Neg` and `Call` stay `[T; N]::map`, an out-of-line call (`Neg` has no `mul_add`
            // to lose, and `Call` calls a library function per lane anyway): written as plain
            // loops too, they made the block loop itself slower, RK4's 2.4x on `hh.ode`, whose
            // program has neither (docs/speed.md).
            Kind::Neg => at(ra).map(|x| -x),
            Kind::Add => {
                let (a, b) = (at(ra), at(rb));
                std::array::from_fn(|l| a[l] + b[l])
            }
            Kind::Sub => {
                let (a, b) = (at(ra), at(rb));
                std::array::from_fn(|l| a[l] - b[l])
            }
            Kind::Mul => {
                let (a, b) = (at(ra), at(rb));
                std::array::from_fn(|l| a[l] * b[l])
            }
            Kind::Div => {
                let (a, b) = (at(ra), at(rb));
                std::array::from_fn(|l| a[l] / b[l])
            }
            Kind::Min => {
                let (a, b) = (at(ra), at(rb));
                std::array::from_fn(|l| if b[l] < a[l] { b[l] } else { a[l] })
            }
            Kind::Max => {
                let (a, b) = (at(ra), at(rb));
                std::array::from_fn(|l| if b[l] > a[l] { b[l] } else { a[l] })
            }
            Kind::Select => {
                let (a, b, c) = (at(ra), at(rb), at(rc));
                std::array::from_fn(|l| if a[l] != 0.0 { b[l] } else { c[l] })
            }
            Kind::Exp => {
                let mut o = [0.0; LANES];
                exp_lanes(&at(ra), &mut o);
                o
            }
            Kind::Affine(scale, offset) => {
                let a = at(ra);
                each_lane(|l| scale.mul_add(a[l], offset))
            }
            Kind::Tanh => tanh_lanes(&at(ra)),
            Kind::Cosh => cosh_lanes(&at(ra)),
            Kind::PowI(n) => powi_lanes(at(ra), n),
            Kind::Call(f) => at(ra).map(|x| call1(f, x)),
            Kind::Binary(op) => {
                let (a, b) = (at(ra), at(rb));
                std::array::from_fn(|l| apply_binary(op, a[l], b[l]))
            }
        }
    }
}

/// Where the registers sit while compiling.
struct Layout<'a> {
    consts: &'a HashMap<u64, usize>,
    slot_base: usize,
    temp_base: usize,
    /// The slots an exponential's argument may be affine in (parameters, state variables and
    /// `t`: set before an evaluation; the fixed quantities after them are computed in it).
    inputs: usize,
    /// The exponentials of affine arguments found so far.
    exps: RefCell<ExpTable>,
}

/// A stack entry while compiling: where its instructions start in the output, its value as
/// an affine function of one input where it is one, and the table value it is while that is
/// pending (its register is then not yet known).
#[derive(Debug, Clone, Copy)]
struct Entry {
    start: usize,
    affine: Option<Affine>,
    pending: Option<TableValue>,
}

impl Layout<'_> {
    /// The value `op` pushes as an affine function of one input, given the entries before it,
    /// where it is one.
    fn affine_after(&self, op: &Op, entries: &[Entry]) -> Option<Affine> {
        let top = |k: usize| entries.get(entries.len().checked_sub(k)?)?.affine;
        if let Some(f) = op.arith() {
            return Affine::binary(f, top(2)?, top(1)?);
        }
        match *op {
            Op::Const(c) => Some(Affine::constant(c)),
            Op::Slot(k) => (k < self.inputs).then(|| Affine::input(self.slot_base + k)),
            Op::Neg => top(1).map(Affine::negated),
            Op::ArithC(f, c) => top(1)?.with_constant(f, c),
            // `c - v`: a constant with an input.
            Op::ArithS(f, k) if k < self.inputs => {
                Affine::binary(f, top(1)?, Affine::input(self.slot_base + k))
            }
            _ => None,
        }
    }

    /// Compile `code` so its value lands in register `dst`. `None` for an op lanes do not run
    /// (tables; [`lanes_unsupported`] refuses those first).
    ///
    /// An exponential whose argument is affine in an input becomes a read of its register in
    /// the [`ExpTable`] (computed before the instructions), and the instructions that formed
    /// its argument are dropped (in a stack program they computed that argument alone). Where
    /// the input is marked in `varies` (the diagonal pass's direction), the read is an
    /// [`Kind::AffineExp`] instruction, which carries the tangent.
    fn emit(&self, code: &Code, dst: usize, out: &mut Vec<Instr>, varies: &[bool]) -> Option<()> {
        // The register holding each stack entry's value, and how the entry was formed.
        let mut stack: Vec<usize> = vec![];
        let mut entries: Vec<Entry> = vec![];
        let first = out.len();
        let reg = |r: usize| r as u32;
        for (k, op) in code.ops.iter().enumerate() {
            // An exponential of an affine argument: a value of the table, pending while
            // products and sums with constants fold into it.
            if let (Op::Call(Fn1::Exp), Some(&top)) = (op, entries.last()) {
                let table = self.exps.borrow();
                if let Some(arg) = top.affine.filter(|&a| table.accepts(a)) {
                    out.truncate(top.start);
                    *stack.last_mut()? = usize::MAX;
                    *entries.last_mut()? = Entry {
                        start: top.start,
                        affine: None,
                        pending: Some(TableValue::exp(arg)),
                    };
                    continue;
                }
            }
            let arity = op.arity();
            let at = entries.len().checked_sub(arity)?;
            if let Some(value) = fold_into_pending(op, &entries[at..], out.len()) {
                let start = entries[at].start;
                stack.truncate(at);
                entries.truncate(at);
                stack.push(usize::MAX);
                entries.push(Entry {
                    start,
                    affine: None,
                    pending: Some(value),
                });
                continue;
            }
            for i in at..entries.len() {
                self.materialise(i, &mut entries, &mut stack, out, varies)?;
            }
            // The entry this op leaves on top: it starts where its first operand did.
            let entry = Entry {
                start: entries.get(at).map_or(out.len(), |e| e.start),
                affine: self.affine_after(op, &entries),
                pending: None,
            };
            entries.truncate(at);
            entries.push(entry);
            // `-x * c` as `x * (-c)`: the same value bit for bit, one instruction fewer (the
            // rates of a conductance model are full of `exp(-(v + a) / b)`).
            let folded = match *op {
                Op::ArithC(f, c) => negated_product(&code.ops[..k], f, c)
                    .and_then(|c| Some((out.pop_if(|last| last.kind == Kind::Neg)?, c))),
                _ => None,
            };
            // Pop `arity` operands (the first pushed is `a`), emit `kind` on them (a unary
            // op's second operand is `extra`: the constant or slot of a fused op), and push
            // the result's register: the temporary of its stack position.
            let mut apply = |stack: &mut Vec<usize>, kind: Kind, arity: usize, extra: usize| {
                let at = stack.len().checked_sub(arity)?;
                let mut r = [0usize; 3];
                for (k, operand) in stack.drain(at..).enumerate() {
                    r[k] = operand;
                }
                if arity == 1 {
                    r[1] = extra;
                }
                let d = self.temp_base + stack.len();
                out.push(Instr {
                    kind,
                    dst: reg(d),
                    a: reg(r[0]),
                    b: reg(r[1]),
                    c: reg(r[2]),
                });
                stack.push(d);
                Some(())
            };
            let s = &mut stack;
            if let Some((neg, c)) = folded {
                s.pop();
                s.push(neg.a as usize);
                apply(s, Kind::Mul, 1, self.consts[&c.to_bits()])?;
            } else {
                match *op {
                    Op::Const(c) => s.push(self.consts[&c.to_bits()]),
                    Op::Slot(k) => s.push(self.slot_base + k),
                    Op::Neg => apply(s, Kind::Neg, 1, 0)?,
                    Op::Call(Fn1::Exp) => apply(s, Kind::Exp, 1, 0)?,
                    Op::Call(Fn1::Tanh) => apply(s, Kind::Tanh, 1, 0)?,
                    Op::Call(Fn1::Cosh) => apply(s, Kind::Cosh, 1, 0)?,
                    Op::Call(f) => apply(s, Kind::Call(f), 1, 0)?,
                    Op::PowI(n) => apply(s, Kind::PowI(n), 1, 0)?,
                    Op::ArithC(f, c) => {
                        let (kind, c) = fused_constant(f, c);
                        apply(s, kind, 1, self.consts[&c.to_bits()])?;
                    }
                    Op::ArithS(f, k) => apply(s, arith(f), 1, self.slot_base + k)?,
                    Op::Select => apply(s, Kind::Select, 3, 0)?,
                    Op::Lookup(_) => return None,
                    Op::Add => apply(s, Kind::Add, 2, 0)?,
                    Op::Sub => apply(s, Kind::Sub, 2, 0)?,
                    Op::Mul => apply(s, Kind::Mul, 2, 0)?,
                    Op::Div => apply(s, Kind::Div, 2, 0)?,
                    Op::Min => apply(s, Kind::Min, 2, 0)?,
                    Op::Max => apply(s, Kind::Max, 2, 0)?,
                    binary @ (Op::Pow | Op::Cmp(_) | Op::Atan2 | Op::Mod) => {
                        apply(s, Kind::Binary(binary), 2, 0)?
                    }
                }
            }
            self.fuse_affine(&entries, &mut stack, out)?;
        }
        self.materialise(0, &mut entries, &mut stack, out, varies)?;
        let value = *stack.first()?;
        // The last instruction wrote the value to a temporary: write it to `dst` instead.
        let emitted = out.len() > first;
        match out.last_mut() {
            Some(last) if emitted && last.dst as usize == value => {
                last.dst = reg(dst);
            }
            _ => out.push(Instr {
                kind: Kind::Copy,
                dst: reg(dst),
                a: reg(value),
                b: 0,
                c: 0,
            }),
        }
        Some(())
    }

    /// Give entry `i`, if its table value is pending, the register of that value: a read of
    /// the table, or where the input is marked in `varies` (the diagonal pass's direction), an
    /// [`Kind::AffineExp`] instruction into the entry's temporary, which carries the tangent.
    /// Every pending value is one the table takes (the fold checks it), and the diagonal pass
    /// replays the plain pass's folds, so the frozen table has it; `None` (the model then
    /// runs on the general simulator) would be a defect of this compiler.
    fn materialise(
        &self,
        i: usize,
        entries: &mut [Entry],
        stack: &mut [usize],
        out: &mut Vec<Instr>,
        varies: &[bool],
    ) -> Option<()> {
        let Some(value) = entries.get_mut(i)?.pending.take() else {
            return Some(());
        };
        let r = self.exps.borrow_mut().register_of(value)?;
        let x = value.arg.base?;
        stack[i] = if varies.get(x) == Some(&true) {
            let d = self.temp_base + i;
            out.push(Instr {
                kind: Kind::AffineExp(value.arg.scale, value.addend),
                dst: d as u32,
                a: r as u32,
                b: 0,
                c: x as u32,
            });
            d
        } else {
            r
        };
        Some(())
    }

    /// Where the entry on top is affine in an input and took two instructions or more (`(v +
    /// 40) * 0.1`), one [`Kind::Affine`] instead: a fused multiply-add, whose rounding differs
    /// from the chain's by about one unit of the larger of its terms.
    fn fuse_affine(
        &self,
        entries: &[Entry],
        stack: &mut [usize],
        out: &mut Vec<Instr>,
    ) -> Option<()> {
        let top = *entries.last()?;
        let Some(Affine {
            base: Some(x),
            scale,
            offset,
        }) = top.affine
        else {
            return Some(());
        };
        let representable = |c: f64| c == 0.0 || c.is_normal();
        if out.len() < top.start + 2 || !scale.is_normal() || !representable(offset) {
            return Some(());
        }
        out.truncate(top.start);
        let d = self.temp_base + stack.len() - 1;
        out.push(Instr {
            kind: Kind::Affine(scale, offset),
            dst: d as u32,
            a: x as u32,
            b: 0,
            c: 0,
        });
        *stack.last_mut()? = d;
        Some(())
    }
}

/// The table value that `op` leaves where it folds into the one pending value among its
/// operands (`operands`; a binary op's both without instructions: they start at `end`, the
/// output's length): a negation, or a sum, difference, product or quotient with a constant,
/// by the arithmetic of [`Affine`] on the value's outer function. `None` where it does not
/// fold, or the folded value is not one the table takes ([`TableValue::with_outer`]).
fn fold_into_pending(op: &Op, operands: &[Entry], end: usize) -> Option<TableValue> {
    let pending = operands.iter().find_map(|e| e.pending)?;
    // Each operand as an affine function of the pending exponential, or a constant.
    let outer = |e: &Entry| match e.pending {
        Some(p) => Some(p.outer()),
        None => e.affine.filter(|a| a.base.is_none()),
    };
    let folded = match (*op, operands) {
        (Op::Neg, [e]) => outer(e)?.negated(),
        (Op::ArithC(f, c), [e]) => outer(e)?.with_constant(f, c)?,
        (_, [a, b]) if a.start == end => Affine::binary(op.arith()?, outer(a)?, outer(b)?)?,
        _ => return None,
    };
    pending.with_outer(folded)
}

/// The instruction and constant of `x op c`: a division by a constant becomes a
/// multiplication by its reciprocal (a division costs 10-20 times a multiplication in SIMD;
/// the result may differ from the quotient in the last bit).
fn fused_constant(f: super::expr::Arith, c: f64) -> (Kind, f64) {
    match f {
        super::expr::Arith::Div if c != 0.0 && (1.0 / c).is_normal() => (Kind::Mul, 1.0 / c),
        _ => (arith(f), c),
    }
}

/// The constant `x * (-c')` takes where `x op c` (`c'` its fused constant) follows a negation
/// in `before` and is a product: the negation is folded into it. `None` otherwise.
///
/// Where this fold and [`Layout::fuse_affine`] meet: the negation of an affine chain
/// (`-(v + 40)`, two instructions with the negation) is already part of one affine
/// instruction when the product comes, so the fold finds no negation to pop and the product
/// joins that instruction (unless the fusion refused a subnormal scale or offset: then the
/// fold pops the negation). On a bare input (`-v * 2`) either would remove the negation, with
/// the same bits; the fold acts first and leaves a plain product. On an operand that is not
/// affine (`-(m * h) * 2`) only the fold applies. Its constant `-c'` is entered in the
/// constants table either way (the first pass does not tell the cases apart).
fn negated_product(before: &[Op], f: super::expr::Arith, c: f64) -> Option<f64> {
    let (kind, c) = fused_constant(f, c);
    (kind == Kind::Mul && matches!(before.last(), Some(Op::Neg))).then_some(-c)
}

/// The instruction of a fused arithmetic op.
fn arith(f: super::expr::Arith) -> Kind {
    use super::expr::Arith;
    match f {
        Arith::Add => Kind::Add,
        Arith::Sub => Kind::Sub,
        Arith::Mul => Kind::Mul,
        Arith::Div => Kind::Div,
    }
}

/// `tanh(x) = 1 - 2 / (e^(2x) + 1)` on every lane through [`exp_lanes`]: within 4e-16 of the
/// library's `tanh` in absolute terms (not relative: near 0 the subtraction leaves fewer
/// correct digits of a small result), which is what a sigmoid `(1 + tanh)/2` needs.
#[inline(always)]
fn tanh_lanes(x: &Lanes) -> Lanes {
    let mut e = [0.0; LANES];
    exp_lanes(&each_lane(|l| 2.0 * x[l]), &mut e);
    each_lane(|l| 1.0 - 2.0 / (e[l] + 1.0))
}

/// `cosh(x) = (e^x + e^-x) / 2` on every lane through [`exp_lanes`] (no cancellation: within a
/// few ulp of the library's `cosh`).
#[inline(always)]
fn cosh_lanes(x: &Lanes) -> Lanes {
    let mut e = [0.0; LANES];
    exp_lanes(x, &mut e);
    each_lane(|l| 0.5 * (e[l] + 1.0 / e[l]))
}

/// `x^n` on every lane by the scalar interpreter's algorithm (`f64::powi`, which LLVM lowers
/// to compiler-rt's `__powidf2`: square-and-multiply over the bits of `n`, then a reciprocal
/// for negative `n`), so each lane is bit-identical to it; the loop over the bits is the same
/// for all lanes, so it vectorises instead of calling the library once per lane.
#[inline(always)]
fn powi_lanes(mut a: Lanes, n: i32) -> Lanes {
    let mut r = [1.0; LANES];
    let mut b = n;
    loop {
        if b & 1 != 0 {
            for l in 0..LANES {
                r[l] *= a[l];
            }
        }
        b /= 2;
        if b == 0 {
            break;
        }
        for x in &mut a {
            *x *= *x;
        }
    }
    if n < 0 { each_lane(|l| 1.0 / r[l]) } else { r }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every lane equals the scalar interpreter's value at its own parameters and state, on
    /// code that exercises every instruction kind, the folded negations (`(-v)/5e307`, whose
    /// reciprocal is not normal, keeps its division, and `-x` in `f`'s else branch stays a
    /// negation), the table of exponentials with constants folded in on either side (`2*exp`,
    /// `1+exp`, `(1-exp)/4`, `exp*3`, `exp/7`, `-exp*2`, `exp-2`) and a fused affine chain
    /// (`(2-v)*0.5`).
    #[test]
    fn every_lane_equals_the_scalar_interpreter() {
        let text = "par i=0, a=1.5, b=-2\n\
            f(x)=max(x, a)-min(x, b)+if(x>0)then(x^3)else(-x)\n\
            w=abs(v)+sin(v)*cos(u)+tanh(v/2)+cosh(u)+u^3-v^(-2)+(u+2)^7+atan2(v, u)+mod(v, 3)+heav(v)+(abs(v)+1)**2.5\n\
            g=2*exp(-(v-1)/2)+1/(1+exp(u/2))-(1-exp(-v/4))/4+exp(v/2)*3-exp(u)/7+(2-v)*0.5-exp(u/2)*2+(exp(v/2)-2)\n\
            dv/dt=i-v^3/3+u+f(v)/(1+exp(-v))\n\
            du/dt=0.08*(v+0.7-0.8*u)+w/100-t+exp(-(v+2)/4)+exp(-u*3)+(-v)/5e307+g\n\
            init v=-1, u=0.5\ndone\n";
        let m = OdeModel::parse(text, "t.ode", "t").unwrap();
        let prog = LaneProgram::new(&m).expect("lane program");
        // The negations left: `(-v)` and `-x`; every exponential is read from the table, the
        // instructions that formed its argument dropped. Of v: slopes -1, -1/4 (twice) and
        // -1/2 are powers of one exponential, 1/2 (twice) has its own; of u: 1/2 (twice) and 1
        // share one, -3 has its own. Ten values from four exponentials.
        let negations = prog.instrs.iter().filter(|i| i.kind == Kind::Neg).count();
        assert_eq!(negations, 2);
        assert!(prog.instrs.iter().all(|i| i.kind != Kind::Exp));
        assert_eq!(prog.exps.exponentials(), (4, 10));
        let fused = |i: &Instr| matches!(i.kind, Kind::Affine(s, o) if (s, o) == (-0.5, 1.0));
        assert_eq!(prog.instrs.iter().filter(|i| fused(i)).count(), 1);
        let base = m.params.values();
        let ps: Vec<Vec<f64>> = (0..LANES)
            .map(|l| {
                let mut p = base.clone();
                p[1] += 0.1 * l as f64;
                p
            })
            .collect();
        let refs: [&[f64]; LANES] = std::array::from_fn(|l| ps[l].as_slice());
        let mut regs = prog.registers(&refs);
        let i_ext: Lanes = std::array::from_fn(|l| 0.3 * l as f64 - 2.0);
        prog.set_current(&mut regs, &refs, &i_ext);
        let ys: Vec<[f64; 2]> = (0..LANES)
            .map(|l| [-2.5 + 0.33 * l as f64, 0.7 - 0.1 * l as f64])
            .collect();
        for j in 0..2 {
            regs[prog.var(j)] = std::array::from_fn(|l| ys[l][j]);
        }
        regs[prog.time()] = [1.25; LANES];
        prog.eval(&mut regs);
        for l in 0..LANES {
            let mut p = ps[l].clone();
            let mut dy = [0.0; 2];
            m.with_current(&mut p, i_ext[l], |p| m.rhs(p, 1.25, &ys[l], &mut dy));
            for j in 0..2 {
                let lane = regs[prog.derivative(j)][l];
                // exp, tanh and cosh within a few 1e-16, the table's powers (at most 4 here)
                // within about 1e-15, one reciprocal's rounding, through a few dozen
                // operations: 1e-14 of 1 + |value| (absolute below 1).
                let tol = 1e-14 * (1.0 + dy[j].abs());
                assert!(
                    (lane - dy[j]).abs() <= tol,
                    "lane {l}, equation {j}: {lane} against {}",
                    dy[j]
                );
            }
        }
    }

    /// A fold that would make the table's factor overflow (`exp(v+300)*1e200`: 1e200 e^300) or
    /// its coefficient infinite (`exp(v)/1e-320`) leaves the product or quotient an
    /// instruction: the model still compiles, and where the scalar interpreter's value is
    /// finite (v near -300) the lanes' is too, within 1e-13 relative (the scalar path rounds
    /// `v + 300` before its exponential, about 300 units of 2^-53).
    #[test]
    fn folds_that_would_overflow_stay_instructions() {
        let text = "par i=0\ndv/dt=i+exp(v+300)*1e200+exp(v)/1e-320\ndone\n";
        let m = OdeModel::parse(text, "o.ode", "o").unwrap();
        let prog = LaneProgram::new(&m).expect("compiles for lanes");
        let p = m.params.values();
        let refs: [&[f64]; LANES] = [p.as_slice(); LANES];
        let mut regs = prog.registers(&refs);
        prog.set_current(&mut regs, &refs, &[0.0; LANES]);
        let v: Lanes = std::array::from_fn(|l| -302.0 + 0.2 * l as f64);
        regs[prog.var(0)] = v;
        prog.eval(&mut regs);
        for (l, &v) in v.iter().enumerate() {
            let mut dy = [0.0];
            m.rhs(&p, 0.0, &[v], &mut dy);
            let lane = regs[prog.derivative(0)][l];
            assert!(dy[0].is_finite(), "v = {v}: {}", dy[0]);
            assert!(
                (lane - dy[0]).abs() <= 1e-13 * dy[0].abs(),
                "v = {v}: {lane} against {}",
                dy[0]
            );
        }
    }

    #[test]
    fn tanh_and_cosh_from_the_exponential_match_the_library() {
        let (mut tanh_abs, mut cosh_rel) = (0.0f64, 0.0f64);
        // 64,000 points from -40 to 40, whatever the block's width.
        for k in 0..64_000 / LANES {
            let x: Lanes =
                std::array::from_fn(|l| -40.0 + 80.0 * (k * LANES + l) as f64 / 64_000.0);
            let (t, c) = (tanh_lanes(&x), cosh_lanes(&x));
            for l in 0..LANES {
                tanh_abs = tanh_abs.max((t[l] - x[l].tanh()).abs());
                cosh_rel = cosh_rel.max(((c[l] - x[l].cosh()) / x[l].cosh()).abs());
            }
        }
        assert!(tanh_abs <= 4e-16, "tanh: {tanh_abs}");
        assert!(cosh_rel <= 1e-15, "cosh: {cosh_rel}");
        assert_eq!(tanh_lanes(&[1e4; LANES])[0], 1.0);
        assert_eq!(tanh_lanes(&[-1e4; LANES])[0], -1.0);
        assert!(tanh_lanes(&[f64::NAN; LANES])[0].is_nan());
    }

    #[test]
    fn integer_powers_are_bit_identical_to_powi() {
        for n in -9..=12 {
            let x: Lanes = std::array::from_fn(|l| -3.7 + 0.61 * l as f64 + 1e-3 * n as f64);
            let lanes = powi_lanes(x, n);
            for l in 0..LANES {
                assert_eq!(lanes[l].to_bits(), x[l].powi(n).to_bits(), "{}^{n}", x[l]);
            }
        }
    }

    #[test]
    fn flags_tables_and_models_without_a_current_are_not_compiled() {
        let refused = |text: &str| LaneProgram::new(&OdeModel::parse(text, "r.ode", "r").unwrap());
        let flags = "par i=0\ndv/dt=i-v\nglobal 1 v-1 {v=0}\ninit v=0\ndone\n";
        assert_eq!(refused(flags), Err("global flags (state resets)"));
        let table = "par i=0\ntable w % 5 -2 2 t*t\ndv/dt=i-w(v)\ndone\n";
        assert_eq!(refused(table), Err("function tables"));
        assert_eq!(
            refused("par a=1\ndv/dt=a-v\ndone\n"),
            Err("no current parameter")
        );
    }

    /// An equation that is a fixed quantity's slot or a constant compiles to a copy (nothing
    /// else writes its register).
    #[test]
    fn an_equation_that_only_names_a_value_is_copied() {
        let m = OdeModel::parse(
            "par i=0\nw=2*v+i\ndv/dt=w\ndu/dt=3\ndz/dt=v\ninit v=1.5\ndone\n",
            "c.ode",
            "c",
        )
        .unwrap();
        let prog = LaneProgram::new(&m).unwrap();
        let p = m.params.values();
        let refs: [&[f64]; LANES] = [p.as_slice(); LANES];
        let mut regs = prog.registers(&refs);
        let i_ext: Lanes = std::array::from_fn(|l| l as f64);
        prog.set_current(&mut regs, &refs, &i_ext);
        regs[prog.var(0)] = [1.5; LANES];
        prog.eval(&mut regs);
        let (dv, du, dz) = (
            regs[prog.derivative(0)],
            regs[prog.derivative(1)],
            regs[prog.derivative(2)],
        );
        for (l, ((dv, du), dz)) in dv.iter().zip(&du).zip(&dz).enumerate() {
            assert_eq!((*dv, *du, *dz), (3.0 + l as f64, 3.0, 1.5));
        }
    }

    /// A negation before a product by a constant leaves no instruction of its own, whichever
    /// of the two rewrites takes it: the affine fusion on a chain (`-(v + 40) * 0.1`, one
    /// affine instruction), the fold on a bare input (`-v * 2`, a product by -2) and on an
    /// operand that is not affine (`-(v * u) * 3`, a product by -3). The values are the scalar
    /// interpreter's to 1e-15 of 1 + the terms' magnitudes (the fused chain rounds once).
    #[test]
    fn a_negated_product_leaves_no_negation() {
        let text = "par i=0\ndv/dt=i+(-(v+40))*0.1+(-v)*2+(-(v*u))*3\ndu/dt=0\n\
            init v=-1, u=0.5\ndone\n";
        let m = OdeModel::parse(text, "n.ode", "n").unwrap();
        let prog = LaneProgram::new(&m).unwrap();
        let count = |is: fn(&Kind) -> bool| prog.instrs.iter().filter(|i| is(&i.kind)).count();
        assert_eq!(count(|k| *k == Kind::Neg), 0);
        assert_eq!(count(|k| matches!(k, Kind::Affine(..))), 1);
        let p = m.params.values();
        let refs: [&[f64]; LANES] = [p.as_slice(); LANES];
        let mut regs = prog.registers(&refs);
        prog.set_current(&mut regs, &refs, &[0.0; LANES]);
        let ys: Vec<[f64; 2]> = (0..LANES)
            .map(|l| [-80.0 + 5.0 * l as f64, 0.5 - 0.1 * l as f64])
            .collect();
        for j in 0..2 {
            regs[prog.var(j)] = std::array::from_fn(|l| ys[l][j]);
        }
        prog.eval(&mut regs);
        for (l, y) in ys.iter().enumerate() {
            let mut dy = [0.0; 2];
            m.rhs(&p, 0.0, y, &mut dy);
            let lane = regs[prog.derivative(0)][l];
            // Relative to the terms' magnitudes: their sum cancels (at v = -20, -2 + 40 - 42).
            let [v, u] = *y;
            let size = 1.0 + 0.1 * (v + 40.0).abs() + 2.0 * v.abs() + 3.0 * (v * u).abs();
            assert!(
                (lane - dy[0]).abs() <= 1e-15 * size,
                "lane {l}: {lane} against {}",
                dy[0]
            );
        }
    }
}
