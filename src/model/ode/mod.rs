//! XPPAUT `.ode` model files: the common subset, compiled once to bytecode that evaluates on
//! plain and dual numbers.
//!
//! Read: `par`/`param`/`p` (`name=value` lists, by commas or spaces; values may be constant
//! expressions), `init`/`i` and `name(0)=value`, ODEs as `x'=` or `dx/dt=`, fixed quantities
//! `name=expr`, user functions `f(a,b)=expr`, `aux`, `number`, `#` comments, `\` line
//! continuations, `@` options (`total`, `dt`, `meth`/`method` are kept, the rest ignored with a
//! note), `done`. As in XPPAUT only a keyword's first letter counts and names are
//! case-insensitive. Refused with the line named: tables, `markov`, `wiener`, `global`,
//! boundary conditions, `special`, arrays (`x[1..n]`), delays and random functions.
//!
//! Parameters keep the unit-free names of the file with an open range (XPPAUT has none).

mod compile;
pub mod expr;

use crate::model::params::{Param, ParamSet};
use crate::numerics::Scalar;
use compile::{NameReader, Scope, compile};
use expr::{Ast, Code, ExprError, Pos, Tok, lex, parse};
use std::collections::HashMap;

pub use crate::error::OdeError;

/// A model read from an `.ode` file.
#[derive(Debug, Clone, PartialEq)]
pub struct OdeModel {
    /// The model's name as the caller gave it ([`crate::Model::from_file`] uses the file's
    /// stem: `hh` for `hh.ode`).
    pub name: String,
    /// The file's `par` declarations, with their values as written (no units: an `.ode` model's
    /// numbers carry none).
    pub params: ParamSet,
    /// State variables, in the order their equations appear.
    pub vars: Vec<String>,
    /// Initial values (0 unless given).
    pub init: Vec<f64>,
    rhs: Vec<Code>,
    /// Fixed quantities in evaluation order; slot `n_params + n_vars + 1 + k`.
    fixed: Vec<Code>,
    /// Auxiliary outputs.
    pub aux: Vec<(String, Code)>,
    /// `@` options kept (`total`, `dt`, `meth`).
    pub options: Vec<(String, String)>,
    /// What was ignored, for the user.
    pub notes: Vec<String>,
    stack: usize,
    /// Index of the current parameter (found once by name: it is read at every evaluation).
    current: Option<usize>,
    /// The fixed quantities and right-hand sides as `f64` closure trees (simulation).
    fast: std::sync::Arc<FastRhs>,
}

/// `f64` closure trees of an [`OdeModel`]'s fixed quantities and equations.
struct FastRhs {
    fixed: Vec<expr::F64Fn>,
    rhs: Vec<expr::F64Fn>,
}

impl std::fmt::Debug for FastRhs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "FastRhs({} fixed, {} equations)",
            self.fixed.len(),
            self.rhs.len()
        )
    }
}

impl PartialEq for FastRhs {
    /// Built from the bytecode, which [`OdeModel`] compares.
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// Keywords by first letter that this reader refuses, with the reason.
fn unsupported_keyword(word: &str) -> Option<&'static str> {
    Some(match word.chars().next()? {
        't' => "tables are not supported",
        'm' => "markov processes are not supported",
        'w' => "wiener (noise) variables are not supported: use a noise stimulus",
        'g' => "global flags (events) are not supported",
        'e' => "export (right-hand sides from a compiled library) is not supported",
        'b' => "boundary conditions are not supported",
        's' => "special declarations are not supported",
        'v' => "volterra (integral) equations are not supported",
        _ => return None,
    })
}

/// One logical line: its text and where it starts.
struct Line {
    text: String,
    pos: Pos,
}

/// Logical lines: comments dropped, `\` continuations joined.
fn lines(text: &str) -> Vec<Line> {
    let mut out: Vec<Line> = vec![];
    let mut pending: Option<Line> = None;
    for (k, raw) in text.lines().enumerate() {
        let body = raw.split('#').next().unwrap_or("");
        let (body, cont) = match body.trim_end().strip_suffix('\\') {
            Some(b) => (b.to_string(), true),
            None => (body.to_string(), false),
        };
        let line = match pending.take() {
            Some(mut p) => {
                p.text.push(' ');
                p.text.push_str(&body);
                p
            }
            None => Line {
                text: body,
                pos: Pos {
                    line: k + 1,
                    col: 1,
                },
            },
        };
        if cont {
            pending = Some(line);
        } else if !line.text.trim().is_empty() {
            out.push(line);
        }
    }
    out.extend(pending);
    out
}

impl OdeModel {
    /// Parse an `.ode` file's text; `file` names it in errors. The first variable is the
    /// voltage-like one (spikes, plots).
    pub fn parse(text: &str, file: &str, name: &str) -> Result<OdeModel, OdeError> {
        OdeModel::parse_with_v(text, file, name, None)
    }

    /// [`OdeModel::parse`] with the voltage-like variable chosen by name: it is moved to the
    /// front of the state (the toolkit detects spikes and plots on the first variable).
    pub fn parse_with_v(
        text: &str,
        file: &str,
        name: &str,
        v_var: Option<&str>,
    ) -> Result<OdeModel, OdeError> {
        let err = |pos: Pos, reason: String| OdeError {
            file: file.into(),
            line: pos.line,
            col: pos.col,
            reason,
        };
        let from = |e: ExprError| err(e.pos, e.reason);
        let mut params: Vec<(String, f64, Pos)> = vec![];
        let mut numbers: Vec<(String, f64, Pos)> = vec![];
        let mut inits: Vec<(String, f64, Pos)> = vec![];
        let mut odes: Vec<(String, Ast, Pos)> = vec![];
        let mut fixed: Vec<(String, Ast, Pos)> = vec![];
        let mut aux: Vec<(String, Ast, Pos)> = vec![];
        let mut functions: HashMap<String, (Vec<String>, Ast, Pos)> = HashMap::new();
        let mut options = vec![];
        let mut notes = vec![];
        'lines: for line in lines(text) {
            let trimmed = line.text.trim_start();
            let lead = line.text.len() - trimmed.len();
            let start = Pos {
                line: line.pos.line,
                col: 1 + lead,
            };
            if let Some(i) = trimmed.find('[') {
                return Err(err(
                    Pos {
                        line: start.line,
                        col: start.col + i,
                    },
                    "arrays (x[1..n]) are not supported".into(),
                ));
            }
            if let Some(rest) = trimmed.strip_prefix('@') {
                for item in rest.split([',', ' ', '\t']).filter(|s| !s.is_empty()) {
                    let (k, v) = item.split_once('=').unwrap_or((item, ""));
                    let k = k.trim().to_lowercase();
                    if ["total", "dt", "meth", "method"].contains(&k.as_str()) {
                        options.push((k, v.trim().to_lowercase()));
                    } else {
                        notes.push(format!("line {}: option '{k}' ignored", start.line));
                    }
                }
                continue;
            }
            let end = Pos {
                line: start.line,
                col: line.text.len() + 1,
            };
            // Refuse unsupported declarations before reading their (foreign) syntax.
            let word: String = trimmed
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let after = trimmed[word.len()..].trim_start();
            // A declaration: a word, a space, then anything but the rest of an equation
            // (`global 1 {…}`, `set fast {…}`, `only v,w` as well as `par a=1`).
            let declares = !word.is_empty()
                && trimmed[word.len()..].starts_with(char::is_whitespace)
                && !after.starts_with(['=', '(', '\'', '/']);
            if declares {
                let w = word.to_lowercase();
                // Named parameter sets and output selections change nothing here.
                if w == "set" || w.starts_with('o') {
                    notes.push(format!("line {}: '{w}' ignored", start.line));
                    continue;
                }
                if !matches!(w.chars().next(), Some('d' | 'p' | 'n' | 'i' | 'a')) {
                    let why = unsupported_keyword(&w)
                        .map_or(format!("unknown declaration '{w}'"), |r| {
                            format!("'{w}': {r}")
                        });
                    return Err(err(start, why));
                }
            }
            let toks = lex(&line.text, line.pos).map_err(from)?;
            let Some((Tok::Name(first), p0)) = toks.first().cloned() else {
                let why = if matches!(toks.get(1), Some((Tok::Op("="), _))) {
                    "algebraic equations (0 = …, differential-algebraic systems) are not supported"
                } else {
                    "expected a declaration or an equation"
                };
                return Err(err(start, why.into()));
            };
            // A keyword line: the first word is followed by a name (or stands alone).
            let keyword = matches!(toks.get(1), None | Some((Tok::Name(_), _)));
            if keyword {
                let rest = &toks[1..];
                match first.chars().next() {
                    Some('d') => break 'lines,
                    Some('p') => params.extend(assignments(rest, end).map_err(from)?),
                    Some('n') => numbers.extend(assignments(rest, end).map_err(from)?),
                    Some('i') => inits.extend(assignments(rest, end).map_err(from)?),
                    Some('a') => {
                        let (n, e) = definition(rest, end).map_err(from)?;
                        aux.push((n, e, p0));
                    }
                    _ => {
                        let why = unsupported_keyword(&first)
                            .map_or(format!("unknown declaration '{first}'"), |w| {
                                format!("'{first}': {w}")
                            });
                        return Err(err(p0, why));
                    }
                }
                continue;
            }
            let is = |k: usize, t: &Tok| toks.get(k).map(|x| &x.0) == Some(t);
            if is(1, &Tok::Op("'")) && is(2, &Tok::Op("=")) {
                // x' = expr
                odes.push((first, parse(&toks[3..], end).map_err(from)?, p0));
            } else if first.starts_with('d')
                && first.len() > 1
                && is(1, &Tok::Op("/"))
                && is(2, &Tok::Name("dt".into()))
                && is(3, &Tok::Op("="))
            {
                // dx/dt = expr
                odes.push((
                    first[1..].to_string(),
                    parse(&toks[4..], end).map_err(from)?,
                    p0,
                ));
            } else if is(1, &Tok::LParen)
                && is(2, &Tok::Num(0.0))
                && is(3, &Tok::RParen)
                && is(4, &Tok::Op("="))
            {
                // x(0) = value
                let v = constant(&parse(&toks[5..], end).map_err(from)?, &[], p0).map_err(from)?;
                inits.push((first, v, p0));
            } else if is(1, &Tok::LParen) && is(2, &Tok::Name("t".into())) && is(3, &Tok::Op("+")) {
                return Err(err(
                    p0,
                    "difference equations (x(t+1) = …, maps) are not supported".into(),
                ));
            } else if is(1, &Tok::LParen) {
                // f(a, b) = expr
                let close = toks
                    .iter()
                    .position(|t| t.0 == Tok::RParen)
                    .ok_or_else(|| err(p0, "')' missing in the function definition".into()))?;
                let mut args = vec![];
                for (t, p) in &toks[2..close] {
                    match t {
                        Tok::Name(a) => args.push(a.clone()),
                        Tok::Comma => {}
                        _ => return Err(err(*p, "function arguments must be names".into())),
                    }
                }
                if !is(close + 1, &Tok::Op("=")) {
                    return Err(err(
                        p0,
                        "expected '=' after the function's arguments".into(),
                    ));
                }
                let body = parse(&toks[close + 2..], end).map_err(from)?;
                functions.insert(first, (args, body, p0));
            } else if is(1, &Tok::Op("=")) {
                fixed.push((first, parse(&toks[2..], end).map_err(from)?, p0));
            } else {
                return Err(err(
                    toks.get(1).map_or(end, |t| t.1),
                    "expected x' = …, dx/dt = …, x(0) = …, f(a) = …, name = … or a declaration"
                        .into(),
                ));
            }
        }
        if odes.is_empty() {
            return Err(err(
                Pos { line: 1, col: 1 },
                "no differential equation (x' = … or dx/dt = …)".into(),
            ));
        }
        if let Some(v) = v_var {
            let v = v.to_lowercase();
            let k = odes.iter().position(|o| o.0 == v).ok_or_else(|| {
                let names: Vec<&str> = odes.iter().map(|o| o.0.as_str()).collect();
                err(
                    Pos { line: 1, col: 1 },
                    format!(
                        "v_var = '{v}' is not a variable of the file (variables: {})",
                        names.join(", ")
                    ),
                )
            })?;
            let chosen = odes.remove(k);
            odes.insert(0, chosen);
        }
        // Names: parameters, variables, t, numbers and fixed quantities; each once.
        let vars: Vec<String> = odes.iter().map(|o| o.0.clone()).collect();
        let mut seen: HashMap<String, Pos> = HashMap::new();
        let all = params
            .iter()
            .map(|p| (&p.0, p.2))
            .chain(odes.iter().map(|o| (&o.0, o.2)))
            .chain(numbers.iter().map(|n| (&n.0, n.2)))
            .chain(fixed.iter().map(|f| (&f.0, f.2)));
        for (n, p) in all {
            if n == "t" || n == "pi" {
                return Err(err(p, format!("'{n}' is reserved")));
            }
            if let Some(first) = seen.insert(n.clone(), p) {
                return Err(err(
                    p,
                    format!("'{n}' is defined twice (first on line {})", first.line),
                ));
            }
        }
        // Numbers are constants: fold them into fixed quantities first.
        let mut fixed_all: Vec<(String, Ast, Pos)> = numbers
            .iter()
            .map(|(n, v, p)| (n.clone(), Ast::Num(*v), *p))
            .collect();
        fixed_all.extend(fixed);
        // Order fixed quantities so each follows what it reads; a cycle is an error.
        let index: HashMap<&str, usize> = fixed_all
            .iter()
            .enumerate()
            .map(|(k, f)| (f.0.as_str(), k))
            .collect();
        let mut reader = NameReader::new(&functions);
        let deps: Vec<Vec<usize>> = fixed_all
            .iter()
            .map(|f| {
                let mut names = vec![];
                reader.read(&f.1, &mut names);
                names
                    .iter()
                    .filter_map(|n| index.get(n.as_str()).copied())
                    .collect()
            })
            .collect();
        let order = topological(&deps).map_err(|cycle| {
            let names: Vec<&str> = cycle.iter().map(|&k| fixed_all[k].0.as_str()).collect();
            err(
                fixed_all[cycle[0]].2,
                format!("circular definition: {}", names.join(" -> ")),
            )
        })?;
        let (np, nv) = (params.len(), vars.len());
        let mut slots: HashMap<String, usize> = HashMap::new();
        for (k, p) in params.iter().enumerate() {
            slots.insert(p.0.clone(), k);
        }
        for (k, v) in vars.iter().enumerate() {
            slots.insert(v.clone(), np + k);
        }
        slots.insert("t".into(), np + nv);
        for (slot, &k) in order.iter().enumerate() {
            slots.insert(fixed_all[k].0.clone(), np + nv + 1 + slot);
        }
        let scope = Scope {
            slots: &slots,
            functions: &functions,
        };
        let build = |a: &Ast| -> Result<Code, OdeError> {
            let mut c = Code::default();
            compile(a, &scope, &mut c).map_err(from)?;
            Ok(c)
        };
        let fixed_code = order
            .iter()
            .map(|&k| build(&fixed_all[k].1))
            .collect::<Result<Vec<_>, _>>()?;
        let rhs = odes
            .iter()
            .map(|o| build(&o.1))
            .collect::<Result<Vec<_>, _>>()?;
        let aux_code = aux
            .iter()
            .map(|a| Ok((a.0.clone(), build(&a.1)?)))
            .collect::<Result<Vec<_>, OdeError>>()?;
        // Every function body must compile too (an undefined name in an unused function is
        // still an error in the file).
        for (fname, (args, body, _)) in &functions {
            let mut s2 = slots.clone();
            for (k, a) in args.iter().enumerate() {
                s2.insert(a.clone(), k);
            }
            let scope2 = Scope {
                slots: &s2,
                functions: &functions,
            };
            let mut c = Code::default();
            compile(body, &scope2, &mut c)
                .map_err(|e| err(e.pos, format!("in {fname}: {}", e.reason)))?;
        }
        let mut init = vec![0.0; nv];
        for (n, v, p) in inits {
            let k = vars
                .iter()
                .position(|x| *x == n)
                .ok_or_else(|| err(p, format!("initial value for '{n}', which has no equation")))?;
            init[k] = v;
        }
        let params = ParamSet::new(
            params
                .iter()
                .map(|(n, v, _)| {
                    Param::new(
                        n,
                        *v,
                        "",
                        "from the .ode file",
                        f64::NEG_INFINITY,
                        f64::INFINITY,
                    )
                })
                .collect(),
        );
        let stack = rhs
            .iter()
            .chain(&fixed_code)
            .chain(aux_code.iter().map(|a| &a.1))
            .map(|c| c.depth)
            .max()
            .unwrap_or(1);
        let fast = std::sync::Arc::new(FastRhs {
            fixed: fixed_code.iter().map(Code::closure).collect(),
            rhs: rhs.iter().map(Code::closure).collect(),
        });
        let current = ["i_ext", "iapp", "i"].iter().find_map(|n| params.index(n));
        Ok(OdeModel {
            fast,
            current,
            name: name.into(),
            params,
            vars,
            init,
            rhs,
            fixed: fixed_code,
            aux: aux_code,
            options,
            notes,
            stack,
        })
    }

    /// The parameter the injected current (stimulus) is added to: the first of `i_ext`,
    /// `iapp`, `i` the file defines.
    pub fn current_param(&self) -> Option<usize> {
        self.current
    }

    /// Whether the right-hand side reads `t` (directly or through a fixed quantity): such a
    /// model is not autonomous, so it has no equilibria to continue.
    pub fn reads_time(&self) -> bool {
        let t = self.params.len() + self.vars.len();
        self.rhs.iter().chain(&self.fixed).any(|c| c.reads_slot(t))
    }

    /// Run `f` on the parameter values `p` with the injected current `i_ext` added to the
    /// current parameter ([`OdeModel::current_param`]), then restore `p`: the one place a
    /// stimulus or a continued current enters an `.ode` model. Without a current parameter `p`
    /// is passed as it is (callers refuse a non-zero current first).
    #[inline]
    pub fn with_current<T: Scalar, R>(
        &self,
        p: &mut [T],
        i_ext: T,
        f: impl FnOnce(&[T]) -> R,
    ) -> R {
        match self.current_param() {
            Some(c) => {
                let base = p[c];
                p[c] = base + i_ext;
                let r = f(p);
                p[c] = base;
                r
            }
            None => f(p),
        }
    }

    /// `dy/dt` at time `t`, state `y`, parameter values `p` (in [`ParamSet`] order).
    pub fn rhs<T: Scalar>(&self, p: &[T], t: T, y: &[T], dy: &mut [T]) {
        self.rhs_with(p, t, y, dy, &mut Scratch::default());
    }

    /// [`OdeModel::rhs`] on plain numbers through the closure trees (the simulation path),
    /// with `slots` as a reusable buffer.
    pub fn rhs_f64(&self, p: &[f64], t: f64, y: &[f64], dy: &mut [f64], slots: &mut Vec<f64>) {
        slots.clear();
        slots.extend_from_slice(p);
        slots.extend_from_slice(y);
        slots.push(t);
        for f in &self.fast.fixed {
            let v = f(slots);
            slots.push(v);
        }
        for (d, f) in dy.iter_mut().zip(&self.fast.rhs) {
            *d = f(slots);
        }
    }

    /// [`OdeModel::rhs`] with reusable buffers (no allocation per call once warm).
    pub fn rhs_with<T: Scalar>(
        &self,
        p: &[T],
        t: T,
        y: &[T],
        dy: &mut [T],
        scratch: &mut Scratch<T>,
    ) {
        let Scratch { slots, stack } = scratch;
        slots.clear();
        slots.extend_from_slice(p);
        slots.extend_from_slice(y);
        slots.push(t);
        for f in &self.fixed {
            let v = f.eval(slots, stack);
            slots.push(v);
        }
        for (d, code) in dy.iter_mut().zip(&self.rhs) {
            *d = code.eval(slots, stack);
        }
    }
}

/// Reusable evaluation buffers for [`OdeModel::rhs_with`].
#[derive(Debug, Clone)]
pub struct Scratch<T> {
    slots: Vec<T>,
    stack: Vec<T>,
}

impl<T> Default for Scratch<T> {
    fn default() -> Self {
        Scratch {
            slots: Vec::new(),
            stack: Vec::new(),
        }
    }
}

/// `name = value` pairs (separated by commas or spaces) with constant values.
fn assignments(toks: &[(Tok, Pos)], end: Pos) -> Result<Vec<(String, f64, Pos)>, ExprError> {
    let mut out = vec![];
    let mut k = 0;
    while k < toks.len() {
        match &toks[k] {
            (Tok::Comma, _) => {
                k += 1;
                continue;
            }
            (Tok::Name(n), p) => {
                // A name alone (`par a, b=2`, `init x=1, y`) is 0, as in XPPAUT.
                if matches!(toks.get(k + 1).map(|t| &t.0), None | Some(Tok::Comma)) {
                    out.push((n.clone(), 0.0, *p));
                    k += 1;
                    continue;
                }
                if toks.get(k + 1).map(|t| &t.0) != Some(&Tok::Op("=")) {
                    return Err(ExprError {
                        pos: toks.get(k + 1).map_or(end, |t| t.1),
                        reason: format!("expected '=' after '{n}'"),
                    });
                }
                // The value runs to the next comma, or to the next `name =`.
                let mut j = k + 2;
                while j < toks.len() {
                    let next_is_assignment = matches!(toks[j].0, Tok::Name(_))
                        && toks.get(j + 1).map(|t| &t.0) == Some(&Tok::Op("="))
                        && j > k + 2;
                    if toks[j].0 == Tok::Comma || next_is_assignment {
                        break;
                    }
                    j += 1;
                }
                let e = parse(&toks[k + 2..j], toks.get(j).map_or(end, |t| t.1))?;
                out.push((n.clone(), constant(&e, &out, *p)?, *p));
                k = j;
            }
            (t, p) => {
                return Err(ExprError {
                    pos: *p,
                    reason: format!("expected name=value, found {t:?}"),
                });
            }
        }
    }
    Ok(out)
}

/// `name = expr` after `aux`.
fn definition(toks: &[(Tok, Pos)], end: Pos) -> Result<(String, Ast), ExprError> {
    match (toks.first(), toks.get(1)) {
        (Some((Tok::Name(n), _)), Some((Tok::Op("="), _))) => {
            Ok((n.clone(), parse(&toks[2..], end)?))
        }
        _ => Err(ExprError {
            pos: toks.first().map_or(end, |t| t.1),
            reason: "expected name = expression".into(),
        }),
    }
}

/// The value of a constant expression (names: earlier assignments of the same line);
/// infinite or NaN results (a division by zero) are refused.
fn constant(e: &Ast, earlier: &[(String, f64, Pos)], pos: Pos) -> Result<f64, ExprError> {
    let slots: HashMap<String, usize> = earlier
        .iter()
        .enumerate()
        .map(|(k, a)| (a.0.clone(), k))
        .collect();
    let values: Vec<f64> = earlier.iter().map(|a| a.1).collect();
    let functions = HashMap::new();
    let mut code = Code::default();
    compile(
        e,
        &Scope {
            slots: &slots,
            functions: &functions,
        },
        &mut code,
    )?;
    let v = code.eval::<f64>(&values, &mut vec![]);
    if !v.is_finite() {
        return Err(ExprError {
            pos,
            reason: format!("the value is {v} (a division by zero or an overflow)"),
        });
    }
    Ok(v)
}

/// An order of `0..deps.len()` where each item follows its dependencies, or a cycle.
fn topological(deps: &[Vec<usize>]) -> Result<Vec<usize>, Vec<usize>> {
    // 0 = new, 1 = on the path, 2 = done
    let mut state = vec![0u8; deps.len()];
    let mut order = vec![];
    fn visit(
        k: usize,
        deps: &[Vec<usize>],
        state: &mut [u8],
        path: &mut Vec<usize>,
        order: &mut Vec<usize>,
    ) -> Result<(), Vec<usize>> {
        match state[k] {
            2 => return Ok(()),
            1 => {
                let from = path.iter().position(|&p| p == k).unwrap_or(0);
                let mut cycle = path[from..].to_vec();
                cycle.push(k);
                return Err(cycle);
            }
            _ => {}
        }
        state[k] = 1;
        path.push(k);
        for &d in &deps[k] {
            visit(d, deps, state, path, order)?;
        }
        path.pop();
        state[k] = 2;
        order.push(k);
        Ok(())
    }
    for k in 0..deps.len() {
        visit(k, deps, &mut state, &mut vec![], &mut order)?;
    }
    Ok(order)
}

#[cfg(test)]
mod tests;
