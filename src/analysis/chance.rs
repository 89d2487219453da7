//! How many pulses a spike train would "answer" by chance: the baseline firing of the cell
//! puts spikes into the answer windows whether or not the pulses did anything, so a tonic
//! cell that never received the input reads "every pulse answered".
//!
//! The null model is a Poisson train at the cell's baseline rate. A pulse's answer window
//! (from its onset to the next onset or [`super::timing::MAX_LATENCY_MS`], whichever is
//! first) then holds a spike with probability 1 - exp(-r w); the number of windows answered
//! is a sum of independent Bernoulli draws (a Poisson-binomial variable), and the p-value
//! is its exact upper tail at the observed count.
//!
//! The baseline rate is measured outside every answer window within [t_start, t_stop), when
//! at least a fifth of the interval lies outside them; otherwise (pulses too dense to leave
//! a baseline) it is the rate over the whole interval, responses included, which makes the
//! chance level higher and the test conservative. [`Chance::baseline_outside`] says which.

/// Below this p-value the answers are called distinguishable from chance.
pub const SIGNIFICANCE: f64 = 0.01;

/// Up to this many pulses the tail is exact (O(n^2) sums); beyond, a normal approximation
/// with continuity correction.
const EXACT_TAIL_MAX: usize = 20_000;

/// The chance level of one train's answers to a sequence of pulses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Chance {
    /// The baseline rate (Hz) of the null model.
    pub baseline_rate_hz: f64,
    /// True if measured outside the answer windows; false if over the whole interval.
    pub baseline_outside: bool,
    /// The fraction of pulses a Poisson train at that rate answers on average.
    pub expected_fraction: f64,
    /// P(at least the observed number answered | Poisson train at the baseline rate).
    pub p_value: f64,
}

impl Chance {
    /// The answers exceed what chance gives, at [`SIGNIFICANCE`].
    pub fn above_chance(&self) -> bool {
        self.p_value < SIGNIFICANCE
    }
}

/// The chance level of `answered` pulses out of the answer `windows` (ms, [from, to)), given
/// the sorted `spikes` (ms) over [t_start, t_stop).
pub fn chance_of_answers(
    windows: &[(f64, f64)],
    answered: usize,
    spikes: &[f64],
    t_start: f64,
    t_stop: f64,
) -> Chance {
    let inside = |t: f64| windows.iter().any(|&(a, b)| t >= a && t < b);
    let in_range: Vec<f64> = spikes
        .iter()
        .copied()
        .filter(|&t| t >= t_start && t < t_stop)
        .collect();
    let covered: f64 = merged_length(windows, t_start, t_stop);
    let total = (t_stop - t_start).max(0.0);
    let outside = total - covered;
    let (rate_per_ms, baseline_outside) = if total > 0.0 && outside >= 0.2 * total {
        let n = in_range.iter().filter(|&&t| !inside(t)).count();
        (n as f64 / outside, true)
    } else if total > 0.0 {
        (in_range.len() as f64 / total, false)
    } else {
        (0.0, false)
    };
    let p: Vec<f64> = windows
        .iter()
        .map(|&(a, b)| 1.0 - (-rate_per_ms * (b - a).max(0.0)).exp())
        .collect();
    let expected = p.iter().sum::<f64>() / p.len().max(1) as f64;
    Chance {
        baseline_rate_hz: rate_per_ms * 1000.0,
        baseline_outside,
        expected_fraction: expected,
        p_value: upper_tail(&p, answered),
    }
}

/// Length of the union of `windows` clipped to [lo, hi).
fn merged_length(windows: &[(f64, f64)], lo: f64, hi: f64) -> f64 {
    let mut w: Vec<(f64, f64)> = windows
        .iter()
        .map(|&(a, b)| (a.max(lo), b.min(hi)))
        .filter(|(a, b)| b > a)
        .collect();
    w.sort_by(|x, y| x.0.total_cmp(&y.0));
    let (mut sum, mut end) = (0.0, f64::NEG_INFINITY);
    for (a, b) in w {
        let a = a.max(end);
        if b > a {
            sum += b - a;
            end = b;
        }
    }
    sum
}

/// P(X >= k) for X a sum of independent Bernoulli(p_i).
fn upper_tail(p: &[f64], k: usize) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if k > p.len() {
        return 0.0;
    }
    if p.len() > EXACT_TAIL_MAX {
        let mean: f64 = p.iter().sum();
        let var: f64 = p.iter().map(|q| q * (1.0 - q)).sum();
        if var <= 0.0 {
            return if (k as f64) <= mean { 1.0 } else { 0.0 };
        }
        let z = (k as f64 - 0.5 - mean) / var.sqrt();
        return 0.5 * libm::erfc(z / std::f64::consts::SQRT_2);
    }
    // dist[j] = P(j successes so far).
    let mut dist = vec![0.0; p.len() + 1];
    dist[0] = 1.0;
    for (n, &q) in p.iter().enumerate() {
        for j in (1..=n + 1).rev() {
            dist[j] = dist[j] * (1.0 - q) + dist[j - 1] * q;
        }
        dist[0] *= 1.0 - q;
    }
    dist[k..].iter().sum::<f64>().min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Equal probabilities make the tail binomial: P(X >= 9 | n = 10, p = 0.5) = 11/1024.
    #[test]
    fn the_tail_is_the_binomial_one_for_equal_probabilities() {
        let p = vec![0.5; 10];
        assert!((upper_tail(&p, 9) - 11.0 / 1024.0).abs() < 1e-15);
        assert_eq!(upper_tail(&p, 0), 1.0);
        assert_eq!(upper_tail(&p, 11), 0.0);
        // The normal branch agrees with the exact one to 1e-3 at n = 30000, p = 0.3.
        let big = vec![0.3; EXACT_TAIL_MAX + 10_000];
        let k = (0.3 * big.len() as f64 + 100.0) as usize;
        let exact = {
            let mut dist = vec![0.0; big.len() + 1];
            dist[0] = 1.0;
            for (n, &q) in big.iter().enumerate() {
                for j in (1..=n + 1).rev() {
                    dist[j] = dist[j] * (1.0 - q) + dist[j - 1] * q;
                }
                dist[0] *= 1.0 - q;
            }
            dist[k..].iter().sum::<f64>()
        };
        assert!(
            (upper_tail(&big, k) - exact).abs() < 1e-3,
            "{} vs {exact}",
            upper_tail(&big, k)
        );
    }

    /// A regular 60 Hz train that ignores 10 pulses 100 ms apart "answers" all ten within
    /// 50 ms windows, and chance says so: 1 - exp(-0.06 * 50) = 0.950 per window, p = 0.95^10.
    #[test]
    fn a_tonic_train_ignoring_the_pulses_is_not_above_chance() {
        let spikes: Vec<f64> = (0..60).map(|k| 3.0 + k as f64 * 1000.0 / 60.0).collect();
        let windows: Vec<(f64, f64)> = (0..10)
            .map(|k| (k as f64 * 100.0, k as f64 * 100.0 + 50.0))
            .collect();
        let c = chance_of_answers(&windows, 10, &spikes, 0.0, 1000.0);
        assert!(c.baseline_outside);
        assert!(
            (c.baseline_rate_hz - 60.0).abs() < 1.5,
            "{}",
            c.baseline_rate_hz
        );
        let q = 1.0 - (-c.baseline_rate_hz / 1000.0 * 50.0).exp();
        assert!((c.expected_fraction - q).abs() < 1e-12);
        assert!((c.p_value - q.powi(10)).abs() < 1e-12);
        assert!(!c.above_chance());
        // A silent cell that fires once 5 ms after each pulse is far above chance.
        let locked: Vec<f64> = (0..10).map(|k| k as f64 * 100.0 + 5.0).collect();
        let c = chance_of_answers(&windows, 10, &locked, 0.0, 1000.0);
        assert_eq!(c.baseline_rate_hz, 0.0);
        assert_eq!(c.p_value, 0.0);
        assert!(c.above_chance());
    }
}
