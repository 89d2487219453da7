//! The exponentials of a lane program whose arguments are affine in one input (a parameter, a
//! state variable or `t`): `exp(-(v + 40)/10)` in a rate is `exp(-v/10) e^-4`. They are
//! computed together before the instructions run, as the conductance kernel computes its
//! rates' exponentials: the slopes that are whole multiples of one slope take powers of a
//! single exponential ([`PowerFamily`]), the others one exponential each; the constants around
//! an exponential (`4 exp(..)`, `1 - exp(..)`) fold into its value, `coefficient e^offset` a
//! product and the addend a sum ([`TableValue`]). `hh.ode`'s six exponentials of `v` (slopes 1/10, 1/18,
//! 1/20 and 1/80 per mV) become one, and the additions and products that formed their
//! arguments are not run at all.
//!
//! Accuracy, in units of 2^-53: a power `n` is within about `2 n + 2` of `exp(scale x +
//! offset)` (`n` at most 96, [`PowerFamily`]; 2.1e-14 relative), an exponential of its own
//! within 2-3; each also carries the rounding of `scale x`, about `|scale x|` units, where the
//! scalar interpreter's argument `(x + d) c` carries about `|(x + d) c|`. On the rates of a
//! conductance model (`|scale x|` up to about 12) the two agree to about 2e-14 relative.
//!
//! Range: a family's `c0 x` is clamped to ±700, where the exponential clamps its own
//! argument, so a power of 2 or more overflows to infinity or underflows to 0 past e^±708 as
//! the library's exponential does (an exponential of its own stops at e^±700, as
//! [`exp_lanes`] does); an offset beyond ±300 stays in the argument (an instruction, not the
//! table).

use super::{LANES, Lanes, each_lane};
use crate::numerics::lanes::exp_lanes;
use crate::numerics::power_family::PowerFamily;

/// A value that is `scale * x + offset` for the register `x` (`base`), or the constant `offset`
/// (no `base`), as the compiler tracks it through the bytecode.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Affine {
    pub(super) base: Option<usize>,
    pub(super) scale: f64,
    pub(super) offset: f64,
}

impl Affine {
    /// The input register `x` itself.
    pub(super) fn input(x: usize) -> Affine {
        Affine {
            base: Some(x),
            scale: 1.0,
            offset: 0.0,
        }
    }

    /// The constant `c`.
    pub(super) fn constant(c: f64) -> Affine {
        Affine {
            base: None,
            scale: 0.0,
            offset: c,
        }
    }

    /// The constant, where the value is one.
    pub(super) fn constant_value(self) -> Option<f64> {
        self.base.is_none().then_some(self.offset)
    }

    pub(super) fn plus(self, c: f64) -> Affine {
        Affine {
            offset: self.offset + c,
            ..self
        }
    }

    pub(super) fn times(self, c: f64) -> Affine {
        Affine {
            scale: self.scale * c,
            offset: self.offset * c,
            ..self
        }
    }

    fn over(self, c: f64) -> Option<Affine> {
        (c != 0.0).then_some(Affine {
            scale: self.scale / c,
            offset: self.offset / c,
            ..self
        })
    }

    /// `-self`.
    pub(super) fn negated(self) -> Affine {
        self.times(-1.0)
    }

    /// `self + c`, `self - c`, `self * c` or `self / c`, as `op` says.
    pub(super) fn with_constant(self, op: super::super::expr::Arith, c: f64) -> Option<Affine> {
        use super::super::expr::Arith;
        match op {
            Arith::Add => Some(self.plus(c)),
            Arith::Sub => Some(self.plus(-c)),
            Arith::Mul => Some(self.times(c)),
            Arith::Div => self.over(c),
        }
    }

    /// `a + b`, `a - b`, `a * b` or `a / b` where one of them is a constant; `None` otherwise.
    pub(super) fn binary(op: super::super::expr::Arith, a: Affine, b: Affine) -> Option<Affine> {
        use super::super::expr::Arith;
        match (op, a.constant_value(), b.constant_value()) {
            (_, _, Some(c)) => a.with_constant(op, c),
            (Arith::Add, Some(c), None) => Some(b.plus(c)),
            (Arith::Sub, Some(c), None) => Some(b.negated().plus(c)),
            (Arith::Mul, Some(c), None) => Some(b.times(c)),
            _ => None,
        }
    }
}

/// A value of the table: `coefficient * exp(arg) + addend`, `arg` affine in an input (the
/// constants around an exponential, `0.1 / (1 - exp(..))`'s `1 -`, fold into it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct TableValue {
    pub(super) arg: Affine,
    pub(super) coefficient: f64,
    pub(super) addend: f64,
}

/// The base that stands for the exponential itself in [`TableValue::outer`] (no register has
/// this index).
const EXPONENTIAL: usize = usize::MAX;

impl TableValue {
    /// `exp(arg)`.
    pub(super) fn exp(arg: Affine) -> TableValue {
        TableValue {
            arg,
            coefficient: 1.0,
            addend: 0.0,
        }
    }

    /// The value as an affine function of its exponential, so that constants fold into it by
    /// [`Affine`]'s arithmetic.
    pub(super) fn outer(self) -> Affine {
        Affine {
            base: Some(EXPONENTIAL),
            scale: self.coefficient,
            offset: self.addend,
        }
    }

    /// The value whose outer function is `outer` (as [`TableValue::outer`] gives it, after
    /// arithmetic with constants); `None` unless it is still a function of the exponential
    /// with a finite, non-zero coefficient, a finite addend, and a finite factor
    /// `coefficient * e^offset` (so the table computes no infinity the scalar path does not).
    pub(super) fn with_outer(self, outer: Affine) -> Option<TableValue> {
        let value = TableValue {
            coefficient: outer.scale,
            addend: outer.offset,
            ..self
        };
        let factor = value.coefficient * value.arg.offset.exp();
        let finite = factor.is_finite() && factor != 0.0 && value.addend.is_finite();
        (outer.base == Some(EXPONENTIAL) && finite).then_some(value)
    }
}

/// Offsets beyond this stay in the exponential's argument: `e^offset` must be a normal number
/// with room to spare for the product.
const MAX_OFFSET: f64 = 300.0;

/// One value of the table: `coefficient * exp(scale * x + offset) + addend`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Member {
    x: usize,
    scale: f64,
    offset: f64,
    coefficient: f64,
    addend: f64,
}

/// The exponentials found while compiling, for the registers from `first` on, in order. Once
/// frozen (after the plain program, when the register count is fixed) it only finds the ones
/// it has.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ExpTable {
    first: usize,
    members: Vec<Member>,
    frozen: bool,
}

impl ExpTable {
    /// An empty table whose members take the registers from `first` on.
    pub(super) fn new(first: usize) -> ExpTable {
        ExpTable {
            first,
            members: vec![],
            frozen: false,
        }
    }

    /// Whether the table takes `exp(arg)`: an input, a non-zero finite slope and an offset
    /// within [`MAX_OFFSET`] (otherwise the exponential is an instruction as before).
    pub(super) fn accepts(&self, arg: Affine) -> bool {
        let scale = arg.scale;
        arg.base.is_some() && scale != 0.0 && scale.is_finite() && arg.offset.abs() <= MAX_OFFSET
    }

    /// The register that holds `value`, added to the table if it is new and the table is not
    /// frozen; `None` where the table does not take its exponential ([`ExpTable::accepts`]), or
    /// its coefficient or addend is not finite, or the table is frozen without it.
    pub(super) fn register_of(&mut self, value: TableValue) -> Option<usize> {
        let arg = value.arg;
        let member = Member {
            x: arg.base?,
            scale: arg.scale,
            offset: arg.offset,
            coefficient: value.coefficient,
            addend: value.addend,
        };
        let finite = value.coefficient.is_finite() && value.addend.is_finite();
        if !self.accepts(arg) || !finite {
            return None;
        }
        let bits = |m: &Member| {
            let b = [m.scale, m.offset, m.coefficient, m.addend].map(f64::to_bits);
            (m.x, b)
        };
        if let Some(k) = self.members.iter().position(|m| bits(m) == bits(&member)) {
            return Some(self.first + k);
        }
        if self.frozen {
            return None;
        }
        self.members.push(member);
        Some(self.first + self.members.len() - 1)
    }

    /// The number of registers the members take.
    pub(super) fn len(&self) -> usize {
        self.members.len()
    }

    /// Add no more members.
    pub(super) fn freeze(&mut self) {
        self.frozen = true;
    }

    /// How to compute the members: by input, the largest families of whole multiples first.
    pub(super) fn compile(&self) -> Exps {
        let mut inputs: Vec<usize> = self.members.iter().map(|m| m.x).collect();
        inputs.sort_unstable();
        inputs.dedup();
        // A member's `coefficient * e^offset` and addend, applied to its exponential.
        let factor_of = |r: usize| {
            let m = &self.members[r - self.first];
            (m.coefficient * m.offset.exp(), m.addend)
        };
        let groups: Vec<Group> = inputs
            .into_iter()
            .map(|x| {
                // (register, slope) of this input's members.
                let mut left: Vec<(usize, f64)> = (self.members.iter().enumerate())
                    .filter(|(_, m)| m.x == x)
                    .map(|(k, m)| (self.first + k, m.scale))
                    .collect();
                let mut families = vec![];
                while left.len() >= 2 {
                    let slopes: Vec<Option<f64>> = left.iter().map(|m| Some(m.1)).collect();
                    let (Some(mut family), direct) = PowerFamily::find(&slopes) else {
                        break;
                    };
                    for member in &mut family.members {
                        member.0 = left[member.0].0;
                    }
                    let factors = family.members.iter().map(|&(r, _)| factor_of(r)).collect();
                    // The input may be time or any variable, not only a potential.
                    families.push((family.clamped_as_the_exponential(), factors));
                    left = direct.into_iter().map(|k| left[k]).collect();
                }
                Group {
                    input: x,
                    families,
                    direct: left,
                }
            })
            .collect();
        // A family's members take their factors as they are written; the others after.
        let factors = (groups.iter().flat_map(|g| &g.direct))
            .map(|&(r, _)| (r, factor_of(r)))
            .filter(|&(_, outer)| outer != (1.0, 0.0))
            .map(|(r, (factor, addend))| (r, factor, addend))
            .collect();
        Exps { groups, factors }
    }
}

/// The exponentials of one input.
#[derive(Debug, Clone, PartialEq)]
struct Group {
    input: usize,
    /// Slopes that are whole multiples of one slope, each family with its members' (factor,
    /// addend) in its members' order: `coefficient * e^offset` and the addend, `(1, 0)` where
    /// there are none (`x * 1 + 0` is `x`, bit for bit, for the non-negative values an
    /// exponential takes).
    families: Vec<(PowerFamily, Vec<(f64, f64)>)>,
    /// The others: (register, slope).
    direct: Vec<(usize, f64)>,
}

/// A lane program's exponentials of affine arguments, ready to run.
#[derive(Debug, Clone, PartialEq, Default)]
pub(super) struct Exps {
    groups: Vec<Group>,
    /// (register, `coefficient * e^offset`, addend) of each member outside a family where
    /// they are not 1 and 0 (a family's members take theirs as they are computed).
    factors: Vec<(usize, f64, f64)>,
}

impl Exps {
    /// The exponentials an evaluation computes, and the values they give.
    #[cfg(test)]
    pub(super) fn exponentials(&self) -> (usize, usize) {
        let groups = self.groups.iter();
        let families: usize = groups.clone().map(|g| g.families.len()).sum();
        let direct: usize = groups.clone().map(|g| g.direct.len()).sum();
        let members: usize = groups
            .map(|g| {
                g.families
                    .iter()
                    .map(|(f, _)| f.members.len())
                    .sum::<usize>()
            })
            .sum();
        (families + direct, members + direct)
    }

    /// Every member's `exp(scale x + offset)` into its register, from the inputs in `regs`.
    #[inline(always)]
    pub(super) fn eval(&self, regs: &mut [Lanes]) {
        for group in &self.groups {
            let x = regs[group.input];
            for (family, factors) in &group.families {
                family.eval_with_factors(&x, regs, factors);
            }
            for &(r, slope) in &group.direct {
                let mut e = [0.0; LANES];
                exp_lanes(&each_lane(|l| slope * x[l]), &mut e);
                regs[r] = e;
            }
        }
        for &(r, factor, addend) in &self.factors {
            for y in &mut regs[r] {
                *y = y.mul_add(factor, addend);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `hh.ode`'s rates' exponentials: one family of four slopes (three values at slope -1/10), with a slope of its own,
    /// each member within 2.5e-14 of the library's exponential of the scalar path's argument.
    #[test]
    fn members_match_the_exponential_of_their_argument() {
        let x = 0;
        let mut table = ExpTable::new(1);
        let args = [
            (-0.1, -4.0),
            (-1.0 / 18.0, -65.0 / 18.0),
            (-0.05, -3.25),
            (-0.1, -3.5),
            (-0.1, -5.5),
            (-0.0125, -0.8125),
            (0.3, 1.0),
        ];
        for (k, &(scale, offset)) in args.iter().enumerate() {
            let affine = Affine {
                base: Some(x),
                scale,
                offset,
            };
            assert_eq!(table.register_of(TableValue::exp(affine)), Some(1 + k));
        }
        // The same argument again is the same register; a constant or a vast offset is none.
        let again = Affine::input(x).times(-0.1).plus(-4.0);
        let exp = TableValue::exp;
        assert_eq!(table.register_of(exp(again)), Some(1));
        assert_eq!(table.register_of(exp(Affine::constant(2.0))), None);
        assert_eq!(table.register_of(exp(Affine::input(x).plus(800.0))), None);
        table.freeze();
        assert_eq!(table.register_of(exp(Affine::input(x).plus(1.0))), None);
        let exps = table.compile();
        assert_eq!(exps.groups.len(), 1);
        assert_eq!(exps.groups[0].families.len(), 1);
        assert_eq!(exps.groups[0].direct, vec![(7, 0.3)]);
        let mut regs = vec![[0.0; LANES]; 1 + args.len()];
        let mut worst = 0.0f64;
        // 640 points from -120 to +72, whatever the block's width.
        for k in 0..640 / LANES {
            regs[0] = std::array::from_fn(|l| -120.0 + (k * LANES + l) as f64 * 0.3);
            exps.eval(&mut regs);
            for (j, &(scale, offset)) in args.iter().enumerate() {
                for (v, got) in regs[0].iter().zip(&regs[1 + j]) {
                    let want = (scale * v + offset).exp();
                    worst = worst.max((got - want).abs() / want);
                }
            }
        }
        assert!(worst <= 2.5e-14, "{worst}");
    }

    /// Constants folded around an exponential: `(1 - 2 exp(v/4 + 1)) / 4 + 3` is one value of
    /// the table, within a few units of 2^-53 of the scalar arithmetic (no cancellation here).
    #[test]
    fn constants_fold_into_a_table_value() {
        use super::super::super::expr::Arith;
        let arg = Affine::input(0).times(0.25).plus(1.0);
        let exp = TableValue::exp(arg);
        let fold = |outer: Option<Affine>| exp.with_outer(outer.unwrap());
        let outer = exp.outer().times(-2.0);
        let outer = outer.with_constant(Arith::Add, 1.0);
        let outer = outer.and_then(|o| o.with_constant(Arith::Div, 4.0));
        let outer = outer.and_then(|o| o.with_constant(Arith::Sub, -3.0));
        let value = fold(outer).unwrap();
        assert_eq!((value.coefficient, value.addend), (-0.5, 3.25));
        // A product by 0, or one that overflows, stays an instruction.
        assert_eq!(fold(Some(exp.outer().times(0.0))), None);
        assert_eq!(fold(Some(exp.outer().times(1e300).times(1e300))), None);
        assert_eq!(fold(Some(Affine::constant(2.0))), None);
        let mut table = ExpTable::new(1);
        assert_eq!(table.register_of(value), Some(1));
        let exps = table.compile();
        let mut regs = vec![[0.0; LANES]; 2];
        regs[0] = std::array::from_fn(|l| -10.0 + 1.3 * l as f64);
        exps.eval(&mut regs);
        for (&v, &got) in regs[0].iter().zip(&regs[1]) {
            let want = (1.0 - 2.0 * (v / 4.0 + 1.0).exp()) / 4.0 + 3.0;
            assert!(
                (got - want).abs() <= 1e-15 * want.abs(),
                "{v}: {got} against {want}"
            );
        }
    }

    #[test]
    fn affine_values_follow_the_arithmetic() {
        use super::super::super::expr::Arith;
        let v = Affine::input(3);
        // -(v + 40) / 10
        let a = v.with_constant(Arith::Add, 40.0).unwrap().negated();
        let a = a.with_constant(Arith::Div, 10.0).unwrap();
        assert_eq!((a.base, a.scale, a.offset), (Some(3), -0.1, -4.0));
        // 2 - v * 0.5, and (v - 1) / 0 is not affine.
        let b = Affine::binary(Arith::Sub, Affine::constant(2.0), v.times(0.5)).unwrap();
        assert_eq!((b.base, b.scale, b.offset), (Some(3), -0.5, 2.0));
        assert_eq!(v.plus(-1.0).with_constant(Arith::Div, 0.0), None);
        // Two inputs do not combine; a constant over an input is not affine.
        assert_eq!(Affine::binary(Arith::Add, v, Affine::input(4)), None);
        assert_eq!(Affine::binary(Arith::Div, Affine::constant(1.0), v), None);
    }
}
