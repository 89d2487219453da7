//! Two-parameter continuation of Hopf and fold points, and the codimension-two points met on
//! the way: Bautin (the first Lyapunov coefficient changes sign on a Hopf curve),
//! Bogdanov-Takens (a Hopf curve's frequency goes to zero where it meets a fold curve; on a
//! fold curve the left and right null vectors become orthogonal) and cusp (the fold's
//! quadratic normal-form coefficient vanishes).
//!
//! Each curve is the solution set of the same augmented systems that refine the points
//! ([`super::hopf`], [`super::fold`]) with the second parameter freed, followed by
//! pseudo-arclength continuation. Codimension-two points are located by linear interpolation
//! of the test function between adjacent curve points (steps are at most 1/200 of the box).

use super::fold::Fold;
use super::hopf::{Hopf, augmented_system, first_lyapunov};
use super::special::SpecialKind;
use super::system::{Family, Knob};
use crate::error::AnalysisError;
use crate::model::{Field, VectorField};
use crate::numerics::newton::newton;
use nalgebra::{DMatrix, DVector};

/// `f(y, lambda1, lambda2)` with two free quantities.
#[derive(Debug, Clone)]
pub struct Family2 {
    /// The model's equations.
    pub field: Field,
    /// Parameter values of the model; the entries of free parameters are overwritten by
    /// `lambda1`, `lambda2` at each evaluation.
    pub p: Vec<f64>,
    /// Injected current when it is not one of the two free quantities (uA/cm^2).
    pub i_ext: f64,
    /// The first free quantity (`lambda1`, the x axis of the diagram).
    pub k1: Knob,
    /// The second free quantity (`lambda2`, the y axis).
    pub k2: Knob,
    /// The two quantities' names as given (`i_ext` or parameter names).
    pub names: (String, String),
}

fn knob(field: &Field, name: &str) -> Result<Knob, AnalysisError> {
    Ok(Family::of_field(field.clone(), name, 0.0)?.knob)
}

impl Family2 {
    /// The family over `name1` and `name2` (`i_ext` or parameter names of `field`), every other
    /// value as in the model and the current at `i_ext` (uA/cm^2) unless it is free. Refuses
    /// an unknown name, or the same quantity twice.
    pub fn new(
        field: &Field,
        name1: &str,
        name2: &str,
        i_ext: f64,
    ) -> Result<Family2, AnalysisError> {
        let (k1, k2) = (knob(field, name1)?, knob(field, name2)?);
        if k1 == k2 {
            return Err(AnalysisError::UnknownParameter {
                name: format!("{name1},{name2}"),
                allowed: "two different parameters".into(),
            });
        }
        Ok(Family2 {
            field: field.clone(),
            p: field.params().values(),
            i_ext,
            k1,
            k2,
            names: (name1.to_string(), name2.to_string()),
        })
    }

    fn base(&self, k: Knob) -> f64 {
        match k {
            Knob::Current => self.i_ext,
            Knob::Param(i) => self.p[i],
        }
    }

    /// The units of the two parameters ([`Knob::unit`]; empty for a model without units).
    pub fn units(&self) -> (&str, &str) {
        (self.k1.unit(&self.field), self.k2.unit(&self.field))
    }

    /// Base values of the two parameters.
    pub fn base_values(&self) -> (f64, f64) {
        (self.base(self.k1), self.base(self.k2))
    }

    /// The one-parameter family over the first parameter with the second fixed at `l2`.
    pub fn slice(&self, l2: f64) -> Family {
        let mut p = self.p.clone();
        let mut i_ext = self.i_ext;
        match self.k2 {
            Knob::Current => i_ext = l2,
            Knob::Param(i) => p[i] = l2,
        }
        Family {
            field: self.field.clone(),
            p,
            i_ext,
            knob: self.k1,
        }
    }

    /// The one-parameter family over the second parameter with the first fixed at `l1`.
    pub fn slice2(&self, l1: f64) -> Family {
        let mut fam = Family {
            field: self.field.clone(),
            p: self.p.clone(),
            i_ext: self.i_ext,
            knob: self.k2,
        };
        match self.k1 {
            Knob::Current => fam.i_ext = l1,
            Knob::Param(i) => fam.p[i] = l1,
        }
        fam
    }

    /// `[df/dy | df/dl1 | df/dl2]` (n x (n+2)) and `f`: the one-parameter family's exact
    /// derivatives, plus the `l2` column from the family over `l2`.
    fn jacobian_full(&self, y: &[f64], l1: f64, l2: f64) -> (DMatrix<f64>, DVector<f64>) {
        let n = y.len();
        let (j1, f) = self.slice(l2).jacobian_full(y, l1);
        let (j2, _) = self.slice2(l1).jacobian_full(y, l2);
        (append_column(j1, j2.column(n).into_owned()), f)
    }

    /// `d(J q)/d(y, l1, l2)` (n x (n+2)), assembled the same way.
    fn jq_derivative(&self, y: &[f64], l1: f64, l2: f64, q: &[f64]) -> DMatrix<f64> {
        let n = y.len();
        let d1 = self.slice(l2).jacobian_times_derivative(y, l1, q);
        let d2 = self.slice2(l1).jacobian_times_derivative(y, l2, q);
        append_column(d1, d2.column(n).into_owned())
    }
}

/// `m` with `col` appended as its last column.
fn append_column(m: DMatrix<f64>, col: DVector<f64>) -> DMatrix<f64> {
    let k = m.ncols();
    let mut m = m.insert_column(k, 0.0);
    m.set_column(k, &col);
    m
}

/// Kind of a two-parameter curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CurveKind {
    /// A curve of Hopf points.
    Hopf,
    /// A curve of folds of equilibria.
    Fold,
    /// A curve of folds of cycles ([`super::codim2_cycles`]).
    FoldOfCycles,
    /// A curve of period-doubling points ([`super::codim2_cycles`]).
    PeriodDoubling,
}

impl CurveKind {
    /// The special point every point of the curve is.
    pub fn kind(self) -> SpecialKind {
        match self {
            CurveKind::Hopf => SpecialKind::Hopf,
            CurveKind::Fold => SpecialKind::Fold,
            CurveKind::FoldOfCycles => SpecialKind::FoldOfCycles,
            CurveKind::PeriodDoubling => SpecialKind::PeriodDoubling,
        }
    }

    /// Its name in tables ([`SpecialKind::name`]): `hopf`, `fold`, `fold_cycle` or
    /// `period_doubling`.
    pub fn name(self) -> &'static str {
        self.kind().name()
    }
}

/// One point of a two-parameter curve.
#[derive(Debug, Clone, PartialEq)]
pub struct CurvePoint {
    /// The first free quantity, in its own unit.
    pub l1: f64,
    /// The second free quantity, in its own unit.
    pub l2: f64,
    /// The equilibrium's first state variable (V, mV; in the file's units for an `.ode` model);
    /// on a curve of cycles the largest V on the orbit.
    pub v_mv: f64,
    /// Hopf: angular frequency (rad/ms); fold: NaN; a curve of cycles: `2 pi / T` of the orbit.
    pub omega: f64,
    /// Hopf: first Lyapunov coefficient; fold: the quadratic coefficient `p.B(v,v)/2`; a curve
    /// of cycles: NaN.
    pub coefficient: f64,
    /// Fold: the product of the eigenvalues other than the zero one (zero at
    /// Bogdanov-Takens); Hopf: `omega^2`; a curve of cycles: NaN.
    pub bt_test: f64,
}

/// A codimension-two point.
#[derive(Debug, Clone, PartialEq)]
pub struct Codim2 {
    /// [`SpecialKind::Bautin`], [`SpecialKind::BogdanovTakens`] or [`SpecialKind::Cusp`].
    pub kind: SpecialKind,
    /// The first free quantity there, in its own unit.
    pub l1: f64,
    /// The second free quantity there, in its own unit.
    pub l2: f64,
    /// The equilibrium's first state variable there (V, mV; file units for an `.ode` model).
    pub v_mv: f64,
}

/// A continued curve.
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    /// Whether this is a Hopf or a fold curve.
    pub kind: CurveKind,
    /// The points in order along the curve, from one end to the other.
    pub points: Vec<CurvePoint>,
    /// The codimension-two points found between adjacent points.
    pub specials: Vec<Codim2>,
    /// Why each of the two directions ended.
    pub ends: Vec<String>,
    /// For a Hopf curve ending at a Bogdanov-Takens point also found on a fold curve: the
    /// distance between the two locations (in units of the box), before the fold curve's
    /// replaced the Hopf curve's.
    pub bt_agreement: Option<f64>,
}

/// The box the curves live in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Box2 {
    /// Lower and upper bound of the first free quantity (its own unit).
    pub l1: (f64, f64),
    /// Lower and upper bound of the second free quantity (its own unit).
    pub l2: (f64, f64),
}

impl Box2 {
    fn contains(&self, a: f64, b: f64) -> bool {
        a >= self.l1.0 && a <= self.l1.1 && b >= self.l2.0 && b <= self.l2.1
    }
}

/// How many of the latest points the retrace check compares a new point with.
const RETRACE_WINDOW: usize = 400;

/// An underdetermined system: residual and Jacobian at a point.
type System<'a> = dyn Fn(&DVector<f64>) -> (DVector<f64>, DMatrix<f64>) + 'a;

/// Pseudo-arclength on `g(x) = 0` (m equations, m+1 unknowns) from `x0` along `dir`;
/// returns the points and why it stopped. Unknowns `n` and `n + 1` are the two parameters.
fn arclength(
    g: &System<'_>,
    x0: DVector<f64>,
    dir: f64,
    n: usize,
    bx: &Box2,
    max_points: usize,
    stop: &dyn Fn(&DVector<f64>) -> Option<String>,
) -> (Vec<DVector<f64>>, String) {
    let dim = x0.len();
    // Steps are measured in box units so both parameters count alike; state and auxiliary
    // unknowns (mV, gates, eigenvector, frequency) weigh in at 1/100 so the parameters set
    // the pace.
    let scale = DVector::from_fn(dim, |i, _| {
        if i == n {
            bx.l1.1 - bx.l1.0
        } else if i == n + 1 {
            bx.l2.1 - bx.l2.0
        } else {
            100.0
        }
    });
    let tangent = |x: &DVector<f64>, prev: &DVector<f64>| -> Option<DVector<f64>> {
        let (_, j) = g(x);
        let mut m = DMatrix::zeros(dim, dim);
        m.view_mut((0, 0), (dim - 1, dim)).copy_from(&j);
        m.row_mut(dim - 1).copy_from(&prev.transpose());
        let mut rhs = DVector::zeros(dim);
        rhs[dim - 1] = 1.0;
        let t = m.lu().solve(&rhs)?;
        let nrm = t.component_div(&scale).norm();
        (nrm > 0.0 && nrm.is_finite()).then(|| t / nrm)
    };
    // Initial direction: along the first parameter, signed by `dir`; where the curve runs
    // parallel to the second parameter's axis (a Hopf condition that does not involve it),
    // the first parameter's row makes the tangent's system singular, and the direction is
    // taken along the second parameter instead. Such a curve was six single "singular"
    // points, its Bautin point missed (`tests/closed_forms.rs`).
    let along = |k: usize| {
        let mut seed = DVector::zeros(dim);
        seed[k] = dir;
        tangent(&x0, &seed).map(|t| (t, k))
    };
    let Some((mut t, k)) = along(n).or_else(|| along(n + 1)) else {
        return (vec![x0], "singular at the start".into());
    };
    if t[k] * dir < 0.0 {
        t = -t;
    }
    let ds_max = 1.0 / 200.0;
    let mut ds = ds_max / 2.0;
    let mut x = x0;
    let mut pts = vec![x.clone()];
    let reason = loop {
        if pts.len() >= max_points {
            break format!("stopped after {max_points} points");
        }
        // `t` has unit length in the scaled norm; the corrector stays on the hyperplane
        // orthogonal to it in that norm.
        let pred = &x + &t * ds;
        let tt = t.component_div(&scale).component_div(&scale);
        match newton(on_hyperplane(g, &tt, &pred), pred.clone(), 1e-11, 10) {
            Ok((xn, its)) => {
                if bx.contains(x[n], x[n + 1]) && !bx.contains(xn[n], xn[n + 1]) {
                    // A step across the box's edge: the curve's last point is solved on the
                    // edge itself (its parameter held there, from the step's chord), so
                    // nothing beyond the box is listed (Connor-Stevens' g_A had reached
                    // -0.042 over a box, and the model's own range, from 0). Without a
                    // solution there the last point inside ends the curve.
                    if let Some(edge) = on_edge(g, bx, n, &x, &xn) {
                        pts.push(edge);
                    }
                    break "left the parameter box".into();
                }
                let Some(tn) = tangent(&xn, &t) else {
                    break "the extended system became singular".into();
                };
                x = xn;
                t = tn;
                pts.push(x.clone());
                if its <= 4 {
                    ds = (ds * 1.5).min(ds_max);
                }
                if !bx.contains(x[n], x[n + 1]) {
                    break "left the parameter box".into();
                }
                if let Some(why) = stop(&x) {
                    break why;
                }
                // A closed curve: back near the start after going round.
                if pts.len() > 20 && (&x - &pts[0]).component_div(&scale).norm() < 0.5 * ds_max {
                    break "closed on itself".into();
                }
                // Turned back onto its own track (past a Bogdanov-Takens point the Hopf
                // system retraces the curve with the frequency's sign flipped): stop rather
                // than list the same points and special points twice.
                // Measured in the state and the parameters against the last step's length
                // there, over the last RETRACE_WINDOW points (a retrace is seen within a few
                // steps of the turn).
                let projected = |a: &DVector<f64>, b: &DVector<f64>| {
                    (a.rows(0, n + 2) - b.rows(0, n + 2))
                        .component_div(&scale.rows(0, n + 2))
                        .norm()
                };
                let k = pts.len();
                if k > 4 {
                    let step = projected(&pts[k - 1], &pts[k - 2]);
                    let recent = &pts[k.saturating_sub(RETRACE_WINDOW)..k - 3];
                    if recent.iter().any(|p| projected(p, &x) < 0.1 * step) {
                        break "turned back onto its own track".into();
                    }
                }
            }
            Err(_) => {
                ds *= 0.5;
                if ds < ds_max * 1e-6 {
                    break "the corrector failed".into();
                }
            }
        }
    };
    (pts, reason)
}

/// The point of the curve on the box's edge between `inside` and `outside` (two successive
/// points, the first in the box): Newton with the crossed parameter held on the edge, from
/// the chord's point there, trying the edge the chord meets first, then the other one where
/// it leaves through a corner; `None` when both fail or land farther than the step.
fn on_edge(
    g: &System<'_>,
    bx: &Box2,
    n: usize,
    inside: &DVector<f64>,
    outside: &DVector<f64>,
) -> Option<DVector<f64>> {
    // The edges the chord crosses: the parameter, its bound, and how far along the chord.
    let mut crossings: Vec<(f64, usize, f64)> = [(n, bx.l1), (n + 1, bx.l2)]
        .into_iter()
        .filter_map(|(k, (lo, hi))| {
            let b = if outside[k] > hi {
                hi
            } else if outside[k] < lo {
                lo
            } else {
                return None;
            };
            Some(((b - inside[k]) / (outside[k] - inside[k]), k, b))
        })
        .collect();
    crossings.sort_by(|a, c| a.0.total_cmp(&c.0));
    let step = (outside - inside).norm();
    crossings.into_iter().find_map(|(f, k, b)| {
        let mut chord = inside + (outside - inside) * f;
        chord[k] = b;
        let mut normal = DVector::zeros(inside.len());
        normal[k] = 1.0;
        let (mut edge, _) =
            newton(on_hyperplane(g, &normal, &chord), chord.clone(), 1e-11, 10).ok()?;
        // Held there to Newton's tolerance: exactly on the edge.
        edge[k] = b;
        let other = if k == n { n + 1 } else { n };
        let (lo, hi) = if other == n { bx.l1 } else { bx.l2 };
        ((&edge - inside).norm() <= 2.0 * step && edge[other] >= lo && edge[other] <= hi)
            .then_some(edge)
    })
}

/// `g = 0` completed by `normal . (z - through) = 0`: the corrector's square system, whose
/// solutions lie on the curve and on the hyperplane through `through` orthogonal to `normal`.
fn on_hyperplane<'a>(
    g: &'a System<'_>,
    normal: &'a DVector<f64>,
    through: &'a DVector<f64>,
) -> impl Fn(&DVector<f64>) -> (DVector<f64>, DMatrix<f64>) + 'a {
    move |z: &DVector<f64>| {
        let dim = z.len();
        let (r, j) = g(z);
        let mut gg = DVector::zeros(dim);
        gg.rows_mut(0, dim - 1).copy_from(&r);
        gg[dim - 1] = normal.dot(&(z - through));
        let mut m = DMatrix::zeros(dim, dim);
        m.view_mut((0, 0), (dim - 1, dim)).copy_from(&j);
        m.row_mut(dim - 1).copy_from(&normal.transpose());
        (gg, m)
    }
}

/// Continue `g = 0` from `x0` in both directions ([`arclength`]) and join the halves into one
/// curve: from the end reached going backwards, through the start (once), to the end reached
/// going forwards. Returns the solutions, why each direction ended (backwards first).
fn both_ways(
    g: &System<'_>,
    x0: &DVector<f64>,
    n: usize,
    bx: &Box2,
    max_points: usize,
    stop: &dyn Fn(&DVector<f64>) -> Option<String>,
) -> (Vec<DVector<f64>>, Vec<String>) {
    let mut points = vec![];
    let mut ends = vec![];
    for dir in [-1.0, 1.0] {
        let (mut pts, why) = arclength(g, x0.clone(), dir, n, bx, max_points, stop);
        ends.push(why);
        if dir < 0.0 {
            pts.reverse();
            pts.pop();
        }
        points.extend(pts);
    }
    (points, ends)
}

/// Where `test` changes sign between adjacent solutions of `g = 0`: each located by
/// bisection along the chord between the two, every trial point corrected back onto the
/// curve on the hyperplane orthogonal to the chord (as the arclength corrector does), to
/// 1e-12 of the chord; `point` turns the located solution into a curve point.
fn located(
    g: &System<'_>,
    raw: &[DVector<f64>],
    test: &dyn Fn(&DVector<f64>) -> f64,
    kind: SpecialKind,
    point: &dyn Fn(&DVector<f64>) -> CurvePoint,
) -> Vec<Codim2> {
    let values: Vec<f64> = raw.iter().map(test).collect();
    (0..raw.len().saturating_sub(1))
        .filter(|&k| values[k].is_finite() && values[k + 1].is_finite())
        .filter(|&k| values[k] * values[k + 1] < 0.0)
        .map(|k| {
            let (xa, xb) = (&raw[k], &raw[k + 1]);
            let x = bisect_on_curve(g, xa, xb, values[k], test).unwrap_or_else(|| {
                // The corrector failed: linear interpolation between the two.
                let s = values[k] / (values[k] - values[k + 1]);
                xa + (xb - xa) * s
            });
            let p = point(&x);
            Codim2 {
                kind,
                l1: p.l1,
                l2: p.l2,
                v_mv: p.v_mv,
            }
        })
        .collect()
}

/// The solution of `g = 0` between `xa` and `xb` where `test` (of sign `ta` at `xa`) changes
/// sign; None if a correction fails.
fn bisect_on_curve(
    g: &System<'_>,
    xa: &DVector<f64>,
    xb: &DVector<f64>,
    ta: f64,
    test: &dyn Fn(&DVector<f64>) -> f64,
) -> Option<DVector<f64>> {
    let chord = xb - xa;
    let (mut lo, mut hi) = (0.0, 1.0);
    let mut best = None;
    while hi - lo > 1e-12 {
        let s = 0.5 * (lo + hi);
        let pred = xa + &chord * s;
        // A failed correction or an undefined test ends the search with what it has.
        let Ok((z, _)) = newton(on_hyperplane(g, &chord, &pred), pred.clone(), 1e-12, 12) else {
            return best;
        };
        let t = test(&z);
        if !t.is_finite() {
            return best;
        }
        if t * ta > 0.0 {
            lo = s;
        } else {
            hi = s;
        }
        best = Some(z);
    }
    best
}

/// Continue the Hopf point `h` (found at second parameter `l2`) in both directions.
pub fn hopf_curve(fam: &Family2, h: &Hopf, l2: f64, bx: &Box2, max_points: usize) -> Curve {
    let n = h.state.len();
    let c = DVector::from_vec(h.q_re.clone());
    let cc = c.dot(&c);
    let mut x0 = DVector::zeros(3 * n + 3);
    for i in 0..n {
        x0[i] = h.state[i];
        x0[n + 2 + i] = h.q_re[i] / cc;
        x0[2 * n + 2 + i] = h.q_im[i] / cc;
    }
    x0[n] = h.lambda;
    x0[n + 1] = l2;
    x0[3 * n + 2] = h.omega;
    let g = |x: &DVector<f64>| -> (DVector<f64>, DMatrix<f64>) {
        let ys = &x.as_slice()[..n];
        let (l1, l2) = (x[n], x[n + 1]);
        let vr = &x.as_slice()[n + 2..2 * n + 2];
        let vi = &x.as_slice()[2 * n + 2..3 * n + 2];
        let (jf, f) = fam.jacobian_full(ys, l1, l2);
        let dr = fam.jq_derivative(ys, l1, l2, vr);
        let di = fam.jq_derivative(ys, l1, l2, vi);
        augmented_system(&jf, &f, &dr, &di, vr, vi, x[3 * n + 2], &c)
    };
    // The frequency going to zero means a Bogdanov-Takens point: the Hopf curve ends there.
    // Past it the system has no real solution but the mirror one (omega < 0, the curve
    // retraced), so a change of sign ends it too.
    let stop = |x: &DVector<f64>| {
        (x[3 * n + 2].abs() < 1e-4 || x[3 * n + 2] * h.omega < 0.0)
            .then(|| "the frequency went to zero (Bogdanov-Takens)".to_string())
    };
    // `omega` keeps its sign (negative only on the step past Bogdanov-Takens).
    let point = |x: &DVector<f64>| {
        let (l1, l2, w) = (x[n], x[n + 1], x[3 * n + 2].abs());
        let slice = fam.slice(l2);
        let y = &x.as_slice()[..n];
        let a = slice.jacobian(y, l1);
        CurvePoint {
            l1,
            l2,
            v_mv: y[0],
            omega: x[3 * n + 2] * h.omega.signum(),
            coefficient: first_lyapunov(&slice, y, l1, &a, w).unwrap_or(f64::NAN),
            bt_test: x[3 * n + 2] * x[3 * n + 2],
        }
    };
    let (raw, ends) = both_ways(&g, &x0, n, bx, max_points, &stop);
    let points: Vec<CurvePoint> = raw.iter().map(point).collect();
    // The Lyapunov coefficient is meaningless past Bogdanov-Takens and blows up next to it
    // (it scales with 1/omega): Bautin points only where the frequency is at least a hundredth
    // of the curve's largest.
    let w_max = raw.iter().map(|x| x[3 * n + 2].abs()).fold(0.0, f64::max);
    let ringing: Vec<DVector<f64>> = raw
        .iter()
        .filter(|x| x[3 * n + 2] * h.omega > 0.0 && x[3 * n + 2].abs() > 1e-2 * w_max)
        .cloned()
        .collect();
    let lyapunov = |x: &DVector<f64>| point(x).coefficient;
    let mut specials = located(&g, &ringing, &lyapunov, SpecialKind::Bautin, &point);
    // Bogdanov-Takens where the frequency crosses zero. The Hopf system is singular there, so
    // this is an interpolation; the fold curve through the point locates it properly and
    // replaces it ([`two_parameter`]).
    let frequency = |x: &DVector<f64>| x[3 * n + 2] * h.omega.signum();
    specials.extend(located(
        &g,
        &raw,
        &frequency,
        SpecialKind::BogdanovTakens,
        &point,
    ));
    // The last point past the crossing is not a Hopf point: drop it.
    let points: Vec<CurvePoint> = points.into_iter().filter(|p| p.omega >= 0.0).collect();
    Curve {
        kind: CurveKind::Hopf,
        points,
        specials,
        ends,
        bt_agreement: None,
    }
}

/// Continue the fold `f` (found at second parameter `l2`) in both directions.
pub fn fold_curve(fam: &Family2, f: &Fold, l2: f64, bx: &Box2, max_points: usize) -> Curve {
    let n = f.state.len();
    let c = DVector::from_vec(f.null_vector.clone());
    let mut x0 = DVector::zeros(2 * n + 2);
    for i in 0..n {
        x0[i] = f.state[i];
        x0[n + 2 + i] = f.null_vector[i];
    }
    x0[n] = f.lambda;
    x0[n + 1] = l2;
    let g = |x: &DVector<f64>| -> (DVector<f64>, DMatrix<f64>) {
        let ys = &x.as_slice()[..n];
        let (l1, l2) = (x[n], x[n + 1]);
        let v = &x.as_slice()[n + 2..];
        let (jf, fv) = fam.jacobian_full(ys, l1, l2);
        let a = jf.columns(0, n);
        let jv = a * DVector::from_column_slice(v);
        let mut r = DVector::zeros(2 * n + 1);
        let mut m = DMatrix::zeros(2 * n + 1, 2 * n + 2);
        r.rows_mut(0, n).copy_from(&fv);
        r.rows_mut(n, n).copy_from(&jv);
        r[2 * n] = c.dot(&DVector::from_column_slice(v)) - 1.0;
        m.view_mut((0, 0), (n, n + 2)).copy_from(&jf);
        m.view_mut((n, 0), (n, n + 2))
            .copy_from(&fam.jq_derivative(ys, l1, l2, v));
        m.view_mut((n, n + 2), (n, n)).copy_from(&a);
        for i in 0..n {
            m[(2 * n, n + 2 + i)] = c[i];
        }
        (r, m)
    };
    let none = |_: &DVector<f64>| None;
    let point = |x: &DVector<f64>| {
        let (l1, l2) = (x[n], x[n + 1]);
        let slice = fam.slice(l2);
        let y = &x.as_slice()[..n];
        let v = DVector::from_column_slice(&x.as_slice()[n + 2..]);
        let a = slice.jacobian(y, l1);
        // Left null vector p (A^T p = 0), normalised p.v = 1 where possible.
        let p = left_null(&a);
        let vn = v.normalize();
        let pv = p.dot(&vn);
        let pv = if pv.abs() > 1e-300 { pv } else { 1e-300 };
        let b = slice.bilinear(y, l1, vn.as_slice(), vn.as_slice());
        // Bogdanov-Takens test: the product of the eigenvalues other than the fold's
        // own zero. Complex pairs contribute |mu|^2 > 0, so it changes sign exactly when
        // a second real eigenvalue passes through zero.
        let mut ev: Vec<_> = crate::numerics::balance::balance(&a)
            .complex_eigenvalues()
            .iter()
            .copied()
            .collect();
        ev.sort_by(|x, y| x.norm().total_cmp(&y.norm()));
        let others = ev
            .iter()
            .skip(1)
            .fold(nalgebra::Complex::new(1.0, 0.0), |acc, z| acc * z)
            .re;
        CurvePoint {
            l1,
            l2,
            v_mv: y[0],
            omega: f64::NAN,
            // p / (p.v) makes the coefficient independent of the sign of p.
            coefficient: 0.5 * p.dot(&b) / pv,
            bt_test: others,
        }
    };
    let (raw, ends) = both_ways(&g, &x0, n, bx, max_points, &none);
    let points: Vec<CurvePoint> = raw.iter().map(point).collect();
    let bt_test = |x: &DVector<f64>| point(x).bt_test;
    let mut specials = located(&g, &raw, &bt_test, SpecialKind::BogdanovTakens, &point);
    // The quadratic coefficient passes through zero at a cusp (and through infinity at a
    // Bogdanov-Takens point, where p.v = 0: not a cusp).
    let coefficient = |x: &DVector<f64>| point(x).coefficient;
    let cusps: Vec<Codim2> = located(&g, &raw, &coefficient, SpecialKind::Cusp, &point)
        .into_iter()
        .filter(|c| {
            !specials.iter().any(|b| {
                (b.l1 - c.l1).abs() + (b.l2 - c.l2).abs() < 1e-3 * (1.0 + c.l1.abs() + c.l2.abs())
            })
        })
        .collect();
    specials.extend(cusps);
    Curve {
        kind: CurveKind::Fold,
        points,
        specials,
        ends,
        bt_agreement: None,
    }
}

/// A unit left null vector of a (nearly) singular real matrix, sign fixed by its largest
/// component being positive.
fn left_null(a: &DMatrix<f64>) -> DVector<f64> {
    let svd = a.transpose().svd(false, true);
    let k = svd.singular_values.imin();
    let v = svd
        .v_t
        .map(|vt| vt.row(k).transpose())
        .unwrap_or_else(|| DVector::zeros(a.nrows()));
    let big = v
        .iter()
        .copied()
        .fold(0.0f64, |m, x| if x.abs() > m.abs() { x } else { m });
    if big < 0.0 { -v } else { v }
}

/// Lines `l2 = const` besides the model's own whose one-parameter diagrams seed curves.
pub const SEED_LINES: usize = 5;

/// The curves through a box, and what limits them: the seed lines whose one-parameter
/// diagram did not reach across the box (a curve crossing only the part one missed is not
/// traced).
#[derive(Debug, Clone)]
pub struct TwoParameter {
    /// The curves, each once.
    pub curves: Vec<Curve>,
    /// The seed lines not covered, in the order they were tried.
    pub uncovered: Vec<SeedGap>,
}

/// A seed line `l2 = line` whose one-parameter diagram did not cover the first parameter's
/// range: the parts no branch reached ([`super::diagram::Diagram::uncovered`]), why branches
/// stopped short ([`super::diagram::Diagram::cut_short`]), or the diagram's own failure.
#[derive(Debug, Clone, PartialEq)]
pub struct SeedGap {
    /// The second parameter's value on the line.
    pub line: f64,
    /// The parts of the first parameter's range no branch reached.
    pub gaps: Vec<(f64, f64)>,
    /// Why branches stopped short.
    pub stops: Vec<super::Stop>,
    /// The diagram's error, when it failed outright.
    pub failed: Option<String>,
}

/// Every Hopf and fold curve through the box that crosses the line `l2 = base value` or one
/// of [`SEED_LINES`] lines spread evenly across the box: the seeds come from the
/// one-parameter diagrams over the first parameter there.
pub fn two_parameter(
    fam: &Family2,
    bx: &Box2,
    max_points: usize,
) -> Result<TwoParameter, crate::error::Error> {
    two_parameter_with(fam, bx, max_points, &crate::progress::Silent)
}

/// [`two_parameter`], telling `observer` of each curve finished (and stopping when it says so).
pub fn two_parameter_with(
    fam: &Family2,
    bx: &Box2,
    max_points: usize,
    observer: &dyn crate::progress::Observer,
) -> Result<TwoParameter, crate::error::Error> {
    let kinds = [CurveKind::Hopf, CurveKind::Fold];
    let cycles = super::cycles::CycleSettings::default();
    two_parameter_kinds(fam, bx, max_points, &kinds, &cycles, &[], observer)
}

/// The curves of the `kinds` asked for through the box. Hopf and fold curves are seeded as
/// [`two_parameter`] says; curves of folds of cycles and of period doubling
/// ([`super::codim2_cycles`]) from the one-parameter diagram with cycles (`cycles` its
/// settings) on the line `l2 = base value`, one curve per fold of cycles or period doubling
/// there that no earlier curve passes through. `at2`: values of the second parameter where the
/// curves of cycles record a point exactly.
pub fn two_parameter_kinds(
    fam: &Family2,
    bx: &Box2,
    max_points: usize,
    kinds: &[CurveKind],
    cycles: &super::cycles::CycleSettings,
    at2: &[f64],
    observer: &dyn crate::progress::Observer,
) -> Result<TwoParameter, crate::error::Error> {
    super::check_max_points(max_points)?;
    cycles.validate()?;
    for (what, (lo, hi)) in [(&fam.names.0, bx.l1), (&fam.names.1, bx.l2)] {
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            return Err(AnalysisError::BadSetting {
                what: format!("range of {what}"),
                value: hi - lo,
                allowed: "finite, with from < to".into(),
            }
            .into());
        }
    }
    let tracker = crate::progress::Tracker::new(observer, "two-parameter curves", None);
    let (_, l2) = fam.base_values();
    if !(bx.l2.0..=bx.l2.1).contains(&l2) {
        return Err(AnalysisError::BadSetting {
            what: format!("range of {}", fam.names.1),
            value: l2,
            allowed: format!("a range containing the model's value {l2}"),
        }
        .into());
    }
    // The seed diagrams take the curves' limit on points (`--max-points`), so that a seed
    // cut short by it is mended by raising it.
    let settings = super::diagram::DiagramSettings {
        range: bx.l1,
        equilibria: super::Settings {
            max_points,
            ..super::Settings::default()
        },
        cycles: super::cycles::CycleSettings::default(),
        with_cycles: false,
    };
    // A seed already on a curve of the same kind: within 1e-3 of one of its segments in the
    // box's units and V's at 1/100 (the curves' own arclength scale). Two curves can pass
    // that close in the parameters at different states: Morris-Lecar's two folds over
    // (gk, phi) lie 0.0199 apart in gk at V -11.33 and -6.50, and over a box 20 wide the
    // second, compared in the parameters alone, was taken for the first and dropped.
    let on_curve = |curves: &[Curve], kind: CurveKind, a: f64, b: f64, v: f64| {
        let u = |l1: f64, l2: f64, v: f64| {
            [
                (l1 - bx.l1.0) / (bx.l1.1 - bx.l1.0),
                (l2 - bx.l2.0) / (bx.l2.1 - bx.l2.0),
                v / 100.0,
            ]
        };
        let q = u(a, b, v);
        curves.iter().filter(|c| c.kind == kind).any(|c| {
            c.points.windows(2).any(|w| {
                let (p, r) = (&w[0], &w[1]);
                segment_distance3(q, u(p.l1, p.l2, p.v_mv), u(r.l1, r.l2, r.v_mv)) < 1e-3
            })
        })
    };
    // Seeds from one-parameter diagrams on several lines across the box, the model's own
    // value first: a curve (a fold curve above all) need not cross the model's line.
    let mut lines = vec![l2];
    lines.extend(
        (0..SEED_LINES)
            .map(|k| bx.l2.0 + (k as f64 + 0.5) / SEED_LINES as f64 * (bx.l2.1 - bx.l2.0)),
    );
    let mut curves: Vec<Curve> = vec![];
    let mut uncovered: Vec<SeedGap> = vec![];
    let want = |k: CurveKind| kinds.contains(&k);
    let equilibrium_kinds = want(CurveKind::Hopf) || want(CurveKind::Fold);
    for (k, &line) in lines.iter().enumerate() {
        if !equilibrium_kinds {
            break;
        }
        let slice = fam.slice(line);
        let d = match super::diagram::diagram(&slice, &settings, observer) {
            Ok(d) => d,
            // The model's own line must work; another line may hold no equilibrium at all,
            // which is said with the lines cut short.
            Err(e) if k == 0 => return Err(e),
            Err(e) => {
                uncovered.push(SeedGap {
                    line,
                    gaps: vec![],
                    stops: vec![],
                    failed: Some(e.to_string()),
                });
                continue;
            }
        };
        // A seed diagram cut short seeds no curve that crosses its line only beyond the cut.
        let (gaps, stops) = (d.uncovered(bx.l1), d.cut_short());
        if !gaps.is_empty() || !stops.is_empty() {
            uncovered.push(SeedGap {
                line,
                gaps,
                stops: stops.into_iter().copied().collect(),
                failed: None,
            });
        }
        for h in d.hopfs.iter().filter(|_| want(CurveKind::Hopf)) {
            if !on_curve(&curves, CurveKind::Hopf, h.lambda, line, h.state[0]) {
                curves.push(hopf_curve(fam, h, line, bx, max_points));
                tracker.advance(1, &format!("Hopf curve from {:.4}", h.lambda))?;
            }
        }
        for f in d
            .equilibria
            .iter()
            .flat_map(|b| b.folds.iter())
            .filter(|_| want(CurveKind::Fold))
        {
            if !on_curve(&curves, CurveKind::Fold, f.lambda, line, f.state[0]) {
                curves.push(fold_curve(fam, f, line, bx, max_points));
                tracker.advance(1, &format!("fold curve from {:.4}", f.lambda))?;
            }
        }
    }
    let cycle_kinds = [CurveKind::FoldOfCycles, CurveKind::PeriodDoubling];
    if cycle_kinds.iter().any(|&k| want(k)) {
        let with_cycles = super::diagram::DiagramSettings {
            cycles: cycles.clone(),
            with_cycles: true,
            ..settings.clone()
        };
        let d = super::diagram::diagram(&fam.slice(l2), &with_cycles, observer)?;
        for (_, branch) in &d.cycles {
            for s in &branch.specials {
                let kind = match s.kind {
                    super::cycles::CycleEvent::Fold => CurveKind::FoldOfCycles,
                    super::cycles::CycleEvent::PeriodDoubling => CurveKind::PeriodDoubling,
                    _ => continue,
                };
                let Some(state) = s.state.as_ref().filter(|_| want(kind)) else {
                    continue;
                };
                // Folds of cycles close in the parameter (Hodgkin-Huxley's at 7.842 and
                // 7.918) differ in their period: a seed is on a curve when it lies within
                // 1e-3 of the box of one of its segments with the period there within 1%.
                let u = |l1: f64, l2: f64| {
                    (
                        (l1 - bx.l1.0) / (bx.l1.1 - bx.l1.0),
                        (l2 - bx.l2.0) / (bx.l2.1 - bx.l2.0),
                    )
                };
                let q = u(s.point.lambda, l2);
                let seen = curves.iter().filter(|c| c.kind == kind).any(|c| {
                    c.points.windows(2).any(|w| {
                        let (a, b) = (u(w[0].l1, w[0].l2), u(w[1].l1, w[1].l2));
                        let period = 2.0 * std::f64::consts::PI / w[0].omega;
                        segment_distance(q, a, b) < 1e-3
                            && (period - s.point.period).abs() < 0.01 * s.point.period
                    })
                });
                if seen {
                    continue;
                }
                if let Some(c) = super::codim2_cycles::cycle_curve(
                    fam, cycles, kind, state, l2, bx, max_points, at2,
                ) {
                    curves.push(c);
                    tracker.advance(
                        1,
                        &format!("{} curve from {:.4}", kind.name(), s.point.lambda),
                    )?;
                }
            }
        }
    }
    settle_bogdanov_takens(&mut curves, bx);
    Ok(TwoParameter { curves, uncovered })
}

/// Distance from `q` to the segment `a`-`b` (in the plane).
fn segment_distance(q: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    segment_distance3([q.0, q.1, 0.0], [a.0, a.1, 0.0], [b.0, b.1, 0.0])
}

/// Distance from `q` to the segment `a`-`b` (in space).
fn segment_distance3(q: [f64; 3], a: [f64; 3], b: [f64; 3]) -> f64 {
    let d: [f64; 3] = std::array::from_fn(|i| b[i] - a[i]);
    let len2: f64 = d.iter().map(|x| x * x).sum();
    let t = if len2 > 0.0 {
        ((0..3).map(|i| (q[i] - a[i]) * d[i]).sum::<f64>() / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    (0..3)
        .map(|i| (q[i] - a[i] - t * d[i]).powi(2))
        .sum::<f64>()
        .sqrt()
}

/// A Bogdanov-Takens point where a Hopf curve ends is also a zero of the fold curve's test
/// function, which locates it with a regular system. Where a fold curve's point lies within
/// 1e-2 of the box of a Hopf curve's, the Hopf curve takes the fold curve's location; the
/// distance between the two is the check [`Curve::bt_agreement`] records.
fn settle_bogdanov_takens(curves: &mut [Curve], bx: &Box2) {
    let folds: Vec<Codim2> = curves
        .iter()
        .filter(|c| c.kind == CurveKind::Fold)
        .flat_map(|c| c.specials.iter())
        .filter(|s| s.kind == SpecialKind::BogdanovTakens)
        .cloned()
        .collect();
    let dist = |a: &Codim2, b: &Codim2| {
        ((a.l1 - b.l1) / (bx.l1.1 - bx.l1.0)).hypot((a.l2 - b.l2) / (bx.l2.1 - bx.l2.0))
    };
    for c in curves.iter_mut().filter(|c| c.kind == CurveKind::Hopf) {
        for s in c.specials.iter_mut() {
            if s.kind != SpecialKind::BogdanovTakens {
                continue;
            }
            if let Some(f) = folds
                .iter()
                .filter(|f| dist(f, s) < 1e-2)
                .min_by(|a, b| dist(a, s).total_cmp(&dist(b, s)))
            {
                c.bt_agreement = Some(dist(f, s));
                *s = f.clone();
            }
        }
    }
}
