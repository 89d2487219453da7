//! `excitable bifurcation`: the one-parameter bifurcation diagram (equilibria, folds, Hopf
//! points with their criticality, cycle branches with Floquet multipliers and their folds,
//! period doublings and torus points).
//!
//! ```
//! use excitable::continuation::SpecialKind;
//! use excitable::{BifurcationSpec, Model};
//! let hh = Model::builtin("hh")?;
//! let spec = BifurcationSpec { from: 0.0, to: 200.0, no_cycles: true, ..Default::default() };
//! let d = spec.run(&hh)?;
//! let hopf: Vec<f64> = d.special_points.iter()
//!     .filter(|p| p.kind == SpecialKind::Hopf)
//!     .map(|p| p.param)
//!     .collect();
//! assert!((hopf[0] - 9.7754).abs() < 1e-3);                // uA/cm^2: HH starts firing
//! assert_eq!(d.unit, "uA/cm^2");
//! # Ok::<(), excitable::Error>(())
//! ```

use crate::continuation::cycles::CycleSettings;
use crate::continuation::diagram::{Diagram, DiagramSettings, diagram};
use crate::continuation::{CURRENT, Family, Field, Settings, SpecialPoint};
use crate::error::{Error, SpecError};
use crate::model::Model;
use crate::progress::{Observer, Silent};
use serde::{Deserialize, Deserializer, Serialize};
use std::time::Instant;

/// Every setting of `excitable bifurcation`.
#[derive(Debug, Clone, PartialEq, clap::Args, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct BifurcationSpec {
    /// Continued parameter: i_ext (injected current) or any model parameter.
    #[arg(long, default_value = CURRENT)]
    pub param: String,
    /// Start of the parameter range (in the parameter's unit).
    #[arg(long, allow_hyphen_values = true, default_value_t = -20.0)]
    pub from: f64,
    /// End of the parameter range (in the parameter's unit).
    #[arg(long, allow_hyphen_values = true, default_value_t = 250.0)]
    pub to: f64,
    /// Injected current (uA/cm^2; the file's units for an .ode model) when another parameter
    /// is continued.
    #[arg(long, allow_hyphen_values = true, default_value_t = 0.0)]
    pub current: f64,
    /// Mesh intervals of the cycle collocation (AUTO's NTST), 10..=2000.
    #[arg(long, default_value_t = 60)]
    pub ntst: usize,
    /// Collocation points per interval (AUTO's NCOL), 2..=7.
    #[arg(long, default_value_t = 4)]
    pub ncol: usize,
    /// Largest arclength step along cycle branches (> 0); unset, an .ode file's `@ dsmax`, else
    /// 4.
    #[arg(long, allow_hyphen_values = true)]
    pub ds_max: Option<f64>,
    /// Points per branch at most (at least 10).
    #[arg(long, default_value_t = 2000)]
    pub max_points: usize,
    /// Parameter values where the cycle branches record a point exactly, every time they pass
    /// one (AUTO's UZR): `--at 8,20,50`. They appear as `user_point` rows.
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
    #[serde(deserialize_with = "numbers")]
    pub at: Vec<f64>,
    /// Equilibria, folds and Hopf points only.
    #[arg(long)]
    pub no_cycles: bool,
    /// Follow the branches of doubled-period cycles from the period doublings: 0 none, 1 from
    /// the primary branches' doublings, 2 also from those of the doubled branches, … (0..=4).
    #[arg(long, default_value_t = 0)]
    pub doublings: usize,
}

/// The largest arclength step along cycle branches for `model`: `given` when set, else the
/// `@ dsmax` of an `.ode` file (its author's choice for the file's own scale: `lecar.ode`'s
/// currents are of order 0.1, and at the default of 4, tuned to `hh`'s uA/cm^2, one step there
/// crossed the fold of cycles and left out the fastest stable cycles), else 4. Every cycle
/// continuation of a command takes its step here: `bifurcation`, `bifurcation2`'s slices and
/// `fi`'s overlay.
pub fn cycle_ds_max(given: Option<f64>, model: &Model) -> f64 {
    let file = match model {
        Model::Ode(m) => m.option("dsmax").filter(|d| *d > 0.0),
        _ => None,
    };
    given.or(file).unwrap_or(CycleSettings::default().ds_max)
}

/// A list of numbers in a study file: `at = [8, 20]`, `at = 8` or `at = "8,20"`.
fn numbers<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
    super::values::NumberList::deserialize(d).map(|n| n.values)
}

impl Default for BifurcationSpec {
    fn default() -> Self {
        super::defaults()
    }
}

/// The one-parameter diagram of a [`BifurcationSpec`].
#[derive(Debug, Clone)]
pub struct BifurcationResult {
    /// The model, with its overrides.
    pub model: Model,
    /// The settings that made it.
    pub spec: BifurcationSpec,
    /// Equilibrium branches, Hopf points and cycle branches.
    pub diagram: Diagram,
    /// Every special point: folds, Hopf points, then the cycles' special points.
    pub special_points: Vec<SpecialPoint>,
    /// The unit of the continued parameter (empty for a model without units).
    pub unit: String,
    /// Computing time (s).
    pub seconds: f64,
}

impl BifurcationSpec {
    /// The largest cycle step for `model` ([`cycle_ds_max`] with this spec's `ds_max`).
    pub fn ds_max_for(&self, model: &Model) -> f64 {
        cycle_ds_max(self.ds_max, model)
    }

    /// The continuation settings this spec stands for (`ds_max` unset: 4).
    pub fn settings(&self) -> DiagramSettings {
        DiagramSettings {
            range: (self.from, self.to),
            equilibria: Settings {
                max_points: self.max_points,
                ..Settings::default()
            },
            cycles: CycleSettings {
                ntst: self.ntst,
                ncol: self.ncol,
                ds_max: self.ds_max.unwrap_or(CycleSettings::default().ds_max),
                max_points: self.max_points,
                user_points: self.at.clone(),
                doublings: self.doublings,
                ..CycleSettings::default()
            },
            with_cycles: !self.no_cycles,
        }
    }

    /// Check every setting.
    pub fn validate(&self) -> Result<(), SpecError> {
        if self.param.trim().is_empty() {
            return Err(SpecError::new(
                "param",
                "(none)",
                "i_ext or a parameter name",
            ));
        }
        super::range("from, to", self.from, self.to)?;
        super::finite("current", self.current)?;
        for &x in &self.at {
            super::finite("at", x)?;
        }
        let s = self.settings();
        s.equilibria.validate()?;
        // The cycle settings are checked even with no_cycles: a bad value is a bad value.
        s.cycles.validate()
    }

    /// The diagram of `model` over the parameter.
    pub fn run(&self, model: &Model) -> Result<BifurcationResult, Error> {
        self.run_with(model, &Silent)
    }

    /// [`BifurcationSpec::run`], telling `observer` of every cycle point (it can stop the run).
    pub fn run_with(
        &self,
        model: &Model,
        observer: &dyn Observer,
    ) -> Result<BifurcationResult, Error> {
        self.validate()?;
        let fam = Family::of_field(Field::of(model)?, &self.param, self.current)?;
        super::range_within_param(&fam.field, &self.param, "from, to", self.from, self.to)?;
        let unit = fam.unit().to_string();
        // The spec kept with the result says which step was taken.
        let spec = BifurcationSpec {
            ds_max: Some(self.ds_max_for(model)),
            ..self.clone()
        };
        let started = Instant::now();
        let diagram = diagram(&fam, &spec.settings(), observer)?;
        let seconds = started.elapsed().as_secs_f64();
        Ok(BifurcationResult {
            model: model.clone(),
            spec,
            special_points: diagram.special_points(),
            diagram,
            unit,
            seconds,
        })
    }
}

super::model_spec!(BifurcationSpec, "bifurcation", BifurcationResult, needs field, run_with);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_the_command_line_and_validates() {
        let s = BifurcationSpec::default();
        assert_eq!((s.param.as_str(), s.from, s.to), ("i_ext", -20.0, 250.0));
        assert_eq!((s.ntst, s.ncol, s.max_points), (60, 4, 2000));
        assert!(s.at.is_empty() && !s.no_cycles);
        s.validate().unwrap();
    }

    #[test]
    fn validate_names_the_bad_field() {
        let bad = |f: &dyn Fn(&mut BifurcationSpec)| {
            crate::spec::refused_field(&BifurcationSpec::default(), BifurcationSpec::validate, f)
        };
        assert_eq!(bad(&|s| s.to = -30.0), "from, to");
        assert_eq!(bad(&|s| s.from = f64::NAN), "from, to");
        assert_eq!(bad(&|s| s.current = f64::INFINITY), "current");
        assert_eq!(bad(&|s| s.ntst = 5), "ntst");
        assert_eq!(bad(&|s| s.ncol = 9), "ncol");
        assert_eq!(bad(&|s| s.ds_max = Some(0.0)), "ds_max");
        assert_eq!(bad(&|s| s.max_points = 9), "max_points");
        assert_eq!(bad(&|s| s.at = vec![1.0, f64::NAN]), "at");
        assert_eq!(bad(&|s| s.param = String::new()), "param");
        let e = BifurcationSpec {
            ntst: 5,
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert_eq!(e.to_string(), "ntst = 5 is out of range: allowed 10..=2000");
    }

    #[test]
    fn a_study_gives_user_points_as_text_numbers_or_arrays() {
        for text in ["at = \"8,20\"", "at = [8, 20]", "at = [8.0, 20.0]"] {
            let s: BifurcationSpec = toml::from_str(text).unwrap();
            assert_eq!(s.at, [8.0, 20.0], "{text}");
        }
        let s: BifurcationSpec = toml::from_str("at = 8\nno-cycles = true").unwrap();
        assert_eq!(s.at, [8.0]);
        assert!(s.no_cycles);
    }

    #[test]
    fn a_library_user_cannot_pass_what_the_command_line_refuses() {
        let hh = Model::builtin("hh").unwrap();
        let e = BifurcationSpec {
            ncol: 1,
            ..Default::default()
        }
        .run(&hh)
        .unwrap_err();
        assert!(matches!(e, Error::Spec(ref s) if s.field == "ncol"), "{e}");
    }

    /// A range over a model parameter stays within the values `--set` allows (a conductance
    /// from -10, a capacitance from 0 are refused, naming the fields and the parameter's
    /// range); the current has no such bounds. Within the range, the equilibria end exactly
    /// on its ends: nothing past them (the last point was the first one beyond, at -10.08 on
    /// a range from -10).
    #[test]
    fn a_parameter_range_stays_within_the_parameters_values_and_the_branch_ends_on_it() {
        let hh = Model::builtin("hh").unwrap();
        let over = |param: &str, from: f64, to: f64| {
            BifurcationSpec {
                param: param.into(),
                from,
                to,
                no_cycles: true,
                ..Default::default()
            }
            .run(&hh)
        };
        for (param, from, to, says) in [
            (
                "g_na",
                -10.0,
                10.0,
                "within g_na's own range, [0, 10000] mS/cm^2",
            ),
            (
                "c_m",
                0.0,
                2.0,
                "within c_m's own range, [0.001, 1000] uF/cm^2",
            ),
            ("g_k", 1.0, 2e4, "within g_k's own range"),
        ] {
            let e = over(param, from, to).unwrap_err();
            assert!(
                matches!(e, Error::Spec(ref s) if s.field == "from, to")
                    && e.to_string().contains(says),
                "{e}"
            );
        }
        for (param, from, to) in [("g_na", 50.0, 150.0), ("i_ext", -30.0, 30.0)] {
            let r = over(param, from, to).unwrap();
            let lambdas: Vec<f64> = (r.diagram.equilibria.iter())
                .flat_map(|b| b.points.iter().map(|p| p.lambda))
                .collect();
            let (lo, hi) = lambdas
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &l| {
                    (a.min(l), b.max(l))
                });
            assert!(
                (lo - from).abs() < 1e-9 && (hi - to).abs() < 1e-9,
                "{param}: {lo}..{hi}"
            );
        }
    }
}
