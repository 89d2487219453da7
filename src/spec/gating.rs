//! `excitable gating`: steady states and time constants of every gate over V.

use crate::analysis::gating::{GatingCurve, gating_curves};
use crate::error::{Error, SpecError};
use crate::model::Model;
use serde::{Deserialize, Serialize};

/// At most this many voltages (a finer grid is surely a typo in the step).
pub const MAX_POINTS: f64 = 1e7;

/// Every setting of `excitable gating`.
#[derive(Debug, Clone, PartialEq, clap::Args, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct GatingSpec {
    /// Lowest voltage (mV).
    #[arg(long, allow_hyphen_values = true, default_value_t = -100.0)]
    pub v_from: f64,
    /// Highest voltage (mV).
    #[arg(long, allow_hyphen_values = true, default_value_t = 60.0)]
    pub v_to: f64,
    /// Voltage step (mV); at most 10^7 points.
    #[arg(long, allow_hyphen_values = true, default_value_t = 0.01)]
    pub v_step: f64,
}

impl Default for GatingSpec {
    fn default() -> Self {
        super::defaults()
    }
}

/// The gating curves of a [`GatingSpec`].
#[derive(Debug, Clone)]
pub struct GatingResult {
    /// The model, with its overrides.
    pub model: Model,
    /// The settings that made it.
    pub spec: GatingSpec,
    /// One curve per gate, in the model's order.
    pub curves: Vec<GatingCurve>,
}

impl GatingSpec {
    /// The number of voltages: `v_from` to `v_to` inclusive in steps of `v_step` (the last
    /// step rounded to fit).
    pub fn points(&self) -> usize {
        ((self.v_to - self.v_from) / self.v_step + 1e-9).round() as usize + 1
    }

    /// Check every setting.
    pub fn validate(&self) -> Result<(), SpecError> {
        super::range("v_from, v_to", self.v_from, self.v_to)?;
        super::positive("v_step", self.v_step)?;
        if (self.v_to - self.v_from) / self.v_step > MAX_POINTS {
            return Err(SpecError::new(
                "v_step",
                crate::error::short(self.v_step),
                "a step giving at most 10^7 points",
            ));
        }
        Ok(())
    }

    /// x_inf(V) and tau(V) of every gate of `model` (a conductance-based model).
    pub fn run(&self, model: &Model) -> Result<GatingResult, Error> {
        self.validate()?;
        let smooth = model.smooth()?;
        let curves = gating_curves(smooth, self.v_from, self.v_to, self.points());
        Ok(GatingResult {
            model: model.clone(),
            spec: self.clone(),
            curves,
        })
    }
}

super::model_spec!(GatingSpec, "gating", GatingResult, needs smooth, run);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_the_command_line_and_validates() {
        let s = GatingSpec::default();
        assert_eq!((s.v_from, s.v_to, s.v_step), (-100.0, 60.0, 0.01));
        assert_eq!(s.points(), 16001);
        s.validate().unwrap();
    }

    #[test]
    fn validate_names_the_bad_field() {
        let bad = |f: &dyn Fn(&mut GatingSpec)| {
            crate::spec::refused_field(&GatingSpec::default(), GatingSpec::validate, f)
        };
        assert_eq!(bad(&|s| s.v_to = -100.0), "v_from, v_to");
        assert_eq!(bad(&|s| s.v_from = f64::NEG_INFINITY), "v_from, v_to");
        assert_eq!(bad(&|s| s.v_step = 0.0), "v_step");
        assert_eq!(bad(&|s| s.v_step = f64::NAN), "v_step");
        assert_eq!(bad(&|s| s.v_step = 1e-6), "v_step");
    }

    #[test]
    fn it_needs_a_conductance_model() {
        let lif = Model::builtin("lif").unwrap();
        assert!(GatingSpec::default().run(&lif).is_err());
        let hh = Model::builtin("hh").unwrap();
        let r = GatingSpec {
            v_step: 1.0,
            ..Default::default()
        }
        .run(&hh)
        .unwrap();
        assert_eq!(r.curves.len(), 3);
        assert_eq!(r.curves[0].v_mv.len(), 161);
    }
}
