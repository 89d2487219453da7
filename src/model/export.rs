//! Writing a model in another format: the toolkit's TOML model file, an XPPAUT `.ode` file,
//! a NeuroML2 cell. Each writer returns the text (no I/O) or says why the model cannot be
//! written in that format ([`ExportRefusal`]).
//!
//! * TOML: any conductance model (built-in, TOML, NeuroML2): the model-file format
//!   ([`super::file`]), read back to the same right-hand side.
//! * `.ode`: any conductance model, as plain XPPAUT syntax (`par`, functions, `v'=…`,
//!   `init`, `@` options), runnable by `xppaut` unchanged. The linoid's removable singularity
//!   is written as `lin(y)=if(abs(y)<0.01)then(series)else(y/(1-exp(-y)))`, so the file is
//!   finite at `V = v0` as the toolkit is; the series is exact there to 1e-16.
//! * NeuroML2: conductance models whose rates are the standard NeuroML forms (`exp`,
//!   `sigmoid`, `linoid` for rates and steady states, `constant` time constants), or the
//!   combinations the NeuroML reader makes of them (`1 / (alpha + beta)`, `alpha / (alpha +
//!   beta)`), each gate in one current. `phi` becomes each gate's `q10Fixed`.
//!
//! LIF is refused by all three (hybrid: its threshold, reset and refractory clamp are not
//! an ODE nor a conductance model), and an `.ode` model is written only as `.ode` (its
//! equations are free-form: neither a TOML model file nor a NeuroML2 cell holds them).

use super::conductance::{ConductanceModel, Kinetics};
use super::neuroml::snake;
use super::neuroml::units::{Dimension, number, write as quantity};
use super::rates::RateFn;
use std::fmt::Write as _;

/// Why a model cannot be written in a format (one line).
#[derive(Debug, Clone, PartialEq)]
pub struct ExportRefusal(pub String);

impl std::fmt::Display for ExportRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn refuse<T>(reason: impl Into<String>) -> Result<T, ExportRefusal> {
    Err(ExportRefusal(reason.into()))
}

// ---------------------------------------------------------------- TOML

/// The model as a TOML model file (docs/model-files.md), with its current parameter values.
pub fn to_toml(m: &ConductanceModel) -> Result<String, ExportRefusal> {
    let mut out = String::new();
    let esc = |s: &str| toml::Value::String(s.to_string()).to_string();
    let _ = writeln!(
        out,
        "# Written by `excitable export` from the model '{}'.",
        m.name
    );
    let _ = writeln!(out, "name = {}", esc(&m.name));
    let _ = writeln!(out, "description = {}", esc(&m.description));
    let _ = writeln!(out, "threshold_mv = {}", tnum(m.threshold_mv));
    let _ = writeln!(
        out,
        "v_search_mv = [{}, {}]",
        tnum(m.v_search_mv.0),
        tnum(m.v_search_mv.1)
    );
    for p in m.params.iter() {
        let _ = writeln!(
            out,
            "\n[[param]]\nname = {}\nvalue = {}",
            esc(&p.name),
            tnum(p.value)
        );
        let _ = writeln!(out, "unit = {}", esc(&p.unit));
        if !p.description.is_empty() {
            let _ = writeln!(out, "description = {}", esc(&p.description));
        }
        let _ = writeln!(out, "min = {}\nmax = {}", tnum(p.min), tnum(p.max));
    }
    for g in &m.gates {
        let _ = writeln!(out, "\n[[gate]]\nname = {}", esc(&g.name));
        let (a, b, x, y) = match &g.kinetics {
            Kinetics::AlphaBeta { alpha, beta } => ("alpha", "beta", alpha, beta),
            Kinetics::InfTau { inf, tau } => ("inf", "tau", inf, tau),
        };
        let _ = writeln!(out, "{a} = {}", inline(x)?);
        let _ = writeln!(out, "{b} = {}", inline(y)?);
    }
    for c in &m.currents {
        let p = |i: usize| {
            m.params
                .iter()
                .nth(i)
                .map_or(String::new(), |p| p.name.clone())
        };
        let _ = writeln!(
            out,
            "\n[[current]]\nname = {}\ng = {}\ne = {}\ngates = {}",
            esc(&c.name),
            esc(&p(c.g)),
            esc(&p(c.e)),
            esc(&gate_product(m, &c.gates))
        );
        if let Some(f) = &c.factor {
            let _ = writeln!(out, "factor = {}", inline(f)?);
        }
    }
    Ok(out)
}

/// A TOML float that reads back exactly.
fn tnum(x: f64) -> String {
    toml::Value::Float(x).to_string()
}

/// A rate function as a TOML inline table.
fn inline(r: &RateFn) -> Result<String, ExportRefusal> {
    let v = toml::Value::try_from(r).map_err(|e| ExportRefusal(e.to_string()))?;
    Ok(v.to_string())
}

/// `"m^3 h"`.
fn gate_product(m: &ConductanceModel, gates: &[(usize, i32)]) -> String {
    gates
        .iter()
        .map(|&(g, p)| {
            if p == 1 {
                m.gates[g].name.clone()
            } else {
                format!("{}^{p}", m.gates[g].name)
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

// ---------------------------------------------------------------- XPPAUT

/// What an `.ode` file runs when XPPAUT opens it.
#[derive(Debug, Clone, PartialEq)]
pub struct OdeRun {
    /// Injected current (uA/cm^2): the default of the file's `i_ext` parameter.
    pub i_ext: f64,
    /// The initial state, V first then the gates (the model's variables).
    pub init: Vec<f64>,
    /// Integration time (ms): `@ total`.
    pub total_ms: f64,
    /// Time step (ms): `@ dt` (XPPAUT's method: `rk4`).
    pub dt_ms: f64,
}

/// What an `.ode` file cannot say about a model's spike threshold, in words: the format has
/// none, and the `.ode` reader counts spikes at 0 unless told. `export` writes it in the
/// file's header and on its output; `None` for a threshold of 0, which loses nothing.
pub fn ode_threshold_note(threshold_mv: f64) -> Option<String> {
    (threshold_mv != 0.0).then(|| {
        format!(
            "Spike threshold {t} mV: an .ode file carries none (excitable reads 0), so give --threshold {t} when analysing this file.",
            t = super::Number(threshold_mv)
        )
    })
}

/// The model as an XPPAUT `.ode` file that runs `run`.
pub fn to_ode(m: &ConductanceModel, run: &OdeRun) -> Result<String, ExportRefusal> {
    let mut names: Vec<String> = vec!["i_ext".into(), "lin".into()];
    names.extend(m.params.iter().map(|p| p.name.clone()));
    names.extend(m.var_names());
    let mut fns = Vec::new();
    for g in &m.gates {
        let (a, b) = match g.kinetics {
            Kinetics::AlphaBeta { .. } => ("a_", "b_"),
            Kinetics::InfTau { .. } => ("inf_", "tau_"),
        };
        fns.push(format!("{a}{}", g.name));
        fns.push(format!("{b}{}", g.name));
    }
    for c in &m.currents {
        if c.factor.is_some() {
            fns.push(format!("f_{}", c.name));
        }
    }
    names.extend(fns);
    let mut seen = std::collections::BTreeSet::new();
    for n in &names {
        if !seen.insert(n.to_lowercase()) {
            return refuse(format!(
                "the name '{n}' would be used twice in the .ode file (XPPAUT names ignore case): rename the parameter or gate"
            ));
        }
        if n.len() > 20 {
            return refuse(format!(
                "the name '{n}' is longer than XPPAUT's 20 characters"
            ));
        }
    }
    if run.init.len() != m.dim() {
        return refuse(format!(
            "{} initial values for {} variables",
            run.init.len(),
            m.dim()
        ));
    }
    let mut out = String::new();
    let _ = writeln!(out, "# {}: {}", m.name, m.description.replace('\n', " "));
    let _ = writeln!(
        out,
        "# Written by `excitable export`. Units: mV, ms, uA/cm^2, mS/cm^2, uF/cm^2."
    );
    if let Some(note) = ode_threshold_note(m.threshold_mv) {
        let _ = writeln!(out, "# {note}");
    }
    let _ = writeln!(
        out,
        "# C dV/dt = i_ext - sum g * gates * (V - E); every gate rate is multiplied by phi."
    );
    let _ = writeln!(out, "par i_ext={}", run.i_ext);
    for p in m.params.iter() {
        let _ = writeln!(out, "par {}={}", p.name, p.value);
    }
    let _ = writeln!(
        out,
        "# y/(1-exp(-y)), finite at y = 0 (series 1 + y/2 + y^2/12 - y^4/720 below |y| = 0.01)"
    );
    let _ = writeln!(out, "{LIN_FN}");
    for g in &m.gates {
        let (a, b, x, y) = match &g.kinetics {
            Kinetics::AlphaBeta { alpha, beta } => ("a_", "b_", alpha, beta),
            Kinetics::InfTau { inf, tau } => ("inf_", "tau_", inf, tau),
        };
        let _ = writeln!(out, "{a}{}(v)={}", g.name, ode_expr(x));
        let _ = writeln!(out, "{b}{}(v)={}", g.name, ode_expr(y));
    }
    for c in &m.currents {
        if let Some(f) = &c.factor {
            let _ = writeln!(out, "f_{}(v)={}", c.name, ode_expr(f));
        }
    }
    let pname = |i: usize| {
        m.params
            .iter()
            .nth(i)
            .map_or(String::new(), |p| p.name.clone())
    };
    let terms: Vec<String> = m
        .currents
        .iter()
        .map(|c| {
            let mut t = pname(c.g);
            if c.factor.is_some() {
                t.push_str(&format!("*f_{}(v)", c.name));
            }
            for &(g, p) in &c.gates {
                t.push('*');
                t.push_str(&m.gates[g].name);
                if p != 1 {
                    t.push_str(&format!("^{p}"));
                }
            }
            format!("{t}*(v-{})", pname(c.e))
        })
        .collect();
    let _ = writeln!(out, "v'=(i_ext-({}))/{}", terms.join("+"), pname(m.c_m));
    let phi = pname(m.phi);
    for g in &m.gates {
        let n = &g.name;
        match g.kinetics {
            Kinetics::AlphaBeta { .. } => {
                let _ = writeln!(out, "{n}'={phi}*(a_{n}(v)*(1-{n})-b_{n}(v)*{n})");
            }
            Kinetics::InfTau { .. } => {
                let _ = writeln!(out, "{n}'={phi}*(inf_{n}(v)-{n})/tau_{n}(v)");
            }
        }
    }
    let inits: Vec<String> = m
        .var_names()
        .iter()
        .zip(&run.init)
        .map(|(n, x)| format!("{n}={x}"))
        .collect();
    let _ = writeln!(out, "init {}", inits.join(", "));
    let steps = (run.total_ms / run.dt_ms).ceil() as u64 + 10;
    let _ = writeln!(
        out,
        "@ meth=rk4, dt={}, total={}, maxstor={}, bounds=100000",
        run.dt_ms, run.total_ms, steps
    );
    let _ = writeln!(out, "done");
    Ok(out)
}

/// A number in an XPPAUT expression: decimal (no exponent), shortest text that reads back
/// exactly, parenthesised when negative. (`par` and `init` lines take the bare number:
/// XPPAUT reads `init v=(-65)` as 0.)
fn xnum(x: f64) -> String {
    let s = format!("{x}");
    if x < 0.0 { format!("({s})") } else { s }
}

/// `(v-v0)` written without a double sign.
fn shifted(v0: f64) -> String {
    if v0 == 0.0 {
        "v".into()
    } else if v0 < 0.0 {
        format!("(v+{})", -v0)
    } else {
        format!("(v-{v0})")
    }
}

/// The `.ode` function `lin(y) = y / (1 - exp(-y))`, finite at `y = 0` (its series below
/// |y| = 0.01): the linoid of every written rate.
pub(crate) const LIN_FN: &str =
    "lin(y)=if(abs(y)<0.01)then(1+y/2+y*y/12-y*y*y*y/720)else(y/(1-exp(-y)))";

/// A rate function as an XPPAUT expression of `v`.
pub(crate) fn ode_expr(r: &RateFn) -> String {
    match r {
        RateFn::Exp { a, v0, k } => format!("{}*exp({}/{})", xnum(*a), shifted(*v0), xnum(*k)),
        RateFn::Sigmoid { a, v0, k } => {
            format!("{}/(1+exp(-{}/{}))", xnum(*a), shifted(*v0), xnum(*k))
        }
        RateFn::Linoid { a, v0, k } => format!("{}*lin({}/{})", xnum(*a), shifted(*v0), xnum(*k)),
        RateFn::Constant { a } => xnum(*a),
        RateFn::Sum { terms } => format!(
            "({})",
            terms.iter().map(ode_expr).collect::<Vec<_>>().join("+")
        ),
        RateFn::Product { factors } => format!(
            "({})",
            factors.iter().map(ode_expr).collect::<Vec<_>>().join("*")
        ),
        RateFn::Power { of, p } => format!("({})^{}", ode_expr(of), xnum(*p)),
    }
}

// ---------------------------------------------------------------- NeuroML2

/// A NeuroML2 rate element: type and (rate, midpoint, scale).
fn hh_form(r: &RateFn, suffix: &str) -> Option<(String, f64, f64, f64)> {
    let (kind, a, v0, k) = match *r {
        RateFn::Exp { a, v0, k } => ("Exp", a, v0, k),
        RateFn::Sigmoid { a, v0, k } => ("Sigmoid", a, v0, k),
        RateFn::Linoid { a, v0, k } => ("ExpLinear", a, v0, k),
        _ => return None,
    };
    Some((format!("HH{kind}{suffix}"), a, v0, k))
}

/// `c * x` split into (c, x); `(1, r)` for anything else.
fn factor_out(r: &RateFn) -> (f64, &RateFn) {
    match r {
        RateFn::Product { factors } if factors.len() == 2 => match &factors[0] {
            RateFn::Constant { a } => (*a, &factors[1]),
            _ => (1.0, r),
        },
        _ => (1.0, r),
    }
}

/// `(alpha, beta)` of `(alpha + beta)^-1`.
fn inverse_sum(r: &RateFn) -> Option<(&RateFn, &RateFn)> {
    match r {
        RateFn::Power { of, p } if *p == -1.0 => match of.as_ref() {
            RateFn::Sum { terms } if terms.len() == 2 => Some((&terms[0], &terms[1])),
            _ => None,
        },
        _ => None,
    }
}

/// One gate as NeuroML2: its element type and children.
fn nml_gate(
    g: &super::conductance::Gate,
    phi: f64,
    instances: i32,
) -> Result<(String, String), ExportRefusal> {
    let why = |what: &str| {
        ExportRefusal(format!(
            "gate '{}': {what} is not one of NeuroML's standard forms (exp, sigmoid, linoid; a constant time constant)",
            g.name
        ))
    };
    let rate = |tag: &str, r: &RateFn, scale: f64| -> Result<String, ExportRefusal> {
        let (t, a, v0, k) = hh_form(r, "Rate").ok_or_else(|| why(tag))?;
        Ok(format!(
            "        <{tag} type=\"{t}\" rate=\"{}\" midpoint=\"{}\" scale=\"{}\"/>\n",
            quantity(a * scale, Dimension::PerTime),
            quantity(v0, Dimension::Voltage),
            quantity(k, Dimension::Voltage)
        ))
    };
    let variable = |r: &RateFn| -> Result<String, ExportRefusal> {
        let (t, a, v0, k) = hh_form(r, "Variable").ok_or_else(|| why("the steady state"))?;
        Ok(format!(
            "        <steadyState type=\"{t}\" rate=\"{}\" midpoint=\"{}\" scale=\"{}\"/>\n",
            number(a),
            quantity(v0, Dimension::Voltage),
            quantity(k, Dimension::Voltage)
        ))
    };
    let time = |r: &RateFn| -> Result<String, ExportRefusal> {
        match r {
            RateFn::Constant { a } if *a > 0.0 => Ok(format!(
                "        <timeCourse type=\"fixedTimeCourse\" tau=\"{}\"/>\n",
                quantity(*a, Dimension::Time)
            )),
            _ => Err(why("the time constant")),
        }
    };
    let q10 = |q: f64| -> String {
        if q == 1.0 {
            String::new()
        } else {
            format!(
                "        <q10Settings type=\"q10Fixed\" fixedQ10=\"{}\"/>\n",
                number(q)
            )
        }
    };
    let _ = instances;
    match &g.kinetics {
        Kinetics::AlphaBeta { alpha, beta } => Ok((
            "gateHHrates".into(),
            format!(
                "{}{}{}",
                q10(phi),
                rate("forwardRate", alpha, 1.0)?,
                rate("reverseRate", beta, 1.0)?
            ),
        )),
        Kinetics::InfTau { inf, tau } => {
            // tau = c * T: c = 1/q10 folded in by the reader.
            let (c, t) = factor_out(tau);
            let q = phi / c;
            if let Some((a, b)) = inverse_sum(t) {
                return Ok((
                    "gateHHratesInf".into(),
                    format!(
                        "{}{}{}{}",
                        q10(q),
                        rate("forwardRate", a, 1.0)?,
                        rate("reverseRate", b, 1.0)?,
                        variable(inf)?
                    ),
                ));
            }
            // inf = alpha * (alpha + beta)^-1
            if let RateFn::Product { factors } = inf
                && let [a, s] = factors.as_slice()
                && let Some((a2, b)) = inverse_sum(s)
                && a == a2
            {
                return Ok((
                    "gateHHratesTau".into(),
                    format!(
                        "{}{}{}{}",
                        q10(phi),
                        rate("forwardRate", a, 1.0)?,
                        rate("reverseRate", b, 1.0)?,
                        time(tau)?
                    ),
                ));
            }
            Ok((
                "gateHHtauInf".into(),
                format!("{}{}{}", q10(phi), time(tau)?, variable(inf)?),
            ))
        }
    }
}

/// The model as a NeuroML2 document holding one single-compartment cell (a sphere of area
/// 1000 um^2, as the NeuroML2 HH example), its channels, and `init_v` (mV) as its initial
/// membrane potential.
pub fn to_neuroml(m: &ConductanceModel, init_v: f64) -> Result<String, ExportRefusal> {
    let p = m.params.values();
    let pname = |i: usize| {
        m.params
            .iter()
            .nth(i)
            .map_or(String::new(), |p| p.name.clone())
    };
    let phi = p[m.phi];
    for (gi, g) in m.gates.iter().enumerate() {
        let users = m
            .currents
            .iter()
            .filter(|c| c.gates.iter().any(|(x, _)| *x == gi))
            .count();
        if users != 1 {
            return refuse(format!(
                "gate '{}' drives {users} currents: a NeuroML2 gate belongs to one channel",
                g.name
            ));
        }
    }
    let id = snake(&m.name);
    let mut out = String::new();
    let _ = writeln!(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    let _ = writeln!(
        out,
        "<neuroml xmlns=\"http://www.neuroml.org/schema/neuroml2\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:schemaLocation=\"http://www.neuroml.org/schema/neuroml2 https://raw.github.com/NeuroML/NeuroML2/development/Schemas/NeuroML2/NeuroML_v2.3.1.xsd\" id=\"{id}_doc\">"
    );
    let _ = writeln!(
        out,
        "    <notes>{} Written by `excitable export`.</notes>",
        xml_escape(&m.description)
    );
    let mut densities = String::new();
    for c in &m.currents {
        let cid = snake(&c.name);
        let ion = if ["na", "k", "ca"].contains(&c.name.as_str()) {
            c.name.as_str()
        } else {
            "non_specific"
        };
        let species = if ion == "non_specific" {
            String::new()
        } else {
            format!(" species=\"{ion}\"")
        };
        let mut gates = Vec::new();
        if let Some(f) = &c.factor {
            let (inner, n) = match f {
                RateFn::Power { of, p } if *p == p.round() && (1.0..=8.0).contains(p) => {
                    (of.as_ref(), *p as i32)
                }
                other => (other, 1),
            };
            let (t, a, v0, k) = hh_form(inner, "Variable").ok_or_else(|| {
                ExportRefusal(format!(
                    "current '{}': its instantaneous factor is not a standard NeuroML steady state (exp, sigmoid, linoid, to an integer power)",
                    c.name
                ))
            })?;
            gates.push((
                "gateHHInstantaneous".to_string(),
                format!("{}_inf", c.name),
                n,
                format!(
                    "        <steadyState type=\"{t}\" rate=\"{}\" midpoint=\"{}\" scale=\"{}\"/>\n",
                    number(a),
                    quantity(v0, Dimension::Voltage),
                    quantity(k, Dimension::Voltage)
                ),
            ));
        }
        for &(gi, n) in &c.gates {
            let (kind, body) = nml_gate(&m.gates[gi], phi, n)?;
            gates.push((kind, m.gates[gi].name.clone(), n, body));
        }
        // A channel holds gates of one element type; mixed types are written as <gate type=…>.
        let mixed = gates.windows(2).any(|w| w[0].0 != w[1].0);
        let _ = writeln!(
            out,
            "    <ionChannelHH id=\"{cid}_chan\" conductance=\"10pS\"{species}>"
        );
        for (kind, gid, n, body) in gates {
            let (open, close) = if mixed {
                (
                    format!("gate id=\"{gid}\" type=\"{kind}\""),
                    "gate".to_string(),
                )
            } else {
                (format!("{kind} id=\"{gid}\""), kind.clone())
            };
            let _ = write!(
                out,
                "      <{open} instances=\"{n}\">\n{body}      </{close}>\n"
            );
        }
        let _ = writeln!(out, "    </ionChannelHH>");
        let _ = writeln!(
            densities,
            "                <channelDensity id=\"{cid}\" ionChannel=\"{cid}_chan\" condDensity=\"{}\" erev=\"{}\" ion=\"{ion}\"/>",
            quantity(p[c.g], Dimension::ConductanceDensity),
            quantity(p[c.e], Dimension::Voltage)
        );
        let _ = pname;
    }
    let _ = write!(
        out,
        "    <cell id=\"{id}\">
        <morphology id=\"morphology\">
            <segment id=\"0\" name=\"soma\">
                <proximal x=\"0\" y=\"0\" z=\"0\" diameter=\"17.841241161527712\"/>
                <distal x=\"0\" y=\"0\" z=\"0\" diameter=\"17.841241161527712\"/>
            </segment>
        </morphology>
        <biophysicalProperties id=\"biophysics\">
            <membraneProperties>
{densities}                <spikeThresh value=\"{}\"/>
                <specificCapacitance value=\"{}\"/>
                <initMembPotential value=\"{}\"/>
            </membraneProperties>
        </biophysicalProperties>
    </cell>
</neuroml>
",
        quantity(m.threshold_mv, Dimension::Voltage),
        quantity(p[m.c_m], Dimension::SpecificCapacitance),
        quantity(init_v, Dimension::Voltage)
    );
    Ok(out)
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
