//! Firing and voltage in sliding windows of a sampled trace (what `002_…` measures).
//!
//! A window of width W spans `round(W / dt)` samples; windows start at sample 0 and every
//! `round(step / dt)` samples after it; a trailing window that would run past the last sample is
//! dropped (and counted). Spikes are counted in [start, start + W). Rate = spikes / W.

use crate::error::AnalysisError;

/// One window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    /// Time of the window's first sample (ms).
    pub start_ms: f64,
    /// Spikes in [start, start + width).
    pub n_spikes: u32,
    /// Mean V over the window's samples (mV).
    pub v_mean_mv: f64,
    /// Highest V (mV).
    pub v_max_mv: f64,
    /// Lowest V (mV).
    pub v_min_mv: f64,
}

/// All windows of one width, with what was dropped.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowSet {
    /// Width (ms): a whole number of samples.
    pub width_ms: f64,
    /// Step between window starts (ms): a whole number of samples.
    pub step_ms: f64,
    /// The windows, in time order.
    pub windows: Vec<Window>,
    /// Trailing samples not covered by a whole window.
    pub dropped_samples: usize,
}

impl WindowSet {
    /// Fraction of windows with at least one spike.
    pub fn fraction_fired(&self) -> f64 {
        self.windows.iter().filter(|w| w.n_spikes > 0).count() as f64
            / self.windows.len().max(1) as f64
    }

    /// Rate (Hz) of each window.
    pub fn rates_hz(&self) -> Vec<f64> {
        self.windows
            .iter()
            .map(|w| w.n_spikes as f64 / self.width_ms * 1000.0)
            .collect()
    }
}

/// A running summary of the windows of one width, in constant memory whatever the trace
/// length: counts, rate moments, and histograms of window mean V and max V (2 mV bins from
/// -100 mV; values outside go to the end bins) for the two voltage populations `002_…` sees.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowTally {
    /// Width (ms): a whole number of samples.
    pub width_ms: f64,
    /// Step between window starts (ms).
    pub step_ms: f64,
    /// Windows counted.
    pub n_windows: u64,
    /// Windows with at least one spike.
    pub n_fired: u64,
    rate_sum: f64,
    rate_sumsq: f64,
    /// Counts of window mean V per bin (see [`WindowTally::HIST_LO_MV`]).
    pub hist_mean: Vec<u64>,
    /// Counts of window max V per bin.
    pub hist_max: Vec<u64>,
    /// Trailing samples not covered by a whole window.
    pub dropped_samples: usize,
}

impl WindowTally {
    /// Left edge of the first histogram bin (mV).
    pub const HIST_LO_MV: f64 = -100.0;
    /// Bin width (mV).
    pub const HIST_BIN_MV: f64 = 2.0;
    /// Number of bins (-100 to 80 mV).
    pub const HIST_BINS: usize = 90;

    /// An empty tally of windows of `width_ms` every `step_ms`.
    pub fn new(width_ms: f64, step_ms: f64) -> WindowTally {
        WindowTally {
            width_ms,
            step_ms,
            n_windows: 0,
            n_fired: 0,
            rate_sum: 0.0,
            rate_sumsq: 0.0,
            hist_mean: vec![0; Self::HIST_BINS],
            hist_max: vec![0; Self::HIST_BINS],
            dropped_samples: 0,
        }
    }

    /// The tally of a complete set.
    pub fn of(set: &WindowSet) -> WindowTally {
        let mut t = WindowTally::new(set.width_ms, set.step_ms);
        set.windows.iter().for_each(|w| t.add(w));
        t.dropped_samples = set.dropped_samples;
        t
    }

    /// Count one window.
    pub fn add(&mut self, w: &Window) {
        let bin = |v: f64| {
            (((v - Self::HIST_LO_MV) / Self::HIST_BIN_MV)
                .floor()
                .max(0.0) as usize)
                .min(Self::HIST_BINS - 1)
        };
        let r = w.n_spikes as f64 / self.width_ms * 1000.0;
        self.n_windows += 1;
        self.n_fired += u64::from(w.n_spikes > 0);
        self.rate_sum += r;
        self.rate_sumsq += r * r;
        if w.v_mean_mv.is_finite() {
            self.hist_mean[bin(w.v_mean_mv)] += 1;
        }
        if w.v_max_mv.is_finite() {
            self.hist_max[bin(w.v_max_mv)] += 1;
        }
    }

    /// Fraction of windows with at least one spike.
    pub fn fraction_fired(&self) -> f64 {
        self.n_fired as f64 / self.n_windows.max(1) as f64
    }

    /// Mean and standard deviation (ddof 0) of the window rates (Hz).
    pub fn rate_mean_std(&self) -> (f64, f64) {
        let n = self.n_windows.max(1) as f64;
        let m = self.rate_sum / n;
        (m, (self.rate_sumsq / n - m * m).max(0.0).sqrt())
    }
}

/// `(width, step)` in samples of `dt`, each at least one sample; the error names the field.
fn window_samples(dt: f64, width_ms: f64, step_ms: f64) -> Result<(usize, usize), AnalysisError> {
    if dt.is_nan() || dt <= 0.0 {
        return Err(bad(
            "trace sampling interval (ms)",
            dt,
            "times must increase",
        ));
    }
    let (w, s) = (
        (width_ms / dt).round() as usize,
        (step_ms / dt).round() as usize,
    );
    for (what, ms, samples) in [
        ("window width (ms)", width_ms, w),
        ("window step (ms)", step_ms, s),
    ] {
        if !(ms.is_finite() && samples >= 1) {
            return Err(bad(what, ms, &format!("at least one sample ({dt} ms)")));
        }
    }
    Ok((w, s))
}

fn bad(what: &str, value: f64, allowed: &str) -> AnalysisError {
    AnalysisError::BadSetting {
        what: what.into(),
        value,
        allowed: allowed.into(),
    }
}

/// One window from its start, its samples and its spike count.
fn summarise(start_ms: f64, samples: impl Iterator<Item = f64>, n_spikes: u32) -> Window {
    let (mut sum, mut hi, mut lo, mut k) = (0.0, f64::NEG_INFINITY, f64::INFINITY, 0usize);
    for v in samples {
        sum += v;
        hi = hi.max(v);
        lo = lo.min(v);
        k += 1;
    }
    Window {
        start_ms,
        n_spikes,
        v_mean_mv: sum / k as f64,
        v_max_mv: hi,
        v_min_mv: lo,
    }
}

/// Windows of `width_ms` moved by `step_ms` over a uniformly sampled trace.
pub fn sliding_windows(
    t_ms: &[f64],
    v_mv: &[f64],
    spikes_ms: &[f64],
    width_ms: f64,
    step_ms: f64,
) -> Result<WindowSet, AnalysisError> {
    if t_ms.len() < 2 || v_mv.len() != t_ms.len() {
        return Err(bad(
            "trace length",
            t_ms.len() as f64,
            "at least 2 samples with one V per time",
        ));
    }
    let dt = t_ms[1] - t_ms[0];
    let (w, s) = window_samples(dt, width_ms, step_ms)?;
    let n = t_ms.len();
    if w > n {
        return Err(bad(
            "window width (ms)",
            width_ms,
            &format!("at most the trace length ({} ms)", n as f64 * dt),
        ));
    }
    let count = (n - w) / s + 1;
    let width = w as f64 * dt;
    let mut windows = Vec::with_capacity(count);
    let mut first_spike = 0usize;
    for k in 0..count {
        let a = k * s;
        let start = t_ms[a];
        while first_spike < spikes_ms.len() && spikes_ms[first_spike] < start {
            first_spike += 1;
        }
        let n_spikes = spikes_ms[first_spike..].partition_point(|&t| t < start + width) as u32;
        windows.push(summarise(start, v_mv[a..a + w].iter().copied(), n_spikes));
    }
    let dropped_samples = n - ((count - 1) * s + w);
    Ok(WindowSet {
        width_ms: width,
        step_ms: s as f64 * dt,
        windows,
        dropped_samples,
    })
}

/// [`sliding_windows`] over a trace fed in pieces, for traces too long to hold: memory is the
/// window (plus one sample) and the spikes not yet behind every open window, whatever the trace
/// length (spikes given beforehand, [`WindowStream::with_spikes`], are all held). Spikes are the upward crossings of `threshold` between consecutive samples (linear
/// interpolation, as [`crate::simulate::spikes::detect`]); the result equals
/// `sliding_windows(t, v, detect(t, v, threshold), width, step)` on the whole trace.
pub struct WindowStream {
    w: usize,
    s: usize,
    dt: f64,
    threshold: f64,
    /// The last `w + 1` samples (time, V).
    buf: std::collections::VecDeque<(f64, f64)>,
    /// Samples consumed so far.
    seen: usize,
    spikes: std::collections::VecDeque<f64>,
    /// Whether spikes are detected in the samples (else they were given, [`WindowStream::with_spikes`]).
    detect: bool,
    /// Total spikes detected.
    pub n_spikes: usize,
    /// Windows emitted and not yet taken by [`WindowStream::drain`].
    pub windows: Vec<Window>,
    tally: WindowTally,
}

impl WindowStream {
    /// Windows of `width_ms` every `step_ms` over a trace sampled every `dt` ms.
    pub fn new(
        dt: f64,
        width_ms: f64,
        step_ms: f64,
        threshold: f64,
    ) -> Result<Self, AnalysisError> {
        let (w, s) = window_samples(dt, width_ms, step_ms)?;
        Ok(WindowStream {
            w,
            s,
            dt,
            threshold,
            buf: Default::default(),
            seen: 0,
            spikes: Default::default(),
            detect: true,
            n_spikes: 0,
            windows: Vec::new(),
            tally: WindowTally::new(w as f64 * dt, s as f64 * dt),
        })
    }

    /// [`WindowStream::new`] counting the spikes `spikes_ms` (in time order) instead of
    /// detecting them: a simulated run's own, which a reset model (LIF) has where no sample
    /// crosses a threshold. The result equals `sliding_windows(t, v, spikes_ms, width, step)`.
    pub fn with_spikes(
        dt: f64,
        width_ms: f64,
        step_ms: f64,
        spikes_ms: Vec<f64>,
    ) -> Result<Self, AnalysisError> {
        let mut s = WindowStream::new(dt, width_ms, step_ms, f64::NAN)?;
        s.detect = false;
        s.n_spikes = spikes_ms.len();
        s.spikes = spikes_ms.into();
        Ok(s)
    }

    /// The window width (ms), a whole number of samples.
    pub fn width_ms(&self) -> f64 {
        self.tally.width_ms
    }

    /// Take the windows emitted so far (to write them out and keep memory flat); the tally
    /// keeps counting every window.
    pub fn drain(&mut self) -> Vec<Window> {
        std::mem::take(&mut self.windows)
    }

    /// Feed the next samples, in time order.
    pub fn push(&mut self, t_ms: &[f64], v_mv: &[f64]) {
        for (&t, &v) in t_ms.iter().zip(v_mv) {
            if self.detect
                && let Some(&(t0, v0)) = self.buf.back()
                && v0 < self.threshold
                && v >= self.threshold
            {
                self.spikes
                    .push_back(t0 + (t - t0) * (self.threshold - v0) / (v - v0));
                self.n_spikes += 1;
            }
            self.buf.push_back((t, v));
            if self.buf.len() > self.w + 1 {
                self.buf.pop_front();
            }
            self.seen += 1;
            // The window ending just before this sample is complete: the crossing into this
            // sample is known, and it may still fall inside that window.
            let j = self.seen - 1;
            if j >= self.w && (j - self.w).is_multiple_of(self.s) {
                self.emit(self.w);
            }
        }
    }

    /// Close the last window (ending at the final sample); returns the windows not drained
    /// and the tally of all of them.
    pub fn finish(mut self) -> (WindowSet, WindowTally) {
        let n = self.seen;
        if n >= self.w && (n - self.w).is_multiple_of(self.s) && self.buf.len() == self.w + 1 {
            self.buf.pop_front();
            self.emit(self.w);
        } else if n == self.w && self.buf.len() == self.w {
            self.emit(self.w);
        }
        let count = self.tally.n_windows as usize;
        let covered = if count == 0 {
            0
        } else {
            (count - 1) * self.s + self.w
        };
        self.tally.dropped_samples = n.saturating_sub(covered);
        let set = WindowSet {
            width_ms: self.tally.width_ms,
            step_ms: self.tally.step_ms,
            windows: self.windows,
            dropped_samples: self.tally.dropped_samples,
        };
        (set, self.tally)
    }

    /// Summarise the first `w` samples of the buffer as one window.
    fn emit(&mut self, w: usize) {
        let start = self.buf[0].0;
        // Spikes before this window's start are behind every later window too.
        while self.spikes.front().is_some_and(|&t| t < start) {
            self.spikes.pop_front();
        }
        let end = start + w as f64 * self.dt;
        let n_spikes = self.spikes.iter().take_while(|&&t| t < end).count() as u32;
        let window = summarise(start, self.buf.iter().take(w).map(|&(_, v)| v), n_spikes);
        self.tally.add(&window);
        self.windows.push(window);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::spikes::detect;

    /// `n` samples every 0.01 ms from t = 0 (times, and V(t) in mV).
    fn trace(n: usize, v: impl Fn(f64) -> f64) -> (Vec<f64>, Vec<f64>) {
        let t: Vec<f64> = (0..n).map(|k| k as f64 * 0.01).collect();
        let v = t.iter().map(|&x| v(x)).collect();
        (t, v)
    }

    #[test]
    fn tiles_counts_and_drops_the_partial_window() {
        let (t, v) = trace(1001, |x| if x < 5.0 { -60.0 } else { 20.0 });
        let spikes = [0.5, 4.99, 5.0, 9.0];
        let ws = sliding_windows(&t, &v, &spikes, 1.0, 1.0).unwrap();
        assert_eq!(ws.windows.len(), 10);
        assert_eq!(ws.dropped_samples, 1);
        let counts: Vec<u32> = ws.windows.iter().map(|w| w.n_spikes).collect();
        assert_eq!(counts, [1, 0, 0, 0, 1, 1, 0, 0, 0, 1]);
        assert_eq!(ws.windows[4].v_mean_mv, -60.0);
        assert_eq!(ws.windows[5].v_min_mv, 20.0);
        assert!((ws.fraction_fired() - 0.4).abs() < 1e-12);
        assert_eq!(ws.rates_hz()[0], 1000.0);
        // Overlapping windows: step 0.5 ms.
        assert_eq!(
            sliding_windows(&t, &v, &spikes, 1.0, 0.5)
                .unwrap()
                .windows
                .len(),
            19
        );
        assert!(sliding_windows(&t, &v, &spikes, 0.0, 1.0).is_err());
    }

    #[test]
    fn streaming_equals_the_whole_trace_in_any_pieces() {
        let (t, v) = trace(20_001, |x| {
            60.0 * (x * 0.9).sin() - 20.0 + 5.0 * (x * 13.0).cos()
        });
        let spikes = detect(&t, &v, 0.0);
        for (width, step) in [(0.1, 0.1), (1.0, 1.0), (5.0, 5.0), (1.0, 0.3), (3.33, 3.33)] {
            let whole = sliding_windows(&t, &v, &spikes, width, step).unwrap();
            for piece in [1usize, 7, 1000, 20_001] {
                let mut s = WindowStream::new(0.01, width, step, 0.0).unwrap();
                // Windows drained after every piece, as a streaming writer does.
                let mut drained = vec![];
                for (a, b) in t.chunks(piece).zip(v.chunks(piece)) {
                    s.push(a, b);
                    drained.extend(s.drain());
                }
                assert_eq!(s.n_spikes, spikes.len());
                let (rest, tally) = s.finish();
                drained.extend(rest.windows);
                assert_eq!(
                    drained, whole.windows,
                    "width {width} step {step} pieces {piece}"
                );
                assert_eq!(rest.dropped_samples, whole.dropped_samples);
                assert_eq!(tally, WindowTally::of(&whole));
            }
        }
    }
}
