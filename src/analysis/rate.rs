//! Instantaneous firing rate by kernel smoothing, with Elephant's conventions
//! (`elephant.statistics.instantaneous_rate`, `center_kernel=True`, `trim=False`, no border
//! correction), so results compare 1:1:
//!
//! 1. spikes are binned into `n = floor((t_stop - t_start) / dt)` bins of the sampling period
//!    `dt` (numpy's histogram rules: half-open bins, the last one closed);
//! 2. the kernel is sampled at `2 ceil(cutoff sigma / dt) + 1` points evenly spread over
//!    [-cutoff sigma, cutoff sigma] (an odd count, so a symmetric kernel is centred);
//! 3. rate = the binned counts convolved with the sampled kernel, keeping the `n` central values
//!    (`mode='same'`), in Hz. Near the edges the kernel's mass outside [t_start, t_stop) is lost
//!    (no border correction), so the rate dips there.
//!
//! Kernels (sigma is the standard deviation): rectangular of half-width sqrt(3) sigma (open at
//! the edges), triangular of half-width sqrt(6) sigma, Gaussian.

use crate::error::AnalysisError;

/// Kernel shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    /// Flat over ±sqrt(3) sigma.
    Rectangular,
    /// Linear to zero at ±sqrt(6) sigma.
    Triangular,
    /// Normal density.
    Gaussian,
}

impl Kernel {
    /// The kernel named `rectangular`, `triangular` or `gaussian`.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "rectangular" => Ok(Kernel::Rectangular),
            "triangular" => Ok(Kernel::Triangular),
            "gaussian" => Ok(Kernel::Gaussian),
            _ => Err(format!(
                "kernel '{text}': expected rectangular, triangular or gaussian"
            )),
        }
    }

    /// Density (1/ms) at `t` ms for standard deviation `sigma` ms.
    pub fn density(self, t: f64, sigma: f64) -> f64 {
        match self {
            Kernel::Rectangular => {
                let tau = 3f64.sqrt() * sigma;
                if t.abs() < tau {
                    1.0 / (2.0 * tau)
                } else {
                    0.0
                }
            }
            Kernel::Triangular => {
                let tau = 6f64.sqrt() * sigma;
                if t.abs() < tau {
                    (1.0 - t.abs() / tau) / tau
                } else {
                    0.0
                }
            }
            Kernel::Gaussian => {
                (-0.5 * (t / sigma).powi(2)).exp() / (sigma * (2.0 * std::f64::consts::PI).sqrt())
            }
        }
    }
}

/// Settings of [`instantaneous_rate`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateSettings {
    /// Start of the rate's time axis (ms).
    pub t_start: f64,
    /// End of it (ms).
    pub t_stop: f64,
    /// Sampling period of the output (ms).
    pub sampling_ms: f64,
    /// Kernel shape.
    pub kernel: Kernel,
    /// Kernel standard deviation (ms).
    pub sigma_ms: f64,
    /// The kernel is cut at `cutoff` standard deviations (Elephant's default 5).
    pub cutoff: f64,
}

/// The bin of `t` among `n` bins over [lo, hi] as `numpy.histogram(spikes, bins=n,
/// range=(lo, hi))` puts it (half-open bins, the last one closed; the edges computed as numpy
/// computes them, `lo + (hi - lo) k / n`), or None outside.
#[inline]
fn numpy_bin(t: f64, n: usize, lo: f64, hi: f64) -> Option<usize> {
    if !(t >= lo && t <= hi) {
        return None;
    }
    let edge = |k: usize| {
        if k == n {
            hi
        } else {
            lo + (hi - lo) * k as f64 / n as f64
        }
    };
    let mut i = (((t - lo) * (n as f64 / (hi - lo))) as usize).min(n - 1);
    if t < edge(i) {
        i -= 1;
    } else if i + 1 < n && t >= edge(i + 1) {
        i += 1;
    }
    Some(i)
}

/// Bin counts as `numpy.histogram(spikes, bins=n, range=(lo, hi))` computes them.
pub fn numpy_histogram(spikes: &[f64], n: usize, lo: f64, hi: f64) -> Vec<f64> {
    let mut counts = vec![0.0; n];
    for &t in spikes {
        if let Some(i) = numpy_bin(t, n, lo, hi) {
            counts[i] += 1.0;
        }
    }
    counts
}

/// The time grid and sampled kernel of [`RateSettings`], checked and built once and shared by
/// every train (a thousand trains need one kernel, not a thousand).
#[derive(Debug, Clone, PartialEq)]
pub struct RateGrid {
    /// Samples of the rate.
    n: usize,
    t_start: f64,
    sampling_ms: f64,
    /// Half-width of the kernel in samples.
    h: usize,
    /// The kernel's `2 h + 1` samples, in Hz per spike.
    kernel: Vec<f64>,
}

impl RateGrid {
    /// Check the settings and sample the kernel.
    pub fn new(s: &RateSettings) -> Result<RateGrid, AnalysisError> {
        let bad = |what: &str, v: f64, allowed: &str| AnalysisError::BadSetting {
            what: what.into(),
            value: v,
            allowed: allowed.into(),
        };
        if !(s.sampling_ms.is_finite() && s.sampling_ms > 0.0) {
            return Err(bad("sampling period (ms)", s.sampling_ms, "> 0"));
        }
        if !(s.sigma_ms.is_finite() && s.sigma_ms > 0.0) {
            return Err(bad("kernel sigma (ms)", s.sigma_ms, "> 0"));
        }
        if !(s.cutoff.is_finite() && s.cutoff >= 3.0) {
            return Err(bad("kernel cutoff (sigmas)", s.cutoff, ">= 3"));
        }
        let n = ((s.t_stop - s.t_start) / s.sampling_ms) as usize;
        if n == 0 || n > 100_000_000 {
            return Err(bad(
                "number of rate samples",
                n as f64,
                "1 to 10^8: check t_start, t_stop and the sampling period",
            ));
        }
        let h = (s.cutoff * s.sigma_ms / s.sampling_ms).ceil() as usize;
        let len = 2 * h + 1;
        let cutoff_bins = s.cutoff * s.sigma_ms / s.sampling_ms;
        let kernel = (0..len)
            .map(|k| {
                let x = -cutoff_bins + 2.0 * cutoff_bins * k as f64 / (len - 1) as f64;
                s.kernel.density(x * s.sampling_ms, s.sigma_ms) * 1000.0
            })
            .collect();
        Ok(RateGrid {
            n,
            t_start: s.t_start,
            sampling_ms: s.sampling_ms,
            h,
            kernel,
        })
    }

    /// Samples of every rate.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Always false: a grid has at least one sample.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The bins' left edges (ms).
    pub fn times(&self) -> Vec<f64> {
        (0..self.n)
            .map(|i| self.t_start + i as f64 * self.sampling_ms)
            .collect()
    }

    /// The rate (Hz) of one train on the grid: each spike's bin adds the kernel around it,
    /// in bin order, as the convolution of the binned counts would (the same sums, so the
    /// same numbers as Elephant's to rounding). Costs (spikes × kernel samples), not (bins ×
    /// kernel samples).
    pub fn rate_of(&self, spikes: &[f64]) -> Vec<f64> {
        let mut rate = self.zeroed_rates(1);
        self.add_rate_into(spikes, &mut rate);
        rate
    }

    /// Zeros for the rates of `trains` trains, [`RateGrid::len`] values each, to add them into
    /// ([`RateGrid::add_rate_into`]), every page of them already written.
    ///
    /// Memory fresh from the kernel comes zeroed without a write, so the sums' first reads
    /// would map the shared zero page and their writes then copy it, each copy flushing the
    /// other cores' TLBs: an interrupt per page (on a virtual machine typically a VM exit),
    /// 17% of `stats`' CPU on 200 trains (docs/speed-log.md, "Zeros written, not mapped"). One
    /// volatile write per 4 KiB page faults each page in as the process's own; the compiler
    /// can neither drop it nor fold it into the zeroed allocation.
    pub fn zeroed_rates(&self, trains: usize) -> Vec<f64> {
        const VALUES_PER_PAGE: usize = 4096 / std::mem::size_of::<f64>();
        let mut zeros = vec![0.0; trains * self.n];
        for z in zeros.iter_mut().step_by(VALUES_PER_PAGE) {
            // SAFETY: `z` is a valid, aligned and exclusive reference into the vector.
            unsafe { std::ptr::write_volatile(z, 0.0) };
        }
        zeros
    }

    /// [`RateGrid::rate_of`] added into `rate` (one value per sample, [`RateGrid::len`] of
    /// them; zeros for the rate itself): a block of trains fills one buffer, which becomes a
    /// table's column without a copy.
    ///
    /// # Panics
    ///
    /// When `rate` does not hold one value per sample (a caller's bug, not bad input).
    pub fn add_rate_into(&self, spikes: &[f64], rate: &mut [f64]) {
        let (n, h) = (self.n, self.h);
        assert_eq!(rate.len(), n, "one rate value per sample of the grid");
        let (lo, hi) = (self.t_start, self.t_start + n as f64 * self.sampling_ms);
        let mut bins: Vec<usize> = spikes
            .iter()
            .filter_map(|&t| numpy_bin(t, n, lo, hi))
            .collect();
        if !bins.is_sorted() {
            bins.sort_unstable();
        }
        let mut k = 0;
        while k < bins.len() {
            // A bin holding c spikes adds c times the kernel, as its count would.
            let j = bins[k];
            let c = bins[k..].iter().take_while(|&&b| b == j).count();
            k += c;
            let c = c as f64;
            // rate[i] += c * kernel[i + h - j] for the kernel indices inside [0, len).
            let i_lo = j.saturating_sub(h);
            let i_hi = (j + h).min(n - 1);
            let ker = &self.kernel[i_lo + h - j..=i_hi + h - j];
            for (r, w) in rate[i_lo..=i_hi].iter_mut().zip(ker) {
                *r += c * w;
            }
        }
    }
}

/// (times of the bins' left edges in ms, rate in Hz).
pub fn instantaneous_rate(
    spikes: &[f64],
    s: &RateSettings,
) -> Result<(Vec<f64>, Vec<f64>), AnalysisError> {
    let grid = RateGrid::new(s)?;
    Ok((grid.times(), grid.rate_of(spikes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernels_have_unit_mass_and_the_rate_integrates_to_the_count() {
        for k in [Kernel::Rectangular, Kernel::Triangular, Kernel::Gaussian] {
            let mass: f64 = (-100_000..=100_000)
                .map(|i| k.density(i as f64 * 1e-3, 5.0) * 1e-3)
                .sum();
            assert!((mass - 1.0).abs() < 1e-3, "{k:?}: {mass}");
            // Three spikes far from the edges: the rate integrates to 3 spikes, up to the sampling
            // of the kernel (not renormalised, as in Elephant: the rectangle of half-width
            // 8.66 ms covers 35 samples of 0.5 ms, 1 % more than its area).
            let s = RateSettings {
                t_start: 0.0,
                t_stop: 1000.0,
                sampling_ms: 0.5,
                kernel: k,
                sigma_ms: 5.0,
                cutoff: 5.0,
            };
            let (_, r) = instantaneous_rate(&[300.0, 500.2, 700.7], &s).unwrap();
            let spikes: f64 = r.iter().sum::<f64>() * 0.5 / 1000.0;
            assert!((spikes - 3.0).abs() < 0.035, "{k:?}: {spikes}");
        }
    }

    #[test]
    fn numpy_histogram_edges() {
        // Bins [0,1), [1,2), [2,3]: the right edge belongs to the last bin.
        assert_eq!(
            numpy_histogram(&[0.0, 0.999, 1.0, 2.5, 3.0, 3.1, -0.1], 3, 0.0, 3.0),
            vec![2.0, 1.0, 2.0]
        );
    }
}
