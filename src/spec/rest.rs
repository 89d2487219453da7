//! `excitable rest`: every equilibrium at each current, its stability, eigenvalues and
//! eigenvectors, and (near a Hopf point) the decay onto the centre subspace.

use super::values::one_or_many;
use crate::analysis::centre::{CentreProjection, kick_and_project, leading_pair};
use crate::error::{Error, SpecError};
use crate::model::{Equilibrium, Model};
use serde::{Deserialize, Serialize};

/// Leading complex pairs with Re above this (1/ms) count as near the imaginary axis, where the
/// centre-subspace check runs.
pub const NEAR_AXIS_PER_MS: f64 = -0.05;

/// Every setting of `excitable rest`.
#[derive(Debug, Clone, PartialEq, clap::Args, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct RestSpec {
    /// Injected current (uA/cm^2; the file's units for an .ode model), repeatable.
    #[arg(long, allow_hyphen_values = true, default_value = "0")]
    #[serde(deserialize_with = "one_or_many")]
    pub current: Vec<f64>,
}

impl Default for RestSpec {
    fn default() -> Self {
        super::defaults()
    }
}

/// The equilibria at every current of a [`RestSpec`], with their linearisation.
#[derive(Debug, Clone)]
pub struct RestResult {
    /// The model, with its overrides.
    pub model: Model,
    /// The settings that made it.
    pub spec: RestSpec,
    /// Every equilibrium at every current, by current then V.
    pub equilibria: Vec<Equilibrium>,
    /// The centre-subspace check at each equilibrium whose leading pair is complex and near
    /// the axis (conductance models): the current and the projection.
    pub centre: Vec<(f64, CentreProjection)>,
}

impl RestSpec {
    /// Check every setting.
    pub fn validate(&self) -> Result<(), SpecError> {
        if self.current.is_empty() {
            return Err(SpecError::new("current", "(none)", "at least one current"));
        }
        for &i in &self.current {
            super::finite("current", i)?;
        }
        Ok(())
    }

    /// Every equilibrium at each current, and the centre-subspace check where it applies.
    pub fn run(&self, model: &Model) -> Result<RestResult, Error> {
        self.run_with(model, &crate::progress::Silent)
    }

    /// [`RestSpec::run`], telling `observer` as each current is done, and stopping when it
    /// says so (10^5 currents take tens of seconds, which Ctrl-C in Python had not stopped).
    pub fn run_with(
        &self,
        model: &Model,
        observer: &dyn crate::progress::Observer,
    ) -> Result<RestResult, Error> {
        self.validate()?;
        let tracker =
            crate::progress::Tracker::new(observer, "currents", Some(self.current.len() as u64));
        let mut equilibria = Vec::new();
        for &i in &self.current {
            equilibria.extend(model.equilibria(i)?);
            tracker.advance(1, "")?;
        }
        let mut centre = Vec::new();
        if model.smooth().is_ok() {
            for e in &equilibria {
                if leading_pair(&e.eigen) == Some(0) && e.eigen[0].value.re > NEAR_AXIS_PER_MS {
                    centre.push((e.i_ext, kick_and_project(model, e)?));
                }
            }
        }
        Ok(RestResult {
            model: model.clone(),
            spec: self.clone(),
            equilibria,
            centre,
        })
    }
}

super::model_spec!(
    RestSpec,
    "rest",
    RestResult,
    |s, m| {
        crate::model::Field::of(m)?;
        Ok(s.validate()?)
    },
    run_with
);
