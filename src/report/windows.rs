//! Report of `excitable windows`: `windows.parquet` (every window; streamed in chunks by the
//! command line), `windows_summary.parquet`, `windows.png` and the summary.

use super::table::Table;
use super::xy_figure::{Panel, Series, draw_panels};
use crate::analysis::windows::{Window, WindowSet, WindowTally};
use crate::error::ReportError;
use crate::model::{Number, Quantity, Units};
use crate::spec::WindowsResult;
use crate::spec::windows::{SLICE_ROWS, SpikeSource};
use std::fmt::Write;
use std::path::{Path, PathBuf};

impl super::Report for WindowsResult {
    fn tables(&self) -> Vec<Table> {
        let mut t = vec![];
        if let Some(sets) = &self.windows {
            t.push(windows_table(sets));
        }
        t.push(windows_summary_table(&self.tallies));
        t
    }

    fn figures(&self, dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
        let png = dir.join("windows.png");
        draw_windows(&png, &self.tallies, self.units)?;
        Ok(vec![png])
    }

    fn summary(&self) -> String {
        let streamed = if self.windows.is_none() {
            format!(", streamed in slices of {SLICE_ROWS} samples")
        } else {
            String::new()
        };
        let u = self.units;
        let at = Quantity(self.threshold_mv, u.voltage);
        let counted = match &self.spikes_from {
            SpikeSource::Crossings => format!("threshold {at}"),
            SpikeSource::Run if self.threshold_mv.is_finite() => {
                format!("the run's own, found at {at}")
            }
            SpikeSource::Run => "the run's own".to_string(),
            SpikeSource::File {
                path,
                neurons,
                outside,
                out_of_order,
                other_run,
            } => {
                let mut from = if *neurons > 1 {
                    format!(
                        "neuron 0's from `{path}`, which numbers neurons 0 to {}",
                        neurons - 1
                    )
                } else {
                    format!("from `{path}`")
                };
                if *out_of_order {
                    from += ", given out of time order and sorted";
                }
                if *other_run {
                    from += "; **from another run than the trace** (the two files' model, parameters or settings differ), so these need not be the trace's spikes";
                }
                if *outside > 0 {
                    from += &format!("; {outside} outside the trace's time span left out");
                }
                from
            }
        };
        let mut md = format!(
            "# Sliding windows over {}\n\n{} samples, {} spikes ({counted}){streamed}.\n\n",
            self.source, self.samples, self.n_spikes,
        );
        let (time, rate) = if u.known() {
            (format!(" ({})", u.time), format!("mean rate ({})", u.rate))
        } else {
            (String::new(), "mean rate (per 1000 time units)".to_string())
        };
        let _ = writeln!(
            md,
            "| width{time} | step{time} | windows | fraction with a spike | {rate} | dropped trailing samples |\n|---:|---:|---:|---:|---:|---:|"
        );
        for s in &self.tallies {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {:.4} | {:.3} | {} |",
                Number(s.width_ms),
                Number(s.step_ms),
                s.n_windows,
                s.fraction_fired(),
                s.rate_mean_std().0,
                s.dropped_samples
            );
        }
        md
    }

    fn units(&self) -> Units {
        self.units
    }

    fn metadata(&self) -> Vec<(String, String)> {
        let mut m = super::write::settings_metadata(&self.spec);
        m.push(("excitable.trace".into(), self.source.clone()));
        m
    }
}

/// Rows of `windows.parquet` for windows of one width (a chunk of a streamed table).
pub fn window_rows(width_ms: f64, windows: &[Window]) -> Table {
    rows_table(windows.iter().map(|w| (width_ms, w)).collect())
}

/// `windows.parquet` with every window of every width, width by width.
pub fn windows_table(sets: &[WindowSet]) -> Table {
    rows_table(
        sets.iter()
            .flat_map(|s| s.windows.iter().map(move |w| (s.width_ms, w)))
            .collect(),
    )
}

/// `width_ms, start_ms, n_spikes, fired, rate_hz, v_mean_mv, v_max_mv, v_min_mv`.
fn rows_table(rows: Vec<(f64, &Window)>) -> Table {
    Table::new("windows")
        .f64("width_ms", rows.iter().map(|r| r.0).collect())
        .f64("start_ms", rows.iter().map(|r| r.1.start_ms).collect())
        .u32("n_spikes", rows.iter().map(|r| r.1.n_spikes).collect())
        .bool("fired", rows.iter().map(|r| r.1.n_spikes > 0).collect())
        .f64(
            "rate_hz",
            rows.iter()
                .map(|(width_ms, w)| w.n_spikes as f64 / width_ms * 1000.0)
                .collect(),
        )
        .f64("v_mean_mv", rows.iter().map(|r| r.1.v_mean_mv).collect())
        .f64("v_max_mv", rows.iter().map(|r| r.1.v_max_mv).collect())
        .f64("v_min_mv", rows.iter().map(|r| r.1.v_min_mv).collect())
}

/// `windows_summary.parquet`: one row per width.
pub fn windows_summary_table(tallies: &[WindowTally]) -> Table {
    Table::new("windows_summary")
        .f64("width_ms", tallies.iter().map(|s| s.width_ms).collect())
        .f64("step_ms", tallies.iter().map(|s| s.step_ms).collect())
        .f64(
            "n_windows",
            tallies.iter().map(|s| s.n_windows as f64).collect(),
        )
        .f64(
            "fraction_fired",
            tallies.iter().map(|s| s.fraction_fired()).collect(),
        )
        .f64(
            "rate_mean_hz",
            tallies.iter().map(|s| s.rate_mean_std().0).collect(),
        )
        .f64(
            "rate_std_hz",
            tallies.iter().map(|s| s.rate_mean_std().1).collect(),
        )
        .f64(
            "dropped_samples",
            tallies.iter().map(|s| s.dropped_samples as f64).collect(),
        )
}

/// `windows.png`: histograms of window mean and max V per width (the two voltage
/// populations of `002_…`), from the tallies, labelled in `units`.
pub fn draw_windows(png: &Path, tallies: &[WindowTally], units: Units) -> Result<(), ReportError> {
    let in_units = |what: &str| {
        if units.known() {
            format!("{what} ({})", units.voltage)
        } else {
            what.to_string()
        }
    };
    let (lo, bin) = (WindowTally::HIST_LO_MV, WindowTally::HIST_BIN_MV);
    let hist = |counts: &dyn Fn(&WindowTally) -> &[u64], desc: &str| Panel {
        x_desc: desc.into(),
        y_desc: "fraction of windows".into(),
        series: tallies
            .iter()
            .enumerate()
            .map(|(k, s)| {
                let n = s.n_windows.max(1) as f64;
                let bins = counts(s)
                    .iter()
                    .enumerate()
                    .map(|(j, &c)| (lo + bin * j as f64, c as f64 / n));
                Series::histogram(
                    format!("width {}", Quantity(s.width_ms, units.time)),
                    k,
                    bin,
                    bins,
                )
            })
            .collect(),
        ..Default::default()
    };
    draw_panels(
        png,
        "voltage per window",
        &[
            hist(&|t| &t.hist_mean, &in_units("window mean V")),
            hist(&|t| &t.hist_max, &in_units("window max V")),
        ],
        2,
        (1400, 560),
    )
}
