//! User-defined conductance-based models from a TOML model file, no recompiling needed.
//!
//! ```toml
//! name = "my-hh"
//! description = "HH written as a file"
//! threshold_mv = 0.0              # spike detection default
//! v_search_mv = [-150.0, 150.0]   # optional: where equilibria are searched
//!
//! [[param]]                       # c_m is required; phi (rate factor) is added if absent
//! name = "c_m"
//! value = 1.0
//! unit = "uF/cm^2"
//! min = 0.0                       # optional range; c_m must be >= 0.001 regardless
//! max = 1000.0
//!
//! [[gate]]                        # alpha/beta (1/ms) or inf (1) / tau (ms)
//! name = "m"
//! alpha = { form = "linoid", a = 1.0, v0 = -40.0, k = 10.0 }
//! beta = { form = "exp", a = 4.0, v0 = -65.0, k = -18.0 }
//!
//! [[current]]                     # g * factor(V) * prod(gate^power) * (V - e)
//! name = "na"
//! g = "g_na"
//! e = "e_na"
//! gates = "m^3 h"
//! # factor = { form = "power", p = 3, of = { … } }   # optional: an instantaneous gate
//! ```
//! Rate forms are those of [`RateFn`]: `exp`, `sigmoid`, `linoid`, `constant`, and `sum`,
//! `product` and `power` of forms.

use super::conductance::{ConductanceModel, Current, Gate, Kinetics};
use super::params::{Param, ParamSet};
use super::rates::RateFn;
use crate::error::ModelError;
use serde::Deserialize;
use std::path::Path;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSpec {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    threshold_mv: Option<f64>,
    #[serde(default)]
    v_search_mv: Option<[f64; 2]>,
    #[serde(default)]
    param: Vec<ParamSpec>,
    #[serde(default)]
    gate: Vec<GateSpec>,
    #[serde(default)]
    current: Vec<CurrentSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ParamSpec {
    name: String,
    value: f64,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    description: String,
    min: Option<f64>,
    max: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GateSpec {
    name: String,
    alpha: Option<RateFn>,
    beta: Option<RateFn>,
    inf: Option<RateFn>,
    tau: Option<RateFn>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CurrentSpec {
    name: String,
    g: String,
    e: String,
    #[serde(default)]
    gates: String,
    #[serde(default)]
    factor: Option<RateFn>,
}

/// Load a model file from disk.
pub fn load(path: &Path) -> Result<ConductanceModel, ModelError> {
    let text = crate::input::read_text(path, crate::input::MAX_MODEL_BYTES).map_err(|reason| {
        ModelError::File {
            path: path.display().to_string(),
            reason,
        }
    })?;
    parse(&text, &path.display().to_string())
}

/// Parse a model file's text (`path` names it in errors); the error says which field is wrong
/// (and the line, for syntax).
pub fn parse(text: &str, path: &str) -> Result<ConductanceModel, ModelError> {
    let err = |reason: String| ModelError::File {
        path: path.to_string(),
        reason,
    };
    let spec: FileSpec =
        toml::from_str(text).map_err(|e| err(e.to_string().trim().replace('\n', " ")))?;
    build(spec).map_err(err)
}

fn build(spec: FileSpec) -> Result<ConductanceModel, String> {
    // Before anything is built (each parameter is looked up among the earlier ones).
    super::conductance::check_sizes(spec.param.len(), spec.gate.len(), spec.current.len())?;
    let mut params = ParamSet::default();
    for (i, p) in spec.param.iter().enumerate() {
        if params.index(&p.name).is_some() {
            return Err(format!("param[{i}]: duplicate parameter '{}'", p.name));
        }
        check_name(&p.name).map_err(|e| format!("param[{i}].name: {e}"))?;
        let mut param = Param::new(
            &p.name,
            p.value,
            &p.unit,
            &p.description,
            p.min.unwrap_or(-1e9),
            p.max.unwrap_or(1e9),
        );
        if p.name == "c_m" {
            param.min = param.min.max(super::params::MIN_CAPACITANCE);
            if param.max < param.min {
                return Err(format!(
                    "param[{i}] (c_m): max = {} is below the least capacitance, {} uF/cm^2",
                    param.max,
                    super::params::MIN_CAPACITANCE
                ));
            }
        }
        if p.name == "phi" {
            param.min = param.min.max(0.0);
            param = param.positive();
        }
        params.push(param);
    }
    let c_m = params
        .index("c_m")
        .ok_or("a [[param]] named 'c_m' (membrane capacitance, uF/cm^2) is required")?;
    let phi = match params.index("phi") {
        Some(i) => i,
        None => {
            params.push(
                Param::new(
                    "phi",
                    1.0,
                    "1",
                    "temperature factor multiplying every gate rate",
                    0.0,
                    1e3,
                )
                .positive(),
            );
            params.len() - 1
        }
    };

    let mut gates = Vec::new();
    for (i, g) in spec.gate.into_iter().enumerate() {
        check_name(&g.name).map_err(|e| format!("gate[{i}].name: {e}"))?;
        if g.name == "v" || gates.iter().any(|x: &Gate| x.name == g.name) {
            return Err(format!("gate[{i}].name: '{}' is already used", g.name));
        }
        let kinetics = match (g.alpha, g.beta, g.inf, g.tau) {
            (Some(alpha), Some(beta), None, None) => Kinetics::AlphaBeta { alpha, beta },
            (None, None, Some(inf), Some(tau)) => Kinetics::InfTau { inf, tau },
            _ => {
                return Err(format!(
                    "gate[{i}] ('{}'): give either alpha and beta, or inf and tau",
                    g.name
                ));
            }
        };
        gates.push(Gate {
            name: g.name,
            kinetics,
        });
    }

    let mut currents = Vec::new();
    for (i, c) in spec.current.into_iter().enumerate() {
        let g = params
            .index(&c.g)
            .ok_or_else(|| format!("current[{i}].g: no parameter named '{}'", c.g))?;
        let e = params
            .index(&c.e)
            .ok_or_else(|| format!("current[{i}].e: no parameter named '{}'", c.e))?;
        let factors =
            parse_gate_product(&c.gates, &gates).map_err(|m| format!("current[{i}].gates: {m}"))?;
        currents.push(Current {
            name: c.name,
            g,
            e,
            gates: factors,
            factor: c.factor,
        });
    }
    if currents.is_empty() {
        return Err("at least one [[current]] is required".into());
    }
    let v_search_mv = match spec.v_search_mv {
        Some([lo, hi]) if lo < hi && lo.is_finite() && hi.is_finite() => (lo, hi),
        Some(_) => return Err("v_search_mv: expected [low, high] with low < high".into()),
        None => (-150.0, 150.0),
    };
    let model = ConductanceModel {
        name: spec.name,
        description: spec.description,
        params,
        gates,
        currents,
        c_m,
        phi,
        threshold_mv: spec.threshold_mv.unwrap_or(0.0),
        v_search_mv,
    };
    model.validate().map_err(|e| e.to_string())?;
    Ok(model)
}

fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "'{name}' must be snake_case (a-z, 0-9, _), starting with a letter"
        ))
    }
}

/// Parse `"m^3 h"` (factors separated by spaces or `*`) into (gate index, power) pairs.
fn parse_gate_product(text: &str, gates: &[Gate]) -> Result<Vec<(usize, i32)>, String> {
    text.split(|c: char| c.is_whitespace() || c == '*')
        .filter(|s| !s.is_empty())
        .map(|factor| {
            let (name, power) = match factor.split_once('^') {
                Some((n, p)) => {
                    let p: i32 = p
                        .parse()
                        .map_err(|_| format!("power in '{factor}' is not an integer"))?;
                    if !(1..=8).contains(&p) {
                        return Err(format!("power in '{factor}' must be 1 to 8"));
                    }
                    (n, p)
                }
                None => (factor, 1),
            };
            let gi = gates
                .iter()
                .position(|g| g.name == name)
                .ok_or_else(|| format!("no gate named '{name}'"))?;
            Ok((gi, power))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
name = "leaky"
[[param]]
name = "c_m"
value = 1.0
[[param]]
name = "g_l"
value = 0.1
[[param]]
name = "e_l"
value = -70.0
[[current]]
name = "l"
g = "g_l"
e = "e_l"
"#;

    #[test]
    fn minimal_file_parses_and_adds_phi() {
        let m = parse(MINIMAL, "m.toml").unwrap();
        assert_eq!(m.dim(), 1);
        assert!(m.params.index("phi").is_some());
        let e =
            crate::model::equilibria(&crate::model::Field::Conductance(m.clone()), 0.0).unwrap();
        assert_eq!(e.len(), 1);
        assert!((e[0].state[0] + 70.0).abs() < 1e-9);
    }

    #[test]
    fn errors_name_the_field() {
        let e = parse(&MINIMAL.replace("g = \"g_l\"", "g = \"g_x\""), "m.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("current[0].g") && e.contains("g_x"), "{e}");
        let e = parse(
            &MINIMAL.replace("name = \"c_m\"", "name = \"cap\""),
            "m.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("c_m"), "{e}");
        let e = parse("name = 3", "m.toml").unwrap_err().to_string();
        assert!(e.contains("line 1"), "{e}");
        let e = parse(&format!("{MINIMAL}\n[[gate]]\nname=\"m\"\nalpha={{form=\"exp\", a=1, v0=0, k=0}}\nbeta={{form=\"constant\", a=1}}\n"), "m.toml").unwrap_err().to_string();
        assert!(
            e.contains("gate 'm'") && e.contains("k must not be 0"),
            "{e}"
        );
    }

    #[test]
    fn gate_products_parse() {
        let gates = crate::model::builtin::hh().gates;
        assert_eq!(
            parse_gate_product("m^3 h", &gates).unwrap(),
            vec![(0, 3), (1, 1)]
        );
        assert_eq!(parse_gate_product("n^4", &gates).unwrap(), vec![(2, 4)]);
        assert!(parse_gate_product("q", &gates).is_err());
        assert!(parse_gate_product("m^x", &gates).is_err());
    }

    #[test]
    fn combined_forms_and_current_factors_parse() {
        // tau = 1 + sigmoid, inf = sigmoid^4 (integer p written without a point), and a leak
        // scaled by an instantaneous factor 2 * exp(V/50).
        let text = format!(
            "{MINIMAL}factor = {{ form = \"product\", factors = [{{ form = \"constant\", a = 2 }}, {{ form = \"exp\", a = 1, v0 = 0, k = 50 }}] }}\n\
             [[gate]]\nname = \"q\"\n\
             inf = {{ form = \"power\", p = 4, of = {{ form = \"sigmoid\", a = 1.0, v0 = -40.0, k = 5.0 }} }}\n\
             tau = {{ form = \"sum\", terms = [\n  {{ form = \"constant\", a = 1.0 }},\n  {{ form = \"sigmoid\", a = 3.0, v0 = -50.0, k = -10.0 }},\n] }}\n"
        );
        let m = parse(&text, "m.toml").unwrap();
        let v = -45.0_f64;
        let (inf, tau) = m.gates[0].inf_tau(v);
        let s = |a: f64, v0: f64, k: f64| a / (1.0 + (-(v - v0) / k).exp());
        assert!((inf - s(1.0, -40.0, 5.0).powi(4)).abs() < 1e-15);
        assert!((tau - (1.0 + s(3.0, -50.0, -10.0))).abs() < 1e-15);
        let f = m.currents[0].factor.as_ref().unwrap().eval(v);
        assert!((f - 2.0 * (v / 50.0).exp()).abs() < 1e-15);
        // The factor scales the leak: I = 0.1 * 2 exp(V/50) (V + 70).
        let i = m.ionic_current(&m.params.values(), &[v, inf]);
        assert!((i - 0.1 * f * (v + 70.0)).abs() < 1e-14);
        // A bad constant inside a combination names the current.
        let e = parse(&text.replace("k = 50", "k = 0"), "m.toml")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("current 'l' factor") && e.contains("k must not be 0"),
            "{e}"
        );
        // An unknown form is refused.
        let e = parse(&text.replace("\"sum\"", "\"summ\""), "m.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("summ"), "{e}");
    }
}
