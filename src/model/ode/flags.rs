//! XPPAUT's global flags: `global sign {condition} {x=expr; y=expr}` resets state variables
//! when `condition` crosses zero (upwards for sign 1, downwards for -1, either way for 0).
//! As in XPPAUT (flags.c), the crossing is found by linear interpolation between the ends of
//! the integration step, the state is moved there, the assignments are made in order (each
//! sees the ones before), a flag whose condition the reset itself makes cross fires next at
//! the same time, and the rest of the step is taken from the reset state. The simulator's
//! fixed-step loop drives it ([`super::OdeModel::step_with_flags`]); a model with flags is
//! hybrid, so it has no smooth field to continue.

use super::expr::{Ast, Code, ExprError, Pos, lex, parse};

/// One `global` line as read.
#[derive(Debug, Clone)]
pub struct FlagDef {
    /// -1, 0 or 1.
    pub sign: i8,
    pub cond: Ast,
    /// `name = expr`, in order.
    pub events: Vec<(String, Ast, Pos)>,
}

/// One compiled flag.
#[derive(Debug, Clone, PartialEq)]
pub struct Flag {
    pub sign: i8,
    pub cond: Code,
    /// (state variable index, new value).
    pub events: Vec<(usize, Code)>,
}

/// Read a `global` line: `text` starts with the keyword, at `start`.
pub fn parse_global(text: &str, start: Pos) -> Result<FlagDef, ExprError> {
    let chars: Vec<char> = text.chars().collect();
    let at = |k: usize| Pos {
        line: start.line,
        col: start.col + k,
    };
    let usage = "a global flag is written global sign {condition} {x=expr; y=expr}";
    let skip_space = |mut k: usize| {
        while k < chars.len() && chars[k].is_whitespace() {
            k += 1;
        }
        k
    };
    // The keyword, then the sign.
    let mut k = chars
        .iter()
        .position(|c| c.is_whitespace())
        .unwrap_or(chars.len());
    k = skip_space(k);
    let sign_start = k;
    while k < chars.len() && !chars[k].is_whitespace() && chars[k] != '{' {
        k += 1;
    }
    let sign_text: String = chars[sign_start..k].iter().collect();
    let sign = match sign_text.parse::<i8>() {
        Ok(s @ -1..=1) => s,
        _ => {
            return Err(ExprError {
                pos: at(sign_start),
                reason: format!(
                    "the sign of a global flag is -1, 0 or 1, not '{sign_text}'; {usage}"
                ),
            });
        }
    };
    k = skip_space(k);
    // The '}' closing the '{' at k.
    let closing = |k: usize| {
        chars[k..]
            .iter()
            .position(|&c| c == '}')
            .map(|p| k + p)
            .ok_or_else(|| ExprError {
                pos: at(k),
                reason: format!("'{{' without '}}'; {usage}"),
            })
    };
    // The condition: in braces, or everything up to the first brace.
    let (cond_from, cond_to, after) = if chars.get(k) == Some(&'{') {
        let close = closing(k)?;
        (k + 1, close, close + 1)
    } else {
        let open = chars[k..]
            .iter()
            .position(|&c| c == '{')
            .map(|p| k + p)
            .ok_or_else(|| ExprError {
                pos: at(chars.len()),
                reason: format!("no assignments; {usage}"),
            })?;
        (k, open, open)
    };
    let cond = expression(&chars, cond_from, cond_to, start)?;
    let k = skip_space(after);
    if chars.get(k) != Some(&'{') {
        return Err(ExprError {
            pos: at(k),
            reason: format!("expected '{{' before the assignments; {usage}"),
        });
    }
    let close = closing(k)?;
    if skip_space(close + 1) < chars.len() {
        return Err(ExprError {
            pos: at(skip_space(close + 1)),
            reason: format!("unexpected text after the assignments; {usage}"),
        });
    }
    let mut events = vec![];
    let mut from = k + 1;
    for to in (k + 1..=close).filter(|&i| i == close || chars[i] == ';') {
        if chars[from..to].iter().all(|c| c.is_whitespace()) {
            from = to + 1;
            continue;
        }
        let eq = chars[from..to]
            .iter()
            .position(|&c| c == '=')
            .map(|p| from + p)
            .ok_or_else(|| ExprError {
                pos: at(from),
                reason: format!("expected name = expression; {usage}"),
            })?;
        let name: String = chars[from..eq]
            .iter()
            .collect::<String>()
            .trim()
            .to_lowercase();
        let name_at = at(skip_space(from));
        if matches!(name.as_str(), "out_put" | "arret" | "no_interp") {
            return Err(ExprError {
                pos: name_at,
                reason: format!(
                    "global flags' action {name} (output, stop, no interpolation) is not supported"
                ),
            });
        }
        let value = expression(&chars, eq + 1, to, start)?;
        events.push((name, value, name_at));
        from = to + 1;
    }
    if events.is_empty() {
        return Err(ExprError {
            pos: at(k),
            reason: format!("no assignments; {usage}"),
        });
    }
    Ok(FlagDef { sign, cond, events })
}

/// The expression `chars[from..to]` of a line starting at `start`.
fn expression(chars: &[char], from: usize, to: usize, start: Pos) -> Result<Ast, ExprError> {
    let text: String = chars[from..to].iter().collect();
    let pos = Pos {
        line: start.line,
        col: start.col + from,
    };
    let end = Pos {
        line: start.line,
        col: start.col + to,
    };
    parse(&lex(&text, pos)?, end)
}

/// XPPAUT's tolerances: a crossing needs the condition to change by more than `TOL_MIN`;
/// the step fraction to a crossing is at least `STOL`.
const TOL_MIN: f64 = 1e-10;
const STOL: f64 = 1e-10;

/// Whether a condition going from `f0` to `f1` fires a flag of `sign` (XPPAUT's test at the
/// end of a step): from one strict side to zero or beyond. A condition that lands exactly on
/// zero at a step's end fires in that step, and the step that leaves zero does not fire
/// again (XPPAUT's `f0 < 0 && f1 > 0` for sign 1 fired in neither: `global 1 {t-5}` at dt
/// 0.01 never fired, where XPPAUT's own clock, summed in steps, steps past 5).
pub fn crosses(sign: i8, f0: f64, f1: f64) -> bool {
    let tol = (f1 - f0).abs() > TOL_MIN;
    let up = f0 < 0.0 && f1 >= 0.0;
    let down = f0 > 0.0 && f1 <= 0.0;
    tol && match sign {
        1 => up,
        -1 => down,
        _ => up || down,
    }
}

/// Whether a reset moving the condition from `f0` to `f1` fires a flag (XPPAUT's test after
/// the assignments, which counts touching zero).
pub fn reset_crosses(sign: i8, f0: f64, f1: f64) -> bool {
    let tol = (f1 - f0).abs() > TOL_MIN;
    tol && match sign {
        1 => f0 <= 0.0 && f1 >= 0.0,
        -1 => f0 >= 0.0 && f1 <= 0.0,
        _ => f0 * f1 <= 0.0 && (f0 != 0.0 || f1 != 0.0),
    }
}

/// The fraction of the step at which the earliest flag fires (None: none fires), floored at
/// XPPAUT's `STOL` and nudged just past the crossing.
pub fn first_crossing(flags: &[Flag], f0: &[f64], f1: &[f64]) -> Option<f64> {
    let s = flags
        .iter()
        .zip(f0.iter().zip(f1))
        .filter(|(f, (a, b))| crosses(f.sign, **a, **b))
        .map(|(_, (a, b))| a / (a - b))
        .fold(f64::INFINITY, f64::min);
    if s.is_nan() || s > 1.0 {
        return None;
    }
    Some(if s < STOL { STOL } else { (1.0 + STOL) * s }.min(1.0))
}
