//! Arguments shared by several subcommands: choosing a model and overriding its parameters.

use anyhow::{Context, Result};
use clap::Args;
use excitable::model::{Model, params::parse_assignments};
use std::path::{Path, PathBuf};

/// Which model, and which parameters to change.
#[derive(Debug, Clone, Args)]
pub struct ModelArgs {
    /// Built-in model: hh, hh-1952, hh-ca, lif (see `excitable models`).
    #[arg(long, default_value = "hh", conflicts_with = "model_file")]
    pub model: String,
    /// A model file instead of a built-in model: TOML (conductance-based) or XPPAUT .ode.
    #[arg(long, value_name = "FILE")]
    pub model_file: Option<PathBuf>,
    /// Override a parameter: `--set g_l=0.03` (repeatable, or comma-separated).
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    /// For an .ode file: the voltage-like variable (spikes, plots); default the first.
    #[arg(long, value_name = "NAME")]
    pub v_var: Option<String>,
}

impl ModelArgs {
    /// The model with every override applied and checked.
    pub fn load(&self) -> Result<Model> {
        if let (Some(v), None) = (&self.v_var, &self.model_file) {
            anyhow::bail!("--v-var {v} applies to an .ode --model-file only");
        }
        let mut model = match &self.model_file {
            Some(path) => Model::from_file_with_v(path, self.v_var.as_deref())?,
            None => Model::builtin(&self.model)?,
        };
        for text in &self.set {
            for (name, value) in parse_assignments(text)? {
                model
                    .set(&name, value)
                    .with_context(|| format!("--set {text}"))?;
            }
        }
        Ok(model)
    }
}

/// The PNG figures in `dir` (names, sorted; temporary files skipped).
pub fn pngs_in(dir: &Path) -> Vec<String> {
    let mut pngs: Vec<String> = std::fs::read_dir(dir)
        .map(|r| {
            r.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|f| f.ends_with(".png") && !f.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    pngs.sort();
    pngs
}
