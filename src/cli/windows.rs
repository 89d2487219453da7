//! `excitable windows`: firing and voltage in sliding windows of a recorded trace, or of a run
//! simulated first (`--model … --stim …`).
//!
//! The trace is read in slices and every window is written out as soon as it closes, so a
//! trace of any length runs in flat memory: the window rows go to `windows.parquet` in chunks
//! of [`CHUNK_ROWS`] (one width per chunk; rows of one width stay in time order), and the
//! summary and histograms come from running tallies.

use super::common::{ModelArgs, finish};
use anyhow::{Context, Result, bail};
use clap::Args;
use excitable::analysis::windows::{WindowStream, WindowTally};
use excitable::model::InitialState;
use excitable::report::atomic::ensure_dir;
use excitable::report::spike_trains::{window_rows, write_window_summary};
use excitable::report::table::{ChunkedTable, column_names, for_each_slice};
use excitable::simulate::{self, EulerOrder, Method, Record, Settings, Tolerances};
use excitable::stimulus::Stimulus;
use std::fmt::Write;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct WindowsArgs {
    /// Trace: Parquet with `t_ms` and `v_mv` (uniform sampling); with `neuron`, neuron 0 is used.
    #[arg(long, required_unless_present = "stim", conflicts_with = "stim")]
    pub trace: Option<PathBuf>,
    /// Simulate first: the model (`--model`, `--set`) under these stimuli (as `simulate`).
    #[arg(long, allow_hyphen_values = true)]
    pub stim: Vec<String>,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Run length when simulating (ms).
    #[arg(long, default_value_t = 500.0)]
    pub t_max: f64,
    /// Time step when simulating (ms): also the trace's sampling interval.
    #[arg(long, default_value_t = 0.01)]
    pub dt: f64,
    /// Integration method when simulating (euler, exp-euler, rk4).
    #[arg(long, default_value = "rk4")]
    pub method: String,
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

/// Window rows buffered per width before they are written as one chunk.
const CHUNK_ROWS: usize = 1 << 20;

/// The windows of every width over one trace, written out as they close.
struct Windows {
    widths: Vec<f64>,
    step: Option<f64>,
    threshold: f64,
    streams: Option<Vec<WindowStream>>,
    /// The first two sample times (for the sampling interval).
    head: Vec<f64>,
    pending: Vec<Vec<excitable::analysis::windows::Window>>,
    table: ChunkedTable,
    samples: usize,
}

impl Windows {
    fn push(&mut self, t: &[f64], v: &[f64]) -> Result<()> {
        if self.streams.is_none() {
            self.head.extend(t.iter().take(2 - self.head.len().min(2)));
            if self.head.len() == 2 {
                let dt = self.head[1] - self.head[0];
                let s = self
                    .widths
                    .iter()
                    .map(|&w| WindowStream::new(dt, w, self.step.unwrap_or(w), self.threshold))
                    .collect::<Result<Vec<_>, _>>()?;
                self.pending = vec![vec![]; s.len()];
                self.streams = Some(s);
            }
        }
        if let Some(ss) = self.streams.as_mut() {
            for (k, s) in ss.iter_mut().enumerate() {
                s.push(t, v);
                self.pending[k].extend(s.drain());
                if self.pending[k].len() >= CHUNK_ROWS {
                    let rows = std::mem::take(&mut self.pending[k]);
                    self.table.write(&window_rows(s.width_ms(), &rows))?;
                }
            }
        }
        self.samples += t.len();
        Ok(())
    }

    /// Close every window set; returns the tallies, spikes and the table's path.
    fn finish(mut self) -> Result<(Vec<WindowTally>, usize, PathBuf, usize)> {
        let Some(streams) = self.streams.take() else {
            bail!("the trace has fewer than 2 samples")
        };
        let n_spikes = streams.first().map_or(0, |s| s.n_spikes);
        let mut tallies = vec![];
        for (k, s) in streams.into_iter().enumerate() {
            let (rest, tally) = s.finish();
            if tally.n_windows == 0 {
                bail!(
                    "window width {} ms is longer than the trace ({} samples)",
                    tally.width_ms,
                    self.samples
                );
            }
            let mut rows = std::mem::take(&mut self.pending[k]);
            rows.extend(rest.windows);
            if !rows.is_empty() {
                self.table.write(&window_rows(tally.width_ms, &rows))?;
            }
            tallies.push(tally);
        }
        let samples = self.samples;
        let (path, _) = self.table.finish()?;
        Ok((tallies, n_spikes, path, samples))
    }
}

pub fn run(a: WindowsArgs) -> Result<()> {
    ensure_dir(&a.out)?;
    let mut w = Windows {
        widths: a.width.clone(),
        step: a.step,
        threshold: a.threshold,
        streams: None,
        head: vec![],
        pending: vec![],
        table: ChunkedTable::create(&a.out, "windows"),
        samples: 0,
    };
    let source = match &a.trace {
        Some(trace) => {
            let has_neuron = column_names(trace)?.iter().any(|c| c == "neuron");
            let names: Vec<&str> = if has_neuron {
                vec!["t_ms", "v_mv", "neuron"]
            } else {
                vec!["t_ms", "v_mv"]
            };
            let mut failed = None;
            for_each_slice(trace, &names, SLICE_ROWS, |cols| {
                let r = if has_neuron {
                    let (t, v): (Vec<f64>, Vec<f64>) = cols[0]
                        .iter()
                        .zip(&cols[1])
                        .zip(&cols[2])
                        .filter(|(_, n)| **n == 0.0)
                        .map(|((t, v), _)| (*t, *v))
                        .unzip();
                    w.push(&t, &v)
                } else {
                    w.push(&cols[0], &cols[1])
                };
                if let Err(e) = r {
                    failed.get_or_insert(e);
                }
                Ok(())
            })?;
            if let Some(e) = failed {
                return Err(e);
            }
            format!("`{}`", trace.display())
        }
        None => {
            let model = a.model.load()?;
            let stim = Stimulus::parse_all(&a.stim)?;
            let method = Method::parse(
                &a.method,
                EulerOrder::Simultaneous,
                Tolerances {
                    rtol: 1e-8,
                    atol: 1e-10,
                },
            )
            .map_err(anyhow::Error::msg)
            .context("--method")?;
            let s = Settings {
                t_max: a.t_max,
                dt: a.dt,
                method,
                record: Record::Full,
                threshold_mv: a.threshold,
            };
            let y0 = model.initial_state(&InitialState::Rest)?;
            let run = simulate::run(&model, &stim, &y0, &s).context("simulation")?;
            let (t, v) = (&run.trace.t_ms, run.trace.v());
            for (tc, vc) in t.chunks(SLICE_ROWS).zip(v.chunks(SLICE_ROWS)) {
                w.push(tc, vc)?;
            }
            format!(
                "a {} ms run of `{}` ({}, dt {} ms, stimulus {})",
                a.t_max,
                model.name(),
                a.method,
                a.dt,
                a.stim.join(" + ")
            )
        }
    };
    let (tallies, n_spikes, table, samples) = w.finish()?;
    let mut files = vec![table];
    files.extend(write_window_summary(&a.out, &tallies)?);
    let mut md = format!(
        "# Sliding windows over {source}\n\n{samples} samples, {n_spikes} spikes (threshold {} mV), streamed in slices of {SLICE_ROWS} samples.\n\n",
        a.threshold
    );
    let _ = writeln!(
        md,
        "| width (ms) | step (ms) | windows | fraction with a spike | mean rate (Hz) | dropped trailing samples |\n|---:|---:|---:|---:|---:|---:|"
    );
    for s in &tallies {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {:.4} | {:.3} | {} |",
            s.width_ms,
            s.step_ms,
            s.n_windows,
            s.fraction_fired(),
            s.rate_mean_std().0,
            s.dropped_samples
        );
    }
    finish(&a.out, &md, files)
}
