//! `excitable windows`: firing and voltage in sliding windows of a recorded trace.

use super::common::finish;
use anyhow::{Result, bail};
use clap::Args;
use excitable::analysis::windows::WindowStream;
use excitable::report::atomic::ensure_dir;
use excitable::report::spike_trains::write_windows;
use excitable::report::table::{column_names, for_each_slice};
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

/// Rows read per slice of the trace file.
const SLICE_ROWS: usize = 1 << 20;

pub fn run(a: WindowsArgs) -> Result<()> {
    let has_neuron = column_names(&a.trace)?.iter().any(|c| c == "neuron");
    let names: Vec<&str> = if has_neuron {
        vec!["t_ms", "v_mv", "neuron"]
    } else {
        vec!["t_ms", "v_mv"]
    };
    // The sampling interval, from the first two samples of neuron 0.
    let mut head: Vec<f64> = Vec::new();
    let mut streams: Option<Vec<WindowStream>> = None;
    let mut samples = 0usize;
    let mut setup_err = None;
    for_each_slice(&a.trace, &names, SLICE_ROWS, |cols| {
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
        if streams.is_none() {
            head.extend(t.iter().take(2 - head.len().min(2)));
            if head.len() == 2 {
                let dt = head[1] - head[0];
                match a
                    .width
                    .iter()
                    .map(|&w| WindowStream::new(dt, w, a.step.unwrap_or(w), a.threshold))
                    .collect::<Result<Vec<_>, _>>()
                {
                    Ok(s) => streams = Some(s),
                    Err(e) => setup_err = Some(e),
                }
            }
        }
        if let Some(ss) = streams.as_mut() {
            ss.iter_mut().for_each(|s| s.push(&t, &v));
        }
        samples += t.len();
        Ok(())
    })?;
    if let Some(e) = setup_err {
        return Err(e.into());
    }
    let Some(streams) = streams else {
        bail!("{}: fewer than 2 samples", a.trace.display())
    };
    ensure_dir(&a.out)?;
    let n_spikes = streams.first().map_or(0, |s| s.n_spikes);
    let sets: Vec<_> = streams.into_iter().map(|s| s.finish()).collect();
    if let Some(s) = sets.iter().find(|s| s.windows.is_empty()) {
        bail!(
            "window width {} ms is longer than the trace ({samples} samples)",
            s.width_ms
        );
    }
    let files = write_windows(&a.out, &sets)?;
    let mut md = format!(
        "# Sliding windows over `{}`\n\n{samples} samples, {n_spikes} spikes (threshold {} mV), read in slices of {SLICE_ROWS} rows.\n\n",
        a.trace.display(),
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
