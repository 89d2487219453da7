//! XPPAUT forms rewritten into plain expressions once every line is read: `sum(lo, hi)of(e)`
//! becomes `e(lo) + … + e(hi)` (`i'` replaced by each index), `shift(x, k)` the name `k`
//! places after `x` in its list (state variables, or fixed quantities, in the order the file
//! declares them, as XPPAUT lays out its variables), and a special's value `z(k)` the hidden
//! fixed quantity `z#k` that holds it ([`super::tables`]). Bounds, offsets and indices must
//! be numbers (or `number` constants): a parameter could change them after compiling.

use super::compile::{Functions, Scope, compile};
use super::expr::{Ast, Code, ExprError, Pos};
use std::collections::HashMap;

/// The most terms one sum may expand to.
pub const MAX_TERMS: usize = 100_000;

/// What rewriting needs to know about the file's names.
pub struct Names<'a> {
    /// Name -> (which list, index in it).
    pub order: HashMap<String, (usize, usize)>,
    /// State variables and fixed quantities, each in the file's order.
    pub lists: [&'a [String]; 2],
    /// Specials: name -> number of values.
    pub specials: &'a HashMap<String, usize>,
    /// `number` constants: name -> index in `values`.
    pub numbers: HashMap<String, usize>,
    pub values: Vec<f64>,
}

impl<'a> Names<'a> {
    /// The names of a file: `order` and `lists` of its state variables and fixed quantities,
    /// its specials' lengths and its `number` constants.
    pub fn new(
        order: HashMap<String, (usize, usize)>,
        lists: [&'a [String]; 2],
        specials: &'a HashMap<String, usize>,
        numbers: &[(String, f64, Pos)],
    ) -> Names<'a> {
        Names {
            order,
            lists,
            specials,
            numbers: numbers
                .iter()
                .enumerate()
                .map(|(k, n)| (n.0.clone(), k))
                .collect(),
            values: numbers.iter().map(|n| n.1).collect(),
        }
    }
}

/// `a` with its sums, shifts and special values written out.
pub fn desugar(a: &Ast, names: &Names) -> Result<Ast, ExprError> {
    Ok(match a {
        Ast::Num(_) | Ast::Name(..) => a.clone(),
        Ast::Neg(x) => Ast::Neg(Box::new(desugar(x, names)?)),
        Ast::Chain(x, rest) => Ast::Chain(
            Box::new(desugar(x, names)?),
            rest.iter()
                .map(|(op, y)| Ok((*op, desugar(y, names)?)))
                .collect::<Result<_, ExprError>>()?,
        ),
        Ast::If(c, x, y) => Ast::If(
            Box::new(desugar(c, names)?),
            Box::new(desugar(x, names)?),
            Box::new(desugar(y, names)?),
        ),
        Ast::Sum(lo, hi, body, pos) => {
            let what = "a bound of sum(lo, hi)of(…)";
            let lo = index(&desugar(lo, names)?, names, *pos, what)?;
            let hi = index(&desugar(hi, names)?, names, *pos, what)?;
            if hi < lo {
                return Ok(Ast::Num(0.0));
            }
            if hi - lo >= MAX_TERMS as i64 {
                return Err(ExprError {
                    pos: *pos,
                    reason: format!("sum({lo}, {hi}): more than {MAX_TERMS} terms"),
                });
            }
            let mut terms = (lo..=hi).map(|k| {
                let bound = HashMap::from([("i'".to_string(), Ast::Num(k as f64))]);
                desugar(&super::compile::substitute(body, &bound), names)
            });
            let first = terms.next().unwrap_or(Ok(Ast::Num(0.0)))?;
            let rest: Vec<(&'static str, Ast)> = terms
                .map(|t| Ok(("+", t?)))
                .collect::<Result<_, ExprError>>()?;
            if rest.is_empty() {
                first
            } else {
                Ast::Chain(Box::new(first), rest)
            }
        }
        Ast::Call(n, args, pos) if n == "shift" => {
            let [Ast::Name(root, _), offset] = &args[..] else {
                return Err(ExprError {
                    pos: *pos,
                    reason: "shift(name, k) takes a variable's name and an offset".into(),
                });
            };
            let k = index(&desugar(offset, names)?, names, *pos, "the offset of shift")?;
            let Some(&(list, at)) = names.order.get(root) else {
                return Err(ExprError {
                    pos: *pos,
                    reason: format!(
                        "shift({root}, …): '{root}' is not a state variable or fixed quantity"
                    ),
                });
            };
            let target = usize::try_from(at as i64 + k)
                .ok()
                .and_then(|t| names.lists[list].get(t))
                .ok_or_else(|| ExprError {
                    pos: *pos,
                    reason: format!(
                        "shift({root}, {k}) is outside the {} ({} of them)",
                        ["state variables", "fixed quantities"][list],
                        names.lists[list].len()
                    ),
                })?;
            Ast::Name(target.clone(), *pos)
        }
        Ast::Call(n, args, pos) if names.specials.contains_key(n) => {
            let [arg] = &args[..] else {
                return Err(ExprError {
                    pos: *pos,
                    reason: format!("{n}(k) takes one index"),
                });
            };
            let v = constant(&desugar(arg, names)?, names).ok_or_else(|| ExprError {
                pos: *pos,
                reason: format!(
                    "the index of special {n} must be a number: {n}(3), or {n}([j]) in an array"
                ),
            })?;
            // XPPAUT truncates the index and reads 0 outside the values.
            let k = v.trunc();
            if k >= 0.0 && k < names.specials[n] as f64 {
                Ast::Name(format!("{n}#{}", k as usize), *pos)
            } else {
                Ast::Num(0.0)
            }
        }
        Ast::Call(n, args, pos) => Ast::Call(
            n.clone(),
            args.iter()
                .map(|x| desugar(x, names))
                .collect::<Result<_, _>>()?,
            *pos,
        ),
    })
}

/// The value of `a` if it is made of numbers and `number` constants.
fn constant(a: &Ast, names: &Names) -> Option<f64> {
    let mut code = Code::default();
    let functions = Functions::new();
    let tables = HashMap::new();
    let scope = Scope {
        slots: &names.numbers,
        functions: &functions,
        tables: &tables,
    };
    compile(a, &scope, &mut code).ok()?;
    Some(code.eval::<f64>(&names.values, &mut vec![]))
}

/// `a` as an integer, or why not (`what` names it).
fn index(a: &Ast, names: &Names, pos: Pos, what: &str) -> Result<i64, ExprError> {
    match constant(a, names) {
        Some(v) if v.is_finite() && v == v.round() && v.abs() < 1e15 => Ok(v as i64),
        Some(v) => Err(ExprError {
            pos,
            reason: format!("{what} is {v}, not an integer"),
        }),
        None => Err(ExprError {
            pos,
            reason: format!("{what} must be a number (or a number constant), not a parameter"),
        }),
    }
}
