//! XPPAUT's arrays, expanded before parsing: a line that declares `x[a..b]` stands for the
//! same line written out for `j = a, …, b`, with the declared name numbered (`x[1..3]' = …`
//! declares `x1`, `x2`, `x3`), every `name[expr]` read as `name` followed by the value of
//! `expr` at `j` (`x[j-1]` is `x0` when `j = 1`) and every `[expr]` standing alone as that
//! value (a number). So `x[1..20]' = -x[j] + d*(x[j-1] - 2*x[j] + x[j+1])` is twenty
//! equations. Every copy keeps the line's positions, so errors point into the file.

use super::expr::{Code, ExprError, Pos, Tok, parse};

/// The most values one array range may declare.
pub const MAX_LENGTH: usize = 10_000;

/// A bracketed group `[…]` of a token line: where its brackets are, and whether it closed.
struct Group {
    open: usize,
    /// Index of the `]`, or the line's length when the line ends first (XPPAUT's files have
    /// `… x[j` at a line's end; XPPAUT reads it as `x[j]`).
    close: usize,
    glued: bool,
}

/// The lines `toks` stands for: itself when it has no brackets, else one line per value of
/// the range. `unclosed` is set when a `[` was closed by the end of the line.
pub fn expand(
    toks: Vec<(Tok, Pos)>,
    end: Pos,
    unclosed: &mut bool,
) -> Result<Vec<Vec<(Tok, Pos)>>, ExprError> {
    let mut groups: Vec<Group> = vec![];
    let mut k = 0;
    while k < toks.len() {
        match &toks[k].0 {
            Tok::LBrack(glued) => {
                let mut c = k + 1;
                while c < toks.len() && !matches!(toks[c].0, Tok::RBrack) {
                    if matches!(toks[c].0, Tok::LBrack(_)) {
                        return Err(ExprError {
                            pos: toks[c].1,
                            reason: "arrays: '[' inside '[…]' (indices do not nest)".into(),
                        });
                    }
                    c += 1;
                }
                if c == toks.len() {
                    *unclosed = true;
                }
                groups.push(Group {
                    open: k,
                    close: c,
                    glued: *glued,
                });
                k = c + 1;
            }
            Tok::RBrack => {
                return Err(ExprError {
                    pos: toks[k].1,
                    reason: "arrays: ']' without '['".into(),
                });
            }
            _ => k += 1,
        }
    }
    if groups.is_empty() {
        return Ok(vec![toks]);
    }
    let range_of = |g: &Group| {
        toks[g.open + 1..g.close]
            .iter()
            .position(|t| t.0 == Tok::Op(".."))
            .map(|p| g.open + 1 + p)
    };
    let ranges: Vec<(usize, usize)> = groups
        .iter()
        .enumerate()
        .filter_map(|(k, g)| range_of(g).map(|dots| (k, dots)))
        .collect();
    let Some(&(r, dots)) = ranges.first() else {
        // No range: constant indices (`b100' = -flux[100]`), written out once.
        let mut codes = vec![];
        for g in &groups {
            let at = toks.get(g.open + 1).map_or(end, |t| t.1);
            codes.push(Some(
                index_code(&toks[g.open + 1..g.close], at, &[]).map_err(|e| ExprError {
                    reason: format!(
                        "{} (j is defined on a line that declares x[a..b])",
                        e.reason
                    ),
                    ..e
                })?,
            ));
        }
        return Ok(vec![write_out(&toks, &groups, &codes, 0)?]);
    };
    if let Some(&(second, _)) = ranges.get(1) {
        return Err(ExprError {
            pos: toks[groups[second].open].1,
            reason: "arrays: a line declares one range x[a..b]".into(),
        });
    }
    let range = &groups[r];
    if !range.glued || range.open == 0 || !matches!(toks[range.open - 1].0, Tok::Name(_)) {
        return Err(ExprError {
            pos: toks[range.open].1,
            reason: "arrays: a range follows the name it declares: x[1..n]".into(),
        });
    }
    let bound = |from: usize, to: usize| -> Result<i64, ExprError> {
        let at = toks.get(from).map_or(end, |t| t.1);
        let code = index_code(&toks[from..to], at, &[])?;
        integer(code.eval::<f64>(&[], &mut vec![]), at)
    };
    let lo = bound(range.open + 1, dots)?;
    let hi = bound(dots + 1, range.close)?;
    if hi < lo || hi - lo >= MAX_LENGTH as i64 {
        return Err(ExprError {
            pos: toks[range.open].1,
            reason: format!("array range {lo}..{hi}: need a <= b and at most {MAX_LENGTH} values"),
        });
    }
    // The other groups: index expressions in j.
    let mut codes = vec![];
    for (k, g) in groups.iter().enumerate() {
        if k != r {
            let at = toks.get(g.open + 1).map_or(end, |t| t.1);
            codes.push(Some(index_code(&toks[g.open + 1..g.close], at, &["j"])?));
        } else {
            codes.push(None);
        }
    }
    (lo..=hi)
        .map(|j| write_out(&toks, &groups, &codes, j))
        .collect()
}

/// The line for one value `j` of the range: the range's group (`None` code) numbers the name
/// before it with `j`, every other group is replaced by its index's value.
fn write_out(
    toks: &[(Tok, Pos)],
    groups: &[Group],
    codes: &[Option<Code>],
    j: i64,
) -> Result<Vec<(Tok, Pos)>, ExprError> {
    let mut line: Vec<(Tok, Pos)> = Vec::with_capacity(toks.len());
    let mut next = 0;
    for (g, code) in groups.iter().zip(codes) {
        line.extend_from_slice(&toks[next..g.open]);
        next = g.close + 1;
        let pos = toks[g.open].1;
        let value = match code {
            None => j,
            Some(code) => integer(code.eval::<f64>(&[j as f64], &mut vec![]), pos)?,
        };
        if g.glued {
            match line.last_mut() {
                Some((Tok::Name(n), _)) if value >= 0 => n.push_str(&value.to_string()),
                Some((Tok::Name(n), _)) => {
                    return Err(ExprError {
                        pos,
                        reason: format!("index {value} of '{n}' at j = {j}: below 0"),
                    });
                }
                _ => {
                    return Err(ExprError {
                        pos,
                        reason: "'[' after a number".into(),
                    });
                }
            }
        } else {
            line.push((Tok::Num(value as f64), pos));
        }
    }
    line.extend_from_slice(&toks[next.min(toks.len())..]);
    Ok(line)
}

/// An index expression compiled with `names` as slots 0, 1, …
fn index_code(toks: &[(Tok, Pos)], at: Pos, names: &[&str]) -> Result<Code, ExprError> {
    if toks.is_empty() {
        return Err(ExprError {
            pos: at,
            reason: "arrays: empty '[]'".into(),
        });
    }
    let ast = parse(toks, at)?;
    let slots = names
        .iter()
        .enumerate()
        .map(|(k, n)| (n.to_string(), k))
        .collect();
    let mut code = Code::default();
    super::compile::compile(
        &ast,
        &super::compile::Scope {
            slots: &slots,
            functions: &Default::default(),
            tables: &Default::default(),
        },
        &mut code,
    )
    .map_err(|e| ExprError {
        reason: format!(
            "in an array index: {} (indices use j and numbers)",
            e.reason
        ),
        ..e
    })?;
    Ok(code)
}

/// `v` as an integer index, or why not.
fn integer(v: f64, pos: Pos) -> Result<i64, ExprError> {
    if v.is_finite() && v == v.round() && v.abs() < 1e9 {
        Ok(v as i64)
    } else {
        Err(ExprError {
            pos,
            reason: format!("array index {v} is not an integer"),
        })
    }
}
