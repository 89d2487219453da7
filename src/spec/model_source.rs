//! Which model a command runs on: a built-in model or a model file, with parameter overrides.

use crate::error::{Error, SpecError};
use crate::model::Model;
use crate::model::params::parse_assignments;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// A model by name or file, and the parameters to change.
#[derive(Debug, Clone, PartialEq, clap::Args, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct ModelSource {
    /// Built-in model: hh, hh-1952, hh-ca, lif (see `excitable models`).
    #[arg(long, default_value = "hh", conflicts_with = "model_file")]
    pub model: String,
    /// A model file instead of a built-in model: TOML (conductance-based), XPPAUT .ode or NeuroML2
    /// .nml (a single-compartment cell; `--set temperature=…` in degC sets its q10 temperature).
    #[arg(long, value_name = "FILE")]
    pub model_file: Option<PathBuf>,
    /// Override a parameter: `--set g_l=0.03` (repeatable, or comma-separated).
    #[arg(long = "set", value_name = "NAME=VALUE")]
    #[serde(deserialize_with = "super::values::one_or_many")]
    pub set: Vec<String>,
    /// For an .ode file: the voltage-like variable (spikes, plots); default the first.
    #[arg(long, value_name = "NAME")]
    pub v_var: Option<String>,
}

impl Default for ModelSource {
    fn default() -> Self {
        super::defaults()
    }
}

impl ModelSource {
    /// The command-line flags that choose this model (`--model-file F --set a=1`), for the
    /// line a report names as the one that makes it again. Words with spaces are quoted.
    pub fn as_flags(&self) -> String {
        let word = |w: &str| {
            if w.contains(char::is_whitespace) || w.is_empty() {
                format!("'{w}'")
            } else {
                w.to_string()
            }
        };
        let mut flags = match &self.model_file {
            Some(p) => format!("--model-file {}", word(&p.display().to_string())),
            None => format!("--model {}", word(&self.model)),
        };
        for s in &self.set {
            flags.push_str(&format!(" --set {}", word(s)));
        }
        if let Some(v) = &self.v_var {
            flags.push_str(&format!(" --v-var {}", word(v)));
        }
        flags
    }

    /// A built-in model by name, unchanged.
    pub fn builtin(name: &str) -> ModelSource {
        ModelSource {
            model: name.into(),
            ..Default::default()
        }
    }

    /// The model with every override applied and checked.
    pub fn load(&self) -> Result<Model, Error> {
        if let (Some(v), None) = (&self.v_var, &self.model_file) {
            return Err(SpecError::new("v_var", v, "only with an .ode model_file").into());
        }
        // A NeuroML2 file's temperature is read when it loads (its q10 factors are folded
        // into the rates then): `--set temperature=…` goes to the loader.
        let nml = self.model_file.as_ref().is_some_and(|p| {
            p.extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("nml") || e.eq_ignore_ascii_case("xml"))
        });
        let mut sets = Vec::new();
        let mut temperature = None;
        let mut seen: Vec<(String, f64)> = Vec::new();
        for text in &self.set {
            for (name, value) in parse_assignments(text)? {
                // Set twice, one value would silently win: refused, naming both.
                if let Some((_, first)) = seen.iter().find(|(n, _)| *n == name) {
                    return Err(SpecError::new(
                        "set",
                        format!("{name}={first} and {name}={value}"),
                        "each parameter at most once",
                    )
                    .into());
                }
                seen.push((name.clone(), value));
                if nml && name == "temperature" {
                    temperature = Some(value);
                } else {
                    sets.push((name, value));
                }
            }
        }
        let mut model = match &self.model_file {
            Some(path) => Model::from_file_with(path, self.v_var.as_deref(), temperature)?,
            None => Model::builtin(&self.model)?,
        };
        for (name, value) in sets {
            model.set(&name, value)?;
        }
        model.check_relations()?;
        Ok(model)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_name_the_model_its_overrides_and_quote_spaces() {
        let s = ModelSource {
            model_file: Some("my models/ml.ode".into()),
            set: vec!["gca=4.4".into()],
            v_var: Some("v".into()),
            ..Default::default()
        };
        assert_eq!(
            s.as_flags(),
            "--model-file 'my models/ml.ode' --set gca=4.4 --v-var v"
        );
        assert_eq!(ModelSource::builtin("hh").as_flags(), "--model hh");
    }

    #[test]
    fn a_parameter_set_twice_is_refused_naming_both_values() {
        for set in [vec!["g_na=1,g_na=2"], vec!["g_na=1", "g_k=3,g_na=2"]] {
            let s = ModelSource {
                set: set.iter().map(|x| x.to_string()).collect(),
                ..ModelSource::builtin("hh")
            };
            let e = s.load().unwrap_err().to_string();
            assert!(
                e.contains("g_na=1 and g_na=2") && e.contains("each parameter at most once"),
                "{e}"
            );
        }
    }
}
