//! Arguments shared by several subcommands: choosing a model and overriding its parameters.

use anyhow::{Context, Result};
use clap::Args;
use excitable::model::{Model, params::parse_assignments};
use excitable::report::atomic::write_text;
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

/// Parse a list of numbers: `1,2,3`, or `A:B:STEP` (inclusive of B up to rounding).
pub fn parse_number_list(text: &str) -> Result<Vec<f64>> {
    let bad = || anyhow::anyhow!("'{text}': expected numbers separated by commas, or FROM:TO:STEP");
    if text.contains(':') {
        let parts: Vec<f64> = text
            .split(':')
            .map(|s| s.trim().parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|_| bad())?;
        let [a, b, step] = parts[..] else {
            return Err(bad());
        };
        if !(a.is_finite() && b.is_finite() && step.is_finite() && step > 0.0 && b >= a) {
            anyhow::bail!("'{text}': need FROM <= TO and STEP > 0, all finite");
        }
        let n = ((b - a) / step + 1e-9).floor() as usize;
        if n > 10_000_000 {
            anyhow::bail!("'{text}': more than 10^7 values");
        }
        Ok((0..=n).map(|k| a + k as f64 * step).collect())
    } else {
        let v: Vec<f64> = text
            .split(',')
            .map(|s| s.trim().parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|_| bad())?;
        if v.iter().any(|x| !x.is_finite()) {
            anyhow::bail!("'{text}': values must be finite");
        }
        Ok(v)
    }
}

/// Print a command's summary, write it as `OUT/summary.md`, and list every file written.
pub fn finish(out: &Path, summary: &str, mut files: Vec<PathBuf>) -> Result<()> {
    print!("{summary}");
    let path = out.join("summary.md");
    write_text(&path, summary)?;
    files.push(path);
    for f in files {
        println!("  wrote {}", f.display());
    }
    Ok(())
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
