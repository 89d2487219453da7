//! `excitable prc`: the infinitesimal phase response curve of every state variable, by the
//! adjoint method on the stable cycle solved by collocation, at one current or along the
//! stable cycle branch (`--currents A:B:S`).
//!
//! The first current's cycle is found by simulation from the resting state at zero current,
//! then solved by collocation at that current
//! ([`crate::continuation::orbit_from_simulation`]). Each next current's cycle is continued
//! from the previous one (Newton on the collocation system at the new current, the previous
//! cycle as the guess: [`orbit_from_neighbour`]), so a list follows one branch of stable
//! cycles; where that fails or gives an unstable cycle, it is simulated from the previous
//! cycle's phase 0 instead. The PRC is the periodic solution of the
//! adjoint equation on the same discretisation ([`crate::continuation::adjoint`]),
//! normalised so that `Z . f = 1`: **phase advance in ms per mV for V, in ms per unit for a
//! gate**. Phase is the fraction of the period in [0, 1), **phase 0 the upward crossing of V
//! through the spike threshold** (the model's: hh 0 mV; `--threshold` to change it).
//!
//! ```
//! use excitable::{Model, spec::PrcSpec};
//! let hh = Model::builtin("hh")?;
//! let r = PrcSpec { currents: "10".parse().unwrap(), ..Default::default() }.run(&hh)?;
//! let p = &r.prcs[0];
//! assert!((p.period - 14.64).abs() < 0.05);                // ms
//! assert_eq!(p.kind().name(), "type II");                 // HH delays early kicks
//! # Ok::<(), excitable::Error>(())
//! ```

use super::values::NumberList;
use crate::analysis::prc::{Prc, prc_at, prc_on};
use crate::continuation::orbit_from_simulation::{
    OrbitSettings, orbit_from_neighbour, stable_orbit_from_rest,
};
use crate::continuation::{CURRENT, Family, Field};
use crate::error::{Error, SpecError};
use crate::model::Model;
use crate::progress::{Flow, Observer, Progress, Silent};
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// At most this many currents in one run.
pub const MAX_CURRENTS: usize = 100_000;

/// Every setting of `excitable prc`.
#[derive(Debug, Clone, PartialEq, clap::Args, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct PrcSpec {
    /// Injected current(s) (uA/cm^2; the file's units for an .ode model): one value
    /// (`--current 10`), a list or FROM:TO:STEP along the stable cycle branch
    /// (`--currents 10:50:10`). Each must have a stable cycle.
    #[arg(
        long,
        alias = "current",
        allow_hyphen_values = true,
        default_value = "10"
    )]
    #[serde(alias = "current")]
    pub currents: NumberList,
    /// Phases sampled per current in prc.parquet (uniform in [0, 1)), 10..=100000.
    #[arg(long, default_value_t = 200)]
    pub points: usize,
    /// Spike threshold (mV; the file's units for an .ode model): phase 0 is V crossing it
    /// upward; default: the model's (hh: 0).
    #[arg(long, allow_hyphen_values = true)]
    pub threshold: Option<f64>,
    /// Mesh intervals of the collocation (AUTO's NTST), 10..=2000.
    #[arg(long, default_value_t = 80)]
    pub ntst: usize,
    /// Collocation points per interval (AUTO's NCOL), 2..=7.
    #[arg(long, default_value_t = 4)]
    pub ncol: usize,
    /// Longest simulation to reach the cycle at one current (ms; file time units).
    #[arg(long, allow_hyphen_values = true, default_value_t = 20000.0)]
    pub t_max: f64,
}

impl Default for PrcSpec {
    fn default() -> Self {
        super::defaults()
    }
}

/// The PRCs of a [`PrcSpec`].
#[derive(Debug, Clone)]
pub struct PrcResult {
    /// The model, with its overrides.
    pub model: Model,
    /// The settings that made it.
    pub spec: PrcSpec,
    /// One PRC per current, in the order given.
    pub prcs: Vec<Prc>,
    /// State variable names (V first).
    pub var_names: Vec<String>,
    /// The threshold used for phase 0 (mV; file units).
    pub threshold: f64,
    /// Computing time (s).
    pub seconds: f64,
}

impl PrcSpec {
    /// Check every setting.
    pub fn validate(&self) -> Result<(), SpecError> {
        let v = &self.currents.values;
        if v.is_empty() {
            return Err(SpecError::new("currents", "(none)", "at least one current"));
        }
        if v.len() > MAX_CURRENTS {
            return Err(SpecError::new(
                "currents",
                &self.currents.text,
                format!("at most {MAX_CURRENTS} currents"),
            ));
        }
        for &i in v {
            super::finite("currents", i)?;
        }
        super::count("points", self.points, 10, 100_000)?;
        if let Some(t) = self.threshold {
            super::finite("threshold", t)?;
        }
        super::count("ntst", self.ntst, 10, 2000)?;
        super::count("ncol", self.ncol, 2, 7)?;
        super::positive("t_max", self.t_max)
    }

    /// The orbit settings for `model`.
    pub fn orbit_settings(&self, model: &Model) -> OrbitSettings {
        OrbitSettings {
            threshold: self.threshold.unwrap_or(model.threshold_mv()),
            t_max: self.t_max,
            ntst: self.ntst,
            ncol: self.ncol,
            ..OrbitSettings::default()
        }
    }

    /// The PRC at every current.
    pub fn run(&self, model: &Model) -> Result<PrcResult, Error> {
        self.run_with(model, &Silent)
    }

    /// [`PrcSpec::run`], telling `observer` of every current done (it can stop the run).
    pub fn run_with(&self, model: &Model, observer: &dyn Observer) -> Result<PrcResult, Error> {
        self.validate()?;
        let field = Field::of(model)?;
        field.require_current("prc")?;
        let fam = Family::of_field(field, CURRENT, 0.0)?;
        for &i in &self.currents.values {
            fam.field.check_current(i)?;
        }
        let started = Instant::now();
        let set = self.orbit_settings(model);
        let rest = model.sweep_start()?;
        let mut prcs: Vec<Prc> = Vec::with_capacity(self.currents.values.len());
        let total = self.currents.values.len() as u64;
        for (k, &i) in self.currents.values.iter().enumerate() {
            let start = prcs
                .last()
                .map_or_else(|| rest.clone(), |p| p.state_at(0.0));
            let neighbour = prcs
                .last()
                .and_then(|p| orbit_from_neighbour(&fam, i, p.orbit(), &set));
            let p = match neighbour {
                Some(orbit) => prc_on(&fam, orbit, self.points),
                // The first current from rest, kicked where rest's basin holds the run.
                None if prcs.is_empty() => {
                    stable_orbit_from_rest(&fam, i, &rest, model.kicks(), &set)
                        .and_then(|o| prc_on(&fam, o, self.points))
                }
                None => prc_at(&fam, i, &start, &set, self.points),
            }?;
            prcs.push(p);
            let detail = format!("{i}");
            let progress = Progress {
                task: "phase response curves",
                done: k as u64 + 1,
                total: Some(total),
                detail: &detail,
            };
            if let Flow::Stop = observer.observe(&progress) {
                return Err(crate::progress::Cancelled.into());
            }
        }
        Ok(PrcResult {
            model: model.clone(),
            spec: self.clone(),
            var_names: model.var_names(),
            threshold: set.threshold,
            prcs,
            seconds: started.elapsed().as_secs_f64(),
        })
    }
}

super::model_spec!(PrcSpec, "prc", PrcResult, needs field, run_with);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_validates_and_bad_values_name_their_field() {
        let d = PrcSpec::default();
        d.validate().unwrap();
        assert_eq!(d.currents.values, [10.0]);
        let bad = |f: &dyn Fn(&mut PrcSpec)| {
            crate::spec::refused_field(&PrcSpec::default(), PrcSpec::validate, f)
        };
        assert_eq!(bad(&|s| s.points = 5), "points");
        assert_eq!(bad(&|s| s.ntst = 5), "ntst");
        assert_eq!(bad(&|s| s.ncol = 8), "ncol");
        assert_eq!(bad(&|s| s.t_max = 0.0), "t_max");
        assert_eq!(bad(&|s| s.threshold = Some(f64::NAN)), "threshold");
        assert_eq!(
            bad(&|s| s.currents = NumberList {
                values: vec![],
                text: String::new()
            }),
            "currents"
        );
    }

    #[test]
    fn a_study_step_says_current_or_currents() {
        let s: PrcSpec = toml::from_str("current = 12").unwrap();
        assert_eq!(s.currents.values, [12.0]);
        let s: PrcSpec = toml::from_str("currents = \"10:30:10\"").unwrap();
        assert_eq!(s.currents.values, [10.0, 20.0, 30.0]);
    }
}
