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
    /// A model file instead of a built-in model: TOML (conductance-based) or XPPAUT .ode.
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
        let mut model = match &self.model_file {
            Some(path) => Model::from_file_with_v(path, self.v_var.as_deref())?,
            None => Model::builtin(&self.model)?,
        };
        for text in &self.set {
            for (name, value) in parse_assignments(text)? {
                model.set(&name, value)?;
            }
        }
        Ok(model)
    }
}
