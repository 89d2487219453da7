//! Report of `excitable stats`: `spike_stats.parquet`, `rate.parquet`, `isi_histogram.parquet`,
//! `spike_trains.png`, with the input given `io_timing.parquet`, `cross_correlogram.parquet`
//! and `sta.parquet`; and the summary.

use super::spike_trains::{draw_spike_trains, isi_histogram_table, rate_table, stats_table};
use super::table::Table;
use crate::analysis::chance::SIGNIFICANCE;
use crate::analysis::timing::{
    CCG_BIN_MS, CCG_MAX_LAG_MS, IoTiming, MAX_LATENCY_MS, STA_DT_MS, STA_WINDOW_MS,
};
use crate::error::ReportError;
use crate::spec::{Rates, StatsResult};
use std::fmt::Write;
use std::path::{Path, PathBuf};

impl super::Report for StatsResult {
    fn tables(&self) -> Vec<Table> {
        let mut t = vec![stats_table(&self.stats)];
        // Streamed rates are in `rate.parquet` already ([`crate::spec::StatsSpec::run_streamed`]).
        if let Rates::Kept(rates) = &self.rates {
            t.push(rate_table(0, &self.rate_t_ms, rates.concat()));
        }
        t.push(isi_histogram_table(&self.isi_histograms));
        if let Some(timing) = &self.timing {
            t.extend(timing_tables(timing));
        }
        t
    }

    fn figures(&self, dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
        let png = dir.join("spike_trains.png");
        draw_spike_trains(
            &png,
            &self.trains,
            &self.isi_histograms,
            self.spec.isi_bin,
            (self.spec.t_start, self.t_stop),
            self.units,
        )?;
        Ok(vec![png])
    }

    fn summary(&self) -> String {
        summary_text(self)
    }

    fn units(&self) -> crate::model::Units {
        self.units
    }

    fn metadata(&self) -> Vec<(String, String)> {
        let mut m = super::write::settings_metadata(&self.spec);
        m.push(("excitable.spikes".into(), self.source.clone()));
        m
    }
}

/// `io_timing.parquet` (`neuron, pulse_ms, latency_ms`), `io_response.parquet` (`neuron,
/// fraction_answered, undecided, chance_fraction, rate_hz, renewal_null, p_value, p_exact`),
/// `cross_correlogram.parquet`
/// (`neuron, lag_ms, count`) and `sta.parquet` (`neuron, lag_ms, i_ua_cm2`).
pub fn timing_tables(timing: &IoTiming) -> Vec<Table> {
    let neuron = |len: &dyn Fn(&crate::analysis::timing::NeuronTiming) -> usize| -> Vec<u32> {
        timing
            .neurons
            .iter()
            .enumerate()
            .flat_map(|(k, n)| std::iter::repeat_n(k as u32, len(n)))
            .collect()
    };
    let n = &timing.neurons;
    vec![
        Table::new("io_timing")
            .u32("neuron", neuron(&|_| timing.onsets_ms.len()))
            .f64(
                "pulse_ms",
                n.iter()
                    .flat_map(|_| timing.onsets_ms.iter().copied())
                    .collect(),
            )
            .f64(
                "latency_ms",
                n.iter()
                    .flat_map(|x| x.response.latency_ms.iter().copied())
                    .collect(),
            ),
        Table::new("io_response")
            .u32("neuron", (0..n.len() as u32).collect())
            .f64(
                "fraction_answered",
                n.iter().map(|x| x.response.fraction_answered).collect(),
            )
            .u32(
                "undecided",
                n.iter().map(|x| x.response.undecided as u32).collect(),
            )
            .f64(
                "chance_fraction",
                n.iter().map(|x| x.chance.expected_fraction).collect(),
            )
            .f64("rate_hz", n.iter().map(|x| x.chance.rate_hz).collect())
            .bool("renewal_null", n.iter().map(|x| x.chance.renewal).collect())
            .f64("p_value", n.iter().map(|x| x.chance.p_value).collect())
            .bool("p_exact", n.iter().map(|x| x.chance.exact).collect()),
        Table::new("cross_correlogram")
            .u32("neuron", neuron(&|x| x.ccg_lags_ms.len()))
            .f64(
                "lag_ms",
                n.iter()
                    .flat_map(|x| x.ccg_lags_ms.iter().copied())
                    .collect(),
            )
            .u32(
                "count",
                n.iter()
                    .flat_map(|x| x.ccg_counts.iter().copied())
                    .collect(),
            ),
        Table::new("sta")
            .u32("neuron", neuron(&|x| x.sta_lags_ms.len()))
            .f64(
                "lag_ms",
                n.iter()
                    .flat_map(|x| x.sta_lags_ms.iter().copied())
                    .collect(),
            )
            .f64(
                "i_ua_cm2",
                n.iter().flat_map(|x| x.sta_mean.iter().copied()).collect(),
            ),
    ]
}

fn summary_text(r: &StatsResult) -> String {
    let spec = &r.spec;
    // Times in ms and rates in Hz, or bare numbers for a file without units (rates per 1000
    // of its time units, as the toolkit reports them).
    let known = r.units.known();
    let ms = if known { " ms" } else { "" };
    let paren_ms = if known { " (ms)" } else { "" };
    let rate = if known { "Hz" } else { "per 1000 time units" };
    let mut md = format!(
        "# Spike-train statistics of {} over [{}, {}]{ms}\n\n",
        r.source, spec.t_start, r.t_stop
    );
    if !known {
        let _ = writeln!(
            md,
            "The file's times have no unit (a bare `t` column): they are shown bare, and rates are per 1000 time units.\n"
        );
    }
    let _ = writeln!(md, "t_stop = {}{ms}: {}.\n", r.t_stop, r.t_stop_from);
    if r.outside > 0 {
        let _ = writeln!(
            md,
            "{} spike(s) outside [{}, {}]{ms} are left out of every statistic.\n",
            r.outside, spec.t_start, r.t_stop
        );
    }
    // Trains named in full up to this many.
    const LISTED: usize = 20;
    if !r.repeated.is_empty() {
        let _ = writeln!(
            md,
            "**Repeated spike times** in {} train(s): neuron {}. Each repeat is an interval of 0{ms}, counted in the rates and the interval statistics; CV2, LV and LvR are NaN where two such intervals meet. A file listing one spike twice would do this.\n",
            r.repeated.len(),
            super::first_of(&r.repeated, LISTED)
        );
    }
    if !r.out_of_order.is_empty() {
        let _ = writeln!(
            md,
            "**Spike times out of order** in {} train(s): neuron {}. Each was sorted before any statistic. Trials each starting at 0 under one neuron are merged this way: give each trial its own neuron.\n",
            r.out_of_order.len(),
            super::first_of(&r.out_of_order, LISTED)
        );
    }
    let _ = writeln!(
        md,
        "| neuron | spikes | rate ({rate}) | ISI mean{} | CV | CV2 | LV | LvR | Fano ({}{ms}) | serial corr | note |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        paren_ms, spec.fano_window
    );
    for (k, x) in r.stats.iter().enumerate().take(50) {
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
        "\nConventions as Elephant's: std with ddof 0, LV and LvR with 3/(N-1), LvR's R = {}{ms}, Fano over consecutive {}{ms} windows; rate.parquet: {} kernel, sigma {}{ms}, every {}{ms}, Elephant's binning and no border correction.",
        spec.lvr_r, spec.fano_window, spec.kernel, spec.sigma, spec.sampling
    );
    if let Some(t) = &r.timing {
        let _ = writeln!(
            md,
            "\n## Input-output timing\n\n| neuron | pulses answered | by chance | p | mean latency{paren_ms} | latency sd{paren_ms} | vector strength | preferred phase (deg) |\n|---:|---:|---:|---:|---:|---:|---:|---:|"
        );
        for (k, n) in t.neurons.iter().enumerate() {
            let _ = writeln!(
                md,
                "| {k} | {:.3} | {:.3} | {:.2e} | {:.3} | {:.3} | {:.4} | {:.1} |",
                n.response.fraction_answered,
                n.chance.expected_fraction,
                n.chance.p_value,
                n.latency_mean_ms,
                n.latency_sd_ms,
                n.vector_strength,
                n.preferred_phase_rad.to_degrees()
            );
        }
        let undecided: usize = t
            .neurons
            .iter()
            .map(|n| n.response.undecided)
            .max()
            .unwrap_or(0);
        if undecided > 0 {
            let _ = writeln!(
                md,
                "\nUp to {undecided} pulse(s) near t_stop are left out of `pulses answered`: unanswered by t_stop, with an answer window that runs past it, they are undecided (`undecided` in io_response.parquet)."
            );
        }
        let chance: Vec<String> = t
            .neurons
            .iter()
            .enumerate()
            .filter(|(_, n)| n.response.fraction_answered > 0.0 && !n.chance.above_chance())
            .map(|(k, _)| k.to_string())
            .collect();
        if !chance.is_empty() {
            let _ = writeln!(
                md,
                "\n**Not distinguishable from chance** (p >= {SIGNIFICANCE}): neuron(s) {}. Their own firing, taken as a renewal process, answers as many pulses by chance; the latencies there need not measure a response.",
                chance.join(", ")
            );
        }
        let _ = writeln!(
            md,
            "\nChance: the cell's own train as a renewal process (its interval distribution; Poisson at (n + 1) / T for fewer than 3 intervals) answers a window of width w with the probability that w at a random time holds a spike; `chance_fraction` is the mean over the pulses and p the probability of answering at least as many (exact, or a normal approximation where `p_exact` is false in io_response.parquet). The null includes any responses, so it can only make chance look higher."
        );
        let _ = writeln!(
            md,
            "\nLatency: first spike after each pulse onset and before the next (at most {MAX_LATENCY_MS}{ms}). Tables: io_timing.parquet, cross_correlogram.parquet ({CCG_BIN_MS}{ms} bins, ±{CCG_MAX_LAG_MS}{ms}), sta.parquet ({STA_WINDOW_MS}{ms} before each spike, input sampled every {STA_DT_MS}{ms})."
        );
    }
    md
}
