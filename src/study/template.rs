//! The built-in study behind `excitable report`: the full default report of any model, every
//! analysis that applies to it, indexed in one summary.

use super::Study;
use crate::error::{Error, SpecError};
use crate::model::{Field, Model};
use crate::report::staging::MAX_NAME_BYTES;
use crate::spec::ModelSource;
use std::fmt::Write;
use std::path::PathBuf;

/// A TOML string literal (basic string, escaped).
fn quoted(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// The scales a report runs a model at. A conductance-based model (built-in or TOML) and LIF
/// are in uA/cm^2 and ms, so they get the scales of HH's studies. An `.ode` file has its own
/// units, so nothing of HH's applies: its current range is its AUTO options' `parmin..parmax`
/// (none without them: then no diagram and no rate scan, which need a range), its runs last
/// its `total` at its `dt` (XPPAUT's defaults 20 and 0.05 without them), and the currents of
/// its runs sit in the middle of its range (0, the file as written, without one).
struct Scales {
    /// The current of the simulation and the phase plane.
    current: f64,
    /// Currents of the rest states.
    rest: Vec<f64>,
    /// The range of the diagram and the rate scan, if known.
    range: Option<(f64, f64)>,
    /// Duration and step of the simulation, if not the command's defaults.
    t_max: f64,
    dt: Option<f64>,
    /// The noisy run: mean, sd, duration, method.
    noise: (f64, f64, f64, &'static str),
    /// Window widths of the noisy run.
    widths: [f64; 4],
}

impl Scales {
    fn of(model: &Model) -> Scales {
        let Model::Ode(m) = model else {
            return Scales {
                current: 10.0,
                rest: vec![0.0, 5.0, 10.0],
                range: Some((-20.0, 250.0)),
                t_max: 200.0,
                dt: None,
                noise: (8.0, 25.0, 1000.0, "exp-euler"),
                widths: [0.1, 0.5, 1.0, 5.0],
            };
        };
        let option = |name: &str| m.option(name);
        let range = match (option("parmin"), option("parmax")) {
            (Some(a), Some(b)) if b > a && m.current_param().is_some() => Some((a, b)),
            _ => None,
        };
        let t_max = option("total").filter(|t| *t > 0.0).unwrap_or(20.0);
        let dt = option("dt")
            .filter(|d| *d > 0.0 && *d < t_max)
            .unwrap_or(0.05);
        let (current, rest) = match range {
            Some((a, b)) => (0.5 * (a + b), vec![a, 0.5 * (a + b), b]),
            None => (0.0, vec![0.0]),
        };
        let span = range.map_or(0.0, |(a, b)| b - a);
        Scales {
            current,
            rest,
            range,
            t_max,
            dt: Some(dt),
            noise: (current, 0.25 * span, 10.0 * t_max, "rk4"),
            widths: [dt, 5.0 * dt, 10.0 * dt, 50.0 * dt],
        }
    }
}

/// The folder a report of `source` goes to when none is given: `reports/MODEL` (a built-in
/// model's name, or the model file's stem), and with overrides, `reports/MODEL+NAME=VALUE…`
/// (`reports/hh+g_na=100+g_k=30`), so that a report of a changed model never replaces the
/// model's own under a name that does not say so. Characters other than letters, digits and
/// `._=-` in an override become `_`. Overrides too many to name a folder
/// ([`MAX_NAME_BYTES`]) are refused, not cut short, so that two different sets cannot share a
/// folder. The command line and the Python package both take it from here.
pub fn report_folder(source: &ModelSource) -> Result<PathBuf, Error> {
    let mut name = match &source.model_file {
        Some(p) => p
            .file_stem()
            .map_or("model".into(), |s| s.to_string_lossy().into_owned()),
        None => source.model.clone(),
    };
    let model_only = name.len();
    for set in source.set.iter().flat_map(|s| s.split(',')) {
        let set: String = (set.trim().chars())
            .map(|c| match c {
                'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '_' | '=' | '-' => c,
                _ => '_',
            })
            .collect();
        if !set.is_empty() {
            name.push('+');
            name.push_str(&set);
        }
    }
    // A long model name alone is the staging's to refuse, as for any folder given.
    if name.len() > MAX_NAME_BYTES && name.len() > model_only {
        let given = source.set.join(",");
        return Err(SpecError::new(
            "set",
            format!("{}…", given.chars().take(40).collect::<String>()),
            format!(
                "overrides that name the default folder in at most {MAX_NAME_BYTES} bytes (reports/{}… is {} bytes): give --out",
                name.chars().take(40).collect::<String>(),
                name.len()
            ),
        )
        .into());
    }
    Ok(PathBuf::from("reports").join(name))
}

/// The report study of `source`: a simulation, rest states, the gating curves where the model
/// has gates, the phase plane of any model of two or more variables, the bifurcation diagram
/// (optional: a model without equilibria over the range still gets the rest), the maximum rate,
/// a noisy run with its windows and spike statistics (optional; a model that does not fire
/// under the noise gets statistics of 0 spikes); at the model's scales (`Scales`).
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
    let sc = Scales::of(&model);
    // An `.ode` file without a current range gets no diagram, no rate scan and a noise of
    // zero: said in the index, not left for the reader to miss.
    let adds = match (&model, sc.range) {
        (Model::Ode(m), None) => format!(
            "No bifurcation diagram and no maximum rate, and the noisy run has no noise: they need a current range, and `{}` gives none ({}). Run `excitable bifurcation` and `excitable max-rate` with a range of your own.",
            m.name,
            if m.current_param().is_none() {
                "it has no current parameter (i_ext, iapp or i)"
            } else {
                "no `@ parmin` and `@ parmax` options"
            }
        ),
        _ => String::new(),
    };
    let mut t = format!(
        "title = {}\nshows = {}\nadds = {}\n",
        quoted(&format!("Report of `{}`", model.label())),
        quoted(
            "Every analysis of the toolkit that applies to this model, with its default settings."
        ),
        quoted(&adds),
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
    let u = model.units();
    let amount = |x: f64, unit: &str| crate::model::Quantity(x, unit).to_string();
    let (cur, time) = (|x: f64| amount(x, u.current), |x: f64| amount(x, u.time));
    let dt_arg = sc.dt.map_or(String::new(), |d| format!(", dt = {d}"));
    step(
        "simulate",
        "simulate",
        &format!(
            "{} from the model's start for {}, RK4.",
            cur(sc.current),
            time(sc.t_max)
        ),
        &format!(
            "stim = \"{}\", t-max = {}{dt_arg}, method = \"rk4\"",
            sc.current, sc.t_max
        ),
        false,
    );
    if smooth {
        let list: Vec<String> = sc.rest.iter().map(|x| x.to_string()).collect();
        let words: Vec<String> = sc.rest.iter().map(|x| cur(*x)).collect();
        step(
            "rest",
            "rest",
            &format!(
                "Equilibria, eigenvalues and eigenvectors at {}.",
                words.join(", ")
            ),
            &format!("current = [{}]", list.join(", ")),
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
    if model.var_names().len() >= 2 {
        step(
            "phase_plane",
            "phase-plane",
            &format!("Phase plane at {}.", cur(sc.current)),
            &format!(
                "current = {}, t-max = {}",
                sc.current,
                sc.t_max.max(10.0 * sc.dt.unwrap_or(0.01))
            ),
            false,
        );
    }
    if let Some((lo, hi)) = sc.range {
        if smooth {
            step(
                "bifurcation",
                "bifurcation",
                &format!(
                    "Bifurcation diagram over the injected current ({} to {}): Hopf points, cycles, folds.",
                    cur(lo),
                    cur(hi)
                ),
                &format!("from = {lo}, to = {hi}"),
                true,
            );
        }
        let (a, b) = (lo.max(0.0).min(hi), hi);
        step(
            "max_rate",
            "max-rate",
            &format!("Steady spike rate from {} to {}.", cur(a), cur(b)),
            &format!("currents = \"{a}:{b}:{}\"", (b - a) / 200.0),
            false,
        );
    }
    let (mean, sd, t_noise, method) = sc.noise;
    step(
        "noise",
        "simulate",
        &format!(
            "{} under noisy current (mean {}, sd {}).",
            time(t_noise),
            cur(mean),
            cur(sd)
        ),
        &format!(
            "stim = \"noise:{mean}:{sd}:42:{}\", t-max = {t_noise}{dt_arg}, method = \"{method}\"",
            sc.dt.unwrap_or(0.1)
        ),
        false,
    );
    let widths: Vec<String> = sc.widths.iter().map(|w| w.to_string()).collect();
    let _ = write!(
        t,
        "\n[[step]]\nname = \"windows\"\ncommand = \"windows\"\nabout = \"Firing and voltage in windows of the noisy run.\"\nargs = {{ trace = \"{{out}}/noise/trace.parquet\", spikes = \"{{out}}/noise/spikes.parquet\", width = [{}] }}\n",
        widths.join(", ")
    );
    let _ = write!(
        t,
        "\n[[step]]\nname = \"stats\"\ncommand = \"stats\"\nabout = \"Spike-train statistics of the noisy run.\"\nargs = {{ spikes = \"{{out}}/noise/spikes.parquet\", t-stop = {t_noise} }}\noptional = true\n"
    );
    let mut study = Study::parse(&t, "(report template)")?;
    study.made_by = format!("report {}", source.as_flags());
    Ok(study)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_folder_names_the_model_and_its_overrides() {
        let source = |model: &str, file: Option<&str>, set: &[&str]| ModelSource {
            model: model.into(),
            model_file: file.map(PathBuf::from),
            set: set.iter().map(|s| s.to_string()).collect(),
            v_var: None,
        };
        let folder = |m: ModelSource| report_folder(&m).unwrap();
        assert_eq!(folder(source("hh", None, &[])), PathBuf::from("reports/hh"));
        assert_eq!(
            folder(source("hh", None, &["g_na=100", "g_k=30,g_l=0.3"])),
            PathBuf::from("reports/hh+g_na=100+g_k=30+g_l=0.3")
        );
        assert_eq!(
            folder(source("hh", Some("models/ml.ode"), &["i / 2=1e-3", ""])),
            PathBuf::from("reports/ml+i___2=1e-3")
        );
        // A long file name alone is left to the staging's own refusal (as any folder given).
        let long = format!("models/{}.ode", "m".repeat(250));
        assert!(report_folder(&source("hh", Some(&long), &[])).is_ok());
        let many: Vec<String> = (0..40).map(|k| format!("g_{k}=1")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let e = report_folder(&source("hh", None, &many))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("allowed overrides that name the default folder in at most 200 bytes")
                && e.ends_with("give --out"),
            "{e}"
        );
    }
}
