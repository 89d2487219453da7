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
pub mod fi;
pub mod gating;
pub mod max_rate;
pub mod model_source;
pub mod phase_plane;
pub mod rest;
pub mod simulate;
pub mod stats;
pub mod sweep;
pub mod values;
pub mod windows;

pub use bifurcation::{BifurcationResult, BifurcationSpec};
pub use bifurcation2::{Bifurcation2Result, Bifurcation2Spec};
pub use fi::{FiResult, FiSpec};
pub use gating::{GatingResult, GatingSpec};
pub use max_rate::{MaxRateResult, MaxRateSpec};
pub use model_source::ModelSource;
pub use phase_plane::{PhasePlaneResult, PhasePlaneSpec};
pub use rest::{RestResult, RestSpec};
pub use simulate::{SimulateResult, SimulateSpec};
pub use stats::{StatsResult, StatsSpec};
pub use sweep::{SweepResult, SweepSpec};
pub use windows::{WindowsResult, WindowsSpec};

use crate::error::SpecError;

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
        Err(SpecError::new(field, value, "a finite number"))
    }
}

/// Refuse `value` unless it is finite and > 0.
pub fn positive(field: &str, value: f64) -> Result<(), SpecError> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(SpecError::new(field, value, "a finite number > 0"))
    }
}

/// Refuse a range unless both ends are finite and `from < to`.
pub fn range(fields: &str, from: f64, to: f64) -> Result<(), SpecError> {
    if from.is_finite() && to.is_finite() && from < to {
        Ok(())
    } else {
        Err(SpecError::new(
            fields,
            format!("{from}..{to}"),
            "finite, with from < to",
        ))
    }
}

/// Refuse a run's timing (ms) unless `t_max` is finite and > 0, `dt` is in `(0, t_max]` and
/// `transient` in `[0, t_max)`: the settings of the commands that count spikes after a
/// transient on the batch kernel (`fi`, `sweep`).
pub(crate) fn timing(t_max: f64, dt: f64, transient: f64) -> Result<(), SpecError> {
    positive("t_max", t_max)?;
    if !(dt.is_finite() && dt > 0.0 && dt <= t_max) {
        return Err(SpecError::new(
            "dt",
            dt,
            format!("a finite number > 0 and <= t_max = {t_max} ms"),
        ));
    }
    if !(transient.is_finite() && transient >= 0.0 && transient < t_max) {
        return Err(SpecError::new(
            "transient",
            transient,
            format!("finite, >= 0 and < t_max = {t_max} ms"),
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
    type Output;
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
