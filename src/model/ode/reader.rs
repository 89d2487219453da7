//! The lines of an `.ode` file read into declarations ([`Source`]): comments, continuations,
//! `@` options, keywords by first letter, array lines written out, equations parsed. What
//! only XPPAUT's interface, AUTO or a boundary-value problem uses is kept as a note.

use super::arrays;
use super::compile::Functions;
use super::expr::{Ast, ExprError, Pos, Tok, lex, parse};
use super::flags::{FlagDef, parse_global};
use super::tables::{SpecialDef, TableDef, parse_special, parse_table};
use super::volterra::IntegralDef;
use super::{assignments, constant};

/// `@` options kept in [`super::OdeModel::options`]: the run's and AUTO's (a bifurcation range
/// can be taken from `parmin`/`parmax`).
pub const KEPT_OPTIONS: [&str; 13] = [
    "total", "dt", "meth", "method", "parmin", "parmax", "autoxmin", "autoxmax", "ntst", "nmax",
    "ds", "dsmin", "dsmax",
];

/// The most equations (and other declarations) array lines may write out in one file.
pub const MAX_EXPANDED: usize = 100_000;

/// Everything a file declares, in the file's order.
#[derive(Default)]
pub struct Source {
    pub params: Vec<(String, f64, Pos)>,
    pub numbers: Vec<(String, f64, Pos)>,
    pub inits: Vec<(String, f64, Pos)>,
    pub odes: Vec<(String, Ast, Pos)>,
    pub fixed: Vec<(String, Ast, Pos)>,
    pub aux: Vec<(String, Ast, Pos)>,
    pub functions: Functions,
    pub tables: Vec<TableDef>,
    pub specials: Vec<SpecialDef>,
    pub flags: Vec<FlagDef>,
    /// Algebraic equations `0 = expr`, and the variables they solve for (`solv y=guess`).
    pub algebraic: Vec<(Ast, Pos)>,
    pub solve: Vec<(String, f64, Pos)>,
    /// `int{…}` integrals, read as the names `int#k`; the names Volterra equations define.
    pub integrals: Vec<IntegralDef>,
    pub volterra: Vec<String>,
    pub options: Vec<(String, String)>,
    pub notes: Vec<String>,
}

/// Keywords by first letter that this reader refuses, with the reason.
fn unsupported_keyword(word: &str) -> Option<&'static str> {
    Some(match word.chars().next()? {
        'm' if word.starts_with("mar") => "markov processes are not supported",
        'w' => "wiener (noise) variables are not supported: use a noise stimulus",
        'e' => "export (right-hand sides from a compiled library) is not supported",
        's' => "special declarations other than conv and fconv are not supported",
        _ => return None,
    })
}

/// One logical line: its text and where it starts.
struct Line {
    text: String,
    pos: Pos,
}

/// Logical lines: comments dropped, `\` continuations joined; XPPAUT's quoted comment lines
/// (`" …`) are left out and their line numbers returned.
fn lines(text: &str) -> (Vec<Line>, Vec<usize>) {
    let mut out: Vec<Line> = vec![];
    let mut quoted = vec![];
    let mut pending: Option<Line> = None;
    for (k, raw) in text.lines().enumerate() {
        if pending.is_none() && raw.trim_start().starts_with('"') {
            quoted.push(k + 1);
            continue;
        }
        // A comment starts at '#', except inside braces (XPPAUT's int{K#g}).
        let mut depth = 0i32;
        let cut = raw
            .char_indices()
            .find(|&(_, c)| {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                c == '#' && depth <= 0
            })
            .map_or(raw.len(), |(i, _)| i);
        let body = &raw[..cut];
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
    (out, quoted)
}

/// Line numbers as `3, 5-9, 12`.
fn line_list(lines: &[usize]) -> String {
    let mut parts: Vec<String> = vec![];
    let mut k = 0;
    while k < lines.len() {
        let mut e = k;
        while e + 1 < lines.len() && lines[e + 1] == lines[e] + 1 {
            e += 1;
        }
        parts.push(if e > k {
            format!("{}-{}", lines[k], lines[e])
        } else {
            lines[k].to_string()
        });
        k = e + 1;
    }
    parts.join(", ")
}

/// Read every line up to `done`.
pub fn read(text: &str) -> Result<Source, ExprError> {
    let mut s = Source::default();
    let (lines, quoted) = lines(text);
    let mut boundary: Vec<usize> = vec![];
    let mut unclosed: Vec<usize> = vec![];
    let mut expanded = 0usize;
    let mut derived: Vec<usize> = vec![];
    'lines: for mut line in lines {
        // XPPAUT's derived parameter `!name=expr` (a value computed from parameters) is a
        // fixed quantity `name=expr` here: the same value, recomputed at every evaluation.
        let lead = line.text.len() - line.text.trim_start().len();
        if line.text[lead..].starts_with('!') {
            line.text.replace_range(lead..lead + 1, " ");
            derived.push(line.pos.line);
        }
        let trimmed = line.text.trim_start();
        let lead = line.text.len() - trimmed.len();
        let start = Pos {
            line: line.pos.line,
            col: 1 + line.text[..lead].chars().count(),
        };
        if let Some(rest) = trimmed.strip_prefix('@') {
            let mut ignored = vec![];
            for item in rest.split([',', ' ', '\t']).filter(|s| !s.is_empty()) {
                let (k, v) = item.split_once('=').unwrap_or((item, ""));
                let k = k.trim().to_lowercase();
                if KEPT_OPTIONS.contains(&k.as_str()) {
                    s.options.push((k, v.trim().to_lowercase()));
                } else {
                    ignored.push(k);
                }
            }
            if !ignored.is_empty() {
                s.notes.push(format!(
                    "line {}: option{} {} ignored (XPPAUT's display and solver settings)",
                    start.line,
                    if ignored.len() > 1 { "s" } else { "" },
                    ignored.join(", ")
                ));
            }
            continue;
        }
        let end = Pos {
            line: start.line,
            col: 1 + line.text.chars().count(),
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
            && !after.starts_with(['=', '(', '\'', '/', '[']);
        if declares {
            let w = word.to_lowercase();
            // Named parameter sets and output selections change nothing here.
            if w == "set" || w.starts_with('o') {
                s.notes.push(format!("line {}: '{w}' ignored", start.line));
                continue;
            }
            match w.chars().next() {
                // Boundary conditions: only a boundary-value problem reads them.
                Some('b') => {
                    boundary.push(start.line);
                    continue;
                }
                Some('t') => {
                    s.tables.push(parse_table(trimmed, start)?);
                    continue;
                }
                Some('g') => {
                    s.flags.push(parse_global(trimmed, start)?);
                    continue;
                }
                Some('d' | 'p' | 'n' | 'i' | 'a' | 'v') => {}
                _ if w == "special" || w.starts_with("sol") => {}
                _ => {
                    let why = unsupported_keyword(&w)
                        .map_or(format!("unknown declaration '{w}'"), |r| {
                            format!("'{w}': {r}")
                        });
                    return Err(ExprError {
                        pos: start,
                        reason: why,
                    });
                }
            }
        }
        let before = s.integrals.len();
        let toks = lex_line(&line.text, line.pos, &mut s.integrals)?;
        let mut open = false;
        let copies = arrays::expand(toks, end, &mut open)?;
        if copies.len() > 1 && s.integrals.len() > before {
            return Err(ExprError {
                pos: s.integrals[before].pos,
                reason: "int{…} in an array line is not supported".into(),
            });
        }
        if open {
            unclosed.push(start.line);
        }
        if copies.len() > 1 {
            expanded += copies.len();
        }
        if expanded > MAX_EXPANDED {
            return Err(ExprError {
                pos: start,
                reason: format!("arrays write out more than {MAX_EXPANDED} lines"),
            });
        }
        for toks in copies {
            if !declaration(&mut s, &toks, start, end)? {
                break 'lines;
            }
        }
    }
    if !quoted.is_empty() {
        s.notes.push(format!(
            "line{} {}: XPPAUT's quoted comments (\" …) ignored",
            if quoted.len() > 1 { "s" } else { "" },
            line_list(&quoted)
        ));
    }
    if !boundary.is_empty() {
        s.notes.push(format!(
            "line{} {}: boundary conditions ignored (they pose a boundary-value problem; simulation and equilibria do not use them)",
            if boundary.len() > 1 { "s" } else { "" },
            line_list(&boundary)
        ));
    }
    if !derived.is_empty() {
        s.notes.push(format!(
            "line{} {}: derived parameters (!name=…) read as fixed quantities",
            if derived.len() > 1 { "s" } else { "" },
            line_list(&derived)
        ));
    }
    if !unclosed.is_empty() {
        s.notes.push(format!(
            "line{} {}: '[' closed by the end of the line, as XPPAUT reads it",
            if unclosed.len() > 1 { "s" } else { "" },
            line_list(&unclosed)
        ));
    }
    Ok(s)
}

/// One declaration or equation from its tokens; false at `done`.
fn declaration(
    s: &mut Source,
    toks: &[(Tok, Pos)],
    start: Pos,
    end: Pos,
) -> Result<bool, ExprError> {
    let err = |pos: Pos, reason: &str| ExprError {
        pos,
        reason: reason.into(),
    };
    let Some((Tok::Name(first), p0)) = toks.first().cloned() else {
        if let [(Tok::Num(z), _), (Tok::Op("="), _), ..] = toks
            && *z == 0.0
        {
            // 0 = expr: an algebraic equation.
            s.algebraic.push((expression(&toks[2..], end)?, start));
            return Ok(true);
        }
        return Err(err(start, "expected a declaration or an equation"));
    };
    // A keyword line: the first word is followed by a name (or stands alone).
    let keyword = matches!(toks.get(1), None | Some((Tok::Name(_), _)));
    if keyword {
        let rest = &toks[1..];
        if first == "special" {
            s.specials.push(parse_special(toks, end)?);
            return Ok(true);
        }
        if first.starts_with('v') {
            // volt u = expr: a Volterra equation.
            let (n, e) = definition(rest, end)?;
            s.volterra.push(n.clone());
            s.fixed.push((n, e, p0));
            return Ok(true);
        }
        if first.starts_with("sol") {
            // solv y=guess: the variables the algebraic equations solve for.
            s.solve.extend(assignments(rest, end)?);
            return Ok(true);
        }
        match first.chars().next() {
            Some('d') => return Ok(false),
            Some('p') => s.params.extend(assignments(rest, end)?),
            Some('n') => s.numbers.extend(assignments(rest, end)?),
            Some('i') => s.inits.extend(assignments(rest, end)?),
            Some('a') => {
                let (n, e) = definition(rest, end)?;
                s.aux.push((n, e, p0));
            }
            _ => {
                let why = unsupported_keyword(&first)
                    .map_or(format!("unknown declaration '{first}'"), |w| {
                        format!("'{first}': {w}")
                    });
                return Err(ExprError {
                    pos: p0,
                    reason: why,
                });
            }
        }
        return Ok(true);
    }
    let is = |k: usize, t: &Tok| toks.get(k).map(|x| &x.0) == Some(t);
    if is(1, &Tok::Op("'")) && is(2, &Tok::Op("=")) {
        // x' = expr
        s.odes.push((first, expression(&toks[3..], end)?, p0));
    } else if first.starts_with('d')
        && first.len() > 1
        && is(1, &Tok::Op("/"))
        && is(2, &Tok::Name("dt".into()))
        && is(3, &Tok::Op("="))
    {
        // dx/dt = expr
        s.odes
            .push((first[1..].to_string(), expression(&toks[4..], end)?, p0));
    } else if is(1, &Tok::LParen)
        && is(2, &Tok::Num(0.0))
        && is(3, &Tok::RParen)
        && is(4, &Tok::Op("="))
    {
        // x(0) = value
        let v = constant(&expression(&toks[5..], end)?, &[], p0)?;
        s.inits.push((first, v, p0));
    } else if is(1, &Tok::LParen) && is(2, &Tok::Name("t".into())) && is(3, &Tok::Op("+")) {
        return Err(err(
            p0,
            "difference equations (x(t+1) = …, maps) are not supported",
        ));
    } else if is(1, &Tok::LParen) {
        // f(a, b) = expr
        let close = toks
            .iter()
            .position(|t| t.0 == Tok::RParen)
            .ok_or_else(|| err(p0, "')' missing in the function definition"))?;
        let mut args = vec![];
        for (t, p) in &toks[2..close] {
            match t {
                Tok::Name(a) => args.push(a.clone()),
                Tok::Comma => {}
                _ => return Err(err(*p, "function arguments must be names")),
            }
        }
        if !is(close + 1, &Tok::Op("=")) {
            return Err(err(p0, "expected '=' after the function's arguments"));
        }
        let body = expression(&toks[close + 2..], end)?;
        if args == ["t"] && integral_in(&body) {
            // u(t) = … int{…} …: a Volterra equation, not a function.
            s.volterra.push(first.clone());
            s.fixed.push((first, body, p0));
        } else {
            s.functions.insert(first, (args, body, p0));
        }
    } else if is(1, &Tok::Op("=")) {
        s.fixed.push((first, expression(&toks[2..], end)?, p0));
    } else {
        return Err(err(
            toks.get(1).map_or(end, |t| t.1),
            "expected x' = …, dx/dt = …, x(0) = …, f(a) = …, name = … or a declaration",
        ));
    }
    Ok(true)
}

/// Refuse, when first read, the functions that make a file something other than an ODE
/// (delays, random numbers), so a file is refused for them rather than for what follows.
fn foreign(a: &Ast) -> Result<(), ExprError> {
    match a {
        Ast::Num(_) | Ast::Name(..) => Ok(()),
        Ast::Neg(x) => foreign(x),
        Ast::Chain(x, rest) => {
            foreign(x)?;
            rest.iter().try_for_each(|(_, y)| foreign(y))
        }
        Ast::If(c, x, y) => [c, x, y].into_iter().try_for_each(|e| foreign(e)),
        Ast::Sum(a, b, c, _) => [a, b, c].into_iter().try_for_each(|e| foreign(e)),
        Ast::Call(n, args, pos) => {
            let why = match n.as_str() {
                "delay" => Some("delay equations are not supported"),
                "ran" | "normal" => Some("random numbers are not supported (use a noise stimulus)"),
                _ => None,
            };
            if let Some(why) = why {
                return Err(ExprError {
                    pos: *pos,
                    reason: format!("{n}: {why}"),
                });
            }
            args.iter().try_for_each(foreign)
        }
    }
}

/// Whether `a` reads an integral (`int#k`).
fn integral_in(a: &Ast) -> bool {
    match a {
        Ast::Num(_) => false,
        Ast::Name(n, _) => n.starts_with("int#"),
        Ast::Neg(x) => integral_in(x),
        Ast::Chain(x, rest) => integral_in(x) || rest.iter().any(|(_, y)| integral_in(y)),
        Ast::If(c, x, y) => integral_in(c) || integral_in(x) || integral_in(y),
        Ast::Sum(a, b, c, _) => integral_in(a) || integral_in(b) || integral_in(c),
        Ast::Call(_, args, _) => args.iter().any(integral_in),
    }
}

/// The tokens of a line whose `int{…}` integrals are read into `integrals` and stand as the
/// names `int#k`.
fn lex_line(
    text: &str,
    pos: Pos,
    integrals: &mut Vec<IntegralDef>,
) -> Result<Vec<(Tok, Pos)>, ExprError> {
    let chars: Vec<char> = text.chars().collect();
    let at = |k: usize| Pos {
        line: pos.line,
        col: pos.col + k,
    };
    let piece = |from: usize, to: usize| -> String { chars[from..to].iter().collect() };
    let mut out = vec![];
    let (mut from, mut k) = (0, 0);
    while k + 3 < chars.len() {
        let word = piece(k, k + 3).eq_ignore_ascii_case("int");
        let starts = k == 0
            || !(chars[k - 1].is_alphanumeric() || chars[k - 1] == '_' || chars[k - 1] == '.');
        if !(word && starts && matches!(chars[k + 3], '{' | '[')) {
            k += 1;
            continue;
        }
        if chars[k + 3] == '[' {
            return Err(ExprError {
                pos: at(k),
                reason: "int[q]{…} (an integral with a weakly singular kernel) is not supported"
                    .into(),
            });
        }
        let close = (k + 4..chars.len())
            .find(|&c| chars[c] == '}')
            .ok_or_else(|| ExprError {
                pos: at(k + 3),
                reason: "'{' of int{…} without '}'".into(),
            })?;
        out.extend(lex(&piece(from, k), at(from))?);
        let (kernel, body) = match (k + 4..close).find(|&c| chars[c] == '#') {
            Some(h) => (
                Some(expression(&lex(&piece(k + 4, h), at(k + 4))?, at(h))?),
                expression(&lex(&piece(h + 1, close), at(h + 1))?, at(close))?,
            ),
            None => (
                None,
                expression(&lex(&piece(k + 4, close), at(k + 4))?, at(close))?,
            ),
        };
        out.push((Tok::Name(format!("int#{}", integrals.len())), at(k)));
        integrals.push(IntegralDef {
            kernel,
            body,
            pos: at(k),
        });
        from = close + 1;
        k = close + 1;
    }
    out.extend(lex(&piece(from.min(chars.len()), chars.len()), at(from))?);
    Ok(out)
}

/// An expression parsed, with [`foreign`] functions refused.
fn expression(toks: &[(Tok, Pos)], end: Pos) -> Result<Ast, ExprError> {
    let a = parse(toks, end)?;
    foreign(&a)?;
    Ok(a)
}

/// `name = expr` after `aux`.
fn definition(toks: &[(Tok, Pos)], end: Pos) -> Result<(String, Ast), ExprError> {
    match (toks.first(), toks.get(1)) {
        (Some((Tok::Name(n), _)), Some((Tok::Op("="), _))) => {
            Ok((n.clone(), expression(&toks[2..], end)?))
        }
        _ => Err(ExprError {
            pos: toks.first().map_or(end, |t| t.1),
            reason: "expected name = expression".into(),
        }),
    }
}
