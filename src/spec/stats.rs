//! `excitable stats`: spike-train statistics (ISI, CV, CV2, LV, LvR, Fano, serial
//! correlation), the instantaneous rate, ISI histograms and, given the input, its timing.

use crate::analysis::rate::{Kernel, RateSettings, instantaneous_rate};
use crate::analysis::spike_stats::{StatsSettings, TrainStats, isi_histograms, train_stats};
use crate::analysis::timing::{IoTiming, io_timing};
use crate::error::{Error, SpecError};
use crate::progress::{Observer, Silent, Tracker};
use crate::stimulus::Stimulus;
use serde::{Deserialize, Serialize};

/// The kernel is cut at this many standard deviations (Elephant's default).
pub const KERNEL_CUTOFF: f64 = 5.0;

/// Every setting of `excitable stats` (the spike file aside).
#[derive(Debug, Clone, PartialEq, clap::Args, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct StatsSpec {
    /// Start of the analysed interval (ms).
    #[arg(long, allow_hyphen_values = true, default_value_t = 0.0)]
    pub t_start: f64,
    /// End of the analysed interval (ms); default: the last spike rounded up to a whole ms.
    #[arg(long, allow_hyphen_values = true)]
    pub t_stop: Option<f64>,
    /// Counting window of the Fano factor (ms).
    #[arg(long, default_value_t = 100.0)]
    pub fano_window: f64,
    /// Refractoriness constant R of LvR (ms).
    #[arg(long, default_value_t = 5.0)]
    pub lvr_r: f64,
    /// Bin width of the ISI histogram (ms).
    #[arg(long, default_value_t = 1.0)]
    pub isi_bin: f64,
    /// Kernel of the instantaneous rate: rectangular, triangular or gaussian.
    #[arg(long, default_value = "gaussian")]
    pub kernel: String,
    /// Kernel standard deviation (ms).
    #[arg(long, default_value_t = 10.0)]
    pub sigma: f64,
    /// Sampling period of the instantaneous rate (ms).
    #[arg(long, default_value_t = 1.0)]
    pub sampling: f64,
    /// The input the spikes answer, as a stimulus text (pulses:…, step:…, sine:…; see
    /// `simulate --help`): adds latencies per pulse, the fraction answered, the pulse-spike
    /// cross-correlogram, the spike-triggered average and, for a sine, vector strength.
    #[arg(long, allow_hyphen_values = true)]
    pub input: Option<String>,
}

impl Default for StatsSpec {
    fn default() -> Self {
        super::defaults()
    }
}

/// The statistics of every spike train given to [`StatsSpec::run`].
#[derive(Debug, Clone)]
pub struct StatsResult {
    /// The settings that made it.
    pub spec: StatsSpec,
    /// Where the trains came from, in words (the file, for the command line).
    pub source: String,
    /// End of the analysed interval (ms): the one given, or the last spike rounded up.
    pub t_stop: f64,
    /// Where `t_stop` came from, in words (given, the end of the recording, the last spike).
    pub t_stop_from: String,
    /// The spike trains (ms), one per neuron.
    pub trains: Vec<Vec<f64>>,
    /// The statistics of each train over [t_start, t_stop).
    pub stats: Vec<TrainStats>,
    /// The instantaneous rate of each train: (times in ms, rate in Hz).
    pub rates: Vec<(Vec<f64>, Vec<f64>)>,
    /// The ISI histogram of each train (whole trains, common bins): (bin left edges in ms,
    /// counts).
    pub isi_histograms: Vec<(Vec<f64>, Vec<u32>)>,
    /// The timing against the input, when one was given.
    pub timing: Option<IoTiming>,
}

impl StatsSpec {
    /// Check every setting.
    pub fn validate(&self) -> Result<(), SpecError> {
        super::finite("t_start", self.t_start)?;
        if let Some(t) = self.t_stop {
            super::range("t_start, t_stop", self.t_start, t)?;
        }
        super::positive("fano_window", self.fano_window)?;
        if !(self.lvr_r.is_finite() && self.lvr_r >= 0.0) {
            return Err(SpecError::new("lvr_r", self.lvr_r, "a finite number >= 0"));
        }
        super::positive("isi_bin", self.isi_bin)?;
        self.kernel()?;
        super::positive("sigma", self.sigma)?;
        super::positive("sampling", self.sampling)?;
        self.input()?;
        Ok(())
    }

    /// The rate kernel.
    pub fn kernel(&self) -> Result<Kernel, SpecError> {
        Kernel::parse(&self.kernel).map_err(|_| {
            SpecError::new(
                "kernel",
                &self.kernel,
                "rectangular, triangular or gaussian",
            )
        })
    }

    /// The input, if given (a `file:` part is read).
    pub fn input(&self) -> Result<Option<Stimulus>, SpecError> {
        self.input
            .as_deref()
            .map(|text| {
                Stimulus::parse(text).map_err(|e| SpecError::new("input", text, e.to_string()))
            })
            .transpose()
    }

    /// The statistics of `trains` (spike times in ms, one train per neuron, each sorted).
    pub fn run(&self, trains: &[Vec<f64>]) -> Result<StatsResult, Error> {
        self.run_with(trains, &Silent)
    }

    /// [`StatsSpec::run`], telling `observer` as each train is done (one unit per train).
    pub fn run_with(
        &self,
        trains: &[Vec<f64>],
        observer: &dyn Observer,
    ) -> Result<StatsResult, Error> {
        self.run_owned_with(trains.to_vec(), observer)
    }

    /// [`StatsSpec::run_with`] on trains the result then holds, without a copy (long trains).
    pub fn run_owned_with(
        &self,
        trains: Vec<Vec<f64>>,
        observer: &dyn Observer,
    ) -> Result<StatsResult, Error> {
        self.validate()?;
        let (t_stop, t_stop_from) = match self.t_stop {
            Some(t) => (t, "given".to_string()),
            None => {
                let last = trains
                    .iter()
                    .flat_map(|t| t.last())
                    .fold(f64::NEG_INFINITY, |m, &x| m.max(x));
                if last == f64::NEG_INFINITY {
                    return Err(SpecError::new(
                        "t_stop",
                        "(the last spike)",
                        "a number when the trains hold no spike",
                    )
                    .into());
                }
                (
                    last.floor() + 1.0,
                    "the last spike rounded up to a whole ms (the recording's end is not known: rates end at the last spike; give t_stop for the whole recording)".to_string(),
                )
            }
        };
        super::range("t_start, t_stop", self.t_start, t_stop)?;
        let settings = StatsSettings {
            t_start: self.t_start,
            t_stop,
            lvr_r_ms: self.lvr_r,
            fano_window_ms: self.fano_window,
        };
        let rate = RateSettings {
            t_start: self.t_start,
            t_stop,
            sampling_ms: self.sampling,
            kernel: self.kernel()?,
            sigma_ms: self.sigma,
            cutoff: KERNEL_CUTOFF,
        };
        let tracker = Tracker::new(observer, "spike trains", Some(trains.len() as u64));
        let (mut stats, mut rates) = (vec![], vec![]);
        for (k, train) in trains.iter().enumerate() {
            stats.push(train_stats(train, &settings));
            rates.push(instantaneous_rate(train, &rate)?);
            tracker.advance(1, &format!("neuron {k}"))?;
        }
        let timing = self
            .input()?
            .map(|stim| io_timing(&stim, &trains, self.t_start, t_stop));
        Ok(StatsResult {
            spec: self.clone(),
            source: format!("{} spike trains", trains.len()),
            t_stop,
            t_stop_from,
            isi_histograms: isi_histograms(&trains, self.isi_bin),
            trains,
            stats,
            rates,
            timing,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate_and_bad_values_name_their_field() {
        let d = StatsSpec::default();
        assert!(d.validate().is_ok());
        assert_eq!(
            (d.fano_window, d.lvr_r, d.kernel.as_str()),
            (100.0, 5.0, "gaussian")
        );
        let field = |s: StatsSpec| s.validate().unwrap_err().field;
        assert_eq!(
            field(StatsSpec {
                t_start: f64::NAN,
                ..d.clone()
            }),
            "t_start"
        );
        assert_eq!(
            field(StatsSpec {
                t_stop: Some(-1.0),
                ..d.clone()
            }),
            "t_start, t_stop"
        );
        assert_eq!(
            field(StatsSpec {
                fano_window: 0.0,
                ..d.clone()
            }),
            "fano_window"
        );
        assert_eq!(
            field(StatsSpec {
                lvr_r: -1.0,
                ..d.clone()
            }),
            "lvr_r"
        );
        assert_eq!(
            field(StatsSpec {
                isi_bin: f64::INFINITY,
                ..d.clone()
            }),
            "isi_bin"
        );
        assert_eq!(
            field(StatsSpec {
                kernel: "box".into(),
                ..d.clone()
            }),
            "kernel"
        );
        assert_eq!(
            field(StatsSpec {
                sigma: 0.0,
                ..d.clone()
            }),
            "sigma"
        );
        assert_eq!(
            field(StatsSpec {
                sampling: -1.0,
                ..d.clone()
            }),
            "sampling"
        );
        assert_eq!(
            field(StatsSpec {
                input: Some("pulse:1".into()),
                ..d
            }),
            "input"
        );
    }

    #[test]
    fn regular_trains_and_pulse_latencies() {
        let trains = vec![
            (0..10)
                .map(|k| 2.0 + 100.0 * k as f64)
                .collect::<Vec<f64>>(),
            vec![],
        ];
        let r = StatsSpec {
            input: Some("pulses:0,100,200,300,400,500,600,700,800,900:5:5".into()),
            ..Default::default()
        }
        .run(&trains)
        .unwrap();
        assert_eq!(r.t_stop, 903.0);
        assert_eq!(r.stats[0].n_spikes, 10);
        assert!(r.stats[0].cv.abs() < 1e-12);
        let t = r.timing.unwrap();
        assert_eq!(t.onsets_ms.len(), 10);
        assert!((t.neurons[0].latency_mean_ms - 2.0).abs() < 1e-9);
        assert_eq!(t.neurons[0].response.fraction_answered, 1.0);
        assert_eq!(t.neurons[1].response.fraction_answered, 0.0);
        assert!(StatsSpec::default().run(&[vec![]]).is_err());
    }
}
