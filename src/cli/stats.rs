//! `excitable stats`: spike-train statistics of a spikes file (ours or anyone's).

use super::common::finish;
use anyhow::{Context, Result, bail};
use clap::Args;
use excitable::analysis::rate::{Kernel, RateSettings, instantaneous_rate};
use excitable::analysis::spike_stats::{StatsSettings, train_stats};
use excitable::analysis::timing::{
    cross_correlogram, pulse_response, spike_triggered_average, vector_strength,
};
use excitable::report::Table;
use excitable::report::atomic::ensure_dir;
use excitable::report::spike_trains::{rate_table, read_spikes, stats_table, write_stats_figures};
use excitable::stimulus::{Component, Stimulus};
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
    /// The input the spikes answer, as a stimulus text (pulses:…, step:…, sine:…; see
    /// `simulate --help`): adds latencies per pulse, the fraction answered, the pulse-spike
    /// cross-correlogram, the spike-triggered average and, for a sine, vector strength.
    #[arg(long, allow_hyphen_values = true)]
    pub input: Option<String>,
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
    if let Some(text) = &a.input {
        let stim = Stimulus::parse(text)?;
        io_timing(
            &stim, &trains, a.t_start, t_stop, &a.out, &mut md, &mut files,
        )?;
    }
    finish(&a.out, &md, files)
}

/// Latencies, cross-correlogram, spike-triggered average and vector strength against `stim`.
fn io_timing(
    stim: &Stimulus,
    trains: &[Vec<f64>],
    t_start: f64,
    t_stop: f64,
    out: &std::path::Path,
    md: &mut String,
    files: &mut Vec<PathBuf>,
) -> Result<()> {
    let mut onsets: Vec<f64> = stim
        .components
        .iter()
        .flat_map(|c| match c {
            Component::Step { start, .. } => vec![*start],
            Component::Pulses { times, .. } => times.clone(),
            _ => vec![],
        })
        .collect();
    onsets.sort_by(f64::total_cmp);
    let _ = writeln!(md, "
## Input-output timing

| neuron | pulses answered | mean latency (ms) | latency sd (ms) | vector strength | preferred phase (deg) |\n|---:|---:|---:|---:|---:|---:|");
    let (mut rows, mut ccg, mut sta) = (Vec::new(), Vec::new(), Vec::new());
    let dt = 0.1;
    let n = ((t_stop - t_start) / dt) as usize;
    let t: Vec<f64> = (0..n).map(|k| t_start + k as f64 * dt).collect();
    let input: Vec<f64> = t.iter().map(|&x| stim.at(x)).collect();
    let freq = stim.components.iter().find_map(|c| {
        if let Component::Sine { freq_hz, .. } = c {
            Some(*freq_hz)
        } else {
            None
        }
    });
    for (k, train) in trains.iter().enumerate() {
        let r = pulse_response(&onsets, train, 50.0);
        let l: Vec<f64> = r
            .latency_ms
            .iter()
            .copied()
            .filter(|x| !x.is_nan())
            .collect();
        let mean = l.iter().sum::<f64>() / l.len() as f64;
        let sd = (l.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / l.len() as f64).sqrt();
        let (vs, ph) = freq.map_or((f64::NAN, f64::NAN), |f| vector_strength(train, f));
        let _ = writeln!(
            md,
            "| {k} | {:.3} | {mean:.3} | {sd:.3} | {vs:.4} | {:.1} |",
            r.fraction_answered,
            ph.to_degrees()
        );
        rows.extend(
            onsets
                .iter()
                .zip(&r.latency_ms)
                .map(|(p, l)| (k as u32, *p, *l)),
        );
        let (lags, counts) = cross_correlogram(&onsets, train, 1.0, 50.0);
        ccg.extend(lags.into_iter().zip(counts).map(|(x, c)| (k as u32, x, c)));
        let (lags, mean_i, _) = spike_triggered_average(&t, &input, train, 20.0);
        sta.extend(lags.into_iter().zip(mean_i).map(|(x, v)| (k as u32, x, v)));
    }
    let _ = writeln!(md, "
Latency: first spike after each pulse onset and before the next (at most 50 ms). Tables: io_timing.parquet, cross_correlogram.parquet (1 ms bins, ±50 ms), sta.parquet (20 ms before each spike, input sampled every 0.1 ms).");
    files.push(
        Table::new("io_timing")
            .u32("neuron", rows.iter().map(|r| r.0).collect())
            .f64("pulse_ms", rows.iter().map(|r| r.1).collect())
            .f64("latency_ms", rows.iter().map(|r| r.2).collect())
            .write_parquet(out)?,
    );
    files.push(
        Table::new("cross_correlogram")
            .u32("neuron", ccg.iter().map(|r| r.0).collect())
            .f64("lag_ms", ccg.iter().map(|r| r.1).collect())
            .u32("count", ccg.iter().map(|r| r.2).collect())
            .write_parquet(out)?,
    );
    files.push(
        Table::new("sta")
            .u32("neuron", sta.iter().map(|r| r.0).collect())
            .f64("lag_ms", sta.iter().map(|r| r.1).collect())
            .f64("i_ua_cm2", sta.iter().map(|r| r.2).collect())
            .write_parquet(out)?,
    );
    Ok(())
}
