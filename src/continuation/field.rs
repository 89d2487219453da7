//! The vector fields continuation works on: a built-in or TOML conductance-based model, or an
//! XPPAUT `.ode` model. Both evaluate one generic right-hand side on any [`Scalar`], so every
//! derivative the continuation needs (Jacobian, parameter derivative, the multilinear forms of
//! the Hopf normal form) stays exact through dual numbers for either kind.
//!
//! The injected current means the same for both, the convention `simulate` uses: for a
//! conductance model it is the `i_ext` term of the membrane equation; for an `.ode` model it
//! is added to the file's current parameter (the first of `i_ext`, `iapp`, `i`). So
//! `--param i_ext` on an `.ode` model continues that parameter's offset from its file value,
//! and `--param iapp` continues the parameter itself.

use crate::error::AnalysisError;
use crate::model::ode::OdeModel;
use crate::model::{ConductanceModel, Model, ParamSet, Scalar};

/// The unit of an `.ode` model's parameters and variables: XPPAUT files carry none.
pub const FILE_UNITS: &str = "file units";

/// A model continuation can follow: smooth and autonomous.
#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    Conductance(ConductanceModel),
    /// An `.ode` model with the index of its current parameter, if it has one (found once by
    /// name: `eval` runs for every Jacobian column).
    Ode(OdeModel, Option<usize>),
}

impl Field {
    /// The field of `model`, or an error saying why it has none (LIF resets; an `.ode`
    /// right-hand side that reads `t` is not autonomous).
    pub fn of(model: &Model) -> Result<Field, AnalysisError> {
        match model {
            Model::Conductance(m) => Ok(Field::Conductance(m.clone())),
            Model::Ode(m) => Field::ode(m),
            Model::Lif(_) => Err(AnalysisError::NoField {
                model: "lif".into(),
                reason: "is hybrid (threshold and reset)".into(),
            }),
        }
    }

    /// The field of an `.ode` model (refused when its right-hand side reads `t`).
    pub fn ode(m: &OdeModel) -> Result<Field, AnalysisError> {
        if m.reads_time() {
            return Err(AnalysisError::NoField {
                model: m.name.clone(),
                reason: "reads t in its right-hand side (not autonomous), so it has no equilibria"
                    .into(),
            });
        }
        Ok(Field::Ode(m.clone(), m.current_param()))
    }

    pub fn name(&self) -> &str {
        match self {
            Field::Conductance(m) => &m.name,
            Field::Ode(m, _) => &m.name,
        }
    }

    pub fn params(&self) -> &ParamSet {
        match self {
            Field::Conductance(m) => &m.params,
            Field::Ode(m, _) => &m.params,
        }
    }

    pub fn params_mut(&mut self) -> &mut ParamSet {
        match self {
            Field::Conductance(m) => &mut m.params,
            Field::Ode(m, _) => &mut m.params,
        }
    }

    /// State variable names, the voltage-like one first.
    pub fn var_names(&self) -> Vec<String> {
        match self {
            Field::Conductance(m) => m.var_names(),
            Field::Ode(m, _) => m.vars.clone(),
        }
    }

    pub fn dim(&self) -> usize {
        match self {
            Field::Conductance(m) => m.dim(),
            Field::Ode(m, _) => m.vars.len(),
        }
    }

    /// Whether an injected current can be applied (every conductance model; an `.ode` model
    /// with a current parameter).
    pub fn has_current(&self) -> bool {
        !matches!(self, Field::Ode(_, None))
    }

    /// Refuse an injected current this field cannot take: not finite, or non-zero for an
    /// `.ode` model without a current parameter.
    pub fn check_current(&self, i_ext: f64) -> Result<(), AnalysisError> {
        let allowed = if !i_ext.is_finite() {
            "a finite current".to_string()
        } else if i_ext != 0.0 && !self.has_current() {
            format!("0 (`{}` has no i_ext, iapp or i parameter)", self.name())
        } else {
            return Ok(());
        };
        Err(AnalysisError::BadSetting {
            what: "current".into(),
            value: i_ext,
            allowed,
        })
    }

    /// `f(y)` with parameter values `pt` and injected current `i_ext`. For an `.ode` model the
    /// current is added to its current parameter for this call only (`pt` is left as given).
    #[inline]
    pub fn eval<T: Scalar>(&self, pt: &mut [T], y: &[T], i_ext: T, out: &mut [T]) {
        match self {
            Field::Conductance(m) => m.rhs(pt, y, i_ext, out),
            Field::Ode(m, Some(c)) => {
                let base = pt[*c];
                pt[*c] = base + i_ext;
                m.rhs(pt, T::from(0.0), y, out);
                pt[*c] = base;
            }
            Field::Ode(m, None) => m.rhs(pt, T::from(0.0), y, out),
        }
    }
}
