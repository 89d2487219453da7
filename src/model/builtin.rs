//! The built-in conductance-based models, written as data (the same structure a model file fills).

use super::conductance::{ConductanceModel, Current, Gate, Kinetics};
use super::params::{Param, ParamSet};
use super::rates::RateFn::{self, Exp, Linoid, Sigmoid};

const G_MAX: f64 = 1e4;
const E_LIM: f64 = 500.0;

fn conductance(name: &str, value: f64, what: &str) -> Param {
    Param::new(
        name,
        value,
        "mS/cm^2",
        &format!("maximal {what} conductance"),
        0.0,
        G_MAX,
    )
}

fn reversal(name: &str, value: f64, what: &str) -> Param {
    Param::new(
        name,
        value,
        "mV",
        &format!("{what} reversal potential"),
        -E_LIM,
        E_LIM,
    )
}

/// The membrane capacitance, at least [`super::params::MIN_CAPACITANCE`]: the parameter of
/// every built-in model and of a NeuroML cell.
pub(crate) fn capacitance(value: f64) -> Param {
    Param::new(
        "c_m",
        value,
        "uF/cm^2",
        "membrane capacitance",
        super::params::MIN_CAPACITANCE,
        1e3,
    )
}

fn temperature_factor() -> Param {
    Param::new(
        "phi",
        1.0,
        "1",
        "temperature factor multiplying every gate rate (HH: 3^((T-6.3)/10))",
        0.0,
        1e3,
    )
    .positive()
}

fn gate(name: &str, alpha: RateFn, beta: RateFn) -> Gate {
    Gate {
        name: name.into(),
        kinetics: Kinetics::AlphaBeta { alpha, beta },
    }
}

/// Sodium, potassium and leak gates of HH with every voltage shifted by `shift` mV
/// (0 for the modern convention, +65 for the 1952 one).
fn hh_gates(shift: f64) -> Vec<Gate> {
    vec![
        gate(
            "m",
            Linoid {
                a: 1.0,
                v0: -40.0 + shift,
                k: 10.0,
            },
            Exp {
                a: 4.0,
                v0: -65.0 + shift,
                k: -18.0,
            },
        ),
        gate(
            "h",
            Exp {
                a: 0.07,
                v0: -65.0 + shift,
                k: -20.0,
            },
            Sigmoid {
                a: 1.0,
                v0: -35.0 + shift,
                k: 10.0,
            },
        ),
        gate(
            "n",
            Linoid {
                a: 0.1,
                v0: -55.0 + shift,
                k: 10.0,
            },
            Exp {
                a: 0.125,
                v0: -65.0 + shift,
                k: -80.0,
            },
        ),
    ]
}

/// A current as (name, conductance parameter, reversal parameter, [(gate, power)]).
type CurrentSpec<'a> = (&'a str, &'a str, &'a str, &'a [(&'a str, i32)]);

/// Build a model from its parameters, gates and currents given by names.
fn assemble(
    name: &str,
    description: &str,
    params: Vec<Param>,
    gates: Vec<Gate>,
    currents: &[CurrentSpec],
    threshold_mv: f64,
    v_search_mv: (f64, f64),
) -> ConductanceModel {
    let params = ParamSet::new(params);
    let idx = |n: &str| {
        params
            .index(n)
            .unwrap_or_else(|| panic!("built-in model {name}: no parameter {n}"))
    };
    let gate_idx = |n: &str| {
        gates
            .iter()
            .position(|g| g.name == n)
            .unwrap_or_else(|| panic!("built-in model {name}: no gate {n}"))
    };
    let currents = currents
        .iter()
        .map(|(cname, g, e, gs)| Current {
            name: cname.to_string(),
            g: idx(g),
            e: idx(e),
            gates: gs.iter().map(|(gn, p)| (gate_idx(gn), *p)).collect(),
            factor: None,
        })
        .collect();
    ConductanceModel {
        name: name.into(),
        description: description.into(),
        c_m: idx("c_m"),
        phi: idx("phi"),
        params,
        gates,
        currents,
        threshold_mv,
        v_search_mv,
    }
}

const NA: CurrentSpec = ("na", "g_na", "e_na", &[("m", 3), ("h", 1)]);
const K: CurrentSpec = ("k", "g_k", "e_k", &[("n", 4)]);
const L: CurrentSpec = ("l", "g_l", "e_l", &[]);

/// The squid-axon model with reversal potentials `(e_na, e_k, e_l)` and every rate voltage
/// shifted by `shift` mV (the two conventions differ only in these).
fn squid_axon(
    name: &str,
    description: &str,
    reversals: (f64, f64, f64),
    shift: f64,
    threshold_mv: f64,
    v_search_mv: (f64, f64),
) -> ConductanceModel {
    let (e_na, e_k, e_l) = reversals;
    assemble(
        name,
        description,
        vec![
            capacitance(1.0),
            conductance("g_na", 120.0, "sodium"),
            conductance("g_k", 36.0, "potassium"),
            conductance("g_l", 0.3, "leak"),
            reversal("e_na", e_na, "sodium"),
            reversal("e_k", e_k, "potassium"),
            reversal("e_l", e_l, "leak"),
            temperature_factor(),
        ],
        hh_gates(shift),
        &[NA, K, L],
        threshold_mv,
        v_search_mv,
    )
}

/// Hodgkin-Huxley, modern convention (rest near -65 mV), rates as in BrainPy's `brainmodels.HH`.
pub fn hh() -> ConductanceModel {
    squid_axon(
        "hh",
        "Hodgkin-Huxley squid axon, modern convention (rest near -65 mV)",
        (50.0, -77.0, -54.387),
        0.0,
        0.0,
        (-150.0, 150.0),
    )
}

/// Hodgkin-Huxley in the 1952 convention: V is the depolarisation from rest (rest at 0 mV).
pub fn hh_1952() -> ConductanceModel {
    squid_axon(
        "hh-1952",
        "Hodgkin-Huxley in the 1952 convention (V = depolarisation from rest, rest at 0 mV)",
        (115.0, -12.0, 10.6),
        65.0,
        65.0,
        (-85.0, 215.0),
    )
}

/// HH plus a first-order calcium current: the "human neurone" of the blog post `000_…`.
pub fn hh_ca() -> ConductanceModel {
    let mut gates = hh_gates(0.0);
    gates.push(gate(
        "ca",
        Linoid {
            a: 1.8,
            v0: -30.0,
            k: 9.0,
        },
        Exp {
            a: 0.1,
            v0: -40.0,
            k: -10.0,
        },
    ));
    assemble(
        "hh-ca",
        "HH + calcium current, the 'human neurone' (C=1.5, gCa=2, ECa=140, first-order Ca gate)",
        vec![
            capacitance(1.5),
            conductance("g_na", 120.0, "sodium"),
            conductance("g_k", 36.0, "potassium"),
            conductance("g_ca", 2.0, "calcium"),
            conductance("g_l", 0.3, "leak"),
            reversal("e_na", 50.0, "sodium"),
            reversal("e_k", -77.0, "potassium"),
            reversal("e_ca", 140.0, "calcium"),
            reversal("e_l", -54.387, "leak"),
            temperature_factor(),
        ],
        gates,
        &[NA, K, ("ca", "g_ca", "e_ca", &[("ca", 1)]), L],
        0.0,
        (-150.0, 150.0),
    )
}
