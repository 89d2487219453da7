//! The bytecode run once on first-order jets: each value carries its derivatives in `M`
//! directions at once, in plain arrays (no optional parts, nothing allocated per op). This is
//! how continuation gets an `.ode` model's whole Jacobian `[df/dy | df/dlambda]` in one pass
//! of the interpreter instead of n+1 (each op's dispatch is paid once), and at `L` states in
//! that one pass (an interval's collocation points: their chains of dependent operations
//! overlap, and the dispatch is shared).
//!
//! Three things keep that pass short. It runs a [`Tape`]: the bytecode flattened, with the
//! pushes a constant or slot as first operand would cost taken out, and the pairs of steps
//! rate functions are made of done as one ([`paired`]). Each expression runs on jets of only
//! the directions it can vary in ([`Plan`], [`eval_sparse`]): a gating rate of a conductance
//! model varies in the membrane potential alone, not in all n+1 directions. And the states
//! share each dispatch ([`eval`]).
//!
//! The derivative of every function and of the general power comes from the scalar
//! interpreter's own code on [`Dual64`] (`f'(a)` once, then scaled per direction), so the
//! rules are written once. Function tables are left to the generic path (their values carry
//! derivatives of their own).

// The per-direction loops index three arrays of one length M in step: plainer than zips.
#![allow(clippy::needless_range_loop)]

use super::expr::{Arith, Code, Fn1, Op, apply_binary as binary, call1, pow};
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

    /// `exp(self)`.
    #[inline(always)]
    fn exp(self) -> Self {
        let e = self.v.exp();
        self.chain(e, e)
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

/// `K` of the directions of jets of `M`: what [`eval_sparse`] evaluates an expression on.
///
/// An expression whose value varies in few directions (a gating rate in the membrane potential
/// alone) is evaluated on jets of that many: the other directions' derivatives are zero
/// throughout, so carrying them only costs.
pub struct Projected<'a, const M: usize, const K: usize, const L: usize> {
    /// The jets, `L` points per slot.
    pub slots: &'a [[Jet<M>; L]],
    /// The directions kept, in order.
    pub dirs: [usize; K],
}

/// Where [`eval`] reads its value slots, `L` points at a time: all directions of the jets, or
/// a few of them ([`Projected`]).
pub trait Slots<const K: usize, const L: usize> {
    /// Slot `k` at each point.
    fn at(&self, k: usize) -> [Jet<K>; L];
}

impl<const M: usize, const L: usize> Slots<M, L> for [[Jet<M>; L]] {
    #[inline(always)]
    fn at(&self, k: usize) -> [Jet<M>; L] {
        self[k]
    }
}

impl<const M: usize, const K: usize, const L: usize> Slots<K, L> for Projected<'_, M, K, L> {
    #[inline(always)]
    fn at(&self, k: usize) -> [Jet<K>; L] {
        let s = &self.slots[k];
        std::array::from_fn(|l| Jet {
            v: s[l].v,
            d: std::array::from_fn(|i| s[l].d[self.dirs[i]]),
        })
    }
}

/// The parameters and state variables an expression reads, directly or through the fixed
/// quantities it reads: the directions its value can vary in.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reads {
    /// State variables (indices into the state), ascending.
    pub states: Vec<usize>,
    /// Parameters (indices into the parameters), ascending.
    pub params: Vec<usize>,
}

/// What each fixed quantity and each right-hand side of a model reads: the directions
/// [`eval_sparse`] evaluates each on.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Per fixed quantity, in evaluation order: its tape and what it reads.
    pub fixed: Vec<(Tape, Reads)>,
    /// Per right-hand side.
    pub rhs: Vec<(Tape, Reads)>,
}

impl Plan {
    /// The plan of a model whose slots are `n_params` parameters, `n_states` state
    /// variables, time, then the fixed quantities in order (the layout the jets run on: no
    /// algebraic variables).
    pub fn of(fixed: &[Code], rhs: &[Code], n_params: usize, n_states: usize) -> Plan {
        let (fixed_reads, rhs_reads) = reads(fixed, rhs, n_params, n_states);
        let with_tapes =
            |codes: &[Code], reads: Vec<Reads>| codes.iter().map(Tape::of).zip(reads).collect();
        Plan {
            fixed: with_tapes(fixed, fixed_reads),
            rhs: with_tapes(rhs, rhs_reads),
        }
    }
}

fn reads(
    fixed: &[Code],
    rhs: &[Code],
    n_params: usize,
    n_states: usize,
) -> (Vec<Reads>, Vec<Reads>) {
    let base = n_params + n_states + 1;
    let of = |code: &Code, fixed_reads: &[Reads]| {
        let mut r = Reads::default();
        for k in code.slots_read() {
            if k < n_params {
                r.params.push(k);
            } else if k < n_params + n_states {
                r.states.push(k - n_params);
            } else if let Some(f) = k.checked_sub(base).and_then(|f| fixed_reads.get(f)) {
                r.params.extend(&f.params);
                r.states.extend(&f.states);
            }
        }
        for v in [&mut r.params, &mut r.states] {
            v.sort_unstable();
            v.dedup();
        }
        r
    };
    let mut fixed_reads = Vec::with_capacity(fixed.len());
    for code in fixed {
        let r = of(code, &fixed_reads);
        fixed_reads.push(r);
    }
    let rhs_reads = rhs.iter().map(|c| of(c, &fixed_reads)).collect();
    (fixed_reads, rhs_reads)
}

/// The stacks [`eval_sparse`] evaluates on: one per number of directions it projects to.
#[derive(Default)]
pub struct Stacks<const M: usize, const L: usize> {
    full: Vec<[Jet<M>; L]>,
    none: Vec<[Jet<0>; L]>,
    one: Vec<[Jet<1>; L]>,
    two: Vec<[Jet<2>; L]>,
    three: Vec<[Jet<3>; L]>,
}

/// [`eval`] of an expression that reads `reads`, on jets of the directions it can vary in:
/// the state variables it reads (direction `k` for state `k`) and, if it reads the parameter
/// `dparam`, direction `M - 1`. Up to three such directions it runs projected onto them
/// ([`Projected`]), then the result is spread back with zeros elsewhere; otherwise on all
/// `M`. The derivatives in the directions kept are computed by the same operations as on all
/// `M`, so they are the same numbers. `L` points at once, as [`eval`].
pub fn eval_sparse<const M: usize, const L: usize>(
    (tape, reads): &(Tape, Reads),
    dparam: Option<usize>,
    slots: &[[Jet<M>; L]],
    stacks: &mut Stacks<M, L>,
) -> [Jet<M>; L] {
    let mut dirs = [0usize; 3];
    let mut k = 0;
    let wanted = reads
        .states
        .iter()
        .copied()
        .chain(dparam.filter(|p| reads.params.contains(p)).map(|_| M - 1));
    for d in wanted {
        if k == dirs.len() {
            return eval(tape, slots, &mut stacks.full);
        }
        dirs[k] = d;
        k += 1;
    }
    fn spread<const M: usize, const K: usize, const L: usize>(
        r: [Jet<K>; L],
        dirs: [usize; K],
    ) -> [Jet<M>; L] {
        r.map(|r| {
            let mut d = [0.0; M];
            for i in 0..K {
                d[dirs[i]] = r.d[i];
            }
            Jet { v: r.v, d }
        })
    }
    macro_rules! projected {
        ($k:literal, $stack:ident) => {{
            let dirs: [usize; $k] = std::array::from_fn(|i| dirs[i]);
            spread(
                eval(tape, &Projected { slots, dirs }, &mut stacks.$stack),
                dirs,
            )
        }};
    }
    match k {
        0 => projected!(0, none),
        1 => projected!(1, one),
        2 => projected!(2, two),
        _ => projected!(3, three),
    }
}

/// An expression's bytecode flattened for [`eval`]: each fused op split by its operator (one
/// dispatch per step instead of two) and the exponential apart from the other functions.
#[derive(Debug, Clone, PartialEq)]
pub struct Tape {
    steps: Vec<Step>,
    depth: usize,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Step {
    Const(f64),
    Slot(usize),
    Neg,
    AddC(f64),
    SubC(f64),
    MulC(f64),
    /// `top / c`, with `1 / c` (the derivative's factor) divided once, here.
    DivC(f64, f64),
    AddS(usize),
    SubS(usize),
    MulS(usize),
    DivS(usize),
    /// `c - top`, `c / top`, `slot - top`, `slot / top`: a binary op whose first operand is
    /// a constant or a slot, taken without pushing it.
    RSubC(f64),
    RDivC(f64),
    RSubS(usize),
    RDivS(usize),
    Add,
    Sub,
    Mul,
    Div,
    Min,
    Max,
    PowI(i32),
    Exp,
    Call(Fn1),
    Select,
    /// A table lookup: NaN (the jets do not run function tables: [`supported`]).
    Lookup,
    /// A comparison: a constant 0 or 1.
    Cmp(Op),
    /// The general power, `atan2` and `mod`.
    Other(Op),
    // Pairs of steps as one ([`paired`]): the same operations in the same order, one dispatch.
    /// `Slot(k)` then `AddC(c)`: push `slot + c`.
    SlotAddC(usize, f64),
    /// `Const(c)` then `SubS(k)`: push `c - slot`.
    ConstSubS(f64, usize),
    /// `Const(c)` then `MulS(k)`: push `c * slot`.
    ConstMulS(f64, usize),
    /// `Slot(k)` then `SubS(j)`: push `slot k - slot j`.
    SlotSubS(usize, usize),
    /// `AddC(a)` then `MulC(b)`.
    AddMulC(f64, f64),
    /// `AddC(a)` then `DivC(c, 1 / c)`.
    AddDivC(f64, f64, f64),
    /// `DivC(c, 1 / c)` then `Exp`.
    DivExp(f64, f64),
    /// `MulC(c)` then `Exp`.
    MulExp(f64),
    /// `Exp` then `MulC(c)`.
    ExpMulC(f64),
    /// `Exp` then `AddC(c)`.
    ExpAddC(f64),
    /// `Exp` then `RSubC(c)`.
    ExpRSubC(f64),
}

impl Tape {
    /// The tape of `code`: its steps, then [`paired`].
    pub fn of(code: &Code) -> Tape {
        let t = Tape::unpaired(code);
        Tape {
            steps: paired(t.steps),
            depth: t.depth,
        }
    }

    /// The tape of `code` step for step, pushes saved ([`fused`]) but no pairs made.
    fn unpaired(code: &Code) -> Tape {
        let by = |f: Arith, add, sub, mul, div| match f {
            Arith::Add => add,
            Arith::Sub => sub,
            Arith::Mul => mul,
            Arith::Div => div,
        };
        let steps = code.ops.iter().map(|op| match *op {
            Op::Const(c) => Step::Const(c),
            Op::Slot(k) => Step::Slot(k),
            Op::Neg => Step::Neg,
            Op::ArithC(f, c) => by(
                f,
                Step::AddC(c),
                Step::SubC(c),
                Step::MulC(c),
                Step::DivC(c, 1.0 / c),
            ),
            Op::ArithS(f, k) => by(
                f,
                Step::AddS(k),
                Step::SubS(k),
                Step::MulS(k),
                Step::DivS(k),
            ),
            Op::Add => Step::Add,
            Op::Sub => Step::Sub,
            Op::Mul => Step::Mul,
            Op::Div => Step::Div,
            Op::Min => Step::Min,
            Op::Max => Step::Max,
            Op::PowI(n) => Step::PowI(n),
            Op::Call(Fn1::Exp) => Step::Exp,
            Op::Call(f) => Step::Call(f),
            Op::Select => Step::Select,
            Op::Lookup(_) => Step::Lookup,
            Op::Cmp(_) => Step::Cmp(*op),
            other => Step::Other(other),
        });
        Tape {
            steps: fused(steps),
            depth: code.depth,
        }
    }
}

/// `steps` with adjacent pairs that rate functions are made of (`(v + a) / b`, `exp(..)`,
/// `c * exp(..)`, `1 - x`, `1 + exp(..)`) each made one step that does both operations, in
/// the same order on the same numbers: values and derivatives are the same bit for bit, and
/// the interpreter's dispatch (most of a step's cost on jets of a few directions) is paid
/// once per pair. Greedy from the left.
fn paired(steps: Vec<Step>) -> Vec<Step> {
    let mut out = Vec::with_capacity(steps.len());
    let mut rest = steps.into_iter().peekable();
    while let Some(step) = rest.next() {
        let pair = match (step, rest.peek().copied()) {
            (Step::Slot(k), Some(Step::AddC(c))) => Some(Step::SlotAddC(k, c)),
            (Step::Const(c), Some(Step::SubS(k))) => Some(Step::ConstSubS(c, k)),
            (Step::Const(c), Some(Step::MulS(k))) => Some(Step::ConstMulS(c, k)),
            (Step::Slot(k), Some(Step::SubS(j))) => Some(Step::SlotSubS(k, j)),
            (Step::AddC(a), Some(Step::MulC(b))) => Some(Step::AddMulC(a, b)),
            (Step::AddC(a), Some(Step::DivC(c, inv))) => Some(Step::AddDivC(a, c, inv)),
            (Step::DivC(c, inv), Some(Step::Exp)) => Some(Step::DivExp(c, inv)),
            (Step::MulC(c), Some(Step::Exp)) => Some(Step::MulExp(c)),
            (Step::Exp, Some(Step::MulC(c))) => Some(Step::ExpMulC(c)),
            (Step::Exp, Some(Step::AddC(c))) => Some(Step::ExpAddC(c)),
            (Step::Exp, Some(Step::RSubC(c))) => Some(Step::ExpRSubC(c)),
            _ => None,
        };
        match pair {
            Some(p) => {
                rest.next();
                out.push(p);
            }
            None => out.push(step),
        }
    }
    out
}

/// `steps` with pushes saved where the result is the same: a binary arithmetic op whose first
/// operand is one constant or slot becomes a unary step on the second (`c * x` as `x * c`,
/// `c - x` as [`Step::RSubC`]); a negation followed by a product or quotient by a constant
/// goes into the constant (`-x / c` as `x / -c`, exact in IEEE arithmetic). Values are
/// unchanged bit for bit (the products and sums are the same ones, commuted). A derivative
/// can differ in the sign of a zero, and where a constant first operand met an infinite or
/// NaN value (`c * x` no longer adds `0 * x`) it is finite where it was NaN.
fn fused(steps: impl Iterator<Item = Step>) -> Vec<Step> {
    let mut out: Vec<Step> = vec![];
    // Where each value on the stack starts in `out`.
    let mut starts: Vec<usize> = vec![];
    for step in steps {
        match step {
            Step::Const(_) | Step::Slot(_) => {
                starts.push(out.len());
                out.push(step);
            }
            Step::MulC(c) | Step::DivC(c, _) if out.last() == Some(&Step::Neg) => {
                let negated = match step {
                    Step::MulC(_) => Step::MulC(-c),
                    _ => Step::DivC(-c, 1.0 / -c),
                };
                *out.last_mut().expect("a negation is there") = negated;
            }
            Step::Add | Step::Sub | Step::Mul | Step::Div => {
                let (Some(b), Some(a)) = (starts.pop(), starts.pop()) else {
                    out.push(step);
                    continue;
                };
                starts.push(a);
                let reversed = match (out[a], step) {
                    _ if b != a + 1 => None,
                    (Step::Const(c), Step::Add) => Some(Step::AddC(c)),
                    (Step::Const(c), Step::Sub) => Some(Step::RSubC(c)),
                    (Step::Const(c), Step::Mul) => Some(Step::MulC(c)),
                    (Step::Const(c), Step::Div) => Some(Step::RDivC(c)),
                    (Step::Slot(k), Step::Add) => Some(Step::AddS(k)),
                    (Step::Slot(k), Step::Sub) => Some(Step::RSubS(k)),
                    (Step::Slot(k), Step::Mul) => Some(Step::MulS(k)),
                    (Step::Slot(k), Step::Div) => Some(Step::RDivS(k)),
                    _ => None,
                };
                match reversed {
                    Some(r) => {
                        out.remove(a);
                        out.push(r);
                    }
                    None => out.push(step),
                }
            }
            Step::Select => {
                let c = starts.len().saturating_sub(3);
                let start = starts.get(c).copied().unwrap_or(0);
                starts.truncate(c);
                starts.push(start);
                out.push(step);
            }
            Step::Min | Step::Max | Step::Cmp(_) | Step::Other(_) => {
                let a = starts.len().saturating_sub(2);
                let start = starts.get(a).copied().unwrap_or(0);
                starts.truncate(a);
                starts.push(start);
                out.push(step);
            }
            _ => out.push(step),
        }
    }
    out
}

/// Evaluate `tape` on jets at `L` points at once; `stack` is scratch (reused across calls).
/// Each step is dispatched once for the `L` points and then done at each, by the same
/// operations as with one point (so the numbers are the same): the interpreter's cost is
/// shared, and the points' chains of dependent operations run side by side. The top of the
/// stack is kept apart, in a local, so the unary steps (most of them: a slot or a constant
/// combined into the top, a function applied to it) touch no memory. A function table (which
/// [`supported`] refuses) gives NaN.
#[inline]
pub fn eval<const M: usize, const L: usize, S: Slots<M, L> + ?Sized>(
    tape: &Tape,
    slots: &S,
    stack: &mut Vec<[Jet<M>; L]>,
) -> [Jet<M>; L] {
    if stack.len() < tape.depth + 1 {
        stack.resize(tape.depth + 1, [Jet::constant(0.0); L]);
    }
    let st = &mut stack[..];
    // Below the top: st[..sp]. The first push stores the (meaningless) initial top in st[0].
    let mut sp = 0usize;
    let mut top = [Jet::constant(0.0); L];
    macro_rules! push {
        ($v:expr) => {{
            st[sp] = top;
            sp += 1;
            top = $v;
        }};
    }
    macro_rules! pop {
        () => {{
            sp -= 1;
            st[sp]
        }};
    }
    // `f` at each point: of the top, or of the top and one other operand.
    macro_rules! each {
        (|$t:ident| $e:expr) => {{
            for slot in top.iter_mut() {
                let $t = *slot;
                *slot = $e;
            }
        }};
    }
    macro_rules! with {
        ($other:expr, |$a:ident, $t:ident| $e:expr) => {{
            let o = $other;
            for (slot, $a) in top.iter_mut().zip(o) {
                let $t = *slot;
                *slot = $e;
            }
        }};
    }
    for step in &tape.steps {
        match *step {
            Step::Const(c) => push!([Jet::constant(c); L]),
            Step::Slot(k) => push!(slots.at(k)),
            Step::Neg => each!(|t| t.chain(-t.v, -1.0)),
            Step::AddC(c) => each!(|t| t.arith_c(Arith::Add, c)),
            Step::SubC(c) => each!(|t| t.arith_c(Arith::Sub, c)),
            Step::MulC(c) => each!(|t| t.arith_c(Arith::Mul, c)),
            Step::DivC(c, inv) => each!(|t| t.chain(t.v / c, inv)),
            Step::AddS(k) => with!(slots.at(k), |s, t| t.arith(Arith::Add, s)),
            Step::SubS(k) => with!(slots.at(k), |s, t| t.arith(Arith::Sub, s)),
            Step::MulS(k) => with!(slots.at(k), |s, t| t.arith(Arith::Mul, s)),
            Step::DivS(k) => with!(slots.at(k), |s, t| t.arith(Arith::Div, s)),
            Step::RSubC(c) => each!(|t| Jet::constant(c).arith(Arith::Sub, t)),
            Step::RDivC(c) => each!(|t| Jet::constant(c).arith(Arith::Div, t)),
            Step::RSubS(k) => with!(slots.at(k), |s, t| s.arith(Arith::Sub, t)),
            Step::RDivS(k) => with!(slots.at(k), |s, t| s.arith(Arith::Div, t)),
            Step::PowI(n) => each!(|t| {
                let r = Dual64::new(t.v, 1.0).powi(n);
                t.chain(r.re, r.eps)
            }),
            Step::Exp => each!(|t| t.exp()),
            Step::Call(f) => each!(|t| {
                let r = call1(f, Dual64::new(t.v, 1.0));
                t.chain(r.re, r.eps)
            }),
            Step::Lookup => top = [Jet::constant(f64::NAN); L],
            Step::Select => {
                let a = pop!();
                let c = pop!();
                for l in 0..L {
                    if c[l].v != 0.0 {
                        top[l] = a[l];
                    }
                }
            }
            Step::Add => with!(pop!(), |a, t| a.arith(Arith::Add, t)),
            Step::Sub => with!(pop!(), |a, t| a.arith(Arith::Sub, t)),
            Step::Mul => with!(pop!(), |a, t| a.arith(Arith::Mul, t)),
            Step::Div => with!(pop!(), |a, t| a.arith(Arith::Div, t)),
            // As the scalar path: the second operand only where it is strictly smaller
            // (larger), so a NaN picks the first.
            Step::Min => with!(pop!(), |a, t| if t.v < a.v { t } else { a }),
            Step::Max => with!(pop!(), |a, t| if t.v > a.v { t } else { a }),
            Step::Cmp(op) => with!(pop!(), |a, t| Jet::constant(binary(op, a.v, t.v))),
            Step::Other(op) => with!(pop!(), |a, t| other_binary(op, a, t)),
            Step::SlotAddC(k, c) => push!(slots.at(k).map(|s| s.arith_c(Arith::Add, c))),
            Step::ConstSubS(c, k) => {
                push!(slots.at(k).map(|s| Jet::constant(c).arith(Arith::Sub, s)))
            }
            Step::ConstMulS(c, k) => {
                push!(slots.at(k).map(|s| Jet::constant(c).arith(Arith::Mul, s)))
            }
            Step::SlotSubS(k, j) => {
                let (a, b) = (slots.at(k), slots.at(j));
                push!(std::array::from_fn(|l| a[l].arith(Arith::Sub, b[l])))
            }
            Step::AddMulC(a, b) => each!(|t| t.arith_c(Arith::Add, a).arith_c(Arith::Mul, b)),
            Step::AddDivC(a, c, inv) => each!(|t| {
                let x = t.arith_c(Arith::Add, a);
                x.chain(x.v / c, inv)
            }),
            Step::DivExp(c, inv) => each!(|t| t.chain(t.v / c, inv).exp()),
            Step::MulExp(c) => each!(|t| t.arith_c(Arith::Mul, c).exp()),
            Step::ExpMulC(c) => each!(|t| t.exp().arith_c(Arith::Mul, c)),
            Step::ExpAddC(c) => each!(|t| t.exp().arith_c(Arith::Add, c)),
            Step::ExpRSubC(c) => each!(|t| Jet::constant(c).arith(Arith::Sub, t.exp())),
        }
    }
    top
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ode::OdeModel;

    /// Every kind of step, fixed quantities reading each other, constants and slots as first
    /// operands (`2 - x`, `a / x`), negations before a quotient, and expressions that vary in
    /// none, one, two, three and all of the directions.
    const EVERY_KIND: &str = "par a=1.5, b=-0.5, c=0.7, i=0.3\n\
        f(x)=max(x, a)-min(x, b)+if(x>0)then(x^3)else(-x)\n\
        w=abs(v)+sin(v)*cos(u)+tanh(v/2)+cosh(u)+u^3-v^(-2)+(u+2)^7+atan2(v, u)+(abs(v)+1)**2.5\n\
        z=w*u+exp(-v*v)\n\
        k=c*3-1/a\n\
        dv/dt=i-v^3/3+u+f(v)/(1+exp(-(v+1)/2))+z/(2+v*v)-k\n\
        g=2*if(v>u)then(v)else(u)+(a-max(u, v))+(-(v+1))*3\n\
        du/dt=0.08*(v+0.7-0.8*u)+z/100+sqrt(u*u+1)+2-s+g/10\n\
        ds/dt=a/(1+s*s)-c*s+q*u-v*r+(v-u)/9+(s*s+1)*3.7+(s*s+1)/3+exp(s*0.5)+0.5*s+exp(s/3)+3*exp(q*s)+1/(exp(q*r)+2)\n\
        dq/dt=(1-q)*exp(-(v+b)/c)-q/(2+r*r)\n\
        dr/dt=1-exp(-i*c)\n\
        init v=-1, u=0.5, s=0.2, q=0.4, r=0.1\ndone\n";

    fn every_kind() -> OdeModel {
        OdeModel::parse(EVERY_KIND, "every.ode", "every").unwrap()
    }

    /// The jets' Jacobian, every direction at once and each expression projected onto the
    /// directions it varies in, against dual numbers one direction at a time through the
    /// bytecode's own evaluation (the generic path): the same derivatives up to the rounding
    /// of the quotient rule (1e-13 relative), at states with both branches of the conditional,
    /// without and with each parameter continued.
    #[test]
    fn the_jets_give_what_dual_numbers_give_one_direction_at_a_time() {
        use num_dual::Dual64;
        let m = every_kind();
        let n = m.vars.len();
        let p = m.params.values();
        for (case, y) in [
            [-1.3, 0.5, 0.2, 0.4, 0.1],
            [0.8, -0.7, 1.1, -0.3, 2.0],
            [2.1, 1.9, -0.6, 0.9, -1.2],
        ]
        .iter()
        .enumerate()
        {
            for dparam in std::iter::once(None).chain((0..p.len()).map(Some)) {
                let mut j = nalgebra::DMatrix::zeros(n, n + 1);
                let mut f = vec![0.0; n];
                assert!(m.jacobian_into(&p, y, dparam, &mut j, &mut f));
                for col in 0..=n {
                    let yd: Vec<Dual64> = (0..n)
                        .map(|k| Dual64::new(y[k], if k == col { 1.0 } else { 0.0 }))
                        .collect();
                    let pd: Vec<Dual64> = (0..p.len())
                        .map(|k| {
                            let seed = col == n && dparam == Some(k);
                            Dual64::new(p[k], if seed { 1.0 } else { 0.0 })
                        })
                        .collect();
                    let mut out = vec![Dual64::from(0.0); n];
                    m.rhs(&pd, Dual64::from(0.0), &yd, &mut out);
                    for row in 0..n {
                        // Dual numbers divide by multiplying with the reciprocal; the jets
                        // divide, as the plain path does: the values differ by an ulp or two.
                        let (a, b) = (f[row], out[row].re);
                        assert!(
                            (a - b).abs() <= 1e-15 * (1.0 + b.abs()),
                            "case {case}: f{row}"
                        );
                        let (a, b) = (j[(row, col)], out[row].eps);
                        assert!(
                            (a - b).abs() <= 1e-13 * (1.0 + b.abs()),
                            "case {case}, dparam {dparam:?}: df{row}/d{col} = {a} by jets, {b} by duals"
                        );
                    }
                }
            }
        }
    }

    /// What each expression reads, through the fixed quantities: the projections run on these.
    #[test]
    fn reads_follow_the_fixed_quantities() {
        let m = every_kind();
        let plan = m.jets.as_ref().expect("the jets run this model");
        let reads = |r: &Reads| (r.states.clone(), r.params.clone());
        // w reads v and u; z reads w, u, v; k reads c and a.
        assert_eq!(reads(&plan.fixed[0].1), (vec![0, 1], vec![]));
        assert_eq!(reads(&plan.fixed[1].1), (vec![0, 1], vec![]));
        assert_eq!(reads(&plan.fixed[2].1), (vec![], vec![0, 2]));
        // v' reads a and b through f, c and a through k, and i.
        assert_eq!(reads(&plan.rhs[0].1), (vec![0, 1], vec![0, 1, 2, 3]));
        assert_eq!(reads(&plan.rhs[2].1), (vec![0, 1, 2, 3, 4], vec![0, 2]));
        assert_eq!(reads(&plan.rhs[3].1), (vec![0, 3, 4], vec![1, 2]));
        assert_eq!(reads(&plan.rhs[4].1), (vec![], vec![2, 3]));
    }

    /// The flattened tape computes the bytecode's values bit for bit (on jets of no
    /// direction), and a constant or slot as a first operand, or a negation before a
    /// quotient, costs no step of its own.
    #[test]
    fn the_tape_is_the_bytecode_bit_for_bit_with_fewer_steps() {
        let m = every_kind();
        let plan = m.jets.as_ref().unwrap();
        let p = m.params.values();
        let y = [0.8, -0.7, 1.1, -0.3, 2.0];
        let mut plain: Vec<f64> = p.iter().chain(&y).copied().collect();
        plain.push(0.0);
        let mut jets: Vec<[Jet<0>; 1]> = plain.iter().map(|&v| [Jet::constant(v)]).collect();
        let mut stack = vec![];
        for ((tape, _), code) in plan.fixed.iter().zip(&m.fixed) {
            let a = eval(tape, &jets[..], &mut stack)[0].v;
            let b = code.eval(&plain, &mut vec![]);
            assert_eq!(a.to_bits(), b.to_bits());
            plain.push(b);
            jets.push([Jet::constant(b)]);
        }
        for ((tape, _), code) in plan.rhs.iter().zip(&m.rhs) {
            let a = eval(tape, &jets[..], &mut stack)[0].v;
            assert_eq!(a.to_bits(), code.eval(&plain, &mut vec![]).to_bits());
            assert!(tape.steps.len() <= code.ops.len());
        }
        // `1 - exp(...)` takes no push of its constant (and is one step with its exponential),
        // `a / (...)` none of its slot, `0.08 * (...)` multiplies by 0.08 at its end, and
        // `exp(-(v + 1) / 2)` divides by -2 (in the step that takes the exponential).
        let steps = |k: usize| &plan.rhs[k].0.steps;
        assert_eq!(steps(4).last(), Some(&Step::ExpRSubC(1.0)));
        assert!(!steps(4).contains(&Step::Const(1.0)));
        assert!(steps(2).contains(&Step::RDivS(0)));
        assert_eq!(steps(1).first(), Some(&Step::SlotAddC(4, 0.7)));
        assert!(steps(1).contains(&Step::MulC(0.08)));
        assert!(steps(0).contains(&Step::DivExp(-2.0, -0.5)));
        // In g: `2 * if(..)` multiplies the selected value by 2, `a - max(..)` takes `a` as a
        // slot after the max, and `(-(v + 1)) * 3` multiplies by -3.
        let g = &plan.fixed[3].0.steps;
        assert!(g.contains(&Step::MulC(2.0)) && !g.contains(&Step::Const(2.0)));
        assert!(g.contains(&Step::RSubS(0)));
        assert!(g.contains(&Step::MulC(-3.0)) && !g.contains(&Step::Neg));
        assert_eq!(steps(0).iter().filter(|s| **s == Step::Neg).count(), 1);
    }

    /// Every expression of the model on jets of all directions: the values and derivatives
    /// of the fixed quantities then the right-hand sides, each from `tapes`.
    fn on_jets<const M: usize>(
        m: &OdeModel,
        tapes: &[Tape],
        y: &[f64],
        dparam: Option<usize>,
    ) -> Vec<Jet<M>> {
        let p = m.params.values();
        let mut slots: Vec<[Jet<M>; 1]> = p
            .iter()
            .enumerate()
            .map(|(k, &v)| [Jet::variable(v, if dparam == Some(k) { M - 1 } else { M })])
            .chain(y.iter().enumerate().map(|(k, &v)| [Jet::variable(v, k)]))
            .collect();
        slots.push([Jet::constant(0.0)]);
        let mut stack = vec![];
        let mut out = vec![];
        for (k, tape) in tapes.iter().enumerate() {
            let [r] = eval(tape, &slots[..], &mut stack);
            if k < m.fixed.len() {
                slots.push([r]);
            }
            out.push(r);
        }
        out
    }

    /// The pairs of steps made one compute what the two steps compute, bit for bit, values
    /// and derivatives; the test model has every kind of pair.
    #[test]
    fn pairs_give_the_steps_they_replace_bit_for_bit() {
        let m = every_kind();
        let codes: Vec<&Code> = m.fixed.iter().chain(&m.rhs).collect();
        let paired: Vec<Tape> = codes.iter().map(|c| Tape::of(c)).collect();
        let unpaired: Vec<Tape> = codes.iter().map(|c| Tape::unpaired(c)).collect();
        let kinds: std::collections::BTreeSet<String> = paired
            .iter()
            .flat_map(|t| &t.steps)
            .map(|s| format!("{s:?}"))
            .map(|s| s[..s.find('(').unwrap_or(s.len())].to_string())
            .collect();
        for pair in [
            "SlotAddC",
            "ConstSubS",
            "ConstMulS",
            "SlotSubS",
            "AddMulC",
            "AddDivC",
            "DivExp",
            "MulExp",
            "ExpMulC",
            "ExpAddC",
            "ExpRSubC",
        ] {
            assert!(kinds.contains(pair), "no {pair} in the test model's tapes");
        }
        let fewer: usize = unpaired.iter().map(|t| t.steps.len()).sum::<usize>()
            - paired.iter().map(|t| t.steps.len()).sum::<usize>();
        assert!(fewer >= 10, "{fewer} steps saved");
        // (Each pair alone, at many values: `each_pair_is_its_two_steps_bit_for_bit`.)
        for y in [[-1.3, 0.5, 0.2, 0.4, 0.1], [0.8, -0.7, 1.1, -0.3, 2.0]] {
            for dparam in [None, Some(0), Some(2)] {
                let a = on_jets::<6>(&m, &paired, &y, dparam);
                let b = on_jets::<6>(&m, &unpaired, &y, dparam);
                for (k, (a, b)) in a.iter().zip(&b).enumerate() {
                    assert_eq!(a.v.to_bits(), b.v.to_bits(), "expression {k}");
                    for (x, z) in a.d.iter().zip(&b.d) {
                        assert_eq!(
                            x.to_bits(),
                            z.to_bits(),
                            "expression {k}: {:?} {:?}",
                            a.d,
                            b.d
                        );
                    }
                }
            }
        }
    }

    /// Jacobians at several states at once (a group of four and three more) are those of one
    /// state at a time, bit for bit.
    #[test]
    fn states_at_once_give_what_one_at_a_time_gives() {
        let m = every_kind();
        let (n, p) = (m.vars.len(), m.params.values());
        // States whose conditionals go both ways within the group of four: `v > 0`,
        // `min(v, b)` with b = -0.5, and `v > u` (so `max(u, v)`).
        let ys: Vec<f64> = (0..7 * n)
            .map(|k| 1.5 * (1.7 * k as f64 + 0.3).sin())
            .collect();
        let group = || ys[..4 * n].chunks(n);
        type Condition = fn(&[f64]) -> bool;
        let tests: [(&str, Condition); 3] = [
            ("v > 0", |y| y[0] > 0.0),
            ("v < b", |y| y[0] < -0.5),
            ("v > u", |y| y[0] > y[1]),
        ];
        for (what, test) in tests {
            let ways: Vec<bool> = group().map(test).collect();
            assert!(
                ways.contains(&true) && ways.contains(&false),
                "{what}: {ways:?}"
            );
        }
        for dparam in [None, Some(1)] {
            let mut js = vec![nalgebra::DMatrix::zeros(n, n + 1); 7];
            let mut fs = vec![0.0; 7 * n];
            assert!(m.jacobians_into(&p, &ys, dparam, &mut js, &mut fs));
            for (s, y) in ys.chunks(n).enumerate() {
                let mut j = nalgebra::DMatrix::from_element(n, n + 1, f64::NAN);
                let mut f = vec![f64::NAN; n];
                assert!(m.jacobian_into(&p, y, dparam, &mut j, &mut f));
                for (a, b) in f.iter().zip(&fs[s * n..(s + 1) * n]) {
                    assert_eq!(a.to_bits(), b.to_bits(), "f at state {s}");
                }
                for (a, b) in j.iter().zip(js[s].iter()) {
                    assert_eq!(a.to_bits(), b.to_bits(), "J at state {s}");
                }
            }
        }
    }

    /// Each pair of steps made one, alone, against its two steps at 200 values of the
    /// operands (and their derivatives in two directions): the same bits. Constants that are
    /// not powers of two, so a quotient and a product by the reciprocal would differ.
    #[test]
    fn each_pair_is_its_two_steps_bit_for_bit() {
        let pairs = [
            [Step::Slot(0), Step::AddC(0.7)],
            [Step::Const(0.3), Step::SubS(1)],
            [Step::Const(0.3), Step::MulS(1)],
            [Step::Slot(0), Step::SubS(1)],
            [Step::AddC(0.7), Step::MulC(3.7)],
            [Step::AddC(0.7), Step::DivC(3.0, 1.0 / 3.0)],
            [Step::DivC(-3.0, -1.0 / 3.0), Step::Exp],
            [Step::MulC(0.37), Step::Exp],
            [Step::Exp, Step::MulC(3.7)],
            [Step::Exp, Step::AddC(2.0)],
            [Step::Exp, Step::RSubC(1.0)],
        ];
        let value = |k: usize| 3.0 * (0.61 * k as f64 + 0.2).sin();
        for pair in pairs {
            // A unary pair acts on a value already on the stack; `-slot` puts one there
            // without making a pair of its own.
            let mut steps = match pair[0] {
                Step::Slot(_) | Step::Const(_) => vec![],
                _ => vec![Step::Slot(0), Step::Neg],
            };
            steps.extend(pair);
            let two = Tape { steps, depth: 2 };
            let one = Tape {
                steps: paired(two.steps.clone()),
                depth: 2,
            };
            assert_eq!(one.steps.len() + 1, two.steps.len(), "{pair:?} not paired");
            let mut stack = vec![];
            for k in 0..200 {
                let jet = |i: usize| Jet {
                    v: value(6 * k + 3 * i),
                    d: [value(6 * k + 3 * i + 1), value(6 * k + 3 * i + 2)],
                };
                let slots = [[jet(0)], [jet(1)]];
                let [a] = eval(&one, &slots[..], &mut stack);
                let [b] = eval(&two, &slots[..], &mut stack);
                assert_eq!(a.v.to_bits(), b.v.to_bits(), "{pair:?} at {k}");
                for (x, y) in a.d.iter().zip(&b.d) {
                    assert_eq!(x.to_bits(), y.to_bits(), "{pair:?} at {k}");
                }
            }
        }
    }
}
