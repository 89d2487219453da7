//! `excitable windows`: firing and voltage in sliding windows of a trace, for several widths.
//!
//! The trace is fed in slices and every window is handed on as soon as it closes
//! ([`TraceWindows`]), so a trace of any length runs in flat memory: the command line writes
//! the window rows to `windows.parquet` in chunks (one width per chunk, [`CHUNK_ROWS`] rows
//! shared by the widths, at least 4096 each; rows of one width stay in time order), and the
//! summary and histograms come from running tallies. At most [`MAX_WIDTHS`] widths run at
//! once, and their buffers of samples (a width's last `width / dt + 1` samples) may take 1 GiB
//! together.
//! [`WindowsSpec::run_trace`] keeps every window in memory instead, through the same code.
//!
//! ```
//! use excitable::WindowsSpec;
//! // 10 ms sampled every 0.01 ms: one upward crossing of 0 mV, at 2.5 ms.
//! let t: Vec<f64> = (0..=1000).map(|k| k as f64 * 0.01).collect();
//! let v: Vec<f64> = t.iter().map(|&t| if t < 2.5 { -65.0 } else { 20.0 }).collect();
//! let r = WindowsSpec { width: vec![1.0], ..Default::default() }.run_trace(&t, &v)?;
//! assert_eq!((r.n_spikes, r.tallies[0].n_windows, r.tallies[0].n_fired), (1, 10, 1));
//! # Ok::<(), excitable::Error>(())
//! ```

use super::values::one_or_many;
use crate::analysis::windows::{Window, WindowSet, WindowStream, WindowTally};
use crate::error::{AnalysisError, Error, SimError, SpecError};
use crate::model::{InitialState, Model, Number};
use crate::progress::{Observer, Silent, Tracker};
use crate::simulate::{self, EulerOrder, Method, Record, Run, Settings, Tolerances};
use crate::stimulus::Stimulus;
use serde::{Deserialize, Serialize};

/// Samples fed per slice of a trace.
pub const SLICE_ROWS: usize = 1 << 20;

/// Window rows gathered per width before they are handed on as one chunk.
pub const CHUNK_ROWS: usize = 1 << 20;

/// The most widths one run takes: each keeps its own stream and rows (600 widths of a dense
/// trace had grown to 4.8 GB).
pub const MAX_WIDTHS: usize = 100;

/// The most memory the widths' sample buffers may take together: each width holds its last
/// `width / dt + 1` samples of 16 bytes.
const MAX_BUFFER_BYTES: f64 = 1024.0 * 1024.0 * 1024.0;

/// Every setting of `excitable windows` (the trace aside).
#[derive(Debug, Clone, PartialEq, clap::Args, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct WindowsSpec {
    /// Window width (ms), repeatable; at least one is needed.
    #[arg(long, allow_hyphen_values = true)]
    #[serde(deserialize_with = "one_or_many")]
    pub width: Vec<f64>,
    /// Step between window starts (ms); default: the width (windows tile the trace).
    #[arg(long, allow_hyphen_values = true)]
    pub step: Option<f64>,
    /// Spike threshold (mV) for upward crossings in a trace file; default 0 mV. A run
    /// simulated first counts its own spikes instead, at the model's threshold unless this is
    /// given (LIF: its resets, which no sample shows crossing).
    #[arg(long, allow_hyphen_values = true)]
    pub threshold: Option<f64>,
}

/// The threshold (mV) a trace file's spikes are counted at when none is given.
pub const FILE_THRESHOLD_MV: f64 = 0.0;

/// Where the spikes a [`WindowsResult`] counts came from.
#[derive(Debug, Clone, PartialEq)]
pub enum SpikeSource {
    /// The trace's own upward crossings of the threshold between samples.
    Crossings,
    /// The simulated run's own spike times (LIF's resets, which no sample shows crossing).
    Run,
    /// Neuron 0's spike times read from a file, as the trace holds neuron 0.
    File {
        /// The file, as the report names it.
        path: String,
        /// How many neurons the file numbers (one more than its largest `neuron`, or the count
        /// `simulate` recorded in its metadata if larger; 1 for a file without that column),
        /// so the summary names neuron 0 only where there is a choice.
        neurons: usize,
        /// How many of its spikes lay outside the trace's time span and were left out.
        outside: usize,
        /// Whether the file gave them out of time order (they were sorted).
        out_of_order: bool,
        /// Whether the spikes file and the trace say (in their metadata) that they come from
        /// different runs: another model, other parameters or other settings.
        other_run: bool,
    },
}

impl Default for WindowsSpec {
    fn default() -> Self {
        super::defaults()
    }
}

/// The windows of every width of a [`WindowsSpec`] over one trace.
#[derive(Debug, Clone)]
pub struct WindowsResult {
    /// The settings that made it.
    pub spec: WindowsSpec,
    /// What the trace is, in words (a file, a simulated run).
    pub source: String,
    /// Samples in the trace.
    pub samples: usize,
    /// Spikes in the trace: upward crossings of `threshold_mv`, or a simulated run's own.
    pub n_spikes: usize,
    /// Where the counted spikes came from ([`TraceWindows::with_spikes`]).
    pub spikes_from: SpikeSource,
    /// The threshold of the crossings, or of the run whose spikes were given (mV, or the
    /// model's unit of voltage; NaN when not known).
    pub threshold_mv: f64,
    /// Per width, in the order given: counts, rate moments and voltage histograms.
    pub tallies: Vec<WindowTally>,
    /// Every window per width, when they were kept in memory ([`WindowsSpec::run_trace`]);
    /// `None` when they were streamed out as they closed.
    pub windows: Option<Vec<WindowSet>>,
    /// The units of the trace: ms and mV unless it came from a model without units (a trace
    /// with columns `t` and `v`, or a run of an `.ode` model), whose numbers are shown bare.
    pub units: crate::model::Units,
}

impl WindowsSpec {
    /// Check every setting (whether a width spans at least one sample depends on the trace).
    pub fn validate(&self) -> Result<(), SpecError> {
        if self.width.is_empty() {
            return Err(SpecError::new("width", "(none)", "at least one width"));
        }
        if self.width.len() > MAX_WIDTHS {
            return Err(SpecError::new(
                "width",
                format!("{} widths", self.width.len()),
                format!("at most {MAX_WIDTHS} widths in one run"),
            ));
        }
        for &w in &self.width {
            super::positive("width", w)?;
        }
        if let Some(s) = self.step {
            super::positive("step", s)?;
        }
        match self.threshold {
            Some(t) => super::finite("threshold", t),
            None => Ok(()),
        }
    }

    /// The windows of a uniformly sampled trace (`t_ms`, `v_mv`) held in memory.
    pub fn run_trace(&self, t_ms: &[f64], v_mv: &[f64]) -> Result<WindowsResult, Error> {
        self.run_trace_with(t_ms, v_mv, &Silent)
    }

    /// [`WindowsSpec::run_trace`], telling `observer` as each slice of [`SLICE_ROWS`]
    /// samples is done.
    pub fn run_trace_with(
        &self,
        t_ms: &[f64],
        v_mv: &[f64],
        observer: &dyn Observer,
    ) -> Result<WindowsResult, Error> {
        if t_ms.len() != v_mv.len() {
            return Err(AnalysisError::BadSetting {
                what: "trace length".into(),
                value: v_mv.len() as f64,
                allowed: format!("one V per time ({} times)", t_ms.len()),
            }
            .into());
        }
        let mut kept: Vec<Vec<Window>> = vec![vec![]; self.width.len()];
        let mut w = TraceWindows::new(self, observer, Some(t_ms.len()), |k, _, rows| {
            kept[k].extend(rows);
            Ok(())
        })?;
        for (t, v) in t_ms.chunks(SLICE_ROWS).zip(v_mv.chunks(SLICE_ROWS)) {
            w.push(t, v)?;
        }
        let mut r = w.finish()?;
        r.windows = Some(
            kept.into_iter()
                .zip(&r.tallies)
                .map(|(windows, tally)| WindowSet {
                    width_ms: tally.width_ms,
                    step_ms: tally.step_ms,
                    windows,
                    dropped_samples: tally.dropped_samples,
                })
                .collect(),
        );
        Ok(r)
    }
}

/// The windows of every width of a spec over one trace fed in slices, handed to a sink as
/// they close: `sink(k, width_ms, rows)` gets rows of the `k`-th width (in time order, in
/// chunks of up to [`CHUNK_ROWS`]). Memory stays flat whatever the trace's length.
pub struct TraceWindows<'a, S> {
    spec: &'a WindowsSpec,
    sink: S,
    tracker: Tracker<'a>,
    streams: Option<Vec<WindowStream>>,
    /// The first samples, until two give the sampling interval.
    head: (Vec<f64>, Vec<f64>),
    pending: Vec<Vec<Window>>,
    samples: usize,
    /// The trace's length, when the caller knows it.
    expected: Option<usize>,
    /// The first time and the sampling interval, once two samples give it: sample k must
    /// lie at `t0 + k dt`.
    clock: (Option<f64>, Option<f64>),
    /// The spikes, when known beforehand (a simulated run's), their threshold and where they
    /// came from: then not detected in the samples.
    given: Option<(Vec<f64>, f64, SpikeSource)>,
}

/// How far (relative to the first interval `dt`) sample k's time may lie from `t0 + k dt`:
/// a trace written by `simulate` differs by rounding only (times stored in f32 by another
/// tool, by up to 0.5% of a 0.025 ms step at 2 s), while a gap, a repeated or a backward time
/// would make the windows' widths and times wrong (10 windows at 110 Hz for a 1000 ms trace
/// at 100 Hz whose second sample came 1 ms after the first instead of 0.1). The clock is
/// absolute, not interval by interval: intervals each within 5% of the first but all 4%
/// longer had drifted until every window's spikes fell outside its time span.
const SAMPLING_RTOL: f64 = 0.05;

/// How far sample `index` may lie from `t0 + index dt` by rounding alone, for times stored in
/// f32: the first interval's ends rounded (a relative 2^-24 each) give dt an error carried to
/// every later sample, and sample `index` has its own. A trace starting at 1000 ms with a
/// 0.025 ms step in f32 had been refused at sample 52 by the 5% alone; a drift of a few
/// percent per interval is still refused within a few samples.
fn rounding_drift(t0: f64, dt: f64, index: usize, tk: f64) -> f64 {
    let eps = f64::from(f32::EPSILON);
    let ends = t0.abs().max((t0 + dt).abs());
    index as f64 * 2.0 * eps * ends + eps * tk.abs()
}

impl<'a, S> TraceWindows<'a, S>
where
    S: FnMut(usize, f64, Vec<Window>) -> Result<(), Error>,
{
    /// Windows of `spec` (checked here) over a trace of `samples` samples if known, telling
    /// `observer` as each slice is pushed.
    pub fn new(
        spec: &'a WindowsSpec,
        observer: &'a dyn Observer,
        samples: Option<usize>,
        sink: S,
    ) -> Result<Self, Error> {
        spec.validate()?;
        let slices = samples.map(|n| n.div_ceil(SLICE_ROWS) as u64);
        Ok(TraceWindows {
            spec,
            sink,
            tracker: Tracker::new(observer, "trace slices", slices),
            streams: None,
            head: (vec![], vec![]),
            pending: vec![],
            samples: 0,
            expected: samples,
            clock: (None, None),
            given: None,
        })
    }

    /// Count these spikes (times in ms, in order: a simulated run's own, found at
    /// `threshold_mv`, NaN if not known) instead of the threshold crossings of the samples;
    /// `from` says where they came from.
    pub fn with_spikes(mut self, spikes_ms: &[f64], threshold_mv: f64, from: SpikeSource) -> Self {
        self.given = Some((spikes_ms.to_vec(), threshold_mv, from));
        self
    }

    /// The threshold the spikes are counted at.
    fn threshold_mv(&self) -> f64 {
        match &self.given {
            Some((_, t, _)) => *t,
            None => self.spec.threshold.unwrap_or(FILE_THRESHOLD_MV),
        }
    }

    /// Refuse a time that does not follow the one before at the trace's sampling interval
    /// (within [`SAMPLING_RTOL`]), naming the sample.
    fn check_sampling(&mut self, t: &[f64]) -> Result<(), Error> {
        for (k, &tk) in t.iter().enumerate() {
            let (first, dt) = self.clock;
            let bad = |allowed: String| {
                Err(AnalysisError::BadSetting {
                    what: format!("trace t_ms at sample {}", self.samples + k),
                    value: tk,
                    allowed,
                }
                .into())
            };
            if !tk.is_finite() {
                return bad("a finite time".into());
            }
            let index = self.samples + k;
            match (first, dt) {
                (None, _) => self.clock.0 = Some(tk),
                (Some(t0), None) if tk <= t0 => {
                    return bad(format!("a time after the sample before ({})", Number(t0)));
                }
                (Some(t0), None) => self.clock.1 = Some(tk - t0),
                (Some(t0), Some(dt))
                    if (tk - (t0 + index as f64 * dt)).abs()
                        > SAMPLING_RTOL * dt + rounding_drift(t0, dt, index, tk) =>
                {
                    return bad(format!(
                        "uniform sampling, {} (the first sample, {}, plus {index} intervals of the first, {}) to within {}% of that interval",
                        Number(t0 + index as f64 * dt),
                        Number(t0),
                        Number(dt),
                        100.0 * SAMPLING_RTOL
                    ));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Refuse a voltage that is not a number, naming the sample: a NaN would make its window's
    /// mean NaN and hide a crossing beside it.
    fn check_voltages(&self, v: &[f64]) -> Result<(), Error> {
        match v.iter().position(|x| !x.is_finite()) {
            Some(k) => Err(AnalysisError::BadSetting {
                what: format!("trace v_mv at sample {}", self.samples + k),
                value: v[k],
                allowed: "a finite voltage".into(),
            }
            .into()),
            None => Ok(()),
        }
    }

    /// Feed the next samples (times in ms, uniformly spaced, and V).
    pub fn push(&mut self, t_ms: &[f64], v_mv: &[f64]) -> Result<(), Error> {
        let n = t_ms.len().min(v_mv.len());
        self.check_sampling(&t_ms[..n])?;
        self.check_voltages(&v_mv[..n])?;
        let (mut t, mut v) = (&t_ms[..n], &v_mv[..n]);
        if self.streams.is_none() {
            let take = (2 - self.head.0.len()).min(n);
            self.head.0.extend(&t[..take]);
            self.head.1.extend(&v[..take]);
            (t, v) = (&t[take..], &v[take..]);
            if self.head.0.len() == 2 {
                let dt = self.head.0[1] - self.head.0[0];
                self.check_buffers(dt)?;
                let threshold = self.threshold_mv();
                let streams = self
                    .spec
                    .width
                    .iter()
                    .map(|&w| {
                        let step = self.spec.step.unwrap_or(w);
                        match &self.given {
                            Some((spikes, ..)) => {
                                WindowStream::with_spikes(dt, w, step, spikes.clone())
                            }
                            None => WindowStream::new(dt, w, step, threshold),
                        }
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                self.pending = vec![vec![]; streams.len()];
                self.streams = Some(streams);
                let (ht, hv) = std::mem::take(&mut self.head);
                self.feed(&ht, &hv)?;
            }
        }
        self.feed(t, v)?;
        self.samples += n;
        self.tracker
            .advance(1, &format!("{} samples", self.samples))?;
        Ok(())
    }

    /// Refuse, once the sampling `dt` is known and before any window, widths whose sample
    /// buffers would pass [`MAX_BUFFER_BYTES`] together.
    fn check_buffers(&self, dt: f64) -> Result<(), Error> {
        // A buffer grows to the trace's length at most, when that is known.
        let longest = self.expected.map_or(f64::INFINITY, |n| n as f64);
        let bytes: f64 = self
            .spec
            .width
            .iter()
            .map(|w| (w / dt + 1.0).min(longest) * 16.0)
            .sum();
        if bytes > MAX_BUFFER_BYTES {
            let widths = &self.spec.width;
            let given = if widths.len() <= 4 {
                widths
                    .iter()
                    .map(|&w| crate::error::short(w))
                    .collect::<Vec<_>>()
                    .join(", ")
            } else {
                let top = widths.iter().copied().fold(0.0, f64::max);
                format!("{} widths up to {}", widths.len(), crate::error::short(top))
            };
            return Err(SpecError::new(
                "width",
                given,
                format!(
                    "widths whose buffers of samples (16 bytes each) total at most {} at this trace's sampling of {} (they would take {}): fewer or shorter widths",
                    super::Bytes::display(MAX_BUFFER_BYTES),
                    crate::error::short(dt),
                    super::Bytes::display(bytes)
                ),
            )
            .into());
        }
        Ok(())
    }

    /// Rows of one width gathered before they are handed on: [`CHUNK_ROWS`] shared by the
    /// widths, so that many widths do not hold many chunks.
    fn chunk_rows(&self) -> usize {
        (CHUNK_ROWS / self.spec.width.len().max(1)).max(1 << 12)
    }

    /// Push samples into every width's stream and hand on full chunks.
    fn feed(&mut self, t: &[f64], v: &[f64]) -> Result<(), Error> {
        let chunk = self.chunk_rows();
        let Some(streams) = self.streams.as_mut() else {
            return Ok(());
        };
        for (k, s) in streams.iter_mut().enumerate() {
            s.push(t, v);
            self.pending[k].extend(s.drain());
            if self.pending[k].len() >= chunk {
                let rows = std::mem::take(&mut self.pending[k]);
                (self.sink)(k, s.width_ms(), rows)?;
            }
        }
        Ok(())
    }

    /// Close every width's last window and hand on the rest; the result holds the tallies
    /// (its `source` is empty and its `windows` `None`: the caller fills them in).
    pub fn finish(mut self) -> Result<WindowsResult, Error> {
        let Some(streams) = self.streams.take() else {
            return Err(AnalysisError::BadSetting {
                what: "trace length".into(),
                value: self.samples as f64,
                allowed: "at least 2 samples".into(),
            }
            .into());
        };
        let mut n_spikes = streams.first().map_or(0, |s| s.n_spikes);
        // Given spikes count where the trace is: those outside its time span (another clock,
        // a longer run) are left out, and the summary says how many.
        let mut spikes_from = self
            .given
            .as_ref()
            .map_or(SpikeSource::Crossings, |g| g.2.clone());
        if let (Some((spikes, ..)), (Some(t0), Some(dt))) = (&self.given, self.clock) {
            let last = t0 + (self.samples.max(1) - 1) as f64 * dt;
            let inside = spikes.iter().filter(|&&t| t >= t0 && t <= last).count();
            if let SpikeSource::File { outside, .. } = &mut spikes_from {
                *outside = spikes.len() - inside;
            }
            n_spikes = inside;
        }
        let mut tallies = vec![];
        for (k, s) in streams.into_iter().enumerate() {
            let (rest, tally) = s.finish();
            if tally.n_windows == 0 {
                // The width as given: the tally's, a whole number of samples, had been
                // 1.8e17 for a width of 1e308 (the count of samples saturated).
                return Err(AnalysisError::BadSetting {
                    what: "window width (ms)".into(),
                    value: self.spec.width.get(k).copied().unwrap_or(tally.width_ms),
                    allowed: format!("at most the trace's length ({} samples)", self.samples),
                }
                .into());
            }
            let mut rows = std::mem::take(&mut self.pending[k]);
            rows.extend(rest.windows);
            if !rows.is_empty() {
                (self.sink)(k, tally.width_ms, rows)?;
            }
            tallies.push(tally);
        }
        Ok(WindowsResult {
            spec: self.spec.clone(),
            source: String::new(),
            samples: self.samples,
            n_spikes,
            spikes_from,
            threshold_mv: self.threshold_mv(),
            tallies,
            windows: None,
            units: crate::model::Units::NEURON,
        })
    }
}

/// The run `windows` simulates when no trace file is given: the model from rest under these
/// stimuli, every sample kept.
#[derive(Debug, Clone, PartialEq, clap::Args, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct SimulateFirst {
    /// Simulate first: the model (`--model`, `--set`) under these stimuli (as `simulate`).
    #[arg(long, allow_hyphen_values = true)]
    #[serde(deserialize_with = "one_or_many")]
    pub stim: Vec<String>,
    /// Run length when simulating (ms).
    #[arg(long, allow_hyphen_values = true, default_value_t = 500.0)]
    pub t_max: f64,
    /// Time step when simulating (ms): also the trace's sampling interval.
    #[arg(long, allow_hyphen_values = true, default_value_t = 0.01)]
    pub dt: f64,
    /// Integration method when simulating (euler, exp-euler, rk4).
    #[arg(long, default_value = "rk4")]
    pub method: String,
    /// Memory budget for the simulated trace, held whole while its windows are computed
    /// (4GiB, 512MiB, …): a run estimated to need more is refused before it starts.
    #[arg(long, default_value = super::DEFAULT_MAX_MEMORY)]
    pub max_memory: super::Bytes,
}

impl Default for SimulateFirst {
    fn default() -> Self {
        super::defaults()
    }
}

impl SimulateFirst {
    /// The settings of the run, spikes at `threshold_mv`; checks every value (a `file:`
    /// stimulus part is read).
    pub fn settings(&self, threshold_mv: f64) -> Result<(Stimulus, Settings), Error> {
        if self.stim.is_empty() {
            return Err(SpecError::new("stim", "(none)", "at least one stimulus").into());
        }
        let stim = Stimulus::parse_all(&self.stim)?;
        let method = Method::parse(
            &self.method,
            EulerOrder::Simultaneous,
            Tolerances::default(),
        )
        .map_err(|reason| SimError::Unsupported {
            what: "method".into(),
            reason,
        })?;
        let s = Settings {
            t_max: self.t_max,
            dt: self.dt,
            method,
            record: Record::Full,
            threshold_mv,
        };
        s.steps()?;
        Ok((stim, s))
    }

    /// Refuse, before any work, a simulated trace of `model` that would pass `max_memory`
    /// (every sample of every variable is held while the windows are computed).
    pub fn check_memory(&self, model: &Model, threshold_mv: f64) -> Result<(), Error> {
        let (_, s) = self.settings(threshold_mv)?;
        let samples = s.steps()? as f64 + 1.0;
        let columns = model.var_names().len() as f64 + 2.0;
        super::memory(
            samples * columns * 8.0 * 1.2,
            self.max_memory,
            &format!(
                "{} samples × {columns} columns of 8 bytes",
                crate::error::short(samples)
            ),
            "a shorter t_max, a larger dt, or simulate with --record every:K and give the trace file (--trace), which is read in slices",
        )?;
        Ok(())
    }

    /// Run `model` from rest, asking `observer` whether to go on; returns the run and what it
    /// is, in words.
    pub fn run(
        &self,
        model: &Model,
        threshold_mv: f64,
        observer: &dyn crate::progress::Observer,
    ) -> Result<(Run, String), Error> {
        self.check_memory(model, threshold_mv)?;
        let (stim, s) = self.settings(threshold_mv)?;
        let y0 = model.initial_state(&InitialState::Rest)?;
        let tracker = crate::progress::Tracker::new(observer, "simulation", None);
        let run = simulate::run_until(model, &stim, &y0, &s, &|| tracker.go_on())?;
        // An `.ode` file carries no units: its times are in its own unit.
        let ms = if model.units().known() { " ms" } else { "" };
        let about = format!(
            "a {}{ms} run of `{}` ({}, dt {}{ms}, stimulus {})",
            self.t_max,
            model.label(),
            self.method,
            self.dt,
            self.stim.join(" + ")
        );
        Ok((run, about))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Many widths are refused by `validate`; widths whose sample buffers would pass 1 GiB at
    /// the trace's sampling are refused at the first two samples, naming `width`; a chunk of
    /// rows is shared by the widths.
    #[test]
    fn many_or_long_widths_are_refused_before_the_windows() {
        let many = WindowsSpec {
            width: vec![1.0; MAX_WIDTHS + 1],
            ..Default::default()
        };
        assert_eq!(many.validate().unwrap_err().field, "width");
        let long = WindowsSpec {
            width: vec![1e4; 10],
            ..Default::default()
        };
        long.validate().unwrap();
        let silent = crate::progress::Silent;
        let mut w = TraceWindows::new(&long, &silent, None, |_, _, _| Ok(())).unwrap();
        // 10 widths of 1e4 ms at 1e-4 ms: 1e9 samples of 16 bytes in all, 14.9 GiB (1 GiB allowed).
        let e = w.push(&[0.0, 1e-4, 2e-4], &[-65.0; 3]).unwrap_err();
        let text = e.to_string();
        assert!(
            text.starts_with("width = 10 widths up to 10000") && text.contains("14.9 GiB"),
            "{e}"
        );
        let fine = WindowsSpec {
            width: vec![1.0; 64],
            ..Default::default()
        };
        let w = TraceWindows::new(&fine, &silent, None, |_, _, _| Ok(())).unwrap();
        assert_eq!(w.chunk_rows(), CHUNK_ROWS / 64);
    }

    #[test]
    fn defaults_need_a_width_and_bad_values_name_their_field() {
        let d = WindowsSpec::default();
        assert!(d.width.is_empty() && d.step.is_none() && d.threshold.is_none());
        assert_eq!(d.validate().unwrap_err().field, "width");
        let ok = WindowsSpec {
            width: vec![1.0, 5.0],
            ..d
        };
        assert!(ok.validate().is_ok());
        let field = |s: WindowsSpec| s.validate().unwrap_err().field;
        assert_eq!(
            field(WindowsSpec {
                width: vec![1.0, -1.0],
                ..ok.clone()
            }),
            "width"
        );
        assert_eq!(
            field(WindowsSpec {
                step: Some(0.0),
                ..ok.clone()
            }),
            "step"
        );
        assert_eq!(
            field(WindowsSpec {
                threshold: Some(f64::NAN),
                ..ok.clone()
            }),
            "threshold"
        );
        assert!(
            SimulateFirst::default().settings(0.0).is_err(),
            "no stimulus"
        );
    }

    /// A trace whose times do not follow at its first interval (a gap, a repeat, a step
    /// back, a NaN) is refused at that sample, in any slice; rounding of a simulated grid
    /// (times accumulated by adding dt) is not.
    #[test]
    fn a_trace_not_uniformly_sampled_is_refused_at_its_first_bad_sample() {
        let spec = WindowsSpec {
            width: vec![10.0],
            ..WindowsSpec::default()
        };
        let grid = |n: usize| (0..n).map(|k| k as f64 * 0.1).collect::<Vec<f64>>();
        let mut summed = vec![0.0f64; 400_000];
        for k in 1..summed.len() {
            summed[k] = summed[k - 1] + 0.01;
        }
        assert!(spec.run_trace(&summed, &vec![0.0; summed.len()]).is_ok());
        for (at, value) in [(2, 1.1), (150_000, -1e9), (7, 0.6), (9, f64::NAN), (1, 0.0)] {
            let mut t = grid(200_000);
            t[at] = value;
            let e = spec
                .run_trace(&t, &vec![0.0; t.len()])
                .unwrap_err()
                .to_string();
            assert!(e.contains(&format!("trace t_ms at sample {at} ")), "{e}");
        }
        // Every interval within 5% of the first, but the clock drifts: 0.1 ms, then 0.104
        // (sample 3 is 0.008 ms, 8% of an interval, off t0 + 3 dt); or a short first interval.
        let drift: Vec<f64> = (0..200_000)
            .map(|k| {
                if k == 0 {
                    0.0
                } else {
                    0.1 + 0.104 * (k - 1) as f64
                }
            })
            .collect();
        let short: Vec<f64> = (0..200_000)
            .map(|k| {
                if k == 0 {
                    0.0
                } else {
                    0.096 + 0.1 * (k - 1) as f64
                }
            })
            .collect();
        for (t, at) in [(drift, 3), (short, 3)] {
            let e = spec
                .run_trace(&t, &vec![0.0; t.len()])
                .unwrap_err()
                .to_string();
            assert!(e.contains(&format!("trace t_ms at sample {at} ")), "{e}");
        }
        // Times stored in f32 from 1000 ms at 0.025 ms: rounding only, accepted (the first
        // interval's rounding, carried to every sample, had refused it at sample 52).
        let f32_times: Vec<f64> = (0..200_000)
            .map(|k| f64::from((1000.0 + 0.025 * k as f64) as f32))
            .collect();
        assert!(
            spec.run_trace(&f32_times, &vec![0.0; f32_times.len()])
                .is_ok()
        );
        let mut v = vec![0.0; 200_000];
        v[12_345] = f64::NAN;
        let e = spec.run_trace(&grid(200_000), &v).unwrap_err().to_string();
        assert!(e.contains("trace v_mv at sample 12345 "), "{e}");
    }

    #[test]
    fn in_memory_and_streamed_windows_agree() {
        use crate::analysis::windows::sliding_windows;
        use crate::simulate::spikes::detect;
        let t: Vec<f64> = (0..30_001).map(|k| k as f64 * 0.01).collect();
        let v: Vec<f64> = t
            .iter()
            .map(|x| 60.0 * (x * 0.9).sin() - 20.0 + 5.0 * (x * 13.0).cos())
            .collect();
        let spec = WindowsSpec {
            width: vec![0.1, 1.0, 3.33],
            step: None,
            threshold: Some(0.0),
        };
        let r = spec.run_trace(&t, &v).unwrap();
        assert_eq!(r.samples, t.len());
        let spikes = detect(&t, &v, 0.0);
        assert_eq!(r.n_spikes, spikes.len());
        let sets = r.windows.as_ref().unwrap();
        for (k, &w) in spec.width.iter().enumerate() {
            let whole = sliding_windows(&t, &v, &spikes, w, w).unwrap();
            assert_eq!(sets[k], whole);
            assert_eq!(r.tallies[k], WindowTally::of(&whole));
        }
        // Fed one sample at a time, rows handed on as they close: the same windows.
        let mut streamed: Vec<Vec<Window>> = vec![vec![]; 3];
        let mut w = TraceWindows::new(&spec, &Silent, None, |k, _, rows| {
            streamed[k].extend(rows);
            Ok(())
        })
        .unwrap();
        for (a, b) in t.chunks(1).zip(v.chunks(1)) {
            w.push(a, b).unwrap();
        }
        let s = w.finish().unwrap();
        assert_eq!(s.tallies, r.tallies);
        for (k, set) in sets.iter().enumerate() {
            assert_eq!(streamed[k], set.windows);
        }
        // Too short a trace, too wide a window: refused.
        assert!(spec.run_trace(&t[..1], &v[..1]).is_err());
        let wide = WindowsSpec {
            width: vec![1000.0],
            ..spec
        };
        assert!(wide.run_trace(&t, &v).is_err());
    }
}
