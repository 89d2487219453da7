//! `excitable windows`: firing and voltage in sliding windows of a recorded trace.

use super::common::finish;
use anyhow::{Result, bail};
use clap::Args;
use excitable::analysis::spikes::detect;
use excitable::analysis::windows::sliding_windows;
use excitable::report::atomic::ensure_dir;
use excitable::report::spike_trains::write_windows;
use excitable::report::table::{column_names, read_f64_columns};
use std::fmt::Write;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct WindowsArgs {
    /// Trace: Parquet with `t_ms` and `v_mv` (uniform sampling); with `neuron`, neuron 0 is used.
    #[arg(long)]
    pub trace: PathBuf,
    /// Spike threshold (mV) for upward crossings in the trace.
    #[arg(long, allow_hyphen_values = true, default_value_t = 0.0)]
    pub threshold: f64,
    /// Window width (ms), repeatable.
    #[arg(long, required = true)]
    pub width: Vec<f64>,
    /// Step between window starts (ms); default: the width (windows tile the trace).
    #[arg(long)]
    pub step: Option<f64>,
    #[arg(long, default_value = "reports/windows")]
    pub out: PathBuf,
}

pub fn run(a: WindowsArgs) -> Result<()> {
    let has_neuron = column_names(&a.trace)?.iter().any(|c| c == "neuron");
    let cols = read_f64_columns(
        &a.trace,
        &if has_neuron {
            vec!["t_ms", "v_mv", "neuron"]
        } else {
            vec!["t_ms", "v_mv"]
        },
    )?;
    let (t, v): (Vec<f64>, Vec<f64>) = if has_neuron {
        cols[0]
            .iter()
            .zip(&cols[1])
            .zip(&cols[2])
            .filter(|(_, n)| **n == 0.0)
            .map(|((t, v), _)| (*t, *v))
            .unzip()
    } else {
        (cols[0].clone(), cols[1].clone())
    };
    if t.len() < 2 {
        bail!("{}: fewer than 2 samples", a.trace.display());
    }
    ensure_dir(&a.out)?;
    let spikes = detect(&t, &v, a.threshold);
    let sets = a
        .width
        .iter()
        .map(|&w| sliding_windows(&t, &v, &spikes, w, a.step.unwrap_or(w)))
        .collect::<Result<Vec<_>, _>>()?;
    let files = write_windows(&a.out, &sets)?;
    let mut md = format!(
        "# Sliding windows over `{}`\n\n{} samples, {} spikes (threshold {} mV).\n\n",
        a.trace.display(),
        t.len(),
        spikes.len(),
        a.threshold
    );
    let _ = writeln!(
        md,
        "| width (ms) | step (ms) | windows | fraction with a spike | mean rate (Hz) | dropped trailing samples |\n|---:|---:|---:|---:|---:|---:|"
    );
    for s in &sets {
        let r = s.rates_hz();
        let _ = writeln!(
            md,
            "| {} | {} | {} | {:.4} | {:.3} | {} |",
            s.width_ms,
            s.step_ms,
            s.windows.len(),
            s.fraction_fired(),
            r.iter().sum::<f64>() / r.len() as f64,
            s.dropped_samples
        );
    }
    finish(&a.out, &md, files)
}
