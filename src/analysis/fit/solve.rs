//! The optimisers of a [`FitProblem`], on argmin's executor: Gauss-Newton with
//! Levenberg-Marquardt damping ([`DampedGaussNewton`], an argmin [`Solver`] written here
//! because argmin's own Gauss-Newton needs a matrix type with an inverse, which argmin's `Vec`
//! backend lacks and whose nalgebra backend does not yet support our nalgebra 0.35) for smooth
//! targets with exact Jacobians, and argmin's Nelder-Mead for targets that come from
//! simulation. Several starts run in parallel (rayon); an argmin observer sends every
//! iteration to the progress [`Observer`] of the caller, which can stop the fit.
//!
//! The optimisers work in scaled coordinates `x_j = (p_j - p0_j) / s_j` with `s_j = |p0_j|`
//! (1 when `p0_j = 0`), so a unit step is a relative change whatever the parameter's unit;
//! trial points are clamped into the bounds. The cost is `sum_k w_k ((a_k - t_k) / tol_k)^2`
//! ([`Target::residual`] squared); a target the model does not produce at a trial point
//! (NaN) costs [`MISSING`] in Nelder-Mead and makes Gauss-Newton reject the step.

use super::{FitProblem, Target};
use crate::error::{AnalysisError, Error};
use crate::progress::{Cancelled, Observer, Tracker};
use argmin::core::observers::{Observe, ObserverMode};
use argmin::core::{
    CostFunction, Executor, IterState, KV, Problem, Solver, State, TerminationReason,
    TerminationStatus,
};
use argmin::solver::neldermead::NelderMead;
use nalgebra::{DMatrix, DVector};
use rayon::prelude::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Sender, channel};

/// The squared residual a target costs where the model does not produce it (no rest, no Hopf
/// point, no firing): far above any met target, finite so that Nelder-Mead can move away.
pub const MISSING: f64 = 1e8;

/// Which optimiser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Gauss-Newton with Levenberg-Marquardt damping on exact Jacobians (smooth targets).
    GaussNewton,
    /// Nelder-Mead on the cost (any target; simulation targets need it).
    NelderMead,
}

impl Method {
    /// `gauss-newton` or `nelder-mead`.
    pub fn name(self) -> &'static str {
        match self {
            Method::GaussNewton => "gauss-newton",
            Method::NelderMead => "nelder-mead",
        }
    }
}

/// One iteration of one start, as the observer saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct Iteration {
    /// Which start (0 = the model's own values).
    pub start: usize,
    /// The iteration (0 = the start point).
    pub iteration: u64,
    /// The cost at the iteration's best point.
    pub cost: f64,
    /// The free parameters there (their units).
    pub params: Vec<f64>,
}

/// The outcome of one start.
#[derive(Debug, Clone, PartialEq)]
pub struct StartOutcome {
    /// Which start.
    pub start: usize,
    /// The free parameters it started from.
    pub initial: Vec<f64>,
    /// The best parameters it reached.
    pub params: Vec<f64>,
    /// The cost there.
    pub cost: f64,
    /// Iterations run.
    pub iterations: u64,
    /// Why it stopped, in argmin's words.
    pub termination: String,
}

/// Settings of the optimisers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SolveSettings {
    /// The method.
    pub method: Method,
    /// Iterations per start at most.
    pub max_iters: u64,
}

/// Scaled coordinates around the first start.
#[derive(Debug, Clone)]
struct Scale {
    p0: Vec<f64>,
    s: Vec<f64>,
    lo: Vec<f64>,
    hi: Vec<f64>,
}

impl Scale {
    /// Steps relative to the problem's start.
    fn of(problem: &FitProblem) -> Scale {
        Scale::at(problem, problem.start())
    }
    /// Steps relative to `p0` (a parameter at 0 steps by one of its units).
    fn at(problem: &FitProblem, p0: Vec<f64>) -> Scale {
        Scale {
            s: p0
                .iter()
                .map(|&v| if v == 0.0 { 1.0 } else { v.abs() })
                .collect(),
            lo: problem.free.iter().map(|f| f.lo).collect(),
            hi: problem.free.iter().map(|f| f.hi).collect(),
            p0,
        }
    }
    fn p(&self, x: &[f64]) -> Vec<f64> {
        (0..x.len())
            .map(|j| (self.p0[j] + self.s[j] * x[j]).clamp(self.lo[j], self.hi[j]))
            .collect()
    }
    fn x(&self, p: &[f64]) -> Vec<f64> {
        (0..p.len())
            .map(|j| (p[j] - self.p0[j]) / self.s[j])
            .collect()
    }
}

/// A library error carried through argmin's error type and recovered after the run.
#[derive(Debug)]
struct Carried(Error);

impl std::fmt::Display for Carried {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Carried {}

fn carry(e: Error) -> argmin::core::Error {
    argmin::core::Error::new(Carried(e))
}

fn recover(e: argmin::core::Error) -> Error {
    match e.downcast::<Carried>() {
        Ok(Carried(e)) => e,
        Err(e) => AnalysisError::Numerical {
            what: "fit".into(),
            reason: e.to_string(),
        }
        .into(),
    }
}

/// The residuals of `targets` at `achieved` (NaN where not produced).
fn residuals(targets: &[Target], achieved: &[f64]) -> Vec<f64> {
    targets
        .iter()
        .zip(achieved)
        .map(|(t, &a)| t.residual(a))
        .collect()
}

/// The cost of residuals: the sum of squares, [`MISSING`] for each NaN.
pub fn cost(r: &[f64]) -> f64 {
    r.iter()
        .map(|x| if x.is_finite() { x * x } else { MISSING })
        .sum()
}

/// The problem as argmin sees it, in scaled coordinates.
struct Scaled<'a> {
    problem: &'a FitProblem,
    scale: Scale,
}

impl Scaled<'_> {
    /// Residuals and their Jacobian in scaled coordinates (exact).
    fn residuals_jacobian(&self, x: &[f64]) -> Result<(Vec<f64>, DMatrix<f64>), Error> {
        let p = self.scale.p(x);
        let (a, mut j) = self.problem.achieved_with_jacobian(&p)?;
        for (k, t) in self.problem.targets.iter().enumerate() {
            let f = t.weight.sqrt() / t.tol;
            for (c, s) in self.scale.s.iter().enumerate() {
                j[(k, c)] *= f * s;
            }
        }
        Ok((residuals(&self.problem.targets, &a), j))
    }
}

impl CostFunction for Scaled<'_> {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, x: &Vec<f64>) -> Result<f64, argmin::core::Error> {
        let a = self.problem.achieved(&self.scale.p(x)).map_err(carry)?;
        Ok(cost(&residuals(&self.problem.targets, &a)))
    }
}

/// Gauss-Newton with Levenberg-Marquardt damping (Marquardt's diagonal scaling) as an argmin
/// solver: each iteration solves `(J^T J + mu diag(J^T J)) d = -J^T r`, takes the step if the
/// cost falls (then `mu /= 3`), else raises `mu` 4-fold and tries again. It stops when the
/// step is below `1e-12` relative, the cost below `1e-26`, or `mu` above `1e12`.
#[derive(Debug, Clone)]
pub struct DampedGaussNewton {
    mu: f64,
    r: Vec<f64>,
    j: DMatrix<f64>,
    step: f64,
}

impl Default for DampedGaussNewton {
    fn default() -> Self {
        DampedGaussNewton {
            mu: 1e-3,
            r: vec![],
            j: DMatrix::zeros(0, 0),
            step: f64::INFINITY,
        }
    }
}

type Istate = IterState<Vec<f64>, (), (), (), (), f64>;

impl Solver<Scaled<'_>, Istate> for DampedGaussNewton {
    fn name(&self) -> &str {
        "Gauss-Newton (Levenberg-Marquardt damping)"
    }

    fn init(
        &mut self,
        problem: &mut Problem<Scaled<'_>>,
        state: Istate,
    ) -> Result<(Istate, Option<KV>), argmin::core::Error> {
        let x = state.get_param().cloned().unwrap_or_default();
        let (r, j) = problem.problem("jacobian_count", |p| {
            p.residuals_jacobian(&x).map_err(carry)
        })?;
        if r.iter().any(|v| !v.is_finite()) {
            return Err(carry(
                AnalysisError::Numerical {
                    what: "fit".into(),
                    reason: "a target is not produced at the start values".into(),
                }
                .into(),
            ));
        }
        let c = cost(&r);
        self.r = r;
        self.j = j;
        Ok((state.param(x).cost(c), None))
    }

    fn next_iter(
        &mut self,
        problem: &mut Problem<Scaled<'_>>,
        state: Istate,
    ) -> Result<(Istate, Option<KV>), argmin::core::Error> {
        let x = state.get_param().cloned().unwrap_or_default();
        let c0 = cost(&self.r);
        let jt = self.j.transpose();
        let a = &jt * &self.j;
        let g = &jt * DVector::from_column_slice(&self.r);
        loop {
            let mut m = a.clone();
            for d in 0..m.nrows() {
                m[(d, d)] += self.mu * a[(d, d)].max(1e-12);
            }
            let Some(d) = m.lu().solve(&(-&g)) else {
                self.mu *= 4.0;
                if self.mu > 1e12 {
                    self.step = 0.0;
                    return Ok((state, None));
                }
                continue;
            };
            let xn: Vec<f64> = x.iter().zip(d.iter()).map(|(a, b)| a + b).collect();
            // Clamped into the bounds (scaled).
            let (xn, trial) = problem.problem("jacobian_count", |p| {
                let xn = p.scale.x(&p.scale.p(&xn));
                let t = p.residuals_jacobian(&xn);
                Ok((xn, t))
            })?;
            let accepted = match trial {
                Ok((r, j)) if r.iter().all(|v| v.is_finite()) && cost(&r) <= c0 => Some((r, j)),
                _ => None,
            };
            match accepted {
                Some((r, j)) => {
                    let dx = x
                        .iter()
                        .zip(&xn)
                        .map(|(a, b)| (a - b).abs())
                        .fold(0.0, f64::max);
                    self.step = dx / (1.0 + x.iter().fold(0.0f64, |m, v| m.max(v.abs())));
                    self.mu = (self.mu / 3.0).max(1e-12);
                    let c = cost(&r);
                    self.r = r;
                    self.j = j;
                    return Ok((state.param(xn).cost(c), None));
                }
                None => {
                    self.mu *= 4.0;
                    if self.mu > 1e12 {
                        self.step = 0.0;
                        return Ok((state.param(x).cost(c0), None));
                    }
                }
            }
        }
    }

    fn terminate(&mut self, state: &Istate) -> TerminationStatus {
        if state.get_cost() < 1e-26 {
            return TerminationStatus::Terminated(TerminationReason::TargetCostReached);
        }
        if self.step < 1e-12 {
            return TerminationStatus::Terminated(TerminationReason::SolverConverged);
        }
        TerminationStatus::NotTerminated
    }
}

/// The argmin observer: every iteration goes to the caller's thread, which reports it to the
/// progress observer; when that says stop, the next iteration ends the run.
struct Relay {
    start: usize,
    scale: Scale,
    tx: Sender<Iteration>,
    stop: Arc<AtomicBool>,
}

impl Observe<Istate> for Relay {
    fn observe_init(&mut self, _: &str, state: &Istate, _: &KV) -> Result<(), argmin::core::Error> {
        self.observe_iter(state, &KV::new())
    }

    fn observe_iter(&mut self, state: &Istate, _: &KV) -> Result<(), argmin::core::Error> {
        if self.stop.load(Ordering::Relaxed) {
            return Err(carry(Cancelled.into()));
        }
        let x = state
            .get_best_param()
            .or(state.get_param())
            .cloned()
            .unwrap_or_default();
        let cost = if state.get_best_cost().is_finite() {
            state.get_best_cost()
        } else {
            state.get_cost()
        };
        let _ = self.tx.send(Iteration {
            start: self.start,
            iteration: state.get_iter(),
            cost,
            params: self.scale.p(&x),
        });
        Ok(())
    }
}

/// Run one start with argmin's executor.
fn run_start(
    problem: &FitProblem,
    scale: &Scale,
    start: usize,
    p_start: &[f64],
    settings: SolveSettings,
    tx: Sender<Iteration>,
    stop: Arc<AtomicBool>,
) -> Result<StartOutcome, Error> {
    // Each start has its own copy (its own Hopf cache).
    let own = problem.clone();
    let op = Scaled {
        problem: &own,
        scale: scale.clone(),
    };
    let x0 = scale.x(p_start);
    let relay = Relay {
        start,
        scale: scale.clone(),
        tx,
        stop,
    };
    let (x, c, iters, why) = match settings.method {
        Method::GaussNewton => {
            let r = Executor::new(op, DampedGaussNewton::default())
                .configure(|s| s.param(x0).max_iters(settings.max_iters))
                .add_observer(relay, ObserverMode::Always)
                .ctrlc(false)
                .run()
                .map_err(recover)?;
            let s = r.state();
            (
                s.get_best_param()
                    .or(s.get_param())
                    .cloned()
                    .unwrap_or_default(),
                s.get_best_cost(),
                s.get_iter(),
                s.get_termination_status().to_string(),
            )
        }
        Method::NelderMead => {
            // The simplex: the start and a 5% step along each scaled axis.
            let n = x0.len();
            let mut simplex = vec![x0.clone()];
            for j in 0..n {
                let mut v = x0.clone();
                v[j] += 0.05;
                simplex.push(v);
            }
            let nm = NelderMead::new(simplex)
                .with_sd_tolerance(1e-12)
                .map_err(recover)?;
            let r = Executor::new(op, nm)
                .configure(|s| s.max_iters(settings.max_iters))
                .add_observer(relay, ObserverMode::Always)
                .ctrlc(false)
                .run()
                .map_err(recover)?;
            let s = r.state();
            (
                s.get_best_param().cloned().unwrap_or_default(),
                s.get_best_cost(),
                s.get_iter(),
                s.get_termination_status().to_string(),
            )
        }
    };
    Ok(StartOutcome {
        start,
        initial: p_start.to_vec(),
        params: scale.p(&x),
        cost: c,
        iterations: iters,
        termination: why,
    })
}

/// Fit `problem` from every start in `starts` (free-parameter values), in parallel; returns
/// each start's outcome and every iteration seen, by start then iteration. `observer` sees the
/// iterations as they finish (task `fit iterations`) and can stop the fit.
pub fn fit(
    problem: &FitProblem,
    starts: &[Vec<f64>],
    settings: SolveSettings,
    observer: &dyn Observer,
) -> Result<(Vec<StartOutcome>, Vec<Iteration>), Error> {
    let scale = Scale::of(problem);
    let stop = Arc::new(AtomicBool::new(false));
    let tracker = Tracker::new(
        observer,
        "fit iterations",
        Some(settings.max_iters * starts.len() as u64),
    );
    let (tx, rx) = channel::<Iteration>();
    let mut history = vec![];
    let outcomes = std::thread::scope(|s| {
        let stop_w = stop.clone();
        let scale_w = scale.clone();
        let worker = s.spawn(move || {
            starts
                .par_iter()
                .enumerate()
                .map(|(k, p)| {
                    run_start(
                        problem,
                        &scale_w,
                        k,
                        p,
                        settings,
                        tx.clone(),
                        stop_w.clone(),
                    )
                })
                .collect::<Vec<_>>()
        });
        for it in rx {
            let detail = format!(
                "start {}, iteration {}, cost {:.4e}",
                it.start, it.iteration, it.cost
            );
            if tracker.advance(1, &detail).is_err() {
                stop.store(true, Ordering::Relaxed);
            }
            history.push(it);
        }
        worker.join()
    });
    let outcomes = outcomes.map_err(|_| AnalysisError::Numerical {
        what: "fit".into(),
        reason: "a fitting thread panicked".into(),
    })?;
    if stop.load(Ordering::Relaxed) {
        return Err(Cancelled.into());
    }
    let outcomes: Vec<StartOutcome> = outcomes.into_iter().collect::<Result<_, _>>()?;
    history.sort_by_key(|a| (a.start, a.iteration));
    // The observer sees init and each iteration; keep one row per (start, iteration).
    history.dedup_by(|a, b| a.start == b.start && a.iteration == b.iteration);
    Ok((outcomes, history))
}

/// The Jacobian of the scaled residuals at `p` (targets x free parameters, per unit relative
/// change of each parameter of `p`, not of the start: the fitted point's uncertainties must
/// not depend on where the fit began): exact for smooth targets, else by central differences
/// of 1e-3 relative. Its singular values say how well the targets determine the parameters.
pub fn sensitivity(problem: &FitProblem, p: &[f64]) -> Result<DMatrix<f64>, Error> {
    let scale = Scale::at(problem, p.to_vec());
    let op = Scaled {
        problem,
        scale: scale.clone(),
    };
    let x = scale.x(p);
    if problem.all_smooth() {
        return Ok(op.residuals_jacobian(&x)?.1);
    }
    let m = problem.targets.len();
    let mut j = DMatrix::zeros(m, x.len());
    let h = 1e-3;
    for c in 0..x.len() {
        let (mut a, mut b) = (x.clone(), x.clone());
        // x is in units of s (|p|, or 1 for a parameter at 0): a step of h in x is 1e-3
        // relative, or 1e-3 of the parameter's unit at 0.
        a[c] += h;
        b[c] -= h;
        let ra = residuals(&problem.targets, &problem.achieved(&scale.p(&a))?);
        let rb = residuals(&problem.targets, &problem.achieved(&scale.p(&b))?);
        for k in 0..m {
            j[(k, c)] = (ra[k] - rb[k]) / (a[c] - b[c]);
        }
    }
    Ok(j)
}
