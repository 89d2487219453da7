//! Spike-train statistics with Elephant's conventions (so numbers can be compared 1:1).
//!
//! | statistic | definition (I = interspike intervals, N = their number) | Elephant |
//! |---|---|---|
//! | `isi_std_ms` | population std (ddof = 0) | (`numpy.std`) |
//! | `cv` | std(I, ddof 0) / mean(I) | `cv` = `scipy.stats.variation` |
//! | `cv2` | 2 mean(\|I_{k+1} - I_k\| / (I_{k+1} + I_k)) | `cv2` |
//! | `lv` | 3/(N-1) sum((I_k - I_{k+1})^2 / (I_k + I_{k+1})^2) | `lv` |
//! | `lvr` | 3/(N-1) sum((1 - 4 I_k I_{k+1} / (I_k + I_{k+1})^2)(1 + 4R / (I_k + I_{k+1}))), R = 5 ms | `lvr` |
//! | `fano` | var(counts, ddof 0) / mean(counts) over consecutive windows of the train | `fanofactor` of the window slices |
//! | `serial_corr` | Pearson correlation of (I_k, I_{k+1}) | |
//!
//! Trains too short for a statistic get NaN and a `reason`, never an error.

/// Statistics of one spike train over [t_start, t_stop) ms.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainStats {
    /// Spikes in [t_start, t_stop).
    pub n_spikes: usize,
    /// Spikes per second over the interval (Hz).
    pub rate_hz: f64,
    /// Mean interspike interval (ms).
    pub isi_mean_ms: f64,
    /// Standard deviation of the intervals (ms, ddof 0).
    pub isi_std_ms: f64,
    /// Coefficient of variation of the intervals.
    pub cv: f64,
    /// CV2 (Holt et al.).
    pub cv2: f64,
    /// Local variation LV.
    pub lv: f64,
    /// LvR, LV with refractoriness correction.
    pub lvr: f64,
    /// Fano factor of the counts in consecutive windows.
    pub fano: f64,
    /// Correlation of successive intervals.
    pub serial_corr: f64,
    /// Time of the first spike after t_start (ms).
    pub first_spike_ms: f64,
    /// Why some statistics are NaN ("" when none is).
    pub reason: String,
}

/// Settings of [`train_stats`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StatsSettings {
    /// Start of the analysed interval (ms).
    pub t_start: f64,
    /// End of it (ms, excluded).
    pub t_stop: f64,
    /// Refractoriness constant R of LvR (ms); Elephant's default is 5 ms.
    pub lvr_r_ms: f64,
    /// Counting window of the Fano factor (ms).
    pub fano_window_ms: f64,
}

/// Interspike intervals (ms).
pub fn isi(spikes: &[f64]) -> Vec<f64> {
    spikes.windows(2).map(|w| w[1] - w[0]).collect()
}

/// The longest interspike interval of `spikes` (0 with fewer than two spikes; NaN intervals
/// are passed over).
pub fn longest_isi(spikes: &[f64]) -> f64 {
    spikes
        .windows(2)
        .map(|w| w[1] - w[0])
        .fold(0.0f64, f64::max)
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

fn std0(x: &[f64]) -> f64 {
    let m = mean(x);
    (x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
}

/// CV2 (needs 2 intervals).
pub fn cv2(i: &[f64]) -> f64 {
    if i.len() < 2 {
        return f64::NAN;
    }
    2.0 * mean(
        &i.windows(2)
            .map(|w| (w[1] - w[0]).abs() / (w[1] + w[0]))
            .collect::<Vec<_>>(),
    )
}

/// Local variation LV (needs 2 intervals).
pub fn lv(i: &[f64]) -> f64 {
    if i.len() < 2 {
        return f64::NAN;
    }
    3.0 / (i.len() - 1) as f64
        * i.windows(2)
            .map(|w| ((w[0] - w[1]) / (w[0] + w[1])).powi(2))
            .sum::<f64>()
}

/// LvR with refractoriness constant `r` ms (needs 2 intervals).
pub fn lvr(i: &[f64], r: f64) -> f64 {
    if i.len() < 2 {
        return f64::NAN;
    }
    3.0 / (i.len() - 1) as f64
        * i.windows(2)
            .map(|w| {
                let s = w[0] + w[1];
                (1.0 - 4.0 * w[0] * w[1] / (s * s)) * (1.0 + 4.0 * r / s)
            })
            .sum::<f64>()
}

/// Fano factor of spike counts in consecutive windows of `width` ms from `t_start` (a trailing
/// partial window is dropped). Each window holds its start and not its end, but the last
/// holds its end too: a spike at `t_stop` when the windows tile `[t_start, t_stop]` exactly
/// counts, as it does in `n_spikes` (it had been left out of every window). A spike exactly
/// on an inner edge counts once, in the later window; Elephant's `time_slice` windows, closed
/// at both ends, count it in both.
pub fn fano(spikes: &[f64], t_start: f64, t_stop: f64, width: f64) -> f64 {
    let n = ((t_stop - t_start) / width + 1e-9).floor();
    if n.is_nan() || n < 2.0 {
        return f64::NAN;
    }
    // Only windows holding a spike are visited, so the number of windows costs nothing: the
    // empty ones add m^2 each to the sum of squares.
    let end = t_start + n * width;
    // Whether the windows tile [t_start, t_stop] (to rounding): only then is `end` t_stop,
    // and a spike there the interval's own. Otherwise it lies on the edge of the dropped
    // partial window, which counts nothing.
    let tiles = (t_stop - end).abs() <= 1e-9 * width;
    let mut windows: Vec<f64> = spikes
        .iter()
        .map(|&t| {
            let k = ((t - t_start) / width).floor();
            if k >= n && t <= end && tiles {
                n - 1.0
            } else {
                k
            }
        })
        .filter(|k| *k >= 0.0 && *k < n)
        .collect();
    if !windows.is_sorted() {
        windows.sort_by(f64::total_cmp);
    }
    let mut counts: Vec<f64> = vec![];
    for (j, k) in windows.iter().enumerate() {
        if j > 0 && windows[j - 1] == *k {
            *counts.last_mut().expect("a window was opened") += 1.0;
        } else {
            counts.push(1.0);
        }
    }
    let m = counts.iter().sum::<f64>() / n;
    if m == 0.0 {
        return f64::NAN;
    }
    let occupied: f64 = counts.iter().map(|c| (c - m).powi(2)).sum();
    let var = (occupied + (n - counts.len() as f64) * m * m) / n;
    var / m
}

/// A change of the serial correlation by more than this when the first interval is dropped
/// is noted in [`TrainStats::reason`].
pub const SERIAL_TRANSIENT_CHANGE: f64 = 0.2;

/// When the standard deviation of the first quarter of the intervals exceeds this many times
/// that of the rest, the serial correlation is noted as reflecting the transient.
pub const SERIAL_TRANSIENT_SPREAD: f64 = 10.0;

/// Pearson correlation of successive intervals (needs 3 intervals).
pub fn serial_correlation(i: &[f64]) -> f64 {
    if i.len() < 3 {
        return f64::NAN;
    }
    pearson(&i[..i.len() - 1], &i[1..])
}

/// Pearson correlation of two equally long samples (NaN if either is constant).
fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let (ma, mb) = (mean(a), mean(b));
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (va * vb).sqrt()
}

/// The spikes of `spikes` in [t_start, t_stop], both ends included as Elephant's
/// `SpikeTrain` includes them (a spike at t_stop had been dropped here and counted by the
/// kernel rate). Every statistic of a train, its interval histogram and its chance level
/// read the train through this.
pub fn within(spikes: &[f64], t_start: f64, t_stop: f64) -> Vec<f64> {
    spikes
        .iter()
        .copied()
        .filter(|t| *t >= t_start && *t <= t_stop)
        .collect()
}

/// All statistics of one train (spikes outside [t_start, t_stop] are ignored: [`within`]).
pub fn train_stats(spikes: &[f64], s: &StatsSettings) -> TrainStats {
    let sp = within(spikes, s.t_start, s.t_stop);
    let i = isi(&sp);
    let mut reasons: Vec<String> = Vec::new();
    if i.is_empty() {
        reasons.push("fewer than 2 spikes: no intervals".into());
    } else if i.len() < 2 {
        reasons.push("1 interval: cv2, lv, lvr need 2".into());
    } else if i.len() < 3 {
        reasons.push("2 intervals: serial correlation needs 3".into());
    }
    // A nearly regular train's serial correlation is decided by its transient: one long first
    // interval, or intervals relaxing onto the limit cycle, drive it to +1. Say so when
    // dropping the first interval changes it, or when the spread of the intervals sits in
    // their first quarter.
    let sc = serial_correlation(&i);
    if i.len() >= 4 {
        let rest = serial_correlation(&i[1..]);
        let q = i.len().div_ceil(4);
        let (early, late) = (std0(&i[..q]), std0(&i[q..]));
        if (sc - rest).abs() > SERIAL_TRANSIENT_CHANGE || (sc.is_nan() != rest.is_nan()) {
            reasons.push(format!(
                "serial corr driven by the first interval (a transient?): {rest:.4} without it"
            ));
        } else if i.len() >= 8 && early > SERIAL_TRANSIENT_SPREAD * late {
            reasons.push(format!(
                "serial corr reflects the transient: the first {q} intervals spread {}x more than the rest; without them {:.4}",
                crate::model::Number((early / late.max(f64::MIN_POSITIVE)).min(1e12).round()),
                serial_correlation(&i[q..])
            ));
        }
    }
    let (m, sd) = if i.is_empty() {
        (f64::NAN, f64::NAN)
    } else {
        (mean(&i), std0(&i))
    };
    let f = fano(&sp, s.t_start, s.t_stop, s.fano_window_ms);
    if f.is_nan() {
        reasons.push("fano: fewer than 2 windows or no spikes".into());
    }
    TrainStats {
        n_spikes: sp.len(),
        rate_hz: sp.len() as f64 / (s.t_stop - s.t_start) * 1000.0,
        isi_mean_ms: m,
        isi_std_ms: sd,
        cv: sd / m,
        cv2: cv2(&i),
        lv: lv(&i),
        lvr: lvr(&i, s.lvr_r_ms),
        fano: f,
        serial_corr: sc,
        first_spike_ms: sp.first().map_or(f64::NAN, |t| t - s.t_start),
        reason: reasons.join("; "),
    }
}

/// Histogram of `values` with bins of `width` starting at `lo`: (bin left edges, counts).
/// Bins are [left, right), and a value within 1e-9 bin widths below an edge counts as on it:
/// intervals that are exact multiples of the bin (50 ms, made as a difference of two spike
/// times, can come out as 49.99999999999999) fall in one bin, not two.
pub fn histogram(values: &[f64], lo: f64, width: f64, bins: usize) -> (Vec<f64>, Vec<u32>) {
    let mut counts = vec![0u32; bins];
    for &v in values {
        let x = (v - lo) / width;
        let k = (x + 1e-9 * x.abs().max(1.0)).floor();
        if k >= 0.0 && (k as usize) < bins {
            counts[k as usize] += 1;
        }
    }
    ((0..bins).map(|k| lo + k as f64 * width).collect(), counts)
}

/// At most this many bins in an ISI histogram of [`isi_histograms`].
pub const MAX_ISI_BINS: usize = 100_000;

/// The ISI histogram of every train, all with the same bins of `bin_ms` from 0 to the longest
/// interval of any train (at most [`MAX_ISI_BINS`]): (bin left edges, counts) per train.
pub fn isi_histograms(
    trains: &[Vec<f64>],
    bin_ms: f64,
    t_start: f64,
    t_stop: f64,
) -> Vec<(Vec<f64>, Vec<u32>)> {
    use rayon::prelude::*;
    let intervals: Vec<Vec<f64>> = trains
        .par_iter()
        .map(|t| isi(&within(t, t_start, t_stop)))
        .collect();
    let max_isi = intervals
        .iter()
        .flat_map(|i| i.iter().copied())
        .fold(0.0f64, f64::max);
    let bins = ((max_isi / bin_ms).ceil() as usize + 1).min(MAX_ISI_BINS);
    intervals
        .par_iter()
        .map(|i| histogram(i, 0.0, bin_ms, bins))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A regular 20 ms train after one 35 ms first interval: the serial correlation is
    /// decided by that interval, and the note says so with the value without it.
    #[test]
    fn a_transient_first_interval_is_flagged_in_the_serial_correlation() {
        let mut sp = vec![0.0, 35.0];
        for k in 1..30 {
            sp.push(35.0 + 20.0 * k as f64 + if k % 2 == 0 { 0.01 } else { 0.0 });
        }
        let s = StatsSettings {
            t_start: 0.0,
            t_stop: 1000.0,
            lvr_r_ms: 5.0,
            fano_window_ms: 100.0,
        };
        let st = train_stats(&sp, &s);
        assert!(
            st.reason
                .contains("serial corr driven by the first interval"),
            "{}",
            st.reason
        );
        let regular: Vec<f64> = (0..30)
            .map(|k| k as f64 * 20.0 + if k % 2 == 0 { 0.01 } else { 0.0 })
            .collect();
        assert!(!train_stats(&regular, &s).reason.contains("serial corr"));
        // Intervals relaxing towards 20 ms (a cell settling onto its cycle): a trend.
        let mut t = 0.0;
        let relaxing: Vec<f64> = (0..30)
            .map(|k| {
                t += 20.0 + 5.0 * (-(k as f64) / 2.0).exp();
                t
            })
            .collect();
        let st = train_stats(&relaxing, &s);
        assert!(st.serial_corr > 0.9, "{}", st.serial_corr);
        assert!(
            st.reason.contains("serial corr reflects the transient"),
            "{}",
            st.reason
        );
    }

    /// Intervals of exactly 50 ms made as differences of spike times at 0.1 + 50 k fall in one
    /// 1 ms bin, not split between 49 and 50.
    #[test]
    fn exact_multiples_of_the_bin_fall_in_one_bin() {
        let sp: Vec<f64> = (0..40).map(|k| 0.1 + 50.0 * k as f64).collect();
        let (edges, counts) = histogram(&isi(&sp), 0.0, 1.0, 60);
        assert_eq!(counts[50], 39, "{:?}", &counts[48..52]);
        assert_eq!(edges[50], 50.0);
    }

    /// A spike at `t_stop`, which `n_spikes` counts, counts in the last window too: counts 3
    /// and 1 in 1000 windows of 100 ms give var/mean = 2.496 (ddof 0, closed form), where
    /// leaving it out gave 2.997. One beyond `t_stop` counts nowhere, nor one on the edge of a
    /// dropped partial window.
    #[test]
    fn a_spike_at_t_stop_counts_in_the_last_window() {
        let sp = [1.0, 2.0, 3.0, 100_000.0, 100_001.0];
        let f = fano(&sp, 0.0, 100_000.0, 100.0);
        let counts = [3.0, 1.0];
        let m = 4.0 / 1000.0;
        let var =
            (counts.iter().map(|c: &f64| (c - m).powi(2)).sum::<f64>() + 998.0 * m * m) / 1000.0;
        assert!(
            (f - var / m).abs() < 1e-12 && (f - 2.496).abs() < 1e-9,
            "{f}"
        );
        // An inner edge counts once, in the later window: spikes at 50 and 100 in three
        // windows of 100 ms are counts (1, 1, 0), var/mean = 1/3; in the earlier window they
        // would be (2, 0, 0), 4/3, and counted in both (1, 2, 0), 7/9.
        let inner = fano(&[50.0, 100.0], 0.0, 300.0, 100.0);
        assert!((inner - 1.0 / 3.0).abs() < 1e-12, "{inner}");
        // Windows that do not tile: a spike on the end of the last whole window (300 of
        // [0, 350]) lies on the dropped partial window's edge: counts (1, 0, 0), 2/3.
        let partial = fano(&[10.0, 300.0], 0.0, 350.0, 100.0);
        assert!((partial - 2.0 / 3.0).abs() < 1e-12, "{partial}");
    }

    #[test]
    fn regular_train_has_zero_variability() {
        let sp: Vec<f64> = (0..100).map(|k| 5.0 + 10.0 * k as f64).collect();
        let s = train_stats(
            &sp,
            &StatsSettings {
                t_start: 0.0,
                t_stop: 1000.0,
                lvr_r_ms: 5.0,
                fano_window_ms: 100.0,
            },
        );
        assert_eq!(s.n_spikes, 100);
        assert!((s.rate_hz - 100.0).abs() < 1e-12);
        assert!(
            s.cv.abs() < 1e-12 && s.cv2.abs() < 1e-12 && s.lv.abs() < 1e-12 && s.fano.abs() < 1e-12
        );
        // LvR of a regular train: 3/(N-1) * (N-1) * (1 + 4R/(2 I)) * 0 = 0.
        assert!(s.lvr.abs() < 1e-12);
        assert_eq!(s.first_spike_ms, 5.0);
    }

    #[test]
    fn short_trains_get_nan_with_a_reason() {
        let st = StatsSettings {
            t_start: 0.0,
            t_stop: 100.0,
            lvr_r_ms: 5.0,
            fano_window_ms: 100.0,
        };
        let s = train_stats(&[10.0], &st);
        assert!(s.cv.is_nan() && s.lv.is_nan() && !s.reason.is_empty());
        let s = train_stats(&[10.0, 20.0], &st);
        assert_eq!(s.cv, 0.0);
        assert!(s.cv2.is_nan() && s.reason.contains("1 interval"));
    }
}
