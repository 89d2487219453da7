//! `excitable sweep`: firing over a grid of one or two model parameters and the injected
//! current, on the batch kernel (an `.ode` model: RK4 on lanes): each point a step from its
//! own resting state ([`crate::analysis::sweep`]). A grid splits into deterministic shards
//! ([`SweepSpec::run_part_with`]) whose rows, joined ([`SweepResult::merged`]), equal the
//! whole run bit for bit.
//!
//! ```no_run
//! use excitable::model::Model;
//! use excitable::spec::SweepSpec;
//! let hh = Model::builtin("hh")?;
//! let spec = SweepSpec {
//!     params: vec!["g_k=30:42:6".parse().unwrap()],
//!     current: "0:20:5".parse().unwrap(),
//!     ..Default::default()
//! };
//! let r = spec.run(&hh)?;
//! println!("{} points, the first at {} Hz", r.rows.len(), r.rows[0].rate_hz);
//! # Ok::<(), excitable::Error>(())
//! ```

use super::values::{NumberList, one_or_many};
use crate::analysis::accuracy::Accuracy;
use crate::analysis::sweep::{Axis, Grid, SweepPoint, sweep_accuracy, sweep_runner, sweep_with};
use crate::error::{Error, ShardError, SpecError};
use crate::model::{Model, Number};
use crate::progress::{Observer, Silent};
use crate::simulate::batch::{BatchScheme, BatchSettings, Precision, engine_methods};
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;
use std::ops::Range;
use std::str::FromStr;
use std::time::Instant;

/// At most this many grid points.
pub const MAX_POINTS: usize = 100_000_000;

/// A parameter axis: a model parameter and its values, written `NAME=FROM:TO:STEP` or
/// `NAME=V1,V2,…`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(into = "String")]
pub struct ParamAxis {
    /// The parameter's name.
    pub name: String,
    /// Its values.
    pub values: NumberList,
}

impl FromStr for ParamAxis {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (name, values) = text.split_once('=').ok_or_else(|| {
            format!("'{text}': expected NAME=VALUES (NAME=FROM:TO:STEP or NAME=V1,V2,…)")
        })?;
        Ok(ParamAxis {
            name: name.trim().to_string(),
            values: values.parse()?,
        })
    }
}

impl fmt::Display for ParamAxis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.name, self.values)
    }
}

impl From<ParamAxis> for String {
    fn from(a: ParamAxis) -> String {
        a.to_string()
    }
}

impl<'de> Deserialize<'de> for ParamAxis {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// Every setting of `excitable sweep` (the part of the grid a shard runs is the job's).
#[derive(Debug, Clone, PartialEq, clap::Args, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct SweepSpec {
    /// A parameter axis, `NAME=FROM:TO:STEP` or `NAME=V1,V2,…` (repeatable, one or two).
    #[arg(long = "param", value_name = "NAME=VALUES")]
    #[serde(rename = "param", deserialize_with = "one_or_many")]
    pub params: Vec<ParamAxis>,
    /// Injected currents (uA/cm^2; the file's units for an `.ode` model), `FROM:TO:STEP` or `V1,V2,…`.
    #[arg(long, default_value = "0:50:1", allow_hyphen_values = true)]
    pub current: NumberList,
    /// Run length (ms).
    #[arg(long, allow_hyphen_values = true, default_value_t = 1200.0)]
    pub t_max: f64,
    /// Discarded before counting (ms).
    #[arg(long, allow_hyphen_values = true, default_value_t = 200.0)]
    pub transient: f64,
    /// Time step (ms; the file's time unit for an `.ode` model).
    #[arg(long, allow_hyphen_values = true, default_value_t = 0.01)]
    pub dt: f64,
    /// Integrator: exp-euler (first order), exp-midpoint (second order: two rate evaluations
    /// per step, so a larger dt for the same accuracy) or exp-staggered (second order at one
    /// rate evaluation per step: gates at half steps). Default: exp-euler on the batch kernel
    /// (conductance models), RK4 for an `.ode` model, which takes exp-euler too when it is
    /// named.
    #[arg(long, value_enum)]
    pub method: Option<BatchScheme>,
    /// Arithmetic of the batch kernel's exponentials: f64, or mixed (those of the rates and
    /// gates in f32, twice as many per vector register; the state, and a gate's step taken
    /// by its series, stay f64); not used by an `.ode` model.
    #[arg(long, value_enum, default_value = "f64")]
    pub precision: Precision,
    /// Spike threshold (mV); default: the model's (hh: 0).
    #[arg(long, allow_hyphen_values = true)]
    pub threshold: Option<f64>,
}

impl Default for SweepSpec {
    fn default() -> Self {
        super::defaults()
    }
}

/// One grid point's result: a row of `grid.parquet`.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepRow {
    /// Its number in the whole grid (row-major, the current fastest).
    pub point: u32,
    /// The axis values, in the grid's axis order.
    pub values: Vec<f64>,
    /// The injected current (uA/cm^2).
    pub current: f64,
    /// Spikes counted after the transient per second of the counting window (Hz).
    pub rate_hz: f64,
    /// Spikes counted after the transient.
    pub n_spikes: u32,
    /// Mean interspike interval after the transient (ms), NaN with fewer than 2 spikes.
    pub isi_mean_ms: f64,
    /// Coefficient of variation of those intervals.
    pub isi_cv: f64,
    /// First spike after the transient (ms), NaN if none.
    pub first_spike_ms: f64,
    /// Lowest V after the transient (mV).
    pub v_min_mv: f64,
    /// Highest V after the transient (mV).
    pub v_max_mv: f64,
    /// Frequency of the local maxima of V (Hz): oscillations below the threshold.
    pub oscillation_hz: f64,
    /// Started from a stable resting state (see [`crate::analysis::sweep`]).
    pub rest_start: bool,
    /// The run blew up (|V| reached [`crate::model::V_LIMIT`] or the state stopped being
    /// finite): its rate, intervals and voltage range are NaN, not numbers to read.
    pub blew_up: bool,
    /// Its spikes stopped well before the window's end: a train dying away, not repetitive
    /// firing ([`crate::simulate::batch::NeuronSummary::mark_stopped`]).
    pub stopped: bool,
}

impl SweepRow {
    /// The row of a grid point counted over a window of `window_ms`.
    /// A point that blew up gets NaN in every measured column and 0 spikes.
    pub fn of(p: &SweepPoint, window_ms: f64) -> SweepRow {
        let (isi_mean_ms, isi_cv) = p.summary.isi_mean_cv();
        let row = SweepRow {
            point: p.index as u32,
            values: p.values.clone(),
            current: p.current,
            rate_hz: p.summary.rate_hz(window_ms),
            n_spikes: p.summary.n_spikes,
            isi_mean_ms,
            isi_cv,
            first_spike_ms: p.summary.first_spike_ms,
            v_min_mv: p.summary.v_min,
            v_max_mv: p.summary.v_max,
            oscillation_hz: p.summary.oscillation_hz(),
            rest_start: p.rest_start,
            blew_up: false,
            stopped: p.summary.stopped,
        };
        if !p.summary.blew_up {
            return row;
        }
        let nan = f64::NAN;
        SweepRow {
            rate_hz: nan,
            n_spikes: 0,
            isi_mean_ms: nan,
            isi_cv: nan,
            first_spike_ms: nan,
            v_min_mv: nan,
            v_max_mv: nan,
            oscillation_hz: nan,
            blew_up: true,
            ..row
        }
    }
}

/// The firing over a whole grid: run at once ([`SweepSpec::run`]) or joined from shards
/// ([`SweepResult::merged`]).
#[derive(Debug, Clone)]
pub struct SweepResult {
    /// The model, with its overrides.
    pub model: Model,
    /// The settings that made it.
    pub spec: SweepSpec,
    /// The grid.
    pub grid: Grid,
    /// Every grid point, by number.
    pub rows: Vec<SweepRow>,
    /// The integrator error, from a sample of firing points re-run at dt/2.
    pub accuracy: Option<Accuracy>,
    /// What integrated the points ([`crate::simulate::runner::Runner::name`]).
    pub engine: String,
    /// Its order of accuracy, which the dt/2 check's Richardson factor used.
    pub order: i32,
    /// Settings not used and why an `.ode` model is not on lanes ([`crate::simulate::runner::Runner::notes`]).
    pub notes: Vec<String>,
    /// Wall-clock time of the runs (s); `None` when merged from shards.
    pub seconds: Option<f64>,
    /// The number of shards it was merged from; `None` when run at once.
    pub shards: Option<usize>,
}

impl SweepSpec {
    /// Check every setting that does not need the model (the axes' names and ranges do:
    /// [`SweepSpec::grid`]).
    pub fn validate(&self) -> Result<(), SpecError> {
        if self.params.is_empty() || self.params.len() > 2 {
            return Err(SpecError::new(
                "param",
                format!("{} axes", self.params.len()),
                "one or two parameter axes",
            ));
        }
        for (k, axis) in self.params.iter().enumerate() {
            if axis.values.values.is_empty() {
                return Err(SpecError::new("param", axis, "at least one value"));
            }
            if let Some(v) = axis.values.values.iter().find(|v| !v.is_finite()) {
                return Err(SpecError::new(
                    "param",
                    format!("{axis} ({v})"),
                    "finite values",
                ));
            }
            if self.params[..k].iter().any(|a| a.name == axis.name) {
                return Err(SpecError::new("param", &axis.name, "each parameter once"));
            }
        }
        if self.current.values.is_empty() {
            return Err(SpecError::new("current", "(none)", "one or more currents"));
        }
        for &i in &self.current.values {
            super::finite("current", i)?;
        }
        super::timing(self.t_max, self.dt, self.transient)?;
        if let Some(t) = self.threshold {
            super::finite("threshold", t)?;
        }
        let points = self
            .params
            .iter()
            .map(|a| a.values.values.len() as f64)
            .product::<f64>()
            * self.current.values.len() as f64;
        if points > MAX_POINTS as f64 {
            return Err(SpecError::new(
                "param, current",
                format!("{points:.0} points"),
                format!("at most {MAX_POINTS} grid points (coarsen a step)"),
            ));
        }
        Ok(())
    }

    /// The grid on `model`, checked: a model with resting states to start from (conductance
    /// based, or an `.ode` model with a smooth autonomous field: [`sweep_runner`]), known
    /// parameters, every value in its parameter's range, and currents only where the model
    /// has a parameter to inject them into.
    pub fn grid(&self, model: &Model) -> Result<Grid, Error> {
        self.validate()?;
        sweep_runner(model)?;
        if let Model::Ode(m) = model
            && m.current_param().is_none()
            && let Some(i) = self.current.values.iter().find(|&&i| i != 0.0)
        {
            return Err(SpecError::new(
                "current",
                Number(*i),
                format!(
                    "0 only: `{}` has no current parameter (i_ext, iapp or i) to inject a current into",
                    m.name
                ),
            )
            .into());
        }
        let grid = Grid {
            axes: self
                .params
                .iter()
                .map(|a| Axis {
                    name: a.name.clone(),
                    values: a.values.values.clone(),
                })
                .collect(),
            currents: self.current.values.clone(),
        };
        grid.check(model.params())?;
        Ok(grid)
    }

    /// The batch settings on `model` (its spike threshold).
    pub fn settings(&self, model: &Model) -> BatchSettings {
        let (scheme, ode_method) = engine_methods(self.method);
        BatchSettings {
            t_max: self.t_max,
            dt: self.dt,
            transient: self.transient,
            threshold_mv: self.threshold.unwrap_or(model.threshold_mv()),
            precision: self.precision,
            scheme,
            ode_method,
        }
    }

    /// A fingerprint of the sweep on `model`: the model (name, its whole definition, every
    /// parameter value), the
    /// grid, dt, t_max, the transient, the threshold, the integrator and its precision, and the
    /// toolkit's version, hashed (FNV-1a, 64 bits, over
    /// the numbers' bits). Shards carry it, so a merge refuses a shard of another sweep.
    pub fn fingerprint(&self, model: &Model, grid: &Grid) -> String {
        let mut h = Fnv::new();
        h.text(env!("CARGO_PKG_VERSION"));
        h.text(model.name());
        // The whole definition (equations, gates, every parameter), so a model file edited
        // between shards gives another fingerprint: Debug text is stable within a version.
        h.text(&format!("{model:?}"));
        for p in model.params().iter() {
            h.text(&p.name);
            h.num(p.value);
        }
        for a in &grid.axes {
            h.text(&a.name);
            h.nums(&a.values);
        }
        h.text("currents");
        h.nums(&grid.currents);
        for x in [
            self.dt,
            self.t_max,
            self.transient,
            self.settings(model).threshold_mv,
        ] {
            h.num(x);
        }
        // Unset hashes as `exp-euler` named, as before `.ode` models took it: an `.ode`
        // model's exponential Euler adds its own word.
        let settings = self.settings(model);
        h.text(settings.scheme.name());
        if matches!(model, Model::Ode(_)) && settings.ode_method != crate::simulate::Method::Rk4 {
            h.text(settings.ode_method.name());
        }
        h.text(self.precision.name());
        format!("fnv1a64:{:016x}", h.0)
    }

    /// The whole grid on `model`, with the dt/2 check.
    pub fn run(&self, model: &Model) -> Result<SweepResult, Error> {
        self.run_with(model, &Silent)
    }

    /// The whole grid on `model`, with the dt/2 check; `observer` sees the points as they
    /// finish (task `grid points`) and can stop the run.
    pub fn run_with(&self, model: &Model, observer: &dyn Observer) -> Result<SweepResult, Error> {
        let grid = self.grid(model)?;
        let started = Instant::now();
        let rows = self.rows(model, &grid, 0..grid.len(), observer)?;
        let seconds = started.elapsed().as_secs_f64();
        let mut r = self.result(model, grid, rows, None)?;
        r.seconds = Some(seconds);
        Ok(r)
    }

    /// The rows of the grid points `range` on `model` (a shard's part); `observer` sees the
    /// points as they finish and can stop the run.
    pub fn run_part_with(
        &self,
        model: &Model,
        range: Range<usize>,
        observer: &dyn Observer,
    ) -> Result<Vec<SweepRow>, Error> {
        let grid = self.grid(model)?;
        self.rows(model, &grid, range, observer)
    }

    fn rows(
        &self,
        model: &Model,
        grid: &Grid,
        range: Range<usize>,
        observer: &dyn Observer,
    ) -> Result<Vec<SweepRow>, Error> {
        let points = sweep_with(model, grid, &self.settings(model), range, observer)?;
        let window = self.t_max - self.transient;
        Ok(points.iter().map(|p| SweepRow::of(p, window)).collect())
    }

    /// The result of complete rows (every grid point once, by number), with the dt/2 check.
    fn result(
        &self,
        model: &Model,
        grid: Grid,
        rows: Vec<SweepRow>,
        shards: Option<usize>,
    ) -> Result<SweepResult, Error> {
        let index: Vec<usize> = rows.iter().map(|r| r.point as usize).collect();
        // Trains that stopped are no firing points to check.
        let counts: Vec<u32> = (rows.iter())
            .map(|r| if r.stopped { 0 } else { r.n_spikes })
            .collect();
        let isi: Vec<f64> = rows.iter().map(|r| r.isi_mean_ms).collect();
        let settings = self.settings(model);
        let accuracy = sweep_accuracy(model, &grid, &settings, &index, &counts, &isi)?;
        let engine = sweep_runner(model)?;
        Ok(SweepResult {
            model: model.clone(),
            spec: self.clone(),
            grid,
            rows,
            accuracy,
            engine: engine.name(&settings),
            order: engine.order(&settings),
            notes: engine.notes(&settings),
            seconds: None,
            shards,
        })
    }
}

impl SweepResult {
    /// The result of a sharded sweep from its shards' rows (in any order): every grid point
    /// exactly once, and the dt/2 check on the whole. `shards` is how many there were.
    pub fn merged(
        spec: &SweepSpec,
        model: &Model,
        mut rows: Vec<SweepRow>,
        shards: usize,
    ) -> Result<SweepResult, Error> {
        let grid = spec.grid(model)?;
        rows.sort_by_key(|r| r.point);
        if rows.len() != grid.len() {
            return Err(ShardError::Rows {
                rows: rows.len(),
                points: grid.len(),
            }
            .into());
        }
        if let Some(w) = rows.windows(2).find(|w| w[0].point == w[1].point) {
            return Err(ShardError::Point {
                point: w[0].point,
                problem: "in the shards twice".into(),
            }
            .into());
        }
        if let Some(r) = rows.iter().find(|r| r.point as usize >= grid.len()) {
            return Err(ShardError::Point {
                point: r.point,
                problem: format!("outside the grid of {} points", grid.len()),
            }
            .into());
        }
        spec.result(model, grid, rows, Some(shards))
    }
}

/// FNV-1a, 64 bits: a hash that is the same on every platform and release (the sweep's
/// fingerprint, and a shard's checksum of its rows).
pub(crate) struct Fnv(pub(crate) u64);

impl Fnv {
    pub(crate) fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    pub(crate) fn bytes(&mut self, b: &[u8]) {
        for &x in b {
            self.0 ^= x as u64;
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn text(&mut self, t: &str) {
        self.bytes(&(t.len() as u64).to_le_bytes());
        self.bytes(t.as_bytes());
    }

    fn num(&mut self, x: f64) {
        self.bytes(&x.to_bits().to_le_bytes());
    }

    fn nums(&mut self, xs: &[f64]) {
        self.bytes(&(xs.len() as u64).to_le_bytes());
        for &x in xs {
            self.num(x);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> SweepSpec {
        SweepSpec {
            params: vec!["g_k=30:42:6".parse().unwrap()],
            current: "0:20:10".parse().unwrap(),
            t_max: 100.0,
            transient: 20.0,
            ..Default::default()
        }
    }

    #[test]
    fn the_default_is_the_command_line_and_needs_an_axis() {
        let d = SweepSpec::default();
        assert_eq!(d.current.values.len(), 51);
        assert_eq!((d.t_max, d.transient, d.dt), (1200.0, 200.0, 0.01));
        assert_eq!(d.validate().unwrap_err().field, "param");
        spec().validate().unwrap();
    }

    #[test]
    fn bad_settings_are_refused_by_field() {
        let s = spec();
        let bad =
            |f: &dyn Fn(&mut SweepSpec)| crate::spec::refused_field(&s, SweepSpec::validate, f);
        let three = vec![
            s.params[0].clone(),
            "g_na=1".parse().unwrap(),
            "c_m=1".parse().unwrap(),
        ];
        assert_eq!(bad(&|s| s.params = three.clone()), "param");
        let twice = vec![s.params[0].clone(), "g_k=1".parse().unwrap()];
        assert_eq!(bad(&|s| s.params = twice.clone()), "param");
        assert_eq!(bad(&|s| s.t_max = 0.0), "t_max");
        assert_eq!(bad(&|s| s.dt = -1.0), "dt");
        assert_eq!(bad(&|s| s.dt = 500.0), "dt");
        assert_eq!(bad(&|s| s.transient = 100.0), "transient");
        let huge = vec![
            "g_k=0:100:0.001".parse().unwrap(),
            "g_na=0:100:0.01".parse().unwrap(),
        ];
        assert_eq!(bad(&|s| s.params = huge.clone()), "param, current");
        assert!(
            "g_k"
                .parse::<ParamAxis>()
                .unwrap_err()
                .contains("NAME=VALUES")
        );
        // Names and ranges need the model.
        let hh = Model::builtin("hh").unwrap();
        let bad = SweepSpec {
            params: vec!["g_q=1".parse().unwrap()],
            ..s.clone()
        };
        assert!(bad.grid(&hh).unwrap_err().to_string().contains("g_q"));
        let lif = Model::builtin("lif").unwrap();
        assert!(s.grid(&lif).is_err());
    }

    #[test]
    fn study_tables_read_like_flags() {
        let s: SweepSpec = toml::from_str(
            "param = [\"g_k=30:42:6\", \"g_na=100,120\"]\ncurrent = [0, 10]\nt-max = 150",
        )
        .unwrap();
        assert_eq!(s.params.len(), 2);
        assert_eq!(s.params[1].values.values, [100.0, 120.0]);
        assert_eq!(s.current.values, [0.0, 10.0]);
        assert_eq!(s.t_max, 150.0);
        let one: SweepSpec = toml::from_str("param = \"g_k=30\"").unwrap();
        assert_eq!(one.params[0].name, "g_k");
        // It writes back the same way.
        let back: SweepSpec = toml::from_str(&toml::to_string(&s).unwrap()).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn parts_merged_equal_the_whole_and_the_fingerprint_sees_every_setting() {
        let hh = Model::builtin("hh").unwrap();
        let s = spec();
        let whole = s.run(&hh).unwrap();
        assert_eq!(whole.rows.len(), 9);
        let n = whole.grid.len();
        let mut rows = s.run_part_with(&hh, 5..n, &Silent).unwrap();
        rows.extend(s.run_part_with(&hh, 0..5, &Silent).unwrap());
        let merged = SweepResult::merged(&s, &hh, rows.clone(), 2).unwrap();
        assert_eq!(format!("{:?}", merged.rows), format!("{:?}", whole.rows));
        assert_eq!(merged.accuracy, whole.accuracy);
        assert_eq!(merged.shards, Some(2));
        let short = rows[1..].to_vec();
        assert!(SweepResult::merged(&s, &hh, short, 2).is_err());
        let mut twice = rows.clone();
        twice[0] = twice[1].clone();
        assert!(SweepResult::merged(&s, &hh, twice, 2).is_err());
        // The fingerprint.
        let fp = |s: &SweepSpec, m: &Model| s.fingerprint(m, &s.grid(m).unwrap());
        let base = fp(&s, &hh);
        assert_eq!(base, fp(&s.clone(), &hh));
        let same_grid = SweepSpec {
            current: "0,10,20".parse().unwrap(),
            ..s.clone()
        };
        assert_eq!(base, fp(&same_grid, &hh));
        let mut g = hh.clone();
        g.set("g_l", 0.31).unwrap();
        assert_ne!(base, fp(&s, &g));
        let changed: [fn(&mut SweepSpec); 7] = [
            |s| s.dt = 0.005,
            |s| s.method = Some(BatchScheme::ExpMidpoint),
            |s| s.precision = Precision::Mixed,
            |s| s.t_max = 101.0,
            |s| s.transient = 21.0,
            |s| s.current = "0:20:5".parse().unwrap(),
            |s| s.params = vec!["g_k=30:42:4".parse().unwrap()],
        ];
        for change in changed {
            let mut other = s.clone();
            change(&mut other);
            assert_ne!(base, fp(&other, &hh), "{other:?}");
        }
    }
}
