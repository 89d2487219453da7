//! `excitable gating`: steady states and time constants of every gate over V.

use super::common::ModelArgs;
use anyhow::{Result, bail};
use clap::Args;
use excitable::analysis::gating::gating_curves;
use excitable::report::atomic::ensure_dir;
use excitable::report::rest::write_gating;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct GatingArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Lowest voltage (mV).
    #[arg(long, allow_hyphen_values = true, default_value_t = -100.0)]
    pub v_from: f64,
    /// Highest voltage (mV).
    #[arg(long, allow_hyphen_values = true, default_value_t = 60.0)]
    pub v_to: f64,
    /// Voltage step (mV).
    #[arg(long, default_value_t = 0.01)]
    pub v_step: f64,
    #[arg(long, default_value = "reports/gating")]
    pub out: PathBuf,
}

pub fn run(a: GatingArgs) -> Result<()> {
    let model = a.model.load()?;
    let smooth = model.smooth()?;
    if !(a.v_from.is_finite() && a.v_to.is_finite() && a.v_to > a.v_from) {
        bail!(
            "--v-from ({}) must be below --v-to ({}), both finite",
            a.v_from,
            a.v_to
        );
    }
    if !(a.v_step > 0.0 && (a.v_to - a.v_from) / a.v_step <= 1e7) {
        bail!(
            "--v-step ({}) must be > 0 and give at most 10^7 points",
            a.v_step
        );
    }
    ensure_dir(&a.out)?;
    let points = ((a.v_to - a.v_from) / a.v_step + 1e-9).round() as usize + 1;
    let curves = gating_curves(smooth, a.v_from, a.v_to, points);
    for f in write_gating(&a.out, model.name(), &curves)? {
        println!("  wrote {}", f.display());
    }
    Ok(())
}
