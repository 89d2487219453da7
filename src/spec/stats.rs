//! `excitable stats`: spike-train statistics (ISI, CV, CV2, LV, LvR, Fano, serial
//! correlation), the instantaneous rate, ISI histograms and, given the input, its timing.

use crate::analysis::rate::{Kernel, RateGrid, RateSettings};
use crate::analysis::spike_stats::{
    MAX_ISI_BINS, StatsSettings, TrainStats, isi_histograms, longest_isi, train_stats, within,
};
use crate::analysis::timing::{IoTiming, io_timing};
use crate::error::{Error, SpecError, short};
use crate::progress::{Observer, Silent, Tracker};
use crate::stimulus::Stimulus;
use serde::{Deserialize, Serialize};

/// The kernel is cut at this many standard deviations (Elephant's default).
pub const KERNEL_CUTOFF: f64 = 5.0;

/// Most samples of the instantaneous rate over all trains (trains × (t_stop - t_start) /
/// sampling): 5·10^7, about 400 MB of `rate.parquet` (166 MB per 2·10^7 rows, snappy; the
/// command line streams the rows, so memory stays flat; a result kept in memory holds 0.4 GB
/// of them).
pub const MAX_RATE_SAMPLES: f64 = 5e7;

/// Trains whose rates are computed together (in parallel) and, when streamed, written as one
/// row group of `rate.parquet`: 20,000 samples per train make a 640,000-row group, about 13 MB
/// in memory.
pub const RATE_BLOCK_TRAINS: usize = 32;

/// Most samples of the rate kernel, `2 ceil(5 sigma / sampling) + 1`: 10^7.
pub const MAX_KERNEL_SAMPLES: f64 = 1e7;

/// Most kernel additions of the rate over all trains (each spike adds the kernel's samples
/// that fall inside the interval): 10^10, about ten seconds.
pub const MAX_KERNEL_WORK: f64 = 1e10;

/// Most cells of the ISI histograms over all trains (trains × bins): 5·10^7.
pub const MAX_ISI_CELLS: f64 = 5e7;

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
    #[arg(long, allow_hyphen_values = true, default_value_t = 100.0)]
    pub fano_window: f64,
    /// Refractoriness constant R of LvR (ms).
    #[arg(long, allow_hyphen_values = true, default_value_t = 5.0)]
    pub lvr_r: f64,
    /// Bin width of the ISI histogram (ms).
    #[arg(long, allow_hyphen_values = true, default_value_t = 1.0)]
    pub isi_bin: f64,
    /// Kernel of the instantaneous rate: rectangular, triangular or gaussian.
    #[arg(long, default_value = "gaussian")]
    pub kernel: String,
    /// Kernel standard deviation (ms).
    #[arg(long, allow_hyphen_values = true, default_value_t = 10.0)]
    pub sigma: f64,
    /// Sampling period of the instantaneous rate (ms).
    #[arg(long, allow_hyphen_values = true, default_value_t = 1.0)]
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
    /// The spike trains (ms), one per neuron, each in time order.
    pub trains: Vec<Vec<f64>>,
    /// The trains (by index) whose times were given out of order: each was sorted before any
    /// statistic, and the summary names them.
    pub out_of_order: Vec<usize>,
    /// The trains (by index) holding two spikes at one time (an interval of 0 ms), which the
    /// summary names.
    pub repeated: Vec<usize>,
    /// Spikes outside [t_start, t_stop] in all trains: left out of every statistic, and
    /// counted here so the summary can say so.
    pub outside: usize,
    /// The units of the spike times: ms (and rates in Hz), or the bare time of a model without
    /// units ([`crate::model::Units::FILE`]: rates per 1000 time units). The library takes
    /// times in ms; the file reader sets this from the file's time column (`t` rather than
    /// `t_ms`).
    pub units: crate::model::Units,
    /// The statistics of each train over [t_start, t_stop].
    pub stats: Vec<TrainStats>,
    /// The time grid of every instantaneous rate: the bins' left edges (ms).
    pub rate_t_ms: Vec<f64>,
    /// The instantaneous rate of each train on `rate_t_ms` (Hz), or where they went.
    pub rates: Rates,
    /// The ISI histogram of each train over [t_start, t_stop], as its statistics (common
    /// bins): (bin left edges in ms, counts).
    pub isi_histograms: Vec<(Vec<f64>, Vec<u32>)>,
    /// The timing against the input, when one was given.
    pub timing: Option<IoTiming>,
}

/// The instantaneous rates of a [`StatsResult`]: kept in memory, or streamed to a sink as
/// they were computed ([`StatsSpec::run_streamed`]: the command line writes them straight
/// into `rate.parquet`, so a thousand trains do not sit in memory twice).
#[derive(Debug, Clone, PartialEq)]
pub enum Rates {
    /// One rate per train (Hz).
    Kept(Vec<Vec<f64>>),
    /// Handed to the sink, this many rows in all.
    Streamed {
        /// Rows given to the sink (trains × samples).
        rows: usize,
    },
}

/// Takes the rates of trains `first..`, on the time grid `t_ms`, as each block is done:
/// `(first, t_ms, rates)`, the rates one train after another, `t_ms.len()` values each (one
/// buffer: it becomes the table's column as it is).
pub type RateSink<'a> = dyn FnMut(usize, &[f64], Vec<f64>) -> Result<(), Error> + 'a;

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

    /// Refuse, before anything is allocated, settings whose grids over `trains` analysed up to
    /// `t_stop` pass a stated limit: the rate's samples ([`MAX_RATE_SAMPLES`], `sampling`),
    /// its kernel ([`MAX_KERNEL_SAMPLES`] and [`MAX_KERNEL_WORK`], `sigma`) and the ISI
    /// histograms ([`MAX_ISI_BINS`] per train and [`MAX_ISI_CELLS`] in all, `isi_bin`). The
    /// Fano factor's windows cost nothing (only windows holding a spike are visited).
    pub fn check_sizes(&self, trains: &[Vec<f64>], t_stop: f64) -> Result<(), SpecError> {
        let span = t_stop - self.t_start;
        let per_train = (span / self.sampling).floor();
        let n_trains = trains.len().max(1) as f64;
        if per_train < 1.0 {
            return Err(SpecError::new(
                "sampling",
                short(self.sampling),
                format!("a period of at most t_stop - t_start = {} ms", short(span)),
            ));
        }
        if per_train * n_trains > MAX_RATE_SAMPLES {
            return Err(SpecError::new(
                "sampling",
                short(self.sampling),
                format!(
                    "a period giving at most {} rate samples in all: {} train(s) × {} ms{} / {} ms = {} (a larger sampling, a shorter t_start..t_stop or fewer trains)",
                    short(MAX_RATE_SAMPLES),
                    n_trains,
                    short(span),
                    if self.t_stop.is_none() {
                        " (t_stop: the last spike, rounded up)"
                    } else {
                        ""
                    },
                    short(self.sampling),
                    short(per_train * n_trains)
                ),
            ));
        }
        let kernel = 2.0 * (KERNEL_CUTOFF * self.sigma / self.sampling).ceil() + 1.0;
        if kernel > MAX_KERNEL_SAMPLES {
            return Err(SpecError::new(
                "sigma",
                short(self.sigma),
                format!(
                    "a kernel of at most {} samples (2 ceil(5 sigma / sampling) + 1 = {}): sigma up to {} ms at sampling {} ms",
                    short(MAX_KERNEL_SAMPLES),
                    short(kernel),
                    short(MAX_KERNEL_SAMPLES / 2.0 / KERNEL_CUTOFF * self.sampling),
                    short(self.sampling)
                ),
            ));
        }
        // The spikes inside the window and the longest interval, train by train on all cores.
        let (spikes, longest) = {
            use rayon::prelude::*;
            trains
                .par_iter()
                .map(|train| {
                    let inside = within(train, self.t_start, t_stop);
                    (inside.len(), longest_isi(&inside))
                })
                .reduce(|| (0, 0.0), |a, b| (a.0 + b.0, a.1.max(b.1)))
        };
        let spikes = spikes as f64;
        let work = spikes * kernel.min(2.0 * per_train + 1.0);
        if work > MAX_KERNEL_WORK {
            return Err(SpecError::new(
                "sigma",
                short(self.sigma),
                format!(
                    "a kernel whose samples, added at each of the {} spikes, make at most {} additions (now {}): a smaller sigma or a larger sampling",
                    short(spikes),
                    short(MAX_KERNEL_WORK),
                    short(work)
                ),
            ));
        }
        let bins = (longest / self.isi_bin).ceil() + 1.0;
        if bins > MAX_ISI_BINS as f64 || bins * n_trains > MAX_ISI_CELLS {
            let most = (MAX_ISI_BINS as f64).min((MAX_ISI_CELLS / n_trains).floor());
            return Err(SpecError::new(
                "isi_bin",
                short(self.isi_bin),
                format!(
                    "a bin giving at most {} bins per train up to the longest interval, {} ms ({} train(s), at most {} cells in all): isi_bin >= {} ms",
                    short(most),
                    short(longest),
                    n_trains,
                    short(MAX_ISI_CELLS),
                    short(longest / (most - 1.0).max(1.0))
                ),
            ));
        }
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

    /// The statistics of `trains` (spike times in ms, one train per neuron; a train out of
    /// time order is sorted and named in [`StatsResult::out_of_order`]).
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
        self.run_recorded(trains, None, observer)
    }

    /// [`StatsSpec::run_owned_with`] on trains from a recording that ended at `recording_end`
    /// (ms), where known: without a `t_stop` the rates run to there, not to the last spike,
    /// and the settings keep `t_stop` unset (the summary says where it came from).
    pub fn run_recorded(
        &self,
        trains: Vec<Vec<f64>>,
        recording_end: Option<f64>,
        observer: &dyn Observer,
    ) -> Result<StatsResult, Error> {
        self.run_into_sink(trains, recording_end, observer, None)
    }

    /// [`StatsSpec::run_recorded`], handing each block of [`RATE_BLOCK_TRAINS`] trains' rates
    /// to `sink` as soon as it is computed instead of keeping them ([`Rates::Streamed`]).
    pub fn run_streamed(
        &self,
        trains: Vec<Vec<f64>>,
        recording_end: Option<f64>,
        observer: &dyn Observer,
        sink: &mut RateSink<'_>,
    ) -> Result<StatsResult, Error> {
        self.run_into_sink(trains, recording_end, observer, Some(sink))
    }

    fn run_into_sink(
        &self,
        mut trains: Vec<Vec<f64>>,
        recording_end: Option<f64>,
        observer: &dyn Observer,
        mut sink: Option<&mut RateSink<'_>>,
    ) -> Result<StatsResult, Error> {
        use rayon::prelude::*;
        self.validate()?;
        // A time that is not a number would sort anywhere and poison every statistic. The file
        // readers refuse it first; a caller of the library (Python's trains in memory among
        // them) meets it here, with its neuron named.
        let not_finite = trains.par_iter().enumerate().find_map_first(|(k, train)| {
            let i = train.iter().position(|t| !t.is_finite())?;
            Some((k, i, train[i]))
        });
        if let Some((k, i, t)) = not_finite {
            return Err(SpecError::new(
                "spike times",
                format!("neuron {k}'s spike {}: {t}", i + 1),
                "finite times (ms)",
            )
            .into());
        }
        // Every statistic reads a train in time order. A train given out of order is sorted
        // here, once for every face, and named in the result: its times may not be one
        // recording (trials each starting at 0 joined under one neuron merge this way).
        let out_of_order: Vec<usize> = trains
            .par_iter_mut()
            .enumerate()
            .filter_map(|(k, train)| {
                (!train.is_sorted()).then(|| {
                    train.sort_by(f64::total_cmp);
                    k
                })
            })
            .collect();
        // Two spikes at one time make an interval of 0: said, as CV2, LV and LvR are NaN
        // where two such intervals meet.
        let repeated: Vec<usize> = trains
            .par_iter()
            .enumerate()
            .filter_map(|(k, t)| t.windows(2).any(|w| w[0] == w[1]).then_some(k))
            .collect();
        let (t_stop, t_stop_from) = match (self.t_stop, recording_end) {
            (Some(t), _) => (t, "given".to_string()),
            (None, Some(end)) => (
                end,
                "the end of the recording (the t_max of the simulation that wrote the spikes)"
                    .to_string(),
            ),
            (None, None) => {
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
                    "the last spike rounded up to a whole number (the recording's end is not known: rates end at the last spike; give t_stop for the whole recording)".to_string(),
                )
            }
        };
        super::range("t_start, t_stop", self.t_start, t_stop)?;
        self.check_sizes(&trains, t_stop)?;
        let outside = trains
            .par_iter()
            .map(|t| {
                t.iter()
                    .filter(|&&x| x < self.t_start || x > t_stop)
                    .count()
            })
            .sum();
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
        let grid = RateGrid::new(&rate)?;
        let times = grid.times();
        let tracker = Tracker::new(observer, "spike trains", Some(trains.len() as u64));
        let (mut stats, mut kept, mut rows) = (vec![], vec![], 0);
        for (b, block) in trains.chunks(RATE_BLOCK_TRAINS).enumerate() {
            stats.par_extend(block.par_iter().map(|train| train_stats(train, &settings)));
            let first = b * RATE_BLOCK_TRAINS;
            match sink.as_mut() {
                Some(sink) => {
                    // One buffer for the block (a grid has at least one sample).
                    let mut r = grid.zeroed_rates(block.len());
                    r.par_chunks_mut(grid.len())
                        .zip(block)
                        .for_each(|(rate, train)| grid.add_rate_into(train, rate));
                    rows += r.len();
                    sink(first, &times, r)?;
                }
                None => kept.par_extend(block.par_iter().map(|train| grid.rate_of(train))),
            }
            tracker.advance(
                block.len() as u64,
                &format!("neuron {}", first + block.len() - 1),
            )?;
        }
        let rates = match sink {
            Some(_) => Rates::Streamed { rows },
            None => Rates::Kept(kept),
        };
        let timing = self
            .input()?
            .map(|stim| io_timing(&stim, &trains, self.t_start, t_stop));
        Ok(StatsResult {
            spec: self.clone(),
            source: format!("{} spike trains", trains.len()),
            t_stop,
            t_stop_from,
            isi_histograms: isi_histograms(&trains, self.isi_bin, self.t_start, t_stop),
            trains,
            out_of_order,
            repeated,
            outside,
            units: crate::model::Units::NEURON,
            stats,
            rate_t_ms: times,
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
