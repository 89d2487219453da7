//! Input-output timing: how output spikes relate to input events (what `002_…` calls the
//! timing becoming decoupled).

use super::chance::{Chance, chance_of_answers};
use super::spike_stats::within;
use crate::stimulus::{Component, Stimulus};
use std::f64::consts::PI;

/// Latest latency (ms) that still counts as an answer to a pulse in [`io_timing`].
pub const MAX_LATENCY_MS: f64 = 50.0;
/// Bin width (ms) of the pulse-spike cross-correlogram in [`io_timing`].
pub const CCG_BIN_MS: f64 = 1.0;
/// The correlogram spans lags in [-CCG_MAX_LAG_MS, CCG_MAX_LAG_MS) ms.
pub const CCG_MAX_LAG_MS: f64 = 50.0;
/// The spike-triggered average covers this long (ms) before each spike.
pub const STA_WINDOW_MS: f64 = 20.0;
/// The input is sampled every this many ms for the spike-triggered average.
pub const STA_DT_MS: f64 = 0.1;

/// How the spikes of every neuron relate to an input: onsets of its pulses and steps, and,
/// for a sine, its frequency.
#[derive(Debug, Clone, PartialEq)]
pub struct IoTiming {
    /// Onsets (ms, sorted) of the input's pulses and steps: the events latencies are measured from.
    pub onsets_ms: Vec<f64>,
    /// The frequency (Hz) of the input's first sine component, if it has one.
    pub freq_hz: Option<f64>,
    /// One entry per neuron, in order.
    pub neurons: Vec<NeuronTiming>,
}

/// One neuron's timing against the input of an [`IoTiming`].
#[derive(Debug, Clone, PartialEq)]
pub struct NeuronTiming {
    /// Latency to each onset (NaN where unanswered) and the fraction answered.
    pub response: PulseResponse,
    /// What the cell's baseline firing answers by chance ([`super::chance`]).
    pub chance: Chance,
    /// Mean of the latencies of the answered onsets (ms); NaN when none was answered.
    pub latency_mean_ms: f64,
    /// Their standard deviation (ms, ddof 0); NaN when none was answered.
    pub latency_sd_ms: f64,
    /// Vector strength (0 to 1) against the sine input; NaN without a sine.
    pub vector_strength: f64,
    /// Preferred phase (radians) against the sine input; NaN without a sine.
    pub preferred_phase_rad: f64,
    /// Left edges (ms) of the correlogram's bins.
    pub ccg_lags_ms: Vec<f64>,
    /// Counts of (spike - onset) lags per bin.
    pub ccg_counts: Vec<u32>,
    /// Lags (ms, negative = before the spike) of the spike-triggered average.
    pub sta_lags_ms: Vec<f64>,
    /// Mean input (uA/cm^2) at each lag before a spike.
    pub sta_mean: Vec<f64>,
}

/// Latencies per onset, the fraction of onsets answered, the onset-spike cross-correlogram,
/// the spike-triggered average of the input (sampled every [`STA_DT_MS`] over
/// [t_start, t_stop) ms) and, for a sine input, vector strength, for each spike train.
///
/// Only what lies in the analysed interval counts: spikes in [t_start, t_stop] (the
/// statistics' interval) and onsets in [t_start, t_stop); an onset not answered by t_stop
/// whose answer window ([`answer_windows`]) runs past it is undecided and left out of the
/// fraction answered. A pulse after the recording, or too close to its end to be answered
/// within it, had counted as a miss, and one before t_start as answered by spikes outside it.
pub fn io_timing(stim: &Stimulus, trains: &[Vec<f64>], t_start: f64, t_stop: f64) -> IoTiming {
    let mut onsets_ms: Vec<f64> = stim
        .components
        .iter()
        .flat_map(|c| match c {
            Component::Step { start, .. } => vec![*start],
            Component::Pulses { times, .. } => times.clone(),
            _ => vec![],
        })
        .filter(|&t| t >= t_start && t < t_stop)
        .collect();
    onsets_ms.sort_by(f64::total_cmp);
    let windows = answer_windows(&onsets_ms, MAX_LATENCY_MS);
    let n = ((t_stop - t_start) / STA_DT_MS) as usize;
    let input = |k: usize| stim.at(t_start + k as f64 * STA_DT_MS);
    let freq_hz = stim.components.iter().find_map(|c| {
        if let Component::Sine { freq_hz, .. } = c {
            Some(*freq_hz)
        } else {
            None
        }
    });
    let neurons = trains
        .iter()
        .map(|train| {
            let train = &within(train, t_start, t_stop);
            let mut response = responses(&windows, train);
            let answered = response.latency_ms.iter().filter(|l| !l.is_nan()).count();
            // A pulse unanswered by t_stop whose window runs past it is undecided: left out
            // of the fraction and of the chance level, as a miss it had lowered both.
            let decided: Vec<(f64, f64)> = windows
                .iter()
                .zip(&response.latency_ms)
                .filter(|&(&(_, to), l)| !l.is_nan() || to <= t_stop)
                .map(|(&(from, to), _)| (from, to.min(t_stop)))
                .collect();
            response.fraction_answered = answered as f64 / decided.len().max(1) as f64;
            response.undecided = windows.len() - decided.len();
            let chance = chance_of_answers(&decided, answered, train, t_start, t_stop);
            let l: Vec<f64> = response
                .latency_ms
                .iter()
                .copied()
                .filter(|x| !x.is_nan())
                .collect();
            let mean = l.iter().sum::<f64>() / l.len() as f64;
            let sd = (l.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / l.len() as f64).sqrt();
            let (vs, ph) = freq_hz.map_or((f64::NAN, f64::NAN), |f| vector_strength(train, f));
            let (ccg_lags_ms, ccg_counts) =
                cross_correlogram(&onsets_ms, train, CCG_BIN_MS, CCG_MAX_LAG_MS);
            let (sta_lags_ms, sta_mean, _) =
                triggered_average(t_start, STA_DT_MS, n, input, train, STA_WINDOW_MS);
            NeuronTiming {
                response,
                chance,
                latency_mean_ms: mean,
                latency_sd_ms: sd,
                vector_strength: vs,
                preferred_phase_rad: ph,
                ccg_lags_ms,
                ccg_counts,
                sta_lags_ms,
                sta_mean,
            }
        })
        .collect();
    IoTiming {
        onsets_ms,
        freq_hz,
        neurons,
    }
}

/// Response of a spike train to a sequence of input pulses.
#[derive(Debug, Clone, PartialEq)]
pub struct PulseResponse {
    /// Latency (ms) from each pulse onset to the first spike after it and before the next
    /// onset (and within `max_latency_ms`); NaN when the pulse was not answered.
    pub latency_ms: Vec<f64>,
    /// Fraction of the decided pulses answered ([`io_timing`]: a pulse unanswered by t_stop
    /// whose answer window runs past t_stop is undecided).
    pub fraction_answered: f64,
    /// Pulses left out of the fraction as undecided.
    pub undecided: usize,
}

/// The answer window of each onset (sorted, ms): from it to the next onset or
/// `max_latency_ms` after it, whichever is first; [from, to).
pub fn answer_windows(onsets: &[f64], max_latency_ms: f64) -> Vec<(f64, f64)> {
    onsets
        .iter()
        .enumerate()
        .map(|(k, &t0)| {
            let next = onsets.get(k + 1).copied().unwrap_or(f64::INFINITY);
            (t0, next.min(t0 + max_latency_ms))
        })
        .collect()
}

/// Latency from each onset (sorted, ms) to the first spike (sorted, ms) in its answer window
/// ([`answer_windows`]).
pub fn pulse_response(onsets: &[f64], spikes: &[f64], max_latency_ms: f64) -> PulseResponse {
    responses(&answer_windows(onsets, max_latency_ms), spikes)
}

/// [`pulse_response`] over given answer `windows` (onset, end).
fn responses(windows: &[(f64, f64)], spikes: &[f64]) -> PulseResponse {
    let latency_ms: Vec<f64> = windows
        .iter()
        .copied()
        .map(|(t0, until)| {
            let i = spikes.partition_point(|&s| s < t0);
            match spikes.get(i) {
                Some(&s) if s < until => s - t0,
                _ => f64::NAN,
            }
        })
        .collect();
    let answered = latency_ms.iter().filter(|l| !l.is_nan()).count();
    PulseResponse {
        fraction_answered: answered as f64 / windows.len().max(1) as f64,
        undecided: 0,
        latency_ms,
    }
}

/// Vector strength (0 to 1) and preferred phase (radians in (-pi, pi], 0 = the input's zero
/// phase) of spikes relative to a periodic input of `freq_hz`; NaN for no spikes.
pub fn vector_strength(spikes: &[f64], freq_hz: f64) -> (f64, f64) {
    if spikes.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let w = 2.0 * PI * freq_hz / 1000.0;
    let (c, s) = spikes.iter().fold((0.0, 0.0), |(c, s), &t| {
        (c + (w * t).cos(), s + (w * t).sin())
    });
    let n = spikes.len() as f64;
    ((c / n).hypot(s / n), s.atan2(c))
}

/// Cross-correlogram: counts of (spike - pulse) lags in bins of `bin_ms` over
/// [-max_lag_ms, max_lag_ms); returns (bin left edges, counts).
pub fn cross_correlogram(
    pulses: &[f64],
    spikes: &[f64],
    bin_ms: f64,
    max_lag_ms: f64,
) -> (Vec<f64>, Vec<u32>) {
    let bins = (2.0 * max_lag_ms / bin_ms).round().max(1.0) as usize;
    let mut counts = vec![0u32; bins];
    for &p in pulses {
        let lo = spikes.partition_point(|&s| s < p - max_lag_ms);
        for &s in &spikes[lo..] {
            let lag = s - p;
            if lag >= max_lag_ms {
                break;
            }
            let k = ((lag + max_lag_ms) / bin_ms).floor() as usize;
            if k < bins {
                counts[k] += 1;
            }
        }
    }
    (
        (0..bins).map(|k| -max_lag_ms + k as f64 * bin_ms).collect(),
        counts,
    )
}

/// Spike-triggered average of a sampled input `(t_ms, i)` (uniform sampling) over the
/// `window_ms` before each spike: (lags in ms, negative = before the spike; mean input).
/// Spikes too close to the start to have a full window are skipped.
pub fn spike_triggered_average(
    t_ms: &[f64],
    input: &[f64],
    spikes: &[f64],
    window_ms: f64,
) -> (Vec<f64>, Vec<f64>, usize) {
    if t_ms.len() < 2 {
        return (vec![], vec![], 0);
    }
    let dt = t_ms[1] - t_ms[0];
    triggered_average(t_ms[0], dt, t_ms.len(), |k| input[k], spikes, window_ms)
}

/// [`spike_triggered_average`] of an input given by its `n` samples `input(k)` at
/// `t0 + k dt`, read only within the windows: a stimulus over a long recording is never
/// sampled whole (2e8 ms at 0.1 ms had asked for 16 GB).
fn triggered_average(
    t0: f64,
    dt: f64,
    n: usize,
    input: impl Fn(usize) -> f64,
    spikes: &[f64],
    window_ms: f64,
) -> (Vec<f64>, Vec<f64>, usize) {
    let w = (window_ms / dt).round() as usize;
    let mut sum = vec![0.0; w + 1];
    let mut used = 0;
    for &s in spikes {
        let k = ((s - t0) / dt).floor();
        if k < w as f64 || k >= n as f64 {
            continue;
        }
        let k = k as usize;
        for (j, acc) in sum.iter_mut().enumerate() {
            *acc += input(k - w + j);
        }
        used += 1;
    }
    let lags = (0..=w).map(|j| (j as f64 - w as f64) * dt).collect();
    let mean = sum.iter().map(|x| x / used.max(1) as f64).collect();
    (lags, mean, used)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latencies_and_answer_fraction() {
        let r = pulse_response(&[0.0, 100.0, 200.0], &[3.0, 150.0, 260.0, 290.0], 40.0);
        assert_eq!(r.latency_ms[0], 3.0);
        assert!(r.latency_ms[1].is_nan() && r.latency_ms[2].is_nan());
        assert!((r.fraction_answered - 1.0 / 3.0).abs() < 1e-15);
    }

    #[test]
    fn phase_locked_spikes_have_unit_vector_strength() {
        // Spikes every 25 ms at a quarter period into a 40 Hz cycle: phase pi/2.
        let sp: Vec<f64> = (0..40).map(|k| 6.25 + 25.0 * k as f64).collect();
        let (vs, ph) = vector_strength(&sp, 40.0);
        assert!((vs - 1.0).abs() < 1e-12 && (ph - PI / 2.0).abs() < 1e-9);
        // Uniform phases: strength near 0.
        let sp: Vec<f64> = (0..1000).map(|k| k as f64 * 0.1).collect();
        assert!(vector_strength(&sp, 40.0).0 < 1e-3);
    }

    #[test]
    fn correlogram_and_sta() {
        let (edges, c) = cross_correlogram(&[10.0, 50.0], &[12.5, 52.5, 48.0], 1.0, 5.0);
        assert_eq!(edges.len(), 10);
        assert_eq!(c[7], 2); // lag +2.5 ms
        assert_eq!(c[3], 1); // lag -2 ms
        let t: Vec<f64> = (0..100).map(|k| k as f64).collect();
        let i: Vec<f64> = t
            .iter()
            .map(|x| if (*x as usize) % 10 == 9 { 1.0 } else { 0.0 })
            .collect();
        let (lags, mean, used) = spike_triggered_average(&t, &i, &[20.0, 40.0, 1.0], 2.0);
        assert_eq!(used, 2);
        assert_eq!(lags, vec![-2.0, -1.0, 0.0]);
        assert_eq!(mean, vec![0.0, 1.0, 0.0]);
    }
}
