//! `excitable max-rate`: the highest sustained spike rate under constant currents, and where it
//! occurs.

use super::values::NumberList;
use crate::analysis::max_rate::{MaxRate, max_firing_rate_with};
use crate::error::{Error, SpecError};
use crate::model::Model;
use crate::progress::{Observer, Silent};
use serde::{Deserialize, Serialize};

/// Every setting of `excitable max-rate`.
#[derive(Debug, Clone, PartialEq, clap::Args, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct MaxRateSpec {
    /// Currents (uA/cm^2; the file's units for an .ode model): FROM:TO:STEP or a list.
    #[arg(long, allow_hyphen_values = true, default_value = "0:300:1")]
    pub currents: NumberList,
    /// Transient discarded before counting (ms).
    #[arg(long, allow_hyphen_values = true, default_value_t = 200.0)]
    pub transient: f64,
    /// Counting window (ms).
    #[arg(long, allow_hyphen_values = true, default_value_t = 1000.0)]
    pub window: f64,
    /// Time step (ms): exponential Euler, or RK4 for an .ode model.
    #[arg(long, allow_hyphen_values = true, default_value_t = 0.01)]
    pub dt: f64,
    /// Spike threshold (mV; the file's units for an .ode model); default: the model's (hh: 0).
    #[arg(long, allow_hyphen_values = true)]
    pub threshold: Option<f64>,
}

impl Default for MaxRateSpec {
    fn default() -> Self {
        super::defaults()
    }
}

/// The steady rate at every current of a [`MaxRateSpec`], and the maximum.
#[derive(Debug, Clone)]
pub struct MaxRateResult {
    /// The model, with its overrides.
    pub model: Model,
    /// The settings that made it.
    pub spec: MaxRateSpec,
    /// Rates per current, the maximum and where it is first reached.
    pub rates: MaxRate,
}

impl MaxRateSpec {
    /// Check every setting.
    pub fn validate(&self) -> Result<(), SpecError> {
        if self.currents.values.is_empty() {
            return Err(SpecError::new("currents", "(none)", "at least one current"));
        }
        for &i in &self.currents.values {
            super::finite("currents", i)?;
        }
        if !(self.transient.is_finite() && self.transient >= 0.0) {
            return Err(SpecError::new(
                "transient",
                self.transient,
                "a finite number >= 0",
            ));
        }
        super::positive("window", self.window)?;
        super::positive("dt", self.dt)?;
        if let Some(t) = self.threshold {
            super::finite("threshold", t)?;
        }
        let t_max = self.transient + self.window;
        if self.dt > t_max || (t_max / self.dt) > 1e12 {
            return Err(SpecError::new(
                "dt",
                self.dt,
                format!("at most transient + window = {t_max} ms, and at least 1e-12 of it"),
            ));
        }
        super::window_steps("window", self.window, self.dt)
    }

    /// The steady rate at every current, from rest (in parallel).
    pub fn run(&self, model: &Model) -> Result<MaxRateResult, Error> {
        self.run_with(model, &Silent)
    }

    /// [`MaxRateSpec::run`], telling `observer` as each current finishes (one unit per
    /// current).
    pub fn run_with(&self, model: &Model, observer: &dyn Observer) -> Result<MaxRateResult, Error> {
        self.validate()?;
        self.check_memory(model)?;
        let rates = max_firing_rate_with(
            model,
            &self.currents.values,
            self.transient,
            self.window,
            self.dt,
            self.threshold.unwrap_or(model.threshold_mv()),
            observer,
        )?;
        Ok(MaxRateResult {
            model: model.clone(),
            spec: self.clone(),
            rates,
        })
    }
}

impl MaxRateSpec {
    /// Refuse, before any work, a run whose sampled traces (V is watched for oscillations
    /// below the threshold) would pass the default memory budget.
    pub fn check_memory(&self, model: &Model) -> Result<(), SpecError> {
        let bytes = crate::analysis::max_rate::trace_bytes(
            model,
            self.currents.values.len(),
            self.transient + self.window,
        );
        let budget: super::Bytes = super::DEFAULT_MAX_MEMORY
            .parse()
            .expect("the default budget parses");
        // `max-rate` has no memory setting to raise: the refusal names the currents.
        if bytes <= budget.0 as f64 {
            return Ok(());
        }
        Err(SpecError::new(
            "currents",
            format!("{} currents", self.currents.values.len()),
            format!(
                "a run within {} of memory (V and the state sampled every 0.1 ms at every current take {} here): fewer currents or a shorter transient + window",
                super::Bytes::display(budget.0 as f64),
                super::Bytes::display(bytes)
            ),
        ))
    }
}

super::model_spec!(
    MaxRateSpec,
    "max-rate",
    MaxRateResult,
    |s, m| {
        s.validate()?;
        s.check_memory(m)?;
        Ok(())
    },
    run_with
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate_and_bad_values_name_their_field() {
        let d = MaxRateSpec::default();
        assert!(d.validate().is_ok());
        assert_eq!(d.currents.values.len(), 301);
        assert_eq!((d.transient, d.window, d.dt), (200.0, 1000.0, 0.01));
        let field = |s: MaxRateSpec| s.validate().unwrap_err().field;
        let list = |values: Vec<f64>| NumberList {
            text: format!("{values:?}"),
            values,
        };
        assert_eq!(
            field(MaxRateSpec {
                currents: list(vec![1.0, f64::NAN]),
                ..d.clone()
            }),
            "currents"
        );
        assert_eq!(
            field(MaxRateSpec {
                currents: list(vec![]),
                ..d.clone()
            }),
            "currents"
        );
        // A window of fewer than 100 steps (max-rate --dt 1000 said "0 Hz: no current fires").
        assert_eq!(
            field(MaxRateSpec {
                dt: 10.5,
                ..d.clone()
            }),
            "dt"
        );
        assert_eq!(
            field(MaxRateSpec {
                transient: -1.0,
                ..d.clone()
            }),
            "transient"
        );
        assert_eq!(
            field(MaxRateSpec {
                window: 0.0,
                ..d.clone()
            }),
            "window"
        );
        assert_eq!(
            field(MaxRateSpec {
                dt: f64::NAN,
                ..d.clone()
            }),
            "dt"
        );
        assert_eq!(field(MaxRateSpec { dt: 5000.0, ..d }), "dt");
    }

    #[test]
    fn lif_rate_grows_with_the_current() {
        let lif = Model::builtin("lif").unwrap();
        let r = MaxRateSpec {
            currents: "0:10:5".parse().unwrap(),
            transient: 50.0,
            window: 200.0,
            ..Default::default()
        }
        .run(&lif)
        .unwrap();
        assert_eq!(r.rates.currents, [0.0, 5.0, 10.0]);
        assert_eq!(r.rates.at_current, 10.0);
    }
}
