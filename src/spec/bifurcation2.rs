//! `excitable bifurcation2`: two-parameter curves of Hopf and fold points, with Bautin,
//! Bogdanov-Takens and cusp points, and curves of folds of cycles and period doubling.

use crate::continuation::codim2::{
    Box2, Curve, CurveKind, Family2, SeedGap, TwoParameter, two_parameter_kinds,
};
use crate::continuation::cycles::CycleSettings;
use crate::continuation::special::codim2_points;
use crate::continuation::{Field, SpecialPoint};
use crate::error::{Error, SpecError};
use crate::model::Model;
use crate::progress::{Observer, Silent};
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// Every setting of `excitable bifurcation2`.
#[derive(Debug, Clone, PartialEq, clap::Args, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct Bifurcation2Spec {
    /// The two parameters, comma-separated: i_ext or model parameters (e.g. i_ext,g_k).
    #[arg(long, default_value = "i_ext,g_k")]
    pub params: String,
    /// Start of the first parameter's range (in its unit).
    #[arg(long, allow_hyphen_values = true, default_value_t = -20.0)]
    pub from: f64,
    /// End of the first parameter's range.
    #[arg(long, allow_hyphen_values = true, default_value_t = 250.0)]
    pub to: f64,
    /// Start of the second parameter's range (the range must contain the model's value).
    #[arg(long, allow_hyphen_values = true, default_value_t = 10.0)]
    pub from2: f64,
    /// End of the second parameter's range.
    #[arg(long, allow_hyphen_values = true, default_value_t = 80.0)]
    pub to2: f64,
    /// Injected current (uA/cm^2; the file's units for an .ode model) when neither parameter
    /// is i_ext.
    #[arg(long, allow_hyphen_values = true, default_value_t = 0.0)]
    pub current: f64,
    /// Points per curve direction at most (at least 10).
    #[arg(long, default_value_t = 3000)]
    pub max_points: usize,
    /// Which curves, comma-separated: hopf, fold (of equilibria), fold_cycle (folds of
    /// cycles), period_doubling. Curves of cycles are seeded from the one-parameter diagram
    /// with cycles at the second parameter's model value.
    #[arg(long, default_value = "hopf,fold")]
    pub curves: String,
    /// Mesh intervals of the cycle collocation for curves of cycles (AUTO's NTST), 10..=2000.
    #[arg(long, default_value_t = 60)]
    pub ntst: usize,
    /// Values of the second parameter where the curves of cycles record a point exactly:
    /// `--at2 30,40` (in its unit).
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
    #[serde(deserialize_with = "numbers")]
    pub at2: Vec<f64>,
}

fn numbers<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
    super::values::NumberList::deserialize(d).map(|n| n.values)
}

impl Default for Bifurcation2Spec {
    fn default() -> Self {
        super::defaults()
    }
}

/// The two-parameter curves of a [`Bifurcation2Spec`].
#[derive(Debug, Clone)]
pub struct Bifurcation2Result {
    /// The model, with its overrides.
    pub model: Model,
    /// The settings that made it.
    pub spec: Bifurcation2Spec,
    /// The two parameters' names.
    pub names: (String, String),
    /// Their units (empty for a model without units or a dimensionless parameter).
    pub units: (String, String),
    /// Their values in the model: the curves are seeded on the line `second = base.1`.
    pub base: (f64, f64),
    /// Every Hopf and fold curve through the box.
    pub curves: Vec<Curve>,
    /// The codimension-two points on them (Bautin, Bogdanov-Takens, cusp).
    pub special_points: Vec<SpecialPoint>,
    /// The seed lines not covered ([`TwoParameter::uncovered`]).
    pub uncovered: Vec<SeedGap>,
    /// Computing time (s).
    pub seconds: f64,
}

impl Bifurcation2Spec {
    /// The two parameter names of `params`, trimmed.
    pub fn names(&self) -> Result<(&str, &str), SpecError> {
        match self.params.split_once(',') {
            Some((a, b)) if !a.trim().is_empty() && !b.trim().is_empty() && !b.contains(',') => {
                Ok((a.trim(), b.trim()))
            }
            _ => Err(SpecError::new(
                "params",
                format!("'{}'", self.params),
                "two names separated by a comma, e.g. i_ext,g_k",
            )),
        }
    }

    /// The curve kinds of `curves`.
    pub fn kinds(&self) -> Result<Vec<CurveKind>, SpecError> {
        let all = [
            CurveKind::Hopf,
            CurveKind::Fold,
            CurveKind::FoldOfCycles,
            CurveKind::PeriodDoubling,
        ];
        let mut out = vec![];
        for name in self.curves.split(',').map(str::trim) {
            let Some(k) = all.iter().find(|k| k.name() == name) else {
                return Err(SpecError::new(
                    "curves",
                    format!("'{}'", self.curves),
                    "names from hopf, fold, fold_cycle, period_doubling, comma-separated",
                ));
            };
            if !out.contains(k) {
                out.push(*k);
            }
        }
        Ok(out)
    }

    /// Check every setting.
    pub fn validate(&self) -> Result<(), SpecError> {
        self.names()?;
        self.kinds()?;
        if !(10..=2000).contains(&self.ntst) {
            return Err(SpecError::out_of_range("ntst", self.ntst, "10..=2000"));
        }
        for &x in &self.at2 {
            super::finite("at2", x)?;
        }
        super::range("from, to", self.from, self.to)?;
        super::range("from2, to2", self.from2, self.to2)?;
        super::finite("current", self.current)?;
        crate::continuation::check_max_points(self.max_points)
    }

    /// The curves of `model` in the box.
    pub fn run(&self, model: &Model) -> Result<Bifurcation2Result, Error> {
        self.run_with(model, &Silent)
    }

    /// [`Bifurcation2Spec::run`], telling `observer` of each curve (it can stop the run).
    pub fn run_with(
        &self,
        model: &Model,
        observer: &dyn Observer,
    ) -> Result<Bifurcation2Result, Error> {
        self.validate()?;
        let (p1, p2) = self.names()?;
        let field = Field::of(model)?;
        let fam = Family2::new(&field, p1, p2, self.current)?;
        super::range_within_param(&field, p1, "from, to", self.from, self.to)?;
        super::range_within_param(&field, p2, "from2, to2", self.from2, self.to2)?;
        let units = fam.units();
        let units = (units.0.to_string(), units.1.to_string());
        let bx = Box2 {
            l1: (self.from, self.to),
            l2: (self.from2, self.to2),
        };
        let started = Instant::now();
        let cycles = CycleSettings {
            ntst: self.ntst,
            ds_max: super::bifurcation::cycle_ds_max(None, model),
            ..CycleSettings::default()
        };
        let TwoParameter { curves, uncovered } = two_parameter_kinds(
            &fam,
            &bx,
            self.max_points,
            &self.kinds()?,
            &cycles,
            &self.at2,
            observer,
        )?;
        let seconds = started.elapsed().as_secs_f64();
        Ok(Bifurcation2Result {
            model: model.clone(),
            spec: self.clone(),
            names: fam.names.clone(),
            units,
            base: fam.base_values(),
            special_points: codim2_points(&curves),
            curves,
            uncovered,
            seconds,
        })
    }
}

super::model_spec!(Bifurcation2Spec, "bifurcation2", Bifurcation2Result, needs field, run_with);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_the_command_line_and_validates() {
        let s = Bifurcation2Spec::default();
        assert_eq!(s.names().unwrap(), ("i_ext", "g_k"));
        assert_eq!((s.from, s.to, s.from2, s.to2), (-20.0, 250.0, 10.0, 80.0));
        assert_eq!(s.max_points, 3000);
        assert_eq!(s.kinds().unwrap(), [CurveKind::Hopf, CurveKind::Fold]);
        s.validate().unwrap();
    }

    #[test]
    fn validate_names_the_bad_field() {
        let bad = |f: &dyn Fn(&mut Bifurcation2Spec)| {
            crate::spec::refused_field(&Bifurcation2Spec::default(), Bifurcation2Spec::validate, f)
        };
        assert_eq!(bad(&|s| s.params = "i_ext".into()), "params");
        assert_eq!(bad(&|s| s.params = "i_ext,".into()), "params");
        assert_eq!(bad(&|s| s.params = "a,b,c".into()), "params");
        assert_eq!(bad(&|s| s.to = -20.0), "from, to");
        assert_eq!(bad(&|s| s.to2 = f64::NAN), "from2, to2");
        assert_eq!(bad(&|s| s.current = f64::NAN), "current");
        assert_eq!(bad(&|s| s.max_points = 3), "max_points");
        assert_eq!(bad(&|s| s.curves = "hopf,lpc".into()), "curves");
        assert_eq!(bad(&|s| s.ntst = 5), "ntst");
        assert_eq!(bad(&|s| s.at2 = vec![f64::NAN]), "at2");
        let s = Bifurcation2Spec {
            params: " i_ext , g_na ".into(),
            ..Default::default()
        };
        assert_eq!(s.names().unwrap(), ("i_ext", "g_na"));
    }
}
