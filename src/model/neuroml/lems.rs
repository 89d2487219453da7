//! LEMS `ComponentType` rates, steady states and time courses written as expressions
//! (`<DerivedVariable value="…">`, `<ConditionalDerivedVariable>`), compiled through the
//! expression engine of the `.ode` reader ([`crate::model::ode`]).
//!
//! LEMS evaluates in SI units: `v` in volts, a rate in 1/s, a time course in seconds,
//! `temperature` in kelvin, and every `Constant`/`Parameter` converted from its unit to SI.
//! The compiled expression reads the membrane potential in mV (`0.001*v` replaces LEMS's `v`)
//! and its result is converted back into the toolkit's units (a rate x 0.001 into 1/ms, a
//! time course x 1000 into ms, a steady state as it is). Each `DerivedVariable` becomes one
//! fixed quantity of the generated `.ode` text, named after the gate and its role.
//!
//! Read: `Constant`, `Parameter` (its value from the element that uses the type),
//! `Requirement` of `v`, `vShift` (from a `channelDensityVShift`) and `temperature`,
//! `Exposure`, `Dynamics` holding `DerivedVariable`s with a `value` and
//! `ConditionalDerivedVariable`s (`Case`s, the one without a `condition` the default), the
//! functions `exp log sqrt sin cos tan sinh cosh tanh abs ceil floor H` and the operators
//! `+ - * / ^ .gt. .lt. .geq. .leq. .eq. .neq. .and. .or.`; the base types
//! `baseVoltageDepRate`, `baseVoltageDepVariable`, `baseVoltageDepTime` and `baseHHRate`,
//! `baseHHVariable` (their `rate`, `midpoint`, `scale`); and a gate type extending
//! `gateHHrates` without state (an instantaneous gate, as Wang-Buzsaki's `m`), whose
//! `fcond` is compiled from `select`s of its rates and becomes the current's factor.
//! Anything else is refused by element and line: concentration-dependent types (`caConc`: pools are not read), state variables,
//! `select`, `random`, other requirements and base types.

use super::units::{Dimension, convert};
use super::{At, ModelError};
use crate::model::ode::expr::{Pos, lex, parse};
use std::collections::BTreeMap;

/// What a rate-like ComponentType gives its gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A forward or reverse rate: exposure `r`, 1/s, into 1/ms.
    Rate,
    /// A steady state: exposure `x`, dimensionless.
    Variable,
    /// A time course: exposure `t`, seconds, into ms.
    Time,
    /// A gate without state (`tau` 0): exposure `fcond`, the gate's factor of the
    /// conductance; its `select`s of `forwardRate/r` and `reverseRate/r` read the rates.
    Gate,
}

impl Role {
    fn exposure(self) -> &'static str {
        match self {
            Role::Rate => "r",
            Role::Variable => "x",
            Role::Time => "t",
            Role::Gate => "fcond",
        }
    }
    /// The factor from the SI value into the toolkit's unit.
    fn si_factor(self) -> f64 {
        match self {
            Role::Rate => 1e-3,
            Role::Variable | Role::Gate => 1.0,
            Role::Time => 1e3,
        }
    }
    /// The base types a custom type of this role may extend, and whether they carry the
    /// standard `rate`, `midpoint`, `scale` parameters (with the `rate` dimension).
    fn bases(self) -> &'static [(&'static str, Option<Dimension>)] {
        match self {
            Role::Rate => &[
                ("baseVoltageDepRate", None),
                ("baseHHRate", Some(Dimension::PerTime)),
            ],
            Role::Variable => &[
                ("baseVoltageDepVariable", None),
                ("baseHHVariable", Some(Dimension::None)),
            ],
            Role::Time => &[("baseVoltageDepTime", None)],
            Role::Gate => &[("gateHHrates", None)],
        }
    }
}

/// What the use of a ComponentType can read besides its own constants.
pub struct Context<'c> {
    /// Prefix of the generated names (`na_m_alpha`).
    pub prefix: String,
    /// The density's `vShift` (mV): a `channelDensityVShift`'s, 0 for the other densities
    /// (as NeuroML's core types set it).
    pub vshift: f64,
    /// The temperature (degC), when the file or the user gives one.
    pub temperature: Option<f64>,
    /// Names already used in the generated text (lower-case).
    pub taken: &'c mut std::collections::BTreeSet<String>,
    /// The generated fixed quantities, in order: name and `.ode` expression.
    pub fixed: &'c mut Vec<(String, String)>,
    /// For a gate: what its `select`s read (`forwardRate/r` -> the rate in 1/s as `.ode`
    /// text) and its `instances`.
    pub selects: BTreeMap<String, String>,
}

/// The LEMS dimension names the reader converts, with their [`Dimension`] and the factor
/// from the toolkit's unit of that dimension into SI (temperature: degC into K by adding
/// 273.15, handled apart).
fn dimension(name: &str) -> Option<(Dimension, f64)> {
    Some(match name {
        "voltage" => (Dimension::Voltage, 1e-3),
        "time" => (Dimension::Time, 1e-3),
        "per_time" => (Dimension::PerTime, 1e3),
        "conductanceDensity" => (Dimension::ConductanceDensity, 10.0),
        "specificCapacitance" => (Dimension::SpecificCapacitance, 1e-2),
        "currentDensity" => (Dimension::CurrentDensity, 1e-2),
        "temperature" => (Dimension::Temperature, 1.0),
        "concentration" => (Dimension::Concentration, 1.0),
        "length" => (Dimension::Length, 1e-6),
        "conductance" => (Dimension::Conductance, 1e-3),
        "current" => (Dimension::Current, 1e-9),
        "none" => (Dimension::None, 1.0),
        _ => return None,
    })
}

/// `text` (a quantity of LEMS dimension `dim`) in SI units.
fn si(at: &At, attr: &str, text: &str, dim: &str) -> Result<f64, ModelError> {
    let (d, f) = dimension(dim).ok_or_else(|| {
        at.err(format!(
            "dimension '{dim}' is not read (voltage, time, per_time, conductanceDensity, concentration, temperature, none, … are)"
        ))
    })?;
    let x = convert(text, d).map_err(|e| at.err(format!("{attr}: {e}")))?;
    Ok(if d == Dimension::Temperature {
        x + 273.15
    } else {
        x * f
    })
}

/// A number for the generated text: shortest exact decimal, bracketed.
fn num(x: f64) -> String {
    format!("({x:?})")
}

/// Compile the ComponentType `ct` used by element `used` (a `forwardRate`, `steadyState`, …)
/// in `role`: the returned `.ode` expression of `v` (mV) gives the value in the toolkit's
/// units; the type's derived variables are appended to `cx.fixed`.
pub fn compile(used: &At, ct: &At, role: Role, cx: &mut Context) -> Result<String, ModelError> {
    let name = ct.need("name")?;
    let extends = ct.attr("extends").unwrap_or("");
    if extends.contains("Conc") {
        return Err(ct.err(format!(
            "extends '{extends}': concentration-dependent rates need a concentration pool, and pools are not read"
        )));
    }
    let Some(&(_, hh)) = role.bases().iter().find(|(b, _)| *b == extends) else {
        return Err(ct.err(format!(
            "extends '{extends}': a {} ComponentType must extend {}",
            role.exposure(),
            role.bases()
                .iter()
                .map(|b| b.0)
                .collect::<Vec<_>>()
                .join(" or ")
        )));
    };
    // Name -> replacement text (case-sensitive, as LEMS is).
    let mut sym: BTreeMap<String, String> = BTreeMap::new();
    let from_use =
        |sym: &mut BTreeMap<String, String>, pname: &str, dim: &str| -> Result<(), ModelError> {
            let text = used.attr(pname).ok_or_else(|| {
                used.err(format!(
                    "attribute '{pname}' is missing (a Parameter of ComponentType '{name}')"
                ))
            })?;
            sym.insert(pname.into(), num(si(used, pname, text, dim)?));
            Ok(())
        };
    if let Some(d) = hh {
        let rate_dim = match d {
            Dimension::PerTime => "per_time",
            _ => "none",
        };
        from_use(&mut sym, "rate", rate_dim)?;
        from_use(&mut sym, "midpoint", "voltage")?;
        from_use(&mut sym, "scale", "voltage")?;
    }
    sym.insert("v".into(), "(0.001*v)".into());
    if role == Role::Gate {
        let n = used.need("instances")?;
        let n: f64 = n
            .trim()
            .parse()
            .map_err(|_| used.err(format!("instances = '{n}' is not a number")))?;
        sym.insert("instances".into(), num(n));
    }
    let mut dynamics = None;
    for c in ct.children() {
        match c.tag() {
            "notes" | "Exposure" => {}
            "Child" if role == Role::Gate => {}
            "Constant" => {
                let value = si(&c, "value", c.need("value")?, c.need("dimension")?)?;
                sym.insert(c.need("name")?.into(), num(value));
            }
            "Parameter" => from_use(&mut sym, c.need("name")?, c.need("dimension")?)?,
            "Requirement" => {
                let r = c.need("name")?;
                let value = match r {
                    "v" => continue,
                    "vShift" => cx.vshift * 1e-3,
                    "temperature" => {
                        cx.temperature.ok_or_else(|| {
                            c.err("needs a temperature: the file has no <network temperature=…>; give one with --set temperature=…")
                        })? + 273.15
                    }
                    "caConc" => {
                        return Err(c.err(
                            "a concentration-dependent rate needs a concentration pool, and pools are not read",
                        ));
                    }
                    other => {
                        return Err(c.err(format!(
                            "requirement '{other}' is not read (v, vShift, temperature are)"
                        )));
                    }
                };
                sym.insert(r.into(), num(value));
            }
            "Dynamics" => dynamics = Some(c),
            t => {
                return Err(c.err(format!(
                    "<{t}> in a rate ComponentType is not read (Constant, Parameter, Requirement, Exposure, Dynamics are)"
                )));
            }
        }
    }
    let dynamics = dynamics.ok_or_else(|| ct.err("no <Dynamics>: nothing computes the rate"))?;
    // Every derived variable gets its generated name first, so any may read any other.
    let mut derived = Vec::new();
    for d in dynamics.children() {
        match d.tag() {
            "notes" => {}
            "DerivedVariable" | "ConditionalDerivedVariable" => {
                let dv = d.need("name")?;
                if let Some(sel) = d.attr("select") {
                    match cx.selects.get(sel) {
                        Some(text) => {
                            sym.insert(dv.into(), text.clone());
                            continue;
                        }
                        None => {
                            return Err(d.err(format!(
                                "select '{sel}' reads another component: only a gate's forwardRate/r and reverseRate/r are read"
                            )));
                        }
                    }
                }
                let mut gen_name = format!("{}_{}", cx.prefix, dv.to_lowercase());
                let mut k = 1;
                while cx.taken.contains(&gen_name) {
                    k += 1;
                    gen_name = format!("{}_{}{k}", cx.prefix, dv.to_lowercase());
                }
                cx.taken.insert(gen_name.clone());
                sym.insert(dv.into(), gen_name.clone());
                derived.push((d, dv, gen_name));
            }
            t => {
                return Err(d.err(format!(
                    "<{t}>: a rate is a function of V; state variables, events and regimes in a ComponentType are not read (DerivedVariable, ConditionalDerivedVariable are)"
                )));
            }
        }
    }
    let mut exposed = None;
    for (d, dv, gen_name) in &derived {
        let expr = if d.tag() == "DerivedVariable" {
            translate(d, d.need("value")?, &sym)?
        } else {
            let mut cases = Vec::new();
            let mut default = None;
            for c in d.children().filter(|c| c.tag() == "Case") {
                let value = translate(&c, c.need("value")?, &sym)?;
                match c.attr("condition") {
                    Some(cond) => cases.push((translate(&c, cond, &sym)?, value)),
                    None => default = Some(value),
                }
            }
            let mut out = match (default, cases.pop()) {
                (Some(d), last) => {
                    if let Some(l) = last {
                        cases.push(l);
                    }
                    d
                }
                // No default: the last case is taken where no earlier one holds.
                (None, Some((_, v))) => v,
                (None, None) => return Err(d.err("no <Case>")),
            };
            for (cond, value) in cases.into_iter().rev() {
                out = format!("if({cond})then({value})else({out})");
            }
            out
        };
        cx.fixed.push((gen_name.clone(), expr));
        if d.attr("exposure") == Some(role.exposure())
            || (exposed.is_none() && *dv == role.exposure())
        {
            exposed = Some(gen_name.clone());
        }
    }
    let exposed = exposed.ok_or_else(|| {
        dynamics.err(format!(
            "no DerivedVariable exposes '{}' (the {} this ComponentType must give)",
            role.exposure(),
            match role {
                Role::Rate => "rate",
                Role::Variable => "steady state",
                Role::Time => "time course",
                Role::Gate => "conductance factor",
            }
        ))
    })?;
    let f = role.si_factor();
    Ok(if f == 1.0 {
        exposed
    } else {
        format!("({f:?}*{exposed})")
    })
}

/// LEMS's function names and the engine's.
const FUNCTIONS: [(&str, &str); 13] = [
    ("exp", "exp"),
    ("log", "ln"),
    ("sqrt", "sqrt"),
    ("sin", "sin"),
    ("cos", "cos"),
    ("tan", "tan"),
    ("sinh", "sinh"),
    ("cosh", "cosh"),
    ("tanh", "tanh"),
    ("abs", "abs"),
    ("ceil", "ceil"),
    ("floor", "flr"),
    ("H", "heav"),
];

/// LEMS's word operators and the engine's symbols.
const WORD_OPS: [(&str, &str); 8] = [
    (".neq.", " != "),
    (".eq.", " == "),
    (".geq.", " >= "),
    (".leq.", " <= "),
    (".gt.", " > "),
    (".lt.", " < "),
    (".and.", " & "),
    (".or.", " | "),
];

/// A LEMS expression at element `at` as `.ode` text: names replaced from `sym`, functions
/// and operators renamed; checked by the engine's parser.
fn translate(at: &At, text: &str, sym: &BTreeMap<String, String>) -> Result<String, ModelError> {
    let bad = |why: String| at.err(format!("expression '{text}': {why}"));
    let mut s = text.to_string();
    for (w, o) in WORD_OPS {
        s = s.replace(w, o);
    }
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
        {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            if i < chars.len() && (chars[i] == 'e' || chars[i] == 'E') {
                let mut j = i + 1;
                if j < chars.len() && (chars[j] == '+' || chars[j] == '-') {
                    j += 1;
                }
                if j < chars.len() && chars[j].is_ascii_digit() {
                    i = j;
                    while i < chars.len() && chars[i].is_ascii_digit() {
                        i += 1;
                    }
                }
            }
            out.extend(&chars[start..i]);
            continue;
        }
        if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let call = chars[i..].iter().find(|c| !c.is_whitespace()) == Some(&'(');
            if call {
                let f = FUNCTIONS.iter().find(|(l, _)| *l == word).ok_or_else(|| {
                    bad(format!(
                        "function '{word}' is not read ({} are)",
                        FUNCTIONS.map(|f| f.0).join(", ")
                    ))
                })?;
                out.push_str(f.1);
            } else {
                let r = sym.get(&word).ok_or_else(|| {
                    bad(format!(
                        "'{word}' is not a Constant, Parameter, Requirement or derived variable of the ComponentType"
                    ))
                })?;
                out.push_str(r);
            }
            continue;
        }
        if "+-*/^()<>=!&| \t\n\r,".contains(c) {
            out.push(c);
            i += 1;
            continue;
        }
        return Err(bad(format!("unexpected character '{c}'")));
    }
    let start = Pos { line: 1, col: 1 };
    let toks = lex(&out, start).map_err(|e| bad(e.reason))?;
    parse(&toks, start).map_err(|e| bad(e.reason))?;
    Ok(out.split_whitespace().collect::<Vec<_>>().join(" "))
}
