//! Whether V oscillates, judged on a sampled trace: the frequency of its maxima, unless the
//! swing is too small, dies away in the window's last half, or decays geometrically to rest
//! (a focus ringing after a supercritical Hopf point). `max-rate` judges its runs here, and
//! [`super::runner::Runner`] re-judges by the same rules the subthreshold maxima that the batch
//! kernel and the lanes count without a trace.

use crate::model::Model;

/// V is sampled every this many ms to find the oscillation (a tenth of a millisecond resolves
/// peaks of oscillations up to some hundreds of Hz).
pub const OSCILLATION_SAMPLE_MS: f64 = 0.1;

/// The frequency (Hz) of the local maxima of `v` sampled at `t` (ms) from `from` on, and the
/// highest V there. An oscillation needs at least 3 maxima, a swing of at least `min_swing`
/// over the window, half that swing still in its last half, and swings that do not decay
/// towards nothing (`decays_to_rest`): damped ringing is not one. Otherwise the frequency is
/// NaN.
pub fn oscillation(t: &[f64], v: &[f64], from: f64, min_swing: f64) -> (f64, f64) {
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
    shrinks_to_nothing(
        swing(&v[q..2 * q]),
        swing(&v[2 * q..3 * q]),
        swing(&v[3 * q..]),
    )
}

/// Whether three successive swings `a1, a2, a3` of V shrink geometrically towards nothing
/// (`decays_to_rest`'s rule): each step at most 0.9 of the one before, the first by more
/// than 1% of `a1`, and Aitken's limit under half of `a3`.
pub fn shrinks_to_nothing(a1: f64, a2: f64, a3: f64) -> bool {
    let (d1, d2) = (a2 - a1, a3 - a2);
    let shrinking_geometrically = d1 < -0.01 * a1 && d2 < 0.0 && d2 / d1 <= 0.9;
    shrinking_geometrically && a3 - d2 * d2 / (d2 - d1) < 0.5 * a3
}

/// The smallest swing of V that counts as an oscillation: 1 mV for a model in mV; for a file
/// without units, a hundredth of the largest |V| seen (its own scale).
pub fn min_swing(model: &Model, v: &[f64]) -> f64 {
    if model.units().voltage.is_empty() {
        1e-2 * v
            .iter()
            .fold(0.0f64, |m, x| m.max(x.abs()))
            .max(f64::MIN_POSITIVE)
    } else {
        1.0
    }
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
}
