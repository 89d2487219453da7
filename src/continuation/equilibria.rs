//! Equilibrium branches by pseudo-arclength continuation (Keller): predictor along the tangent,
//! Newton corrector on the hyperplane orthogonal to it, step size adapted to the corrector's
//! effort. Stability comes from the eigenvalues at every point; a change in the number of
//! unstable eigenvalues flags a fold (a real one crosses and the branch turns back), a branch
//! point (a real one crosses and [`branch_point::test_value`] changes sign: another branch
//! crosses, whether this one goes on or turns there) or a Hopf point (a complex pair), which
//! is then refined by Newton on its augmented system.

use super::branch_point::{self, BranchPoint};
use super::fold::{self, Fold};
use super::hopf::{self, Hopf};
use super::system::Family;
use super::{Settings, Stop, outside_range, parameter_eps};
use crate::error::AnalysisError;
use crate::numerics::eigen::{C64, eigen};
use crate::numerics::newton::newton;
use nalgebra::{DMatrix, DVector};

/// One computed point of an equilibrium branch.
#[derive(Debug, Clone, PartialEq)]
pub struct EqPoint {
    /// The continued parameter, in its own unit ([`crate::continuation::Knob::unit`]).
    pub lambda: f64,
    /// The equilibrium state `[V, gates…]` (V in mV; file units for an `.ode` model).
    pub state: Vec<f64>,
    /// Eigenvalues (1/ms), by decreasing real part.
    pub eigenvalues: Vec<C64>,
    /// How many eigenvalues have a positive real part.
    pub n_unstable: usize,
}

impl EqPoint {
    /// Whether the equilibrium is stable: no eigenvalue with a positive real part.
    pub fn stable(&self) -> bool {
        self.n_unstable == 0
    }
}

/// A continued equilibrium branch with its special points.
#[derive(Debug, Clone, PartialEq)]
pub struct EqBranch {
    /// The equilibria in continuation order.
    pub points: Vec<EqPoint>,
    /// Folds (saddle-nodes) located on the branch.
    pub folds: Vec<Fold>,
    /// Hopf points located on the branch.
    pub hopfs: Vec<Hopf>,
    /// Branch points (another branch of equilibria crosses this one) located on the branch.
    pub branch_points: Vec<BranchPoint>,
    /// Special points seen but not refined, in words.
    pub notes: Vec<String>,
    /// Why the branch ended.
    pub stop: Stop,
}

/// `(y, lambda)` as one vector.
fn join(y: &[f64], lambda: f64) -> DVector<f64> {
    DVector::from_iterator(y.len() + 1, y.iter().copied().chain([lambda]))
}

/// Unit tangent at `u` oriented like `prev` (the null vector of `[J | J_lambda]`).
fn tangent(jf: &DMatrix<f64>, prev: &DVector<f64>) -> Option<DVector<f64>> {
    let n = jf.nrows();
    let mut m = DMatrix::zeros(n + 1, n + 1);
    m.view_mut((0, 0), (n, n + 1)).copy_from(jf);
    m.row_mut(n).copy_from(&prev.transpose());
    let mut rhs = DVector::zeros(n + 1);
    rhs[n] = 1.0;
    let t = m.lu().solve(&rhs)?;
    let norm = t.norm();
    (norm.is_finite() && norm > 0.0).then(|| t / norm)
}

/// The corrector's system at `x`: `f = 0` and the step's end on the hyperplane through `pred`
/// normal to `normal` (`normal . (x - pred) = 0`), with its Jacobian `[J f_lambda; normal^T]`.
pub(super) fn on_hyperplane(
    fam: &Family,
    pred: &DVector<f64>,
    normal: &DVector<f64>,
    x: &DVector<f64>,
) -> (DVector<f64>, DMatrix<f64>) {
    let n = fam.dim();
    let (jf, f) = fam.jacobian_full(&x.as_slice()[..n], x[n]);
    let mut g = DVector::zeros(n + 1);
    g.rows_mut(0, n).copy_from(&f);
    g[n] = normal.dot(&(x - pred));
    let mut m = DMatrix::zeros(n + 1, n + 1);
    m.view_mut((0, 0), (n, n + 1)).copy_from(&jf);
    m.row_mut(n).copy_from(&normal.transpose());
    (g, m)
}

fn point(fam: &Family, u: &DVector<f64>) -> Result<EqPoint, AnalysisError> {
    let n = fam.dim();
    let y = &u.as_slice()[..n];
    let eig = eigen(&fam.jacobian(y, u[n]))?;
    let eigenvalues: Vec<C64> = eig.iter().map(|e| e.value).collect();
    Ok(EqPoint {
        lambda: u[n],
        state: y.to_vec(),
        n_unstable: eigenvalues.iter().filter(|z| z.re > 0.0).count(),
        eigenvalues,
    })
}

/// Continue the equilibrium `(y0, lambda0)` of `fam` while lambda stays in `[lo, hi]`, starting
/// towards increasing lambda if `upward`.
pub fn continue_branch(
    fam: &Family,
    y0: &[f64],
    lambda0: f64,
    range: (f64, f64),
    upward: bool,
    settings: &Settings,
) -> Result<EqBranch, AnalysisError> {
    let n = fam.dim();
    let mut dir = DVector::zeros(n + 1);
    dir[n] = if upward { 1.0 } else { -1.0 };
    continue_along(fam, y0, lambda0, range, &dir, settings)
}

/// The first arclength step of a branch continued with `settings` over `(lo, hi)`.
pub fn first_step(settings: &Settings, (lo, hi): (f64, f64)) -> f64 {
    settings.ds_max.unwrap_or((hi - lo) / 100.0) / 10.0
}

/// Continue the equilibrium `(y0, lambda0)` of `fam` while lambda stays in `[lo, hi]`, starting
/// along the branch's tangent oriented like `dir` (a direction in `(y, lambda)`: a switched
/// branch leaves its branch point along the crossing direction).
pub fn continue_along(
    fam: &Family,
    y0: &[f64],
    lambda0: f64,
    (lo, hi): (f64, f64),
    dir: &DVector<f64>,
    settings: &Settings,
) -> Result<EqBranch, AnalysisError> {
    let n = fam.dim();
    let span = hi - lo;
    let ds_max = settings.ds_max.unwrap_or(span / 100.0);
    let ds_min = ds_max * 1e-6;
    let mut ds = first_step(settings, (lo, hi));
    let mut u = join(y0, lambda0);
    let (jf, _) = fam.jacobian_full(y0, lambda0);
    let mut t = tangent(&jf, dir).ok_or_else(|| AnalysisError::Numerical {
        what: format!("equilibrium branch at {} = {lambda0}", fam.knob_name()),
        reason: "the start is singular (a fold or a continuum of equilibria)".into(),
    })?;
    if t.dot(dir) < 0.0 {
        t = -t;
    }
    let mut points = vec![point(fam, &u)?];
    let mut tangents = vec![t.clone()];
    let mut bp_tests = vec![branch_point::test_value(&jf, &t)];
    // Whether the branch has gone further than four steps from its first point: coming back
    // within a step and a half of it after that closes the curve ([`Stop::ClosedLoop`]).
    let first = u.clone();
    let mut went_away = false;
    let stop = loop {
        if points.len() >= settings.max_points {
            break Stop::MaxPoints(settings.max_points);
        }
        let pred = &u + &t * ds;
        let system = |x: &DVector<f64>| on_hyperplane(fam, &pred, &t, x);
        match newton(system, pred.clone(), settings.tol, 12) {
            Ok((unew, its)) if (&unew - &u).norm() < 3.0 * ds.abs() => {
                // A step from inside the range across one of its ends: the branch ends on that
                // end, its last point solved there at the bound itself (Newton at the fixed
                // parameter from the step's chord), so the table holds nothing beyond the
                // range (a parameter bounded below, a conductance at 0, had rows at -10.08
                // over a range from -10, and past its own bound 0) and nothing is left out up
                // to the end. A step from a point on the end itself stops there.
                let outside = |l: f64| outside_range(l, (lo, hi));
                let (unew, at_end) = if !outside(u[n]) && outside(unew[n]) {
                    let b = if unew[n] > hi { hi } else { lo };
                    if (u[n] - b).abs() <= parameter_eps(b) {
                        break Stop::LeftRange(u[n]);
                    }
                    let mut chord = &u + (&unew - &u) * ((b - u[n]) / (unew[n] - u[n]));
                    chord[n] = b;
                    let mut normal = DVector::zeros(n + 1);
                    normal[n] = 1.0;
                    let fixed = |x: &DVector<f64>| on_hyperplane(fam, &chord, &normal, x);
                    match newton(fixed, chord.clone(), settings.tol, 12) {
                        Ok((end, _)) if (&end - &u).norm() < 3.0 * ds.abs() => (end, true),
                        // No equilibrium at the bound near the step: the branch ends on its
                        // last point inside the range rather than on one beyond it.
                        _ => break Stop::LeftRange(u[n]),
                    }
                } else {
                    (unew, false)
                };
                let p_new = point(fam, &unew)?;
                if ds > 16.0 * ds_min && !step_resolves_spectrum(points.last(), &p_new) {
                    // An eigenvalue moved too far for its distance to the imaginary axis: a
                    // step this long could cross the axis and come back unseen.
                    ds *= 0.5;
                    continue;
                }
                let (jf, _) = fam.jacobian_full(&unew.as_slice()[..n], unew[n]);
                let Some(tnew) = tangent(&jf, &t) else {
                    break Stop::Singular(unew[n]);
                };
                u = unew;
                t = tnew;
                points.push(p_new);
                bp_tests.push(branch_point::test_value(&jf, &t));
                tangents.push(t.clone());
                if its <= 3 {
                    ds = (ds * 1.4).min(ds_max);
                } else if its > 6 {
                    ds *= 0.6;
                }
                if at_end || u[n] < lo || u[n] > hi {
                    break Stop::LeftRange(u[n]);
                }
                let from_first = (&u - &first).norm();
                if went_away && from_first < 1.5 * ds && t.dot(&tangents[0]) > 0.0 {
                    // Confirmed by the corrector: from here, the branch's point on the
                    // hyperplane through the first point (normal to its tangent) is the first
                    // point itself, not another sheet passing close by. The first point is
                    // appended, so the closing step is searched for events too.
                    let back = |x: &DVector<f64>| on_hyperplane(fam, &first, &tangents[0], x);
                    let closes = newton(back, u.clone(), settings.tol, 12)
                        .is_ok_and(|(x, _)| (&x - &first).norm() <= 1e-6 * (1.0 + first.norm()));
                    if closes {
                        points.push(points[0].clone());
                        tangents.push(tangents[0].clone());
                        bp_tests.push(bp_tests[0]);
                        break Stop::ClosedLoop(u[n]);
                    }
                }
                went_away |= from_first > 4.0 * ds;
                if u[0].abs() > crate::model::V_LIMIT {
                    break Stop::Diverged(u[n]);
                }
            }
            _ => {
                ds *= 0.5;
                if ds < ds_min {
                    break Stop::CorrectorFailed(u[n]);
                }
            }
        }
    };
    let found = locate_special(fam, &points, &tangents, &bp_tests);
    Ok(EqBranch {
        points,
        folds: found.folds,
        hopfs: found.hopfs,
        branch_points: found.branch_points,
        notes: found.notes,
        stop,
    })
}

/// One branch from a downward half and an upward half that start at the same point.
pub fn join_halves(down: EqBranch, up: EqBranch) -> EqBranch {
    let mut points: Vec<_> = down.points.into_iter().skip(1).rev().collect();
    points.extend(up.points);
    let mut branch_points = down.branch_points;
    for bp in up.branch_points {
        if !branch_points.iter().any(|o| o.same_as(&bp)) {
            branch_points.push(bp);
        }
    }
    EqBranch {
        points,
        folds: down.folds.into_iter().chain(up.folds).collect(),
        hopfs: down.hopfs.into_iter().chain(up.hopfs).collect(),
        branch_points,
        notes: down.notes.into_iter().chain(up.notes).collect(),
        stop: up.stop,
    }
}

/// Largest change of an eigenvalue's real part per step, as a fraction of its distance to the
/// imaginary axis (at the nearer end of the step).
const SPECTRUM_STEP: f64 = 0.5;

/// Whether the step from `old` to `new` is short enough for the spectrum: every eigenvalue's
/// real part (the lists sorted alike, which pairs them to within their own spacing) changed by
/// at most [`SPECTRUM_STEP`] of its distance to the imaginary axis, so no eigenvalue can have
/// crossed the axis and come back within the step. This is what lets two Hopf points closer
/// together than the range-based step both be found.
///
/// A step where the number of unstable eigenvalues changes is accepted when the change is one
/// event [`locate_special`] can refine: one real eigenvalue crossing (a fold), or one complex
/// pair with the real ones unchanged (a Hopf point), and no pair turned real or real pair
/// complex on the way (so a pair that crossed, split and sent one eigenvalue back, netting
/// one real crossing, is not taken for a fold). Anything else (a pair that crossed as a
/// complex pair and split into two real ones within the step, as on Connor-Stevens' S-shaped
/// branch at 7.88 over the default range, or a fold and a Hopf point in one step) is too long.
fn step_resolves_spectrum(old: Option<&EqPoint>, new: &EqPoint) -> bool {
    let Some(old) = old else {
        return true;
    };
    if old.eigenvalues.len() != new.eigenvalues.len() {
        return true;
    }
    if old.n_unstable != new.n_unstable {
        let (real, complex) = unstable_change(old, new);
        let pairs_kept = complex_count(old) == complex_count(new);
        return pairs_kept && ((real, complex) == (1, 0) || (real, complex) == (0, 2));
    }
    let scale = old
        .eigenvalues
        .iter()
        .map(|z| z.norm())
        .fold(0.0f64, f64::max)
        .max(1e-300);
    old.eigenvalues.iter().zip(&new.eigenvalues).all(|(a, b)| {
        let near = a.re.abs().min(b.re.abs());
        (b.re - a.re).abs() <= SPECTRUM_STEP * near + 1e-9 * scale
    })
}

/// What [`locate_special`] found on a branch.
struct Found {
    folds: Vec<Fold>,
    hopfs: Vec<Hopf>,
    branch_points: Vec<BranchPoint>,
    notes: Vec<String>,
}

/// Find and refine folds, branch points and Hopf points between consecutive points of a
/// branch (`tangents` and `bp_tests` at each point).
fn locate_special(
    fam: &Family,
    points: &[EqPoint],
    tangents: &[DVector<f64>],
    bp_tests: &[f64],
) -> Found {
    let (mut folds, mut hopfs, mut notes) = (vec![], vec![], vec![]);
    let mut branch_points: Vec<BranchPoint> = vec![];
    let n = fam.dim();
    for k in 1..points.len() {
        let (a, b) = (&points[k - 1], &points[k]);
        let fold_here = tangents[k - 1][n] * tangents[k][n] < 0.0;
        // The bordered determinant changes sign: another branch crosses here. A fold leaves
        // it alone (the branch turns back with the bordered matrix regular), but a branch
        // can turn at its branch point too: either side of a pitchfork, p = 1 + y^2, turns in
        // p exactly where it crosses y = 0. That is a branch point, not a fold.
        let bp_here = bp_tests[k - 1] * bp_tests[k] < 0.0;
        // Each part of the change is looked for, and what is not found is said. A pair that
        // changes while a real eigenvalue crosses (a step the continuation accepted at its
        // shortest) is not taken for a Hopf point: next to a fold, the node on its unstable
        // side turns into a focus within such a step (Morris-Lecar's homoclinic set at
        // -9.949) with no pair crossing the axis.
        let (real, complex) = unstable_change(a, b);
        let real_odd = real % 2 == 1;
        let pair = complex == 2 && real == 0;
        let (folds_before, hopfs_before, notes_before) = (folds.len(), hopfs.len(), notes.len());
        // A branch point is taken when one is located inside the step (within a step's
        // length of it) and the branches truly cross; otherwise the step falls through to
        // the fold search, and what the branch-point search saw is said.
        let mut bp_found = false;
        if bp_here {
            // Start from the end nearer the crossing (the smaller real eigenvalue).
            let (start, t_in) = if smallest_real(a) <= smallest_real(b) {
                (a, &tangents[k - 1])
            } else {
                (b, &tangents[k])
            };
            match branch_point::refine(fam, &start.state, start.lambda) {
                Ok(bp) if !near_step(a, b, &bp.state, bp.lambda) => notes.push(format!(
                    "a branch point seen between {} = {:.6} and {:.6} was refined to {:.6}, \
                         outside that step, and not taken",
                    fam.knob_name(),
                    a.lambda,
                    b.lambda,
                    bp.lambda
                )),
                Ok(bp) if bp.is_exact(fam) => {
                    bp_found = true;
                    let mut bp = bp;
                    bp.incoming = t_in.as_slice().to_vec();
                    bp.crossing = bp
                        .other_direction(fam, t_in.as_slice())
                        .map(|d| d.as_slice().to_vec());
                    if !branch_points.iter().any(|o| o.same_as(&bp)) {
                        branch_points.push(bp);
                    }
                }
                Ok(bp) => notes.push(format!(
                    "two equilibrium branches come close near {} = {:.6} without crossing \
                     (an imperfect branch point, unfolding term {:.3e})",
                    fam.knob_name(),
                    bp.lambda,
                    bp.imperfection
                )),
                Err(e) => notes.push(format!(
                    "a branch point near {} = {:.6} was not refined: {e}",
                    fam.knob_name(),
                    start.lambda
                )),
            }
        }
        if !bp_found && (fold_here || real_odd) {
            // Start from the end with the smaller real eigenvalue.
            let start = if smallest_real(a) <= smallest_real(b) {
                a
            } else {
                b
            };
            let guess = eigen(&fam.jacobian(&start.state, start.lambda))
                .ok()
                .and_then(|e| {
                    e.into_iter()
                        .filter(|e| e.value.im == 0.0)
                        .min_by(|x, y| x.value.re.abs().total_cmp(&y.value.re.abs()))
                });
            match guess.map(|g| {
                let v: Vec<f64> = g.vector.iter().map(|z| z.re).collect();
                fold::refine(fam, &start.state, start.lambda, &v)
            }) {
                Some(Ok(f)) => folds.push(f),
                Some(Err(e)) => notes.push(format!(
                    "a fold near {} = {:.6} was not refined: {e}",
                    fam.knob_name(),
                    start.lambda
                )),
                None => {}
            }
        }
        if pair {
            // From the end with the pair nearer the axis; where that lands outside the step
            // (on a second Hopf point close beside, found again from the next step), from the
            // other end. Two Hopf points 2e-5 apart were one: both steps refined onto the same.
            let ends = if smallest_complex(a) <= smallest_complex(b) {
                [a, b]
            } else {
                [b, a]
            };
            let (lo, hi) = (a.lambda.min(b.lambda), a.lambda.max(b.lambda));
            let slack = 1e-3 * (hi - lo) + 1e-12 * (1.0 + hi.abs());
            let mut outside = None;
            let mut failed = None;
            for start in ends {
                let pair = eigen(&fam.jacobian(&start.state, start.lambda))
                    .ok()
                    .and_then(|e| {
                        e.into_iter()
                            .filter(|e| e.value.im > 0.0)
                            .min_by(|x, y| x.value.re.abs().total_cmp(&y.value.re.abs()))
                    });
                match pair
                    .map(|e| hopf::refine(fam, &start.state, start.lambda, e.value.im, &e.vector))
                {
                    Some(Ok(h)) if h.lambda < lo - slack || h.lambda > hi + slack => {
                        outside = Some(h.lambda);
                    }
                    Some(Ok(h)) => {
                        hopfs.push(h);
                        break;
                    }
                    Some(Err(e)) => failed = failed.or(Some((start.lambda, e))),
                    None => {}
                }
            }
            if hopfs.len() == hopfs_before {
                if let Some(l) = outside {
                    notes.push(format!(
                        "a Hopf point between {} = {:.9} and {:.9} was refined to {:.9}, outside that step, and not taken{}",
                        fam.knob_name(),
                        lo,
                        hi,
                        l,
                        failed.map_or(String::new(), |(at, e)| format!(
                            " (from the end at {at:.9}: {e})"
                        ))
                    ));
                } else if let Some((at, e)) = failed {
                    notes.push(format!(
                        "a Hopf point near {} = {:.6} was not refined: {e}",
                        fam.knob_name(),
                        at
                    ));
                }
            }
        }
        let explained = (!real_odd || folds.len() > folds_before || bp_found)
            && (!pair || hopfs.len() > hopfs_before);
        // A refinement that failed has said so already.
        if a.n_unstable != b.n_unstable && !explained && notes.len() == notes_before {
            notes.push(format!(
                "the number of unstable eigenvalues changes from {} to {} between {} = {:.6} \
                 and {:.6} with not every fold or Hopf point there located",
                a.n_unstable,
                b.n_unstable,
                fam.knob_name(),
                a.lambda,
                b.lambda
            ));
        }
    }
    Found {
        folds,
        hopfs,
        branch_points,
        notes,
    }
}

/// Whether `(y, lambda)` lies within one step's length of the step from `a` to `b`, in
/// `(state, parameter)` space: a point located from the step belongs to it. (Not the
/// parameter alone: a branch that turns at its branch point, either side of a pitchfork,
/// steps across it with both ends beyond it in the parameter.)
fn near_step(a: &EqPoint, b: &EqPoint, y: &[f64], lambda: f64) -> bool {
    let ua = join(&a.state, a.lambda);
    let seg = join(&b.state, b.lambda) - &ua;
    let q = join(y, lambda) - &ua;
    let len2 = seg.norm_squared();
    let s = if len2 > 0.0 {
        (q.dot(&seg) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let distance = (&q - &seg * s).norm();
    distance <= len2.sqrt() * (1.0 + 1e-9) + 1e-12 * (1.0 + q.norm())
}

/// The distance of the nearest real eigenvalue to zero (infinite when none is real).
fn smallest_real(p: &EqPoint) -> f64 {
    p.eigenvalues
        .iter()
        .filter(|z| z.im == 0.0)
        .map(|z| z.re.abs())
        .fold(f64::INFINITY, f64::min)
}

/// The distance of the nearest complex pair to the imaginary axis (infinite when none).
fn smallest_complex(p: &EqPoint) -> f64 {
    p.eigenvalues
        .iter()
        .filter(|z| z.im > 0.0)
        .map(|z| z.re.abs())
        .fold(f64::INFINITY, f64::min)
}

/// How the unstable eigenvalues change from `a` to `b`: the change in the number of real ones
/// and in the number of complex ones (both of each pair). The one-event rules of the step
/// control ([`step_resolves_spectrum`]) and of the search ([`locate_special`]) read both.
fn unstable_change(a: &EqPoint, b: &EqPoint) -> (usize, usize) {
    (
        real_unstable(a).abs_diff(real_unstable(b)),
        complex_unstable(a).abs_diff(complex_unstable(b)),
    )
}

/// The number of real eigenvalues with positive real part.
fn real_unstable(p: &EqPoint) -> usize {
    p.eigenvalues
        .iter()
        .filter(|z| z.re > 0.0 && z.im == 0.0)
        .count()
}

/// The number of complex eigenvalues, stable or not (both of each pair).
fn complex_count(p: &EqPoint) -> usize {
    p.eigenvalues.iter().filter(|z| z.im != 0.0).count()
}

/// The number of complex eigenvalues with positive real part (both of each pair).
fn complex_unstable(p: &EqPoint) -> usize {
    p.eigenvalues
        .iter()
        .filter(|z| z.re > 0.0 && z.im != 0.0)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::builtin;

    #[test]
    fn hh_branch_has_two_hopf_points_of_opposite_criticality() {
        let m = builtin::hh();
        let fam = Family::new(&m, super::super::CURRENT, 0.0).unwrap();
        let rest =
            crate::model::equilibria(&crate::model::Field::Conductance(m.clone()), -20.0).unwrap();
        let b = continue_branch(
            &fam,
            &rest[0].state,
            -20.0,
            (-20.0, 250.0),
            true,
            &Settings::default(),
        )
        .unwrap();
        assert_eq!(b.hopfs.len(), 2, "{:?} {:?}", b.notes, b.stop);
        assert!(b.folds.is_empty());
        let (h1, h2) = (&b.hopfs[0], &b.hopfs[1]);
        // Inside the computer-assisted enclosures of Hendrick (field survey):
        // [9.775437995393, 9.775437995394] and [154.522433665808, 154.522433665809].
        assert!((h1.lambda - 9.7754379953935).abs() < 2e-12, "{}", h1.lambda);
        assert!(
            (h2.lambda - 154.5224336658085).abs() < 2e-11,
            "{}",
            h2.lambda
        );
        assert!(h1.is_subcritical() && !h2.is_subcritical());
    }
}
