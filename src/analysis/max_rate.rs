//! The highest sustained firing rate of a model under constant currents, and where it occurs.
//!
//! Each current of a grid is applied from the resting state (in parallel); after a transient
//! the spikes in a measuring window give the steady rate. Spikes are upward crossings of the
//! model's threshold, so oscillations whose peaks stay below it count as silence: the summary
//! says the rate is a *spike* rate.

use crate::error::Error;
use crate::model::{Model, Quantity};
use crate::progress::{Observer, Silent, Tracker};
use crate::simulate::{self, Method, Record, Settings};
use crate::stimulus::Stimulus;

/// Steady rate at each current and the maximum.
#[derive(Debug, Clone, PartialEq)]
pub struct MaxRate {
    /// The currents (uA/cm^2; the file's units for an .ode model), in the order given.
    pub currents: Vec<f64>,
    /// The steady spike rate (Hz) at each current.
    pub rates_hz: Vec<f64>,
    /// The highest of them (Hz); 0 when nothing fires.
    pub max_rate_hz: f64,
    /// First current (uA/cm^2) reaching the maximum; NaN when no current gives steady spiking.
    pub at_current: f64,
    /// The frequency (Hz) of V's local maxima in the window, whether or not they cross the
    /// threshold; NaN with fewer than 3 maxima or a swing under 1 mV (no oscillation).
    pub oscillation_hz: Vec<f64>,
    /// The highest V in the window (mV; the file's units for an .ode model).
    pub v_max_mv: Vec<f64>,
    /// The spike threshold used (mV).
    pub threshold_mv: f64,
}

/// V is sampled every this many ms to find the oscillation (a tenth of a millisecond resolves
/// peaks of oscillations up to some hundreds of Hz).
pub const OSCILLATION_SAMPLE_MS: f64 = 0.1;

/// The frequency (Hz) of the local maxima of `v` sampled at `t` (ms) from `from` on, and the
/// highest V there. An oscillation needs at least 3 maxima, a swing of at least `min_swing`
/// over the window, half that swing still in its last half, and swings that do not decay
/// towards nothing ([`decays_to_rest`]): damped ringing is not one. Otherwise the frequency is
/// NaN.
fn oscillation(t: &[f64], v: &[f64], from: f64, min_swing: f64) -> (f64, f64) {
    let start = t.partition_point(|&x| x < from);
    let (t, v) = (&t[start..], &v[start..]);
    let (v_min, v_max) = extent(v);
    let (late_min, late_max) = extent(&v[v.len() / 2..]);
    let peaks: Vec<f64> = (1..v.len().saturating_sub(1))
        .filter(|&k| v[k - 1] < v[k] && v[k] >= v[k + 1])
        .map(|k| t[k])
        .collect();
    let swing = v_max - v_min;
    if peaks.len() < 3
        || swing < min_swing
        || late_max - late_min < 0.5 * swing
        || decays_to_rest(v)
    {
        return (f64::NAN, v_max);
    }
    let span = peaks[peaks.len() - 1] - peaks[0];
    ((peaks.len() - 1) as f64 / span * 1000.0, v_max)
}

/// The smallest and largest of `v` (infinite for an empty slice).
fn extent(v: &[f64]) -> (f64, f64) {
    (v.iter()).fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
        (a.min(x), b.max(x))
    })
}

/// Whether the swing of `v` decays towards nothing over its last three quarters: the swings
/// `a1, a2, a3` of those quarters shrink geometrically (each step at most 0.9 of the one before,
/// the first by more than 1% of `a1`), and their limit by Aitken's extrapolation,
/// `a3 - (a3 - a2)^2 / ((a3 - a2) - (a2 - a1))`, is under half the last one. The two bounds
/// keep the extrapolation well conditioned: swings drifting down by nearly equal amounts (an
/// adapting oscillation: 100, 99.9, 99.8001) extrapolate to anything, and are not judged.
/// Just past a supercritical Hopf point the rest is a focus that rings for a long time: a
/// decay by 0.6 over the window's last half keeps more than half its swing there, and was
/// counted as an oscillation. Swings that converge to a cycle's (from above or below) have
/// that cycle's swing as their limit; steady swings are not shrinking, whatever their
/// sampling noise does.
fn decays_to_rest(v: &[f64]) -> bool {
    let q = v.len() / 4;
    if q < 2 {
        return false;
    }
    let swing = |v: &[f64]| {
        let (lo, hi) = extent(v);
        hi - lo
    };
    let (a1, a2, a3) = (
        swing(&v[q..2 * q]),
        swing(&v[2 * q..3 * q]),
        swing(&v[3 * q..]),
    );
    let (d1, d2) = (a2 - a1, a3 - a2);
    let shrinking_geometrically = d1 < -0.01 * a1 && d2 < 0.0 && d2 / d1 <= 0.9;
    shrinking_geometrically && a3 - d2 * d2 / (d2 - d1) < 0.5 * a3
}

/// The smallest swing of V that counts as an oscillation: 1 mV for a model in mV; for a file
/// without units, a hundredth of the largest |V| seen (its own scale).
fn min_swing(model: &Model, v: &[f64]) -> f64 {
    if model.units().voltage.is_empty() {
        1e-2 * v
            .iter()
            .fold(0.0f64, |m, x| m.max(x.abs()))
            .max(f64::MIN_POSITIVE)
    } else {
        1.0
    }
}

/// Bytes the traces of a run over `currents` currents hold: V and every variable sampled every
/// [`OSCILLATION_SAMPLE_MS`] over `t_max_ms`, with the time.
pub fn trace_bytes(model: &Model, currents: usize, t_max_ms: f64) -> f64 {
    let samples = (t_max_ms / OSCILLATION_SAMPLE_MS).ceil() + 1.0;
    currents as f64 * samples * (model.var_names().len() as f64 + 1.0) * 8.0
}

/// Rates over `currents` (uA/cm^2): `transient_ms` discarded, then `window_ms` measured, with
/// the sweep method ([`Method::for_sweeps`]) at `dt` ms.
pub fn max_firing_rate(
    model: &Model,
    currents: &[f64],
    transient_ms: f64,
    window_ms: f64,
    dt: f64,
) -> Result<MaxRate, Error> {
    let th = model.threshold_mv();
    max_firing_rate_with(model, currents, transient_ms, window_ms, dt, th, &Silent)
}

/// [`max_firing_rate`] with spikes as upward crossings of `threshold_mv`, telling `observer`
/// as each current finishes (one unit per current); returns [`crate::progress::Cancelled`]
/// (as an error) when the observer says stop.
pub fn max_firing_rate_with(
    model: &Model,
    currents: &[f64],
    transient_ms: f64,
    window_ms: f64,
    dt: f64,
    threshold_mv: f64,
    observer: &dyn Observer,
) -> Result<MaxRate, Error> {
    let tracker = Tracker::new(observer, "currents", Some(currents.len() as u64));
    let unit = model.units().current;
    let y0 = model.sweep_start()?;
    let s = Settings {
        t_max: transient_ms + window_ms,
        dt,
        method: Method::for_sweeps(model),
        record: Record::Every(((OSCILLATION_SAMPLE_MS / dt).round() as usize).max(1)),
        threshold_mv,
    };
    let runs = simulate::run_many(
        model,
        &Stimulus::constant(0.0),
        &y0,
        currents,
        &s,
        &|k: usize| -> Result<(), Error> {
            let detail = format!("I = {}", Quantity(currents[k], unit));
            Ok(tracker.advance(1, &detail)?)
        },
        &|| tracker.go_on(),
    )?;
    let rates_hz: Vec<f64> = runs
        .iter()
        .map(|r| {
            r.spikes_ms.iter().filter(|&&t| t >= transient_ms).count() as f64 / window_ms * 1000.0
        })
        .collect();
    let (oscillation_hz, v_max_mv) = runs
        .iter()
        .map(|r| {
            let v = r.trace.v();
            oscillation(&r.trace.t_ms, v, transient_ms, min_swing(model, v))
        })
        .unzip();
    // The first current reaching the maximum; NaN when nothing fires.
    let max_rate_hz = rates_hz.iter().copied().fold(0.0, f64::max);
    let at_current = match rates_hz.iter().position(|&r| r == max_rate_hz) {
        Some(k) if max_rate_hz > 0.0 => currents[k],
        _ => f64::NAN,
    };
    Ok(MaxRate {
        at_current,
        currents: currents.to_vec(),
        rates_hz,
        max_rate_hz,
        oscillation_hz,
        v_max_mv,
        threshold_mv,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sine of 150 Hz sampled as the oscillation finder samples, over 1000 ms, with the
    /// amplitude `amp(t)`.
    fn ringing(amp: impl Fn(f64) -> f64) -> (Vec<f64>, Vec<f64>) {
        let t: Vec<f64> = (0..=10_000)
            .map(|k| k as f64 * OSCILLATION_SAMPLE_MS)
            .collect();
        let v = (t.iter())
            .map(|&t| -45.0 + amp(t) * (2.0 * std::f64::consts::PI * 0.15 * t).sin())
            .collect();
        (t, v)
    }

    #[test]
    fn ringing_that_decays_to_rest_is_not_an_oscillation() {
        // Decay by 0.6 over the last half: the old test (half the swing kept) let it through.
        let (t, v) = ringing(|t| 2.0 * (-t * 0.6f64.ln().abs() / 500.0).exp());
        assert!(oscillation(&t, &v, 0.0, 1.0).0.is_nan());
        // Steady, converging to a cycle's swing from above and from below, and drifting down
        // by nearly equal steps (adaptation; Aitken's limit of such swings is ill-conditioned):
        // 150 Hz each.
        for amp in [
            &(|_: f64| 2.0) as &dyn Fn(f64) -> f64,
            &|t: f64| 2.0 + 3.0 * (-t / 300.0).exp(),
            &|t: f64| 2.0 - 1.5 * (-t / 300.0).exp(),
            &|t: f64| 2.0 * (1.0 - 1e-4 * t + 1e-9 * t * t),
        ] {
            let (t, v) = ringing(amp);
            let f = oscillation(&t, &v, 0.0, 1.0).0;
            assert!((f - 150.0).abs() < 0.1, "{f}");
        }
    }

    #[test]
    fn lif_maximum_matches_its_closed_form() {
        // The LIF rate grows with the current towards 1/t_ref; on a grid its maximum is at the
        // largest current and equals the closed form to one spike per window (1000/window Hz).
        let m = Model::builtin("lif").unwrap();
        let currents: Vec<f64> = (0..=10).map(|k| k as f64).collect();
        let r = max_firing_rate(&m, &currents, 100.0, 1000.0, 0.01).unwrap();
        assert_eq!(r.at_current, 10.0);
        let exact = match &m {
            Model::Lif(l) => l.values().rate_hz(10.0),
            _ => unreachable!(),
        };
        assert!(
            (r.max_rate_hz - exact).abs() <= 1.0,
            "{} vs {exact}",
            r.max_rate_hz
        );
    }
}
