//! Spike detection: upward threshold crossings with interpolated times.

use crate::numerics::roots::golden_min;

/// Detects upward crossings of a threshold as samples stream in.
///
/// A spike is a pair of consecutive samples with `v0 < threshold <= v1`; its time is the linear
/// interpolation between them (fixed-step methods) or a root of the dense-output polynomial
/// (adaptive method, see [`CrossingDetector::refine`]).
#[derive(Debug, Clone)]
pub(crate) struct CrossingDetector {
    /// The threshold a spike crosses upward (mV).
    pub threshold: f64,
    /// Spike times found so far (ms), increasing.
    pub times: Vec<f64>,
}

impl CrossingDetector {
    pub fn new(threshold: f64) -> Self {
        CrossingDetector {
            threshold,
            times: Vec::new(),
        }
    }

    /// Is (v0 -> v1) an upward crossing?
    #[inline]
    pub fn crosses(&self, v0: f64, v1: f64) -> bool {
        v0 < self.threshold && v1 >= self.threshold
    }

    /// Feed one step from (t0, v0) to (t1, v1); records the interpolated crossing time.
    #[inline]
    pub fn step(&mut self, t0: f64, v0: f64, t1: f64, v1: f64) {
        if self.crosses(v0, v1) {
            self.times
                .push(t0 + (t1 - t0) * (self.threshold - v0) / (v1 - v0));
        }
    }

    /// Record a crossing inside [t0, t1] where `v(t)` is a continuous interpolant with
    /// `v(t0) < threshold <= v(t1)`: bisection down to the spacing of f64 at t (about 1e-12 ms
    /// near 10 s; at most 80 halvings, so it always ends whatever the magnitude of t).
    pub fn refine(&mut self, t0: f64, t1: f64, v: impl Fn(f64) -> f64) {
        let (mut a, mut b) = (t0, t1);
        for _ in 0..80 {
            let m = 0.5 * (a + b);
            if m <= a || m >= b || b - a <= 1e-12 {
                break;
            }
            if v(m) < self.threshold { a = m } else { b = m }
        }
        self.times.push(0.5 * (a + b));
    }
}

/// Points at which [`CrossingDetector::scan`] samples a step that may cross the threshold
/// without its ends showing it: 16 intervals, so a peak (or a trough) is bracketed by two
/// neighbouring samples within 1/8 of the step before its extremum is searched.
const SCAN_INTERVALS: usize = 16;

impl CrossingDetector {
    /// Record the upward crossing inside one step [t0, t1] of the continuous interpolant `v`
    /// (the adaptive method's dense output), including one its ends do not show: a rise through
    /// the threshold and back inside the step, or a dip below it and back. An adaptive method
    /// chooses its own steps, and near a spike's peak they can be longer than the time V
    /// spends above a threshold set close to the peak: both ends of the step are then below it
    /// and a test of the ends alone misses the spike (`hh` at 10 uA/cm^2 with its peak at
    /// 30.431 mV and the threshold at 30.42: 11 spikes of 14 at rtol 1e-6, 2 at 1e-4).
    /// `bounds` (lowest, highest) bound `v` over the step; a step they keep on one side of the
    /// threshold is not searched (almost every step). Otherwise `v` is sampled at
    /// [`SCAN_INTERVALS`] points for a crossing between two samples, and failing that the
    /// neighbourhood of each sample that is a local maximum (ends below) or minimum (ends
    /// above) is searched for the extremum (golden section). At most one crossing per step: a
    /// spike takes many steps of an accurate run.
    pub fn scan(&mut self, t0: f64, t1: f64, bounds: (f64, f64), v: impl Fn(f64) -> f64) {
        let thr = self.threshold;
        let (v0, v1) = (v(t0), v(t1));
        if v0 < thr && v1 >= thr {
            self.refine(t0, t1, v);
            return;
        }
        if bounds.1 < thr || bounds.0 >= thr {
            return;
        }
        let at = |k: usize| t0 + (t1 - t0) * k as f64 / SCAN_INTERVALS as f64;
        let samples: Vec<f64> = (0..=SCAN_INTERVALS)
            .map(|k| match k {
                0 => v0,
                SCAN_INTERVALS => v1,
                _ => v(at(k)),
            })
            .collect();
        if let Some(k) = (1..=SCAN_INTERVALS).find(|&k| samples[k - 1] < thr && samples[k] >= thr) {
            self.refine(at(k - 1), at(k), v);
            return;
        }
        let scale = 1.0 + t1.abs();
        // Between two samples: a peak above the threshold with both ends below it, or a trough
        // below it with both ends above it (the crossing is then the trough's way back up).
        // The dense output is a quartic, so it can have two peaks (or troughs) in one step:
        // each sample that is a local extremum is searched, earliest first.
        let window = |k: usize| (at(k.saturating_sub(1)), at((k + 1).min(SCAN_INTERVALS)));
        let sign = if v0 < thr && v1 < thr {
            1.0
        } else if v0 >= thr && v1 >= thr {
            -1.0
        } else {
            return;
        };
        let local = |k: usize| {
            let s = sign * samples[k];
            (k == 0 || s >= sign * samples[k - 1])
                && (k == SCAN_INTERVALS || s >= sign * samples[k + 1])
        };
        for k in (0..=SCAN_INTERVALS).filter(|&k| local(k)) {
            let (lo, hi) = window(k);
            if sign > 0.0 {
                let peak = golden_min(|t| -v(t), lo, hi, 1e-12 * scale);
                if v(peak) >= thr && v(lo) < thr {
                    self.refine(lo, peak, v);
                    return;
                }
            } else {
                let trough = golden_min(&v, lo, hi, 1e-12 * scale);
                if v(trough) < thr && v(hi) >= thr {
                    self.refine(trough, hi, v);
                    return;
                }
            }
        }
    }
}

/// Upward crossings of `threshold` in a sampled trace, linearly interpolated (ms). (Simulations
/// refine further: cubic Hermite with dV/dt for fixed steps, dense output for `dopri5`.)
pub fn detect(t_ms: &[f64], v_mv: &[f64], threshold: f64) -> Vec<f64> {
    let mut d = CrossingDetector::new(threshold);
    for k in 1..t_ms.len().min(v_mv.len()) {
        d.step(t_ms[k - 1], v_mv[k - 1], t_ms[k], v_mv[k]);
    }
    d.times
}

/// Cubic Hermite interpolant on [0, 1] with end values `p0, p1` and end slopes `m0, m1` (per unit
/// of the normalised time `s`).
#[inline]
pub(crate) fn hermite(p0: f64, p1: f64, m0: f64, m1: f64, s: f64) -> f64 {
    let (s2, s3) = (s * s, s * s * s);
    (2.0 * s3 - 3.0 * s2 + 1.0) * p0
        + (s3 - 2.0 * s2 + s) * m0
        + (-2.0 * s3 + 3.0 * s2) * p1
        + (s3 - s2) * m1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refinement_ends_at_large_times() {
        // At t = 1e6 ms the f64 spacing (1.2e-10) is coarser than the 1e-12 tolerance: the
        // bisection must still stop (it once looped forever here).
        let mut d = CrossingDetector::new(0.0);
        d.refine(1e6, 1e6 + 0.01, |t| t - (1e6 + 0.004));
        assert!((d.times[0] - (1e6 + 0.004)).abs() < 1e-9);
    }

    #[test]
    fn a_scan_finds_a_peak_that_grazes_the_threshold_between_the_steps_ends() {
        // A narrow parabola peaking at 1e-6 above the threshold at t = 0.41 inside a step
        // from 0 to 1 whose ends are far below it: above the threshold for 2e-3 of the step,
        // between two of the scan's samples (0.375 and 0.4375 are below), so only the search
        // for the maximum finds it.
        let (peak_t, width) = (0.41, 1e-3);
        let v = |t: f64| 1e-6 - ((t - peak_t) / width).powi(2) * 1e-6;
        let mut d = CrossingDetector::new(0.0);
        // The ends alone see no crossing.
        assert!(!d.crosses(v(0.0), v(1.0)));
        d.scan(0.0, 1.0, (-1.0, 1e-6), v);
        assert_eq!(d.times.len(), 1, "{:?}", d.times);
        // Timed at the rise: peak_t - width, to the bisection's 1e-12.
        assert!(
            (d.times[0] - (peak_t - width)).abs() < 1e-9,
            "{:?}",
            d.times
        );
        // A peak 1e-9 below the threshold is no spike, and a ceiling below it is not searched.
        let below = |t: f64| v(t) - 1e-6 - 1e-9;
        d.scan(0.0, 1.0, (-1.0, 1.0), below);
        d.scan(0.0, 1.0, (-2.0, -1.0), v);
        assert_eq!(d.times.len(), 1);
        // An ordinary crossing at the step's end is timed as `refine` times it.
        let rise = |t: f64| t - 0.25;
        d.scan(0.0, 1.0, (-0.25, 0.75), rise);
        assert_eq!(d.times.len(), 2);
        assert!((d.times[1] - 0.25).abs() < 1e-11);
        // A step that stays above the threshold adds nothing.
        d.scan(0.3, 1.0, (0.05, 0.75), rise);
        assert_eq!(d.times.len(), 2);
        // A narrow trough 1e-6 below the threshold between two samples, both ends above it:
        // the way back up is a crossing, timed at the trough's rise (0.6123 + 1e-3).
        let trough = |t: f64| -v(t + 0.41 - 0.6123);
        d.scan(0.0, 1.0, (-1e-6, 1.0), trough);
        assert_eq!(d.times.len(), 3, "{:?}", d.times);
        assert!(
            (d.times[2] - (0.6123 + width)).abs() < 1e-9,
            "{:?}",
            d.times
        );
    }

    #[test]
    fn a_scan_searches_every_peak_of_a_step_not_only_the_largest_sample() {
        // A quartic with two peaks in one step, as the dense output can be: the first at a
        // sample (t = 0.25, v = -2.5e-5) and below the threshold, the second between the
        // samples 0.6875 and 0.75 and above it by about 2e-5, yet its samples are lower than
        // the first peak's. A search around the largest sample alone misses it.
        let v = |t: f64| -((t - 0.25) * (t - 0.72)).powi(2) + 1e-4 * (t - 0.25) - 2.5e-5;
        let at = |k: usize| k as f64 / SCAN_INTERVALS as f64;
        let largest = (0..=SCAN_INTERVALS)
            .max_by(|&i, &j| v(at(i)).total_cmp(&v(at(j))))
            .unwrap();
        assert_eq!(largest, 4, "the largest sample is the lower peak's");
        let mut d = CrossingDetector::new(0.0);
        d.scan(0.0, 1.0, (-1.0, 1.0), v);
        assert_eq!(d.times.len(), 1, "{:?}", d.times);
        let t = d.times[0];
        assert!(t > 0.625 && t < 0.72, "{t}");
        assert!(v(t).abs() < 1e-12, "v = {} at {t}", v(t));
    }

    #[test]
    fn interpolates_upward_crossings_only() {
        let t = [0.0, 1.0, 2.0, 3.0, 4.0];
        let v = [-10.0, 10.0, 30.0, -5.0, 5.0];
        // Up at 0.5 (from -10 to 10), down at 2-3 ignored, up at 3.5.
        assert_eq!(detect(&t, &v, 0.0), vec![0.5, 3.5]);
        // Touching the threshold from below counts once.
        assert_eq!(detect(&[0.0, 1.0, 2.0], &[-1.0, 0.0, 1.0], 0.0), vec![1.0]);
    }
}
