//! `excitable simulate`: one or many neurons under a stimulus, each with its own bias current
//! and noise seed, from a chosen initial state.
//!
//! ```
//! use excitable::{Model, SimulateSpec};
//! let hh = Model::builtin("hh")?;
//! let spec = SimulateSpec { stim: vec!["10".into()], t_max: 50.0, ..Default::default() };
//! let r = spec.run(&hh)?;
//! assert_eq!(r.runs[0].spikes_ms.len(), 4); // about 68 Hz at 10 uA/cm^2
//! assert!(r.start_description.starts_with("resting state"));
//! # Ok::<(), excitable::Error>(())
//! ```

use super::values::{MAX_VALUES, NumberList, one_or_many};
use crate::analysis::spike_accuracy::{self, SpikeAccuracy};
use crate::error::{Error, SimError, SpecError};
use crate::model::params::parse_assignments;
use crate::model::{InitialState, Model, Number, Quantity, StartKind};
use crate::progress::{Observer, Silent, Tracker};
use crate::simulate::method::DEFAULT_TOLERANCES;
use crate::simulate::{self, EulerOrder, Method, Record, Run, Settings, Tolerances};
use crate::stimulus::Stimulus;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use std::time::Instant;

/// dopri5's relative tolerance when none is given.
pub const DEFAULT_RTOL: f64 = DEFAULT_TOLERANCES.rtol;
/// dopri5's absolute tolerance when none is given.
pub const DEFAULT_ATOL: f64 = DEFAULT_TOLERANCES.atol;
/// Euler's update order when none is given.
pub const DEFAULT_ORDER: &str = "simultaneous";

/// Every setting of `excitable simulate`.
#[derive(Debug, Clone, PartialEq, clap::Args, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct SimulateSpec {
    /// Stimulus (uA/cm^2, ms), repeatable and summed: 10, step:5:15:1, pulses:500,550:5:5,
    /// ramp:0:100:0:20, sine:2:40, `noise:0:3:SEED[:DT]`, file:I.csv; join parts with `+`.
    #[arg(long, default_value = "0", allow_hyphen_values = true)]
    #[serde(deserialize_with = "one_or_many")]
    pub stim: Vec<String>,
    /// Duration (ms).
    #[arg(long, allow_hyphen_values = true, default_value_t = 100.0)]
    pub t_max: f64,
    /// Time step (ms); for dopri5 the output grid.
    #[arg(long, allow_hyphen_values = true, default_value_t = 0.01)]
    pub dt: f64,
    /// euler, exp-euler, rk4 or dopri5.
    #[arg(long, default_value = "rk4")]
    pub method: String,
    /// Euler update order: simultaneous, v-first (V then gates with the new V), gates-first.
    #[arg(long, default_value = DEFAULT_ORDER)]
    pub order: String,
    /// Relative tolerance of dopri5.
    #[arg(long, allow_hyphen_values = true, default_value_t = DEFAULT_RTOL)]
    pub rtol: f64,
    /// Absolute tolerance of dopri5.
    #[arg(long, allow_hyphen_values = true, default_value_t = DEFAULT_ATOL)]
    pub atol: f64,
    /// Start at V = V0 (mV) with every gate at its steady state for V0 (default: the resting
    /// state; for an .ode file its initial values, and V0 sets V alone: the file's other
    /// variables keep their initial values, as the toolkit cannot tell which are gates).
    #[arg(long, allow_hyphen_values = true, conflicts_with = "init")]
    pub v0: Option<f64>,
    /// Start from the default start with these variables set: `v=0,m=0.05,h=0.59,n=0.31`.
    #[arg(long, allow_hyphen_values = true)]
    pub init: Option<String>,
    /// Spike threshold (mV); default: the model's (hh: 0, hh-1952: 65; lif: its v_th).
    #[arg(long, allow_hyphen_values = true)]
    pub threshold: Option<f64>,
    /// What to keep: full, every:K, spikes.
    #[arg(long, default_value = "full")]
    pub record: String,
    /// Number of neurons (each gets its bias current and its own noise seed).
    #[arg(long, default_value_t = 1)]
    pub neurons: usize,
    /// Per-neuron bias current (uA/cm^2) added to the stimulus: `1,2,3` or `FROM:TO` spread
    /// over the neurons, or FROM:TO:STEP (which sets the number of neurons).
    #[arg(long, allow_hyphen_values = true)]
    pub currents: Option<BiasCurrents>,
    /// Also write trace.svg.
    #[arg(long)]
    pub svg: bool,
    /// Memory budget for the recorded traces and the table written from them (4GiB, 512MiB,
    /// …): a run estimated to need more is refused before it starts.
    #[arg(long, default_value = super::DEFAULT_MAX_MEMORY)]
    pub max_memory: super::Bytes,
}

/// Bytes a recorded sample costs per column of the trace, counted [`TRACE_COPIES`] times.
const SAMPLE_BYTES: f64 = 8.0;

/// How many copies of the recorded traces a run holds at its peak: the runs themselves, the
/// long-form table built from them, and the Parquet writer's pages (measured: a peak of 3.1
/// times the traces for 100 neurons of `hh` over 1000 ms, 1.5 GB).
pub const TRACE_COPIES: f64 = 3.2;

impl Default for SimulateSpec {
    fn default() -> Self {
        super::defaults()
    }
}

/// Per-neuron bias currents, as `--currents` writes them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum BiasCurrents {
    /// The values themselves (`1,2,3` or `FROM:TO:STEP`): one per neuron, or, with one
    /// neuron asked for, as many neurons as values.
    List(NumberList),
    /// `FROM:TO`: spread evenly over the neurons, both ends included.
    Spread {
        /// The first neuron's current.
        from: f64,
        /// The last neuron's current.
        to: f64,
    },
}

impl fmt::Display for BiasCurrents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BiasCurrents::List(l) => write!(f, "{l}"),
            BiasCurrents::Spread { from, to } => write!(f, "{from}:{to}"),
        }
    }
}

impl From<BiasCurrents> for String {
    fn from(b: BiasCurrents) -> String {
        b.to_string()
    }
}

impl TryFrom<String> for BiasCurrents {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        text.parse()
    }
}

impl FromStr for BiasCurrents {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let parts: Vec<&str> = text.split(':').collect();
        if let [from, to] = parts[..] {
            let end = |s: &str, which: &str| {
                s.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| format!("'{text}': {which} must be a finite number"))
            };
            return Ok(BiasCurrents::Spread {
                from: end(from, "FROM")?,
                to: end(to, "TO")?,
            });
        }
        text.parse().map(BiasCurrents::List)
    }
}

/// The runs of a [`SimulateSpec`]: one per neuron, with how they were started.
#[derive(Debug, Clone)]
pub struct SimulateResult {
    /// The model, with its overrides.
    pub model: Model,
    /// The settings that made it.
    pub spec: SimulateSpec,
    /// The integration settings the runs used (method, recording and threshold resolved).
    pub settings: Settings,
    /// One run per neuron, in order.
    pub runs: Vec<Run>,
    /// The state every neuron started from, in the order of [`Model::var_names`].
    pub start: Vec<f64>,
    /// How that start was chosen, in words, with its values.
    pub start_description: String,
    /// Each neuron's bias current (uA/cm^2; the file's units for an .ode model).
    pub bias: Vec<f64>,
    /// Wall time of the runs (s).
    pub seconds: f64,
    /// The spike times' error, from the same neurons run again at half the step (or with
    /// tolerances a hundred times tighter): [`crate::analysis::spike_accuracy`].
    pub accuracy: SpikeAccuracy,
}

/// A choice named by text (`method`, `order`, `record`): an error names the field.
fn choice<T>(field: &str, parsed: Result<T, String>) -> Result<T, Error> {
    parsed.map_err(|reason| {
        SimError::Unsupported {
            what: field.into(),
            reason,
        }
        .into()
    })
}

impl SimulateSpec {
    /// Check every setting that does not need the model: the stimulus (a `file:` part is
    /// read), the method, order, recording, tolerances, duration and step, the start, the
    /// threshold and the bias currents. The errors name the setting (`dt = 0 is invalid`).
    pub fn validate(&self) -> Result<(), Error> {
        Stimulus::parse_all(&self.stim)?;
        // An unknown method is named first, then settings the method does not use are
        // refused, whatever their value.
        choice(
            "method",
            Method::parse(&self.method, EulerOrder::default(), DEFAULT_TOLERANCES),
        )?;
        self.settings_of_the_method()?;
        for (field, v) in [("rtol", self.rtol), ("atol", self.atol)] {
            if !(v.is_finite() && v > 0.0 && (field == "atol" || v < 1.0)) {
                let allowed = if field == "rtol" {
                    "a number in (0, 1)"
                } else {
                    "a finite number > 0"
                };
                return Err(SpecError::new(field, v, allowed).into());
            }
        }
        if let Some(t) = self.threshold {
            super::finite("threshold", t)?;
        }
        self.initial()?;
        self.bias_currents()?;
        self.settings(self.threshold.unwrap_or(0.0))?.steps()?;
        Ok(())
    }

    /// Refuse, before any work, a run whose recorded traces would pass `max_memory` for
    /// `model` (its number of variables sets a sample's size), or whose stimulus has more
    /// breakpoints than a run may go through.
    pub fn check_memory(&self, model: &Model) -> Result<(), Error> {
        let settings = self.settings_for(model)?;
        let steps = settings.steps()?;
        // Every method: dopri5 stops at each breakpoint, and the fixed steps average each
        // noise interval and file sample (noise every 1e-7 ms took 4 s per 10 ms).
        crate::simulate::check_breakpoints(&self.stimulus()?, steps as f64 * settings.dt)?;
        let neurons = self.bias_currents()?.len();
        let samples = settings.record.capacity(steps) as f64;
        let columns = model.var_names().len() as f64 + 2.0;
        let estimate = neurons as f64 * samples * columns * SAMPLE_BYTES * TRACE_COPIES;
        super::memory(
            estimate,
            self.max_memory,
            &format!(
                "{neurons} neuron(s) × {} samples × {columns} columns of 8 bytes, {TRACE_COPIES} copies: the runs, the table and its file",
                crate::error::short(samples)
            ),
            "record every K-th sample (record = every:K), spikes only (record = spikes), fewer neurons or a shorter t_max",
        )?;
        Ok(())
    }

    /// The stimulus every neuron gets (before its bias current).
    pub fn stimulus(&self) -> Result<Stimulus, Error> {
        Ok(Stimulus::parse_all(&self.stim)?)
    }

    /// Refuse a setting of another method than the one chosen (`rtol` or `atol` for a
    /// fixed-step method, `order` for any but Euler) that is not at its default: the run would
    /// ignore it, and whoever asked for rtol 1e-10 with rk4 would take the run for that
    /// accurate. (A setting given at exactly its default cannot be told from one not given.)
    fn settings_of_the_method(&self) -> Result<(), SpecError> {
        let method = self.method.as_str();
        // A name that is no method is refused as such by the caller, first.
        if Method::parse(method, EulerOrder::default(), DEFAULT_TOLERANCES).is_err() {
            return Ok(());
        }
        if method != "dopri5" {
            for (field, v, default) in [
                ("rtol", self.rtol, DEFAULT_RTOL),
                ("atol", self.atol, DEFAULT_ATOL),
            ] {
                if v != default {
                    return Err(SpecError::new(
                        field,
                        crate::error::short(v),
                        format!(
                            "its default ({default:e}) with method {method}, which takes fixed steps of dt: a tolerance is dopri5's (--method dopri5)"
                        ),
                    ));
                }
            }
        }
        if method != "euler" && self.order != DEFAULT_ORDER {
            return Err(SpecError::new(
                "order",
                &self.order,
                format!(
                    "its default ({DEFAULT_ORDER}) with method {method}: the order of the updates is Euler's (--method euler)"
                ),
            ));
        }
        Ok(())
    }

    /// The integration settings, with the threshold given or the model's.
    pub fn settings_for(&self, model: &Model) -> Result<Settings, Error> {
        self.settings(self.threshold.unwrap_or(model.threshold_mv()))
    }

    fn settings(&self, threshold_mv: f64) -> Result<Settings, Error> {
        let order = choice("order", EulerOrder::parse(&self.order))?;
        let tol = Tolerances {
            rtol: self.rtol,
            atol: self.atol,
        };
        Ok(Settings {
            t_max: self.t_max,
            dt: self.dt,
            method: choice("method", Method::parse(&self.method, order, tol))?,
            record: choice("record", Record::parse(&self.record))?,
            threshold_mv,
        })
    }

    /// How the run starts: `v0`, `init` or the model's default start.
    pub fn initial(&self) -> Result<InitialState, Error> {
        match (self.v0, &self.init) {
            (Some(_), Some(_)) => Err(SpecError::new(
                "v0, init",
                "both",
                "at most one of them (a start voltage or variables to set)",
            )
            .into()),
            (Some(v), None) => {
                if !(v.is_finite() && v.abs() <= 1000.0) {
                    return Err(SpecError::new("v0", v, "a finite voltage within ±1000 mV").into());
                }
                Ok(InitialState::Voltage(v))
            }
            (None, Some(text)) => Ok(InitialState::Values(parse_assignments(text)?)),
            (None, None) => Ok(InitialState::Default),
        }
    }

    /// Each neuron's bias current: 0 for each of `neurons` without `currents`; `FROM:TO`
    /// spread evenly over them; a list gives one value per neuron (with `neurons` = 1, as
    /// many neurons as values).
    pub fn bias_currents(&self) -> Result<Vec<f64>, SpecError> {
        let n = self.neurons;
        super::count("neurons", n, 1, MAX_VALUES)?;
        match &self.currents {
            None => Ok(vec![0.0; n]),
            Some(BiasCurrents::Spread { from, to }) => {
                super::finite("currents", *from)?;
                super::finite("currents", *to)?;
                // One neuron would run at FROM alone, TO unseen.
                if n == 1 && from != to {
                    return Err(SpecError::new(
                        "currents",
                        format!("{}:{}", Number(*from), Number(*to)),
                        "FROM:TO spread over two or more neurons (neurons = N), or one current for one neuron",
                    ));
                }
                Ok((0..n)
                    .map(|k| {
                        if n == 1 {
                            *from
                        } else {
                            from + (to - from) * k as f64 / (n - 1) as f64
                        }
                    })
                    .collect())
            }
            Some(BiasCurrents::List(list)) => {
                if list.values.is_empty() {
                    return Err(SpecError::new("currents", list, "at least one current"));
                }
                for &v in &list.values {
                    super::finite("currents", v)?;
                }
                if list.values.len() != n && n != 1 {
                    return Err(SpecError::new(
                        "currents",
                        list,
                        format!(
                            "one value per neuron: neurons = {n}, and {} values are given",
                            list.values.len()
                        ),
                    ));
                }
                Ok(list.values.clone())
            }
        }
    }

    /// Simulate every neuron (in parallel).
    pub fn run(&self, model: &Model) -> Result<SimulateResult, Error> {
        self.run_with(model, &Silent)
    }

    /// [`SimulateSpec::run`], telling `observer` as each neuron finishes (one unit per
    /// neuron); neurons not yet started are skipped once it says stop.
    pub fn run_with(
        &self,
        model: &Model,
        observer: &dyn Observer,
    ) -> Result<SimulateResult, Error> {
        self.validate()?;
        self.check_memory(model)?;
        let stim = self.stimulus()?;
        let settings = self.settings_for(model)?;
        let init = self.initial()?;
        // The start, and what it is where it may not be a rest (said in the summary).
        let (start, kind) = model.initial_state_and_kind(&init)?;
        let bias = self.bias_currents()?;
        let tracker = Tracker::new(observer, "neurons", Some(bias.len() as u64));
        let clock = Instant::now();
        let runs = simulate::run_many(
            model,
            &stim,
            &start,
            &bias,
            &settings,
            &|k: usize| -> Result<(), Error> { Ok(tracker.advance(1, &format!("neuron {k}"))?) },
            &|| tracker.go_on(),
        )?;
        let seconds = clock.elapsed().as_secs_f64();
        let accuracy =
            spike_accuracy::check(model, &stim, &start, &bias, &settings, &runs, &|| {
                tracker.go_on()
            })?;
        Ok(SimulateResult {
            start_description: describe_start(model, &init, kind.as_ref(), &start),
            model: model.clone(),
            spec: self.clone(),
            settings,
            runs,
            start,
            bias,
            seconds,
            accuracy,
        })
    }
}

/// The start of a run in words, with its values: `resting state at 0 uA/cm^2 (v=-65.0, …)`;
/// for an `.ode` file's own start, `initial values from the file (…)`; where the default
/// start is not a rest (`kind`, from [`Model::start_at`]), what it is instead.
pub fn describe_start(
    model: &Model,
    init: &InitialState,
    kind: Option<&StartKind>,
    start: &[f64],
) -> String {
    let ode = matches!(model, Model::Ode(_));
    let at = Quantity(0.0, model.units().current);
    let rest = format!("resting state at {at}");
    let default = match kind {
        _ if ode => "initial values from the file".to_string(),
        Some(k @ StartKind::Displaced { .. }) => format!("{k} (at {at})"),
        _ => rest.clone(),
    };
    let names = model.var_names();
    let how = match init {
        InitialState::Rest => rest,
        InitialState::Default | InitialState::File => default,
        InitialState::Voltage(v) => match model {
            Model::Conductance(_) => format!("V = {v} mV, gates at steady state"),
            Model::Lif(_) => format!("V = {v} mV"),
            Model::Ode(_) => format!(
                "{} = {v}, other variables at the file's initial values",
                names[0]
            ),
        },
        InitialState::Values(values) => {
            let set: Vec<String> = values.iter().map(|(n, v)| format!("{n}={v}")).collect();
            let base = match kind {
                Some(StartKind::Displaced { .. }) | None => default.as_str(),
                Some(StartKind::Rest) => "rest",
            };
            format!("{base}, with {}", set.join(","))
        }
    };
    let values: Vec<String> = names
        .iter()
        .zip(start)
        .map(|(n, v)| format!("{n}={v:.6}"))
        .collect();
    format!("{how} ({})", values.join(", "))
}

super::model_spec!(
    SimulateSpec,
    "simulate",
    SimulateResult,
    |s, m| {
        s.validate()?;
        s.check_memory(m)
    },
    run_with
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate_and_bad_values_name_their_field() {
        let d = SimulateSpec::default();
        assert!(d.validate().is_ok());
        assert_eq!((d.t_max, d.dt, d.method.as_str()), (100.0, 0.01, "rk4"));
        assert_eq!(d.stim, ["0"]);
        let bad = |s: SimulateSpec, needle: &str| {
            let e = s.validate().unwrap_err().to_string();
            assert!(e.contains(needle), "'{needle}' not in: {e}");
        };
        bad(
            SimulateSpec {
                dt: 0.0,
                ..d.clone()
            },
            "dt = 0 is invalid",
        );
        bad(
            SimulateSpec {
                t_max: f64::INFINITY,
                ..d.clone()
            },
            "t_max = inf",
        );
        bad(
            SimulateSpec {
                rtol: 2.0,
                ..d.clone()
            },
            "rtol = 2",
        );
        bad(
            SimulateSpec {
                atol: -1.0,
                ..d.clone()
            },
            "atol = -1",
        );
        bad(
            SimulateSpec {
                method: "rk45".into(),
                ..d.clone()
            },
            "method: ",
        );
        bad(
            SimulateSpec {
                method: "euler".into(),
                order: "x".into(),
                ..d.clone()
            },
            "order: ",
        );
        bad(
            SimulateSpec {
                record: "x".into(),
                ..d.clone()
            },
            "record: ",
        );
        // Another method's settings, away from their defaults, are refused rather than
        // ignored; with their own method they serve.
        bad(
            SimulateSpec {
                rtol: 1e-10,
                ..d.clone()
            },
            "rtol = 1e-10: allowed its default (1e-8) with method rk4",
        );
        bad(
            SimulateSpec {
                method: "euler".into(),
                atol: 1e-6,
                ..d.clone()
            },
            "atol = 1e-6: allowed its default (1e-10) with method euler",
        );
        bad(
            SimulateSpec {
                method: "exp-euler".into(),
                order: "v-first".into(),
                ..d.clone()
            },
            "order = v-first: allowed its default (simultaneous) with method exp-euler",
        );
        assert_eq!(EulerOrder::parse(DEFAULT_ORDER), Ok(EulerOrder::default()));
        for (method, rtol, atol, order) in [
            ("dopri5", 1e-10, 1e-12, DEFAULT_ORDER),
            ("euler", DEFAULT_RTOL, DEFAULT_ATOL, "gates-first"),
        ] {
            let spec = SimulateSpec {
                method: method.into(),
                rtol,
                atol,
                order: order.into(),
                ..d.clone()
            };
            assert!(spec.validate().is_ok(), "{method}");
        }
        bad(
            SimulateSpec {
                stim: vec!["step:5:15".into()],
                ..d.clone()
            },
            "step:START:STOP:AMP",
        );
        bad(
            SimulateSpec {
                neurons: 0,
                ..d.clone()
            },
            "neurons = 0",
        );
        bad(
            SimulateSpec {
                threshold: Some(f64::NAN),
                ..d.clone()
            },
            "threshold = NaN",
        );
        bad(
            SimulateSpec {
                v0: Some(f64::NAN),
                ..d.clone()
            },
            "v0 = NaN",
        );
        bad(
            SimulateSpec {
                init: Some("v=x".into()),
                ..d.clone()
            },
            "not a number",
        );
        bad(
            SimulateSpec {
                neurons: 2,
                currents: Some("1,2,3".parse().unwrap()),
                ..d.clone()
            },
            "currents = 1,2,3",
        );
        bad(
            SimulateSpec {
                currents: Some(BiasCurrents::List(NumberList {
                    values: vec![1.0, f64::NAN],
                    text: "1,nan".into(),
                })),
                ..d
            },
            "currents = NaN",
        );
    }

    #[test]
    fn bias_currents_spread_list_and_range() {
        let s = SimulateSpec {
            neurons: 3,
            currents: Some("0:20".parse().unwrap()),
            ..Default::default()
        };
        assert_eq!(s.bias_currents().unwrap(), [0.0, 10.0, 20.0]);
        let s = SimulateSpec {
            currents: Some("0:20:5".parse().unwrap()),
            ..Default::default()
        };
        assert_eq!(s.bias_currents().unwrap(), [0.0, 5.0, 10.0, 15.0, 20.0]);
        assert_eq!(
            SimulateSpec::default().bias_currents().unwrap(),
            [0.0],
            "one neuron, no bias"
        );
        // One neuron would run at FROM alone: refused, unless FROM = TO.
        let one = |text: &str| SimulateSpec {
            currents: Some(text.parse().unwrap()),
            ..Default::default()
        };
        let e = one("0:10").bias_currents().unwrap_err();
        assert_eq!(e.field, "currents", "{e}");
        assert_eq!(one("5:5").bias_currents().unwrap(), [5.0]);
        assert!("1:x".parse::<BiasCurrents>().is_err());
        let b: BiasCurrents = "-5:5".parse().unwrap();
        assert_eq!(b.to_string(), "-5:5");
    }

    #[test]
    fn a_run_names_its_start_and_counts_its_neurons() {
        use crate::progress::{Flow, Progress};
        use std::sync::atomic::{AtomicU64, Ordering};
        struct Count(AtomicU64);
        impl Observer for Count {
            fn observe(&self, _: &Progress) -> Flow {
                self.0.fetch_add(1, Ordering::Relaxed);
                Flow::Continue
            }
        }
        let hh = Model::builtin("hh").unwrap();
        let spec = SimulateSpec {
            t_max: 20.0,
            neurons: 3,
            currents: Some("0:20".parse().unwrap()),
            record: "spikes".into(),
            ..Default::default()
        };
        let count = Count(AtomicU64::new(0));
        let r = spec.run_with(&hh, &count).unwrap();
        assert_eq!(r.runs.len(), 3);
        assert_eq!(count.0.load(Ordering::Relaxed), 3);
        assert!(
            r.start_description
                .starts_with("resting state at 0 uA/cm^2 (v=-64.99"),
            "{}",
            r.start_description
        );
        // An .ode file starts from its own initial values, and says so.
        let fhn = Model::from_file(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/studies/models/fhn.ode"
        )))
        .unwrap();
        let r = SimulateSpec {
            t_max: 10.0,
            ..Default::default()
        }
        .run(&fhn)
        .unwrap();
        assert!(
            r.start_description
                .starts_with("initial values from the file ("),
            "{}",
            r.start_description
        );
        assert!(!r.start_description.contains("resting"));
        struct Stop;
        impl Observer for Stop {
            fn observe(&self, _: &Progress) -> Flow {
                Flow::Stop
            }
        }
        assert!(matches!(
            spec.run_with(&hh, &Stop),
            Err(Error::Cancelled(_))
        ));
    }
}
