//! How many pulses a spike train would "answer" by chance: a cell that fires anyway puts spikes
//! into the answer windows whether or not the pulses did anything, so a tonic cell that never
//! received the input reads "every pulse answered".
//!
//! The null model is the cell's own train, as a stationary renewal process: the chance that a
//! window of width w placed at a random time holds a spike is the forward-recurrence
//! probability q(w) = (1 / mean ISI) * integral from 0 to w of P(ISI > u) du, with P(ISI > u)
//! the train's empirical survival function over [t_start, t_stop). A regular train whose
//! interval is shorter than the window gives q = 1 (it answers every window); a Poisson train
//! gives 1 - exp(-w / mean ISI). Responses to the pulses are part of the train, so the null
//! is conservative (it can only make chance look higher). A train with fewer than 3 intervals
//! has no survival function to speak of: it gets a Poisson null at the rate (n + 1) / (t_stop -
//! t_start), one spike more than seen, so a single spike is never called a response on its own.
//!
//! The number of windows answered under the null is a sum of independent Bernoulli draws (a
//! Poisson-binomial variable); the p-value is its upper tail at the observed count, exact by a
//! table cut at that count (O(windows x count)); beyond [`EXACT_TAIL_WORK`] a normal
//! approximation with continuity correction, and [`Chance::exact`] says so.

/// Below this p-value the answers are called distinguishable from chance.
pub const SIGNIFICANCE: f64 = 0.01;

/// Up to this many table updates (windows x observed count) the tail is exact.
pub const EXACT_TAIL_WORK: f64 = 2e8;

/// The chance level of one train's answers to a sequence of pulses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Chance {
    /// The train's rate (Hz) over [t_start, t_stop).
    pub rate_hz: f64,
    /// True if the null is the train's own renewal process; false: Poisson at (n + 1) / T.
    pub renewal: bool,
    /// The fraction of pulses the null train answers on average.
    pub expected_fraction: f64,
    /// P(at least the observed number answered | the null).
    pub p_value: f64,
    /// The p-value is exact (false: the normal approximation).
    pub exact: bool,
}

impl Chance {
    /// The answers exceed what chance gives, at [`SIGNIFICANCE`].
    pub fn above_chance(&self) -> bool {
        self.p_value < SIGNIFICANCE
    }
}

/// The chance level of `answered` pulses out of the answer `windows` (ms, [from, to)), given
/// the sorted `spikes` (ms), over [t_start, t_stop).
pub fn chance_of_answers(
    windows: &[(f64, f64)],
    answered: usize,
    spikes: &[f64],
    t_start: f64,
    t_stop: f64,
) -> Chance {
    let span = (t_stop - t_start).max(f64::MIN_POSITIVE);
    let sp = super::spike_stats::within(spikes, t_start, t_stop);
    let mut isi = super::spike_stats::isi(&sp);
    isi.sort_by(f64::total_cmp);
    let renewal = isi.len() >= 3;
    let hit = |w: f64| -> f64 {
        let w = w.max(0.0);
        if renewal {
            forward_recurrence(&isi, w)
        } else {
            1.0 - (-(sp.len() as f64 + 1.0) / span * w).exp()
        }
    };
    let p: Vec<f64> = windows.iter().map(|&(a, b)| hit(b - a)).collect();
    let expected = p.iter().sum::<f64>() / p.len().max(1) as f64;
    let (p_value, exact) = upper_tail(&p, answered);
    Chance {
        rate_hz: sp.len() as f64 / span * 1000.0,
        renewal,
        expected_fraction: expected,
        p_value,
        exact,
    }
}

/// (1 / mean) * integral_0^w P(I > u) du for the sorted intervals `isi`: the probability that
/// a window of width `w` at a random time of a renewal train holds a spike.
fn forward_recurrence(isi: &[f64], w: f64) -> f64 {
    let n = isi.len() as f64;
    let mean = isi.iter().sum::<f64>() / n;
    // integral_0^w P(I > u) du = mean of min(I, w).
    let clipped = isi.iter().map(|&i| i.min(w)).sum::<f64>() / n;
    (clipped / mean).clamp(0.0, 1.0)
}

/// P(X >= k) for X a sum of independent Bernoulli(p_i), and whether it is exact.
fn upper_tail(p: &[f64], k: usize) -> (f64, bool) {
    if k == 0 {
        return (1.0, true);
    }
    if k > p.len() {
        return (0.0, true);
    }
    if p.len() as f64 * k as f64 > EXACT_TAIL_WORK {
        let mean: f64 = p.iter().sum();
        let var: f64 = p.iter().map(|q| q * (1.0 - q)).sum();
        if var <= 0.0 {
            return (if (k as f64) <= mean { 1.0 } else { 0.0 }, false);
        }
        let z = (k as f64 - 0.5 - mean) / var.sqrt();
        return (0.5 * libm::erfc(z / std::f64::consts::SQRT_2), false);
    }
    // dist[j] = P(j answers so far) for j < k; dist[k] = P(at least k): absorbing, so the
    // tail keeps its own precision however small.
    let mut dist = vec![0.0; k + 1];
    dist[0] = 1.0;
    for &q in p {
        dist[k] += dist[k - 1] * q;
        for j in (1..k).rev() {
            dist[j] = dist[j] * (1.0 - q) + dist[j - 1] * q;
        }
        dist[0] *= 1.0 - q;
    }
    (dist[k].min(1.0), true)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Equal probabilities make the tail binomial: P(X >= 9 | n = 10, p = 0.5) = 11/1024.
    #[test]
    fn the_tail_is_the_binomial_one_for_equal_probabilities() {
        let p = vec![0.5; 10];
        assert!((upper_tail(&p, 9).0 - 11.0 / 1024.0).abs() < 1e-15);
        assert_eq!(upper_tail(&p, 0).0, 1.0);
        assert_eq!(upper_tail(&p, 11).0, 0.0);
        // A tiny tail keeps its precision: P(X >= 40 | n = 40, p = 0.1) = 1e-40.
        let t = upper_tail(&vec![0.1; 40], 40).0;
        assert!((t / 1e-40 - 1.0).abs() < 1e-9, "{t}");
    }

    /// A regular train with a 14.6 ms interval answers every 50 ms window whatever the number
    /// of pulses (q = 1, p = 1); a Poisson-like train gets 1 - exp(-w / mean).
    #[test]
    fn a_regular_train_ignoring_the_pulses_is_never_above_chance() {
        let spikes: Vec<f64> = (0..2000).map(|k| 3.0 + k as f64 * 14.6).collect();
        let windows: Vec<(f64, f64)> = (0..250)
            .map(|k| (k as f64 * 100.0, k as f64 * 100.0 + 50.0))
            .collect();
        let c = chance_of_answers(&windows, 250, &spikes, 0.0, 25_000.0);
        assert!(c.renewal && c.exact);
        assert_eq!(c.expected_fraction, 1.0);
        assert_eq!(c.p_value, 1.0);
        assert!(!c.above_chance());
        // Exponential intervals (by their quantiles): q is 1 - exp(-w / mean) to 1e-3.
        let isi: Vec<f64> = (0..20_000)
            .map(|k| -20.0 * (1.0 - (k as f64 + 0.5) / 20_000.0).ln())
            .collect();
        let q = forward_recurrence(&isi, 50.0);
        assert!((q - (1.0 - (-50.0f64 / 20.0).exp())).abs() < 1e-3, "{q}");
    }

    /// A silent cell firing once 5 ms after each of 10 pulses (100 ms apart) is far above its
    /// own chance (its train answers a 50 ms window half the time: p = 0.5^10); one spike after
    /// one pulse is not (Poisson at 2 spikes per second: p = 0.63).
    #[test]
    fn locked_answers_are_above_chance_and_a_single_spike_is_not() {
        let windows: Vec<(f64, f64)> = (0..10)
            .map(|k| (k as f64 * 100.0, k as f64 * 100.0 + 50.0))
            .collect();
        let locked: Vec<f64> = (0..10).map(|k| k as f64 * 100.0 + 5.0).collect();
        let c = chance_of_answers(&windows, 10, &locked, 0.0, 1000.0);
        assert!((c.expected_fraction - 0.5).abs() < 1e-12);
        assert!((c.p_value - 0.5f64.powi(10)).abs() < 1e-15);
        assert!(c.above_chance());
        let c = chance_of_answers(&windows, 1, &[5.0], 0.0, 1000.0);
        assert!(!c.renewal);
        let q = 1.0 - (-2.0f64 / 1000.0 * 50.0).exp();
        assert!((c.p_value - (1.0 - (1.0 - q).powi(10))).abs() < 1e-12);
        assert!(!c.above_chance());
    }
}
