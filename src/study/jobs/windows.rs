//! The job of `excitable windows`: the trace comes from a Parquet file, read in slices, or
//! from a run simulated first; the window rows are streamed into `windows.parquet` as they
//! close, so memory stays flat whatever the trace's length.

use crate::analysis::windows::Window;
use crate::error::{Error, ReportError, SpecError, short};
use crate::model::Units;
use crate::progress::Observer;
use crate::report::Report;
use crate::report::chunked_table::ChunkedTable;
use crate::report::table::{column_names, for_each_slice, row_count, unit_or_bare};
use crate::report::windows::window_rows;
use crate::spec::windows::{SLICE_ROWS, SimulateFirst, SpikeSource, TraceWindows};
use crate::spec::{ModelSource, WindowsSpec};
use crate::study::job::Job;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Firing and voltage in sliding windows of a recorded trace, or of a run simulated first.
#[derive(Debug, Clone, PartialEq, clap::Args, Serialize, Deserialize)]
pub struct WindowsJob {
    /// Trace: Parquet with `t_ms` and `v_mv` (uniform sampling); with `neuron`, neuron 0 is used.
    #[arg(long, required_unless_present = "stim", conflicts_with = "stim")]
    #[serde(default)]
    pub trace: Option<PathBuf>,
    /// With `--trace`: the spikes to count (Parquet or CSV with `t_ms`, and `neuron` where
    /// there are several: neuron 0's), such as the `spikes.parquet` of the `simulate` run that
    /// wrote the trace, instead of the trace's crossings of `--threshold`. A reset model's
    /// spikes (LIF) cross no threshold between samples.
    #[arg(long, requires = "trace", conflicts_with = "threshold")]
    #[serde(default)]
    pub spikes: Option<PathBuf>,
    #[command(flatten)]
    #[serde(flatten)]
    /// The run to simulate when no trace is given.
    pub simulate: SimulateFirst,
    #[command(flatten)]
    #[serde(flatten)]
    /// The model of that run.
    pub model: ModelSource,
    #[command(flatten)]
    #[serde(flatten)]
    /// The settings.
    pub spec: WindowsSpec,
    /// How the report names the trace file, when not as `trace` ([`Job::show_inputs_as`]).
    #[arg(skip)]
    #[serde(skip)]
    pub shown: Option<PathBuf>,
    /// The same for the spikes file.
    #[arg(skip)]
    #[serde(skip)]
    pub shown_spikes: Option<PathBuf>,
}

impl WindowsJob {
    /// The threshold of a run simulated first: `--threshold`, else the model's own.
    fn run_threshold(&self, model: &crate::Model) -> f64 {
        self.spec.threshold.unwrap_or(model.threshold_mv())
    }
}

impl Job for WindowsJob {
    const COMMAND: &'static str = "windows";

    fn model_file(&self) -> Option<&Path> {
        self.model.model_file.as_deref()
    }

    fn check(&self) -> Result<(), Error> {
        self.spec.validate()?;
        match &self.trace {
            Some(_) if !self.simulate.stim.is_empty() => Err(SpecError::new(
                "trace, stim",
                "both",
                "a trace file or a stimulus to simulate, not both",
            )
            .into()),
            Some(_) if self.spikes.is_some() && self.spec.threshold.is_some() => {
                Err(SpecError::new(
                    "spikes, threshold",
                    "both",
                    "a spikes file or a threshold for the trace's crossings, not both",
                )
                .into())
            }
            // A model or a run's settings beside a trace would be ignored: the trace is
            // analysed as it was recorded. Refused, so that nobody takes the windows for the
            // model's (found by an adversarial try of the command line, 6 December 2026). One
            // given at its default (`--model hh`) cannot be told from one not given, and passes.
            Some(_) if self.model != ModelSource::default() => Err(SpecError::new(
                "model, model_file, set, v_var",
                self.model.as_flags(),
                "none with a trace file: the trace is analysed as it was recorded, and a model serves a run simulated first (stim)",
            )
            .into()),
            Some(_) if self.simulate != SimulateFirst::default() => {
                let (given, d) = (&self.simulate, SimulateFirst::default());
                let differ = [
                    ("t_max", given.t_max != d.t_max, short(given.t_max)),
                    ("dt", given.dt != d.dt, short(given.dt)),
                    ("method", given.method != d.method, given.method.clone()),
                    (
                        "max_memory",
                        given.max_memory != d.max_memory,
                        given.max_memory.to_string(),
                    ),
                ];
                let (fields, values): (Vec<&str>, Vec<String>) = (differ.into_iter())
                    .filter(|(_, differs, _)| *differs)
                    .map(|(field, _, value)| (field, value))
                    .unzip();
                Err(SpecError::new(
                    &fields.join(", "),
                    values.join(", "),
                    "none with a trace file: they set a run simulated first (stim)",
                )
                .into())
            }
            Some(_) => Ok(()),
            None if self.spikes.is_some() => Err(SpecError::new(
                "spikes",
                "without a trace",
                "a spikes file only with a trace file (a simulated run counts its own)",
            )
            .into()),
            None => {
                let model = self.model.load()?;
                let threshold = self.run_threshold(&model);
                self.simulate.settings(threshold)?;
                self.simulate.check_memory(&model, threshold)
            }
        }
    }

    fn run_into(&self, dir: &Path, observer: &dyn Observer) -> Result<Vec<PathBuf>, Error> {
        // A trace with bare `t` and `v` columns, or a run of a model without units, is shown
        // without units (columns `width`, `start`, `v_mean`; no ms, mV or Hz in the summary).
        let units = match &self.trace {
            Some(path) => {
                let columns = column_names(path)?;
                if unit_or_bare(&columns, "t_ms") == "t" {
                    Units::FILE
                } else {
                    Units::NEURON
                }
            }
            None => self.model.load()?.units(),
        };
        let mut table = ChunkedTable::create(dir, "windows");
        let sink = |_: usize, width_ms: f64, rows: Vec<Window>| -> Result<(), Error> {
            Ok(table.write(window_rows(width_ms, &rows).in_units(units))?)
        };
        let mut result = match &self.trace {
            Some(path) => {
                let total = row_count(path)?;
                let mut w = TraceWindows::new(&self.spec, observer, Some(total), sink)?;
                if let Some(spikes) = &self.spikes {
                    let mut trains = crate::report::spike_trains::read_spikes(spikes)?;
                    let neurons = trains.len().max(1);
                    let mut first = trains.drain(..).next().unwrap_or_default();
                    let out_of_order = !first.is_sorted();
                    first.sort_by(f64::total_cmp);
                    let shown = self.shown_spikes.as_ref().unwrap_or(spikes);
                    w = w.with_spikes(
                        &first,
                        f64::NAN,
                        SpikeSource::File {
                            path: shown.display().to_string(),
                            neurons,
                            outside: 0,
                            out_of_order,
                            other_run: from_one_run(path, spikes) == Some(false),
                        },
                    );
                }
                push_file(&mut w, path)?;
                let mut r = w.finish()?;
                r.source = format!("`{}`", self.shown.as_ref().unwrap_or(path).display());
                r
            }
            None => {
                let model = self.model.load()?;
                let threshold = self.run_threshold(&model);
                let (run, about) = self.simulate.run(&model, threshold, observer)?;
                let (t, v) = (&run.trace.t_ms, run.trace.v());
                // The run's own spikes, as `simulate` and `stats` count them (LIF's resets
                // cross no threshold between samples).
                let mut w = TraceWindows::new(&self.spec, observer, Some(t.len()), sink)?
                    .with_spikes(&run.spikes_ms, threshold, SpikeSource::Run);
                for (tc, vc) in t.chunks(SLICE_ROWS).zip(v.chunks(SLICE_ROWS)) {
                    w.push(tc, vc)?;
                }
                let mut r = w.finish()?;
                r.source = about;
                r
            }
        };
        result.units = units;
        let (path, _) = table.finish()?;
        let mut files = vec![path];
        files.extend(result.write_into(dir)?);
        Ok(files)
    }

    fn inputs(&self) -> Vec<(&'static str, PathBuf)> {
        let trace = self.trace.iter().map(|p| ("trace", p.clone()));
        trace
            .chain(self.spikes.iter().map(|p| ("spikes", p.clone())))
            .collect()
    }

    fn show_inputs_as(&mut self, from: &Path, to: &Path) {
        let rebase =
            |p: &Option<PathBuf>| p.as_ref().map(|p| crate::study::job::rebase(p, from, to));
        self.shown = rebase(&self.trace);
        self.shown_spikes = rebase(&self.spikes);
    }
}

/// Feed a trace file (`t_ms`, `v_mv`, or `t`, `v` from a model without units; neuron 0 where there is a `neuron` column) in slices
/// of [`SLICE_ROWS`] rows.
fn push_file<S>(w: &mut TraceWindows<'_, S>, path: &Path) -> Result<(), Error>
where
    S: FnMut(usize, f64, Vec<Window>) -> Result<(), Error>,
{
    let columns = column_names(path)?;
    let has_neuron = columns.iter().any(|c| c == "neuron");
    let (t, v) = (
        unit_or_bare(&columns, "t_ms"),
        unit_or_bare(&columns, "v_mv"),
    );
    let names: &[&str] = if has_neuron {
        &[t, v, "neuron"]
    } else {
        &[t, v]
    };
    // The windows' error stops the reading; it is returned, not the reader's.
    let mut failed = None;
    let read = for_each_slice(path, names, SLICE_ROWS, |cols| {
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
        r.map_err(|e| {
            failed = Some(e);
            ReportError::Read {
                path: path.display().to_string(),
                reason: "stopped".into(),
            }
        })
    });
    match (failed, read) {
        (Some(e), _) => Err(e),
        (None, r) => r.map(|_| ()).map_err(Error::from),
    }
}

/// Whether a trace and a spikes file of `simulate`'s came from runs of one model with one set
/// of parameters and one simulation, by their metadata: `None` when either file does not say
/// (not written by the toolkit, or not Parquet). The settings that do not change the spikes a
/// run has by a given time are set aside: what is written (`record`, `svg`, `max-memory`), how
/// long it ran (`t-max`, when the spikes' run lasted at least as long as the trace's: a longer
/// run holds the shorter one's spikes, a shorter one lacks the trace's later spikes), and for
/// `dopri5` the recording interval (`dt`), which is its output grid alone.
fn from_one_run(trace: &Path, spikes: &Path) -> Option<bool> {
    const KEYS: [&str; 3] = [
        "excitable.model",
        "excitable.parameters",
        "excitable.settings",
    ];
    const SET_ASIDE: [&str; 4] = ["record", "svg", "max-memory", "t-max"];
    let mut t_max = [f64::NAN; 2];
    let mut provenance = |p: &Path, which: usize| -> Option<Vec<String>> {
        if p.extension().is_none_or(|e| e != "parquet") {
            return None;
        }
        let meta = crate::report::table::read_metadata(p).ok()?;
        KEYS.iter()
            .map(|key| {
                let (_, value) = meta.iter().find(|(k, _)| k == key)?;
                if *key != "excitable.settings" {
                    return Some(value.clone());
                }
                let mut settings: toml::Table = toml::from_str(value).ok()?;
                let end = settings.get("t-max");
                t_max[which] = end
                    .and_then(|t| t.as_float().or_else(|| t.as_integer().map(|i| i as f64)))
                    .unwrap_or(f64::NAN);
                for k in SET_ASIDE {
                    settings.remove(k);
                }
                if settings.get("method").and_then(|m| m.as_str()) == Some("dopri5") {
                    settings.remove("dt");
                }
                Some(settings.to_string())
            })
            .collect()
    };
    let same = provenance(trace, 0)? == provenance(spikes, 1)?;
    // A NaN (either file without a t-max) compares false: not a reason to call them apart.
    let spikes_end_first = t_max[1] < t_max[0];
    Some(same && !spikes_end_first)
}
