//! The built-in study behind `excitable report`: the full default report of any model, every
//! analysis that applies to it, indexed in one summary.

use super::Study;
use crate::error::Error;
use crate::model::{Field, Model};
use crate::spec::ModelSource;
use std::fmt::Write;

/// A TOML string literal (basic string, escaped).
fn quoted(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// The report study of `source`: a simulation at 10 (current units), rest states at 0, 5 and
/// 10, the gating curves and the V-n plane where the model has them, the bifurcation diagram
/// over -20..250 (optional: a model without equilibria over that range still gets the rest),
/// the maximum rate, a noisy run with its windows and spike statistics (optional: a model that
/// does not fire under the noise has none, and its report says so).
pub fn report_study(source: &ModelSource) -> Result<Study, Error> {
    let model = source.load()?;
    let mut m = String::new();
    match &source.model_file {
        Some(p) => {
            let _ = write!(m, "model-file = {}", quoted(&p.display().to_string()));
        }
        None => {
            let _ = write!(m, "model = {}", quoted(&source.model));
        }
    }
    if !source.set.is_empty() {
        let set: Vec<String> = source.set.iter().map(|s| quoted(s)).collect();
        let _ = write!(m, ", set = [{}]", set.join(", "));
    }
    if let Some(v) = &source.v_var {
        let _ = write!(m, ", v-var = {}", quoted(v));
    }
    let smooth = Field::of(&model).is_ok();
    let conductance = matches!(model, Model::Conductance(_));
    let hh_gates = ["m", "h", "n"]
        .iter()
        .all(|g| model.var_names().iter().any(|v| v == g));
    let mut t = format!(
        "title = {}\nshows = {}\nadds = \"\"\n",
        quoted(&format!("Report of `{}`", model.label())),
        quoted(
            "Every analysis of the toolkit that applies to this model, with its default settings."
        ),
    );
    let mut step = |name: &str, command: &str, about: &str, args: &str, optional: bool| {
        let _ = write!(
            t,
            "\n[[step]]\nname = {}\ncommand = {}\nabout = {}\nargs = {{ {m}{}{args} }}\n{}",
            quoted(name),
            quoted(command),
            quoted(about),
            if args.is_empty() { "" } else { ", " },
            if optional { "optional = true\n" } else { "" }
        );
    };
    step(
        "simulate",
        "simulate",
        "10 uA/cm^2 from rest for 200 ms (BrainPy's first example), RK4.",
        "stim = \"10\", t-max = 200, method = \"rk4\"",
        false,
    );
    if smooth {
        step(
            "rest",
            "rest",
            "Equilibria, eigenvalues and eigenvectors at 0, 5 and 10 uA/cm^2.",
            "current = [0, 5, 10]",
            false,
        );
    }
    if conductance {
        let v = model.resting_state()?[0];
        step(
            "gating",
            "gating",
            "Steady states and time constants of the gates.",
            &format!(
                "v-from = {}, v-to = {}",
                (v - 35.0).round(),
                (v + 125.0).round()
            ),
            false,
        );
    }
    if hh_gates && conductance {
        step(
            "phase_plane",
            "phase-plane",
            "V-n phase plane at 10 uA/cm^2.",
            "current = 10",
            false,
        );
    }
    if smooth {
        step(
            "bifurcation",
            "bifurcation",
            "Bifurcation diagram over the injected current (-20 to 250 uA/cm^2): Hopf points, cycles, folds.",
            "from = -20, to = 250",
            true,
        );
    }
    step(
        "max_rate",
        "max-rate",
        "Steady spike rate from 0 to 200 uA/cm^2.",
        "currents = \"0:200:1\"",
        false,
    );
    step(
        "noise",
        "simulate",
        "1 s under noisy current (mean 8, sd 25, new value every 0.1 ms).",
        "stim = \"noise:8:25:42:0.1\", t-max = 1000, method = \"exp-euler\"",
        false,
    );
    let _ = write!(
        t,
        "\n[[step]]\nname = \"windows\"\ncommand = \"windows\"\nabout = \"Firing and voltage in 0.1, 0.5, 1 and 5 ms windows of the noisy run.\"\nargs = {{ trace = \"{{out}}/noise/trace.parquet\", width = [0.1, 0.5, 1, 5] }}\n"
    );
    let _ = write!(
        t,
        "\n[[step]]\nname = \"stats\"\ncommand = \"stats\"\nabout = \"Spike-train statistics of the noisy run.\"\nargs = {{ spikes = \"{{out}}/noise/spikes.parquet\", t-stop = 1000 }}\noptional = true\n"
    );
    Ok(Study::parse(&t, "(report template)")?)
}
