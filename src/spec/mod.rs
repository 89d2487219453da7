//! One spec per command: every setting of `excitable X` as a plain struct (`XSpec`), with the
//! command line's defaults, validated by the library, and run by `XSpec::run`, which returns a
//! typed result that the report layer writes.
//!
//! The command line, study files and the Python package build the same structs: the flags are
//! derived from them (`clap::Args`, so a flag's help is the field's doc comment), a study step
//! or a Python call deserialises into them (`serde`, kebab-case keys equal to the flags), and
//! `Default` is the command line with no flags. So the three faces cannot drift apart.
//!
//! ```
//! use excitable::{Model, RestSpec};
//! let hh = Model::builtin("hh")?;
//! let rest = RestSpec { current: vec![0.0, 10.0], ..Default::default() }.run(&hh)?;
//! assert!(rest.equilibria[0].stability.is_stable());      // at 0 uA/cm^2 HH rests
//! assert!(!rest.equilibria[1].stability.is_stable());     // at 10 it fires
//! # Ok::<(), excitable::Error>(())
//! ```

pub mod bifurcation;
pub mod bifurcation2;
pub mod excitability;
pub mod export;
pub mod fi;
pub mod fit;
pub mod gating;
pub mod max_rate;
pub mod model_source;
pub mod phase_plane;
pub mod prc;
pub mod rest;
pub mod simulate;
pub mod stats;
pub mod sweep;
pub mod values;
pub mod windows;

pub use bifurcation::{BifurcationResult, BifurcationSpec};
pub use bifurcation2::{Bifurcation2Result, Bifurcation2Spec};
pub use excitability::{ExcitabilityResult, ExcitabilitySpec};
pub use export::{ExportFormat, ExportResult, ExportSpec};
pub use fi::{FiResult, FiSpec};
pub use fit::{FitResult, FitSpec};
pub use gating::{GatingResult, GatingSpec};
pub use max_rate::{MaxRateResult, MaxRateSpec};
pub use model_source::ModelSource;
pub use phase_plane::{PhasePlaneResult, PhasePlaneSpec};
pub use prc::{PrcResult, PrcSpec};
pub use rest::{RestResult, RestSpec};
pub use simulate::{SimulateResult, SimulateSpec};
pub use stats::{Rates, StatsResult, StatsSpec};
pub use sweep::{SweepResult, SweepSpec};
pub use windows::{WindowsResult, WindowsSpec};

use crate::error::{SpecError, short};
use crate::simulate::MAX_STEPS;
use serde::{Deserialize, Serialize};

/// The spec with every field at its command-line default: clap parses an empty command line.
/// (Every spec flag has a default; a test checks that this parse succeeds for every spec.)
pub fn defaults<T: clap::Args + clap::FromArgMatches>() -> T {
    let cmd = T::augment_args(clap::Command::new("defaults").no_binary_name(true));
    let matches = cmd
        .try_get_matches_from(std::iter::empty::<String>())
        .expect("every spec flag has a default");
    T::from_arg_matches(&matches).expect("defaults fit their own types")
}

/// Refuse `value` unless it is finite.
pub fn finite(field: &str, value: f64) -> Result<(), SpecError> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(SpecError::new(field, short(value), "a finite number"))
    }
}

/// Refuse `value` unless it is finite and > 0.
pub fn positive(field: &str, value: f64) -> Result<(), SpecError> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(SpecError::new(field, short(value), "a finite number > 0"))
    }
}

/// The finest bisection tolerance of a current (rheobase, onsets, offsets): below it the
/// bisection only splits what double precision and the integrator's error cannot tell apart,
/// and `fit --tol 1e-300` had bisected for over a minute.
pub const MIN_BISECTION_TOL: f64 = 1e-10;

/// Refuse a bisection tolerance `value` unless it is finite and at least [`MIN_BISECTION_TOL`].
pub fn bisection_tol(field: &str, value: f64) -> Result<(), SpecError> {
    if value.is_finite() && value >= MIN_BISECTION_TOL {
        Ok(())
    } else {
        Err(SpecError::new(
            field,
            short(value),
            format!("a finite number >= {MIN_BISECTION_TOL:e}"),
        ))
    }
}

/// Refuse a range unless both ends are finite and `from < to`.
pub fn range(fields: &str, from: f64, to: f64) -> Result<(), SpecError> {
    if from.is_finite() && to.is_finite() && from < to {
        Ok(())
    } else {
        Err(SpecError::new(
            fields,
            format!("{}..{}", short(from), short(to)),
            "finite, with from < to",
        ))
    }
}

/// Refuse a continuation range over model parameter `param` of `field` that leaves the
/// parameter's allowed values (`--set` refuses the same values): a diagram of `g_na` from -10
/// ran and reported equilibria at negative conductances. The injected current (`i_ext` where
/// the model takes one, as [`crate::continuation::Family`] reads it) and a name the model does
/// not have (refused elsewhere) have no bounds here.
pub fn range_within_param(
    field: &crate::model::Field,
    param: &str,
    fields: &str,
    from: f64,
    to: f64,
) -> Result<(), SpecError> {
    use crate::model::VectorField;
    if param == crate::continuation::CURRENT && field.has_current() {
        return Ok(());
    }
    let params = field.params();
    let Some(k) = params.index(param) else {
        return Ok(());
    };
    let p = params.param(k);
    if p.check(from).is_ok() && p.check(to).is_ok() {
        return Ok(());
    }
    Err(SpecError::new(
        fields,
        format!("{}..{}", short(from), short(to)),
        format!(
            "within {}'s own range, {}",
            p.name,
            p.range_text().trim_end()
        ),
    ))
}

/// Refuse a run's timing (ms, or an `.ode` file's unit of time: the messages name no unit, as
/// the model is not known here) unless `t_max` is finite and > 0, `dt` is in `(0, t_max]` and
/// `transient` in `[0, t_max)`: the settings of the commands that count spikes after a
/// transient on the batch kernel (`fi`, `sweep`).
pub(crate) fn timing(t_max: f64, dt: f64, transient: f64) -> Result<(), SpecError> {
    positive("t_max", t_max)?;
    if !(dt.is_finite() && dt > 0.0 && dt <= t_max) {
        return Err(SpecError::new(
            "dt",
            dt,
            format!("a finite number > 0 and <= t_max = {t_max}"),
        ));
    }
    steps("t_max, dt", t_max, dt)?;
    if !(transient.is_finite() && transient >= 0.0 && transient < t_max) {
        return Err(SpecError::new(
            "transient",
            transient,
            format!("finite, >= 0 and < t_max = {t_max}"),
        ));
    }
    window_steps("t_max - transient", t_max - transient, dt)
}

/// The fewest steps of `dt` a counting window may hold: fewer cannot resolve a spike's
/// upstroke, let alone an interval (`fi --dt 100` counted 10 steps per window and gave a
/// rheobase of 24.6 uA/cm^2 against 2.25, with no warning).
pub const MIN_WINDOW_STEPS: f64 = 100.0;

/// Refuse a `dt` that leaves fewer than [`MIN_WINDOW_STEPS`] steps in a counting `window`
/// (`which` names it by the command's own settings).
pub(crate) fn window_steps(which: &str, window: f64, dt: f64) -> Result<(), SpecError> {
    if window / dt < MIN_WINDOW_STEPS {
        return Err(SpecError::new(
            "dt",
            dt,
            format!(
                "at most 1/{MIN_WINDOW_STEPS} of the counting window ({which} = {}), so that it holds {MIN_WINDOW_STEPS} steps",
                short(window)
            ),
        ));
    }
    Ok(())
}

/// The field `validate` names when it refuses `base` changed by `change`: the specs' tests
/// of their validation, one line per refused setting.
#[cfg(test)]
pub(crate) fn refused_field<S: Clone>(
    base: &S,
    validate: impl Fn(&S) -> Result<(), SpecError>,
    change: impl FnOnce(&mut S),
) -> String {
    let mut s = base.clone();
    change(&mut s);
    validate(&s)
        .expect_err("the changed setting is refused")
        .field
}

/// Refuse a run of `t_max / dt` steps beyond [`MAX_STEPS`], or of a `t_max` that is not a
/// whole number of steps of `dt` (to a millionth of a step, as the simulator's own check:
/// `fi --t-max 1000.05 --dt 0.1` had run to 1000.1 in silence); `fields` names the two
/// settings, `"t_max, dt"`. Returns the number of steps.
pub fn steps(fields: &str, t_max: f64, dt: f64) -> Result<f64, SpecError> {
    let ratio = t_max / dt;
    let n = ratio.round();
    if (ratio - n).abs() > 1e-6f64.max(1e-12 * ratio) {
        return Err(SpecError::new(
            fields,
            format!("{} / {} = {} steps", short(t_max), short(dt), short(ratio)),
            format!(
                "a whole number of steps (the run would stop at {}): a dt that divides t_max",
                short(ratio.floor() * dt)
            ),
        ));
    }
    if n > MAX_STEPS {
        return Err(SpecError::new(
            fields,
            format!("{} / {} = {} steps", short(t_max), short(dt), short(n)),
            format!(
                "at most {} steps per run (a shorter t_max or a larger dt)",
                short(MAX_STEPS)
            ),
        ));
    }
    Ok(n)
}

/// Refuse a run whose estimated memory, `estimate` bytes, passes `budget` (the `max_memory`
/// setting): `what` says what the estimate counts, `lower` which settings lower it.
pub fn memory(estimate: f64, budget: Bytes, what: &str, lower: &str) -> Result<(), SpecError> {
    if estimate <= budget.0 as f64 {
        return Ok(());
    }
    Err(SpecError::new(
        "max_memory",
        budget,
        format!(
            "at least this run's estimated memory, {} ({what}): {lower}, or raise max_memory",
            Bytes::display(estimate)
        ),
    ))
}

/// The default memory budget of the commands that record big outputs (`max_memory`): 4 GiB.
pub const DEFAULT_MAX_MEMORY: &str = "4GiB";

/// A number of bytes, written `4GiB`, `512MiB`, `2GB`, `64K` or `1e9`: `KiB`, `MiB`, `GiB`,
/// `TiB` and the bare `K`, `M`, `G`, `T` count in 1024s, `KB`, `MB`, `GB`, `TB` in 1000s; a
/// plain number is bytes. Case does not matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Bytes(pub u64);

impl Bytes {
    /// `bytes` for a message: `4 GiB`, `44.7 GiB`, `512 MiB`, `900 B`.
    pub fn display(bytes: f64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
        let mut x = bytes;
        let mut k = 0;
        while x >= 1024.0 && k + 1 < units.len() {
            x /= 1024.0;
            k += 1;
        }
        if !x.is_finite() {
            return "more than 2^64 B".into();
        }
        if (x - x.round()).abs() < 0.05 {
            format!("{} {}", x.round(), units[k])
        } else {
            format!("{x:.1} {}", units[k])
        }
    }
}

impl std::fmt::Display for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&Bytes::display(self.0 as f64))
    }
}

impl std::str::FromStr for Bytes {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let t = text.trim().to_ascii_lowercase();
        let split = t
            .find(|c: char| c.is_ascii_alphabetic() && c != 'e')
            .unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let scale: f64 = match unit.trim() {
            "" | "b" => 1.0,
            "k" | "kib" => 1024.0,
            "m" | "mib" => 1024f64.powi(2),
            "g" | "gib" => 1024f64.powi(3),
            "t" | "tib" => 1024f64.powi(4),
            "kb" => 1e3,
            "mb" => 1e6,
            "gb" => 1e9,
            "tb" => 1e12,
            _ => {
                return Err(format!(
                    "'{text}': expected a size such as 4GiB, 512MiB, 2GB or 1e9"
                ));
            }
        };
        let x: f64 = num
            .trim()
            .parse()
            .map_err(|_| format!("'{text}': expected a size such as 4GiB, 512MiB, 2GB or 1e9"))?;
        let bytes = x * scale;
        if !(bytes.is_finite() && bytes >= 1.0 && bytes < u64::MAX as f64) {
            return Err(format!("'{text}': a size from 1 byte to 16 EiB"));
        }
        Ok(Bytes(bytes as u64))
    }
}

impl From<Bytes> for String {
    fn from(b: Bytes) -> String {
        b.to_string().replace(' ', "")
    }
}

impl TryFrom<String> for Bytes {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        text.parse()
    }
}

/// Refuse a count outside `lo..=hi`.
pub fn count(field: &str, value: usize, lo: usize, hi: usize) -> Result<(), SpecError> {
    if (lo..=hi).contains(&value) {
        Ok(())
    } else {
        Err(SpecError::new(field, value, format!("{lo}..={hi}")))
    }
}

/// A spec that runs on one model: what a command computes from a model and its settings.
/// Every such command has the same job (load the model, check, run, write), so the study layer
/// holds it once, generically.
pub trait ModelSpec:
    clap::Args
    + clap::FromArgMatches
    + serde::Serialize
    + serde::de::DeserializeOwned
    + Clone
    + PartialEq
    + std::fmt::Debug
{
    /// The subcommand (`rest`), which is also a study step's `command`.
    const COMMAND: &'static str;
    /// The typed result.
    type Output: Sync;
    /// Check every setting, and that `model` suits the analysis, before any work.
    fn check(&self, model: &crate::model::Model) -> Result<(), crate::error::Error>;
    /// Run on `model`, reporting progress to `observer` (which can stop the run).
    fn run_with(
        &self,
        model: &crate::model::Model,
        observer: &dyn crate::progress::Observer,
    ) -> Result<Self::Output, crate::error::Error>;
}

/// Implements [`ModelSpec`] for a spec whose inherent `run_with(&self, &Model, &dyn Observer)`
/// (or, for a quick one, `run(&self, &Model)`) computes its result; `check` says what the model
/// must be, or `needs field` (a smooth autonomous vector field) or `needs smooth` (a
/// conductance-based model) says it after the spec's `validate`.
macro_rules! model_spec {
    ($spec:ty, $command:literal, $output:ty, needs $needs:ident, $run:ident) => {
        $crate::spec::model_spec!(
            $spec,
            $command,
            $output,
            |s, m| {
                s.validate()?;
                $crate::spec::model_spec!(@needs $needs m)?;
                Ok(())
            },
            $run
        );
    };
    (@needs field $m:ident) => {
        $crate::model::Field::of($m)
    };
    (@needs smooth $m:ident) => {
        $m.smooth()
    };
    ($spec:ty, $command:literal, $output:ty, |$s:ident, $m:ident| $check:expr, $run:ident) => {
        impl $crate::spec::ModelSpec for $spec {
            const COMMAND: &'static str = $command;
            type Output = $output;
            fn check(&self, model: &$crate::model::Model) -> Result<(), $crate::error::Error> {
                let ($s, $m) = (self, model);
                $check
            }
            fn run_with(
                &self,
                model: &$crate::model::Model,
                observer: &dyn $crate::progress::Observer,
            ) -> Result<$output, $crate::error::Error> {
                $crate::spec::model_spec!(@$run self, model, observer)
            }
        }
    };
    (@run $self:ident, $model:ident, $observer:ident) => {{
        let _ = $observer;
        $self.run($model)
    }};
    (@run_with $self:ident, $model:ident, $observer:ident) => {
        $self.run_with($model, $observer)
    };
}
pub(crate) use model_spec;
