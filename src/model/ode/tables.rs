//! XPPAUT's function tables and the network specials built on them.
//!
//! `table w % n lo hi formula` is `n` values of `formula` at `t = lo, …, hi`; `w(x)` reads it
//! by linear interpolation (extended linearly beyond the ends, as XPPAUT's `lookup`). The
//! values are hidden fixed quantities `w#0 … w#(n-1)`, so a parameter the formula reads can be
//! changed (XPPAUT recomputes its tables then too). A file table (`table w file.tab`) is
//! refused.
//!
//! `special z = conv(type, n, m, w, x0)` is `n` values `z(i) = Σ_{j=-m..m} w[j+m] x_{i+j}`,
//! where `x_k` is the variable `k` places after `x0` and `type` says what lies beyond the
//! ends (`even`: reflected, `zero`: nothing, `periodic`: wrapped); `fconv(type, n, m, w, x0,
//! y0, f)` sums `w[j+m] f(x_{i+j}, y_i)`. They are hidden fixed quantities `z#0 … z#(n-1)`;
//! `z(k)` reads one (0 outside). XPPAUT's other specials (sparse, mmult, fftcon, gill, …) are
//! refused by name.

use super::compile::Functions;
use super::expr::{Ast, ExprError, Pos, Tok, lex, parse};
use std::collections::HashMap;

/// The most values a table may hold.
pub const MAX_VALUES: usize = 10_000;

/// The most terms one special may sum over all its values.
pub const MAX_TERMS: usize = 1_000_000;

/// `table name % n lo hi formula`.
#[derive(Debug, Clone)]
pub struct TableDef {
    pub name: String,
    pub n: usize,
    pub lo: f64,
    pub hi: f64,
    /// In `t`, the table's argument.
    pub formula: Ast,
    pub pos: Pos,
}

/// What lies beyond the ends of a convolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ends {
    /// Reflected about the end values.
    Even,
    /// Nothing (the terms are left out).
    Zero,
    /// Wrapped around.
    Periodic,
}

/// `special name = conv(…)` or `fconv(…)`.
#[derive(Debug, Clone)]
pub struct SpecialDef {
    pub name: String,
    pub ends: Ends,
    pub n: usize,
    pub m: usize,
    pub weights: String,
    pub root: String,
    /// For `fconv`: the second root and the function of (x_{i+j}, y_i).
    pub with: Option<(String, String)>,
    pub pos: Pos,
}

/// Whitespace-separated fields of `text` with their character columns (1-based, from
/// `col`).
fn fields(text: &str, col: usize) -> Vec<(&str, usize)> {
    let mut out = vec![];
    let mut start: Option<usize> = None;
    for (i, c) in text.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                out.push((&text[s..i], s));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((&text[s..], s));
    }
    out.into_iter()
        .map(|(f, b)| (f, col + text[..b].chars().count()))
        .collect()
}

/// Read a `table` line (`text` starts with the keyword, at `start`).
pub fn parse_table(text: &str, start: Pos) -> Result<TableDef, ExprError> {
    let at = |col: usize| Pos {
        line: start.line,
        col,
    };
    let f = fields(text, start.col);
    let usage = "a table is written table w % n lo hi formula (formula in t)";
    let Some(&(name, name_col)) = f.get(1) else {
        return Err(ExprError {
            pos: start,
            reason: usage.into(),
        });
    };
    let name = match &lex(name, at(name_col))?[..] {
        [(Tok::Name(n), _)] => n.clone(),
        _ => {
            return Err(ExprError {
                pos: at(name_col),
                reason: format!("'{name}' is not a table name; {usage}"),
            });
        }
    };
    match f.get(2) {
        Some(&("%", _)) => {}
        Some(&("@", c)) => {
            return Err(ExprError {
                pos: at(c),
                reason: "two-dimensional file tables (table w @ file) are not supported".into(),
            });
        }
        Some(&(file, c)) => {
            return Err(ExprError {
                pos: at(c),
                reason: format!(
                    "file tables are not supported (table {name} {file}): give a formula, {usage}"
                ),
            });
        }
        None => {
            return Err(ExprError {
                pos: start,
                reason: usage.into(),
            });
        }
    }
    let number = |k: usize| -> Result<f64, ExprError> {
        let Some(&(s, c)) = f.get(k) else {
            return Err(ExprError {
                pos: start,
                reason: usage.into(),
            });
        };
        s.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| ExprError {
                pos: at(c),
                reason: format!("'{s}' is not a number; {usage}"),
            })
    };
    let (n, lo, hi) = (number(3)?, number(4)?, number(5)?);
    if n != n.round() || n < 2.0 || n > MAX_VALUES as f64 || hi <= lo {
        return Err(ExprError {
            pos: at(f[3].1),
            reason: format!(
                "table {name}: {n} values from {lo} to {hi}; need 2 to {MAX_VALUES} values and lo < hi"
            ),
        });
    }
    let Some(&(_, formula_col)) = f.get(6) else {
        return Err(ExprError {
            pos: start,
            reason: format!("table {name} has no formula; {usage}"),
        });
    };
    // The formula is the rest of the line.
    let skip = formula_col - start.col;
    let formula_text: String = text.chars().skip(skip).collect();
    let pos = at(formula_col);
    let end = Pos {
        line: start.line,
        col: formula_col + formula_text.chars().count(),
    };
    let formula = parse(&lex(&formula_text, pos)?, end)?;
    Ok(TableDef {
        name,
        n: n as usize,
        lo,
        hi,
        formula,
        pos: at(name_col),
    })
}

/// The hidden fixed quantities holding `t`'s values: `name#k = formula(lo + k dx)`.
pub fn table_values(t: &TableDef) -> Vec<(String, Ast, Pos)> {
    let dx = (t.hi - t.lo) / (t.n - 1) as f64;
    (0..t.n)
        .map(|k| {
            let x = dx * k as f64 + t.lo;
            let bound = HashMap::from([("t".to_string(), Ast::Num(x))]);
            (
                format!("{}#{k}", t.name),
                super::compile::substitute(&t.formula, &bound),
                t.pos,
            )
        })
        .collect()
}

/// Read a `special` line from its tokens (`special z = conv(…)`).
pub fn parse_special(toks: &[(Tok, Pos)], end: Pos) -> Result<SpecialDef, ExprError> {
    let here = |k: usize| toks.get(k).map_or(end, |t| t.1);
    let (name, kind) = match toks {
        [
            _,
            (Tok::Name(name), _),
            (Tok::Op("="), _),
            (Tok::Name(kind), _),
            (Tok::LParen, _),
            ..,
            (Tok::RParen, _),
        ] => (name.clone(), kind.clone()),
        _ => {
            return Err(ExprError {
                pos: here(1),
                reason: "a special is written special z = conv(type, n, m, w, x0)".into(),
            });
        }
    };
    if kind != "conv" && kind != "fconv" {
        return Err(ExprError {
            pos: here(3),
            reason: format!(
                "special {name} = {kind}(…): only conv and fconv specials are supported"
            ),
        });
    }
    // One token per argument.
    let inner = &toks[5..toks.len() - 1];
    let args: Vec<&(Tok, Pos)> = inner.iter().step_by(2).collect();
    let commas_ok = inner.iter().skip(1).step_by(2).all(|t| t.0 == Tok::Comma);
    let want = if kind == "conv" { 5 } else { 7 };
    let usage = if kind == "conv" {
        "conv(type, n, m, w, x0): type even, zero or periodic, n values, 2m+1 weights from table w, over the variables from x0"
    } else {
        "fconv(type, n, m, w, x0, y0, f)"
    };
    if !commas_ok || args.len() != want || inner.len() != 2 * want - 1 {
        return Err(ExprError {
            pos: here(4),
            reason: format!("special {name}: expected {usage}"),
        });
    }
    let name_at = |k: usize| match &args[k].0 {
        Tok::Name(n) => Ok(n.clone()),
        t => Err(ExprError {
            pos: args[k].1,
            reason: format!("special {name}: expected a name, found {t:?}; {usage}"),
        }),
    };
    let count_at = |k: usize| match args[k].0 {
        Tok::Num(v) if v == v.round() && v >= 1.0 && v <= MAX_VALUES as f64 => Ok(v as usize),
        ref t => Err(ExprError {
            pos: args[k].1,
            reason: format!(
                "special {name}: expected a whole number from 1 to {MAX_VALUES}, found {t:?}"
            ),
        }),
    };
    // XPPAUT reads the type by its first character: E, 0 or Z, P.
    let ends = match &args[0].0 {
        Tok::Name(t) if t.starts_with('e') => Ends::Even,
        Tok::Name(t) if t.starts_with('z') => Ends::Zero,
        Tok::Name(t) if t.starts_with('p') => Ends::Periodic,
        Tok::Num(z) if *z == 0.0 => Ends::Zero,
        t => {
            return Err(ExprError {
                pos: args[0].1,
                reason: format!(
                    "special {name}: type {t:?}; the type of a convolution is even, zero or periodic"
                ),
            });
        }
    };
    let (n, m) = (count_at(1)?, count_at(2)?);
    if n.saturating_mul(2 * m + 1) > MAX_TERMS {
        return Err(ExprError {
            pos: args[1].1,
            reason: format!(
                "special {name}: {n} values of {} terms: more than {MAX_TERMS}",
                2 * m + 1
            ),
        });
    }
    let with = if kind == "fconv" {
        Some((name_at(5)?, name_at(6)?))
    } else {
        None
    };
    let (weights, root) = (name_at(3)?, name_at(4)?);
    Ok(SpecialDef {
        name,
        ends,
        n,
        m,
        weights,
        root,
        with,
        pos: here(1),
    })
}

/// The hidden fixed quantities holding a special's values, `z#i`. `shift(x, k)` names the
/// variable `k` places after `x` (None past the end).
pub fn special_values(
    s: &SpecialDef,
    tables: &HashMap<String, usize>,
    functions: &Functions,
    shift: &dyn Fn(&str, usize) -> Option<String>,
) -> Result<Vec<(String, Ast, Pos)>, ExprError> {
    let err = |reason: String| ExprError { pos: s.pos, reason };
    let Some(&len) = tables.get(&s.weights) else {
        return Err(err(format!(
            "special {}: '{}' is not a table (declare it with table {} % …)",
            s.name, s.weights, s.weights
        )));
    };
    if len < 2 * s.m + 1 {
        return Err(err(format!(
            "special {}: table {} has {len} values; a convolution over ±{} reads {}",
            s.name,
            s.weights,
            s.m,
            2 * s.m + 1
        )));
    }
    let at = |root: &str, k: usize| {
        shift(root, k).ok_or_else(|| {
            err(format!(
                "special {}: {root} has no variable {k} places after it ({} values are read)",
                s.name, s.n
            ))
        })
    };
    if let Some((_, f)) = &s.with {
        match functions.get(f) {
            Some((args, _, _)) if args.len() == 2 => {}
            _ => {
                return Err(err(format!(
                    "special {}: '{f}' is not a function of two arguments",
                    s.name
                )));
            }
        }
    }
    let (n, m) = (s.n as i64, s.m as i64);
    let mut out = vec![];
    for i in 0..n {
        let mut terms: Vec<Ast> = vec![];
        for j in -m..=m {
            // The variable read, as XPPAUT's evaluate_network finds it.
            let k = match s.ends {
                Ends::Even => {
                    let k = (i + j).abs();
                    if k >= 2 * n {
                        continue;
                    }
                    if k >= n { (2 * n - 2 - k).abs() } else { k }
                }
                Ends::Zero => {
                    if i + j < 0 || i + j >= n {
                        continue;
                    }
                    i + j
                }
                Ends::Periodic => (i + j).rem_euclid(n),
            };
            let w = Ast::Name(format!("{}#{}", s.weights, j + m), s.pos);
            let x = Ast::Name(at(&s.root, k as usize)?, s.pos);
            let value = match &s.with {
                None => x,
                Some((root2, f)) => Ast::Call(
                    f.clone(),
                    vec![x, Ast::Name(at(root2, i as usize)?, s.pos)],
                    s.pos,
                ),
            };
            terms.push(Ast::bin("*", w, value));
        }
        let mut terms = terms.into_iter();
        let value = match terms.next() {
            None => Ast::Num(0.0),
            Some(first) => {
                let rest: Vec<_> = terms.map(|t| ("+", t)).collect();
                if rest.is_empty() {
                    first
                } else {
                    Ast::Chain(Box::new(first), rest)
                }
            }
        };
        out.push((format!("{}#{i}", s.name), value, s.pos));
    }
    Ok(out)
}
