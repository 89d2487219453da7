//! Fitting: the targets a model's parameters are tuned to, what the model achieves for each,
//! and (for the smooth ones) the exact derivatives of what it achieves.
//!
//! Every target is computed by the analysis that owns it: the rest state by
//! [`Model::rest`], the Hopf current by the equilibrium continuation
//! ([`crate::continuation::diagram`]) and the Hopf refinement ([`hopf::refine`]), rheobase,
//! onset and rates by the f-I analysis ([`crate::analysis::fi`]). The smooth targets get
//! derivatives by implicit differentiation ([`implicit`]); the optimisers are in [`solve`].

pub mod implicit;
pub mod solve;

use super::fi::{Direction, FiCurve, fi_curve, fi_curve_general};
use crate::continuation::cycles::CycleSettings;
use crate::continuation::diagram::{DiagramSettings, diagram};
use crate::continuation::hopf::{self, Hopf};
use crate::continuation::{CURRENT, Family, Settings};
use crate::error::{AnalysisError, Error};
use crate::model::{Field, Model, Units};
use crate::numerics::eigen::C64;
use crate::progress::Silent;
use crate::simulate::batch::BatchSettings;
use nalgebra::DMatrix;
use std::sync::Mutex;

/// What a target measures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Quantity {
    /// The rest potential at a current (mV).
    RestMv {
        /// Injected current (uA/cm^2).
        current: f64,
    },
    /// The input resistance `dV/dI` of rest at a current (kOhm cm^2 = mV per uA/cm^2).
    InputResistance {
        /// Injected current (uA/cm^2).
        current: f64,
    },
    /// The current of the lowest Hopf point on the equilibrium branches (uA/cm^2).
    Hopf,
    /// The smallest step from rest that gives a spike (uA/cm^2).
    Rheobase,
    /// Where repetitive firing from rest starts (uA/cm^2).
    Onset,
    /// The firing rate just above the onset (Hz).
    MinRateHz,
    /// The firing rate at a current, from the mean interspike interval (Hz).
    RateHz {
        /// Injected current (uA/cm^2).
        current: f64,
    },
}

impl Quantity {
    /// Whether it is a smooth function of the parameters computed without simulation (rest,
    /// input resistance, Hopf): these get exact derivatives.
    pub fn smooth(&self) -> bool {
        matches!(
            self,
            Quantity::RestMv { .. } | Quantity::InputResistance { .. } | Quantity::Hopf
        )
    }

    /// Its name as written in `--target`: `rest_mv`, `rest_mv@5`, `rate_hz@10`, `hopf`.
    pub fn name(&self) -> String {
        let at = |base: &str, c: f64| {
            if c == 0.0 {
                base.to_string()
            } else {
                format!("{base}@{c}")
            }
        };
        match *self {
            Quantity::RestMv { current } => at("rest_mv", current),
            Quantity::InputResistance { current } => at("input_resistance", current),
            Quantity::Hopf => "hopf".into(),
            Quantity::Rheobase => "rheobase".into(),
            Quantity::Onset => "onset".into(),
            Quantity::MinRateHz => "min_rate_hz".into(),
            Quantity::RateHz { current } => format!("rate_hz@{current}"),
        }
    }

    /// Its unit in a model with `units` (empty without units).
    pub fn unit(&self, units: Units) -> &'static str {
        if !units.known() {
            return "";
        }
        match self {
            Quantity::RestMv { .. } => "mV",
            Quantity::InputResistance { .. } => "kOhm cm^2",
            Quantity::Hopf | Quantity::Rheobase | Quantity::Onset => "uA/cm^2",
            Quantity::MinRateHz | Quantity::RateHz { .. } => "Hz",
        }
    }

    /// The current it is measured at, if one.
    pub fn current(&self) -> Option<f64> {
        match *self {
            Quantity::RestMv { current }
            | Quantity::InputResistance { current }
            | Quantity::RateHz { current } => Some(current),
            _ => None,
        }
    }
}

/// One target: a quantity, the value wanted, the tolerance it must be met to and its weight.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// What is measured.
    pub quantity: Quantity,
    /// The value wanted, in the quantity's unit.
    pub wanted: f64,
    /// Met when `|achieved - wanted| <= tol` (the quantity's unit); also the residual's scale.
    pub tol: f64,
    /// The weight of its squared scaled residual in the cost.
    pub weight: f64,
    /// Where it came from, for reports: `rest_mv` or `fi.csv`.
    pub source: String,
}

impl Target {
    /// The scaled residual `sqrt(weight) (achieved - wanted) / tol`.
    pub fn residual(&self, achieved: f64) -> f64 {
        self.weight.sqrt() * (achieved - self.wanted) / self.tol
    }
}

/// A free parameter and its bounds.
#[derive(Debug, Clone, PartialEq)]
pub struct Free {
    /// The parameter's name.
    pub name: String,
    /// Its index in the model's [`crate::model::ParamSet`].
    pub index: usize,
    /// Lower bound (the parameter's unit).
    pub lo: f64,
    /// Upper bound.
    pub hi: f64,
}

/// How the simulation targets are measured (the f-I analysis' settings).
#[derive(Debug, Clone, PartialEq)]
pub struct SimSettings {
    /// Run length, transient, time step (ms) and spike threshold (mV).
    pub batch: BatchSettings,
    /// Bisection tolerance of rheobase and onset (uA/cm^2).
    pub tol: f64,
    /// The current grid that brackets rheobase and onset (uA/cm^2, ascending).
    pub grid: Vec<f64>,
    /// The current range searched for the Hopf point (uA/cm^2).
    pub hopf_range: (f64, f64),
}

/// A fitting problem: a model, the parameters left free, the targets.
#[derive(Debug)]
pub struct FitProblem {
    /// The model at its start values (the fixed parameters as they stay).
    pub model: Model,
    /// The free parameters.
    pub free: Vec<Free>,
    /// The targets.
    pub targets: Vec<Target>,
    /// How simulation targets are measured.
    pub sim: SimSettings,
    /// The last Hopf point found, to start the next refinement from.
    hopf_cache: Mutex<Option<Hopf>>,
}

impl Clone for FitProblem {
    fn clone(&self) -> Self {
        FitProblem::new(
            self.model.clone(),
            self.free.clone(),
            self.targets.clone(),
            self.sim.clone(),
        )
    }
}

impl FitProblem {
    /// A problem over `model`.
    pub fn new(model: Model, free: Vec<Free>, targets: Vec<Target>, sim: SimSettings) -> Self {
        FitProblem {
            model,
            free,
            targets,
            sim,
            hopf_cache: Mutex::new(None),
        }
    }

    /// Whether every target is smooth (so a derivative-based method applies).
    pub fn all_smooth(&self) -> bool {
        self.targets.iter().all(|t| t.quantity.smooth())
    }

    /// The free parameters' values in the model.
    pub fn start(&self) -> Vec<f64> {
        self.free
            .iter()
            .map(|f| self.model.params().value(f.index))
            .collect()
    }

    /// The model with the free parameters at `p` (each clamped into its bounds).
    pub fn model_at(&self, p: &[f64]) -> Result<Model, Error> {
        let mut m = self.model.clone();
        for (f, &v) in self.free.iter().zip(p) {
            m.set(&f.name, v.clamp(f.lo, f.hi))?;
        }
        Ok(m)
    }

    /// What the model achieves for every target at `p`; NaN where it does not produce it (no
    /// stable rest, no Hopf point in the range, no firing).
    pub fn achieved(&self, p: &[f64]) -> Result<Vec<f64>, Error> {
        let model = self.model_at(p)?;
        let mut out = vec![f64::NAN; self.targets.len()];
        let mut hopf = None;
        for (k, t) in self.targets.iter().enumerate() {
            out[k] = match t.quantity {
                Quantity::RestMv { current } => {
                    model.rest(current).map_or(f64::NAN, |e| e.state[0])
                }
                Quantity::InputResistance { current } => match model.rest(current) {
                    Ok(e) => {
                        let field = Field::of(&model)?;
                        implicit::input_resistance(&field, &e.state, current, &[])
                            .map_or(f64::NAN, |r| r.0)
                    }
                    Err(_) => f64::NAN,
                },
                Quantity::Hopf => {
                    if hopf.is_none() {
                        hopf = Some(self.hopf(&model));
                    }
                    hopf.as_ref()
                        .and_then(|h| h.as_ref().ok())
                        .map_or(f64::NAN, |h| h.lambda)
                }
                _ => continue,
            };
        }
        if self.targets.iter().any(|t| !t.quantity.smooth()) {
            // A trial point where the f-I analysis cannot run (no stable rest to start from,
            // a run that blows up) produces no simulation target; a stop request goes through.
            if let Err(Error::Cancelled(c)) = self.simulate(&model, &mut out) {
                return Err(c.into());
            }
        }
        Ok(out)
    }

    /// What the model achieves at `p` and the exact derivatives (targets x free parameters);
    /// only for smooth targets.
    pub fn achieved_with_jacobian(&self, p: &[f64]) -> Result<(Vec<f64>, DMatrix<f64>), Error> {
        let model = self.model_at(p)?;
        let field = Field::of(&model)?;
        let idx: Vec<usize> = self.free.iter().map(|f| f.index).collect();
        let m = self.targets.len();
        let mut vals = vec![f64::NAN; m];
        let mut jac = DMatrix::from_element(m, idx.len(), f64::NAN);
        let mut hopf = None;
        for (k, t) in self.targets.iter().enumerate() {
            let (v, g) = match t.quantity {
                Quantity::RestMv { current } => match model.rest(current) {
                    Ok(e) => (
                        e.state[0],
                        implicit::rest_gradient(&field, &e.state, current, &idx)?.0,
                    ),
                    Err(_) => continue,
                },
                Quantity::InputResistance { current } => match model.rest(current) {
                    Ok(e) => implicit::input_resistance(&field, &e.state, current, &idx)?,
                    Err(_) => continue,
                },
                Quantity::Hopf => {
                    if hopf.is_none() {
                        hopf = Some(self.hopf(&model));
                    }
                    match hopf.as_ref().and_then(|h| h.as_ref().ok()) {
                        Some(h) => (h.lambda, implicit::hopf_gradient(&field, h, &idx)?),
                        None => continue,
                    }
                }
                _ => {
                    return Err(AnalysisError::BadSetting {
                        what: format!("target {}", t.quantity.name()),
                        value: f64::NAN,
                        allowed: "a smooth target (rest_mv, input_resistance, hopf) for exact derivatives".into(),
                    }
                    .into());
                }
            };
            vals[k] = v;
            for (c, d) in g.into_iter().enumerate() {
                jac[(k, c)] = d;
            }
        }
        Ok((vals, jac))
    }

    /// The lowest Hopf point of `model` in the Hopf range: refined from the last one found
    /// when that converges nearby, else from a fresh continuation of the equilibria.
    fn hopf(&self, model: &Model) -> Result<Hopf, Error> {
        let field = Field::of(model)?;
        let fam = Family::of_field(field, CURRENT, 0.0)?;
        let (lo, hi) = self.sim.hopf_range;
        let last = self.hopf_cache.lock().map(|g| g.clone()).unwrap_or(None);
        if let Some(h) = last {
            let q: Vec<C64> = h
                .q_re
                .iter()
                .zip(&h.q_im)
                .map(|(&a, &b)| C64::new(a, b))
                .collect();
            if let Ok(r) = hopf::refine(&fam, &h.state, h.lambda, h.omega, &q)
                && (r.lambda - h.lambda).abs() < 0.05 * (hi - lo)
                && r.omega > 1e-9
                && (lo..=hi).contains(&r.lambda)
            {
                if let Ok(mut g) = self.hopf_cache.lock() {
                    *g = Some(r.clone());
                }
                return Ok(r);
            }
        }
        let s = DiagramSettings {
            range: (lo, hi),
            equilibria: Settings::default(),
            cycles: CycleSettings::default(),
            with_cycles: false,
        };
        let d = diagram(&fam, &s, &Silent)?;
        let h = d
            .hopfs
            .into_iter()
            .filter(|h| (lo..=hi).contains(&h.lambda))
            .min_by(|a, b| a.lambda.total_cmp(&b.lambda))
            .ok_or_else(|| AnalysisError::Numerical {
                what: "hopf".into(),
                reason: format!(
                    "`{}` has no Hopf point between {lo} and {hi}",
                    model.label()
                ),
            })?;
        if let Ok(mut g) = self.hopf_cache.lock() {
            *g = Some(h.clone());
        }
        Ok(h)
    }

    /// The simulation targets of `model` into `out`: one f-I analysis from rest over the grid
    /// and every rate current, then (for `min_rate_hz`) one run just above the onset.
    fn simulate(&self, model: &Model, out: &mut [f64]) -> Result<(), Error> {
        let needs_grid = self.targets.iter().any(|t| {
            matches!(
                t.quantity,
                Quantity::Rheobase | Quantity::Onset | Quantity::MinRateHz
            )
        });
        let mut currents: Vec<f64> = self
            .targets
            .iter()
            .filter_map(|t| match t.quantity {
                Quantity::RateHz { current } => Some(current),
                _ => None,
            })
            .collect();
        if needs_grid {
            currents.extend(&self.sim.grid);
        }
        currents.sort_by(f64::total_cmp);
        currents.dedup();
        let curve = self.fi(model, &currents)?;
        let rate_at = |c: &FiCurve, i: f64| {
            c.points
                .iter()
                .find(|p| p.current == i)
                .map_or(f64::NAN, |p| {
                    if p.summary.fires() {
                        p.summary.isi_rate_hz()
                    } else {
                        0.0
                    }
                })
        };
        let onset = curve.onsets.first().map_or(f64::NAN, |o| o.onset);
        let mut min_rate = None;
        for (k, t) in self.targets.iter().enumerate() {
            out[k] = match t.quantity {
                Quantity::Rheobase => curve.rheobase,
                Quantity::Onset => onset,
                Quantity::RateHz { current } => rate_at(&curve, current),
                Quantity::MinRateHz => {
                    if min_rate.is_none() {
                        min_rate = Some(if onset.is_finite() {
                            let i = onset + 10.0 * self.sim.tol;
                            rate_at(&self.fi(model, &[i])?, i)
                        } else {
                            f64::NAN
                        });
                    }
                    min_rate.unwrap_or(f64::NAN)
                }
                _ => continue,
            };
        }
        Ok(())
    }

    /// The f-I analysis from rest at `currents` (ascending).
    pub fn fi(&self, model: &Model, currents: &[f64]) -> Result<FiCurve, Error> {
        match model.smooth() {
            Ok(m) => fi_curve(
                m,
                currents,
                &[Direction::Rest],
                &self.sim.batch,
                self.sim.tol,
                Vec::new,
            ),
            Err(_) => fi_curve_general(
                model,
                currents,
                &[Direction::Rest],
                &self.sim.batch,
                self.sim.tol,
                Vec::new,
            ),
        }
    }
}
