//! `excitable fit`: tune a model's free parameters to measured targets (docs/fitting.md).
//!
//! Targets are written `NAME=VALUE[:tol=T][:weight=W]`: `rest_mv`, `rest_mv@I`,
//! `input_resistance`, `input_resistance@I`, `hopf` (smooth, with exact derivatives),
//! `rheobase`, `onset`, `min_rate_hz`, `rate_hz@I` (from simulation), and `fi=FILE.csv` (an
//! f-I curve, columns `i_ua_cm2,rate_hz`, one `rate_hz@I` target per row). Free parameters
//! are `NAME` (bounds: the model's range) or `NAME=LO:HI`.
//!
//! ```
//! use excitable::{Model, spec::FitSpec};
//! let hh = Model::builtin("hh")?;
//! let truth = FitSpec::default().achieved_by(&hh, &["rest_mv", "hopf"])?;
//! let start = hh.clone().with("g_l", 0.33)?;
//! let spec = FitSpec {
//!     free: vec!["g_l".into()],
//!     target: vec![format!("rest_mv={}", truth[0])],
//!     ..Default::default()
//! };
//! let r = spec.run(&start)?;
//! assert!((r.fitted.params().get("g_l").unwrap() - 0.3).abs() < 1e-6);
//! # Ok::<(), excitable::Error>(())
//! ```

use super::values::{comma_separated, one_or_many};
use crate::analysis::fit::solve::{
    Iteration, Method, SolveSettings, StartOutcome, fit, sensitivity,
};
use crate::analysis::fit::{FitProblem, Free, Quantity, SimSettings, Target};
use crate::error::{Error, SpecError, short};
use crate::model::{Field, Model, VectorField};
use crate::progress::{Observer, Silent};
use crate::simulate::batch::BatchSettings;
use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Instant;

/// How the method is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FitMethod {
    /// Gauss-Newton when every target is smooth, else Nelder-Mead.
    Auto,
    /// Gauss-Newton with Levenberg-Marquardt damping (smooth targets only).
    GaussNewton,
    /// Nelder-Mead (any targets).
    NelderMead,
}

/// Every setting of `excitable fit`.
#[derive(Debug, Clone, PartialEq, clap::Args, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct FitSpec {
    /// Free parameters: `g_k` (bounds: the model's range) or `g_k=20:50` (bounds in the
    /// parameter's unit); repeatable or comma-separated.
    #[arg(long, value_delimiter = ',', required = false)]
    #[serde(deserialize_with = "comma_separated")]
    pub free: Vec<String>,
    /// A target `NAME=VALUE[:tol=T][:weight=W]`: rest_mv[@I] (mV), input_resistance[@I]
    /// (kOhm cm^2), hopf, rheobase, onset (uA/cm^2), min_rate_hz, rate_hz@I (Hz), or
    /// `fi=FILE.csv` (columns i_ua_cm2,rate_hz). Default tol: 1% of |VALUE| (at least 1e-3);
    /// default weight 1. Repeatable.
    #[arg(long, allow_hyphen_values = true, required = false)]
    #[serde(deserialize_with = "one_or_many")]
    pub target: Vec<String>,
    /// Starts: the model's values, then N-1 drawn log-uniformly in [p/2, 2p] within the
    /// bounds, run in parallel; 1..=64.
    #[arg(long, default_value_t = 1)]
    pub starts: usize,
    /// Seed of the extra starts.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// auto, gauss-newton or nelder-mead.
    #[arg(long, value_enum, default_value = "auto")]
    pub method: FitMethod,
    /// Iterations per start at most, 1..=100000.
    #[arg(long, default_value_t = 400)]
    pub max_iters: u64,
    /// First current of the grid that brackets rheobase and onset, and of the Hopf search
    /// (uA/cm^2; the file's units for an .ode model).
    #[arg(long, allow_hyphen_values = true, default_value_t = 0.0)]
    pub from: f64,
    /// Last current of that grid and of the Hopf search (uA/cm^2).
    #[arg(long, allow_hyphen_values = true, default_value_t = 100.0)]
    pub to: f64,
    /// Step of the rheobase/onset grid (uA/cm^2).
    #[arg(long, allow_hyphen_values = true, default_value_t = 2.0)]
    pub step: f64,
    /// Run length of each simulation (ms).
    #[arg(long, allow_hyphen_values = true, default_value_t = 1200.0)]
    pub t_max: f64,
    /// Discarded before counting spikes (ms).
    #[arg(long, allow_hyphen_values = true, default_value_t = 200.0)]
    pub transient: f64,
    /// Time step of the simulations (ms).
    #[arg(long, allow_hyphen_values = true, default_value_t = 0.01)]
    pub dt: f64,
    /// Bisection tolerance of rheobase and onset (uA/cm^2).
    #[arg(long, allow_hyphen_values = true, default_value_t = 1e-4)]
    pub tol: f64,
    /// Spike threshold (mV; the file's units for an .ode model); default: the model's.
    #[arg(long, allow_hyphen_values = true)]
    pub threshold: Option<f64>,
}

impl Default for FitSpec {
    fn default() -> Self {
        super::defaults()
    }
}

/// The result of a [`FitSpec`].
#[derive(Debug, Clone)]
pub struct FitResult {
    /// The model at its start values.
    pub model: Model,
    /// The settings that made it.
    pub spec: FitSpec,
    /// The model with the best parameters found.
    pub fitted: Model,
    /// The free parameters and their bounds.
    pub free: Vec<Free>,
    /// The targets (an f-I file gives one per row).
    pub targets: Vec<Target>,
    /// What the start model achieves for each target.
    pub start_achieved: Vec<f64>,
    /// What the fitted model achieves for each target.
    pub achieved: Vec<f64>,
    /// The method used.
    pub method: Method,
    /// Every start's outcome; `best` indexes the best.
    pub outcomes: Vec<StartOutcome>,
    /// Index of the best start in `outcomes`.
    pub best: usize,
    /// Every iteration of every start.
    pub history: Vec<Iteration>,
    /// The scaled residuals' Jacobian at the fit (targets x free parameters, per relative
    /// change of each parameter).
    pub jacobian: DMatrix<f64>,
    /// The fitted model's f-I curve from rest over the f-I targets' span (current, Hz), when
    /// there are rate targets.
    pub fi_curve: Vec<(f64, f64)>,
    /// Computing time (s).
    pub seconds: f64,
    /// An `.ode` model file's text, into which the fitted parameters are written (set by the
    /// job that read the file; `None` otherwise).
    pub source_text: Option<String>,
}

impl FitResult {
    /// Whether every target is met within its tolerance.
    pub fn all_met(&self) -> bool {
        self.targets
            .iter()
            .zip(&self.achieved)
            .all(|(t, a)| (a - t.wanted).abs() <= t.tol)
    }

    /// The condition number of the Jacobian (largest over smallest singular value): how
    /// unevenly the targets determine the parameters; infinite when some combination of
    /// parameters does not move any target.
    pub fn condition(&self) -> f64 {
        condition_of(&self.jacobian)
    }

    /// The relative change of each free parameter that costs one unit of the scaled cost
    /// (one tolerance on one target) in the linearisation: `sqrt(diag((J^T J)^-1))`;
    /// infinite for a parameter the targets do not determine, NaN when a target is not
    /// produced next to the fitted values. See [`uncertainty_of`].
    pub fn relative_uncertainty(&self) -> Vec<f64> {
        uncertainty_of(&self.jacobian)
    }

    /// The spread of each free parameter over the starts that ended within 10% of the best
    /// cost (plus 1e-12): (max - min) / |best value|; 0 with one such start.
    pub fn spread(&self) -> Vec<f64> {
        let best = &self.outcomes[self.best];
        let near: Vec<&StartOutcome> = self
            .outcomes
            .iter()
            .filter(|o| o.cost <= best.cost * 1.1 + 1e-12)
            .collect();
        (0..best.params.len())
            .map(|j| {
                let (lo, hi) = near
                    .iter()
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), o| {
                        (a.min(o.params[j]), b.max(o.params[j]))
                    });
                (hi - lo) / best.params[j].abs().max(1e-300)
            })
            .collect()
    }
}

/// Singular values below this share of the largest count as zero: directions of parameter
/// space no target sees (a few hundred rounding errors of the largest).
const NULL_SINGULAR: f64 = 1e-13;

/// The singular values and right singular vectors of `j`, padded with zero rows to at least
/// as many rows as columns, so that a fit with fewer targets than free parameters has its
/// null directions among them (with singular value 0).
fn padded_svd(j: &DMatrix<f64>) -> (nalgebra::DVector<f64>, DMatrix<f64>) {
    let (m, n) = j.shape();
    let square = if m < n {
        j.clone().resize_vertically(n, 0.0)
    } else {
        j.clone()
    };
    let svd = square.svd(false, true);
    let v_t = svd.v_t.unwrap_or_else(|| DMatrix::zeros(0, n));
    (svd.singular_values, v_t)
}

/// The condition number of `j` (largest over smallest singular value): infinite when some
/// combination of the parameters moves no target (as with fewer targets than parameters),
/// NaN when `j` holds a non-finite entry.
pub fn condition_of(j: &DMatrix<f64>) -> f64 {
    if j.iter().any(|x| !x.is_finite()) {
        return f64::NAN;
    }
    let (sv, _) = padded_svd(j);
    let mx = sv.iter().fold(0.0f64, |a, &s| a.max(s));
    let mn = sv.iter().fold(f64::INFINITY, |a, &s| a.min(s));
    if mx > 0.0 && mn > NULL_SINGULAR * mx {
        mx / mn
    } else {
        f64::INFINITY
    }
}

/// `sqrt(diag((J^T J)^-1))` of `j` through its singular values, `sum_i (V_ki / s_i)^2`: a
/// parameter with a part in a direction no target sees (a zero singular value) is infinitely
/// uncertain, and the others keep their finite values. NaN when `j` holds a non-finite
/// entry. (An explicit inverse of a singular `J^T J` had returned rounding noise: 0 for a
/// parameter three free ones shared with one target.)
pub fn uncertainty_of(j: &DMatrix<f64>) -> Vec<f64> {
    if j.iter().any(|x| !x.is_finite()) {
        return vec![f64::NAN; j.ncols()];
    }
    let (sv, v_t) = padded_svd(j);
    let mx = sv.iter().fold(0.0f64, |a, &s| a.max(s));
    (0..j.ncols())
        .map(|k| {
            let mut sum = 0.0;
            for (i, &s) in sv.iter().enumerate() {
                let v = v_t[(i, k)];
                if s > NULL_SINGULAR * mx {
                    sum += (v / s).powi(2);
                } else if v.abs() > 1e-8 {
                    return f64::INFINITY;
                }
            }
            sum.sqrt()
        })
        .collect()
}

/// Lower and upper bound of a free parameter.
type Bounds = (f64, f64);

/// A free parameter's text, `NAME` or `NAME=LO:HI`, split into its name and its bounds (finite,
/// LO < HI).
fn split_free(text: &str) -> Result<(&str, Option<Bounds>), SpecError> {
    let Some((name, bounds)) = text.split_once('=') else {
        return Ok((text.trim(), None));
    };
    let number = |x: &str| x.trim().parse::<f64>().ok().filter(|v| v.is_finite());
    match bounds.split_once(':').map(|(a, c)| (number(a), number(c))) {
        Some((Some(lo), Some(hi))) if lo < hi => Ok((name.trim(), Some((lo, hi)))),
        _ => Err(SpecError::new(
            "free",
            text,
            "NAME or NAME=LO:HI with LO < HI finite",
        )),
    }
}

/// A target's text split into its name, its value and its options.
fn split_target(text: &str) -> Result<(String, String, f64, f64), SpecError> {
    let bad = |why: &str| {
        SpecError::new(
            "target",
            text,
            format!("NAME=VALUE[:tol=T][:weight=W] with {why}"),
        )
    };
    let (name, rest) = text
        .split_once('=')
        .ok_or_else(|| bad("a NAME=VALUE pair"))?;
    let mut rest = rest.to_string();
    let (mut tol, mut weight) = (f64::NAN, 1.0);
    // Options from the right, so that a file name may hold ':'.
    while let Some(k) = rest.rfind(':') {
        let opt = &rest[k + 1..];
        let Some((key, val)) = opt.split_once('=') else {
            break;
        };
        let v: f64 = val
            .trim()
            .parse()
            .map_err(|_| bad("a number after tol= or weight="))?;
        match key.trim() {
            "tol" if v.is_finite() && v > 0.0 => tol = v,
            "weight" if v.is_finite() && v > 0.0 => weight = v,
            "tol" | "weight" => return Err(bad("tol and weight finite and > 0")),
            _ => return Err(bad("options tol= and weight= only")),
        }
        rest.truncate(k);
    }
    Ok((
        name.trim().to_string(),
        rest.trim().to_string(),
        tol,
        weight,
    ))
}

/// A quantity's name (`rest_mv`, `rate_hz@10`).
fn quantity(name: &str, text: &str) -> Result<Quantity, SpecError> {
    let (base, at) = match name.split_once('@') {
        Some((b, c)) => {
            let c: f64 = c.trim().parse().map_err(|_| {
                SpecError::new("target", text, "a finite current after @ (rate_hz@10)")
            })?;
            super::finite("target", c)?;
            (b.trim(), Some(c))
        }
        None => (name, None),
    };
    let q = match (base, at) {
        ("rest_mv", c) => Quantity::RestMv {
            current: c.unwrap_or(0.0),
        },
        ("input_resistance", c) => Quantity::InputResistance {
            current: c.unwrap_or(0.0),
        },
        ("hopf", None) => Quantity::Hopf,
        ("rheobase", None) => Quantity::Rheobase,
        ("onset", None) => Quantity::Onset,
        ("min_rate_hz", None) => Quantity::MinRateHz,
        ("rate_hz", Some(current)) => Quantity::RateHz { current },
        _ => {
            return Err(SpecError::new(
                "target",
                text,
                "rest_mv[@I], input_resistance[@I], hopf, rheobase, onset, min_rate_hz, rate_hz@I or fi=FILE.csv",
            ));
        }
    };
    Ok(q)
}

/// The default tolerance of a wanted value: 1% of its size, at least 1e-3.
fn default_tol(wanted: f64) -> f64 {
    (0.01 * wanted.abs()).max(1e-3)
}

/// The rows `(current, rate)` of an f-I CSV file (header with `i_ua_cm2` or `i`/`current`
/// and `rate_hz`).
pub fn read_fi_csv(path: &str) -> Result<Vec<(f64, f64)>, SpecError> {
    let bad = |why: String| SpecError::new("target", format!("fi={path}"), why);
    let text = crate::input::read_text(std::path::Path::new(path), crate::input::MAX_MODEL_BYTES)
        .map_err(|e| bad(format!("a readable CSV file ({e})")))?;
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    let headers = rdr
        .headers()
        .map_err(|e| bad(format!("a CSV file with a header ({e})")))?
        .clone();
    // The column of one of `names`; two of them (or one twice) are refused, since which one
    // the fit read would be a guess.
    let col = |names: &[&str]| -> Result<Option<usize>, SpecError> {
        let at: Vec<usize> = (headers.iter().enumerate())
            .filter(|(_, h)| names.contains(h))
            .map(|(k, _)| k + 1)
            .collect();
        match at[..] {
            [] => Ok(None),
            [k] => Ok(Some(k - 1)),
            _ => Err(bad(format!(
                "one column named {} (columns {} are)",
                names.join(" or "),
                at.iter()
                    .map(|k| k.to_string())
                    .collect::<Vec<_>>()
                    .join(" and ")
            ))),
        }
    };
    let (ci, cr) = match (
        col(&["i_ua_cm2", "i", "current"])?,
        col(&["rate_hz", "rate", "rate_per_1000t"])?,
    ) {
        (Some(a), Some(b)) => (a, b),
        _ => {
            return Err(bad(format!(
                "a CSV file with columns i_ua_cm2 and rate_hz (found: {})",
                headers.iter().collect::<Vec<_>>().join(", ")
            )));
        }
    };
    let mut rows = vec![];
    for (k, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| bad(format!("a well-formed CSV file ({e})")))?;
        let num = |c: usize| -> Result<f64, SpecError> {
            rec.get(c)
                .and_then(|v| v.parse::<f64>().ok())
                .filter(|v| v.is_finite())
                .ok_or_else(|| {
                    bad(format!(
                        "finite numbers in every row (row {} is not)",
                        k + 2
                    ))
                })
        };
        let (i, r) = (num(ci)?, num(cr)?);
        if r < 0.0 {
            return Err(bad(format!("rates >= 0 (row {} has {r})", k + 2)));
        }
        rows.push((i, r));
    }
    if rows.is_empty() {
        return Err(bad("at least one row".into()));
    }
    Ok(rows)
}

impl FitSpec {
    /// Check every setting that does not depend on the model (the syntax of free parameters
    /// and targets, the numbers); files and names are checked by [`FitSpec::problem`].
    pub fn validate(&self) -> Result<(), SpecError> {
        if self.free.is_empty() {
            return Err(SpecError::new(
                "free",
                "(none)",
                "at least one free parameter",
            ));
        }
        for f in &self.free {
            split_free(f)?;
        }
        if self.target.is_empty() {
            return Err(SpecError::new("target", "(none)", "at least one target"));
        }
        for t in &self.target {
            let (name, value, _, _) = split_target(t)?;
            if name != "fi" {
                quantity(&name, t)?;
                let v: f64 = value
                    .parse()
                    .map_err(|_| SpecError::new("target", t, "a finite number as the VALUE"))?;
                super::finite("target", v)?;
            } else if value.is_empty() {
                return Err(SpecError::new("target", t, "fi=FILE.csv"));
            }
        }
        super::count("starts", self.starts, 1, 64)?;
        if !(1..=100_000).contains(&self.max_iters) {
            return Err(SpecError::new("max_iters", self.max_iters, "1..=100000"));
        }
        super::range("from, to", self.from, self.to)?;
        super::positive("step", self.step)?;
        if (self.to - self.from) / self.step > 10_000.0 {
            return Err(SpecError::new(
                "step",
                short(self.step),
                "at most 10000 grid currents from `from` to `to`",
            ));
        }
        super::timing(self.t_max, self.dt, self.transient)?;
        super::bisection_tol("tol", self.tol)?;
        if let Some(t) = self.threshold {
            super::finite("threshold", t)?;
        }
        Ok(())
    }

    /// The free parameters and targets for `model`, every name, bound and file checked
    /// (nothing computed): an unknown parameter, bounds outside the parameter's range, a
    /// target the model's kind cannot produce, an unreadable CSV are refused here.
    pub fn problem(&self, model: &Model) -> Result<FitProblem, Error> {
        self.validate()?;
        let params = model.params();
        let mut free: Vec<Free> = vec![];
        for f in &self.free {
            let (name, bounds) = split_free(f)?;
            let index = params.index(name).ok_or_else(|| {
                SpecError::new(
                    "free",
                    name,
                    format!(
                        "a parameter of {}: {}",
                        model.name(),
                        params.names().join(", ")
                    ),
                )
            })?;
            if free.iter().any(|x| x.index == index) {
                return Err(SpecError::new("free", name, "each parameter once").into());
            }
            let p = params.param(index);
            if bounds.is_none() && !(p.min.is_finite() && p.max.is_finite()) {
                // An `.ode` parameter has no declared range: the search needs one.
                return Err(SpecError::new(
                    "free",
                    f,
                    format!(
                        "finite bounds, as {name}=LO:HI ({name} has no finite range of its own: {})",
                        p.range_text().trim_end()
                    ),
                )
                .into());
            }
            let (lo, hi) = bounds.unwrap_or((p.min, p.max));
            let inside = |v: f64| p.check(v).is_ok();
            if !(inside(lo) || (p.min_exclusive && lo == p.min)) || !inside(hi) {
                return Err(SpecError::new(
                    "free",
                    f,
                    format!("bounds inside {}'s range {}", p.name, p.range_text()),
                )
                .into());
            }
            // An excluded minimum is kept out of the search.
            let lo = if p.min_exclusive && lo <= p.min {
                p.min + 1e-9 * (hi - p.min).abs().max(1e-300)
            } else {
                lo
            };
            if !(lo..=hi).contains(&p.value) {
                return Err(SpecError::new(
                    "free",
                    f,
                    format!(
                        "bounds around the start value {} = {} {}",
                        p.name, p.value, p.unit
                    ),
                )
                .into());
            }
            free.push(Free {
                name: p.name.clone(),
                index,
                lo,
                hi,
            });
        }
        let mut targets = vec![];
        for t in &self.target {
            let (name, value, tol, weight) = split_target(t)?;
            if name == "fi" {
                for (i, r) in read_fi_csv(&value)? {
                    targets.push(Target {
                        quantity: Quantity::RateHz { current: i },
                        wanted: r,
                        tol: if tol.is_nan() {
                            default_tol(r).max(0.5)
                        } else {
                            tol
                        },
                        weight,
                        source: PathBuf::from(&value)
                            .file_name()
                            .map_or(value.clone(), |n| n.to_string_lossy().into_owned()),
                    });
                }
                continue;
            }
            let q = quantity(&name, t)?;
            let wanted: f64 = value.parse().unwrap_or(f64::NAN);
            targets.push(Target {
                quantity: q,
                wanted,
                tol: if tol.is_nan() {
                    default_tol(wanted)
                } else {
                    tol
                },
                weight,
                source: name.clone(),
            });
        }
        // What the model's kind can produce.
        for t in &targets {
            let q = t.quantity;
            if q.smooth() {
                let field = Field::of(model).map_err(|e| {
                    SpecError::new(
                        "target",
                        q.name(),
                        format!("a target this model can produce ({e})"),
                    )
                })?;
                if (q.current().is_some_and(|c| c != 0.0) || q == Quantity::Hopf)
                    && !field.has_current()
                {
                    return Err(SpecError::new(
                        "target",
                        q.name(),
                        format!(
                            "a target at zero current: `{}` has no injected current",
                            model.name()
                        ),
                    )
                    .into());
                }
            }
            if let Some(c) = q.current() {
                super::finite("target", c)?;
            }
        }
        let grid: Vec<f64> = (0..)
            .map(|k| self.from + k as f64 * self.step)
            .take_while(|&i| i <= self.to + 1e-9 * self.step)
            .collect();
        let sim = SimSettings {
            batch: BatchSettings {
                t_max: self.t_max,
                dt: self.dt,
                transient: self.transient,
                threshold_mv: self.threshold.unwrap_or(model.threshold_mv()),
                scheme: crate::simulate::batch::BatchScheme::ExpEuler,
                precision: crate::simulate::batch::Precision::F64,
                ode_method: crate::simulate::Method::Rk4,
            },
            tol: self.tol,
            grid,
            hopf_range: (self.from, self.to),
        };
        let problem = FitProblem::new(model.clone(), free, targets, sim);
        if self.method == FitMethod::GaussNewton && !problem.all_smooth() {
            return Err(SpecError::new(
                "method",
                "gauss-newton",
                "nelder-mead or auto when a target comes from simulation (rheobase, onset, rates)",
            )
            .into());
        }
        Ok(problem)
    }

    /// Check the settings against `model` and that the model at its start values produces
    /// every target (a rate on a model that does not fire there, a Hopf current where there
    /// is no Hopf point are refused): one evaluation, no fit.
    pub fn check_model(&self, model: &Model) -> Result<(), Error> {
        let problem = self.problem(model)?;
        let a = problem.achieved(&problem.start())?;
        let is_rate = |q: Quantity| matches!(q, Quantity::RateHz { .. } | Quantity::MinRateHz);
        // A rate of 0 is an answer where the model fires elsewhere; with no firing at any
        // rate target the model cannot produce a rate.
        let fires = problem
            .targets
            .iter()
            .zip(&a)
            .any(|(t, v)| is_rate(t.quantity) && *v > 0.0);
        for (t, v) in problem.targets.iter().zip(&a) {
            let q = t.quantity;
            if !v.is_finite() || (is_rate(q) && !fires && t.wanted > 0.0) {
                return Err(SpecError::new(
                    "target",
                    q.name(),
                    format!(
                        "a target `{}` produces at its start values (it gives {})",
                        model.label(),
                        if v.is_finite() {
                            format!("{v}")
                        } else {
                            "none".into()
                        }
                    ),
                )
                .into());
            }
        }
        Ok(())
    }

    /// What `model` achieves for targets named as in `--target` without a value (`rest_mv`,
    /// `hopf`, `rate_hz@10`), measured with this spec's settings (`free` and `target` are
    /// ignored): the numbers a recovery test fits back to.
    pub fn achieved_by(&self, model: &Model, names: &[&str]) -> Result<Vec<f64>, Error> {
        let first = model
            .params()
            .iter()
            .next()
            .map(|p| p.name.clone())
            .unwrap_or_default();
        let spec = FitSpec {
            free: vec![first],
            target: names.iter().map(|n| format!("{n}=1")).collect(),
            ..self.clone()
        };
        let p = spec.problem(model)?;
        p.achieved(&p.start())
    }

    /// Fit `model`.
    pub fn run(&self, model: &Model) -> Result<FitResult, Error> {
        self.run_with(model, &Silent)
    }

    /// Fit `model`; `observer` sees every iteration (task `fit iterations`) and can stop it.
    pub fn run_with(&self, model: &Model, observer: &dyn Observer) -> Result<FitResult, Error> {
        let started = Instant::now();
        let problem = self.problem(model)?;
        let method = match self.method {
            FitMethod::GaussNewton => Method::GaussNewton,
            FitMethod::NelderMead => Method::NelderMead,
            FitMethod::Auto if problem.all_smooth() => Method::GaussNewton,
            FitMethod::Auto => Method::NelderMead,
        };
        let p0 = problem.start();
        let mut starts = vec![p0.clone()];
        let mut rng = SplitMix(self.seed);
        for _ in 1..self.starts {
            starts.push(
                problem
                    .free
                    .iter()
                    .zip(&p0)
                    .map(|(f, &v)| {
                        let u = rng.unit();
                        let w = if v != 0.0 {
                            v * 2f64.powf(2.0 * u - 1.0)
                        } else {
                            f.lo + u * (f.hi - f.lo).min(1.0)
                        };
                        w.clamp(f.lo, f.hi)
                    })
                    .collect(),
            );
        }
        let settings = SolveSettings {
            method,
            max_iters: self.max_iters,
        };
        let start_achieved = problem.achieved(&p0)?;
        let (outcomes, history) = fit(&problem, &starts, settings, observer)?;
        let best = outcomes
            .iter()
            .enumerate()
            .min_by(|a, b| a.1.cost.total_cmp(&b.1.cost))
            .map_or(0, |(k, _)| k);
        let bp = outcomes[best].params.clone();
        let fitted = problem.model_at(&bp)?;
        let achieved = problem.achieved(&bp)?;
        let jacobian = sensitivity(&problem, &bp)?;
        // The fitted model's f-I curve over the rate targets' span, for the figure.
        let rates: Vec<f64> = problem
            .targets
            .iter()
            .filter_map(|t| match t.quantity {
                Quantity::RateHz { current } => Some(current),
                _ => None,
            })
            .collect();
        let fi_curve = if rates.is_empty() {
            vec![]
        } else {
            let lo = rates.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = rates.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let mut grid: Vec<f64> = (0..=40)
                .map(|k| lo + (hi - lo) * k as f64 / 40.0)
                .chain(rates.iter().copied())
                .collect();
            grid.sort_by(f64::total_cmp);
            grid.dedup();
            let c = problem.fi(&fitted, &grid)?;
            c.points
                .iter()
                .map(|p| {
                    let r = if p.summary.fires() {
                        p.summary.isi_rate_hz()
                    } else {
                        0.0
                    };
                    (p.current, r)
                })
                .collect()
        };
        Ok(FitResult {
            model: model.clone(),
            spec: self.clone(),
            fitted,
            free: problem.free.clone(),
            targets: problem.targets.clone(),
            start_achieved,
            achieved,
            method,
            outcomes,
            best,
            history,
            jacobian,
            fi_curve,
            seconds: started.elapsed().as_secs_f64(),
            source_text: None,
        })
    }
}

/// A small deterministic generator for the extra starts (SplitMix64).
struct SplitMix(u64);

impl SplitMix {
    fn unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

super::model_spec!(FitSpec, "fit", FitResult, |s, m| s.check_model(m), run_with);

#[cfg(test)]
mod tests {

    use super::*;

    /// A measured f-I file is read from its one current and one rate column; two columns that
    /// could each be the current are refused, naming both.
    #[test]
    fn an_fi_file_with_two_current_columns_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("fi.csv");
        std::fs::write(&p, "i_ua_cm2,rate_hz\n10,50\n20,70\n").unwrap();
        let path = p.to_str().unwrap();
        assert_eq!(read_fi_csv(path).unwrap(), [(10.0, 50.0), (20.0, 70.0)]);
        std::fs::write(&p, "i_ua_cm2,rate_hz,current\n10,50,1\n").unwrap();
        let e = read_fi_csv(path).unwrap_err().to_string();
        assert!(
            e.ends_with("allowed one column named i_ua_cm2 or i or current (columns 1 and 3 are)"),
            "{e}"
        );
    }

    /// The uncertainties and condition number against closed forms: a diagonal Jacobian, one
    /// target for three parameters, two parameters that only move a target together.
    #[test]
    fn uncertainty_and_condition_see_undetermined_directions() {
        let close = |a: &[f64], b: &[f64]| {
            a.len() == b.len()
                && a.iter().zip(b).all(|(x, y)| {
                    (x.is_infinite() && y.is_infinite()) || (x - y).abs() <= 1e-12 * y.abs()
                })
        };
        let diag = DMatrix::from_row_slice(2, 2, &[2.0, 0.0, 0.0, 4.0]);
        assert!(close(&uncertainty_of(&diag), &[0.5, 0.25]));
        assert!((condition_of(&diag) - 2.0).abs() < 1e-12);
        // (J^T J)^-1 of [[1, 1], [1, -1]] is I/2.
        let mixed = DMatrix::from_row_slice(2, 2, &[1.0, 1.0, 1.0, -1.0]);
        assert!(close(
            &uncertainty_of(&mixed),
            &[0.5f64.sqrt(), 0.5f64.sqrt()]
        ));
        // One target, three parameters: only the first is seen, and the fit is undetermined.
        let one = DMatrix::from_row_slice(1, 3, &[3.0, 0.0, 0.0]);
        let inf = f64::INFINITY;
        assert!(close(&uncertainty_of(&one), &[1.0 / 3.0, inf, inf]));
        assert_eq!(condition_of(&one), inf);
        // Two targets that see only the sum of two parameters; a third parameter seen alone.
        let sum = DMatrix::from_row_slice(2, 3, &[1.0, 1.0, 0.0, 0.0, 0.0, 2.0]);
        assert!(close(&uncertainty_of(&sum), &[inf, inf, 0.5]));
        assert_eq!(condition_of(&sum), inf);
        let bad = DMatrix::from_row_slice(1, 1, &[f64::NAN]);
        assert!(uncertainty_of(&bad)[0].is_nan() && condition_of(&bad).is_nan());
    }

    #[test]
    fn defaults_and_bad_values_name_their_field() {
        let ok = FitSpec {
            free: vec!["g_k".into()],
            target: vec!["rest_mv=-65".into()],
            ..Default::default()
        };
        ok.validate().unwrap();
        let bad = |f: &dyn Fn(&mut FitSpec)| crate::spec::refused_field(&ok, FitSpec::validate, f);
        assert_eq!(bad(&|s| s.free.clear()), "free");
        assert_eq!(bad(&|s| s.free = vec!["g_k=5:1".into()]), "free");
        assert_eq!(bad(&|s| s.target = vec!["spikes=3".into()]), "target");
        assert_eq!(bad(&|s| s.target = vec!["rest_mv=x".into()]), "target");
        assert_eq!(bad(&|s| s.target = vec!["hopf=9:tol=0".into()]), "target");
        assert_eq!(bad(&|s| s.starts = 0), "starts");
        assert_eq!(bad(&|s| s.to = -1.0), "from, to");
        assert_eq!(bad(&|s| s.dt = 0.0), "dt");
    }

    #[test]
    fn target_syntax() {
        assert_eq!(
            split_target("hopf=9.78:tol=1e-3:weight=2").unwrap(),
            ("hopf".into(), "9.78".into(), 1e-3, 2.0)
        );
        assert_eq!(
            quantity("rate_hz@12.5", "").unwrap(),
            Quantity::RateHz { current: 12.5 }
        );
        assert_eq!(Quantity::RestMv { current: 0.0 }.name(), "rest_mv");
    }
}
