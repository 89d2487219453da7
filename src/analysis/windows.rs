//! Firing and voltage in sliding windows of a sampled trace (what `002_…` measures).
//!
//! A window of width W spans `round(W / dt)` samples; windows start at sample 0 and every
//! `round(step / dt)` samples after it; a trailing window that would run past the last sample is
//! dropped (and counted). Spikes are counted in [start, start + W). Rate = spikes / W.

use crate::error::AnalysisError;

/// One window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    pub start_ms: f64,
    pub n_spikes: u32,
    pub v_mean_mv: f64,
    pub v_max_mv: f64,
    pub v_min_mv: f64,
}

/// All windows of one width, with what was dropped.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowSet {
    pub width_ms: f64,
    pub step_ms: f64,
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

/// Windows of `width_ms` moved by `step_ms` over a uniformly sampled trace.
pub fn sliding_windows(
    t_ms: &[f64],
    v_mv: &[f64],
    spikes_ms: &[f64],
    width_ms: f64,
    step_ms: f64,
) -> Result<WindowSet, AnalysisError> {
    let bad = |what: &str, value: f64, allowed: &str| AnalysisError::BadSetting {
        what: what.into(),
        value,
        allowed: allowed.into(),
    };
    if t_ms.len() < 2 || v_mv.len() != t_ms.len() {
        return Err(bad(
            "trace length",
            t_ms.len() as f64,
            "at least 2 samples with one V per time",
        ));
    }
    let dt = t_ms[1] - t_ms[0];
    if dt.is_nan() || dt <= 0.0 {
        return Err(bad(
            "trace sampling interval (ms)",
            dt,
            "times must increase",
        ));
    }
    let w = (width_ms / dt).round() as usize;
    let s = (step_ms / dt).round() as usize;
    if !(width_ms.is_finite() && w >= 1) {
        return Err(bad(
            "window width (ms)",
            width_ms,
            &format!("at least one sample ({dt} ms)"),
        ));
    }
    if !(step_ms.is_finite() && s >= 1) {
        return Err(bad(
            "window step (ms)",
            step_ms,
            &format!("at least one sample ({dt} ms)"),
        ));
    }
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
        let seg = &v_mv[a..a + w];
        let (mut sum, mut hi, mut lo) = (0.0, f64::NEG_INFINITY, f64::INFINITY);
        for &v in seg {
            sum += v;
            hi = hi.max(v);
            lo = lo.min(v);
        }
        let start = t_ms[a];
        while first_spike < spikes_ms.len() && spikes_ms[first_spike] < start {
            first_spike += 1;
        }
        let n_spikes = spikes_ms[first_spike..].partition_point(|&t| t < start + width) as u32;
        windows.push(Window {
            start_ms: start,
            n_spikes,
            v_mean_mv: sum / w as f64,
            v_max_mv: hi,
            v_min_mv: lo,
        });
    }
    let dropped_samples = n - ((count - 1) * s + w);
    Ok(WindowSet {
        width_ms: width,
        step_ms: s as f64 * dt,
        windows,
        dropped_samples,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_counts_and_drops_the_partial_window() {
        let t: Vec<f64> = (0..1001).map(|k| k as f64 * 0.01).collect();
        let v: Vec<f64> = t
            .iter()
            .map(|x| if *x < 5.0 { -60.0 } else { 20.0 })
            .collect();
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
}
