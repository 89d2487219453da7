//! Report of a `simulate` run: `trace.parquet`, `spikes.parquet`, `trace.png`, `summary.md`.

use super::atomic::{ensure_dir, write_text};
use super::table::Table;
use super::trace_figure::draw_trace;
use crate::error::ReportError;
use crate::simulate::{Run, Trace};
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// Everything the summary says about how the run was made.
#[derive(Debug, Clone, Default)]
pub struct RunDescription {
    pub model: String,
    /// `name = value unit` lines for parameters that differ from the defaults.
    pub overrides: Vec<String>,
    pub stimulus: String,
    pub method: String,
    pub dt_ms: f64,
    pub t_max_ms: f64,
    pub initial_state: String,
    pub threshold_mv: f64,
    /// Per-neuron bias currents (uA/cm^2).
    pub bias: Vec<f64>,
    pub wall_s: f64,
    /// Title of the figure.
    pub title: String,
}

/// The trace of all neurons in long form: `neuron, t_ms, v_mv, <gates…>, i_ua_cm2`.
pub fn trace_table(runs: &[Run]) -> Table {
    let Some(first) = runs.iter().find(|r| !r.trace.is_empty()) else {
        return Table::new("trace")
            .u32("neuron", vec![])
            .f64("t_ms", vec![])
            .f64("v_mv", vec![])
            .f64("i_ua_cm2", vec![]);
    };
    let names = &first.trace.names;
    let cat = |f: &dyn Fn(&Trace) -> &[f64]| {
        runs.iter()
            .flat_map(|r| f(&r.trace).iter().copied())
            .collect::<Vec<f64>>()
    };
    let neuron = runs
        .iter()
        .enumerate()
        .flat_map(|(k, r)| std::iter::repeat_n(k as u32, r.trace.len()))
        .collect();
    let mut t = Table::new("trace")
        .u32("neuron", neuron)
        .f64("t_ms", cat(&|tr| &tr.t_ms))
        .f64("v_mv", cat(&|tr| tr.v()));
    for (j, name) in names.iter().enumerate().skip(1) {
        t = t.f64(name, cat(&|tr| &tr.vars[j]));
    }
    t.f64("i_ua_cm2", cat(&|tr| &tr.i_ua_cm2))
}

/// Spike times of all neurons: `neuron, t_ms`.
pub fn spikes_table(runs: &[Run]) -> Table {
    let neuron = runs
        .iter()
        .enumerate()
        .flat_map(|(k, r)| std::iter::repeat_n(k as u32, r.spikes_ms.len()))
        .collect();
    let t = runs
        .iter()
        .flat_map(|r| r.spikes_ms.iter().copied())
        .collect();
    Table::new("spikes").u32("neuron", neuron).f64("t_ms", t)
}

/// Firing summary of one neuron's spike train over a run of `t_max` ms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FiringSummary {
    pub n_spikes: usize,
    /// Spikes per second over the whole run (Hz).
    pub mean_rate_hz: f64,
    pub first_spike_ms: Option<f64>,
    /// Mean interspike interval (ms), when there are two spikes or more.
    pub isi_mean_ms: Option<f64>,
}

impl FiringSummary {
    pub fn of(spikes: &[f64], t_max: f64) -> Self {
        let isi_mean_ms = (spikes.len() >= 2)
            .then(|| (spikes[spikes.len() - 1] - spikes[0]) / (spikes.len() - 1) as f64);
        FiringSummary {
            n_spikes: spikes.len(),
            mean_rate_hz: spikes.len() as f64 / t_max * 1000.0,
            first_spike_ms: spikes.first().copied(),
            isi_mean_ms,
        }
    }
}

/// Write the report of a simulation into `dir`; returns the files written.
pub fn write_simulation_report(
    dir: &Path,
    runs: &[Run],
    d: &RunDescription,
) -> Result<Vec<PathBuf>, ReportError> {
    ensure_dir(dir)?;
    let mut files = Vec::new();
    let recorded = runs.iter().any(|r| !r.trace.is_empty());
    if recorded {
        files.push(trace_table(runs).write_parquet(dir)?);
    }
    files.push(spikes_table(runs).write_parquet(dir)?);
    if recorded {
        let png = dir.join("trace.png");
        let traces: Vec<&Trace> = runs.iter().map(|r| &r.trace).collect();
        draw_trace(&png, &d.title, &traces)?;
        files.push(png);
    }
    let summary = dir.join("summary.md");
    write_text(&summary, &summary_text(runs, d, recorded))?;
    files.push(summary);
    Ok(files)
}

fn fmt_opt(x: Option<f64>, digits: usize) -> String {
    x.map_or("–".into(), |v| format!("{v:.digits$}"))
}

fn summary_text(runs: &[Run], d: &RunDescription, recorded: bool) -> String {
    let mut s = String::new();
    let steps: u64 = runs.iter().map(|r| r.steps).sum();
    let _ = writeln!(s, "# Simulation: {}\n", d.title);
    let _ = writeln!(s, "| setting | value |\n|---|---|");
    let _ = writeln!(s, "| model | `{}` |", d.model);
    if !d.overrides.is_empty() {
        let _ = writeln!(s, "| parameters changed | {} |", d.overrides.join(", "));
    }
    let _ = writeln!(s, "| stimulus | `{}` (uA/cm^2, ms) |", d.stimulus);
    let _ = writeln!(s, "| method | {} |", d.method);
    let _ = writeln!(s, "| dt, t_max | {} ms, {} ms |", d.dt_ms, d.t_max_ms);
    let _ = writeln!(s, "| initial state | {} |", d.initial_state);
    let _ = writeln!(
        s,
        "| spike threshold | {} mV (upward crossings, interpolated times) |",
        d.threshold_mv
    );
    let _ = writeln!(s, "| neurons | {} |", runs.len());
    let rate = if d.wall_s > 0.0 {
        steps as f64 / d.wall_s
    } else {
        f64::NAN
    };
    let _ = writeln!(
        s,
        "| wall time | {:.3} s ({:.3e} neuron-steps/s) |\n",
        d.wall_s, rate
    );
    let _ = writeln!(s, "## Firing\n");
    let _ = writeln!(
        s,
        "| neuron | bias (uA/cm^2) | spikes | mean rate (Hz) | first spike (ms) | mean ISI (ms) |"
    );
    let _ = writeln!(s, "|---:|---:|---:|---:|---:|---:|");
    for (k, r) in runs.iter().enumerate().take(50) {
        let f = FiringSummary::of(&r.spikes_ms, d.t_max_ms);
        let _ = writeln!(
            s,
            "| {k} | {} | {} | {:.2} | {} | {} |",
            d.bias.get(k).copied().unwrap_or(0.0),
            f.n_spikes,
            f.mean_rate_hz,
            fmt_opt(f.first_spike_ms, 3),
            fmt_opt(f.isi_mean_ms, 3)
        );
    }
    if runs.len() > 50 {
        let _ = writeln!(
            s,
            "\n({} more neurons in `spikes.parquet`.)",
            runs.len() - 50
        );
    }
    if let Some(r) = runs.first().filter(|_| recorded) {
        let v = r.trace.v();
        let (lo, hi) = v
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
                (a.min(x), b.max(x))
            });
        let _ = writeln!(
            s,
            "\nNeuron 0: V between {lo:.3} and {hi:.3} mV; final V {:.6} mV.",
            r.final_state[0]
        );
    }
    let _ = writeln!(s, "\n## Files\n");
    if recorded {
        let _ = writeln!(
            s,
            "- [trace.parquet](trace.parquet): `neuron, t_ms, v_mv, <gates>, i_ua_cm2`"
        );
    }
    let _ = writeln!(s, "- [spikes.parquet](spikes.parquet): `neuron, t_ms`");
    if recorded {
        let _ = writeln!(s, "- ![trace](trace.png)");
    }
    s
}
