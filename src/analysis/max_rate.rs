//! The highest sustained firing rate of a model under constant currents, and where it occurs.
//!
//! Each current of a grid is applied from the resting state (in parallel); after a transient
//! the spikes in a measuring window give the steady rate. Spikes are upward crossings of the
//! model's threshold, so oscillations whose peaks stay below it count as silence: the summary
//! says the rate is a *spike* rate.

use crate::error::Error;
use crate::model::{Model, Quantity};
use crate::progress::{Observer, Silent, Tracker};
use crate::simulate::oscillation::{OSCILLATION_SAMPLE_MS, min_swing, oscillation};
use crate::simulate::{self, Method, Record, Settings};
use crate::stimulus::Stimulus;

/// Steady rate at each current and the maximum.
#[derive(Debug, Clone, PartialEq)]
pub struct MaxRate {
    /// The currents (uA/cm^2; the file's units for an .ode model), in the order given.
    pub currents: Vec<f64>,
    /// The steady spike rate (Hz) at each current.
    pub rates_hz: Vec<f64>,
    /// The rate from the mean interspike interval in the window (Hz; 1000 / mean ISI), NaN
    /// below two spikes: continuous in the current where the count moves in whole spikes.
    pub isi_rates_hz: Vec<f64>,
    /// The highest of them (Hz); 0 when nothing fires.
    pub max_rate_hz: f64,
    /// The current (uA/cm^2) reaching the maximum: of several whose counts tie, the one
    /// fastest by its mean ISI (the first of them where those tie too); NaN when no current
    /// gives steady spiking.
    pub at_current: f64,
    /// The frequency (Hz) of V's local maxima in the window, whether or not they cross the
    /// threshold; NaN with fewer than 3 maxima or a swing under 1 mV (no oscillation).
    pub oscillation_hz: Vec<f64>,
    /// The highest V in the window (mV; the file's units for an .ode model).
    pub v_max_mv: Vec<f64>,
    /// The spike threshold used (mV).
    pub threshold_mv: f64,
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
    let isi_rates_hz: Vec<f64> = runs
        .iter()
        .map(|r| {
            let counted: Vec<f64> = (r.spikes_ms.iter().copied())
                .filter(|&t| t >= transient_ms)
                .collect();
            match (counted.first(), counted.last()) {
                (Some(a), Some(b)) if counted.len() >= 2 => {
                    1000.0 * (counted.len() - 1) as f64 / (b - a)
                }
                _ => f64::NAN,
            }
        })
        .collect();
    // The count ties in whole spikes: of the currents reaching the maximum, the fastest by
    // the mean ISI (the list's order had decided: 43, 44 and 44, 43 named different ones);
    // NaN when nothing fires.
    let max_rate_hz = rates_hz.iter().copied().fold(0.0, f64::max);
    let by_isi = |&a: &usize, &b: &usize| {
        let key = |k: usize| isi_rates_hz[k].max(f64::NEG_INFINITY);
        key(a).total_cmp(&key(b)).then(b.cmp(&a))
    };
    let at_current = match (0..currents.len())
        .filter(|&k| rates_hz[k] == max_rate_hz)
        .max_by(by_isi)
    {
        Some(k) if max_rate_hz > 0.0 => currents[k],
        _ => f64::NAN,
    };
    Ok(MaxRate {
        at_current,
        currents: currents.to_vec(),
        rates_hz,
        isi_rates_hz,
        max_rate_hz,
        oscillation_hz,
        v_max_mv,
        threshold_mv,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
