//! The vector field of a smooth, autonomous model: what continuation and the equilibrium search
//! work on. Conductance-based models (built-in or TOML) and XPPAUT `.ode` models implement
//! [`VectorField`]: one generic right-hand side on any [`Scalar`], so every derivative the
//! analyses need (Jacobian, parameter derivative, the multilinear forms of the Hopf normal
//! form) stays exact through dual numbers for either kind.
//!
//! The injected current means the same for both, the convention `simulate` uses: for a
//! conductance model it is the `i_ext` term of the membrane equation; for an `.ode` model it
//! is added to the file's current parameter (the first of `i_ext`, `iapp`, `i`;
//! [`OdeModel::with_current`]). So continuing `i_ext` on an `.ode` model continues that
//! parameter's offset from its file value, and continuing `iapp` continues the parameter
//! itself.

use super::ode::OdeModel;
use super::{ConductanceModel, Model, ParamSet, Units};
use crate::error::AnalysisError;
use crate::numerics::Scalar;

/// A smooth vector field `dy/dt = f(y; p, i_ext)` with named variables and parameters.
pub trait VectorField {
    /// The model's name (for messages).
    fn name(&self) -> &str;
    /// The parameters, in the order `eval` reads them.
    fn params(&self) -> &ParamSet;
    /// State variable names, the voltage-like one first.
    fn var_names(&self) -> Vec<String>;
    /// Dimension of the state.
    fn dim(&self) -> usize;
    /// Whether an injected current can be applied.
    fn has_current(&self) -> bool;
    /// The units of its numbers (none for an `.ode` file).
    fn units(&self) -> Units {
        Units::NEURON
    }
    /// `f(y)` into `out`, with parameter values `p` (in [`ParamSet`] order; left as given on
    /// return) and injected current `i_ext` (uA/cm^2 for a conductance model, the file's units
    /// for an `.ode` model).
    fn eval<T: Scalar>(&self, p: &mut [T], y: &[T], i_ext: T, out: &mut [T]);
}

impl VectorField for ConductanceModel {
    fn name(&self) -> &str {
        &self.name
    }
    fn params(&self) -> &ParamSet {
        &self.params
    }
    fn var_names(&self) -> Vec<String> {
        ConductanceModel::var_names(self)
    }
    fn dim(&self) -> usize {
        ConductanceModel::dim(self)
    }
    fn has_current(&self) -> bool {
        true
    }
    #[inline]
    fn eval<T: Scalar>(&self, p: &mut [T], y: &[T], i_ext: T, out: &mut [T]) {
        self.rhs(p, y, i_ext, out)
    }
}

impl VectorField for OdeModel {
    fn name(&self) -> &str {
        &self.name
    }
    fn params(&self) -> &ParamSet {
        &self.params
    }
    fn var_names(&self) -> Vec<String> {
        self.vars.clone()
    }
    fn dim(&self) -> usize {
        self.vars.len()
    }
    fn has_current(&self) -> bool {
        self.current_param().is_some()
    }
    fn units(&self) -> Units {
        *self.units
    }
    #[inline]
    fn eval<T: Scalar>(&self, p: &mut [T], y: &[T], i_ext: T, out: &mut [T]) {
        self.with_current(p, i_ext, |p| self.rhs(p, T::from(0.0), y, out))
    }
}

/// A model continuation can follow: smooth and autonomous.
#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    /// A built-in or TOML conductance-based model.
    Conductance(ConductanceModel),
    /// An autonomous XPPAUT `.ode` model.
    Ode(OdeModel),
}

impl Field {
    /// [`VectorField::eval`] on plain numbers, the way a simulation evaluates: an `.ode` model
    /// through its closure trees ([`OdeModel::rhs_f64`] from empty slots: the same numbers as
    /// the bytecode, bit for bit, without its stack), with `slots` as a reusable buffer. For the long
    /// integrations continuation runs (settling onto a cycle).
    pub fn eval_f64(
        &self,
        p: &mut [f64],
        y: &[f64],
        i_ext: f64,
        out: &mut [f64],
        slots: &mut Vec<f64>,
    ) {
        match self {
            Field::Conductance(m) => m.eval(p, y, i_ext, out),
            Field::Ode(m) => {
                // Each call from the file's guesses, as `rhs` does: a model's algebraic
                // variables, solved from the last call's values, could stay on another root
                // past a fold.
                slots.clear();
                m.with_current(p, i_ext, |p| m.rhs_f64(p, 0.0, y, out, slots))
            }
        }
    }

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
        if m.has_flags() {
            return Err(AnalysisError::NoField {
                model: m.name.clone(),
                reason: "has global flags (state resets): it is hybrid, not a smooth field".into(),
            });
        }
        if m.reads_time() {
            return Err(AnalysisError::NoField {
                model: m.name.clone(),
                reason: "reads t in its right-hand side (not autonomous), so it has no equilibria"
                    .into(),
            });
        }
        Ok(Field::Ode(m.clone()))
    }

    /// The parameters, to change before a run.
    pub fn params_mut(&mut self) -> &mut ParamSet {
        match self {
            Field::Conductance(m) => &mut m.params,
            Field::Ode(m) => &mut m.params,
        }
    }

    /// Refuse `command`, an analysis along the injected current, on a model without a
    /// current parameter (an `.ode` file that declares none).
    pub fn require_current(&self, command: &str) -> Result<(), AnalysisError> {
        if self.has_current() {
            Ok(())
        } else {
            Err(AnalysisError::NoCurrent {
                model: self.name().to_string(),
                command: command.into(),
            })
        }
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
}

impl VectorField for Field {
    fn name(&self) -> &str {
        match self {
            Field::Conductance(m) => &m.name,
            Field::Ode(m) => &m.name,
        }
    }
    fn params(&self) -> &ParamSet {
        match self {
            Field::Conductance(m) => &m.params,
            Field::Ode(m) => &m.params,
        }
    }
    fn var_names(&self) -> Vec<String> {
        match self {
            Field::Conductance(m) => VectorField::var_names(m),
            Field::Ode(m) => VectorField::var_names(m),
        }
    }
    fn dim(&self) -> usize {
        match self {
            Field::Conductance(m) => VectorField::dim(m),
            Field::Ode(m) => VectorField::dim(m),
        }
    }
    fn has_current(&self) -> bool {
        match self {
            Field::Conductance(m) => m.has_current(),
            Field::Ode(m) => m.has_current(),
        }
    }
    fn units(&self) -> Units {
        match self {
            Field::Conductance(m) => m.units(),
            Field::Ode(m) => m.units(),
        }
    }
    #[inline]
    fn eval<T: Scalar>(&self, p: &mut [T], y: &[T], i_ext: T, out: &mut [T]) {
        match self {
            Field::Conductance(m) => m.eval(p, y, i_ext, out),
            Field::Ode(m) => m.eval(p, y, i_ext, out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `eval_f64` on one buffer kept across calls is `eval` bit for bit, on `hh.ode` and on a
    /// model with an algebraic variable taken past the fold of `0 = v(1 - v^2) - w` (at
    /// w = 0.385) and back: each call solves from the file's guess, so back at w = 0.3 it is on
    /// the upper root again, as `eval` is (a warm start would stay on the lower one).
    #[test]
    fn eval_f64_is_eval_each_call_afresh() {
        let alg = OdeModel::parse("w'=v_\n0= v_*(1-v_*v_)-w\nsolv v_=1\n", "a.ode", "a").unwrap();
        let field = Field::Ode(alg);
        let mut slots = vec![];
        for w in [0.3, 0.39, 0.3] {
            let (mut fast, mut plain) = ([0.0], [0.0]);
            field.eval_f64(&mut [], &[w], 0.0, &mut fast, &mut slots);
            field.eval(&mut [], &[w], 0.0, &mut plain);
            assert_eq!(fast[0].to_bits(), plain[0].to_bits(), "w = {w}");
        }
        let hh = include_str!("../../studies/models/hh.ode");
        let field = Field::Ode(OdeModel::parse(hh, "hh.ode", "hh").unwrap());
        let mut p = field.params().values();
        for (i, v) in [(0.0, -65.0), (10.0, -30.0), (150.0, 20.0)] {
            let y = [v, 0.1, 0.5, 0.4];
            let (mut fast, mut plain) = ([0.0; 4], [0.0; 4]);
            field.eval_f64(&mut p, &y, i, &mut fast, &mut slots);
            field.eval(&mut p, &y, i, &mut plain);
            assert_eq!(fast.map(f64::to_bits), plain.map(f64::to_bits), "I = {i}");
        }
    }
}
