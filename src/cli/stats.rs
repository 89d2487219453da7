//! `excitable stats`: spike-train statistics of a spikes file (ours or anyone's).

use super::common::finish;
use anyhow::{Context, Result, bail};
use clap::Args;
use excitable::analysis::rate::{Kernel, RateSettings, instantaneous_rate};
use excitable::analysis::spike_stats::{StatsSettings, train_stats};
use excitable::report::atomic::ensure_dir;
use excitable::report::spike_trains::{rate_table, read_spikes, stats_table, write_stats_figures};
use std::fmt::Write;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Spikes: CSV or Parquet with `t_ms` (ms) and, for several neurons, `neuron`.
    #[arg(long)]
    pub spikes: PathBuf,
    /// Start of the analysed interval (ms).
    #[arg(long, allow_hyphen_values = true, default_value_t = 0.0)]
    pub t_start: f64,
    /// End of the analysed interval (ms); default: the last spike rounded up to a whole ms.
    #[arg(long, allow_hyphen_values = true)]
    pub t_stop: Option<f64>,
    /// Counting window of the Fano factor (ms).
    #[arg(long, default_value_t = 100.0)]
    pub fano_window: f64,
    /// Refractoriness constant R of LvR (ms).
    #[arg(long, default_value_t = 5.0)]
    pub lvr_r: f64,
    /// Bin width of the ISI histogram (ms).
    #[arg(long, default_value_t = 1.0)]
    pub isi_bin: f64,
    /// Kernel of the instantaneous rate: rectangular, triangular or gaussian.
    #[arg(long, default_value = "gaussian")]
    pub kernel: String,
    /// Kernel standard deviation (ms).
    #[arg(long, default_value_t = 10.0)]
    pub sigma: f64,
    /// Sampling period of the instantaneous rate (ms).
    #[arg(long, default_value_t = 1.0)]
    pub sampling: f64,
    #[arg(long, default_value = "reports/stats")]
    pub out: PathBuf,
}

pub fn run(a: StatsArgs) -> Result<()> {
    let trains = read_spikes(&a.spikes)?;
    if trains.is_empty() {
        bail!("{}: no spikes", a.spikes.display());
    }
    let last = trains
        .iter()
        .flat_map(|t| t.last())
        .fold(f64::NEG_INFINITY, |m, &x| m.max(x));
    let t_stop = a.t_stop.unwrap_or(last.floor() + 1.0);
    if !(a.t_start.is_finite() && t_stop.is_finite() && t_stop > a.t_start) {
        bail!(
            "--t-stop ({t_stop}) must be after --t-start ({}), both finite",
            a.t_start
        );
    }
    for (what, v) in [("--fano-window", a.fano_window), ("--isi-bin", a.isi_bin)] {
        if !(v.is_finite() && v > 0.0) {
            bail!("{what} = {v}: must be > 0 ms");
        }
    }
    if !(a.lvr_r.is_finite() && a.lvr_r >= 0.0) {
        bail!("--lvr-r = {}: must be >= 0 ms", a.lvr_r);
    }
    let kernel = Kernel::parse(&a.kernel)
        .map_err(anyhow::Error::msg)
        .context("--kernel")?;
    ensure_dir(&a.out)?;
    let s = StatsSettings {
        t_start: a.t_start,
        t_stop,
        lvr_r_ms: a.lvr_r,
        fano_window_ms: a.fano_window,
    };
    let stats: Vec<_> = trains.iter().map(|t| train_stats(t, &s)).collect();
    let rs = RateSettings {
        t_start: a.t_start,
        t_stop,
        sampling_ms: a.sampling,
        kernel,
        sigma_ms: a.sigma,
        cutoff: 5.0,
    };
    let rates = trains
        .iter()
        .map(|t| instantaneous_rate(t, &rs))
        .collect::<Result<Vec<_>, _>>()?;
    let mut files = vec![
        stats_table(&stats).write_parquet(&a.out)?,
        rate_table(&rates).write_parquet(&a.out)?,
    ];
    files.extend(write_stats_figures(&a.out, &trains, a.isi_bin)?);
    let mut md = format!(
        "# Spike-train statistics of `{}` over [{}, {}) ms\n\n",
        a.spikes.display(),
        a.t_start,
        t_stop
    );
    let _ = writeln!(
        md,
        "| neuron | spikes | rate (Hz) | ISI mean (ms) | CV | CV2 | LV | LvR | Fano ({} ms) | serial corr | note |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        a.fano_window
    );
    for (k, x) in stats.iter().enumerate().take(50) {
        let _ = writeln!(
            md,
            "| {k} | {} | {:.3} | {:.3} | {:.4} | {:.4} | {:.4} | {:.4} | {:.4} | {:.4} | {} |",
            x.n_spikes,
            x.rate_hz,
            x.isi_mean_ms,
            x.cv,
            x.cv2,
            x.lv,
            x.lvr,
            x.fano,
            x.serial_corr,
            x.reason
        );
    }
    let _ = writeln!(
        md,
        "\nConventions as Elephant's: std with ddof 0, LV and LvR with 3/(N-1), LvR's R = {} ms, Fano over consecutive {} ms windows; rate.parquet: {} kernel, sigma {} ms, every {} ms, Elephant's binning and no border correction.",
        a.lvr_r, a.fano_window, a.kernel, a.sigma, a.sampling
    );
    finish(&a.out, &md, files)
}
