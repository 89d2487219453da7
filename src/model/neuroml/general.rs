//! A cell with LEMS `ComponentType` rates, written as `.ode` text and compiled by the `.ode`
//! reader's engine ([`crate::model::ode::OdeModel`]): the same membrane and gate equations as
//! a [`ConductanceModel`](crate::model::ConductanceModel), with each rate an expression.
//!
//! `C dV/dt = i_ext - sum g * factor * gates^n * (V - E)`; an alpha/beta gate
//! `x' = alpha (1 - x) - beta x`, an inf/tau gate `x' = (inf - x) / tau`. Units are the
//! toolkit's (mV, ms, mS/cm^2, uF/cm^2, uA/cm^2), and the model says so
//! ([`crate::model::Units::NEURON`]).

use crate::model::Units;
use crate::model::export::{LIN_FN, ode_expr};
use crate::model::ode::OdeModel;
use crate::model::params::{Param, ParamSet};
use crate::model::rates::RateFn;

/// A rate, steady state or time constant: a standard form, or an `.ode` expression of `v`
/// (mV) in the toolkit's units.
#[derive(Debug, Clone, PartialEq)]
pub enum R {
    /// One of the conductance model's forms.
    F(RateFn),
    /// An expression (a compiled LEMS ComponentType, or forms combined with one).
    E(String),
}

impl R {
    /// The `.ode` text.
    pub fn text(&self) -> String {
        match self {
            R::F(r) => ode_expr(r),
            R::E(s) => format!("({s})"),
        }
    }
    /// Whether it is a standard form.
    pub fn form(&self) -> Option<&RateFn> {
        match self {
            R::F(r) => Some(r),
            R::E(_) => None,
        }
    }
    /// `f * self`.
    pub fn scale(self, f: f64) -> R {
        match self {
            R::F(r) => R::F(super::scale(r, f)),
            e if f == 1.0 => e,
            e => R::E(format!("{f:?}*{}", e.text())),
        }
    }
    /// `self ^ p` (integer `p`).
    pub fn power(self, p: i32) -> R {
        match self {
            R::F(r) => R::F(super::power(r, p)),
            e if p == 1 => e,
            e => R::E(format!("{}^{p}", e.text())),
        }
    }
    /// `1 / (a + b)`.
    pub fn inv_sum(a: R, b: R) -> R {
        match (a, b) {
            (R::F(a), R::F(b)) => R::F(super::power(RateFn::Sum { terms: vec![a, b] }, -1)),
            (a, b) => R::E(format!("1/({}+{})", a.text(), b.text())),
        }
    }
    /// `a / (a + b)`.
    pub fn ratio(a: R, b: R) -> R {
        match (a, b) {
            (R::F(a), R::F(b)) => R::F(RateFn::Product {
                factors: vec![
                    a.clone(),
                    super::power(RateFn::Sum { terms: vec![a, b] }, -1),
                ],
            }),
            (a, b) => R::E(format!("{}/({}+{})", a.text(), a.text(), b.text())),
        }
    }
    /// `a * b`.
    pub fn product(a: R, b: R) -> R {
        match (a, b) {
            (R::F(a), R::F(b)) => R::F(RateFn::Product {
                factors: vec![a, b],
            }),
            (a, b) => R::E(format!("{}*{}", a.text(), b.text())),
        }
    }
}

/// A gate's kinetics with [`R`] rates.
#[derive(Debug, Clone, PartialEq)]
pub enum K {
    /// `x' = alpha (1 - x) - beta x`.
    AlphaBeta(R, R),
    /// `x' = (inf - x) / tau`.
    InfTau(R, R),
}

/// A current: name, conductance and reversal parameter indices, gates (index, power) and
/// an instantaneous factor.
pub type CurrentParts = (String, usize, usize, Vec<(usize, i32)>, Option<R>);

/// The cell as `.ode` text: `i_ext` first, then `params`; the generated `fixed` quantities;
/// then the equations. `init_v` is where V starts (gates are set to their steady states by
/// the caller).
pub fn write_ode(
    title: &str,
    params: &[Param],
    fixed: &[(String, String)],
    gates: &[(String, K)],
    currents: &[CurrentParts],
    init_v: f64,
) -> String {
    let mut out = String::new();
    out.push_str(&format!("# {}\n", title.replace('\n', " ")));
    out.push_str("# Compiled from NeuroML2/LEMS. Units: mV, ms, uA/cm^2, mS/cm^2, uF/cm^2.\n");
    out.push_str("par i_ext=0\n");
    for p in params {
        out.push_str(&format!("par {}={:?}\n", p.name, p.value));
    }
    out.push_str(LIN_FN);
    out.push('\n');
    for (n, e) in fixed {
        out.push_str(&format!("{n}={e}\n"));
    }
    for (n, k) in gates {
        let (a, b, x, y) = match k {
            K::AlphaBeta(a, b) => ("a_", "b_", a, b),
            K::InfTau(i, t) => ("inf_", "tau_", i, t),
        };
        out.push_str(&format!("{a}{n}={}\n", x.text()));
        out.push_str(&format!("{b}{n}={}\n", y.text()));
    }
    let terms: Vec<String> = currents
        .iter()
        .map(|(name, g, e, gs, factor)| {
            let mut t = params[*g].name.clone();
            if let Some(f) = factor {
                out.push_str(&format!("f_{name}={}\n", f.text()));
                t.push_str(&format!("*f_{name}"));
            }
            for &(gi, p) in gs {
                t.push('*');
                t.push_str(&gates[gi].0);
                if p != 1 {
                    t.push_str(&format!("^{p}"));
                }
            }
            format!("{t}*(v-{})", params[*e].name)
        })
        .collect();
    out.push_str(&format!("v'=(i_ext-({}))/c_m\n", terms.join("+")));
    for (n, k) in gates {
        match k {
            K::AlphaBeta(..) => out.push_str(&format!("{n}'=a_{n}*(1-{n})-b_{n}*{n}\n")),
            K::InfTau(..) => out.push_str(&format!("{n}'=(inf_{n}-{n})/tau_{n}\n")),
        }
    }
    out.push_str(&format!("init v={init_v:?}\n"));
    out.push_str("done\n");
    out
}

/// The `.ode` text of the cell compiled into a model with the toolkit's units: its
/// parameters keep their units and ranges, `description` is its first note, and the gates
/// start at their steady states at `init_v` (mV). An error is one line (the engine's).
pub fn compile(
    name: &str,
    description: &str,
    params: Vec<Param>,
    fixed: &[(String, String)],
    gates: &[(String, K)],
    currents: &[CurrentParts],
    init_v: f64,
) -> Result<OdeModel, String> {
    let text = write_ode(description, &params, fixed, gates, currents, init_v);
    let mut m = OdeModel::parse(&text, &format!("{name} (compiled)"), name)
        .map_err(|e| format!("the compiled equations do not read: {e}"))?;
    let mut all = vec![Param::new(
        "i_ext",
        0.0,
        "uA/cm^2",
        "injected current density",
        -1e4,
        1e4,
    )];
    all.extend(params);
    if all.len() != m.params.len()
        || all
            .iter()
            .zip(m.params.iter())
            .any(|(a, b)| !a.name.eq_ignore_ascii_case(&b.name))
    {
        return Err("the compiled parameters differ from the cell's".into());
    }
    m.params = ParamSet::new(all);
    m.units = &Units::NEURON;
    m.notes.insert(0, description.to_string());
    // Every variable after V is a gate, affine in itself: its start is its steady state.
    m.gated = true;
    m.init = m.gates_at(init_v)?;
    Ok(m)
}
