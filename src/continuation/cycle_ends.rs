//! The ends of cycle branches whose period grows without bound: a saddle-node on an invariant
//! circle (SNIC) or a saddle homoclinic orbit.
//!
//! A branch stops with [`super::Stop::PeriodUnbounded`] when its period passes 500 times its
//! period at the Hopf point it started from, or 1e5, or when its parameter stops moving (the
//! last 10 points within 1e-9 relative, past 20 times the Hopf period: a homoclinic tail).
//! Past 20 times the Hopf period its steps may grow to 5% of the period. The last orbit then spends almost all of its time
//! near one point, its *bottleneck* (the node of the collocated orbit where `|f|` is
//! smallest). The end is classified from that point:
//!
//! - **SNIC**: a fold of equilibria of the diagram lies on the orbit: its state is within 5%
//!   of the orbit's V amplitude of the bottleneck (every component, each scaled by the
//!   orbit's range in V for V and by 1 for the others, as gates are in [0, 1]) and its
//!   parameter within 5% of the branch's parameter span. The end is located at the fold
//!   (refined to 1e-14 by [`super::fold::refine`]), and the period is fitted by the law of
//!   the saddle-node, `T = C / sqrt|lambda - lambda_SN| + D`. The normal form on the centre
//!   manifold, `dx/dt = a (lambda - lambda_SN) + b x^2` with `a = p.f_lambda`,
//!   `b = p.B(q, q) / 2` (`q`, `p` the right and left null vectors of the Jacobian, `p.q = 1`),
//!   predicts `C = pi / sqrt(a b)`; the fit's `C` is compared with it.
//! - **Saddle homoclinic**: away from every fold, Newton's method on `f = 0` from the
//!   bottleneck at the branch's last parameter reaches a saddle (one real positive eigenvalue
//!   `lambda_u`, the others with negative real part) that lies on the orbit (within 5% of the
//!   amplitude as above). The period is fitted by `T = D - b ln|lambda - lambda_hc|` and the
//!   end is located at the fitted `lambda_hc`; the law predicts `b = 1 / min(lambda_u,
//!   |lambda_s|)`, `lambda_s` the real part of the leading stable eigenvalue: the orbit's time
//!   near the saddle is set by the slower of the two directions, `lambda_u` where the cycle is
//!   stable (saddle quantity `lambda_u + lambda_s < 0`), `|lambda_s|` where it is unstable (it
//!   said `1 / lambda_u` for both, and called a right fit on an unstable cycle 165% off).
//! - Anything else (a bottleneck that is neither) is left unclassified, with a note.
//!
//! The fits use the branch's tail: the points from the end back to where the period was a
//! fifth of the last one, while the period keeps growing towards the end, without those
//! whose parameter is within 1e-9 (relative) of the last one (the corrector resolves the
//! parameter to about that, and on a homoclinic tail it changes by less). `lambda_*` is found by
//! golden-section search on the log of its distance beyond the last point, `C` (or `b`) and
//! `D` by linear least squares at each trial value, weighted by `1/T` (relative residuals).
//!
//! Bifurcations of cycles detected within 1e-6 (relative) of the located end are artefacts of
//! the tail (the branch's parameter changes there by less than the located precision, and with
//! three or more variables the tail's multipliers are not resolved:
//! [`CyclePoint::stability_settled`]); they are removed, with a note.
//!
//! A branch that runs out of points while winding near one parameter value (its last half
//! within 1e-6, relative, while the period keeps changing) ends with [`super::Stop::Winding`]
//! and a note ([`winding`]): more points are unlikely to take it further.

use super::cycles::{CycleBranch, CycleEvent, CyclePoint, CycleSpecial};
use super::fold::Fold;
use super::system::Family;
use nalgebra::{DMatrix, DVector};

/// Relative parameter spread under which a branch's last half winds at one value: the
/// resolution of the bifurcations dropped at an end ([`TAIL_RESOLUTION`]), below which the
/// branch's parameter says nothing more.
const WINDING_SPREAD: f64 = TAIL_RESOLUTION;

/// A branch's last half wound at one parameter value ([`winding`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Winding {
    /// The points of the last half.
    pub points: usize,
    /// The middle of their parameter range.
    pub at: f64,
    /// Their parameter range's width.
    pub spread: f64,
    /// Their shortest and longest period.
    pub periods: (f64, f64),
}

impl Winding {
    /// The branch's note in words, `knob` naming the parameter.
    pub fn note(&self, knob: &str) -> String {
        let (t0, t1) = self.periods;
        format!(
            "the last {} points of the cycle branch lie within {:.1e} of {knob} = {:.8} while the period ranges from {t0:.5} to {t1:.5}: the branch winds near one parameter value (folds and period doublings accumulate there; not classified), and more points or shorter steps are unlikely to take it further",
            self.points, self.spread, self.at
        )
    }
}

/// Whether the last half of `points` (at least 100 of them, so a short branch cut by a small
/// `max_points` is not judged) lies within 1e-6 (relative) of one parameter value while its
/// period varies by more than 10% (so the branch still moves, along the period): it winds
/// there (folds and period doublings accumulate at one parameter value, as near a homoclinic
/// orbit to a saddle-focus), and a larger point budget would not take it further. The branch
/// then ends with [`super::Stop::Winding`] instead of [`super::Stop::MaxPoints`] (whose advice
/// to raise the limit would mislead) or [`super::Stop::CorrectorFailed`] (the same end, out of
/// steps rather than points).
pub fn winding(points: &[CyclePoint]) -> Option<Winding> {
    let tail = &points[points.len() / 2..];
    if tail.len() < 100 {
        return None;
    }
    let range = |f: fn(&CyclePoint) -> f64| {
        tail.iter()
            .map(f)
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
                (a.min(x), b.max(x))
            })
    };
    let (l0, l1) = range(|p| p.lambda);
    let (t0, t1) = range(|p| p.period);
    let at = 0.5 * (l0 + l1);
    let wound = l1 - l0 <= WINDING_SPREAD * (1.0 + at.abs()) && t1 - t0 > 0.1 * t1;
    wound.then_some(Winding {
        points: tail.len(),
        at,
        spread: l1 - l0,
        periods: (t0, t1),
    })
}

/// How a cycle branch ends when its period grows without bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndKind {
    /// Saddle-node on an invariant circle: the orbit runs through a fold of equilibria.
    Snic,
    /// Saddle homoclinic orbit: the orbit runs into a saddle away from any fold.
    Homoclinic,
}

/// A scaling law `T = coefficient * g(|lambda - lambda_end|) + offset` fitted on a branch's
/// tail, with `g(d) = 1/sqrt(d)` at a SNIC and `g(d) = -ln d` at a homoclinic orbit.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalingFit {
    /// The fitted end of the branch (`lambda_SN` or `lambda_hc`), in the parameter's unit.
    pub lambda: f64,
    /// SNIC: `C` (ms times the square root of the parameter's unit); homoclinic: `b` (ms),
    /// the law's `1 / min(lambda_u, |lambda_s|)`.
    pub coefficient: f64,
    /// `D` (ms): the time spent away from the bottleneck, to leading order.
    pub offset: f64,
    /// Points of the tail used.
    pub points: usize,
    /// Root-mean-square relative residual of the period.
    pub rms: f64,
}

/// The located end of a cycle branch.
#[derive(Debug, Clone, PartialEq)]
pub struct CycleEnd {
    /// SNIC or saddle homoclinic.
    pub kind: EndKind,
    /// Where the branch ends, in the parameter's unit: the fold's parameter at a SNIC, the
    /// fitted `lambda_hc` at a homoclinic orbit.
    pub lambda: f64,
    /// The equilibrium the orbit runs into (the saddle-node, or the saddle at `lambda`).
    pub state: Vec<f64>,
    /// The scaling law fitted on the tail.
    pub fit: ScalingFit,
    /// What the theory predicts for the fit's coefficient: `pi / sqrt(a b)` from the fold's
    /// normal form at a SNIC; `1 / min(lambda_u, |lambda_s|)` (ms) at a homoclinic orbit.
    pub predicted: f64,
    /// The saddle's unstable eigenvalue `lambda_u` (1/ms) at a homoclinic orbit; NaN at a SNIC.
    pub unstable_eigenvalue: f64,
    /// The real part of the saddle's leading stable eigenvalue `lambda_s` (the one nearest
    /// zero; 1/ms) at a homoclinic orbit; NaN at a SNIC.
    pub stable_eigenvalue: f64,
    /// The last cycle computed on the branch.
    pub last: CyclePoint,
}

impl CycleEnd {
    /// Whether `lambda` lies within [`TAIL_RESOLUTION`] (relative) of the end: where the
    /// branch's parameter says nothing more, so bifurcations found there are dropped.
    pub fn near(&self, lambda: f64) -> bool {
        (lambda - self.lambda).abs() <= TAIL_RESOLUTION * (1.0 + self.lambda.abs())
    }
}

/// How far (relative) a fitted law's coefficient may lie from the prediction before the
/// summary says the fit does not hold. The tests ask 2-3% on tails that reach the law's range;
/// a tail that ends before it (a homoclinic orbit near a Hopf point) misses by far more, so 10%
/// separates the two without flagging a good fit's next-order terms.
pub const LAW_AGREEMENT: f64 = 0.1;

/// Relative distance from the last orbit's parameter within which a fold of equilibria is
/// the branch's end whatever lies on the orbit ([`classify`]).
pub const FOLD_AT_END: f64 = 1e-4;

/// Relative distance under which a bifurcation of cycles is an artefact of the tail.
pub const TAIL_RESOLUTION: f64 = 1e-6;

/// The node of `nodes` (the collocated orbit's node values, `n` per node) where `|f|` is
/// smallest at `lambda`: where the orbit moves slowest.
pub fn bottleneck(fam: &Family, nodes: &[f64], n: usize, lambda: f64) -> Vec<f64> {
    nodes
        .chunks_exact(n)
        .map(|y| (fam.f(y, lambda).norm(), y))
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, y)| y.to_vec())
        .unwrap_or_default()
}

/// The tail of a branch for the fits: `(lambda, T)` from the end back to where the period was
/// a fifth of the last, while it grows towards the end, without the points within 1e-9
/// (relative) of the last parameter. A homoclinic tail can freeze early: the parameter's
/// distance to the end falls like `exp(-T / b)`, below the corrector's resolution once the
/// period passes a few tens of `b`, and steps of `ds_max` in the period then leave fewer than
/// the fit's 4 resolved points within a fifth of the last period (the Bogdanov-Takens normal
/// form's branch: 3 points between T = 25.7 and 31, then 30 frozen up to 129). The window is
/// then measured from the last resolved point instead.
fn tail(points: &[CyclePoint]) -> Vec<(f64, f64)> {
    let Some(last) = points.last() else {
        return vec![];
    };
    let resolved =
        |p: &CyclePoint| (p.lambda - last.lambda).abs() > 1e-9 * (1.0 + last.lambda.abs());
    let window = |reference: f64| {
        let mut out = vec![];
        let mut above = f64::INFINITY;
        for p in points.iter().rev() {
            if p.period < reference / 5.0 || p.period > above || p.multipliers.is_empty() {
                break;
            }
            above = p.period;
            if resolved(p) {
                out.push((p.lambda, p.period));
            }
        }
        out.reverse();
        out
    };
    let out = window(last.period);
    if out.len() >= 4 {
        return out;
    }
    match points.iter().rev().find(|p| resolved(p)) {
        Some(p) => window(p.period),
        None => out,
    }
}

/// Weighted least squares of `T = c g + d` (weights `1/T`); `(c, d, rms relative residual)`.
fn linear_fit(data: &[(f64, f64)], g: impl Fn(f64) -> f64) -> (f64, f64, f64) {
    let rows: Vec<(f64, f64, f64)> = data
        .iter()
        .map(|&(l, t)| (g(l) / t, 1.0 / t, 1.0))
        .collect();
    let (mut s11, mut s12, mut s22, mut b1, mut b2) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for &(x, y, r) in &rows {
        s11 += x * x;
        s12 += x * y;
        s22 += y * y;
        b1 += x * r;
        b2 += y * r;
    }
    let det = s11 * s22 - s12 * s12;
    let c = (b1 * s22 - b2 * s12) / det;
    let d = (s11 * b2 - s12 * b1) / det;
    let rms = (rows
        .iter()
        .map(|&(x, y, r)| (c * x + d * y - r).powi(2))
        .sum::<f64>()
        / rows.len() as f64)
        .sqrt();
    (c, d, rms)
}

/// Fit `T = c g(|lambda - lambda_*|) + d` on `data`, with `lambda_*` beyond the last point in
/// the direction `dir` (+1 or -1) the branch moves, found by golden-section search on
/// `ln |lambda_* - lambda_last|` (after a scan of 200 values) between `1e-13 (1 + |lambda|)`
/// and 10 times the tail's span.
fn fit_law(data: &[(f64, f64)], dir: f64, g: impl Fn(f64) -> f64 + Copy) -> Option<ScalingFit> {
    if data.len() < 4 {
        return None;
    }
    let last = data[data.len() - 1].0;
    let span = (data[0].0 - last).abs().max(1e-12);
    let lo = (1e-13 * (1.0 + last.abs())).ln();
    let hi = (10.0 * span).ln();
    let at = |u: f64| {
        let star = last + dir * u.exp();
        let (c, d, rms) = linear_fit(data, |l| g((l - star).abs()));
        (
            if rms.is_finite() { rms } else { f64::INFINITY },
            c,
            d,
            star,
        )
    };
    let scan = 200;
    let k = (0..=scan)
        .map(|k| lo + (hi - lo) * k as f64 / scan as f64)
        .min_by(|&a, &b| at(a).0.total_cmp(&at(b).0))?;
    let step = (hi - lo) / scan as f64;
    let (mut a, mut b) = (k - step, k + step);
    let r = 0.5 * (5f64.sqrt() - 1.0);
    for _ in 0..100 {
        let (x1, x2) = (b - r * (b - a), a + r * (b - a));
        if at(x1).0 < at(x2).0 {
            b = x2;
        } else {
            a = x1;
        }
    }
    let (rms, coefficient, offset, lambda) = at(0.5 * (a + b));
    Some(ScalingFit {
        lambda,
        coefficient,
        offset,
        points: data.len(),
        rms,
    })
}

/// Fit the SNIC law `T = C / sqrt|lambda - lambda_SN| + D` on the tail of `points`.
pub fn fit_snic(points: &[CyclePoint]) -> Option<ScalingFit> {
    let data = tail(points);
    let dir = direction(&data)?;
    fit_law(&data, dir, |d| 1.0 / d.sqrt())
}

/// Fit the homoclinic law `T = D - b ln|lambda - lambda_hc|` on the tail of `points`.
pub fn fit_homoclinic(points: &[CyclePoint]) -> Option<ScalingFit> {
    let data = tail(points);
    let dir = direction(&data)?;
    fit_law(&data, dir, |d| -d.ln())
}

/// The direction the tail moves in the parameter (sign of last minus first).
fn direction(data: &[(f64, f64)]) -> Option<f64> {
    let (a, b) = (data.first()?.0, data.last()?.0);
    (a != b).then(|| (b - a).signum())
}

/// `pi / sqrt(a b)`: the coefficient `C` of `T = C / sqrt|lambda - lambda_SN|` the normal form
/// `dx/dt = a (lambda - lambda_SN) + b x^2` of the fold predicts (`a = p.f_lambda`,
/// `b = p.B(q, q)/2`, `p.q = 1`).
pub fn snic_coefficient(fam: &Family, fold: &Fold) -> f64 {
    let n = fold.state.len();
    let (jf, _) = fam.jacobian_full(&fold.state, fold.lambda);
    let a = jf.columns(0, n).into_owned();
    let q = DVector::from_column_slice(&fold.null_vector);
    let svd = a.transpose().svd(false, true);
    let k = svd.singular_values.imin();
    let Some(vt) = svd.v_t else {
        return f64::NAN;
    };
    let mut p = vt.row(k).transpose();
    p /= p.dot(&q);
    let alpha = p.dot(&jf.column(n));
    let beta = 0.5
        * p.dot(&fam.bilinear(
            &fold.state,
            fold.lambda,
            &fold.null_vector,
            &fold.null_vector,
        ));
    std::f64::consts::PI / (alpha * beta).abs().sqrt()
}

/// Whether `y` lies on the orbit near `b` (the bottleneck): V within 5% of the amplitude, every
/// other component within 0.05.
fn near(y: &[f64], b: &[f64], amplitude: f64) -> bool {
    y.iter().zip(b).enumerate().all(|(i, (u, v))| {
        let scale = if i == 0 { amplitude } else { 1.0 };
        (u - v).abs() < 0.05 * scale
    })
}

/// The unstable eigenvalue of a saddle with a one-dimensional unstable manifold (one real
/// eigenvalue > 0, the others with negative real part); `None` otherwise.
fn saddle_eigenvalue(j: &DMatrix<f64>) -> Option<(f64, f64)> {
    let ev = crate::numerics::balance::balance(j).complex_eigenvalues();
    let unstable: Vec<_> = ev.iter().filter(|z| z.re > 0.0).collect();
    let leading_stable = ev
        .iter()
        .filter(|z| z.re < 0.0)
        .map(|z| z.re)
        .fold(f64::NEG_INFINITY, f64::max);
    match unstable.as_slice() {
        [z] if z.im.abs() < 1e-12 * (1.0 + z.re.abs()) && leading_stable.is_finite() => {
            Some((z.re, leading_stable))
        }
        _ => None,
    }
}

/// Classify and locate the end of `branch`, whose period grew without bound, given the folds
/// of equilibria of its diagram. `Err` says in words why it is neither a SNIC nor a saddle
/// homoclinic orbit.
pub fn classify(fam: &Family, branch: &CycleBranch, folds: &[Fold]) -> Result<CycleEnd, String> {
    let last = branch
        .points
        .last()
        .ok_or_else(|| "the branch is empty".to_string())?;
    let b = branch
        .bottleneck
        .as_ref()
        .ok_or_else(|| "no bottleneck was recorded".to_string())?;
    let amplitude = last.v_max - last.v_min;
    let (lmin, lmax) = branch
        .points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, c), p| {
            (a.min(p.lambda), c.max(p.lambda))
        });
    let span = (lmax - lmin).max(1e-12);
    let fold = folds
        .iter()
        .filter(|f| (f.lambda - last.lambda).abs() < 0.05 * span && near(&f.state, b, amplitude))
        .min_by(|x, y| {
            (x.lambda - last.lambda)
                .abs()
                .total_cmp(&(y.lambda - last.lambda).abs())
        });
    // On the firing side of a SNIC no equilibrium lies on the orbit: the saddle and the node
    // are born at the fold. A saddle on the last orbit means the orbit ends on it, even with
    // a fold of equilibria nearby in state and parameter (a fold 0.023 uA/cm^2 above a saddle
    // homoclinic end, the cycle passing the fold with a finite period, had been called a
    // SNIC). Only a fold at the end itself (within `FOLD_AT_END`, where the corrector may
    // still find a near-root of a nearly singular system on the orbit) overrides it.
    let on_orbit = fam.equilibrium_near(b, last.lambda);
    let saddle_on_orbit = on_orbit
        .as_ref()
        .is_some_and(|(y, j)| near(y, b, amplitude) && saddle_eigenvalue(j).is_some());
    let fold = fold.filter(|f| {
        !saddle_on_orbit
            || (f.lambda - last.lambda).abs() <= FOLD_AT_END * (1.0 + last.lambda.abs())
    });
    if let Some(f) = fold {
        let fit = fit_snic(&branch.points)
            .ok_or_else(|| "too few points on the tail to fit the SNIC law".to_string())?;
        return Ok(CycleEnd {
            kind: EndKind::Snic,
            lambda: f.lambda,
            state: f.state.clone(),
            fit,
            predicted: snic_coefficient(fam, f),
            unstable_eigenvalue: f64::NAN,
            stable_eigenvalue: f64::NAN,
            last: last.clone(),
        });
    }
    let (y, j) = on_orbit.ok_or_else(|| {
        format!(
            "the slowest point of the last orbit (V = {:.4}) is near no equilibrium",
            b[0]
        )
    })?;
    if !near(&y, b, amplitude) {
        return Err(format!(
            "the slowest point of the last orbit (V = {:.4}) is not on an equilibrium (nearest V = {:.4})",
            b[0], y[0]
        ));
    }
    let Some(_) = saddle_eigenvalue(&j) else {
        return Err(format!(
            "the equilibrium on the last orbit (V = {:.4}) is not a saddle with one unstable direction",
            y[0]
        ));
    };
    let fit = fit_homoclinic(&branch.points)
        .ok_or_else(|| "too few points on the tail to fit the homoclinic law".to_string())?;
    // The saddle at the located parameter.
    let (state, (lu, ls)) = match fam.equilibrium_near(&y, fit.lambda) {
        Some((s, j)) => match saddle_eigenvalue(&j) {
            Some(eigenvalues) => (s, eigenvalues),
            None => return Err("the saddle changed type at the fitted end".into()),
        },
        None => return Err("no saddle at the fitted end".into()),
    };
    Ok(CycleEnd {
        kind: EndKind::Homoclinic,
        lambda: fit.lambda,
        state,
        fit,
        predicted: 1.0 / lu.min(-ls),
        unstable_eigenvalue: lu,
        stable_eigenvalue: ls,
        last: last.clone(),
    })
}

/// Classify the end of `branch` ([`classify`]) and record it: [`CycleBranch::end`], a special
/// point of kind `snic` or `homoclinic` at the located parameter (period infinite, V range of
/// the last orbit), and a note. Bifurcations of cycles within [`TAIL_RESOLUTION`] (relative)
/// of the end are removed as artefacts of the tail, with a note. An end that is neither kind
/// gets a note saying why.
pub fn settle_end(fam: &Family, branch: &mut CycleBranch, folds: &[Fold]) {
    let knob = fam.knob_name();
    match classify(fam, branch, folds) {
        Ok(mut end) => {
            // A homoclinic law that does not fit extrapolates to no particular parameter
            // (Connor-Stevens: b = -827 against a predicted 96 at NTST 60, 22 at NTST 200, the
            // two ends 2.6e-7 apart): the end is then the last orbit's parameter, where the
            // tail has frozen, and the spread of the last ten orbits is said.
            let off = (end.fit.coefficient / end.predicted - 1.0).abs();
            let mut placed = String::new();
            let fits = off <= LAW_AGREEMENT;
            if end.kind == EndKind::Homoclinic && !fits {
                let (lo, hi) = (branch.points.iter().rev().take(10))
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
                        (a.min(p.lambda), b.max(p.lambda))
                    });
                end.lambda = end.last.lambda;
                placed = format!(
                    "; the end is put at the last orbit's {knob}, the last ten orbits spreading over {:.1e} in it",
                    hi - lo
                );
            }
            let before = branch.specials.len();
            branch.specials.retain(|s| !end.near(s.point.lambda));
            let dropped = before - branch.specials.len();
            if dropped > 0 {
                branch.notes.push(format!(
                    "{dropped} bifurcation(s) of cycles within {TAIL_RESOLUTION:e} of the branch's end at {knob} = {:.8} dropped: the tail resolves the parameter no better",
                    end.lambda
                ));
            }
            branch.end = Some(end.clone());
            if let Some(turn) = branch.tail_turns_stable() {
                branch.notes.push(format!(
                    "within {TAIL_RESOLUTION:e} of the end the orbits turn stable from period {:.5} on (at {knob} = {:.10}), as the saddle quantity lambda_u + lambda_s = {:.6} < 0 makes cycles near the homoclinic loop stable: a fold of cycles lies before them, not located (the tail resolves the parameter no better)",
                    turn.period,
                    turn.lambda,
                    end.unstable_eigenvalue + end.stable_eigenvalue
                ));
            }
            if let Some(first) = branch.unclaimed_tail().first() {
                let past = branch.unclaimed_tail()[1..]
                    .iter()
                    .filter(|p| p.stable_and_settled())
                    .count();
                branch.notes.push(format!(
                    "within {TAIL_RESOLUTION:e} of the end the orbits are unstable from period {:.5} on (at {knob} = {:.10}), where no special point is located (the tail resolves the parameter no better); {past} orbit(s) past it whose multipliers say stable are not counted as stable cycles",
                    first.period, first.lambda
                ));
            }
            let (kind, words) = match end.kind {
                EndKind::Snic => (
                    CycleEvent::Snic,
                    format!(
                        "a SNIC at {knob} = {:.8} (the fold of equilibria at V = {:.4}); T = C/sqrt|{knob} - {knob}_SN| + D fitted on {} points gives {knob}_SN = {:.8}, C = {:.5} (the fold's normal form: {:.5})",
                        end.lambda, end.state[0], end.fit.points, end.fit.lambda, end.fit.coefficient, end.predicted
                    ),
                ),
                EndKind::Homoclinic => (
                    CycleEvent::Homoclinic,
                    format!(
                        "a saddle homoclinic orbit at {knob} = {:.8} (the saddle at V = {:.4}, eigenvalues lambda_u = {:.6} and lambda_s = {:.6}); T = D - b ln|{knob} - {knob}_hc| fitted on {} points gives b = {:.5} (1/min(lambda_u, |lambda_s|) = {:.5})",
                        end.lambda, end.state[0], end.unstable_eigenvalue, end.stable_eigenvalue, end.fit.points, end.fit.coefficient, end.predicted
                    ),
                ),
            };
            // A law that does not fit is said, not left for the reader to spot: the kind then
            // rests on where the orbit ends (a fold, or a saddle away from one).
            let caveat = if off <= LAW_AGREEMENT {
                String::new()
            } else if off.is_finite() {
                format!(
                    "; the fitted coefficient is {:.0}% off the prediction, so the tail is not in \
                     the law's range and the kind rests on where the orbit ends",
                    100.0 * off
                )
            } else {
                "; the law's coefficient could not be compared with the prediction, so the kind \
                 rests on where the orbit ends"
                    .to_string()
            };
            branch
                .notes
                .push(format!("the cycle branch ends on {words}{caveat}{placed}"));
            let mut point = end.last.clone();
            point.lambda = end.lambda;
            point.period = f64::INFINITY;
            branch.specials.push(CycleSpecial {
                kind,
                point,
                state: None,
                after: branch.points.len().saturating_sub(1),
            });
            branch.end = Some(end);
        }
        Err(why) => branch.notes.push(format!(
            "the period grew without bound near {knob} = {:.6}, but the end is neither a SNIC nor a saddle homoclinic orbit: {why}",
            branch.points.last().map_or(f64::NAN, |p| p.lambda)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(lambda: f64, period: f64) -> CyclePoint {
        CyclePoint {
            lambda,
            period,
            v_max: 0.0,
            v_min: 0.0,
            multipliers: vec![crate::numerics::eigen::C64::new(1.0, 0.0)],
            trace_integral: 0.0,
            peak_state: vec![],
        }
    }

    /// A branch whose last half winds within 1e-7 of one value while its period swings gets
    /// the note; one that still moves (spread 1e-5), one whose period is steady, and one too
    /// short to judge do not.
    #[test]
    fn a_branch_winding_at_one_parameter_value_is_named() {
        let branch = |spread: f64, swing: f64, n: usize| -> Vec<CyclePoint> {
            (0..n)
                .map(|k| {
                    let x = (k as f64 * 0.3).sin();
                    point(1.26 * (1.0 + spread * x), 1000.0 * (1.0 + swing * x))
                })
                .collect()
        };
        let w = winding(&branch(1e-7, 0.4, 400)).expect("winding");
        assert_eq!(w.points, 200);
        // (The samples of the sine are not symmetric: the middle of their range is within
        // half the spread of 1.26, not at it.)
        assert!((w.at - 1.26).abs() < 0.5 * w.spread, "{w:?}");
        assert!(w.spread > 2.4e-7 && w.spread <= 2.52e-7, "{w:?}");
        assert!(w.periods.0 < 601.0 && w.periods.1 > 1399.0, "{w:?}");
        let note = w.note("i_ext");
        assert!(note.contains("the last 200 points"), "{note}");
        assert!(note.contains("i_ext = 1.26000000"), "{note}");
        assert!(winding(&branch(1e-5, 0.4, 400)).is_none());
        assert!(winding(&branch(1e-7, 0.01, 400)).is_none());
        assert!(winding(&branch(1e-7, 0.4, 150)).is_none());
    }

    #[test]
    fn the_snic_fit_recovers_a_known_law() {
        // T = 3 / sqrt(lambda - 2) + 5, approached from above; fitted to 1e-8.
        let pts: Vec<CyclePoint> = (0..40)
            .map(|k| {
                let d = 0.5 * 0.8f64.powi(k);
                point(2.0 + d, 3.0 / d.sqrt() + 5.0)
            })
            .collect();
        let fit = fit_snic(&pts).unwrap();
        assert!((fit.lambda - 2.0).abs() < 1e-8, "{fit:?}");
        assert!((fit.coefficient - 3.0).abs() < 1e-6, "{fit:?}");
        assert!((fit.offset - 5.0).abs() < 1e-5, "{fit:?}");
    }

    #[test]
    fn the_homoclinic_fit_recovers_a_known_law() {
        // T = 7 - 4 ln(1 - lambda), approached from below; fitted to 1e-8.
        let pts: Vec<CyclePoint> = (0..30)
            .map(|k| {
                let d = 0.1 * 0.6f64.powi(k);
                point(1.0 - d, 7.0 - 4.0 * d.ln())
            })
            .collect();
        let fit = fit_homoclinic(&pts).unwrap();
        assert!((fit.lambda - 1.0).abs() < 1e-8, "{fit:?}");
        assert!((fit.coefficient - 4.0).abs() < 1e-6, "{fit:?}");
    }

    #[test]
    fn a_tail_stops_where_the_period_stops_growing() {
        let mut pts = vec![point(0.0, 100.0), point(0.5, 50.0)];
        pts.extend((1..6).map(|k| point(0.5 + k as f64, 50.0 + 10.0 * k as f64)));
        let t = tail(&pts);
        assert_eq!(t.first(), Some(&(0.5, 50.0)));
        // And where the period falls below a fifth of the last.
        let pts: Vec<_> = (1..=10).map(|k| point(k as f64, 10.0 * k as f64)).collect();
        assert_eq!(tail(&pts).first(), Some(&(2.0, 20.0)));
        // The last point itself is kept out (within 1e-9 of itself).
        assert_eq!(t.len(), 5);
    }
}
